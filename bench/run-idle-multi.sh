#!/bin/sh
# bench/run-idle-multi.sh: idle HTTP agents at 10k, 50k and 100k against
# teep-broker deployed as "many instances behind a load balancer"
# (docs/bench.md).  One process may hold at most `ulimit -Hn` descriptors
# (20 000 on the reference machine, without CAP_SYS_RESOURCE to raise it),
# so for each step of N agents this runs ceil(N / 18000) teep-broker
# processes sharing one listening port with SO_REUSEPORT (the kernel
# spreads the connections over them, as a load balancer would) and
# ceil(N / 16000) `teep-bench idle` processes connecting from 127.0.0.2..9.
# Bytes per idle agent = (sum of the instances' VmRSS with the agents held
# - their sum before the first agent) / agents.  Each step starts fresh
# instances; everything binds 127.0.0.x and stops by itself.
#
# Writes OUT_DIR/ramp-http-teep-broker.json.
#
# Usage: bench/run-idle-multi.sh [BUILD_DIR (build-bench)] [OUT_DIR
#        (bench/out)] [STEPS (10000,50000,100000)]
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build-bench}
out=${2:-$top/bench/out}
steps=${3:-10000,50000,100000}
bin=$build/bin
started=$(date +%s)
say_prefix=idle-multi
. "$top/bench/lib.sh"

per_broker=18000 # agents one instance holds: its descriptors, less room
per_client=16000 # agents one teep-bench holds (it has its own limit)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile=$(ulimit -n)
if [ "$nofile" -lt $((per_client + 500)) ]; then
    echo "run-idle-multi: ulimit -Hn is $nofile, below $((per_client + 500))" >&2
    exit 2
fi

mkdir -p "$out"
scratch idle-multi

xxd -r -p "$top/tests/vectors/gen_tp26_query_response_cose_sign1_esp256.hex" \
    >"$work/body"
"$bin/teep-replay-tam" --quiet --lifetime 900 >"$work/tam.out" 2>&1 &
pids="$pids $!"
i=0
until grep -q '^port' "$work/tam.out" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 100 ] && exit 1; sleep 0.05
done
tam=$(awk '/^port/{print $2}' "$work/tam.out")

# established PORT: connections to PORT the agents hold (their side).
established() {
    ss -Htn state established "( dport = :$1 )" 2>/dev/null | wc -l
}

# step N: fresh instances, N agents, the RSS; one JSON object on stdout.
step() {
    n=$1
    brokers=$(((n + per_broker - 1) / per_broker))
    clients=$(((n + per_client - 1) / per_client))
    port=$(free_port)
    cat >"$work/broker.conf" <<EOC
workers = 1; admin = "127.0.0.1:0";
log = { level = "warn"; exchanges = false; };
listeners = ( { uri = "http://127.0.0.1:$port/tam";
  options = { max_connections = $((nofile - 100)); idle_timeout_ms = 600000; }; } );
default_route = "tam";
routes = ( { name = "tam"; endpoints = [ "http://127.0.0.1:$tam/tam" ]; } );
EOC
    step_pids=""
    broker_pids=""
    b=0
    while [ $b -lt "$brokers" ]; do
        "$bin/teep-broker" -c "$work/broker.conf" 2>"$work/broker-$b.log" &
        step_pids="$step_pids $!"
        broker_pids="$broker_pids $!"
        b=$((b + 1))
    done
    first=${broker_pids# }
    first=${first%% *}
    wait_port "$port"
    sleep 0.5 # every instance listening
    before=0
    for p in $broker_pids; do before=$((before + $(rss_kb "$p"))); done
    t0=$(date +%s)
    c=0
    left=$n
    while [ $c -lt "$clients" ]; do
        k=$((left / (clients - c)))
        left=$((left - k))
        # The client holds its agents until it is stopped (--settle).
        "$bin/teep-bench" idle --url "http://127.0.0.1:$port/tam" \
            --body "$work/body" --steps "$k" --sources 8 \
            --pid "$first" --settle 600 --json /dev/null \
            >/dev/null 2>"$work/client-$c.log" &
        step_pids="$step_pids $!"
        c=$((c + 1))
    done
    # Wait until the agents are connected and no longer growing, then
    # for their exchanges to end and the instances to settle.
    held=0
    last=-1
    i=0
    while [ $i -lt 240 ]; do
        held=$(established "$port")
        [ "$held" -ge "$n" ] && break
        if [ "$held" = "$last" ] && [ $i -gt 20 ]; then break; fi
        last=$held
        sleep 0.5
        i=$((i + 1))
    done
    took=$(($(date +%s) - t0))
    sleep 2
    held=$(established "$port")
    after=0
    per=""
    for p in $broker_pids; do
        r=$(rss_kb "$p")
        after=$((after + r))
        per="$per${per:+,}$r"
    done
    say "  $n agents: $held held by $brokers instance(s), RSS $before -> $after kB in ${took} s"
    for p in $step_pids; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $step_pids; do wait "$p" 2>/dev/null || true; done
    step_pids=""
    jq -n --argjson w "$n" --argjson h "$held" --argjson b "$before" \
        --argjson a "$after" --argjson i "$brokers" --argjson c "$clients" \
        --argjson s "$took" "{agents_wanted: \$w, agents_idle: \$h,
          instances: \$i, client_processes: \$c, rss_kb_before: \$b,
          rss_kb: \$a, rss_kb_per_instance: [$per], seconds: \$s,
          bytes_per_idle_agent:
            (if \$h > 0 then ((\$a - \$b) * 1024 / \$h | floor) else null end)}"
}

say "idle HTTP agents against teep-broker instances: $steps"
: >"$work/steps.json"
for n in $(echo "$steps" | tr ',' ' '); do
    step "$n" >>"$work/steps.json"
done
jq -s --argjson nofile "$nofile" --argjson per "$per_broker" \
    '{target: "teep-broker", transport: "http", mode: "idle-multi",
      nofile_hard: $nofile, agents_per_instance_max: $per,
      rss_kb_before: .[0].rss_kb_before, steps: .}' "$work/steps.json" \
    >"$out/ramp-http-teep-broker.json"
say "done: $out/ramp-http-teep-broker.json"
