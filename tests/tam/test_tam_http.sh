#!/bin/bash
# TEEP over HTTP (digest 3) against the real teep-tam: statuses, the
# security headers, media types, limits, a slow client, garbage, a
# replayed token, an unknown Agent; each refused request leaves the other
# sessions working.
# Usage: test_tam_http.sh TEEP_TAM TAM_TEST_AGENT TEEP
set -u
TAM=$1
AGENT=$2
WORK=$(mktemp -d /tmp/tam-http-XXXXXX)
DATA=$WORK/data
. "$(dirname "$0")/lib.sh"
trap cleanup EXIT

start_tam "$DATA"
new_agent agent1

# An empty POST without Content-Type opens a session: 200, the four
# headers of digest 3.1, a QueryRequest.
curl -s -m $CURL_MAX -D "$WORK/h" -o "$WORK/qr" -X POST -H 'Content-Type:' \
    --data-binary '' "$URL" >/dev/null || fail "empty POST"
grep -q '^HTTP/1.1 200' "$WORK/h" || fail "empty POST: $(head -1 "$WORK/h")"
for h in 'Content-Type: application/teep+cbor' \
    'X-Content-Type-Options: nosniff' \
    "Content-Security-Policy: default-src 'none'" \
    'Referrer-Policy: no-referrer'; do
    grep -qi "^$h" "$WORK/h" || fail "missing header: $h"
done
"$AGENT" respond "$WORK/agent1" "$WORK/qr" "$WORK/qresp" | grep -q \
    'QueryRequest -> QueryResponse with Evidence' || fail "not a QueryRequest"

status() { # expected status, then curl arguments
    want=$1
    shift
    got=$(curl -s -m $CURL_MAX -o /dev/null -w '%{http_code}' "$@")
    [ "$got" = "$want" ] || fail "$* -> $got, expected $want"
}
printf 'x' >"$WORK/x"
head -c 2000000 /dev/zero >"$WORK/huge"
printf '\xd2\x84\x43\xa1\x01\x26\xa0\xff' >"$WORK/garbage"
status 200 -X POST -H 'Content-Type: application/teep+cbor' --data-binary '' "$URL"
status 415 -X POST -H 'Content-Type: text/plain' --data-binary @"$WORK/x" "$URL"
status 415 -X POST -H 'Content-Type: application/json' --data-binary '' "$URL"
status 415 -X POST -H 'Content-Type:' --data-binary @"$WORK/x" "$URL"
status 406 -X POST -H 'Content-Type:' -H 'Accept: text/html' --data-binary '' "$URL"
status 405 "$URL"
status 404 -X POST -H 'Content-Type:' --data-binary '' "http://127.0.0.1:$PORT/other"
status 400 -X POST -H 'Content-Type: application/teep+cbor' --data-binary @"$WORK/garbage" "$URL"
status 413 -X POST -H 'Content-Type: application/teep+cbor' --data-binary @"$WORK/huge" "$URL"

# The QueryResponse answers once: the replay gets 400, never an Update.
[ "$(post "$WORK/qresp" "$WORK/r1")" = 204 ] || fail "QueryResponse not taken"
[ "$(post "$WORK/qresp" "$WORK/r2")" = 400 ] || fail "replay not refused"
[ ! -s "$WORK/r2" ] || fail "replay got a body"
grep -q "replayed token" "$WORK/tam.err" || fail "replay not logged"

# An Agent the TAM does not know.
"$AGENT" init "$WORK/stranger" --tam-key "$DATA/tam-esp256.pub.pem" \
    --tc-signer "$DATA/tc-signer.pub.pem" >/dev/null
: >"$WORK/empty"
post "$WORK/empty" "$WORK/qr2" >/dev/null
"$AGENT" respond "$WORK/stranger" "$WORK/qr2" "$WORK/s1" >/dev/null
[ "$(post "$WORK/s1" "$WORK/r3")" = 400 ] || fail "unknown Agent not refused"
grep -q "unknown Agent" "$WORK/tam.err" || fail "unknown Agent not logged"

# A slow client holds a connection with half a request; it gets 408 after
# the request timeout, and a whole session runs meanwhile.
exec 3<>"/dev/tcp/127.0.0.1/$PORT" || fail "connect"
printf 'POST /tam HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le' >&3
session "$WORK/agent1" >/dev/null || fail "session beside a slow client"
timeout 6 head -1 <&3 >"$WORK/slow" || true
exec 3<&-
grep -q '408' "$WORK/slow" || fail "slow client: $(cat "$WORK/slow")"

# Many sessions at once, each with its own Agent, all complete.
for i in 1 2 3 4; do
    new_agent "par$i"
done
pids=
for i in 1 2 3 4; do
    (
        WORK=$WORK/w$i
        mkdir -p "$WORK"
        session "$WORK/../par$i" >/dev/null
    ) &
    pids="$pids $!"
done
for pid in $pids; do
    wait "$pid" || fail "a parallel session failed"
done

# HTTPS and a config file: a second TAM on the same data, its options
# from JSON (the command line still names the data and the ports).
if command -v openssl >/dev/null; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 1 \
        -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null ||
        fail "openssl req"
    printf '{"tls-cert": "%s", "tls-key": "%s", "profile": "legacy",\n' \
        "$WORK/tls.crt" "$WORK/tls.key" >"$WORK/tam.json"
    printf ' "token-ttl": 60, "sw": ["tam-test-peer"]}\n' >>"$WORK/tam.json"
    stop_tam
    start_tam "$DATA" --config "$WORK/tam.json"
    grep -q "endpoint https://" "$WORK/tam.out" || fail "not HTTPS"
    PORT=$(sed -n 's|.*TEEP endpoint https://127.0.0.1:\([0-9]*\)/tam.*|\1|p' \
        "$WORK/tam.out")
    URL=https://127.0.0.1:$PORT/tam
    curl -s -m $CURL_MAX --cacert "$WORK/tls.crt" -o "$WORK/qr3" -X POST \
        -H 'Content-Type:' --data-binary '' "$URL" || fail "HTTPS POST"
    "$AGENT" respond "$WORK/agent1" "$WORK/qr3" "$WORK/qresp3" >/dev/null ||
        fail "QueryRequest over HTTPS"
    "$3" decode "$WORK/qr3" | grep -q '"profile": "legacy"' ||
        fail "the config file's profile was not used"
    [ "$(curl -s -m $CURL_MAX --cacert "$WORK/tls.crt" -o /dev/null \
        -w '%{http_code}' -X POST -H 'Content-Type: application/teep+cbor' \
        --data-binary @"$WORK/qresp3" "$URL")" = 204 ] ||
        fail "QueryResponse over HTTPS"
fi

echo "test_tam_http: all passed"
