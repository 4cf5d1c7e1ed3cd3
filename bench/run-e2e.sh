#!/bin/sh
# bench/run-e2e.sh: end-to-end TEEP exchanges against the real teep-tam,
# directly and through teep-broker (docs/bench.md).  `teep-bench e2e`
# agents each run empty POST -> QueryRequest, QueryResponse with EAT
# Evidence -> Update, Success -> 204 with a fresh device the bench
# provisioned through the TAM's admin API before the run.
#
#   closed loop: 16 agents, 3 s after 0.5 s warm-up, ROUNDS rounds
#     visiting the two targets in turn;
#   open loop: each target at 75 % of the direct closed-loop median;
#   a CPU profile of teep-tam under the closed loop (perf, software
#     clock): what its time goes to next to its crypto.
#
# Writes OUT_DIR/e2e-*.json and OUT_DIR/perf-tam-{dso,sym}.txt.  The TAM
# runs with its default worker threads (one per CPU) and a fresh data
# directory; the broker with one worker.
#
# Usage: bench/run-e2e.sh [BUILD_DIR (build-bench)] [OUT_DIR (bench/out)]
#        [ROUNDS (3)]
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build-bench}
out=${2:-$top/bench/out}
rounds=${3:-3}
bin=$build/bin
started=$(date +%s)
say_prefix=e2e
. "$top/bench/lib.sh"

mkdir -p "$out"
scratch e2e

tam_port=$(free_port)
admin_port=$(free_port)
"$bin/teep-tam" --listen "127.0.0.1:$tam_port" \
    --admin-listen "127.0.0.1:$admin_port" --data "$work/tam-data" \
    --lifetime 900 --quiet >"$work/tam.log" 2>&1 &
tam_pid=$!
pids="$pids $tam_pid"
wait_port "$admin_port"
wait_port "$tam_port"

broker_port=$(free_port)
"$bin/teep-broker" --listen "http://127.0.0.1:$broker_port" \
    --tam "http://127.0.0.1:$tam_port/tam" --workers 1 --quiet-exchanges \
    --log-level warn 2>"$work/broker.log" &
broker_pid=$!
pids="$pids $broker_pid"
wait_port "$broker_port"

# Devices for the next run: one per exchange, from the rate seen so far
# (the first run guesses), with room to spare.
devices=$(($(nproc) * 1500 + 500))
# e2e NAME URL JSON [options]: one run, its line on stdout; the broker's
# CPU is sampled too when it is the target.
e2e() {
    name=$1 url=$2 json=$3
    shift 3
    relay=""
    [ "$name" = teep-broker ] && relay="--relay-pid $broker_pid"
    # shellcheck disable=SC2086
    line=$("$bin/teep-bench" e2e --url "$url" \
        --admin "http://127.0.0.1:$admin_port" --data "$work/tam-data" \
        --devices "$devices" --pid "$tam_pid" $relay --target "$name" \
        --json "$out/$json" "$@" 2>"$work/bench.err") || {
        cat "$work/bench.err" >&2
        return 1
    }
    [ -s "$work/bench.err" ] && sed 's/^/  /' "$work/bench.err" >&2
    echo "$line"
}
# next_devices LINE: enough devices for another run at LINE's rate.
next_devices() { devices=$(($(field "$1" rps) * 5 + 500)); }

targets="direct:http://127.0.0.1:$tam_port/tam"
targets="$targets teep-broker:http://127.0.0.1:$broker_port/tam"

say "closed loop: 16 agents, 3 s, $rounds rounds, direct and through teep-broker"
r=1
while [ "$r" -le "$rounds" ]; do
    for t in $targets; do
        name=${t%%:*} url=${t#*:}
        line=$(e2e "$name" "$url" "e2e-closed-$name-$r.json" \
            --connections 16 --seconds 3 --warmup 0.5)
        say "  round $r $name: $line"
        next_devices "$line"
    done
    r=$((r + 1))
done

direct=$(jq -s 'map(.rate) | sort | .[length / 2 | floor] | floor' \
    "$out"/e2e-closed-direct-*.json)
offered=$((direct * 75 / 100))
say "open loop: $offered exchanges/s (75 % of the direct rate)"
for t in $targets; do
    name=${t%%:*} url=${t#*:}
    devices=$((offered * 5 + 500))
    line=$(e2e "$name" "$url" "e2e-open-$name.json" --connections 64 \
        --seconds 3 --warmup 0.5 --rate "$offered")
    say "  $name: $line"
done

if perf_ok; then
    say "perf profile of teep-tam under the closed loop (direct)"
    devices=$((direct * 5 + 500))
    perf_profile "$tam_pid" 3 perf-tam
    e2e direct "http://127.0.0.1:$tam_port/tam" e2e-profile.json \
        --connections 16 --seconds 3 --warmup 0.2 >/dev/null
    wait "$perf_pid" || true
    perf_report perf-tam
    rm -f "$out/e2e-profile.json"
else
    echo "perf cannot sample here" >"$out/perf-tam-dso.txt"
fi
say "done"
