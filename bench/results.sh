#!/bin/sh
# bench/results.sh: bench/RESULTS.md's suite section and the plots, from
# the JSON files bench/run-suite.sh left in OUT_DIR (default bench/out).
# Every figure is read from those files; none is typed in.  RESULTS_MD
# and PLOTS_DIR (default bench/RESULTS.md and bench/plots) let a copy be
# written instead, e.g. while working on the suite.
#
# Usage: bench/results.sh [OUT_DIR [RESULTS_MD [PLOTS_DIR]]]
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/bench/out}
results=${2:-$top/bench/RESULTS.md}
plots=${3:-$top/bench/plots}
mkdir -p "$plots"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/teep-results.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The run of FILES with the median rate, as one JSON object.
median() { jq -s 'sort_by(.rate) | .[(length - 1) / 2 | floor]' "$@"; }
num() { jq -r "$1 // \"-\" | if type == \"number\" then (. * 10 | round / 10) else . end" "$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else printf "-" }'; }

targets="direct teep-broker haproxy nginx"
for t in $targets; do
    ls "$out"/closed-"$t"-*.json >/dev/null 2>&1 || continue
    median "$out"/closed-"$t"-*.json >"$tmp/closed-$t.json"
done
rate() { jq -r '.rate | floor' "$tmp/closed-$1.json" 2>/dev/null || echo 0; }
broker=$(rate teep-broker)
haproxy=$(rate haproxy)
nginx=$(rate nginx)
direct=$(rate direct)
first=$(ls "$out"/closed-*.json | head -n 1)
date=$(jq -r .date "$first" | sed 's/T/ /; s/:[0-9]*Z$/ UTC/')
machine=$(jq -r .machine "$first")
rounds=$(ls "$out"/closed-teep-broker-*.json | wc -l)

{
echo "## The standard suite: teep-bench next to HAProxy, nginx and the upstream"
echo
echo "Measured by \`bench/run-suite.sh\` (\`teep-bench\`, docs/bench.md) on $date ($machine," \
    "shared with other work: compare figures within this run only).  The replay TAM" \
    "(\`teep-replay-tam\`, canned pre-signed answers) is the upstream of every target; each" \
    "target runs one worker thread, the agents one libuv loop on the same machine.  An" \
    "exchange: POST of the vector QueryResponse (195 bytes) answered by the vector Update" \
    "(471 bytes).  CPU per exchange: the target's own user + system time over the measured" \
    "window (/proc/PID/stat) divided by the exchanges; RSS: its VmRSS.  Latency percentiles" \
    "come from teep-bench's log-linear histogram (within 1.6 %)."
echo
echo "### HTTP relay, closed loop (64 agents, 3 s after 0.5 s warm-up, median of $rounds rounds by rate)"
echo
echo "| target | exchanges/s | / HAProxy | / direct | p50 us | p90 us | p99 us | p99.9 us | CPU us/exchange | RSS kB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for t in $targets; do
    f=$tmp/closed-$t.json
    [ -f "$f" ] || continue
    label=$t
    [ "$t" = direct ] && label="replay TAM directly (the limit)"
    echo "| $label | $(rate "$t") | $(ratio "$(rate "$t")" "$haproxy") | $(ratio "$(rate "$t")" "$direct") | $(num .latency_us.p50 "$f") | $(num .latency_us.p90 "$f") | $(num .latency_us.p99 "$f") | $(num .latency_us.p999 "$f") | $(num .cpu_us_per_exchange "$f") | $(num .rss_kb "$f") |"
done
echo
# open_cell RUNS MEDIAN: one open-loop table cell ("rate, p50 / p99") from
# the run with the median p99 among the files RUNS-*.json (kept in MEDIAN),
# its p50 and p99 appended to $line for the plot; " - |" and NaN without runs.
open_cell() {
    if ls "$1"-*.json >/dev/null 2>&1; then
        jq -s 'sort_by(.latency_us.p99) | .[(length - 1) / 2 | floor]' "$1"-*.json >"$2"
        printf " %s, %s / %s |" "$(jq -r '.rate | floor' "$2")" "$(num .latency_us.p50 "$2")" "$(num .latency_us.p99 "$2")"
        line="$line $(jq -r '.latency_us.p50' "$2") $(jq -r '.latency_us.p99' "$2")"
    else
        printf " - |"
        line="$line NaN NaN"
    fi
}
echo "### HTTP relay, open loop (fixed arrival rate; latency from when each exchange was due)"
echo
open_n=$(ls "$out"/open-teep-broker-*.json 2>/dev/null | sed 's/.*-\([0-9]*\)\.json/\1/' | sort -u | wc -l)
echo "Offered load as a fraction of teep-broker's closed-loop rate; 2 s after 0.5 s warm-up," \
    "up to 256 connections, $open_n rounds, the run with the median p99 reported$([ "$open_n" -ne 2 ] || echo " (of two, the lower)").  Cells: achieved exchanges/s, p50 / p99 us.  Each exchange is" \
    "sent at its own due time (a timerfd re-armed to the next one), so no burst of the" \
    "generator's queues exchanges behind each other; what the p99s add is this shared machine's" \
    "scheduling, for every target alike."
echo
printf "| offered | offered /s |"
for t in $targets; do printf " %s |" "$t"; done
echo
printf "|---:|---:|"
for t in $targets; do printf -- "---:|"; done
echo
: >"$tmp/open.dat"
for pct in $(ls "$out"/open-*.json | sed 's/.*-\([0-9]*\)-[0-9]*\.json/\1/' | sort -nu); do
    offered=$(jq -r '.offered_rate | floor' "$(ls "$out"/open-*-"$pct"-*.json | head -n 1)")
    printf "| %s %% | %s |" "$pct" "$offered"
    line="$offered"
    for t in $targets; do
        open_cell "$out/open-$t-$pct" "$tmp/open-$t-$pct.json"
    done
    echo
    echo "$line" >>"$tmp/open.dat"
done
echo
echo "![latency against offered load](plots/latency-http.png)"
echo

# open_ingress: the open-loop ingress tables (openin-KIND-TARGET-PCT-R
# files), one per transport, with KIND's plot data in tmp/openin-KIND.dat
# (offered, then p50 and p99 of each target of openin_targets).
openin_targets="teep-broker coap-server"
open_ingress() {
    for k in ws coap; do
        ls "$out"/openin-$k-*.json >/dev/null 2>&1 || continue
        n=$(ls "$out"/openin-$k-teep-broker-*.json 2>/dev/null | sed 's/.*-\([0-9]*\)\.json/\1/' | sort -u | wc -l)
        label=WebSocket
        [ $k = ws ] || label=CoAP
        echo "#### $label ingress, open loop (latency against offered load)"
        echo
        echo "Offered load as a fraction of the $label closed-loop rate above; 2 s after" \
            "0.5 s warm-up, up to 256 agents, $n rounds, the run with the median p99" \
            "reported$([ "$n" -ne 2 ] || echo " (of two, the lower)").  Cells: achieved" \
            "exchanges/s, p50 / p99 us.$([ $k = ws ] || echo "  Against coap-server, the" \
                "same CoAP agents send GET as in the closed-loop baseline above.")"
        echo
        printf "| offered | offered /s |"
        for t in $openin_targets; do
            ls "$out"/openin-$k-$t-*.json >/dev/null 2>&1 && printf " %s |" "$t"
        done
        echo
        printf "|---:|---:|"
        for t in $openin_targets; do
            ls "$out"/openin-$k-$t-*.json >/dev/null 2>&1 && printf -- "---:|"
        done
        echo
        : >"$tmp/openin-$k.dat"
        for pct in $(ls "$out"/openin-$k-*.json | sed 's/.*-\([0-9]*\)-[0-9]*\.json/\1/' | sort -nu); do
            offered=$(jq -r '.offered_rate | floor' "$(ls "$out"/openin-$k-*-"$pct"-*.json | head -n 1)")
            printf "| %s %% | %s |" "$pct" "$offered"
            line="$offered"
            for t in $openin_targets; do
                ls "$out"/openin-$k-$t-*.json >/dev/null 2>&1 || continue
                open_cell "$out/openin-$k-$t-$pct" "$tmp/openin-$k-$t-$pct.json"
            done
            echo
            echo "$line" >>"$tmp/openin-$k.dat"
        done
        echo
        echo "![$label latency against offered load](plots/latency-$k.png)"
        echo
    done
}

# WebSocket and CoAP ingress, each against HTTP ingress of the same
# rounds (teep-bench's agents of each transport, the same exchange).
echo "### Ingress: WebSocket and CoAP next to HTTP on the same broker (64 agents, 3 s, median by rate)"
echo
ws_rate=0
coap_rate=0
http_ws=0
http_coap=0
if ls "$out"/ingress-http-*.json >/dev/null 2>&1; then
    echo "Each round runs 64 \`teep-bench\` agents of each transport in turn against the one" \
        "broker, one exchange outstanding per agent (closed loop): HTTP/1.1 keep-alive" \
        "connections, WebSocket connections (one binary message each way), CoAP sessions" \
        "(CON POST, separate 2.04 response; from 127.0.0.2..65, as the broker limits each" \
        "source address).  The exchange is the same for all three.  The baseline:" \
        "libcoap's \`coap-server\` (4.3.1, one thread) cannot relay CoAP to an HTTP TAM, so" \
        "it answers the same sizes from memory, the CoAP stack's own limit as the replay TAM" \
        "directly is HTTP's: its example_data resource holds the vector Update (471 bytes," \
        "stored once by a PUT) and the same agents send the QueryResponse (195 bytes) to it" \
        "as a CON GET, answered by 2.05 piggybacked on the ACK (the broker answers POST with" \
        "a separate 2.04: one datagram more per exchange).  CPU: the server's (broker's or" \
        "coap-server's) user + system time per exchange."
    echo
    echo "| ingress | exchange | exchanges/s | p50 us | p99 us | p99.9 us | / HTTP ingress | CPU us/exchange |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|"
    median "$out"/ingress-http-*.json >"$tmp/h.json"
    hr=$(jq -r '.rate | floor' "$tmp/h.json")
    exch="QueryResponse -> Update"
    row() { echo "| $1 | $exch | $2 | $(num .latency_us.p50 "$3") | $(num .latency_us.p99 "$3") | $(num .latency_us.p999 "$3") | $(ratio "$2" "$hr") | $(num .cpu_us_per_exchange "$3") |"; }
    row http "$hr" "$tmp/h.json"
    for a in ws coap; do
        ls "$out"/ingress-"$a"-*.json >/dev/null 2>&1 || continue
        median "$out"/ingress-"$a"-*.json >"$tmp/a.json"
        ar=$(jq -r '.rate | floor' "$tmp/a.json")
        row "$a" "$ar" "$tmp/a.json"
        case $a in
        ws) ws_rate=$ar http_ws=$hr ;;
        coap) coap_rate=$ar http_coap=$hr ;;
        esac
    done
    if ls "$out"/baseline-coap-server-*.json >/dev/null 2>&1; then
        median "$out"/baseline-coap-server-*.json >"$tmp/a.json"
        exch="GET, 195 B -> 2.05, 471 B from memory"
        row "libcoap coap-server (static answer, the CoAP limit)" \
            "$(jq -r '.rate | floor' "$tmp/a.json")" "$tmp/a.json"
    fi
    echo
    open_ingress
else
    echo "Not measured in this run: the WebSocket and CoAP plugins were not built."
fi
echo

# Idle agents.
echo "### Idle agents: bytes per idle connection"
echo
echo "Each agent does one exchange, then stays connected and silent; HTTP agents connect from" \
    "127.0.0.2 onwards.  Bytes per agent: the target's VmRSS growth over the agents held." \
    "WebSocket agents and CoAP sessions: \`teep-bench idle --batch 8\` with a ws:// and a" \
    "coap:// URL, each against a fresh broker, 8 agents at a time between start and answer" \
    "(CoAP sessions and WebSocket agents from 127.0.0.2..65; the broker takes 1 000" \
    "WebSocket connections per address).  CoAP sessions stop below libcoap's" \
    "max_sessions (8 192), past which the broker drops the oldest idle ones."
echo
echo "| target | transport | agents held | RSS before kB | RSS after kB | bytes per idle agent |"
echo "|---|---|---:|---:|---:|---:|"
: >"$tmp/rss.dat"
ws_idle="-"
coap_idle="-"
for f in "$out"/idle-*.json; do
    [ -f "$f" ] || continue
    t=$(jq -r .target "$f")
    tr=$(jq -r .transport "$f")
    jq -r --arg t "$t" --arg tr "$tr" '.rss_kb_before as $b | .steps[] |
        "| \($t) | \($tr) | \(.agents_idle) | \($b) | \(.rss_kb) | \(.bytes_per_idle_agent // "-") |"' "$f"
    jq -r --arg k "$t/$tr" '.rss_kb_before as $b | "\($k) 0 \($b)", (.steps[] | "\($k) \(.agents_idle) \(.rss_kb)")' "$f" >>"$tmp/rss.dat"
    b=$(jq -r '.steps[-1].bytes_per_idle_agent // "-"' "$f")
    [ "$tr/$t" = ws/teep-broker ] && ws_idle=$b
    [ "$tr/$t" = coap/teep-broker ] && coap_idle=$b
done
# 10k, 50k and 100k idle HTTP agents: several broker instances
# (bench/run-idle-multi.sh).
multi=$out/ramp-http-teep-broker.json
nofile=$(jq -r '.nofile_hard // empty' "$out"/idle-http-teep-broker.json 2>/dev/null || true)
reached=$(jq -r '.steps[-1].agents_idle' "$out"/idle-http-teep-broker.json 2>/dev/null || echo 0)
echo
if [ -f "$multi" ]; then
    per=$(jq -r .agents_per_instance_max "$multi")
    hard=$(jq -r .nofile_hard "$multi")
    echo "#### 10k, 50k and 100k idle HTTP agents: above $per agents, several teep-broker instances"
    echo
    echo "One process holds at most $hard descriptors on this machine (the hard RLIMIT_NOFILE;" \
        "the container lacks CAP_SYS_RESOURCE to raise it), so **above $per agents these" \
        "figures are several teep-broker instances**, as a deployment behind a load balancer" \
        "runs them: for N agents, ceil(N / $per) one-worker processes share the listening port" \
        "with SO_REUSEPORT (the kernel spreads the connections over them), fresh for each step," \
        "and ceil(N / 16000) \`teep-bench idle\` processes connect from 127.0.0.2..9" \
        "(\`bench/run-idle-multi.sh\`).  Bytes per idle agent = (sum of the instances' VmRSS" \
        "with the agents held - their sum before the first agent) / agents held."
    echo
    echo "| agents wanted | agents held | instances | RSS before kB (sum) | RSS after kB (sum) | RSS per instance kB | bytes per idle agent |"
    echo "|---:|---:|---:|---:|---:|---|---:|"
    jq -r '.steps[] | "| \(.agents_wanted) | \(.agents_idle) | \(.instances) | \(.rss_kb_before) | \(.rss_kb) | \(.rss_kb_per_instance | map(tostring) | join(", ")) | \(.bytes_per_idle_agent // "-") |"' "$multi"
    jq -r '"teep-broker/http-instances 0 \(.steps[0].rss_kb_before)", (.steps[] | "teep-broker/http-instances \(.agents_idle) \(.rss_kb)")' "$multi" >>"$tmp/rss.dat"
    echo
elif [ -n "$nofile" ] && [ "$nofile" -lt 100000 ]; then
    echo "50k and 100k idle agents were not measured in this run (bench/run-idle-multi.sh did" \
        "not run): one process holds at most $nofile descriptors here, and the ramp of one" \
        "instance stops at $reached."
    echo
fi
echo "![RSS against connected agents](plots/rss-agents.png)"
echo

# End to end (bench/run-e2e.sh).
bound=$(sed -n '/<!-- tam:begin -->/,/<!-- tam:end -->/p' "$results" |
    sed -n 's/^| \*\*exchange bound per core\*\* | \*\*\([0-9]*\)\*\* |$/\1/p')
e2e_direct=0
e2e_broker=0
tam_http_pct="-"
echo "### End to end: full TEEP exchanges with the real teep-tam, directly and through teep-broker"
echo
if ls "$out"/e2e-closed-direct-*.json >/dev/null 2>&1; then
    e2e_rounds=$(ls "$out"/e2e-closed-direct-*.json | wc -l)
    echo "\`teep-bench e2e\` (\`bench/run-e2e.sh\`): each exchange is a whole TEEP exchange over" \
        "HTTP with \`teep-tam\` (its default worker threads, SQLite in WAL mode): empty POST ->" \
        "QueryRequest (COSE_Sign, ESP256 + Ed25519); QueryResponse with EAT Evidence -> Update" \
        "(a SUIT manifest the TAM builds and signs for a package-mode-6 deployment); Success ->" \
        "204.  Every exchange uses a fresh device, registered with its keys and named in a" \
        "deployment through the admin API before the run (outside the measured window).  The" \
        "device side is the scripted Agent of tests/tam/peer.c on the bench's one loop; it" \
        "verifies, signs and runs the manifest on the same two cores as the TAM and the broker" \
        "(one worker).  Closed loop: 16 agents, 3 s after 0.5 s warm-up, median of $e2e_rounds" \
        "rounds by rate; open loop: 64 agents at 75 % of the direct rate.  TAM CPU: teep-tam's" \
        "user + system time over the window / exchanges; broker CPU likewise for teep-broker."
    echo
    echo "| target | loop | exchanges/s | / direct | p50 us | p90 us | p99 us | p99.9 us | TAM CPU us/exchange | broker CPU us/exchange | errors |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    median "$out"/e2e-closed-direct-*.json >"$tmp/e2e-direct.json"
    e2e_direct=$(jq -r '.rate | floor' "$tmp/e2e-direct.json")
    for t in direct teep-broker; do
        for m in closed open; do
            if [ $m = closed ]; then
                ls "$out"/e2e-closed-"$t"-*.json >/dev/null 2>&1 || continue
                median "$out"/e2e-closed-"$t"-*.json >"$tmp/e2e.json"
                label="closed, 16 agents"
            else
                [ -f "$out/e2e-open-$t.json" ] || continue
                cp "$out/e2e-open-$t.json" "$tmp/e2e.json"
                label="open, $(jq -r '.offered_rate | floor' "$tmp/e2e.json")/s offered"
            fi
            r=$(jq -r '.rate | floor' "$tmp/e2e.json")
            [ $m = closed ] && [ $t = teep-broker ] && e2e_broker=$r
            name=$t
            [ $t = direct ] && name="teep-tam directly"
            [ $t = teep-broker ] && name="through teep-broker"
            vs=$(ratio "$r" "$e2e_direct")
            [ $m = closed ] || vs="-"
            echo "| $name | $label | $r | $vs | $(num .latency_us.p50 "$tmp/e2e.json") | $(num .latency_us.p90 "$tmp/e2e.json") | $(num .latency_us.p99 "$tmp/e2e.json") | $(num .latency_us.p999 "$tmp/e2e.json") | $(num .cpu_us_per_exchange "$tmp/e2e.json") | $(num .relay_cpu_us_per_exchange "$tmp/e2e.json") | $(jq -r .errors "$tmp/e2e.json") |"
        done
    done
    echo
    tam_cpu=$(jq -r '.cpu_us_per_exchange // 0' "$tmp/e2e-direct.json")
    if [ -n "$bound" ] && [ "$bound" -gt 0 ]; then
        tam_http_pct=$(awk -v b="$bound" -v c="$tam_cpu" 'BEGIN { if (c > 0) printf "%.0f%%", 100 * (1e6 / b) / c; else print "-" }')
        echo "Against the crypto bound of the TAM section above ($bound exchanges/s per core," \
            "$(awk -v b="$bound" 'BEGIN { printf "%.0f", 1e6 / b }') us of signatures and" \
            "verifications per exchange), teep-tam over HTTP spends $(awk -v c="$tam_cpu" 'BEGIN { printf "%.0f", c }')" \
            "us of CPU per exchange: **$tam_http_pct of the bound**."
        echo
    fi
else
    echo "Not measured in this run (bench/run-e2e.sh did not run)."
    echo
fi

# Goals, each with its reason from the profiles this run took.
http_bytes=$(jq -r '.steps[-1].bytes_per_idle_agent // "-"' "$out"/idle-http-teep-broker.json 2>/dev/null || echo -)
multi_bytes=$(jq -r '.steps[-1].bytes_per_idle_agent // "-"' "$multi" 2>/dev/null || echo -)
met() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || a == "") print "not measured"; else if (a + 0 >= b + 0) print "met"; else print "**not met**" }'; }
under() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || a == "") print "not measured"; else if (a + 0 <= b + 0) print "met"; else print "**not met**" }'; }
rel() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a > 0) printf "%.2f", a / b; else print "-" }'; }
# profiled PREFIX: whether OUT/PREFIX-dso.txt holds samples.
profiled() { [ -s "$out/$1-dso.txt" ] && ! grep -q cannot "$out/$1-dso.txt"; }
# profile_why PREFIX: the profile in one line: the top objects and
# symbols by share of the samples.
profile_why() {
    if ! profiled "$1"; then
        echo "not profiled in this run"
        return
    fi
    d=$(awk 'NR <= 4 { n = $2; sub(/\[kernel.kallsyms\]/, "the kernel", n); printf "%s%s %s", (NR > 1 ? ", " : ""), n, $1 }' "$out/$1-dso.txt")
    s=$(awk 'NR <= 3 { printf "%s`%s` %s", (NR > 1 ? ", " : ""), $3, $1 }' "$out/$1-sym.txt")
    echo "CPU samples by object: $d; top symbols: $s ($1)"
}
# cpu_of FILE: CPU us per exchange in a run's JSON, or -.
cpu_of() { jq -r '.cpu_us_per_exchange // "-" | if type == "number" then (. * 10 | round / 10) else . end' "$1" 2>/dev/null || echo -; }
# why STATUS TEXT: TEXT when the goal is not met.
why() { case $1 in *"not met"*) echo "$2" ;; *) echo "" ;; esac; }

echo "### Where we stand against the goals"
echo
echo "Measured in this run; the reason for each goal not met is read from the CPU profiles" \
    "the suite took (\`perf record -e cpu-clock\` on the target under the same load, section" \
    "below) and from the CPU each target spent per exchange."
echo
echo "| goal | measured | status | why (from this run's profiles) |"
echo "|---|---|---|---|"
r=$(rel "$broker" "$haproxy")
st=$(met "$r" 1.3)
cpu_b=$(cpu_of "$tmp/closed-teep-broker.json")
cpu_h=$(cpu_of "$tmp/closed-haproxy.json")
echo "| HTTP relay >= 1.3x HAProxy | ${r}x ($broker vs $haproxy exchanges/s) | $st | $(why "$st" "CPU per exchange: teep-broker $cpu_b us, HAProxy $cpu_h us; teep-broker's $(profile_why perf-broker-http)") |"
for k in ws coap; do
    if [ $k = ws ]; then a=$ws_rate h=$http_ws label=WebSocket; else a=$coap_rate h=$http_coap label=CoAP; fi
    r=$(rel "$a" "$h")
    st=$(met "$r" 1.0)
    ca=$(ls "$out"/ingress-$k-*.json >/dev/null 2>&1 && median "$out"/ingress-$k-*.json >"$tmp/c.json" && cpu_of "$tmp/c.json" || echo -)
    ch=$(ls "$out"/ingress-http-*.json >/dev/null 2>&1 && median "$out"/ingress-http-*.json >"$tmp/c.json" && cpu_of "$tmp/c.json" || echo -)
    echo "| $label ingress >= HTTP ingress | ${r}x ($a vs $h exchanges/s) | $st | $(why "$st" "broker CPU per exchange: $label $ca us, HTTP $ch us; under $label load, $(profile_why perf-broker-$k)") |"
done
st=$(under "$ws_idle" 1024)
echo "| <= 1 KiB per idle WebSocket agent | $ws_idle B | $st | $(why "$st" "memory, not CPU: RSS growth per idle WebSocket agent; an idle HTTP agent costs the same broker $http_bytes B (one instance)") |"
st=$(under "$coap_idle" 512)
echo "| <= 512 B per CoAP session | $coap_idle B | $st | $(why "$st" "memory, not CPU: RSS growth per idle CoAP session (libcoap's session); an idle HTTP agent costs $http_bytes B") |"
echo "| (no goal) bytes per idle HTTP agent | $http_bytes B (one instance), $multi_bytes B at $(jq -r '.steps[-1].agents_idle // "-"' "$multi" 2>/dev/null || echo -) agents over $(jq -r '.steps[-1].instances // "-"' "$multi" 2>/dev/null || echo -) instances | - | |"
tam_pct=$(sed -n '/<!-- tam:begin -->/,/<!-- tam:end -->/p' "$results" |
    awk -F'|' '/^\| 1 \| in memory/ { gsub(/ /, "", $7); print $7 }')
st=$(under 80 "${tam_pct%\%}")
[ -n "$tam_pct" ] || st="not measured"
echo "| TAM >= 80 % of the crypto bound | ${tam_pct:--} in-process (\`teep-bench-tam\`, section above); $tam_http_pct over HTTP (end to end above) | $st | $(why "$st" "teep-tam under the end-to-end closed loop: $(profile_why perf-tam)") |"
echo

echo "### Profiles"
echo
echo "\`perf record -e cpu-clock -g\` on one process for 3 s of closed-loop load (hardware" \
    "counters are not available in this container: software clock sampling); the share of its" \
    "samples by object, then the top symbols."
echo
any=""
for p in perf-broker-http:"teep-broker under HTTP relay load" \
    perf-broker-ws:"teep-broker under WebSocket ingress load" \
    perf-broker-coap:"teep-broker under CoAP ingress load" \
    perf-tam:"teep-tam under the end-to-end closed loop (direct)"; do
    f=${p%%:*} title=${p#*:}
    profiled "$f" || continue
    any=1
    kernel=$(awk '/kernel/ { sub("%", "", $1); k += $1 } END { printf "%.0f", k }' "$out/$f-dso.txt")
    echo "#### $title"
    echo
    echo "The kernel's share: $kernel %."
    echo
    echo '```'
    cat "$out/$f-dso.txt"
    echo
    cat "$out/$f-sym.txt"
    echo '```'
    echo
done
[ -n "$any" ] || echo "Not profiled: perf cannot sample in this environment."
} >"$tmp/section.md"

# Plots.
if command -v gnuplot >/dev/null; then
    cols=""
    i=2
    for t in $targets; do
        cols="$cols $t:$i"
        i=$((i + 2))
    done
    plot=""
    for c in $cols; do
        t=${c%%:*} n=${c#*:}
        plot="$plot\"$tmp/open.dat\" using 1:$((n + 1)) with linespoints title \"$t p99\", \"$tmp/open.dat\" using 1:$n with linespoints dashtype 2 title \"$t p50\", "
    done
    gnuplot -e "set terminal pngcairo size 900,540 noenhanced; set output '$plots/latency-http.png'" \
        -e "datafile='$tmp/open.dat'; plotcmd='plot ${plot%, }'" "$top/bench/plot-latency.gp" 2>"$tmp/gp.err" ||
        gnuplot -e "set terminal png size 900,540 noenhanced; set output '$plots/latency-http.png'" \
            -e "datafile='$tmp/open.dat'; plotcmd='plot ${plot%, }'" "$top/bench/plot-latency.gp"
    # Open-loop ingress, one plot per transport: the targets it has, in
    # open_ingress's column order.
    for k in ws coap; do
        [ -s "$tmp/openin-$k.dat" ] || continue
        plot=""
        n=2
        for t in $openin_targets; do
            ls "$out"/openin-$k-$t-*.json >/dev/null 2>&1 || continue
            plot="$plot\"$tmp/openin-$k.dat\" using 1:$((n + 1)) with linespoints title \"$t p99\", \"$tmp/openin-$k.dat\" using 1:$n with linespoints dashtype 2 title \"$t p50\", "
            n=$((n + 2))
        done
        title="$k ingress, open loop: latency against offered load"
        gnuplot -e "set terminal pngcairo size 900,540 noenhanced; set output '$plots/latency-$k.png'" \
            -e "plottitle='$title'; plotcmd='plot ${plot%, }'" "$top/bench/plot-latency.gp" 2>>"$tmp/gp.err" ||
            gnuplot -e "set terminal png size 900,540 noenhanced; set output '$plots/latency-$k.png'" \
                -e "plottitle='$title'; plotcmd='plot ${plot%, }'" "$top/bench/plot-latency.gp"
    done
    plot=""
    for k in $(awk '{print $1}' "$tmp/rss.dat" | sort -u); do
        awk -v k="$k" '$1 == k { print $2, $3 }' "$tmp/rss.dat" | sort -n >"$tmp/rss-$(echo "$k" | tr / _).dat"
        plot="$plot\"$tmp/rss-$(echo "$k" | tr / _).dat\" using 1:(\$2/1024) with linespoints title \"$k\", "
    done
    gnuplot -e "set terminal pngcairo size 900,540 noenhanced; set output '$plots/rss-agents.png'" \
        -e "plotcmd='plot ${plot%, }'" "$top/bench/plot-rss.gp" 2>>"$tmp/gp.err" ||
        gnuplot -e "set terminal png size 900,540 noenhanced; set output '$plots/rss-agents.png'" \
            -e "plotcmd='plot ${plot%, }'" "$top/bench/plot-rss.gp"
fi

begin='<!-- suite:begin -->'
end='<!-- suite:end -->'
if grep -q "$begin" "$results" 2>/dev/null; then
    awk -v b="$begin" -v e="$end" -v f="$tmp/section.md" '
        $0 == b { print; while ((getline line < f) > 0) print line; skip = 1; next }
        $0 == e { skip = 0 }
        !skip { print }' "$results" >"$tmp/results.md"
    cp "$tmp/results.md" "$results"
else
    { echo; echo "$begin"; cat "$tmp/section.md"; echo "$end"; } >>"$results"
fi
echo "results: wrote the suite section of $results and $plots/*.png"
