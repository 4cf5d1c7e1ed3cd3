#!/bin/bash
# teep-bench e2e against the real teep-tam, directly and through a
# teep-broker in front of it, about a second each: every exchange (empty
# POST -> QueryRequest, QueryResponse with Evidence -> Update, Success ->
# 204) succeeds, none fails, and the TAM's own log shows as many TA steps
# done as the bench counted exchanges.
# Usage: bench_e2e.sh TEEP_TAM TEEP_BENCH TEEP_BROKER
set -u
TAM=$1
BENCH=$2
BROKER=$3
WORK=$(mktemp -d /tmp/tam-bench-e2e-XXXXXX)
DATA=$WORK/data
. "$(dirname "$0")/lib.sh"
BROKER_PID=
stop_broker() {
    [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID"
    BROKER_PID=
}
trap 'stop_broker; cleanup' EXIT

start_tam "$DATA"
"$BROKER" --listen http://127.0.0.1:0 --tam "$URL" --workers 1 \
    --quiet-exchanges 2>"$WORK/broker.err" &
BROKER_PID=$!
i=0
until grep -q 'event=listening' "$WORK/broker.err" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "teep-broker did not start: $(cat "$WORK/broker.err")"
    sleep 0.1
done
BPORT=$(grep -o 'event=listening uri=http://127.0.0.1:[0-9]*' \
    "$WORK/broker.err" | head -1 | sed 's/.*://')

field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
done_steps() { grep -c 'TA -> Trusted Process done: Success' "$WORK/tam.err"; }

# run NAME URL: one closed-loop run of 8 agents for a second.
run() {
    before=$(done_steps)
    line=$("$BENCH" e2e --url "$2" --admin "http://127.0.0.1:$APORT" \
        --data "$DATA" --devices 1500 --connections 8 --seconds 1 \
        --warmup 0.2 --pid "$TAM_PID" --json "$WORK/$1.json" \
        2>"$WORK/bench.err") || fail "$1: teep-bench e2e: $(cat "$WORK/bench.err")"
    echo "$1: $line"
    ok=$(field "$line" ok)
    errors=$(field "$line" errors)
    [ "${ok:-0}" -gt 0 ] || fail "$1: no exchange succeeded"
    [ "$errors" = 0 ] || fail "$1: $errors exchanges failed: $(cat "$WORK/bench.err")"
    [ "$(jq -r .errors "$WORK/$1.json")" = 0 ] || fail "$1: JSON errors"
    steps=$(($(done_steps) - before))
    [ "$steps" = "$ok" ] || fail "$1: the TAM completed $steps TA steps, the bench counted $ok"
    ! grep -qE 'Sanitizer|runtime error' "$WORK/bench.err" "$WORK/broker.err" ||
        fail "$1: sanitizer report"
}
run direct "$URL"
run broker "http://127.0.0.1:$BPORT/tam"
stop_broker

# Wrong set-ups end with a clear message and status 2, never a hang.
"$BENCH" e2e --url "$URL" --admin "http://127.0.0.1:$APORT" \
    --data "$WORK/nowhere" --seconds 1 2>"$WORK/bad.err"
[ $? = 2 ] && grep -q 'cannot read' "$WORK/bad.err" || fail "missing data dir"
echo wrong >"$WORK/token"
cp "$DATA"/*.pub.pem "$WORK/" && mv "$WORK/token" "$WORK/admin.token"
"$BENCH" e2e --url "$URL" --admin "http://127.0.0.1:$APORT" --data "$WORK" \
    --seconds 1 2>"$WORK/bad.err"
[ $? = 2 ] && grep -q 'POST /packages: HTTP' "$WORK/bad.err" ||
    fail "a wrong admin token: $(cat "$WORK/bad.err")"
"$BENCH" e2e --url "$URL" --seconds 1 2>/dev/null
[ $? = 2 ] || fail "no --admin"
echo "bench_e2e: all passed"
