#!/bin/sh
# The main job, until the end-to-end demo exists: install, build, then
# decode and verify every published TEEP vector with the `teep` tool.
# Usage: scripts/demo.sh [BUILD_DIR]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}

"$top/scripts/install-deps.sh"
cmake -S "$top" -B "$build" >/dev/null
cmake --build "$build" -j"$(nproc)" --target teep
exec "$top/scripts/vectors.sh" "$build/bin/teep" "$top/tests/vectors"
