# lib.sh: shared by the broker's integration tests (sourced).
#
# Environment (set by CTest, tests/broker/CMakeLists.txt): BIN (the
# build's bin directory: teep-broker, teep-replay-tam, teep-test-client,
# teep), VECTORS (tests/vectors), SRC (the source tree); KEEP_WORK=1 keeps
# the work directory (logs) for a look after a failure.  Everything runs
# on 127.0.0.1 with ephemeral ports; every process started here is
# stopped on exit (trap), and each has its own lifetime as a backstop.
set -eu

WORK=$(mktemp -d "${TMPDIR:-/tmp}/teep-broker-test.XXXXXX")
PIDS=""
FAILS=0

cleanup() {
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null || true; done
    sleep 0.2
    for p in $PIDS; do kill -KILL "$p" 2>/dev/null || true; done
    if [ "$FAILS" -gt 0 ]; then
        for f in "$WORK"/*.log; do
            [ -f "$f" ] || continue
            echo "---- $f (last 30 lines)"
            tail -n 30 "$f"
        done
    fi
    if [ -n "${KEEP_WORK:-}" ]; then
        echo "kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

pass() { echo "ok: $*"; }
fail() {
    echo "FAIL: $*"
    FAILS=$((FAILS + 1))
}
# check DESCRIPTION EXPECTED ACTUAL
check() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected '$2', got '$3'"; fi
}
# contains DESCRIPTION NEEDLE HAYSTACK
contains() {
    case "$3" in
    *"$2"*) pass "$1" ;;
    *) fail "$1: '$2' not in '$3'" ;;
    esac
}
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
    if [ "$FAILS" -gt 0 ]; then
        echo "$FAILS check(s) failed"
        exit 1
    fi
    echo "all checks passed"
}

# Wait until file $1 has a line matching $2 (up to 10 s).
wait_for() {
    i=0
    while ! grep -q "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 100 ] && { echo "timeout waiting for '$2' in $1"; cat "$1"; exit 1; }
        sleep 0.1
    done
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
