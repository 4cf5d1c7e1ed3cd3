#!/bin/sh
# bench/run-suite.sh: the standard benchmark suite, one command, under 10
# minutes on a 2-core machine (docs/bench.md).  Everything binds
# 127.0.0.x and stops by itself.
#
#   1. builds the programs it needs (Release, BUILD_DIR, default
#      build-bench) and installs haproxy, nginx-light, wrk, gnuplot-nox
#      and jq with apt-get when missing (--no-install: never);
#   2. starts the replay TAM (canned pre-signed answers) and, in front of
#      it, teep-broker (one worker; HTTP, WebSocket and CoAP listeners
#      when those plugins are built), HAProxy and nginx (one thread each);
#   3. HTTP relay, closed loop: 64 agents against each target (and the
#      replay TAM directly: the limit), ROUNDS rounds visiting them in
#      turn, 3 s each;
#   4. HTTP relay, open loop: each target at fixed fractions of the
#      broker's closed-loop rate (latency against offered load);
#   5. WebSocket and CoAP ingress next to HTTP ingress on the same broker
#      (tests/ws/ws_load.c and tests/coap/coap_load.c as the agents);
#   6. idle agents: the ramp of teep-bench idle against the broker,
#      HAProxy and nginx (bytes per idle HTTP connection), WebSocket and
#      CoAP idle sessions against the broker;
#   7. a CPU profile of the broker under HTTP load (perf, software clock);
#   8. bench/results.sh: bench/RESULTS.md's suite section and the plots.
#
# Each run writes one JSON file into bench/out/ (gitignored).
#
# Usage: bench/run-suite.sh [--no-install] [BUILD_DIR] [ROUNDS]
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
install=1
if [ "${1:-}" = "--no-install" ]; then
    install=0
    shift
fi
build=${1:-$top/build-bench}
rounds=${2:-3}
out=$top/bench/out
bin=$build/bin
started=$(date +%s)

say() { echo "run-suite [$(($(date +%s) - started)) s]: $*" >&2; }

if [ $install = 1 ]; then
    missing=""
    command -v haproxy >/dev/null || missing="$missing haproxy"
    command -v nginx >/dev/null || missing="$missing nginx-light"
    command -v wrk >/dev/null || missing="$missing wrk"
    command -v gnuplot >/dev/null || missing="$missing gnuplot-nox"
    command -v jq >/dev/null || missing="$missing jq"
    if [ -n "$missing" ]; then
        SUDO=""
        [ "$(id -u)" -eq 0 ] || SUDO=sudo
        say "installing$missing"
        $SUDO apt-get update -qq
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
            --no-install-recommends $missing >/dev/null
    fi
fi
command -v jq >/dev/null || { echo "run-suite: jq is needed" >&2; exit 2; }

say "building in $build"
[ -f "$build/CMakeCache.txt" ] ||
    cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
# The WebSocket and CoAP agents live with their transports' tests; a tree
# without them still runs the HTTP suite.
cmake --build "$build" -j"$(nproc)" --target teep-broker teep-replay-tam \
    teep-bench transport_http >/dev/null
for t in transport_ws transport_coap teep-ws-load coap-load; do
    cmake --build "$build" -j"$(nproc)" --target $t >/dev/null 2>&1 || true
done

# The CoAP agents' program lands in tests/ or bin/ depending on the tree.
coap_load=""
for f in "$bin/coap-load" "$build/tests/coap-load"; do
    [ -x "$f" ] && { coap_load=$f; break; }
done

# Agents and their peers each want one descriptor per connection.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile=$(ulimit -n)

mkdir -p "$out"
rm -f "$out"/*.json "$out"/*.txt
work=$(mktemp -d "${TMPDIR:-/tmp}/teep-suite.XXXXXX")
pids=""
cleanup() {
    for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
    sleep 0.3
    for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

# A port below the ephemeral range (32768 up), so no outgoing connection
# of the agents holds it, used by no socket yet and not handed out before.
free_port() {
    while :; do
        port=$(shuf -i 20000-32000 -n 1)
        grep -qx "$port" "$work/ports" 2>/dev/null && continue
        ss -tuan | awk '{print $5}' | grep -q ":$port\$" && continue
        echo "$port" >>"$work/ports"
        echo "$port"
        return
    done
}
wait_port() {
    i=0
    until ss -ltn | awk '{print $4}' | grep -q ":$1\$"; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then
            echo "run-suite: nothing listens on $1" >&2
            tail -n 5 "$work"/*.log >&2
            exit 1
        fi
        sleep 0.05
    done
}
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

xxd -r -p "$top/tests/vectors/gen_tp26_query_response_cose_sign1_esp256.hex" \
    >"$work/body"

"$bin/teep-replay-tam" --quiet --lifetime 900 >"$work/tam.out" 2>&1 &
tam_pid=$!
pids="$pids $tam_pid"
i=0
until grep -q '^port' "$work/tam.out" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 100 ] && exit 1; sleep 0.05
done
tam=$(awk '/^port/{print $2}' "$work/tam.out")

# start_broker NAME: a one-worker broker with every ingress that is built;
# sets NAME_pid, NAME_http, NAME_ws, NAME_coap (ports, empty if absent).
start_broker() {
    http=$(free_port)
    ws=""
    coap=""
    if [ -f "$build/lib/teep/transport_ws.so" ]; then
        ws=$(free_port)
    fi
    if [ -f "$build/lib/teep/transport_coap.so" ]; then
        coap=$(free_port)
    fi
    # A configuration file: the HTTP listener's max_connections (10000 by
    # default) must not cap the idle ramp below the descriptor limit.
    {
        echo "workers = 1; admin = \"127.0.0.1:0\";"
        echo "log = { level = \"info\"; exchanges = false; };"
        echo "listeners = ( { uri = \"http://127.0.0.1:$http/tam\";"
        echo "  options = { max_connections = $nofile; idle_timeout_ms = 120000; }; }"
        [ -n "$ws" ] && echo ", { uri = \"ws://127.0.0.1:$ws/tam\"; }"
        [ -n "$coap" ] && echo ", { uri = \"coap://127.0.0.1:$coap/tam\"; }"
        echo ");"
        echo "default_route = \"tam\";"
        echo "routes = ( { name = \"tam\"; endpoints = [ \"http://127.0.0.1:$tam/tam\" ]; } );"
    } >"$work/$1.conf"
    "$bin/teep-broker" -c "$work/$1.conf" 2>"$work/$1.log" &
    eval "$1_pid=$! $1_http=$http $1_ws=$ws $1_coap=$coap"
    pids="$pids $!"
    wait_port "$http"
}
start_broker broker

haproxy_port=$(free_port)
haproxy_maxconn=$(((nofile - 400) / 2))
cat >"$work/haproxy.cfg" <<EOC
global
    nbthread 1
    # HAProxy wants two descriptors per maxconn (client and server side)
    maxconn $haproxy_maxconn
defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 2s
    timeout client 120s
    timeout server 30s
frontend agents
    bind 127.0.0.1:$haproxy_port
    default_backend tam
backend tam
    server tam 127.0.0.1:$tam maxconn 256
EOC
haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
haproxy_pid=$!
pids="$pids $haproxy_pid"
wait_port "$haproxy_port"

nginx_port=$(free_port)
mkdir -p "$work/nginx"
# master_process off: the process measured is the one that serves.
cat >"$work/nginx.conf" <<EOC
daemon off;
master_process off;
user root root;
worker_processes 1;
worker_rlimit_nofile $nofile;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections $((nofile - 100)); }
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    upstream tam { server 127.0.0.1:$tam; keepalive 256; keepalive_requests 1000000; }
    server {
        listen 127.0.0.1:$nginx_port;
        location / {
            proxy_pass http://tam;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOC
nginx -p "$work/nginx" -c "$work/nginx.conf" >"$work/nginx.log" 2>&1 &
nginx_pid=$!
pids="$pids $nginx_pid"
wait_port "$nginx_port"

targets="direct:$tam:$tam_pid teep-broker:$broker_http:$broker_pid"
targets="$targets haproxy:$haproxy_port:$haproxy_pid nginx:$nginx_port:$nginx_pid"

# load NAME PORT PID JSON [teep-bench options]: one HTTP load run.
load() {
    name=$1 port=$2 pid=$3 json=$4
    shift 4
    "$bin/teep-bench" --url "http://127.0.0.1:$port/tam" --body "$work/body" \
        --pid "$pid" --target "$name" --json "$out/$json" "$@"
}

# 3. Closed loop.
say "HTTP relay, closed loop: 64 agents, 3 s, $rounds rounds"
r=1
while [ $r -le "$rounds" ]; do
    for t in $targets; do
        IFS=: read -r name port pid <<EOT
$t
EOT
        line=$(load "$name" "$port" "$pid" "closed-$name-$r.json" \
            --connections 64 --seconds 3 --warmup 0.5)
        say "  round $r $name: $line"
    done
    r=$((r + 1))
done
broker_rate=$(jq -s 'map(.rate) | sort | .[length / 2 | floor]' \
    "$out"/closed-teep-broker-*.json | cut -d. -f1)

# 4. Open loop: latency against offered load, ROUNDS rounds as well (a
# burst of other work on the machine should not decide a point).
say "HTTP relay, open loop: 25..110 % of the broker's $broker_rate/s, $rounds rounds"
r=1
while [ $r -le "$rounds" ]; do
    for pct in 25 50 75 90 110; do
        rate=$((broker_rate * pct / 100))
        for t in $targets; do
            IFS=: read -r name port pid <<EOT
$t
EOT
            line=$(load "$name" "$port" "$pid" "open-$name-$pct-$r.json" \
                --connections 256 --seconds 2 --warmup 0.5 --rate "$rate")
            say "  round $r $pct % ($rate/s) $name: $line"
        done
    done
    r=$((r + 1))
done

# 5. WebSocket and CoAP ingress, each next to HTTP ingress on the same
# broker and with its own agents' exchange.
if [ -n "$broker_ws" ] && [ -x "$bin/teep-ws-load" ]; then
    say "WebSocket ingress next to HTTP ingress (teep-ws-load, 64 agents)"
    r=1
    while [ $r -le "$rounds" ]; do
        for u in "ws://127.0.0.1:$broker_ws/tam" "http://127.0.0.1:$broker_http/tam"; do
            line=$("$bin/teep-ws-load" bench "$u" 64 3 || true)
            kind=${u%%:*}
            say "  round $r $kind: $line"
            echo "$line" | awk -v k="$kind" -v r="$r" '{
                for (i = 1; i < NF; i += 2) v[$i] = $(i + 1)
                printf "{\"target\":\"teep-broker\",\"transport\":\"%s\",\"model\":\"closed\",\"connections\":64,\"round\":%d,\"agents\":\"teep-ws-load\",\"exchange\":\"empty message -> QueryRequest\",\"rate\":%s,\"latency_us\":{\"p50\":%s,\"p99\":%s},\"errors\":%s}\n",
                    (k == "ws" ? "ws" : "http"), r, v["rate"] + 0, v["p50_us"] + 0, v["p99_us"] + 0, v["errors"] + 0
            }' >"$out/ingress-ws-$kind-$r.json"
        done
        r=$((r + 1))
    done
fi
if [ -n "$broker_coap" ] && [ -n "$coap_load" ]; then
    say "CoAP ingress next to HTTP ingress (coap-load, 64 sessions)"
    r=1
    while [ $r -le "$rounds" ]; do
        line=$("$coap_load" --port "$broker_coap" --path tam \
            --body "$work/body" --sessions 64 --seconds 3 --warmup 0.5 || true)
        say "  round $r coap: $line"
        echo "$line" | tr ' ' '\n' | awk -F= -v r="$r" '{ v[$1] = $2 } END {
            printf "{\"target\":\"teep-broker\",\"transport\":\"coap\",\"model\":\"closed\",\"connections\":64,\"round\":%d,\"agents\":\"coap-load\",\"exchange\":\"QueryResponse -> Update\",\"rate\":%s,\"latency_us\":{\"p50\":%s,\"p99\":%s,\"p999\":%s},\"errors\":%s}\n",
                r, v["rps"] + 0, v["p50_us"] + 0, v["p99_us"] + 0, v["p999_us"] + 0, v["errors"] + 0 }' \
            >"$out/ingress-coap-coap-$r.json"
        line=$(load teep-broker "$broker_http" "$broker_pid" \
            "ingress-coap-http-$r.json" --connections 64 --seconds 3 --warmup 0.5)
        say "  round $r http: $line"
        r=$((r + 1))
    done
fi

# 6. Idle agents.  Each target's ramp goes to 10k, 50k and 100k agents
# as far as this process's descriptor limit lets it (the target needs as
# many as the agents).
# ramp_steps LIMIT: 1000, 10k, 50k, 100k below LIMIT, else LIMIT itself.
ramp_steps() {
    s=""
    for n in 1000 10000 50000 100000; do
        if [ $n -lt "$1" ]; then
            s="$s,$n"
        else
            s="$s,$1"
            break
        fi
    done
    echo "${s#,}"
}
idle() {
    name=$1 port=$2 pid=$3 steps=$4
    say "idle HTTP agents against $name: $steps"
    "$bin/teep-bench" idle --url "http://127.0.0.1:$port/tam" \
        --body "$work/body" --steps "$steps" --sources 8 --pid "$pid" \
        --settle 1 --json "$work/idle.json" >/dev/null
    jq --arg t "$name" --argjson n "$nofile" \
        '. + {target: $t, transport: "http", nofile_hard: $n}' \
        "$work/idle.json" >"$out/idle-http-$name.json"
}
# A fresh broker: the relay runs above grew its pools.
start_broker idlebroker
idle teep-broker "$idlebroker_http" "$idlebroker_pid" \
    "$(ramp_steps $((nofile - 200)))"
kill -TERM "$idlebroker_pid"
start_broker idlebroker
idle haproxy "$haproxy_port" "$haproxy_pid" \
    "$(ramp_steps $((haproxy_maxconn - 100)))"
idle nginx "$nginx_port" "$nginx_pid" "$(ramp_steps $((nofile - 200)))"

# rss_after PID N CMD...: CMD holds N idle sessions until it prints a
# line starting with "ready" or "held"; the RSS of PID before and then.
session_idle() {
    transport=$1 pid=$2 n=$3
    shift 3
    before=$(awk '/^VmRSS/{print $2}' "/proc/$pid/status")
    "$@" >"$work/hold.out" 2>&1 &
    holder=$!
    i=0
    until grep -qE '^(ready|held)' "$work/hold.out" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 600 ] || ! kill -0 $holder 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    sleep 1
    after=$(awk '/^VmRSS/{print $2}' "/proc/$pid/status")
    held=$(grep -oE '^(ready|held) [0-9]+' "$work/hold.out" | awk '{print $2}')
    kill -TERM $holder 2>/dev/null || true
    wait $holder 2>/dev/null || true
    jq -n --arg tr "$transport" --argjson b "$before" --argjson a "$after" \
        --argjson n "${held:-0}" --argjson w "$n" \
        '{target: "teep-broker", transport: $tr, mode: "idle",
          rss_kb_before: $b, steps: [{agents_wanted: $w, agents_idle: $n,
          rss_kb: $a, bytes_per_idle_agent:
          (if $n > 0 then (($a - $b) * 1024 / $n | floor) else null end)}]}' \
        >"$out/idle-$transport-teep-broker.json"
    say "  $transport: ${held:-0} idle sessions, rss $before -> $after kB"
}
sessions=10000
[ $sessions -lt $((nofile - 200)) ] || sessions=$((nofile - 200))
# teep-ws-load opens its connections all at once and, in this tree, gets
# none answered above about 1 500 of them: the ramp holds 1 000.
ws_sessions=1000
if [ -n "$idlebroker_ws" ] && [ -x "$bin/teep-ws-load" ]; then
    say "idle WebSocket agents against teep-broker: $ws_sessions"
    session_idle ws "$idlebroker_pid" $ws_sessions "$bin/teep-ws-load" idle \
        "ws://127.0.0.1:$idlebroker_ws/tam" $ws_sessions 30
fi
if [ -n "$idlebroker_coap" ] && [ -n "$coap_load" ]; then
    say "idle CoAP sessions against teep-broker: $sessions"
    session_idle coap "$idlebroker_pid" $sessions "$coap_load" \
        --port "$idlebroker_coap" --path tam --body "$work/body" \
        --sessions $sessions --seconds 30 --hold
fi

# 7. Where the broker's time goes under HTTP load.
if command -v perf >/dev/null &&
    perf record -e cpu-clock -o "$work/probe.data" true >/dev/null 2>&1; then
    say "perf profile of teep-broker under closed-loop HTTP load"
    perf record -e cpu-clock -g -p "$broker_pid" -o "$work/perf.data" \
        -- sleep 3 >/dev/null 2>&1 &
    perf_pid=$!
    load teep-broker "$broker_http" "$broker_pid" "profile-load.json" \
        --connections 64 --seconds 3 --warmup 0.2 >/dev/null
    wait $perf_pid || true
    perf report -i "$work/perf.data" --no-children --sort dso --stdio -g none \
        2>/dev/null | grep -E '^ +[0-9]' | head -n 8 >"$out/perf-dso.txt" || true
    perf report -i "$work/perf.data" --no-children --sort sym --stdio \
        -g none 2>/dev/null | grep -E '^ +[0-9]' | head -n 15 \
        >"$out/perf-sym.txt" || true
else
    echo "perf cannot sample here" >"$out/perf-dso.txt"
fi

say "writing bench/RESULTS.md and the plots"
"$top/bench/results.sh" "$out"
say "done in $(($(date +%s) - started)) s"
