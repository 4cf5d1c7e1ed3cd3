#!/bin/sh
# tests/coap/bench_coap.sh: CoAP ingress next to HTTP ingress, in one run
# of one teep-broker (one worker) in front of teep-replay-tam on
# 127.0.0.1, and the broker's memory per CoAP session.
#
#   throughput: 64 agents, one exchange outstanding each (closed loop):
#     HTTP  teep-bench, 64 keep-alive connections;
#     CoAP  teep-bench coap: 64 libcoap client sessions, each from a
#           source port of its own, CON POST + separate response.
#     The request is the vector QueryResponse (195 bytes), the answer the
#     vector Update (471 bytes).  ROUNDS rounds visit HTTP and CoAP in
#     turn (the machine is shared); the median round by rate is reported.
#   memory: teep-bench idle coap: the broker's RSS growth while SESSIONS
#     more sessions (one exchange done on each, then silent) join the 64
#     of a first step, divided by those sessions.
#
# Figures go into docs/transport-coap.md between <!-- coap-bench:begin -->
# and <!-- coap-bench:end -->.
# Usage: tests/coap/bench_coap.sh [BUILD_DIR] [SECONDS] [ROUNDS] [SESSIONS]
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build-rel}
seconds=${2:-3}
rounds=${3:-3}
sessions=${4:-4000}
bin=$build/bin
work=$(mktemp -d "${TMPDIR:-/tmp}/teep-coap-bench.XXXXXX")
pids=""
cleanup() {
    for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

wait_for() {
    i=0
    while ! grep -q "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 100 ] && { echo "timeout waiting for $2 in $1"; exit 1; }
        sleep 0.1
    done
}

xxd -r -p "$top/tests/vectors/gen_tp26_query_response_cose_sign1_esp256.hex" \
    >"$work/qres.bin"

timeout 600 "$bin/teep-replay-tam" --port 0 --lifetime 600 --quiet \
    >"$work/tam.out" 2>"$work/tam.log" &
pids="$pids $!"
wait_for "$work/tam.out" '^port '
tam_port=$(awk '/^port/{print $2}' "$work/tam.out")

cat >"$work/broker.cfg" <<EOF
workers = 1;
admin = "127.0.0.1:0";
log = { level = "warn"; exchanges = false; };
listeners = (
  { uri = "http://127.0.0.1:0"; },
  { uri = "coap://127.0.0.1:0";
    options = { peer_rate = 0; max_sessions = 100000; }; }
);
routes = ( { name = "default";
             endpoints = [ "http://127.0.0.1:$tam_port/tam" ]; } );
EOF
timeout 600 "$bin/teep-broker" -c "$work/broker.cfg" -v info \
    >"$work/broker.out" 2>"$work/broker.log" &
pids="$pids $!"
wait_for "$work/broker.log" 'event=ready'
broker_pid=$(grep -o 'event=ready .*pid=[0-9]*' "$work/broker.log" |
    sed 's/.*pid=//')
http_port=$(grep -o 'uri=http://127.0.0.1:[0-9]*' "$work/broker.log" |
    head -n 1 | sed 's/.*://')
coap_port=$(grep -o 'uri=coap://127.0.0.1:[0-9]*' "$work/broker.log" |
    head -n 1 | sed 's/.*://')
admin_port=$(grep -o 'event=admin_listening uri=http://127.0.0.1:[0-9]*' \
    "$work/broker.log" | sed 's/.*://')

field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

r=1
while [ $r -le "$rounds" ]; do
    "$bin/teep-bench" --url "http://127.0.0.1:$http_port/tam" \
        --body "$work/qres.bin" --connections 64 --seconds "$seconds" \
        --warmup 1 >>"$work/http.txt"
    "$bin/teep-bench" coap --url "coap://127.0.0.1:$coap_port/tam" \
        --body "$work/qres.bin" --connections 64 --seconds "$seconds" \
        --warmup 1 >>"$work/coap.txt"
    r=$((r + 1))
done
# The median round by rate.
median() { sort -t= -k2 -n "$1" | sed -n "$(((rounds + 1) / 2))p"; }
http=$(median "$work/http.txt")
coap=$(median "$work/coap.txt")
echo "HTTP: $http"
echo "CoAP: $coap"

# Memory on a fresh broker: a first step of 64 sessions takes the
# one-time costs (the upstream connection, first buffers) and leaves the
# allocator warm; the figure is the growth from there while SESSIONS more
# sessions join (earlier ones stay: session_timeout_s is 60 s).
kill -TERM "$broker_pid"
sleep 0.5
timeout 600 "$bin/teep-broker" -c "$work/broker.cfg" -v info \
    >"$work/broker2.out" 2>"$work/broker2.log" &
pids="$pids $!"
wait_for "$work/broker2.log" 'event=ready'
broker_pid=$(grep -o 'event=ready .*pid=[0-9]*' "$work/broker2.log" |
    sed 's/.*pid=//')
coap_port=$(grep -o 'uri=coap://127.0.0.1:[0-9]*' "$work/broker2.log" |
    head -n 1 | sed 's/.*://')
ulimit -n $((sessions + 256)) 2>/dev/null || true
"$bin/teep-bench" idle --url "coap://127.0.0.1:$coap_port/tam" \
    --body "$work/qres.bin" --steps "64,$((64 + sessions))" \
    --pid "$broker_pid" --settle 2.5 --json "$work/idle.json" >/dev/null
step() { jq -r ".steps[$1].$2" "$work/idle.json"; }
rss0=$(step 0 rss_kb)
rss1=$(step 1 rss_kb)
held=$(($(step 1 agents_idle) - $(step 0 agents_idle)))
per=$(((rss1 - rss0) * 1024 / held))
echo "memory: RSS $rss0 kB -> $rss1 kB for $held sessions: $per B/session"

doc=$top/docs/transport-coap.md
when=$(date -u '+%Y-%m-%d %H:%M UTC')
{
    echo '<!-- coap-bench:begin -->'
    echo "Measured by \`tests/coap/bench_coap.sh\` on $when ($(uname -sm), $(nproc) CPUs"
    echo "shared with other work: compare the figures within this run only). One teep-broker"
    echo "worker with an HTTP and a CoAP listener in front of \`teep-replay-tam\`; 64 agents, one"
    echo "exchange outstanding each; POST of the vector QueryResponse (195 bytes) answered by the"
    echo "vector Update (471 bytes); $seconds s per run after 1 s of warm-up, $rounds rounds, the"
    echo "median by rate."
    echo
    echo '| ingress | exchanges/s | p50 us | p99 us |'
    echo '|---|---:|---:|---:|'
    echo "| HTTP/1.1 keep-alive (\`teep-bench\`) | $(field "$http" rps) | $(field "$http" p50_us) | $(field "$http" p99_us) |"
    echo "| CoAP CON + separate response (\`teep-bench coap\`) | $(field "$coap" rps) | $(field "$coap" p50_us) | $(field "$coap" p99_us) |"
    echo
    echo "Memory: the broker's RSS went from $rss0 kB to $rss1 kB while $held more CoAP"
    echo "sessions were open (one exchange done on each, then idle): **$per bytes per session**."
    echo '<!-- coap-bench:end -->'
} >"$work/section.md"
if grep -q '<!-- coap-bench:begin -->' "$doc"; then
    awk -v f="$work/section.md" '
        /<!-- coap-bench:begin -->/ { while ((getline l < f) > 0) print l; skip = 1; next }
        /<!-- coap-bench:end -->/ { skip = 0; next }
        !skip { print }' "$doc" >"$work/doc.md"
    cp "$work/doc.md" "$doc"
else
    cat "$work/section.md" >>"$doc"
fi
