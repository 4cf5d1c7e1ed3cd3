#!/bin/sh
# Install what is needed, build, and run every test with CTest.
# Usage: scripts/test.sh [--sanitize] [BUILD_DIR]
#   --sanitize  build with AddressSanitizer + UndefinedBehaviorSanitizer
#               (default build dir then: build-asan)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
sanitize=OFF
build_type=Release
build=$top/build
if [ "${1:-}" = "--sanitize" ]; then
    sanitize=ON
    build_type=RelWithDebInfo # line numbers in sanitizer reports
    build=$top/build-asan
    shift
fi
build=${1:-$build}

"$top/scripts/install-deps.sh"
cmake -S "$top" -B "$build" -DTEEP_SANITIZE=$sanitize \
    -DCMAKE_BUILD_TYPE=$build_type >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -j"$(nproc)"
