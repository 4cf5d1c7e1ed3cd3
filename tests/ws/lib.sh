# lib.sh: what the WebSocket / device-agent scripts of tests/ws share
# (sourced).  Everything runs on 127.0.0.1 with ephemeral ports, every
# process has a lifetime or a timeout as a backstop, and the trap stops
# them all.
#
# Needs BIN (the build's bin directory) and WORK (made here).

set -u
# pass, fail, check, contains, report_checks, wait_until, stop_pids,
# show_logs ($0 is a script of tests/<dir>/).
. "$(dirname "$0")/../lib-common.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/teep-ws-test.XXXXXX")
PIDS=""

cleanup() {
    # shellcheck disable=SC2086 # PIDS is a list
    stop_pids 0.3 $PIDS
    if [ "$FAILS" -gt 0 ]; then
        show_logs 25 "$WORK"/*.log "$WORK"/*.err
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

finish() { report_checks; }

# wait_for FILE REGEX [SECONDS]: until FILE has a line matching REGEX
# (returns 1 after SECONDS, 10 by default, without one).
wait_for() { wait_until "$@"; }

# start_tam: the reference TAM; sets TAM_URL, ADMIN (the admin client).
start_tam() {
    "$BIN/teep-tam" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
        --data "$WORK/tam" --lifetime 280 --threads 2 \
        >"$WORK/tam.out" 2>"$WORK/tam.err" &
    PIDS="$PIDS $!"
    wait_for "$WORK/tam.out" "admin API" || { fail "teep-tam start"; exit 1; }
    port=$(sed -n 's|.*TEEP endpoint http://127.0.0.1:\([0-9]*\)/tam.*|\1|p' \
        "$WORK/tam.out")
    aport=$(sed -n 's|.*admin API http://127.0.0.1:\([0-9]*\).*|\1|p' \
        "$WORK/tam.out")
    TAM_URL=http://127.0.0.1:$port/tam
    ADMIN="$BIN/teep-tam admin --url http://127.0.0.1:$aport --data $WORK/tam"
}

# start_broker LISTEN...: teep-broker with these listeners in front of
# the TAM; sets BROKER_<SCHEME> (the URI each listens on) and BROKER_PID.
start_broker() {
    args=""
    for l in "$@"; do args="$args --listen $l"; done
    # shellcheck disable=SC2086
    "$BIN/teep-broker" $args --tam "$TAM_URL" --workers 2 \
        >"$WORK/broker.out" 2>"$WORK/broker.log" &
    BROKER_PID=$!
    PIDS="$PIDS $BROKER_PID"
    wait_for "$WORK/broker.log" "event=ready" ||
        { fail "teep-broker start"; exit 1; }
    for s in http ws coap; do
        u=$(sed -n "s|.*event=listening uri=\($s://[^ ]*\).*|\1|p" \
            "$WORK/broker.log" | head -1)
        eval "BROKER_$(echo $s | tr a-z A-Z)=\$u"
    done
}

# agent NAME ARGS...: teep-agent for device NAME (state in $WORK/NAME)
# trusting the TAM; its stderr goes to $WORK/NAME.log (appended).
agent() {
    name=$1
    shift
    timeout 60 "$BIN/teep-agent" --state "$WORK/$name" \
        --tam-key "$WORK/tam/tam-esp256.pub.pem" \
        --tc-signer "$WORK/tam/tc-signer.pub.pem" --device "$name" "$@" \
        2>>"$WORK/$name.log"
}

# agent_daemon NAME ARGS...: teep-agent as a daemon in the background
# (the trap stops it); sets AGENT_PID to the agent's own pid, so that
# signals reach it.
agent_daemon() {
    name=$1
    shift
    "$BIN/teep-agent" --state "$WORK/$name" \
        --tam-key "$WORK/tam/tam-esp256.pub.pem" \
        --tc-signer "$WORK/tam/tc-signer.pub.pem" --device "$name" "$@" \
        2>>"$WORK/$name.log" &
    AGENT_PID=$!
    PIDS="$PIDS $AGENT_PID"
}

# register NAME: export the Agent's keys and register it at the TAM; sets
# DEVICE to its id.
register() {
    agent "$1" --broker "$TAM_URL" --export-keys "$WORK/$1.keys" ||
        { fail "$1: keys"; return 1; }
    DEVICE=$($ADMIN --get id device add "$1" \
        --teep-key "$WORK/$1.keys/teep-key.pub.pem" \
        --attestation-key "$WORK/$1.keys/attestation-key.pub.pem") ||
        { fail "$1: device add"; return 1; }
}

# upload_pd DEPLOYMENT DEVICE: the data owner's steps: encrypt the PD to
# the key the attested Evidence vouches for, upload it.
upload_pd() {
    $ADMIN device attested-key "$2" --out "$WORK/pd-$2.pem" >/dev/null &&
        "$BIN/teep" pd encrypt --to "$WORK/pd-$2.pem" --out "$WORK/pd-$2.bin" \
            "$WORK/pd.json" &&
        $ADMIN pd upload "$1" "$2" "$WORK/pd-$2.bin" \
            --plaintext "$WORK/pd.json" --name pd1 >/dev/null
}
