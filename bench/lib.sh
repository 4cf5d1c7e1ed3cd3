# bench/lib.sh: what the benchmark scripts share (sourced by run-suite.sh,
# run-relay.sh, run-e2e.sh, run-idle-multi.sh).  The caller sets started
# ($(date +%s)) and calls scratch first; every process binds 127.0.0.x.

# scratch NAME: a scratch directory ($work), and traps that stop every
# process listed in $pids and $step_pids and remove it when the script
# ends, however it ends.
scratch() {
    work=$(mktemp -d "${TMPDIR:-/tmp}/teep-$1.XXXXXX")
    pids=""
    step_pids=""
    trap cleanup EXIT
    trap 'exit 1' INT TERM HUP PIPE
}

cleanup() {
    for p in $step_pids $pids; do kill -TERM "$p" 2>/dev/null || true; done
    sleep 0.3
    for p in $step_pids $pids; do kill -KILL "$p" 2>/dev/null || true; done
    rm -rf "$work"
}

say() { echo "${say_prefix:-bench} [$(($(date +%s) - started)) s]: $*" >&2; }

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
            echo "bench: nothing listens on $1" >&2
            tail -n 5 "$work"/*.log >&2
            exit 1
        fi
        sleep 0.05
    done
}

# field LINE NAME: the value of NAME=... in teep-bench's one-line output.
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# rss_kb PID: VmRSS of PID in kB (0 when it is gone).
rss_kb() { awk '/^VmRSS/{print $2; f = 1} END {if (!f) print 0}' "/proc/$1/status" 2>/dev/null || echo 0; }

# perf_ok: whether perf can sample here (software clock, no hardware
# counters in containers).
perf_ok() {
    command -v perf >/dev/null &&
        perf record -e cpu-clock -o "$work/probe.data" true >/dev/null 2>&1
}

# perf_profile PID SECONDS PREFIX: samples PID's CPU for SECONDS (in the
# background: call it, start the load, then `wait $perf_pid`) and, once
# waited for, perf_report PREFIX writes OUT/PREFIX-dso.txt (share by
# object) and OUT/PREFIX-sym.txt (top symbols).
perf_profile() {
    perf record -e cpu-clock -g -p "$1" -o "$work/$3.data" \
        -- sleep "$2" >/dev/null 2>&1 &
    perf_pid=$!
}
perf_report() {
    perf report -i "$work/$1.data" --no-children --sort dso --stdio -g none \
        2>/dev/null | grep -E '^ +[0-9]' | head -n 8 >"$out/$1-dso.txt" || true
    perf report -i "$work/$1.data" --no-children --sort sym --stdio -g none \
        2>/dev/null | grep -E '^ +[0-9]' | head -n 15 >"$out/$1-sym.txt" || true
}
