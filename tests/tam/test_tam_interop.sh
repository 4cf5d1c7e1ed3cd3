#!/bin/bash
# The reference TAM and the project's own TEEP Agent core (libteepagent,
# mbedtls) over real HTTP: package mode 1 (att; TA -> X; PD -> TA;
# UA -> REE) and mode 3 (UA -> REE; att; TA&PD -> X), so every kind of
# step the TAM sends is processed by the real Agent.
# Usage: test_tam_interop.sh TEEP_TAM TAM_TEST_AGENT TEEP TAM_REAL_AGENT
set -u
TAM=$1
TEEP=$3
REAL=$4
WORK=$(mktemp -d /tmp/tam-interop-XXXXXX)
DATA=$WORK/data
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

start_tam "$DATA"
printf 'TA image\n' >"$WORK/ta.bin"
printf 'UA image\n' >"$WORK/ua.bin"
printf 'personalization data for the TA\n' >"$WORK/pd.txt"
TA=$(admin --get id package add ta hello "$WORK/ta.bin") || fail "TA upload"
UA=$(admin --get id package add ua hello-ua "$WORK/ua.bin") || fail "UA upload"
keys="--tam-key $DATA/tam-esp256.pub.pem --tc-signer $DATA/tc-signer.pub.pem"

run() { # MODE NAME [--ua ID]
    mode=$1
    name=$2
    shift 2
    dir=$WORK/$name
    # shellcheck disable=SC2086
    "$REAL" init "$dir" $keys || fail "$name: Agent init"
    dev=$(admin --get id device add "$name" --teep-key "$dir/teep.pub.pem" \
        --attestation-key "$dir/attest.pub.pem") || fail "$name: device add"
    dep=$(admin --get id deployment add "$name" --mode "$mode" \
        --type process --ta "$TA" "$@" --device "$dev") ||
        fail "$name: deployment add"
    # shellcheck disable=SC2086
    "$REAL" session "$dir" $keys --url "$URL" || fail "$name: session 1"
    admin deployment wait "$dep" --for waiting-pd --timeout 10 >/dev/null ||
        fail "$name: not waiting for PD: $(admin deployment show "$dep")"
    admin device attested-key "$dev" --out "$WORK/$name.pem" >/dev/null ||
        fail "$name: no attested PD key"
    "$TEEP" pd encrypt --to "$WORK/$name.pem" --out "$WORK/$name.pd" \
        "$WORK/pd.txt" || fail "$name: encrypt"
    admin pd upload "$dep" "$dev" "$WORK/$name.pd" --plaintext "$WORK/pd.txt" \
        --name config >/dev/null || fail "$name: PD upload"
    # shellcheck disable=SC2086
    "$REAL" session "$dir" $keys --url "$URL" || fail "$name: session 2"
    admin deployment wait "$dep" --for done --timeout 10 >/dev/null ||
        fail "$name: not done: $(admin deployment show "$dep")"
    inst=$dir/installed
    cmp -s "$inst/TEE_process_hello_ta" "$WORK/ta.bin" || fail "$name: TA"
    cmp -s "$inst/pd-for-TEE_process_hello_ta" "$WORK/pd.txt" ||
        fail "$name: PD not delivered to the TA"
    cmp -s "$inst/ua-hello-ua" "$WORK/ua.bin" || fail "$name: UA"
}

run 1 agent-mode1 --ua "$UA"
run 3 agent-mode3 --ua "$UA"
echo "test_tam_interop: all passed (libteepagent)"
