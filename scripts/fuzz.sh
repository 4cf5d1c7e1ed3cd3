#!/bin/sh
# Build the libFuzzer targets with clang and run each for SECONDS (default
# 30) on a corpus seeded from the published vectors: ../shared/vectors when
# it is there (CI), else the copy in tests/vectors.
# Usage: scripts/fuzz.sh [SECONDS] [BUILD_DIR]
set -eu
seconds=${1:-30}
top=$(cd "$(dirname "$0")/.." && pwd)
build=${2:-$top/build-fuzz}
vectors=$top/../shared/vectors
[ -d "$vectors" ] || vectors=$top/tests/vectors

CC=clang cmake -S "$top" -B "$build" -DTEEP_FUZZ=ON -DTEEP_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
make -C "$build" -j"$(nproc)" --no-print-directory \
    $(cd "$top/tests/fuzz" && ls fuzz_*.c | sed 's/\.c$//')

seed=$build/seed-corpus
rm -rf "$seed"
mkdir -p "$seed"
for f in "$vectors"/*.hex; do
    tr -d ' \n\r' <"$f" | xxd -r -p >"$seed/$(basename "$f" .hex).bin" || true
done

status=0
for fuzzer in "$build"/fuzz/fuzz_*; do
    name=$(basename "$fuzzer")
    corpus=$build/corpus/$name
    mkdir -p "$corpus"
    echo "== $name: ${seconds}s on $(ls "$seed" | wc -l) seeds"
    if ! "$fuzzer" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$build/$name-" \
        "$corpus" "$seed" >"$build/$name.log" 2>&1; then
        echo "$name FAILED; see $build/$name.log"
        tail -40 "$build/$name.log"
        status=1
    else
        grep -E "stat::number_of_executed_units|Done" "$build/$name.log" | tail -2
    fi
done
exit $status
