#!/bin/sh
# teep-ot-demo: the oblivious-transfer scenario measured end to end
# (examples/ot/README.md).  It starts teep-tam, teep-broker and a device
# (teep-agent with the sim TEE, process instance, UA gateway), deploys the
# ot-lookup TA with its record table as personalization data in package
# mode 5 ((TA, PD): att; TA&PD -> Trusted Process), then the Collector
# attests it and queries it through the gateway (CC-OT).  For every N of
# --records it measures CC-OT, classic 1-out-of-N OT and the whole-table
# download, prints the table, and with --write also a gnuplot PNG and
# the sections of bench/RESULTS.md and examples/ot/README.md.
#
# Each N gets a fresh TAM, broker and device: the N-record table is the
# TA's personalization data (25.6 MB at N = 100,000), streamed to the TA
# over its channel (plugins/tee/sim/sim_channel.h).  After the deployment
# the device attests once more, so that its Evidence names the key the
# running TA registered with the TEE (ta-keys); the Collector checks that
# key against the one the TA hands it before any query.
#
# Usage: teep-ot-demo [--records "1000 10000 100000"] [--record-size 256]
#                     [--queries 10] [--write SRCDIR] [--keep]
# Every process it starts is stopped before it exits.
set -eu

bin=$(cd "$(dirname "$0")" && pwd)
records="1000 10000 100000"
size=256
queries=10
write=""
keep=0
while [ $# -gt 0 ]; do
    case $1 in
    --records) records=$2; shift ;;
    --record-size) size=$2; shift ;;
    --queries) queries=$2; shift ;;
    --write) write=$2; shift ;;
    --keep) keep=1 ;;
    *) sed -n '19,20p' "$0" >&2; exit 2 ;;
    esac
    shift
done
for b in teep-tam teep-broker teep-agent teep ot-lookup-ta ot-collector; do
    [ -x "$bin/$b" ] || { echo "teep-ot-demo: $bin/$b missing: build first" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/teep-ot-demo.XXXXXX")
pids=""
stop_all() {
    for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $pids; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 30 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -KILL "$p" 2>/dev/null || true
    done
    pids=""
}
cleanup() {
    stop_all
    if [ $keep = 1 ]; then
        echo "teep-ot-demo: logs and state kept in $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
    echo "teep-ot-demo: $*" >&2
    for f in "$work"/*.log "$work"/*.err "$work"/*/*.log "$work"/*/*.err; do
        [ -f "$f" ] && { echo "---- $f" >&2; tail -n 15 "$f" >&2; }
    done
    exit 1
}
wait_line() { # FILE PATTERN
    i=0
    until grep -q "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 300 ] && die "timed out waiting for '$2' in $1"
        sleep 0.1
    done
}

# 1. One N through TEEP: the TAM, the broker in front of it, the device
#    behind the broker; the TA deployed in mode 5 with the N-record table
#    as its PD; a second attestation that binds the TA's key; the
#    Collector's measurement.  Everything is stopped at the end.
teep_round() { # N FIRST(1: also the wrong-binary refusal)
    n=$1
    w="$work/n$n"
    mkdir -p "$w"
    # The Agent's Success carries a SUIT report whose records repeat the
    # parameters the manifest's commands consumed, the encrypted table
    # among them: the TAM takes TEEP bodies of up to 64 MiB here.
    "$bin/teep-tam" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
        --data "$w/tam" --lifetime 1800 --max-message 67108864 \
        >"$w/tam.out" 2>"$w/tam.err" &
    pids="$pids $!"
    wait_line "$w/tam.out" 'admin API'
    tam_port=$(sed -n 's|.*TEEP endpoint http://127.0.0.1:\([0-9]*\).*|\1|p' "$w/tam.out")
    admin_url=http://127.0.0.1:$(sed -n 's|.*admin API http://127.0.0.1:\([0-9]*\).*|\1|p' "$w/tam.out")
    tam_url=http://127.0.0.1:$tam_port/tam
    tam() { "$bin/teep-tam" admin --url "$admin_url" --data "$w/tam" "$@"; }
    # The Update carries the whole table, and the Success the same again:
    # the broker relays messages of up to 64 MiB both ways (its defaults
    # are 1 MiB from the TAM, 256 KiB from a device), as teep-agent
    # accepts them.
    cat >"$w/broker.conf" <<CONF
workers = 2;
listeners = ( { uri = "ws://127.0.0.1:0/tam";
                options = { max_message = 67108864; }; } );
default_route = "main";
routes = ( { name = "main"; endpoints = [ "$tam_url" ];
             max_response = 67108864; read_timeout_ms = 120000; } );
CONF
    "$bin/teep-broker" -c "$w/broker.conf" >"$w/broker.out" 2>"$w/broker.log" &
    pids="$pids $!"
    wait_line "$w/broker.log" 'event=ready'
    broker_ws=$(sed -n 's|.*event=listening uri=\(ws://[^ ]*\).*|\1|p' "$w/broker.log" | head -1)
    agent() {
        "$bin/teep-agent" --state "$w/dc" --tam-key "$w/tam/tam-esp256.pub.pem" \
            --tc-signer "$w/tam/tc-signer.pub.pem" --device data-center "$@"
    }
    agent --broker "$tam_url" --export-keys "$w/keys" 2>>"$w/agent.log" ||
        die "device keys"
    dev=$(tam --get id device add data-center --teep-key "$w/keys/teep-key.pub.pem" \
        --attestation-key "$w/keys/attestation-key.pub.pem")
    ta=$(tam --get id package add ta ot-lookup "$bin/ot-lookup-ta")
    dep=$(tam --get id deployment add ot --mode 5 --type process --ta "$ta" --device "$dev")
    # Started directly, not through the function: $! must be teep-agent's
    # own pid for the signals below to reach it.
    "$bin/teep-agent" --state "$w/dc" --tam-key "$w/tam/tam-esp256.pub.pem" \
        --tc-signer "$w/tam/tc-signer.pub.pem" --device data-center \
        --broker "$broker_ws" --ua-socket "$w/ua.sock" 2>>"$w/agent.log" &
    agent_pid=$!
    pids="$pids $agent_pid"
    tam deployment wait "$dep" --for waiting-pd --timeout 60 >/dev/null ||
        die "the device did not attest"
    # The Data Center encrypts its table to the attested key and uploads
    # it; the next session installs TA and table together.
    "$bin/ot-collector" mktable "$n" "$size" "$w/table.bin"
    tam device attested-key "$dev" --out "$w/pd.pem" >/dev/null
    "$bin/teep" pd encrypt --to "$w/pd.pem" --out "$w/table.pd" "$w/table.bin"
    tam pd upload "$dep" "$dev" "$w/table.pd" \
        --plaintext "$w/table.bin" --name records >/dev/null
    t0=$(date +%s.%N)
    kill -USR1 "$agent_pid"
    tam deployment wait "$dep" --for "done" --timeout 300 >/dev/null ||
        die "the deployment did not finish (N = $n)"
    wait_line "$w/agent.log" 'ot-lookup-ta: table of'
    secs=$(echo "$t0 $(date +%s.%N)" | awk '{printf "%.1f", $2 - $1}')
    # Peak memory of the device (teep-agent, the Agent in its sim TEE).
    rss=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$agent_pid/status")
    # The Evidence of that session came before the TA ran: one more
    # attestation, whose Evidence names the running TA's key (ta-keys).
    att0=$(tam --get attestation device attested-key "$dev")
    kill -USR1 "$agent_pid"
    i=0
    while att1=$(tam --get attestation device attested-key "$dev") &&
        [ "$att1" = "$att0" ]; do
        i=$((i + 1))
        [ $i -gt 300 ] && die "no attestation after the deployment"
        sleep 0.1
    done
    echo "   device $dev, deployment $dep (mode 5): ot-lookup with $n x $size B" \
        "($(wc -c <"$w/table.pd") B encrypted PD) in ${secs} s, device peak" \
        "RSS ${rss} MiB; attestation $att1 binds the TA's key"
    run cc --gateway "$w/ua.sock" --admin "$admin_url" \
        --token-file "$w/tam/admin.token" --device "$dev" --deployment "$dep" \
        --package "$ta" --ta-binary "$bin/ot-lookup-ta" --queries "$queries"
    if [ "$2" = 1 ]; then
        # A Collector that audited another binary must refuse before any
        # query.
        if "$bin/ot-collector" cc --gateway "$w/ua.sock" --admin "$admin_url" \
            --token-file "$w/tam/admin.token" --device "$dev" --deployment "$dep" \
            --package "$ta" --ta-binary "$bin/teep" --queries 1 \
            >/dev/null 2>"$w/refusal.err"; then
            die "a Collector expecting another TA binary queried it"
        fi
        grep -q "no query is sent" "$w/refusal.err" ||
            die "the wrong-binary Collector failed for another reason"
        echo "   a Collector that audited another binary: refused before any query"
    fi
    stop_all
}

# 2. The measurements: one line per protocol and N.
run() { # ARGS...: one ot-collector run, its result line appended
    "$bin/ot-collector" "$@" >>"$work/results" 2>>"$work/collector.err" ||
        die "ot-collector $1 failed"
    tail -n 1 "$work/results" | sed 's/^/   /'
}
first=1
for n in $records; do
    echo "== N = $n: TAM, broker, device (sim TEE, process); the table as PD"
    teep_round "$n" "$first"
    first=0
    q=$queries
    # Classic OT encrypts all N records per query: fewer queries at 100k.
    [ "$n" -ge 100000 ] && [ "$q" -gt 3 ] && q=3
    run classic --table "$work/n$n/table.bin" --queries "$q"
    run download --table "$work/n$n/table.bin" --queries "$q"
    rm -f "$work/n$n/table.bin" "$work/n$n/table.pd"
done

# 5. The table.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
table_md() {
    echo "| protocol | N | record | queries | bytes / query | wall ms / query | CPU ms / query |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    while read -r line; do
        printf '| %s | %s | %s B | %s | %s | %s | %s |\n' \
            "$(echo "$line" | sed 's/^proto=\([^ ]*\).*/\1/')" \
            "$(echo " $line" | field n)" "$(echo " $line" | field size)" \
            "$(echo " $line" | field queries)" "$(echo " $line" | field bytes)" \
            "$(echo " $line" | field wall_ms)" "$(echo " $line" | field cpu_ms)"
    done <"$work/results"
}
echo
echo "== results (bytes both directions at the Collector's socket)"
table_md | tee "$work/table.md"

[ -n "$write" ] || exit 0
# 6. The plot (optional: gnuplot may be missing) and the documents.
for p in cc-ot classic download; do
    grep "^proto=$p " "$work/results" | while read -r line; do
        echo "$(echo " $line" | field n) $(echo " $line" | field bytes)"
    done >"$work/$p.dat"
done
png="$write/examples/ot/ot-bytes.png"
if command -v gnuplot >/dev/null 2>&1; then
    gnuplot <<GP
set terminal png size 800,500
set output "$png"
set logscale xy
set xlabel "records N (record size $size B)"
set ylabel "bytes on the wire per query"
set key left top
set grid
plot "$work/classic.dat" with linespoints title "classic 1-out-of-N OT", \
     "$work/download.dat" with linespoints title "download the table", \
     "$work/cc-ot.dat" with linespoints title "CC-OT through TEEP (sim TEE)"
GP
    echo "   plot: $png"
else
    echo "   gnuplot missing: no plot"
fi
section() { # MARKER FILE
    {
        echo "<!-- $1:begin -->"
        echo "Measured by \`teep-ot-demo --write\` on $(date -u +%Y-%m-%d)," \
            "$(nproc) CPUs, record size $size B. Bytes: both directions," \
            "counted at the Collector's socket. CPU: Collector + server (classic," \
            "download: both threads of one process) or Collector + TA (CC-OT; the" \
            "broker, Agent and UA gateway are not counted). \`cc-ot\` ran through" \
            "TEEP for every N: mode 5, the table as the TA's personalization data" \
            "in the sim TEE, queried via the UA gateway after the Collector checked" \
            "the attested TA key."
        echo
        cat "$work/table.md"
        echo
        [ -f "$png" ] && echo "![bytes per query against N]($2)"
        echo "<!-- $1:end -->"
    } >"$work/section"
    f=$3
    if grep -q "<!-- $1:begin -->" "$f" 2>/dev/null; then
        awk -v s="$work/section" -v b="<!-- $1:begin -->" -v e="<!-- $1:end -->" '
            $0 == b { while ((getline l < s) > 0) print l; skip = 1; next }
            $0 == e { skip = 0; next }
            !skip { print }' "$f" >"$work/doc" && cat "$work/doc" >"$f"
    else
        { echo; cat "$work/section"; } >>"$f"
    fi
}
section ot ot-bytes.png "$write/examples/ot/README.md"
section ot ../examples/ot/ot-bytes.png "$write/bench/RESULTS.md"
echo "   wrote the ot sections of examples/ot/README.md and bench/RESULTS.md"
