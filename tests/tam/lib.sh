# lib.sh: what the TAM's integration scripts share (sourced).  They run the
# real teep-tam on 127.0.0.1 with ephemeral ports and a lifetime, drive it
# with curl and tam-test-agent, and always stop it (trap).
#
# Needs: TAM (teep-tam), AGENT (tam-test-agent), WORK (a scratch dir).

CURL_MAX=10 # seconds any single curl call may take

fail() {
    echo "FAIL: $*" >&2
    if [ -f "$WORK/tam.err" ]; then
        echo "--- teep-tam log (last 30 lines)" >&2
        tail -30 "$WORK/tam.err" >&2
    fi
    [ -n "${IN_CLEANUP:-}" ] && return 1
    exit 1
}

# cleanup: the EXIT trap: stop teep-tam (its exit status counts), remove
# the scratch directory, keep the script's status.
cleanup() {
    rc=$?
    IN_CLEANUP=1
    stop_tam || rc=1
    rm -rf "$WORK"
    exit $rc
}

# start_tam DATA [OPTIONS...]: start teep-tam, set TAM_PID, PORT, APORT,
# URL and the admin client's options (ADMIN).
start_tam() {
    data=$1
    shift
    : >"$WORK/tam.out"
    "$TAM" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --data "$data" \
        --lifetime 280 --request-timeout 2 --threads 2 "$@" \
        >"$WORK/tam.out" 2>>"$WORK/tam.err" &
    TAM_PID=$!
    i=0
    while ! grep -q "admin API" "$WORK/tam.out" 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 100 ] || fail "teep-tam did not start"
        kill -0 "$TAM_PID" 2>/dev/null || fail "teep-tam exited at start"
        sleep 0.1
    done
    PORT=$(sed -n 's|.*TEEP endpoint http://127.0.0.1:\([0-9]*\)/tam.*|\1|p' \
        "$WORK/tam.out")
    APORT=$(sed -n 's|.*admin API http://127.0.0.1:\([0-9]*\).*|\1|p' \
        "$WORK/tam.out")
    URL=http://127.0.0.1:$PORT/tam
    ADMIN="--url http://127.0.0.1:$APORT --data $data"
}

# stop_tam: SIGTERM, which teep-tam answers with a graceful stop and exit
# status 0; anything else (a sanitizer's abort, a hang) fails the test.
stop_tam() {
    if [ -n "${TAM_PID:-}" ]; then
        pid=$TAM_PID
        TAM_PID=
        kill "$pid" 2>/dev/null || true
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -9 "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
            fail "teep-tam did not stop on SIGTERM" || return 1
        fi
        wait "$pid" 2>/dev/null
        status=$?
        [ $status = 0 ] || fail "teep-tam exited with status $status" ||
            return 1
        if grep -qE 'Sanitizer|runtime error' "$WORK/tam.err"; then
            fail "sanitizer report" || return 1
        fi
    fi
}

admin() {
    # shellcheck disable=SC2086 # ADMIN holds several options
    "$TAM" admin $ADMIN "$@"
}

# post FILE OUT: POST a TEEP message (empty FILE: the empty POST without
# Content-Type) and print the status.
post() {
    if [ -s "$1" ]; then
        curl -s -m $CURL_MAX -o "$2" -w '%{http_code}' -X POST \
            -H 'Accept: application/teep+cbor' \
            -H 'Content-Type: application/teep+cbor' \
            --data-binary @"$1" "$URL"
    else
        curl -s -m $CURL_MAX -o "$2" -w '%{http_code}' -X POST \
            -H 'Accept: application/teep+cbor' -H 'Content-Type:' \
            --data-binary '' "$URL"
    fi
}

# session AGENT_DIR: one TEEP over HTTP session, the way a broker runs it:
# the empty POST, then every answer back until the TAM says 204.  Prints
# the agent's lines; returns non-zero unless it ended with 204.
session() {
    dir=$1
    : >"$WORK/req"
    code=$(post "$WORK/req" "$WORK/resp")
    n=0
    while [ "$code" = 200 ] && [ $n -lt 30 ]; do
        "$AGENT" respond "$dir" "$WORK/resp" "$WORK/req" || return 1
        [ -f "$WORK/req" ] || return 1
        code=$(post "$WORK/req" "$WORK/resp")
        n=$((n + 1))
    done
    [ "$code" = 204 ] || { echo "session ended with HTTP $code"; return 1; }
}

# new_agent NAME [TYPE]: an Agent dir trusting this TAM, registered as a
# device; sets DEVICE to its id.
new_agent() {
    name=$1
    "$AGENT" init "$WORK/$name" --tam-key "$DATA/tam-esp256.pub.pem" \
        --tam-key "$DATA/tam-ed25519.pub.pem" \
        --tc-signer "$DATA/tc-signer.pub.pem" --type "${2:-p256}" >/dev/null ||
        fail "agent init $name"
    DEVICE=$(admin --get id device add "$name" \
        --teep-key "$WORK/$name/teep.pub.pem" \
        --attestation-key "$WORK/$name/attest.pub.pem") ||
        fail "device add $name"
}
