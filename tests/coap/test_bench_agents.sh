# test_bench_agents.sh: teep-bench's CoAP and WebSocket agents (and its
# HTTP agents, their reference) for a second each through the real
# teep-broker, with its real transport plugins, to teep-replay-tam:
# closed loop, open loop and a small idle ramp; the broker's own count of
# exchanges must cover what teep-bench reports answered.  Uses
# tests/broker/lib.sh (BIN, VECTORS, SRC from CTest; 127.0.0.x only,
# every process bounded and stopped on exit).
. "$SRC/tests/broker/lib.sh"

start_tam tam
# The CoAP listener without its per-address rate limit: the agents run
# flat out from a few addresses, and what is tested is them, not the
# limiter (whose 4.29 they would count as errors).  The WebSocket
# listener takes 50 connections from one address: the 80 idle agents
# below fit only from their 4 source addresses.
cat >"$WORK/broker.conf" <<EOF
workers = 1;
admin = "127.0.0.1:0";
listeners = ( { uri = "http://127.0.0.1:0/tam"; },
              { uri = "ws://127.0.0.1:0/tam";
                options = { max_connections_per_peer = 50; }; },
              { uri = "coap://127.0.0.1:0/tam"; options = { peer_rate = 0; }; } );
routes = ( { name = "default";
             endpoints = [ "http://127.0.0.1:$tam_PORT/tam" ]; } );
EOF
start_broker -c "$WORK/broker.conf"
port_of() {
    grep -o "event=listening uri=$1://127.0.0.1:[0-9]*" "$BROKER_LOG" |
        head -n 1 | sed 's/.*://'
}
url_http="http://127.0.0.1:$(port_of http)/tam"
url_ws="ws://127.0.0.1:$(port_of ws)/tam"
url_coap="coap://127.0.0.1:$(port_of coap)/tam"
body=$(vector gen_tp26_query_response_cose_sign1_esp256)

field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
answered() {
    metric 'teep_broker_exchanges_total{type="query_response",outcome="message"}'
}
# bench NAME URL [teep-bench options]: one run, bounded; its line in $line.
bench() {
    name=$1 url=$2
    shift 2
    line=$(timeout 60 "$BIN/teep-bench" --url "$url" --body "$body" \
        --pid "$BROKER_PID" --target teep-broker --json "$WORK/$name.json" \
        "$@" 2>"$WORK/$name.err") || true
    echo "$name: $line"
}

for t in coap ws http; do
    eval "url=\$url_$t"
    before=$(answered)
    bench "closed-$t" "$url" --connections 8 --seconds 1 --warmup 0.2 \
        --sources 4
    ok=$(field "$line" ok)
    after=$(answered)
    [ "${ok:-0}" -gt 0 ] && pass "$t closed loop: $ok exchanges answered" ||
        fail "$t closed loop: none answered ($line; $(cat "$WORK/closed-$t.err"))"
    check "$t closed loop: no error" 0 "$(field "$line" errors)"
    check "$t closed loop: the JSON names the transport" "$t" \
        "$(jq -r .transport "$WORK/closed-$t.json" 2>/dev/null)"
    [ $((after - before)) -ge "${ok:-1}" ] &&
        pass "$t: the broker counted $((after - before)) answered" ||
        fail "$t: the broker counted $((after - before)), teep-bench $ok"
done

# Open loop: 200 exchanges/s for a second, every one sent and answered.
for t in coap ws http; do
    eval "url=\$url_$t"
    bench "open-$t" "$url" --connections 16 --seconds 1 --warmup 0.2 \
        --rate 200 --sources 4
    ok=$(field "$line" ok)
    [ "${ok:-0}" -ge 200 ] && pass "$t open loop: $ok answered" ||
        fail "$t open loop: $ok answered ($line)"
    check "$t open loop: no error" 0 "$(field "$line" errors)"
    check "$t open loop: none late" 0 "$(field "$line" late)"
    check "$t open loop: the model" open \
        "$(jq -r .model "$WORK/open-$t.json" 2>/dev/null)"
done

# Idle agents: 40, then 80, each answered once and then silent.
for t in coap ws; do
    eval "url=\$url_$t"
    timeout 60 "$BIN/teep-bench" idle --url "$url" --body "$body" \
        --steps 40,80 --sources 4 --pid "$BROKER_PID" --settle 0.2 \
        --json "$WORK/idle-$t.json" 2>"$WORK/idle-$t.err" || true
    check "$t idle: 80 agents held" 80 \
        "$(jq -r '.steps[-1].agents_idle' "$WORK/idle-$t.json" 2>/dev/null)"
    check "$t idle: no agent failed" 0 \
        "$(jq -r '.steps[-1].failed' "$WORK/idle-$t.json" 2>/dev/null)"
    check "$t idle: bytes per agent measured" number \
        "$(jq -r '.steps[-1].bytes_per_idle_agent | type' "$WORK/idle-$t.json" 2>/dev/null)"
done

# WebSocket agents from one address: the listener's 50, no more (the
# agents above, from 4 addresses, were 80).
timeout 60 "$BIN/teep-bench" idle --url "$url_ws" --body "$body" \
    --steps 60 --sources 1 --pid "$BROKER_PID" --settle 0.2 \
    --json "$WORK/idle-ws-one.json" 2>"$WORK/idle-ws-one.err" || true
check "ws idle from one address: the per-address limit" 50 \
    "$(jq -r '.steps[-1].agents_idle' "$WORK/idle-ws-one.json" 2>/dev/null)"

# Bad input: a clear refusal, never a hang.
rc=0
"$BIN/teep-bench" ws --url "$url_coap" --body "$body" >/dev/null 2>&1 || rc=$?
check "mode and URL disagree: usage (2)" 2 $rc
rc=0
"$BIN/teep-bench" --url "coap://localhost:1/tam" --body "$body" \
    >/dev/null 2>&1 || rc=$?
check "CoAP URL without an IPv4 address: refused (2)" 2 $rc
# A CoAP target nobody listens on (the discard port): nothing answered,
# and the run still ends.
bench dead "coap://127.0.0.1:9/tam" --connections 2 --seconds 0.5 \
    --warmup 0
check "nobody listening: none answered" 0 "$(field "$line" ok)"
[ "$(field "$line" errors)" -gt 0 ] 2>/dev/null &&
    pass "nobody listening: the failures counted" ||
    fail "nobody listening: no error counted ($line)"

# teep-bench itself under a sanitizer (TEEP_SANITIZE builds).
if grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
    "$WORK"/*.err >/dev/null 2>&1; then
    fail "a sanitizer reported an error in teep-bench"
fi

finish
