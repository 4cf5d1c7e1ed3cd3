#!/bin/sh
# Memory per idle WebSocket connection: N devices connect, check in once
# (the empty message and its QueryRequest) and stay connected.  Measured
# in a process of its own, apart from the clients:
#   - the plugin alone (teep-transport-serve, canned TAM): malloc's bytes in use
#     (mallinfo2) and RSS, before and while the connections are open;
#   - the real teep-broker (2 workers, teep-replay-tam behind it): RSS.
# Prints bytes per connection; fails above LIMIT heap bytes per
# connection (a regression guard: lws 4.1 alone keeps about 1.4 KiB).
# Environment: BIN, VECTORS, PLUGINS; N (default 1000).
. "$(dirname "$0")/lib.sh"
N=${N:-1000}
LIMIT=2048

rss_kb() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }

# idle_rss PID URL: RSS growth in KiB while N idle connections are open.
idle_rss() {
    before=$(rss_kb "$1")
    "$BIN/teep-ws-load" idle "$2" "$N" 3 >"$WORK/load.out" 2>&1 &
    load=$!
    wait_for "$WORK/load.out" "^ready" 20 || { fail "load: not ready"; return; }
    grep -q "^ready $N\$" "$WORK/load.out" || fail "load: $(cat "$WORK/load.out")"
    after=$(rss_kb "$1")
    [ -n "$heap_pid" ] && kill -USR2 "$heap_pid"
    wait "$load" || fail "load: exit status"
    echo $((after - before))
}

# ---- the plugin alone
"$BIN/teep-transport-serve" --plugin-dir "$PLUGINS" --vectors "$VECTORS" \
    --lifetime 60 >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVE=$!
PIDS="$PIDS $SERVE"
wait_for "$WORK/serve.out" "^listening" || { fail "teep-transport-serve"; exit 1; }
URL=$(sed -n 's/^listening //p' "$WORK/serve.out")
"$BIN/teep-ws-load" idle "$URL" 10 0 >/dev/null # warm up allocator
kill -USR2 "$SERVE"
wait_for "$WORK/serve.out" "^heap_in_use" || fail "heap figure"
heap_pid=$SERVE
kb=$(idle_rss "$SERVE" "$URL")
sleep 0.3
heap0=$(sed -n 's/^heap_in_use //p' "$WORK/serve.out" | sed -n 1p)
heap1=$(sed -n 's/^heap_in_use //p' "$WORK/serve.out" | sed -n 2p)
per_heap=$(((heap1 - heap0) / N))
echo "plugin: $N idle connections: heap $per_heap bytes each, RSS $((kb * 1024 / N)) bytes each"
[ "$per_heap" -le "$LIMIT" ] && pass "heap per idle connection <= $LIMIT" ||
    fail "heap per idle connection $per_heap > $LIMIT"

# ---- through the broker
heap_pid=
"$BIN/teep-replay-tam" --port 0 --lifetime 60 --quiet >"$WORK/replay.out" \
    2>"$WORK/replay.err" &
PIDS="$PIDS $!"
wait_for "$WORK/replay.out" "^port" || { fail "replay TAM"; exit 1; }
TAM_URL=http://127.0.0.1:$(awk '/^port/{print $2}' "$WORK/replay.out")/tam
start_broker ws://127.0.0.1:0/tam
"$BIN/teep-ws-load" idle "$BROKER_WS" 10 0 >/dev/null
kb=$(idle_rss "$BROKER_PID" "$BROKER_WS")
echo "broker: $N idle connections: RSS $((kb * 1024 / N)) bytes each"
finish
