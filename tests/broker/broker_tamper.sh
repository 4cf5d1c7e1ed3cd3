#!/bin/sh
# A byte flipped in transit (the test-only hook debug_flip_byte, compiled
# in with TEEP_TEST_HOOKS) is caught end to end: the TAM refuses the
# request's signature, the Agent (here `teep verify`) the answer's.  The
# broker itself never checks signatures: TEEP is signed end to end.
. "$(dirname "$0")/lib.sh"

if [ "${HOOKS:-0}" != 1 ]; then
    echo "skipped: this build has no test hooks (TEEP_TEST_HOOKS=OFF)"
    exit 77
fi
start_tam tam --verify
conf() {
    cat >"$WORK/$1.conf" <<CONF
workers = 1;
debug_flip_byte = "$1";
listeners = ( { uri = "http://127.0.0.1:0"; } );
routes = ( { name = "main"; endpoints = [ "http://127.0.0.1:$tam_PORT/tam" ]; } );
CONF
}
qresp=$(vector gen_tp26_query_response_cose_sign1_esp256)
tam_key="$VECTORS/keys/libteep_tam_prime256v1_pub.pem"

conf none
start_broker -c "$WORK/none.conf"
check "untouched QueryResponse: the TAM verifies it (200)" 200 \
    "$(post /tam "$qresp")"
cp "$WORK/body" "$WORK/update.good"
"$BIN/teep" verify --key "$tam_key" "$WORK/update.good" >/dev/null 2>&1 &&
    pass "untouched Update verifies at the Agent" ||
    fail "the untouched Update does not verify"
kill "$BROKER_PID"
wait "$BROKER_JOB" || true

conf request
start_broker -c "$WORK/request.conf"
check "QueryResponse flipped on the way: the TAM refuses it (400)" 400 \
    "$(post /tam "$qresp")"
contains "the TAM says why" "signature does not verify" "$(cat "$WORK/body")"
kill "$BROKER_PID"
wait "$BROKER_JOB" || true

conf response
start_broker -c "$WORK/response.conf"
check "Update flipped on the way back: still relayed (200)" 200 \
    "$(post /tam "$qresp")"
cmp -s "$WORK/body" "$WORK/update.good" && fail "the flip did nothing" ||
    pass "one byte differs"
rc=0
"$BIN/teep" verify --key "$tam_key" "$WORK/body" >/dev/null 2>&1 || rc=$?
check "the Agent refuses the flipped Update (teep verify exit 1)" 1 "$rc"
finish
