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
# The sim hands PD to a TA in one channel packet of at most 64 KiB
# (plugins/tee/sim/sim_channel.h), so the table deployed through TEEP is
# the largest that fits (--teep-records); larger tables run the same TA
# binary outside the TEE with the table read locally, labelled cc-ot-local.
#
# Usage: teep-ot-demo [--records "1000 10000 100000"] [--record-size 256]
#                     [--queries 10] [--teep-records M] [--write SRCDIR]
#                     [--keep]
# Every process it starts is stopped before it exits.
set -eu

bin=$(cd "$(dirname "$0")" && pwd)
records="1000 10000 100000"
size=256
queries=10
teep_records=""
write=""
keep=0
while [ $# -gt 0 ]; do
    case $1 in
    --records) records=$2; shift ;;
    --record-size) size=$2; shift ;;
    --queries) queries=$2; shift ;;
    --teep-records) teep_records=$2; shift ;;
    --write) write=$2; shift ;;
    --keep) keep=1 ;;
    *) sed -n '18,20p' "$0" >&2; exit 2 ;;
    esac
    shift
done
# The largest table one PD packet carries (64 KiB, a 12-byte header).
[ -n "$teep_records" ] || teep_records=$(((65536 - 12) / size))
for b in teep-tam teep-broker teep-agent teep ot-lookup-ta ot-collector; do
    [ -x "$bin/$b" ] || { echo "teep-ot-demo: $bin/$b missing: build first" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/teep-ot-demo.XXXXXX")
pids=""
cleanup() {
    for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
    for p in $pids; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 30 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -KILL "$p" 2>/dev/null || true
    done
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
    for f in "$work"/*.log "$work"/*.err; do
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

# 1. The TAM, the broker in front of it, the device behind the broker.
echo "== starting teep-tam, teep-broker and the device (sim TEE, process)"
"$bin/teep-tam" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
    --data "$work/tam" --lifetime 1800 >"$work/tam.out" 2>"$work/tam.err" &
pids="$pids $!"
wait_line "$work/tam.out" 'admin API'
tam_port=$(sed -n 's|.*TEEP endpoint http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/tam.out")
admin_url=http://127.0.0.1:$(sed -n 's|.*admin API http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/tam.out")
tam_url=http://127.0.0.1:$tam_port/tam
tam() { "$bin/teep-tam" admin --url "$admin_url" --data "$work/tam" "$@"; }
"$bin/teep-broker" --listen ws://127.0.0.1:0/tam --tam "$tam_url" --workers 2 \
    >"$work/broker.out" 2>"$work/broker.log" &
pids="$pids $!"
wait_line "$work/broker.log" 'event=ready'
broker_ws=$(sed -n 's|.*event=listening uri=\(ws://[^ ]*\).*|\1|p' "$work/broker.log" | head -1)
agent() {
    "$bin/teep-agent" --state "$work/dc" --tam-key "$work/tam/tam-esp256.pub.pem" \
        --tc-signer "$work/tam/tc-signer.pub.pem" --device data-center "$@"
}
agent --broker "$tam_url" --export-keys "$work/keys" 2>>"$work/agent.log" ||
    die "device keys"
dev=$(tam --get id device add data-center --teep-key "$work/keys/teep-key.pub.pem" \
    --attestation-key "$work/keys/attestation-key.pub.pem")

# 2. The network user uploads the TA and deploys it in mode 5.
ta=$(tam --get id package add ta ot-lookup "$bin/ot-lookup-ta")
dep=$(tam --get id deployment add ot --mode 5 --type process --ta "$ta" --device "$dev")
echo "   device $dev, TA package $ta, deployment $dep (mode 5, process)"
# Started directly, not through the function: $! must be teep-agent's
# own pid for the signals below to reach it.
"$bin/teep-agent" --state "$work/dc" --tam-key "$work/tam/tam-esp256.pub.pem" \
    --tc-signer "$work/tam/tc-signer.pub.pem" --device data-center \
    --broker "$broker_ws" --ua-socket "$work/ua.sock" 2>>"$work/agent.log" &
agent_pid=$!
pids="$pids $agent_pid"
tam deployment wait "$dep" --for waiting-pd --timeout 60 >/dev/null ||
    die "the device did not attest"
echo "   attested; the TA waits for its table"

# 3. The Data Center encrypts its table to the attested key, uploads it;
#    the next session installs TA and table together.
"$bin/ot-collector" mktable "$teep_records" "$size" "$work/teep-table.bin"
tam device attested-key "$dev" --out "$work/pd.pem" >/dev/null
"$bin/teep" pd encrypt --to "$work/pd.pem" --out "$work/teep-table.pd" \
    "$work/teep-table.bin"
tam pd upload "$dep" "$dev" "$work/teep-table.pd" \
    --plaintext "$work/teep-table.bin" --name records >/dev/null
kill -USR1 "$agent_pid"
tam deployment wait "$dep" --for "done" --timeout 60 >/dev/null ||
    die "the deployment did not finish"
wait_line "$work/agent.log" 'ot-lookup-ta: table of'
echo "   deployed: ot-lookup with a table of $teep_records x $size B" \
    "($(wc -c <"$work/teep-table.pd") B encrypted PD)"

# 4. The measurements: one line per protocol and N.
run() { # ARGS...: one ot-collector run, its result line appended
    "$bin/ot-collector" "$@" >>"$work/results" 2>>"$work/collector.err" ||
        die "ot-collector $1 failed"
    tail -n 1 "$work/results" | sed 's/^/   /'
}
echo "== N = $teep_records (the table deployed through TEEP)"
run cc --gateway "$work/ua.sock" --admin "$admin_url" \
    --token-file "$work/tam/admin.token" --device "$dev" --deployment "$dep" \
    --package "$ta" --ta-binary "$bin/ot-lookup-ta" --queries "$queries"
# A Collector that audited another binary must refuse before any query.
if "$bin/ot-collector" cc --gateway "$work/ua.sock" --admin "$admin_url" \
    --token-file "$work/tam/admin.token" --device "$dev" --deployment "$dep" \
    --package "$ta" --ta-binary "$bin/teep" --queries 1 \
    >/dev/null 2>"$work/refusal.err"; then
    die "a Collector expecting another TA binary queried it"
fi
grep -q "no query is sent" "$work/refusal.err" ||
    die "the wrong-binary Collector failed for another reason"
echo "   a Collector that audited another binary: refused before any query"
run classic --table "$work/teep-table.bin" --queries "$queries"
run download --table "$work/teep-table.bin" --queries "$queries"
for n in $records; do
    echo "== N = $n (CC-OT: the TA binary outside the TEE, table read locally)"
    "$bin/ot-collector" mktable "$n" "$size" "$work/table-$n.bin"
    q=$queries
    # Classic OT encrypts all N records per query: fewer queries at 100k.
    [ "$n" -ge 100000 ] && [ "$q" -gt 3 ] && q=3
    run cc --local-ta "$bin/ot-lookup-ta" --table "$work/table-$n.bin" \
        --unattested --queries "$queries"
    run classic --table "$work/table-$n.bin" --queries "$q"
    run download --table "$work/table-$n.bin" --queries "$q"
    rm -f "$work/table-$n.bin"
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
for p in cc-ot cc-ot-local classic download; do
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
     "$work/cc-ot-local.dat" with linespoints title "CC-OT (TA binary, table local)", \
     "$work/cc-ot.dat" with points pointsize 2 title "CC-OT through TEEP (sim TEE)"
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
            "TEEP (mode 5, TA and table in the sim TEE, via the UA gateway);" \
            "\`cc-ot-local\` is the same TA binary outside any TEE with the table" \
            "read from a file, because the sim's PD channel carries at most 64 KiB."
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
