#!/bin/sh
# bench/results.sh: bench/RESULTS.md's suite section and the plots, from
# the JSON files bench/run-suite.sh left in OUT_DIR (default bench/out).
# Every figure is read from those files; none is typed in.
#
# Usage: bench/results.sh [OUT_DIR]
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/bench/out}
plots=$top/bench/plots
results=$top/bench/RESULTS.md
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
echo "### HTTP relay, open loop (fixed arrival rate; latency from when each exchange was due)"
echo
echo "Offered load as a fraction of teep-broker's closed-loop rate; 2 s after 0.5 s warm-up," \
    "up to 256 connections, $rounds rounds, the run with the median p99 reported.  Cells: achieved exchanges/s, p50 / p99 us.  libuv's 1 ms timer" \
    "sends each millisecond's exchanges together, so up to 1 ms of each latency is the" \
    "generator's, for every target alike."
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
        f=$tmp/open-$t-$pct.json
        if ls "$out"/open-"$t"-"$pct"-*.json >/dev/null 2>&1; then
            jq -s 'sort_by(.latency_us.p99) | .[(length - 1) / 2 | floor]' \
                "$out"/open-"$t"-"$pct"-*.json >"$f"
            printf " %s, %s / %s |" "$(jq -r '.rate | floor' "$f")" "$(num .latency_us.p50 "$f")" "$(num .latency_us.p99 "$f")"
            line="$line $(jq -r '.latency_us.p50' "$f") $(jq -r '.latency_us.p99' "$f")"
        else
            printf " - |"
            line="$line NaN NaN"
        fi
    done
    echo
    echo "$line" >>"$tmp/open.dat"
done
echo
echo "![latency against offered load](plots/latency-http.png)"
echo

# WebSocket and CoAP ingress.
echo "### Ingress: WebSocket and CoAP next to HTTP on the same broker (64 agents, 3 s, median by rate)"
echo
ws_rate=0
coap_rate=0
http_ws=0
http_coap=0
if ls "$out"/ingress-*.json >/dev/null 2>&1; then
    echo "| ingress | agents (exchange) | exchanges/s | p50 us | p99 us | / HTTP ingress |"
    echo "|---|---|---:|---:|---:|---:|"
    for pair in ws-ws:ws-http coap-coap:coap-http; do
        a=${pair%%:*} h=${pair#*:}
        ls "$out"/ingress-"$a"-*.json >/dev/null 2>&1 || continue
        median "$out"/ingress-"$a"-*.json >"$tmp/a.json"
        median "$out"/ingress-"$h"-*.json >"$tmp/h.json"
        ar=$(jq -r '.rate | floor' "$tmp/a.json")
        hr=$(jq -r '.rate | floor' "$tmp/h.json")
        agents=$(jq -r '.agents // "teep-bench"' "$tmp/a.json")
        exch=$(jq -r '.exchange // "QueryResponse -> Update"' "$tmp/a.json")
        hagents=$(jq -r '.agents // "teep-bench"' "$tmp/h.json")
        echo "| ${a%%-*} | $agents ($exch) | $ar | $(num .latency_us.p50 "$tmp/a.json") | $(num .latency_us.p99 "$tmp/a.json") | $(ratio "$ar" "$hr") |"
        echo "| http (its twin) | $hagents ($exch) | $hr | $(num .latency_us.p50 "$tmp/h.json") | $(num .latency_us.p99 "$tmp/h.json") | 1.00x |"
        case $a in
        ws-*) ws_rate=$ar http_ws=$hr ;;
        coap-*) coap_rate=$ar http_coap=$hr ;;
        esac
    done
else
    echo "Not measured in this run: the WebSocket and CoAP plugins or their agents were not built."
fi
echo

# Idle agents.
echo "### Idle agents: bytes per idle connection"
echo
echo "Each agent does one exchange, then stays connected and silent; HTTP agents connect from" \
    "127.0.0.2 onwards.  Bytes per agent: the target's VmRSS growth over the agents held." \
    "WebSocket agents: \`teep-ws-load idle\`; CoAP sessions: \`coap-load --hold\`."
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
nofile=$(jq -r '.nofile_hard // empty' "$out"/idle-http-teep-broker.json 2>/dev/null || true)
reached=$(jq -r '.steps[-1].agents_idle' "$out"/idle-http-teep-broker.json 2>/dev/null || echo 0)
echo
if [ -n "$nofile" ] && [ "$nofile" -lt 100000 ]; then
    echo "50k and 100k idle agents are not measured on this machine: the hard limit on open" \
        "files is $nofile (RLIMIT_NOFILE; the container lacks CAP_SYS_RESOURCE to raise it), and" \
        "the target holds one descriptor per agent.  The ramp stops at $reached; on a host" \
        "with \`ulimit -Hn\` >= 110000 the same command goes to 100k."
    echo
fi
echo "![RSS against connected agents](plots/rss-agents.png)"
echo

# Goals.
http_bytes=$(jq -r '.steps[-1].bytes_per_idle_agent // "-"' "$out"/idle-http-teep-broker.json 2>/dev/null || echo -)
met() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || a == "") print "not measured"; else if (a + 0 >= b + 0) print "met"; else print "**short**" }'; }
under() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || a == "") print "not measured"; else if (a + 0 <= b + 0) print "met"; else print "**short**" }'; }
rel() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a > 0) printf "%.2f", a / b; else print "-" }'; }
echo "### Where we stand against the goals"
echo
echo "| goal | measured in this run | |"
echo "|---|---|---|"
r=$(rel "$broker" "$haproxy")
echo "| HTTP relay >= 1.3x HAProxy | ${r}x ($broker vs $haproxy exchanges/s) | $(met "$r" 1.3) |"
r=$(rel "$ws_rate" "$http_ws")
echo "| WebSocket ingress >= HTTP ingress | ${r}x ($ws_rate vs $http_ws) | $(met "$r" 1.0) |"
r=$(rel "$coap_rate" "$http_coap")
echo "| CoAP ingress >= HTTP ingress | ${r}x ($coap_rate vs $http_coap) | $(met "$r" 1.0) |"
echo "| <= 1 KiB per idle WebSocket agent | $ws_idle B | $(under "$ws_idle" 1024) |"
echo "| <= 512 B per CoAP session | $coap_idle B | $(under "$coap_idle" 512) |"
echo "| (no goal) bytes per idle HTTP agent | $http_bytes B | - |"
tam_pct=$(sed -n '/<!-- tam:begin -->/,/<!-- tam:end -->/p' "$results" |
    awk -F'|' '/^\| 1 \| in memory/ { gsub(/ /, "", $7); print $7 }')
echo "| TAM >= 80 % of the crypto bound | ${tam_pct:-not measured} (\`teep-bench-tam\`, section above; not re-measured here) | $(under 80 "${tam_pct%\%}" | sed 's/met/met/') |"
echo

echo "### Profile: teep-broker under closed-loop HTTP load"
echo
if [ -s "$out/perf-dso.txt" ] && ! grep -q 'cannot' "$out/perf-dso.txt"; then
    echo "\`perf record -e cpu-clock -g\` on the broker for 3 s of the closed loop (hardware" \
        "counters are not available in this container: software clock sampling)." \
        "Share of the broker's samples by object:"
    echo
    echo '```'
    cat "$out/perf-dso.txt"
    echo '```'
    echo
    kernel=$(awk '/kernel/ { sub("%", "", $1); k += $1 } END { printf "%.0f", k }' "$out/perf-dso.txt")
    parser=$(awk '/http_parser/ { sub("%", "", $1); k += $1 } END { printf "%.0f", k }' "$out/perf-dso.txt")
    echo "Why the relay is not further ahead of HAProxy: ${kernel} % of the broker's CPU is in the" \
        "kernel (loopback TCP, epoll, the scheduler's wake-ups: a read and a write per message on" \
        "the agent side and again on the upstream side), which every proxy pays alike; of the" \
        "rest, http_parser alone is ${parser} %.  A 1.3x lead has to come from fewer system" \
        "calls per exchange (batching reads and writes across connections of one loop" \
        "iteration, pipelining upstream requests on fewer connections), not from the relay's own" \
        "code.  On this machine the load generator and the replay TAM also share the two cores" \
        "with the target, so every target's rate is bounded well below what it would do alone."
    echo
    echo "The top symbols:"
    echo
    echo '```'
    cat "$out/perf-sym.txt"
    echo '```'
else
    echo "Not profiled: perf cannot sample in this environment."
fi
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
