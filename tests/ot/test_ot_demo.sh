#!/bin/sh
# teep-ot-demo end to end with small tables: for each N the TAM, the
# broker and the device start on 127.0.0.1, ot-lookup is deployed with the
# N-record table through TEEP (mode 5, process instance; 1,000 records of
# 256 B is 256 KB of PD, streamed to the TA in several channel packets),
# the device attests again so that its Evidence names the TA's key, the
# Collector checks that key and gets the right records (a Collector that
# audited another binary refuses before any query), and the classic OT
# and the download do too.  teep-ot-demo stops everything it started;
# `timeout` is the backstop.
# Usage: test_ot_demo.sh BINDIR
set -u
out=$(timeout -k 5 240 "$1/teep-ot-demo" --records "100 1000" --queries 5 2>&1)
rc=$?
echo "$out"
[ $rc -eq 0 ] || { echo "FAIL: teep-ot-demo exit status $rc"; exit 1; }
for n in 100 1000; do
    for p in cc-ot classic download; do
        echo "$out" | grep -q "proto=$p n=$n size=256 queries=5 ok=5 " ||
            { echo "FAIL: $p did not return 5 right records of $n"; exit 1; }
    done
done
[ "$(echo "$out" | grep -c "attestation [0-9]* binds the TA's key")" -eq 2 ] ||
    { echo "FAIL: not every TEEP round re-attested the TA's key"; exit 1; }
echo "$out" | grep -q "another binary: refused before any query" ||
    { echo "FAIL: no refusal check against the wrong TA binary"; exit 1; }
echo "all checks passed"
