#!/bin/sh
# The TAM's "make this device check in" through the real broker: teep-agent
# keeps its WebSocket (and, when built, its CoAP Observe) to teep-broker
# open; POST /admin/push?device=NAME on the broker's admin listener reaches
# the worker holding the device, whose transport pushes a check-in; the
# agent runs a policy check whose session reaches the TAM.  A push for a
# device nobody holds is accepted (202) and logged by no worker as
# delivered.  Environment: BIN, VECTORS, PLUGINS.
. "$(dirname "$0")/lib.sh"

start_tam
"$BIN/teep-broker" --listen ws://127.0.0.1:0/tam --listen coap://127.0.0.1:0/tam \
    --tam "$TAM_URL" --workers 2 --admin 127.0.0.1:0 --plugin-dir "$PLUGINS" \
    >"$WORK/broker.out" 2>"$WORK/broker.log" &
PIDS="$PIDS $!"
wait_for "$WORK/broker.log" "event=ready" || { fail "teep-broker start"; exit 1; }
admin=$(grep -o 'event=admin_listening uri=http://127.0.0.1:[0-9]*' \
    "$WORK/broker.log" | head -1 | sed 's/.*uri=//')
[ -n "$admin" ] || { fail "no admin listener"; exit 1; }

# sessions NAME: how many policy-check sessions of NAME reached the broker.
sessions() { grep -c "session policy-check tam=[a-z]*://" "$WORK/$1.log"; }

# push_via_broker SCHEME NAME
push_via_broker() {
    url=$(sed -n "s|.*event=listening uri=\($1://[^ ]*\).*|\1|p" \
        "$WORK/broker.log" | head -1)
    [ -n "$url" ] || { fail "$2: no $1 listener"; return; }
    agent_daemon "$2" --broker "$url" --interval 3600
    wait_for "$WORK/$2.log" "session policy-check tam=" 15 ||
        { fail "$2: no session at start"; return; }
    before=$(sessions "$2")
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
        "$admin/admin/push?device=$2")
    [ "$code" = 202 ] && pass "$2: admin push accepted" ||
        fail "$2: admin push answered $code"
    wait_for "$WORK/$2.log" "policy check (pushed)" 10 &&
        pass "$2: the agent checked in when the broker pushed" ||
        fail "$2: no check-in after the admin push"
    i=0
    while [ "$(sessions "$2")" -le "$before" ] && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    [ "$(sessions "$2")" -gt "$before" ] &&
        pass "$2: the pushed check-in reached the TAM" ||
        fail "$2: no session after the push"
    grep -q "event=push .*device=$2 result=delivered" "$WORK/broker.log" &&
        pass "$2: the broker logged the delivery" ||
        fail "$2: no delivery in the broker's log"
}

push_via_broker ws ws-dev
push_via_broker coap coap-dev

code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$admin/admin/push")
[ "$code" = 400 ] && pass "push without a device: 400" ||
    fail "push without a device answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X GET "$admin/admin/push?device=x")
[ "$code" = 405 ] && pass "GET push: 405" || fail "GET push answered $code"
finish
