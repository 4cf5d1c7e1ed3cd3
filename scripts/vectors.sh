#!/bin/sh
# Decode every published TEEP message vector with `teep decode` and verify
# every signed one with the key tests/vectors/SIGNERS.txt names.  Prints one
# line per vector and a summary; exits 0 only if all succeed.
# Usage: scripts/vectors.sh TEEP_BINARY VECTORS_DIR
set -u
teep=$1
dir=$2
pass=0
fail=0

report() { # name outcome detail
    printf '%-52s %-6s %s\n' "$1" "$2" "$3"
    if [ "$2" = ok ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}

echo "Decoding the TEEP message vectors (type and profile as teep decode reads them):"
for f in "$dir"/tp_*.hex "$dir"/tp26_*.hex "$dir"/libteep_*.hex "$dir"/gen_*.hex; do
    name=$(basename "$f")
    case $name in
    *suit* | *tc_binary* | *evidence* | *attestation_results* | *_err[0-9]*) continue ;;
    esac
    if out=$("$teep" decode "$f" 2>&1); then
        summary=$(printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("type"), "(" + d.get("profile","?") + ")")' 2>/dev/null || echo "?")
        report "$name" ok "$summary"
    else
        report "$name" FAIL "$out"
    fi
done

echo
echo "Verifying the signed vectors:"
tmp=$(mktemp)
grep -v '^#' "$dir/SIGNERS.txt" | while read -r vector keys; do
    [ -n "$vector" ] || continue
    args=""
    for k in $keys; do args="$args --key $dir/$k"; done
    # shellcheck disable=SC2086
    if out=$("$teep" verify $args "$dir/$vector" 2>&1); then
        echo "$vector ok $(echo "$out" | head -1)"
    else
        echo "$vector FAIL $out"
    fi
done >"$tmp"
while read -r name outcome detail; do
    report "$name" "$outcome" "$detail"
done <"$tmp"
rm -f "$tmp"

echo
echo "vectors: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
