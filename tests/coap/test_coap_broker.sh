# test_coap_broker.sh: coap-client as a device Agent through the real
# teep-broker (--listen coap://) to teep-replay-tam, next to an HTTP
# listener on the same broker.  Uses tests/broker/lib.sh (BIN, VECTORS,
# SRC from CTest; everything on 127.0.0.1, ephemeral ports, stopped on
# exit).
. "$SRC/tests/broker/lib.sh"

CLIENT=${COAP_CLIENT:-coap-client-openssl}

start_tam tam
start_broker --listen coap://127.0.0.1:0 --listen http://127.0.0.1:0 \
    --tam "http://127.0.0.1:$tam_PORT/tam" --workers 2 --admin 127.0.0.1:0
COAP_PORT=$(grep -o 'event=listening uri=coap://127.0.0.1:[0-9]*' \
    "$BROKER_LOG" | head -n 1 | sed 's/.*://')
HTTP_PORT=$(grep -o 'event=listening uri=http://127.0.0.1:[0-9]*' \
    "$BROKER_LOG" | head -n 1 | sed 's/.*://')
U="coap://127.0.0.1:$COAP_PORT"

# coap NAME [coap-client args...]: run it (bounded), output in $WORK/NAME.*
coap() {
    name=$1
    shift
    timeout 30 "$CLIENT" -B 10 -o "$WORK/$name.body" "$@" \
        >"$WORK/$name.out" 2>"$WORK/$name.err" || true
    touch "$WORK/$name.body"
}

qr=$(vector gen_tp26_query_request_cose_sign1_esp256)
qres=$(vector gen_tp26_query_response_cose_sign1_esp256)
update=$(vector gen_tp26_update_cose_sign1_esp256)
success=$(vector gen_tp26_teep_success_cose_sign1_esp256)

coap connect -m post "$U/tam"
cmp -s "$WORK/connect.body" "$qr" && pass "empty POST: the QueryRequest, byte for byte" ||
    fail "empty POST: not the QueryRequest ($(cat "$WORK/connect.err"))"

coap connect_non -N -m post "$U/tam"
cmp -s "$WORK/connect_non.body" "$qr" && pass "empty NON POST: the QueryRequest" ||
    fail "empty NON POST: not the QueryRequest"

coap update -m post -t 65060 -f "$qres" "$U/tam"
cmp -s "$WORK/update.body" "$update" && pass "QueryResponse: the Update, byte for byte" ||
    fail "QueryResponse: not the Update ($(cat "$WORK/update.err"))"

coap update_blocks -m post -b 64 -t 65060 -f "$qres" "$U/tam"
cmp -s "$WORK/update_blocks.body" "$update" &&
    pass "QueryResponse in 64-byte blocks: the Update in 64-byte blocks" ||
    fail "block-wise QueryResponse: not the Update"

coap success -m post -t 65060 -f "$success" "$U/tam"
check "Success: 2.04 without payload" "0" "$(wc -c <"$WORK/success.body" | tr -d ' ')"
check "Success: no error" "" "$(cat "$WORK/success.err")"

coap cf -m post -t 60 -f "$qres" "$U/tam"
contains "wrong Content-Format: 4.15" "4.15" "$(cat "$WORK/cf.err")"

printf 'not a TEEP message' >"$WORK/junk.bin"
coap junk -m post -t 65060 -f "$WORK/junk.bin" "$U/tam"
contains "not TEEP: the broker's 4.00" "4.00" "$(cat "$WORK/junk.err")"

coap route -m post "$U/tam/nosuch"
contains "unknown route: 4.04" "4.04" "$(cat "$WORK/route.err")"

# The same broker over HTTP, for comparison: the same bytes.
curl -s -o "$WORK/http_connect.body" -X POST \
    -H 'Content-Type: application/teep+cbor' \
    "http://127.0.0.1:$HTTP_PORT/tam"
cmp -s "$WORK/http_connect.body" "$qr" && pass "the HTTP listener alongside answers the same" ||
    fail "HTTP listener: not the QueryRequest"

metrics=$(curl -s "http://127.0.0.1:$ADMIN_PORT/metrics")
contains "metrics: CoAP exchanges counted" \
    'teep_broker_transport_coap_exchanges_total{plugin="coap"}' "$metrics"

# The TAM goes away: 5.02.
kill -TERM "$tam_PID"
sleep 0.3
coap down -m post "$U/tam"
contains "TAM down: 5.02" "5.02" "$(cat "$WORK/down.err")"

finish
