# lib-common.sh: the check bookkeeping and process helpers that the
# integration scripts' own lib.sh files share (sourced by
# tests/broker/lib.sh and tests/ws/lib.sh, which add what is theirs: the
# work directory, the cleanup trap, the programs they start).
#
# A script counts failed checks in FAILS and ends with report_checks (or a
# finish of its lib.sh that calls it): a failed check does not stop the
# script, so one run shows every check that failed.

FAILS=0

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

# report_checks: the verdict; exits 1 when a check failed.
report_checks() {
    if [ "$FAILS" -gt 0 ]; then
        echo "$FAILS check(s) failed"
        exit 1
    fi
    echo "all checks passed"
}

# wait_until FILE REGEX [SECONDS]: until FILE has a line matching REGEX;
# returns 1 after SECONDS (10) without one.
wait_until() {
    i=0
    while ! grep -q "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt $((${3:-10} * 10)) ] && return 1
        sleep 0.1
    done
    return 0
}

# stop_pids DELAY PID...: SIGTERM to each, DELAY seconds for them to go,
# then SIGKILL to what is left.
stop_pids() {
    delay=$1
    shift
    for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
    sleep "$delay"
    for p in "$@"; do kill -KILL "$p" 2>/dev/null || true; done
}

# show_logs LINES FILE...: the last LINES lines of each FILE that exists
# (the logs of a run with failed checks).
show_logs() {
    lines=$1
    shift
    for f in "$@"; do
        [ -f "$f" ] || continue
        echo "---- $f (last $lines lines)"
        tail -n "$lines" "$f"
    done
}
