#!/bin/sh
# The HTTP server (teepnet) driven by the real curl through tests/net's
# http_echo: POST round trips with binary bodies, keep-alive across two
# URLs in one curl run, 204, 413, Expect: 100-continue, chunked uploads,
# HTTP/1.0 close semantics, then a graceful stop.  Every curl is bounded
# by --max-time and the server always dies with the script.
# Usage: test_curl.sh PATH/TO/http_echo
set -u
echo_bin=$1
command -v curl >/dev/null || { echo "curl not installed"; exit 1; }
work=$(mktemp -d)
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$echo_bin" --lifetime 50 --max-body 65536 >"$work/out" 2>"$work/err" &
pid=$!
i=0
while ! grep -q '^port ' "$work/out" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 50 ]; then
        echo "http_echo did not start"; cat "$work/err"; exit 1
    fi
    sleep 0.1
done
port=$(awk '/^port /{print $2}' "$work/out")
base=http://127.0.0.1:$port
curl_() { curl -sS --max-time 10 "$@"; }

passed=0
failed=0
check() {
    name=$1
    shift
    if "$@"; then
        passed=$((passed + 1)); echo "ok   $name"
    else
        failed=$((failed + 1)); echo "FAIL $name"
    fi
}
has() { grep -qi "$1" "$2"; }

# A binary body with NULs, CR and LF survives the round trip.
head -c 3000 /dev/urandom >"$work/in"
code=$(curl_ -D "$work/h1" -o "$work/b1" -w '%{http_code}' \
    -H 'Content-Type: application/teep+cbor' \
    -H 'Accept: application/teep+cbor' --data-binary @"$work/in" "$base/tam")
check "POST status 200" [ "$code" = 200 ]
check "POST body echoed" cmp -s "$work/in" "$work/b1"
check "POST Content-Type" has '^Content-Type: application/teep+cbor' "$work/h1"
check "POST Content-Length" has '^Content-Length: 3000' "$work/h1"
check "POST Date" has '^Date: ' "$work/h1"

# Keep-alive: two URLs in one curl run share a connection.
curl_ -v -o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\n' \
    --data-binary hello "$base/a" "$base/b" >"$work/ka" 2>"$work/kav"
check "keep-alive statuses" [ "$(cut -d' ' -f1 "$work/ka" | tr '\n' ' ')" = "200 200 " ]
check "keep-alive one connection" [ "$(cut -d' ' -f2 "$work/ka" | tr '\n' ' ')" = "1 0 " ]
check "keep-alive reused" has 'Re-using existing connection' "$work/kav"

# 204 has no body.
code=$(curl_ -o "$work/b2" -w '%{http_code} %{size_download}' "$base/empty")
check "204 without body" [ "$code" = "204 0" ]

# Over --max-body: 413, refused from Content-Length.
head -c 100000 /dev/zero >"$work/big"
code=$(curl_ -o /dev/null -w '%{http_code}' --data-binary @"$work/big" "$base/tam")
check "413 for a large body" [ "$code" = 413 ]

# Expect: 100-continue is answered before the body is sent.
code=$(curl_ -v -o "$work/b3" -w '%{http_code}' -H 'Expect: 100-continue' \
    --data-binary @"$work/in" "$base/tam" 2>"$work/cv")
check "100-continue status" [ "$code" = 200 ]
check "100-continue interim" has '< HTTP/1.1 100 Continue' "$work/cv"
check "100-continue body" cmp -s "$work/in" "$work/b3"

# A chunked upload is assembled into one body.
code=$(curl_ -o "$work/b4" -w '%{http_code}' -H 'Transfer-Encoding: chunked' \
    --data-binary @"$work/in" "$base/tam")
check "chunked status" [ "$code" = 200 ]
check "chunked body" cmp -s "$work/in" "$work/b4"

# HTTP/1.0 without keep-alive: the server closes after the response.
code=$(curl_ --http1.0 -D "$work/h5" -o /dev/null -w '%{http_code}' "$base/x")
check "HTTP/1.0 status" [ "$code" = 200 ]
check "HTTP/1.0 close" has '^Connection: close' "$work/h5"

# Graceful stop on request: the server answers, then exits by itself.
code=$(curl_ -o /dev/null -w '%{http_code}' "$base/stop")
check "stop answered" [ "$code" = 200 ]
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
    i=$((i + 1)); sleep 0.1
done
check "server exited" sh -c "! kill -0 $pid 2>/dev/null"
wait "$pid" 2>/dev/null
check "server exit status 0" [ $? -eq 0 ]
pid=""

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
