#!/bin/sh
# A push triggers a check-in: teep-agent keeps its transport to the
# broker's transport plugin (teep-transport-serve: the plugin with the
# canned TAM) open, the plugin pushes check-in to the device by name
# (SIGUSR1 to teep-transport-serve calls the plugin's push op), and the
# agent runs a policy check whose session reaches the TAM, on the same
# connection.  Over WebSocket (a check-in control message) and, when the
# CoAP transport is built, over CoAP (an Observe notification).  The
# canned TAM's answers are signed by keys this Agent does not trust, so
# the sessions end in errors: what is checked is that they happen.
# Environment: BIN, VECTORS, PLUGINS.
. "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/tam"
cp "$VECTORS/keys/libteep_tam_prime256v1_pub.pem" "$WORK/tam/tam-esp256.pub.pem"
cp "$VECTORS/keys/libteep_tam_prime256v1_pub.pem" "$WORK/tam/tc-signer.pub.pem"

# sessions NAME: how many sessions of NAME reached a TAM.
sessions() { grep -c "session policy-check tam=[a-z]*://" "$WORK/$1.log"; }

# push_test PLUGIN LISTEN NAME
push_test() {
    plugin=$1 name=$3
    "$BIN/teep-transport-serve" --plugin-dir "$PLUGINS" --vectors "$VECTORS" \
        --plugin "$plugin" --listen "$2" --push "$name" --lifetime 60 \
        >"$WORK/$name-serve.out" 2>"$WORK/$name-serve.err" &
    serve=$!
    PIDS="$PIDS $serve"
    wait_for "$WORK/$name-serve.out" "^listening" ||
        { fail "$name: serve"; return; }
    url=$(sed -n 's/^listening //p' "$WORK/$name-serve.out")
    agent_daemon "$name" --broker "$url"
    wait_for "$WORK/$name.log" "session policy-check tam=" ||
        fail "$name: no session at start"
    before=$(sessions "$name")

    kill -USR1 "$serve"
    wait_for "$WORK/$name-serve.out" "^push $name: 0" &&
        pass "$name: push accepted" ||
        fail "$name: push: $(grep push "$WORK/$name-serve.out")"
    wait_for "$WORK/$name.log" "policy check (pushed)" &&
        pass "$name: the agent checked in when pushed" ||
        fail "$name: no check-in on push"
    i=0
    while [ "$(sessions "$name")" -le "$before" ] && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    [ "$(sessions "$name")" -gt "$before" ] &&
        pass "$name: the pushed check-in reached the TAM" ||
        fail "$name: no session after the push"

    # A device that is gone cannot be pushed.
    kill -TERM "$AGENT_PID"
    wait "$AGENT_PID" && pass "$name: agent stopped cleanly" ||
        fail "$name: agent exit status"
    sleep 0.3
    kill -USR1 "$serve"
    i=0
    while [ "$(grep -c "^push $name" "$WORK/$name-serve.out")" -lt 2 ] &&
        [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    grep -q "^push $name: -2$" "$WORK/$name-serve.out" &&
        pass "$name: push to a gone device: -ENOENT" ||
        fail "$name: push after the agent left: $(tail -1 "$WORK/$name-serve.out")"
}

push_test transport_ws ws://127.0.0.1:0/tam ws-dev
grep -q ": connected" "$WORK/ws-dev.log" &&
    [ "$(grep -c ': connected' "$WORK/ws-dev.log")" = 1 ] &&
    pass "ws-dev: one connection throughout" || fail "ws-dev: reconnected"
if [ -f "$PLUGINS/transport_coap.so" ]; then
    push_test transport_coap coap://127.0.0.1:0/tam coap-dev
fi
finish
