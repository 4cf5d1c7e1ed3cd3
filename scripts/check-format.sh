#!/bin/sh
# Fail if a C source or header differs from the checked-in .clang-format.
set -eu
cd "$(dirname "$0")/.."
bad=$(git ls-files '*.c' '*.h' | while read -r f; do
    [ -f "$f" ] || continue # deleted in the work tree
    clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || echo "$f"
done)
if [ -n "$bad" ]; then
    echo "not formatted (run clang-format -i):"
    echo "$bad"
    exit 1
fi
echo "formatting ok"
