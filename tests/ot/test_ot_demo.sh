#!/bin/sh
# teep-ot-demo end to end with small tables: the TAM, the broker and the
# device start on 127.0.0.1, ot-lookup is deployed with a 100-record table
# through TEEP (mode 5, process instance), the Collector attests it and
# gets the right records (a Collector that audited another binary refuses
# before any query), and the classic OT and the download do too.
# teep-ot-demo stops everything it started; `timeout` is the backstop.
# Usage: test_ot_demo.sh BINDIR
set -u
out=$(timeout -k 5 240 "$1/teep-ot-demo" --records 300 --teep-records 100 \
    --queries 5 2>&1)
rc=$?
echo "$out"
[ $rc -eq 0 ] || { echo "FAIL: teep-ot-demo exit status $rc"; exit 1; }
for p in cc-ot cc-ot-local classic download; do
    echo "$out" | grep -q "proto=$p n=[0-9]* size=256 queries=5 ok=5 " ||
        { echo "FAIL: $p did not return 5 right records"; exit 1; }
done
echo "$out" | grep -q "proto=cc-ot n=100 " ||
    { echo "FAIL: the TEEP-deployed table is not the 100-record one"; exit 1; }
echo "$out" | grep -q "another binary: refused before any query" ||
    { echo "FAIL: no refusal check against the wrong TA binary"; exit 1; }
echo "all checks passed"
