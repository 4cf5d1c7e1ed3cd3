#!/bin/sh
# WebSocket ingress next to HTTP ingress, in the same run: one
# teep-broker (WORKERS workers, default 1) listening with both, in front
# of teep-replay-tam; teep-ws-load runs CONNS clients doing exchanges back
# to back (an empty message / an empty POST, answered by the TAM's
# QueryRequest) for SECONDS against each listener in turn, then again, and
# prints exchanges per second and the p50 / p99 latency of each run.
# Not a CTest: a measurement (use a Release build; the figures go in
# docs/transport-ws.md).
# Usage: BIN=build-rel/bin bench_ws.sh [CONNS] [SECONDS]
. "$(dirname "$0")/lib.sh"
CONNS=${1:-16}
SECONDS_EACH=${2:-5}

"$BIN/teep-replay-tam" --port 0 --lifetime 300 --quiet >"$WORK/replay.out" \
    2>"$WORK/replay.err" &
PIDS="$PIDS $!"
wait_for "$WORK/replay.out" "^port" || { fail "replay TAM"; exit 1; }
TAM_URL=http://127.0.0.1:$(awk '/^port/{print $2}' "$WORK/replay.out")/tam
"$BIN/teep-broker" --listen ws://127.0.0.1:0/tam --listen \
    http://127.0.0.1:0/tam --tam "$TAM_URL" --workers "${WORKERS:-1}" \
    --quiet-exchanges >"$WORK/broker.out" 2>"$WORK/broker.log" &
BROKER=$!
PIDS="$PIDS $BROKER"
wait_for "$WORK/broker.log" "event=ready" || { fail "broker"; exit 1; }
WS=$(sed -n 's|.*event=listening uri=\(ws://[^ ]*\).*|\1|p' "$WORK/broker.log")
HTTP=$(sed -n 's|.*event=listening uri=\(http://[^ ]*\).*|\1|p' \
    "$WORK/broker.log")

# The broker's CPU time so far, in clock ticks (utime + stime).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$BROKER/stat"; }
HZ=$(getconf CLK_TCK)

printf '%-6s %6s %9s %8s %8s %14s %6s\n' ingress conns "exch/s" p50_us \
    p99_us "broker_cpu_us" errors
for round in 1 2; do
    for url in "$WS" "$HTTP"; do
        t0=$(cpu_ticks)
        out=$("$BIN/teep-ws-load" bench "$url" "$CONNS" "$SECONDS_EACH") ||
            fail "bench $url: $out"
        t1=$(cpu_ticks)
        set -- $out
        cpu=$(awk -v t="$((t1 - t0))" -v hz="$HZ" -v n="$2" \
            'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / hz / n; else print 0 }')
        printf '%-6s %6s %9s %8s %8s %14s %6s\n' "${url%%:*}" "$CONNS" "$6" \
            "$8" "${10}" "$cpu" "${12}"
    done
done
finish
