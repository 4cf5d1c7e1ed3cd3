#!/bin/sh
# The relay path with curl as the agent: byte-identical relaying in both
# directions, the headers of TEEP over HTTP, named routes, keep-alive and
# pipelining, zero copies on /metrics, one log line per exchange.
. "$(dirname "$0")/lib.sh"

start_tam tam
start_tam tam2 --profile legacy
cat >"$WORK/broker.conf" <<CONF
workers = 2;
admin = "127.0.0.1:0";
listeners = (
  { uri = "http://127.0.0.1:0"; },
  { uri = "http://127.0.0.1:0"; options = { route_from = "host"; }; }
);
default_route = "main";
routes = (
  { name = "main"; endpoints = [ "http://127.0.0.1:$tam_PORT/tam" ]; },
  { name = "other"; endpoints = [ "http://127.0.0.1:$tam2_PORT/tam" ]; }
);
CONF
start_broker -c "$WORK/broker.conf"

qr=$(vector gen_tp26_query_request_cose_sign1_esp256)
qresp=$(vector gen_tp26_query_response_cose_sign1_esp256)
update=$(vector gen_tp26_update_cose_sign1_esp256)
success=$(vector gen_tp26_teep_success_cose_sign1_esp256)
legacy_qr=$(vector gen_tp_query_request_cose_sign1_esp256)

check "empty POST: 200" 200 "$(post /tam)"
cmp -s "$WORK/body" "$qr" && pass "QueryRequest relayed byte-identical" ||
    fail "QueryRequest differs from the TAM's"
head=$(tr -d '\r' <"$WORK/head")
contains "Content-Type" "Content-Type: application/teep+cbor" "$head"
contains "nosniff" "X-Content-Type-Options: nosniff" "$head"
contains "CSP" "Content-Security-Policy: default-src 'none'" "$head"
contains "Referrer-Policy" "Referrer-Policy: no-referrer" "$head"

check "QueryResponse: 200" 200 "$(post /tam "$qresp")"
cmp -s "$WORK/body" "$update" && pass "Update relayed byte-identical" ||
    fail "Update differs from the TAM's"
check "Success: 204" 204 "$(post /tam "$success")"
check "named route /tam/other: 200" 200 "$(post /tam/other)"
cmp -s "$WORK/body" "$legacy_qr" && pass "route other reached its TAM" ||
    fail "route other answered with the wrong TAM's message"
check "unknown route: 404" 404 "$(post /tam/nope)"
# The second listener names routes by the Host's first label.
host_port=$(grep -o 'event=listening uri=http://127.0.0.1:[0-9]*' \
    "$BROKER_LOG" | sed -n 2p | sed 's/.*://')
code=$(curl -s -o "$WORK/body" -w '%{http_code}' -H 'Host: other.tam.example' \
    -H 'Accept: application/teep+cbor' --data-binary @/dev/null \
    "http://127.0.0.1:$host_port/tam")
check "route by Host (other.tam.example): 200" 200 "$code"
cmp -s "$WORK/body" "$legacy_qr" && pass "the Host's route reached its TAM" ||
    fail "route by Host answered with the wrong TAM's message"
check "a path outside /tam: 404" 404 "$(post /other)"

# Keep-alive: several exchanges on one agent connection.
out=$("$BIN/teep-test-client" sequence "$BROKER_PORT" /tam "$qresp" 3 0)
check "keep-alive: three answers on one connection" \
    "200 d28443a1 200 d28443a1 200 d28443a1 same connection" \
    "$(echo "$out" | sed 's/^\(200 ........\).*/\1/' | tr '\n' ' ' | sed 's/ $//')"
# Pipelining: four requests in one write, answers in order.
out=$("$BIN/teep-test-client" pipeline "$BROKER_PORT" /tam - 4 | cut -c1-3 |
    tr '\n' ' ')
check "pipelining: four answers in order" "200 200 200 200 " "$out"

check "zero payload bytes copied (HTTP to HTTP)" 0 \
    "$(metric teep_broker_payload_copied_bytes_total)"
n=$(metric 'teep_broker_exchanges_total{type="empty",outcome="message"}')
[ "${n:-0}" -ge 6 ] && pass "exchanges counted ($n empty -> message)" ||
    fail "exchanges_total counted $n"
check "/healthz" 200 "$(curl -s -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$ADMIN_PORT/healthz")"
check "/readyz" 200 "$(curl -s -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$ADMIN_PORT/readyz")"
sleep 0.2
grep -q 'event=exchange .*type=query_response token=a0a1a2a3a4a5a6a7 outcome=message answer=update' \
    "$BROKER_LOG" && pass "one log line per exchange" ||
    fail "no exchange log line"
finish
