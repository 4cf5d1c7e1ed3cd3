#!/bin/sh
# The TAM side: a TAM that is down (502 with a reason, /readyz 503) and
# comes back (served again), a TAM's own failure passed on, a TAM too slow
# (504), the pending bound (503 + Retry-After), failover to the next
# endpoint.
. "$(dirname "$0")/lib.sh"

# A port with nothing behind it: a replay TAM's, stopped once the broker
# listens (stopped earlier, its port can come back as the broker's own
# listener's: the kernel hands out freed ports again).
start_tam gone
start_tam tam
start_tam failing --status 500
start_tam slow --delay-ms 1500
start_tam slow2 --delay-ms 2000
cat >"$WORK/broker.conf" <<CONF
workers = 1;
admin = "127.0.0.1:0";
listeners = ( { uri = "http://127.0.0.1:0"; } );
default_route = "main";
routes = (
  { name = "main"; endpoints = [ "http://127.0.0.1:$gone_PORT/tam" ];
    health = { interval_ms = 100; timeout_ms = 200; }; },
  { name = "failing"; endpoints = [ "http://127.0.0.1:$failing_PORT/tam" ]; },
  { name = "slow"; endpoints = [ "http://127.0.0.1:$slow_PORT/tam" ];
    read_timeout_ms = 300; },
  { name = "tight"; endpoints = [ "http://127.0.0.1:$slow2_PORT/tam" ];
    max_connections = 1; max_pending = 1; retry_after = 7; },
  { name = "fo"; endpoints = [ "http://127.0.0.1:$gone_PORT/tam",
                               "http://127.0.0.1:$tam_PORT/tam" ];
    health = { check = "none"; }; }
);
CONF
start_broker -c "$WORK/broker.conf"
kill "$gone_PID"
wait "$gone_PID" 2>/dev/null || true
qresp=$(vector gen_tp26_query_response_cose_sign1_esp256)

check "TAM down: 502" 502 "$(post /tam)"
contains "502 says why" "no TAM endpoint of route main reachable" \
    "$(cat "$WORK/body")"
ready() {
    curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN_PORT/readyz"
}
sleep 0.3
# Other routes' TAMs are up, so the broker stays ready (readiness is "some
# TAM is healthy"): the endpoint's gauge shows this one down.
check "the dead endpoint is marked down" 0 "$(metric \
    "teep_broker_upstream_healthy{route=\"main\",endpoint=\"http://127.0.0.1:$gone_PORT/tam\"}")"

# The TAM comes back on its port: served again at once.
start_tam back --port "$gone_PORT"
check "TAM back: 200" 200 "$(post /tam)"
i=0
while [ "$(metric "teep_broker_upstream_healthy{route=\"main\",endpoint=\"http://127.0.0.1:$gone_PORT/tam\"}")" != 1 ] &&
    [ $i -lt 30 ]; do
    sleep 0.1
    i=$((i + 1))
done
check "the endpoint is healthy again" 1 "$(metric \
    "teep_broker_upstream_healthy{route=\"main\",endpoint=\"http://127.0.0.1:$gone_PORT/tam\"}")"
kill "$back_PID"
wait "$back_PID" 2>/dev/null || true

check "the TAM's 500 is passed on" 500 "$(post /tam/failing "$qresp")"
check "a TAM slower than read_timeout_ms: 504" 504 "$(post /tam/slow)"
contains "504 says why" "did not answer within 300 ms" "$(cat "$WORK/body")"

# One connection, one pending: of four at once, two are refused with 503.
curls=""
for k in 1 2 3 4; do
    curl -s -m 10 -o /dev/null -D "$WORK/tight$k" -w '%{http_code}\n' \
        -H 'Accept: application/teep+cbor' --data-binary @/dev/null \
        "http://127.0.0.1:$BROKER_PORT/tam/tight" >"$WORK/code$k" &
    curls="$curls $!"
done
for p in $curls; do wait "$p"; done
codes=$(cat "$WORK"/code* | sort | tr '\n' ' ')
check "pending bound: 2 served, 2 refused" "200 200 503 503 " "$codes"
contains "503 carries Retry-After" "Retry-After: 7" \
    "$(cat "$WORK"/tight* | tr -d '\r')"

# No active check on route fo: the first endpoint looks healthy until a
# connection to it fails, then the exchange moves on.
check "failover to the second endpoint: 200" 200 "$(post /tam/fo)"
n=$(metric teep_broker_failovers_total)
[ "${n:-0}" -ge 1 ] && pass "failover counted ($n)" || fail "failovers: $n"
n=$(metric 'teep_broker_errors_total{kind="upstream_down"}')
[ "${n:-0}" -ge 1 ] && pass "upstream_down counted ($n)" || fail "upstream_down: $n"

# Every TAM of every route gone: not ready.
kill "$tam_PID" "$failing_PID" "$slow_PID" "$slow2_PID"
# Route fo has no active check: an exchange finds its endpoints down.
check "route fo with both TAMs gone: 502" 502 "$(post /tam/fo)"
i=0
while [ "$(ready)" != 503 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "no healthy TAM: /readyz 503" 503 "$(ready)"
finish
