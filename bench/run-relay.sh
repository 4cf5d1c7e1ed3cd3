#!/bin/sh
# bench/run-relay.sh: relay throughput and latency with 64 agent
# connections, through teep-broker and through HAProxy and nginx as
# reverse proxies in front of the same replay TAM, and against the replay
# TAM directly (the limit), in one run on 127.0.0.1.  Every target runs
# one worker thread; the load generator (teep-bench) runs one.
#
#   closed loop: 64 connections, one request outstanding on each: the
#                rate each target sustains;
#   half load:   every target at half the broker's rate (open loop), p50
#                and p99, and the p99 each proxy adds to the direct one.
#
# The machine is shared, so every measurement is repeated in ROUNDS rounds
# that visit the targets in turn (a burst of load elsewhere then hits all
# of them alike), and the run with the median figure is reported.
#
# The request is the vector QueryResponse (195 bytes), the answer the
# vector Update (471 bytes).  Figures go into bench/RESULTS.md between
# <!-- relay:begin --> and <!-- relay:end -->.
#
# Usage: bench/run-relay.sh [--install] [BUILD_DIR] [SECONDS] [ROUNDS]
#   --install   apt-get install haproxy and nginx-light when missing (the
#               benchmark's own dependencies, not the tests')
# TEEP_RELAY_RESULTS=FILE writes the section into FILE instead of
# bench/RESULTS.md ("-": print it only), for trial runs.
# TEEP_RELAY_BASELINE=DIR also measures DIR/bin/teep-broker (another
# build, e.g. before a change) as the target "baseline", in the same
# rounds.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" = "--install" ]; then
    shift
    missing=""
    command -v haproxy >/dev/null || missing="$missing haproxy"
    command -v nginx >/dev/null || missing="$missing nginx-light"
    if [ -n "$missing" ]; then
        SUDO=""
        [ "$(id -u)" -eq 0 ] || SUDO=sudo
        $SUDO apt-get update -qq
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
            --no-install-recommends $missing
    fi
fi
build=${1:-$top/build}
seconds=${2:-3}
rounds=${3:-3}
bin=$build/bin
for b in teep-broker teep-replay-tam teep-bench; do
    [ -x "$bin/$b" ] || { echo "run-relay: $bin/$b missing: build first" >&2; exit 2; }
done
have_haproxy=1
have_nginx=1
command -v haproxy >/dev/null || have_haproxy=0
command -v nginx >/dev/null || have_nginx=0

say_prefix=run-relay
started=$(date +%s)
. "$top/bench/lib.sh" # scratch, free_port, wait_port, field
scratch relay-bench

xxd -r -p "$top/tests/vectors/gen_tp26_query_response_cose_sign1_esp256.hex" \
    >"$work/body"

"$bin/teep-replay-tam" --quiet --lifetime 600 >"$work/tam.out" 2>&1 &
tam_pid=$!
pids="$pids $tam_pid"
i=0
until grep -q '^port' "$work/tam.out" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 100 ] && exit 1; sleep 0.05
done
tam=$(awk '/^port/{print $2}' "$work/tam.out")

broker=$(free_port)
"$bin/teep-broker" --listen "http://127.0.0.1:$broker" \
    --tam "http://127.0.0.1:$tam/tam" --workers 1 --quiet-exchanges \
    --admin 127.0.0.1:0 2>"$work/broker.log" &
broker_pid=$!
pids="$pids $broker_pid"
wait_port "$broker"
admin=$(grep -o 'admin_listening uri=http://127.0.0.1:[0-9]*' "$work/broker.log" |
    sed 's/.*://')

baseline_port=""
if [ -n "${TEEP_RELAY_BASELINE:-}" ]; then
    baseline_port=$(free_port)
    "$TEEP_RELAY_BASELINE/bin/teep-broker" \
        --listen "http://127.0.0.1:$baseline_port" \
        --tam "http://127.0.0.1:$tam/tam" --workers 1 --quiet-exchanges \
        2>"$work/baseline.log" &
    baseline_pid=$!
    pids="$pids $baseline_pid"
    wait_port "$baseline_port"
fi

if [ $have_haproxy = 1 ]; then
    haproxy_port=$(free_port)
    cat >"$work/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 4096
defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 2s
    timeout client 30s
    timeout server 30s
frontend agents
    bind 127.0.0.1:$haproxy_port
    default_backend tam
backend tam
    server tam 127.0.0.1:$tam maxconn 256
EOF
    haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
    haproxy_pid=$!
    pids="$pids $haproxy_pid"
    wait_port "$haproxy_port"
fi
if [ $have_nginx = 1 ]; then
    nginx_port=$(free_port)
    mkdir -p "$work/nginx"
    cat >"$work/nginx.conf" <<EOF
daemon off;
master_process off;
user root root;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    keepalive_requests 1000000;
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
EOF
    nginx -p "$work/nginx" -c "$work/nginx.conf" >"$work/nginx.log" 2>&1 &
    nginx_pid=$!
    pids="$pids $nginx_pid"
    wait_port "$nginx_port"
fi

# run PORT PID [--rate R]: one measurement, "rps=... p50_us=... cpu_us=..."
# on stdout (cpu_us: PID's user + system time per exchange).
run() {
    port=$1
    pid=$2
    shift 2
    "$bin/teep-bench" --url "http://127.0.0.1:$port/tam" \
        --body "$work/body" --connections 64 --seconds "$seconds" \
        --pid "$pid" "$@"
}

# Targets as NAME:PORT:PID (PID: the process whose CPU is counted; nginx
# runs without a master process so its one worker is that process).
targets="direct:$tam:$tam_pid teep-broker:$broker:$broker_pid"
[ -n "$baseline_port" ] && targets="$targets baseline:$baseline_port:$baseline_pid"
[ $have_haproxy = 1 ] && targets="$targets haproxy:$haproxy_port:$haproxy_pid"
[ $have_nginx = 1 ] && targets="$targets nginx:$nginx_port:$nginx_pid"

# measure MODE [--rate R]: every target, $rounds rounds; for each target
# the run with the median rate (closed loop) or the median p99 (half
# load) is kept in MODE_<target>.
measure() {
    mode=$1
    shift
    : >"$work/$mode.runs"
    r=1
    while [ $r -le "$rounds" ]; do
        for t in $targets; do
            rest=${t#*:}
            out=$(run "${rest%%:*}" "${rest#*:}" "$@")
            echo "    round $r ${t%%:*}: $out" >&2
            echo "${t%%:*} $out" >>"$work/$mode.runs"
        done
        r=$((r + 1))
    done
    for t in $targets; do
        name=${t%%:*}
        key=rps
        [ "$mode" = half ] && key=p99_us
        median=$(grep "^$name " "$work/$mode.runs" |
            sed "s/.* $key=\([0-9]*\).*/\1 &/" | sort -n |
            sed -n "$(((rounds + 1) / 2))p" | cut -d' ' -f3-)
        eval "${mode}_$(echo "$name" | tr -c 'a-z\n' '_')=\"$median\""
        # CPU per exchange: the median over the rounds on its own (the
        # rate or p99 median run need not be the median CPU one).
        cpu=$(grep "^$name " "$work/$mode.runs" |
            sed -n 's/.* cpu_us=\([0-9.]*\).*/\1/p' | sort -n |
            sed -n "$(((rounds + 1) / 2))p")
        eval "${mode}_cpu_$(echo "$name" | tr -c 'a-z\n' '_')=\"${cpu:--}\""
        echo "  $name: $median"
    done
}

echo "closed loop, 64 connections, ${seconds} s per run, median of $rounds:"
measure closed
broker_rps=$(field "$closed_teep_broker" rps)
half=$((broker_rps / 2))
echo "half load: $half requests/s (half the broker's rate), median p99 of $rounds:"
measure half --rate "$half"
copied=$(curl -s "http://127.0.0.1:$admin/metrics" |
    awk '/^teep_broker_payload_copied_bytes_total/{print $2}')

# The RESULTS.md section.
direct_p99=$(field "$half_direct" p99_us)
haproxy_rps=0
[ $have_haproxy = 1 ] && haproxy_rps=$(field "$closed_haproxy" rps)
{
    echo "## Relay: teep-broker next to HAProxy and nginx"
    echo
    echo "Measured by \`bench/run-relay.sh\` on $(date -u '+%Y-%m-%d %H:%M') UTC" \
        "($(uname -sm), $(nproc) CPUs shared with other work: the figures are" \
        "noisy, compare them within this run only).  One worker thread per" \
        "target, the replay TAM (\`teep-replay-tam\`) behind each, the load" \
        "generator (\`teep-bench\`) on the same machine; POST of the" \
        "vector QueryResponse (195 bytes) answered by the vector Update" \
        "(471 bytes); ${seconds} s per run after 0.5 s of warm-up, $rounds" \
        "rounds visiting the targets in turn, the median run reported" \
        "(closed loop: by rate; half load: by p99; CPU: the median of its own)."
    echo
    echo "| target | closed loop, 64 conns: req/s | p50 us | p99 us | CPU us/exchange | at $half req/s: p50 us | p99 us | added p99 us | CPU us/exchange |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    for t in $targets; do
        name=${t%%:*}
        var=$(echo "$name" | tr -c 'a-z\n' '_')
        eval "c=\$closed_$var; h=\$half_$var; cc=\$closed_cpu_$var; hc=\$half_cpu_$var"
        p99=$(field "$h" p99_us)
        if [ "$name" = direct ]; then
            added="-"
            label="replay TAM directly (the limit)"
        else
            added=$((p99 - direct_p99))
            label=$name
        fi
        echo "| $label | $(field "$c" rps) | $(field "$c" p50_us) | $(field "$c" p99_us) | $cc | $(field "$h" p50_us) | $p99 | $added | $hc |"
    done
    echo
    if [ "$haproxy_rps" -gt 0 ]; then
        echo "teep-broker / HAProxy throughput: $(awk "BEGIN{printf \"%.2f\", $broker_rps / $haproxy_rps}")x" \
            "(the issue's bar: 1.0x; the project's goal: 1.3x, with an added p99" \
            "under 100 us at half load)."
    fi
    if [ $have_haproxy = 1 ]; then
        echo "CPU per exchange at the same fixed rate (half load; the target's" \
            "user + system time over the run / exchanges, median of $rounds):" \
            "teep-broker $half_cpu_teep_broker us, HAProxy $half_cpu_haproxy us:" \
            "HAProxy spends $(awk -v h="$half_cpu_haproxy" -v b="$half_cpu_teep_broker" \
                'BEGIN { if (b > 0) printf "%.2f", h / b; else print "-" }')x" \
            "the broker's CPU per exchange.  Unlike closed-loop rates, every" \
            "target does the same work here, so how the two shared cores are split" \
            "between target, generator and TAM matters less (cache and scheduler" \
            "effects remain)."
    fi
    echo "Half load: the generator sends each request at its own scheduled" \
        "time (a timerfd re-armed to the next one, nanosecond resolution), so no" \
        "burst of its own queues requests behind each other, and latency counts" \
        "from that time.  Where a target's p50 is still tens of microseconds," \
        "it shows what that relay adds; milliseconds mean the two cores could" \
        "not carry generator (a wake-up per request), target and TAM at that" \
        "rate and requests queued.  The p99s hold this machine's scheduling noise (two cores shared by generator," \
        "target, TAM and other work: milliseconds for the direct target too" \
        "while other work runs), so an added p99 under 100 us shows only on a" \
        "quiet machine."
    echo "Payload bytes the broker copied during the run" \
        "(\`teep_broker_payload_copied_bytes_total\`): ${copied:-?}."
} >"$work/section.md"
cat "$work/section.md"

results=${TEEP_RELAY_RESULTS:-$top/bench/RESULTS.md}
[ "$results" = "-" ] && exit 0
begin='<!-- relay:begin -->'
end='<!-- relay:end -->'
if grep -q "$begin" "$results" 2>/dev/null; then
    awk -v b="$begin" -v e="$end" -v f="$work/section.md" '
        $0 == b { print; while ((getline line < f) > 0) print line; skip = 1; next }
        $0 == e { skip = 0 }
        !skip { print }' "$results" >"$work/results.md"
    cp "$work/results.md" "$results"
else
    { echo; echo "$begin"; cat "$work/section.md"; echo "$end"; } >>"$results"
fi
echo "run-relay: wrote the relay section of $results"
