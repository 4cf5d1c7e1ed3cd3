#!/bin/sh
# Install the Debian 12 packages teep-broker builds, tests and runs with.
# Idempotent: installs only what is missing.  Needs root (or sudo).
set -eu

PACKAGES="build-essential cmake pkg-config clang clang-format
libcbor-dev libjansson-dev libssl-dev openssl libmbedtls-dev libcmocka-dev
libuv1-dev libsqlite3-dev libconfig-dev xxd curl"
# llhttp's C sources (Provides: llhttp-dev), compiled into libteepnet; it
# pulls a few small node-* packages, not nodejs.
PACKAGES="$PACKAGES node-llhttp"
PACKAGES="$PACKAGES libcoap3-dev libcoap3-bin" # CoAP transport, coap-client tests
PACKAGES="$PACKAGES libwebsockets-dev libwebsockets-evlib-uv" # WebSocket transport, teep-agent

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing:$missing"
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
