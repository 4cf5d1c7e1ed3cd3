# lib.sh: shared by the broker's integration tests (sourced).
#
# Environment (set by CTest, tests/broker/CMakeLists.txt): BIN (the
# build's bin directory: teep-broker, teep-replay-tam, teep-test-client,
# teep), VECTORS (tests/vectors), SRC (the source tree); KEEP_WORK=1 keeps
# the work directory (logs) for a look after a failure.  Everything runs
# on 127.0.0.1 with ephemeral ports; every process started here is
# stopped on exit (trap), and each has its own lifetime as a backstop.
set -eu

# pass, fail, check, contains, report_checks, wait_until, stop_pids,
# show_logs ($0 is a script of tests/<dir>/).
. "$(dirname "$0")/../lib-common.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/teep-broker-test.XXXXXX")
PIDS=""

cleanup() {
    # shellcheck disable=SC2086 # PIDS is a list
    stop_pids 0.2 $PIDS
    if [ "$FAILS" -gt 0 ]; then
        show_logs 30 "$WORK"/*.log
    fi
    if [ -n "${KEEP_WORK:-}" ]; then
        echo "kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

# Stop the brokers still running the way SIGTERM does (a drain), then
# look for sanitizer reports (ASan/UBSan/LSan builds) in their logs.
finish() {
    for j in $BROKER_JOBS; do
        kill -TERM "$j" 2>/dev/null || true
    done
    for j in $BROKER_JOBS; do
        wait "$j" 2>/dev/null || true
    done
    if grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
        "$WORK"/broker*.log >/dev/null 2>&1; then
        fail "a sanitizer reported an error in a broker log"
    fi
    report_checks
}

# Wait until file $1 has a line matching $2 (up to 10 s); the script ends
# (exit 1) when none comes.
wait_for() {
    wait_until "$1" "$2" ||
        { echo "timeout waiting for '$2' in $1"; cat "$1"; exit 1; }
}

# start_tam NAME [replay-tam args...]: sets NAME_PORT and NAME_PID.
start_tam() {
    name=$1
    shift
    "$BIN/teep-replay-tam" --lifetime 120 --quiet "$@" \
        >"$WORK/$name.out" 2>"$WORK/$name.log" &
    pid=$!
    PIDS="$PIDS $pid"
    wait_for "$WORK/$name.out" '^port '
    eval "${name}_PORT=$(awk '/^port/{print $2}' "$WORK/$name.out")"
    eval "${name}_PID=$pid"
}

# start_broker [teep-broker args...]: sets BROKER_PORT (first listener),
# ADMIN_PORT (when --admin / admin is set), BROKER_PID (the broker, for
# signals), BROKER_JOB (its `timeout` wrapper, for wait), BROKER_LOG.
BROKER_N=0
BROKER_JOBS=""
start_broker() {
    BROKER_N=$((BROKER_N + 1))
    BROKER_LOG="$WORK/broker$BROKER_N.log"
    timeout 120 "$BIN/teep-broker" "$@" >"$WORK/broker$BROKER_N.out" \
        2>"$BROKER_LOG" &
    BROKER_JOB=$!
    PIDS="$PIDS $BROKER_JOB"
    BROKER_JOBS="$BROKER_JOBS $BROKER_JOB"
    i=0
    until grep -q 'event=ready' "$BROKER_LOG" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 100 ] || ! kill -0 "$BROKER_JOB" 2>/dev/null; then
            echo "teep-broker did not start:"
            cat "$BROKER_LOG"
            exit 1
        fi
        sleep 0.1
    done
    BROKER_PID=$(grep -o 'event=ready .*pid=[0-9]*' "$BROKER_LOG" |
        sed 's/.*pid=//')
    PIDS="$PIDS $BROKER_PID"
    BROKER_PORT=$(grep -o 'event=listening uri=http://127.0.0.1:[0-9]*' \
        "$BROKER_LOG" | head -n 1 | sed 's/.*://')
    ADMIN_PORT=$(grep -o 'event=admin_listening uri=http://127.0.0.1:[0-9]*' \
        "$BROKER_LOG" | head -n 1 | sed 's/.*://' || true)
}

# The vectors as binary files in $WORK.
vector() {
    xxd -r -p "$VECTORS/$1.hex" >"$WORK/$1.bin"
    echo "$WORK/$1.bin"
}

# post PATH [BODY_FILE] [curl args...]: prints "STATUS" and leaves the body
# in $WORK/body and the head in $WORK/head.  CT and ACCEPT override the
# Content-Type and Accept headers.
post() {
    path=$1
    shift
    data=""
    if [ $# -gt 0 ] && [ -f "$1" ]; then
        data=$1
        shift
    fi
    curl -s -m 10 -o "$WORK/body" -D "$WORK/head" -w '%{http_code}' \
        -H "Accept: ${ACCEPT:-application/teep+cbor}" \
        -H "Content-Type: ${CT:-application/teep+cbor}" \
        --data-binary "@${data:-/dev/null}" "$@" \
        "http://127.0.0.1:$BROKER_PORT$path" || true
}

# metric NAME_WITH_LABELS: its value on /metrics.
metric() {
    curl -s -m 5 "http://127.0.0.1:$ADMIN_PORT/metrics" |
        grep -v '^#' | grep -F "$1 " | head -n 1 | awk '{print $NF}'
}
