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
#      (teep-bench's agents of each transport, the same exchange), and
#      libcoap's coap-server answering the same sizes from memory (the
#      CoAP stack's own limit, as the replay TAM directly is HTTP's);
#   5b. WebSocket and CoAP ingress, open loop: fractions of each
#      transport's closed-loop rate (latency against offered load),
#      coap-server at the CoAP rates too;
#   6. idle agents: the ramp of teep-bench idle against the broker,
#      HAProxy and nginx (bytes per idle HTTP connection), WebSocket and
#      CoAP idle sessions against the broker;
#   6b. idle HTTP agents at 10k, 50k and 100k against several broker
#      instances sharing the port with SO_REUSEPORT (one process holds
#      at most `ulimit -Hn` descriptors): bench/run-idle-multi.sh;
#   7. CPU profiles of the broker under HTTP, WebSocket and CoAP load
#      (perf, software clock): the reasons in the goals record;
#   8. end to end: full TEEP exchanges with the real teep-tam, directly
#      and through teep-broker, and a CPU profile of the TAM:
#      bench/run-e2e.sh;
#   9. bench/results.sh: bench/RESULTS.md's suite section and the plots.
#
# Each run writes one JSON file into bench/out/ (gitignored; BENCH_OUT
# overrides it).  SUITE_SECTIONS (default all) runs only the sections it
# lists, for work on one of them: 3 (closed and open HTTP relay), 5 (5
# and 5b), 6 (6 and 6b), 7, 8, 9; e.g. SUITE_SECTIONS="5 9".
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
# Open-loop runs: at most 2 rounds (sections 4 and 5b).
open_rounds=$rounds
[ "$open_rounds" -le 2 ] || open_rounds=2
out=${BENCH_OUT:-$top/bench/out}
bin=$build/bin
# want N: whether section N runs (SUITE_SECTIONS).
want() {
    case " ${SUITE_SECTIONS:-all} " in
    *" all "* | *" $1 "*) return 0 ;;
    esac
    return 1
}
started=$(date +%s)

say_prefix=run-suite
. "$top/bench/lib.sh" # say, free_port, wait_port, field, perf_*

if [ $install = 1 ]; then
    missing=""
    command -v haproxy >/dev/null || missing="$missing haproxy"
    command -v nginx >/dev/null || missing="$missing nginx-light"
    command -v wrk >/dev/null || missing="$missing wrk"
    command -v gnuplot >/dev/null || missing="$missing gnuplot-nox"
    command -v jq >/dev/null || missing="$missing jq"
    command -v coap-server-openssl >/dev/null ||
        command -v coap-server >/dev/null || missing="$missing libcoap3-bin"
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
# The WebSocket and CoAP agents are teep-bench's own; a broker without
# those plugins still runs the HTTP suite.
cmake --build "$build" -j"$(nproc)" --target teep-broker teep-replay-tam \
    teep-bench transport_http teep-tam >/dev/null
for t in transport_ws transport_coap; do
    cmake --build "$build" -j"$(nproc)" --target $t >/dev/null 2>&1 || true
done

# Agents and their peers each want one descriptor per connection.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile=$(ulimit -n)

mkdir -p "$out"
# A whole run starts clean; a run of some sections keeps the others'
# files, so that section 9 can still write the whole record.
[ "${SUITE_SECTIONS:-all}" = all ] && rm -f "$out"/*.json "$out"/*.txt
scratch suite


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
if want 3; then
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

# 4. Open loop: latency against offered load, at most 2 rounds (a burst
# of other work on the machine should not decide a point, and an
# overloaded proxy takes seconds to drain: the suite stays under 10
# minutes).  The open-loop runs of section 5b use the same bound.
say "HTTP relay, open loop: 25..110 % of the broker's $broker_rate/s, $open_rounds rounds"
r=1
while [ $r -le "$open_rounds" ]; do
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
fi

# libcoap's coap-server, the CoAP baseline: it cannot relay CoAP to an
# HTTP TAM, so it answers the same sizes from memory.  Its example_data
# resource returns (2.05, piggybacked on the ACK) what the last PUT
# stored: the vector Update (471 bytes), PUT once here; teep-bench's CoAP
# agents then send the QueryResponse (195 bytes) as a GET to it
# (--method get).  The CoAP stack's own limit, as the replay TAM directly
# is HTTP's.  Sets coapsrv_pid and coapsrv_port, empty when absent.
coapsrv_pid=""
coapsrv_port=""
start_coap_server() {
    srv=$(command -v coap-server-openssl || command -v coap-server || true)
    cli=$(command -v coap-client-openssl || command -v coap-client || true)
    [ -n "$srv" ] && [ -n "$cli" ] || return 0
    xxd -r -p "$top/tests/vectors/gen_tp26_update_cose_sign1_esp256.hex" \
        >"$work/update"
    coapsrv_port=$(free_port)
    "$srv" -A 127.0.0.1 -p "$coapsrv_port" -v 3 >"$work/coap-server.log" 2>&1 &
    coapsrv_pid=$!
    pids="$pids $coapsrv_pid"
    wait_port "$coapsrv_port"
    "$cli" -m put -f "$work/update" \
        "coap://127.0.0.1:$coapsrv_port/example_data" >/dev/null 2>&1 || {
        say "coap-server: could not store the answer; no CoAP baseline"
        coapsrv_pid=""
    }
}

# 5. WebSocket and CoAP ingress next to HTTP ingress on the same broker:
# teep-bench's agents of each transport in turn (64 each, 3 s, ROUNDS
# rounds), the same exchange for all three (the vector QueryResponse
# answered by the Update).  CoAP sessions come from 64 source addresses
# (127.0.0.2 ..): the broker limits each address (peer_rate,
# peer_max_pending), and every device has its own.
if want 5 && { [ -n "$broker_ws" ] || [ -n "$broker_coap" ]; }; then
    say "WebSocket and CoAP ingress next to HTTP ingress (teep-bench, 64 agents)"
    [ -z "$broker_coap" ] || start_coap_server
    r=1
    while [ $r -le "$rounds" ]; do
        for kind in http ws coap; do
            eval "port=\$broker_$kind"
            [ -n "$port" ] || continue
            line=$("$bin/teep-bench" --url "$kind://127.0.0.1:$port/tam" \
                --body "$work/body" --pid "$broker_pid" --target teep-broker \
                --connections 64 --seconds 3 --warmup 0.5 --sources 64 \
                --json "$out/ingress-$kind-$r.json" || true)
            say "  round $r $kind: $line"
        done
        if [ -n "$coapsrv_pid" ]; then
            line=$("$bin/teep-bench" \
                --url "coap://127.0.0.1:$coapsrv_port/example_data" \
                --body "$work/body" --method get --pid "$coapsrv_pid" \
                --target coap-server --connections 64 --seconds 3 \
                --warmup 0.5 --sources 64 \
                --json "$out/baseline-coap-server-$r.json" || true)
            say "  round $r coap-server (GET from memory): $line"
        fi
        r=$((r + 1))
    done

    # 5b. Open loop per transport: latency against offered load at
    # fractions of that transport's closed-loop rate (the median of the
    # rounds above), 2 s each, at most 2 rounds (the suite stays under 10
    # minutes); coap-server at the CoAP rates as well.  Up to 256 agents
    # (CoAP: from 64 addresses).
    say "WebSocket and CoAP ingress, open loop: 25..90 % of each closed-loop rate, $open_rounds rounds"
    r=1
    while [ $r -le "$open_rounds" ]; do
        for kind in ws coap; do
            eval "port=\$broker_$kind"
            [ -n "$port" ] || continue
            ls "$out"/ingress-$kind-*.json >/dev/null 2>&1 || continue
            base=$(jq -s 'map(.rate) | sort | .[length / 2 | floor]' \
                "$out"/ingress-$kind-*.json | cut -d. -f1)
            [ "${base:-0}" -gt 0 ] || continue
            for pct in 25 50 75 90; do
                rate=$((base * pct / 100))
                set -- "teep-broker:$kind://127.0.0.1:$port/tam:$broker_pid:post"
                [ $kind != coap ] || [ -z "$coapsrv_pid" ] ||
                    set -- "$@" "coap-server:coap://127.0.0.1:$coapsrv_port/example_data:$coapsrv_pid:get"
                for t in "$@"; do
                    name=${t%%:*} rest=${t#*:}
                    method=${rest##*:} rest=${rest%:*}
                    pid=${rest##*:} url=${rest%:*}
                    line=$("$bin/teep-bench" --url "$url" --body "$work/body" \
                        --method "$method" --pid "$pid" --target "$name" \
                        --connections 256 --seconds 2 --warmup 0.5 \
                        --sources 64 --rate "$rate" \
                        --json "$out/openin-$kind-$name-$pct-$r.json" || true)
                    say "  round $r $kind $pct % ($rate/s) $name: $line"
                done
            done
        done
        r=$((r + 1))
    done
fi

if want 6; then
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

# WebSocket agents and CoAP sessions, each against a fresh broker, with
# teep-bench idle as for HTTP, 8 agents at a time between start and
# answer (what the broker's allocator keeps from many exchanges at once
# would count as idle memory).  WebSocket agents and CoAP sessions come
# from 64 addresses (the broker takes 1 000 WebSocket connections from one
# address per worker, max_connections_per_peer); libcoap keeps 8 192 idle
# sessions (max_sessions): the CoAP ramp stops below.
session_idle() {
    transport=$1 port=$2 steps=$3
    say "idle $transport agents against teep-broker: $steps"
    "$bin/teep-bench" idle --url "$transport://127.0.0.1:$port/tam" \
        --body "$work/body" --steps "$steps" --sources 64 --batch 8 \
        --pid "$idlebroker_pid" --settle 1 --json "$work/idle.json" \
        >/dev/null || return 0
    jq '. + {target: "teep-broker"}' "$work/idle.json" \
        >"$out/idle-$transport-teep-broker.json"
}
coap_steps=8000
[ $coap_steps -lt $((nofile - 200)) ] || coap_steps=$((nofile - 200))
[ -z "$idlebroker_ws" ] || session_idle ws "$idlebroker_ws" 100,1000
kill -TERM "$idlebroker_pid"
start_broker idlebroker
[ -z "$idlebroker_coap" ] || session_idle coap "$idlebroker_coap" \
    "1000,$coap_steps"

# 6b. Idle HTTP agents at 10k, 50k and 100k: several broker instances on
# one port (SO_REUSEPORT), fresh ones for each step.
"$top/bench/run-idle-multi.sh" "$build" "$out" || say "run-idle-multi.sh failed"
fi

# 7. Where the broker's time goes under load, per ingress: shares by
# object and top symbols, which results.sh turns into the reasons of the
# goals record.
if ! want 7; then
    :
elif perf_ok; then
    for kind in http ws coap; do
        eval "port=\$broker_$kind"
        [ -n "$port" ] || continue
        say "perf profile of teep-broker under closed-loop $kind load"
        perf_profile "$broker_pid" 3 "perf-broker-$kind"
        "$bin/teep-bench" --url "$kind://127.0.0.1:$port/tam" \
            --body "$work/body" --pid "$broker_pid" --target teep-broker \
            --connections 64 --seconds 3 --warmup 0.2 --sources 64 \
            --json "$out/profile-load-$kind.json" >/dev/null || true
        wait "$perf_pid" || true
        perf_report "perf-broker-$kind"
    done
else
    echo "perf cannot sample here" >"$out/perf-broker-http-dso.txt"
fi

# 8. End to end: the real teep-tam, directly and through teep-broker.
if want 8; then
    "$top/bench/run-e2e.sh" "$build" "$out" "$rounds" ||
        say "run-e2e.sh failed"
fi

if want 9; then
    say "writing bench/RESULTS.md and the plots"
    "$top/bench/results.sh" "$out"
fi
say "done in $(($(date +%s) - started)) s"
