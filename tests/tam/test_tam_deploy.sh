#!/bin/bash
# The network user's and data owner's path of docs/deploy.md against the
# real teep-tam, with `teep-tam admin`, `teep pd encrypt`, curl and the
# scripted Agent: every package mode for every instance type runs its
# steps in order; PD is refused before attestation and when not encrypted
# to the attested key; a failed attestation stops the deployment; a
# restart in the middle of a deployment and of an exchange resumes from
# the database.
# Usage: test_tam_deploy.sh TEEP_TAM TAM_TEST_AGENT TEEP
set -u
TAM=$1
AGENT=$2
TEEP=$3
WORK=$(mktemp -d /tmp/tam-deploy-XXXXXX)
DATA=$WORK/data
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

start_tam "$DATA"
printf 'the TA image\n' >"$WORK/ta.bin"
printf 'the UA image\n' >"$WORK/ua.bin"
printf '{"records": [1, 2, 3], "key": "only the TEE reads this"}\n' \
    >"$WORK/pd.json"
TA=$(admin --get id package add ta ta1 "$WORK/ta.bin") || fail "TA upload"
UA=$(admin --get id package add ua ua1 "$WORK/ua.bin") || fail "UA upload"

# encrypt_and_upload DEPLOYMENT DEVICE AGENT: the data owner's steps.
encrypt_and_upload() {
    admin device attested-key "$2" --out "$WORK/$3.pdkey.pem" >/dev/null ||
        return 1
    "$TEEP" pd encrypt --to "$WORK/$3.pdkey.pem" --out "$WORK/$3.pd" \
        "$WORK/pd.json" || return 1
    admin pd upload "$1" "$2" "$WORK/$3.pd" --plaintext "$WORK/pd.json" \
        --name pd1 >/dev/null
}

# run_mode MODE TYPE: one deployment from start to done.
run_mode() {
    mode=$1
    type=$2
    name=m$mode-$type
    new_agent "$name"
    ua_opt=
    case $mode in 1 | 2 | 3) ua_opt="--ua $UA" ;; esac
    # shellcheck disable=SC2086
    dep=$(admin --get id deployment add "$name" --mode "$mode" \
        --type "$type" --ta "$TA" $ua_opt --device "$DEVICE") ||
        fail "$name: deployment add"
    # Principle 1: nothing to encrypt to, and no PD taken, before att.
    admin device attested-key "$DEVICE" >/dev/null 2>&1 &&
        fail "$name: a PD key before attestation"
    "$TEEP" pd encrypt --to "$WORK/$name/attest.pub.pem" --out "$WORK/early.pd" \
        "$WORK/pd.json" || fail "encrypt"
    admin pd upload "$dep" "$DEVICE" "$WORK/early.pd" \
        --plaintext "$WORK/pd.json" 2>/dev/null &&
        fail "$name: PD accepted before attestation"

    session "$WORK/$name" >"$WORK/$name.s1" || fail "$name: session 1"
    admin deployment wait "$dep" --for waiting-pd --timeout 10 >/dev/null ||
        fail "$name: not waiting for PD"
    # Principle 2: PD encrypted to another key is refused.
    admin pd upload "$dep" "$DEVICE" "$WORK/early.pd" \
        --plaintext "$WORK/pd.json" 2>/dev/null &&
        fail "$name: PD for another key accepted"
    encrypt_and_upload "$dep" "$DEVICE" "$name" || fail "$name: PD upload"
    session "$WORK/$name" >"$WORK/$name.s2" || fail "$name: session 2"
    admin deployment wait "$dep" --for done --timeout 10 >"$WORK/$name.json" ||
        fail "$name: not done: $(cat "$WORK/$name.json")"

    inst=$WORK/$name/installed
    cmp -s "$inst/TEE_${type}_ta1_ta" "$WORK/ta.bin" || fail "$name: no TA"
    cmp -s "$inst/TEE_${type}_ta1_pd1" "$WORK/pd.json" ||
        fail "$name: PD not delivered decrypted"
    if [ -n "$ua_opt" ]; then
        cmp -s "$inst/REE_ua1_ua" "$WORK/ua.bin" || fail "$name: no UA"
    else
        [ ! -e "$inst/REE_ua1_ua" ] || fail "$name: a UA it should not have"
    fi
    # The step log says the table's order (docs/tam.md).
    admin --get plan deployment show "$dep" >"$WORK/$name.plan"
}

for mode in 1 2 3 4 5 6; do
    for type in process container vm; do
        run_mode $mode $type
    done
done
grep -q '"UA -> REE", "TA -> Trusted VM", "att", "PD -> TA"' \
    "$WORK/m2-vm.plan" || fail "mode 2 plan: $(cat "$WORK/m2-vm.plan")"
grep -q '"att", "TA&PD -> Trusted Process"' "$WORK/m5-process.plan" ||
    fail "mode 5 plan: $(cat "$WORK/m5-process.plan")"

# A failed attestation stops the deployment; nothing after it runs.
new_agent liar
touch "$WORK/liar/bad-evidence"
dep=$(admin --get id deployment add liar --mode 1 --type vm --ta "$TA" \
    --ua "$UA" --device "$DEVICE") || fail "liar: deployment add"
session "$WORK/liar" >"$WORK/liar.s1" || fail "liar: session"
grep -q 'err-code ERR_ATTESTATION_REQUIRED' "$WORK/liar.s1" ||
    fail "liar: the Agent was not told: $(cat "$WORK/liar.s1")"
admin deployment wait "$dep" --for settled --timeout 10 >"$WORK/liar.json"
[ "$(admin --get targets.0.state deployment show "$dep")" = failed ] ||
    fail "liar: not failed"
[ ! -d "$WORK/liar/installed" ] || [ -z "$(ls "$WORK/liar/installed")" ] ||
    fail "liar: something was installed"

# Restart in the middle of a deployment (waiting for PD) and in the middle
# of an exchange (between a QueryRequest and its answer).
new_agent phoenix
dep=$(admin --get id deployment add phoenix --mode 4 --type container \
    --ta "$TA" --device "$DEVICE") || fail "phoenix: deployment add"
session "$WORK/phoenix" >/dev/null || fail "phoenix: session 1"
stop_tam
start_tam "$DATA"
encrypt_and_upload "$dep" "$DEVICE" phoenix || fail "phoenix: PD upload"
: >"$WORK/empty"
[ "$(post "$WORK/empty" "$WORK/qr")" = 200 ] || fail "phoenix: connect"
"$AGENT" respond "$WORK/phoenix" "$WORK/qr" "$WORK/qresp" >/dev/null
stop_tam
start_tam "$DATA"
[ "$(post "$WORK/qresp" "$WORK/update")" = 200 ] ||
    fail "phoenix: the answer was lost with the restart"
"$AGENT" respond "$WORK/phoenix" "$WORK/update" "$WORK/success" | grep -q \
    'PD decrypted' || fail "phoenix: no PD in the Update"
[ "$(post "$WORK/success" "$WORK/end")" = 204 ] || fail "phoenix: Success"
[ "$(admin --get targets.0.state deployment show "$dep")" = done ] ||
    fail "phoenix: not done after the restart"
grep -q "schema 0 -> 1" "$WORK/tam.err" || fail "no schema creation logged"
[ "$(grep -c "schema 0 -> 1" "$WORK/tam.err")" = 1 ] ||
    fail "the schema was made twice"

echo "test_tam_deploy: all passed (18 mode x type deployments)"
