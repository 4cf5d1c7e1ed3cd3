#!/bin/sh
# Bad input is answered with the protocol's own status while the broker
# stays up and other agents are served: a body that is not TEEP, a wrong
# media type, a body over the limit, the wrong method or Accept, clients
# that never finish their request, thousands of connections at once.
. "$(dirname "$0")/lib.sh"

start_tam tam
cat >"$WORK/broker.conf" <<CONF
workers = 2;
admin = "127.0.0.1:0";
log = { exchanges = false; };
listeners = (
  { uri = "http://127.0.0.1:0";
    options = { max_body = 1000; header_timeout_ms = 500; }; }
);
routes = ( { name = "main"; endpoints = [ "http://127.0.0.1:$tam_PORT/tam" ]; } );
CONF
start_broker -c "$WORK/broker.conf"
qresp=$(vector gen_tp26_query_response_cose_sign1_esp256)

printf 'this is not CBOR' >"$WORK/text"
check "a body that is not TEEP: 400" 400 "$(post /tam "$WORK/text")"
contains "400 says why" "not a COSE-wrapped TEEP message" "$(cat "$WORK/body")"
# CBOR, but not a COSE-wrapped TEEP message: the map {1: 2}.
printf '\241\001\002' >"$WORK/cbor"
check "CBOR that is not TEEP: 400" 400 "$(post /tam "$WORK/cbor")"
check "wrong media type: 415" 415 "$(CT=text/plain post /tam "$qresp")"
head -c 2000 /dev/zero >"$WORK/big"
check "body over the limit: 413" 413 "$(post /tam "$WORK/big")"
check "GET: 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$BROKER_PORT/tam")"
check "Accept without TEEP: 406" 406 "$(ACCEPT=text/html post /tam "$qresp")"
check "after all that, a good exchange: 200" 200 "$(post /tam "$qresp")"

# Slow clients: half a request head, never finished, are answered 408 and
# closed after header_timeout_ms while others are served.
"$BIN/teep-test-client" flood "$BROKER_PORT" 50 2500 >"$WORK/slow" &
slow=$!
sleep 0.2
check "served while 50 slow clients wait" 200 "$(post /tam "$qresp")"
wait $slow
check "slow clients closed by the broker" "open 50 closed_by_server 50" \
    "$(cat "$WORK/slow")"

# Thousands of connections at once (as many as the descriptor limit
# allows this test), while another agent is served.
ulimit -n 10000 2>/dev/null || true
n=$(($(ulimit -n) - 200))
[ "$n" -gt 3000 ] && n=3000
"$BIN/teep-test-client" flood "$BROKER_PORT" "$n" 2500 >"$WORK/flood" &
flood=$!
sleep 1
check "served while $n connections are open" 200 "$(post /tam "$qresp")"
wait $flood
contains "all $n connections were accepted" "open $n " "$(cat "$WORK/flood")"
kill -0 "$BROKER_PID" 2>/dev/null && pass "the broker is still running" ||
    fail "the broker died"
check "healthz after the flood" 200 "$(curl -s -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$ADMIN_PORT/healthz")"
n408=$(curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" |
    grep '^teep_broker_transport_http_408_total' | awk '{print $2}')
[ "${n408:-0}" -ge 50 ] && pass "408s counted on /metrics ($n408)" ||
    fail "teep_broker_transport_http_408_total is '$n408'"
finish
