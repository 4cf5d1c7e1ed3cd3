#!/bin/sh
# teep-agent completing a deployment through the real teep-broker to the
# real teep-tam, over each transport the broker listens with: the device
# registered with the keys teep-agent exports, a mode-5 deployment (att;
# TA&PD -> Trusted Process) of the hello TA, the first session attests,
# the data owner uploads PD encrypted to the attested key, the second
# session installs the TA with its PD: the TA reports the PD's digest.
#   HTTP: two `teep-agent --once` runs.
#   WebSocket: one teep-agent daemon, the second session asked for with
#   SIGUSR1 while its connection stays open.
#   CoAP (when the broker has the CoAP transport): a daemon observing its
#   check-in resource, the second session asked for with SIGUSR1.
# Environment: BIN (the build's bin directory).
. "$(dirname "$0")/lib.sh"

start_tam
if [ -f "$PLUGINS/transport_coap.so" ]; then
    start_broker ws://127.0.0.1:0/tam http://127.0.0.1:0/tam \
        coap://127.0.0.1:0/tam
else
    start_broker ws://127.0.0.1:0/tam http://127.0.0.1:0/tam
fi
printf '{"secret": "only the TEE reads this"}\n' >"$WORK/pd.json"
PD_SHA=$(sha256sum "$WORK/pd.json" | cut -d' ' -f1)
TA=$($ADMIN --get id package add ta hello "$BIN/hello-ta") ||
    { fail "package add"; exit 1; }

# deploy NAME: register the device and make its deployment; sets DEP.
deploy() {
    register "$1" || return 1
    DEP=$($ADMIN --get id deployment add "$1" --mode 5 --type process \
        --ta "$TA" --device "$DEVICE") || { fail "$1: deployment add"; return 1; }
}

# check_done NAME: the deployment is done and the TA got the PD.
check_done() {
    $ADMIN deployment wait "$DEP" --for done --timeout 20 >/dev/null &&
        pass "$1: deployment done" || fail "$1: deployment not done"
    grep -q "personalization data, sha256 $PD_SHA" "$WORK/$1.log" &&
        pass "$1: the TA has the PD" || fail "$1: the TA has no PD"
}

# ---- HTTP
if deploy http-dev; then
    agent http-dev --broker "$BROKER_HTTP" --once &&
        pass "http: session 1" || fail "http: session 1"
    $ADMIN deployment wait "$DEP" --for waiting-pd --timeout 20 >/dev/null &&
        pass "http: attested, waiting for PD" || fail "http: not waiting-pd"
    upload_pd "$DEP" "$DEVICE" || fail "http: PD upload"
    agent http-dev --broker "$BROKER_HTTP" --once &&
        pass "http: session 2" || fail "http: session 2"
    check_done http-dev
    grep -q "TEEP over HTTP" "$WORK/http-dev.log" || fail "http: not HTTP"
fi

# ---- WebSocket
if deploy ws-dev; then
    agent_daemon ws-dev --broker "$BROKER_WS"
    AGENT=$AGENT_PID
    $ADMIN deployment wait "$DEP" --for waiting-pd --timeout 20 >/dev/null &&
        pass "ws: attested, waiting for PD" || fail "ws: not waiting-pd"
    upload_pd "$DEP" "$DEVICE" || fail "ws: PD upload"
    kill -USR1 "$AGENT"
    check_done ws-dev
    kill -TERM "$AGENT"
    wait "$AGENT" && pass "ws: agent stopped cleanly" ||
        fail "ws: agent exit status $?"
    [ "$(grep -c ': connected' "$WORK/ws-dev.log")" = 1 ] &&
        pass "ws: one connection for both sessions" ||
        fail "ws: reconnected between sessions"
fi

# ---- CoAP
if [ -n "${BROKER_COAP:-}" ] && deploy coap-dev; then
    agent_daemon coap-dev --broker "$BROKER_COAP"
    AGENT=$AGENT_PID
    $ADMIN deployment wait "$DEP" --for waiting-pd --timeout 20 >/dev/null &&
        pass "coap: attested, waiting for PD" || fail "coap: not waiting-pd"
    upload_pd "$DEP" "$DEVICE" || fail "coap: PD upload"
    kill -USR1 "$AGENT"
    check_done coap-dev
    kill -TERM "$AGENT"
    wait "$AGENT" && pass "coap: agent stopped cleanly" ||
        fail "coap: agent exit status $?"
    grep -q "TEEP over CoAP" "$WORK/coap-dev.log" || fail "coap: not CoAP"
fi
finish
