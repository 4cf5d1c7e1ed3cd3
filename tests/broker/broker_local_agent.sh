#!/bin/sh
# The broker as its node's own TEEP Broker: a sim TEE (plugins/tee/sim)
# opens, its Agent's policy check runs at start and on demand from the
# admin endpoint, and its conversation goes through the relay like any
# agent's (here against the replay TAM: the Agent verifies the canned
# QueryRequest, attests in its QueryResponse, refuses the canned Update
# with an Error, and the TAM ends the session with 204).
. "$(dirname "$0")/lib.sh"

start_tam tam
cat >"$WORK/broker.conf" <<CONF
workers = 2;
admin = "127.0.0.1:0";
admin_token = "s3cret";
listeners = ( { uri = "http://127.0.0.1:0"; } );
routes = ( { name = "main"; endpoints = [ "http://127.0.0.1:$tam_PORT/tam" ]; } );
tees = (
  { name = "sim0"; plugin = "tee_sim"; instance = "process";
    state_dir = "$WORK/sim0"; ua_dir = "$WORK/ua";
    options = {
      tam_uri = "http://127.0.0.1:$tam_PORT/tam";
      tam_key = "$VECTORS/keys/libteep_tam_prime256v1_pub.pem";
      tc_signer_key = "$VECTORS/keys/teep_draft_suit_signing_key_public.pem";
    };
  }
);
CONF
start_broker -c "$WORK/broker.conf"
wait_for "$BROKER_LOG" 'event=local_session tee=sim0 kind=policy_check tam=http'
pass "policy check at start"
grep -q 'event=tee_open tee=sim0 plugin=tee_sim instance=process' \
    "$BROKER_LOG" && pass "TEE session opened" || fail "no tee_open"
grep -q 'event=exchange .*device=sim0 type=query_response .*answer=update' \
    "$BROKER_LOG" && pass "the Agent's QueryResponse went through the relay" ||
    fail "no relayed QueryResponse from the local Agent"
grep -q 'event=exchange .*device=sim0 type=error .*outcome=no_content' \
    "$BROKER_LOG" && pass "the Agent refused the canned Update (Error, 204)" ||
    fail "no Error from the local Agent"

admin() {
    curl -s -o /dev/null -w '%{http_code}' -X POST "$@"
}
check "admin POST without the token: 401" 401 \
    "$(admin "http://127.0.0.1:$ADMIN_PORT/admin/policy-check?tee=sim0")"
check "policy check on demand: 202" 202 \
    "$(admin -H 'Authorization: Bearer s3cret' \
        "http://127.0.0.1:$ADMIN_PORT/admin/policy-check?tee=sim0")"
check "unknown TEE: 404" 404 \
    "$(admin -H 'Authorization: Bearer s3cret' \
        "http://127.0.0.1:$ADMIN_PORT/admin/policy-check?tee=nope")"
i=0
while [ "$(grep -c 'event=local_session tee=sim0 kind=policy_check tam=http' \
    "$BROKER_LOG")" -lt 2 ] && [ $i -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
done
n=$(metric 'teep_broker_local_sessions_total{result="ok"}')
[ "${n:-0}" -ge 2 ] && pass "two local sessions counted ($n)" ||
    fail "local sessions: $n"
kill -TERM "$BROKER_PID"
rc=0
wait "$BROKER_JOB" || rc=$?
check "drain with a TEE open: exit 0" 0 "$rc"
finish
