#!/bin/sh
# TEEP over WebSocket with TLS (wss://): the transport with a certificate
# and key from its options, teep-agent trusting that certificate (--ca)
# exchanging messages over it, and refusing a server it cannot verify.
# Environment: BIN, VECTORS, PLUGINS.
. "$(dirname "$0")/lib.sh"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 2 \
    -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
    2>/dev/null || { fail "openssl"; exit 1; }
"$BIN/teep-transport-serve" --plugin-dir "$PLUGINS" --vectors "$VECTORS" \
    --listen wss://127.0.0.1:0/tam --opt "tls_cert=$WORK/cert.pem" \
    --opt "tls_key=$WORK/key.pem" --lifetime 60 >"$WORK/serve.out" \
    2>"$WORK/serve.err" &
PIDS="$PIDS $!"
wait_for "$WORK/serve.out" "^listening wss://" || { fail "wss listener"; exit 1; }
URL=$(sed -n 's/^listening //p' "$WORK/serve.out")
mkdir -p "$WORK/tam"
cp "$VECTORS/keys/libteep_tam_prime256v1_pub.pem" "$WORK/tam/tam-esp256.pub.pem"
cp "$VECTORS/keys/libteep_tam_prime256v1_pub.pem" "$WORK/tam/tc-signer.pub.pem"

# The canned TAM's QueryRequest is not from a TAM this Agent trusts: the
# session ends in an error, after messages went both ways over TLS.
agent tls-ok --broker "$URL" --ca "$WORK/cert.pem" --once --timeout 10
grep -q ": connected" "$WORK/tls-ok.log" && pass "wss: connected" ||
    fail "wss: not connected"
grep -q "session policy-check tam=wss.*messages=[1-9]" "$WORK/tls-ok.log" &&
    pass "wss: messages exchanged" || fail "wss: no exchange"

agent tls-bad --broker "$URL" --once --timeout 5
grep -q ": connected" "$WORK/tls-bad.log" &&
    fail "wss: connected to a server it cannot verify" ||
    pass "wss: an unverifiable server is refused"
finish
