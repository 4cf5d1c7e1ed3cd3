#!/bin/sh
# The main job: install, build, then run the end-to-end demo
# (<build>/bin/teep-demo, broker/demo/teep-demo.sh): teep-tam and
# teep-broker with the simulated TEE deploy the sample TA with its UA and
# PD for every package mode and instance type (18 deployments) through the
# broker.  Container and VM instances need root: sudo when not root.
# Usage: scripts/demo.sh [BUILD_DIR]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}

"$top/scripts/install-deps.sh"
cmake -S "$top" -B "$build" >/dev/null
cmake --build "$build" -j"$(nproc)" --target teep-broker transport_http \
    transport_coap transport_ws teep-agent \
    tee_sim teep-tam teep hello-ta hello-ua
if [ "$(id -u)" -eq 0 ]; then
    exec "$build/bin/teep-demo"
fi
exec sudo "$build/bin/teep-demo"
