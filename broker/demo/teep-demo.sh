#!/bin/sh
# teep-demo: the end-to-end demo.  It starts the reference TAM (teep-tam)
# and teep-broker with one simulated TEE (plugins/tee/sim) per package
# mode and instance type, and deploys the sample TA (examples/hello) with
# its UA and personalization data through the broker: for each package
# mode 1-6 and each instance type (process, container, VM), 18
# deployments.  Then one remote device per transport: a teep-agent process
# (its own sim TEE) that reaches the broker over HTTP, CoAP or WebSocket,
# deployed with mode 5 (att; TA&PD -> Trusted Process); the broker's
# /admin/push makes the CoAP and WebSocket devices check in, SIGUSR1 the
# HTTP one.  Every deploy step is printed as the TAM records it
# (attestation, TA -> X, PD -> TA, UA -> REE, ...), then a summary table.
# Exit status 0 only when all 18 + 3 deployments succeeded.  Every process
# it starts is stopped before it exits.
#
# Usage: teep-demo [--keep] [--timeout SECONDS]
#   --keep   keep the work directory (logs, state) and print where it is
# Container and VM instances need root (namespaces, pivot_root).
set -eu

bin=$(cd "$(dirname "$0")" && pwd)
keep=0
timeout=180
while [ $# -gt 0 ]; do
    case $1 in
    --keep) keep=1 ;;
    --timeout) timeout=$2; shift ;;
    *) echo "usage: teep-demo [--keep] [--timeout SECONDS]" >&2; exit 2 ;;
    esac
    shift
done
for b in teep-tam teep-broker teep teep-agent hello-ta hello-ua; do
    [ -x "$bin/$b" ] || { echo "teep-demo: $bin/$b missing: build first" >&2; exit 2; }
done
[ -f "$bin/../lib/teep/tee_sim.so" ] ||
    { echo "teep-demo: the sim TEE plugin is missing: build first" >&2; exit 2; }
if [ "$(id -u)" -ne 0 ]; then
    echo "teep-demo: container and VM instances need root (run it with sudo)" >&2
    exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/teep-demo.XXXXXX")
tam_pid=""
broker_pid=""
agent_pids=""
cleanup() {
    for p in $agent_pids $broker_pid $tam_pid; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in $agent_pids $broker_pid $tam_pid; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -KILL "$p" 2>/dev/null || true
    done
    if [ $keep = 1 ]; then
        echo "teep-demo: logs and state kept in $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_line() { # FILE PATTERN
    i=0
    until grep -q "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 300 ]; then
            echo "teep-demo: timed out waiting for '$2' in $1" >&2
            tail -n 20 "$1" >&2
            exit 1
        fi
        sleep 0.1
    done
}

modes="1 2 3 4 5 6"
types="process container vm"
transports="http coap ws"

# 1. The TAM: keys, database and admin token made on first start.
echo "== starting teep-tam"
"$bin/teep-tam" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
    --data "$work/tam" --lifetime $((timeout + 120)) >"$work/tam.out" \
    2>"$work/tam.log" &
tam_pid=$!
wait_line "$work/tam.out" 'admin API'
tam_port=$(sed -n 's|.*TEEP endpoint http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/tam.out")
admin_port=$(sed -n 's|.*admin API http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/tam.out")
tam_url="http://127.0.0.1:$tam_port/tam"
tam() { "$bin/teep-tam" admin --url "http://127.0.0.1:$admin_port" --data "$work/tam" "$@"; }
echo "   TAM $tam_url, admin API http://127.0.0.1:$admin_port"

# 2. The broker, with one sim TEE per deployment: it is their TEEP Broker.
{
    echo "workers = 2;"
    echo "admin = \"127.0.0.1:0\";"
    echo "listeners = ( { uri = \"http://127.0.0.1:0/tam\"; }," \
        "{ uri = \"coap://127.0.0.1:0/tam\"; }, { uri = \"ws://127.0.0.1:0/tam\"; } );"
    echo "routes = ( { name = \"tam\"; endpoints = [ \"$tam_url\" ]; } );"
    echo "tees = ("
    sep=""
    for m in $modes; do
        for t in $types; do
            printf '%s  { name = "m%s-%s"; plugin = "tee_sim"; instance = "%s";\n' \
                "$sep" "$m" "$t" "$t"
            printf '    state_dir = "%s/tee/m%s-%s"; ua_dir = "%s/ree";\n' \
                "$work" "$m" "$t" "$work"
            printf '    policy_check_at_start = false;\n'
            printf '    options = { tam_uri = "%s"; tam_key = "%s/tam/tam-esp256.pub.pem";\n' \
                "$tam_url" "$work"
            printf '                tc_signer_key = "%s/tam/tc-signer.pub.pem"; }; }\n' \
                "$work"
            sep=","
        done
    done
    echo ");"
} >"$work/broker.conf"
echo "== starting teep-broker with 18 simulated TEEs"
mkdir -p "$work/tee"
"$bin/teep-broker" -c "$work/broker.conf" 2>"$work/broker.log" &
broker_pid=$!
wait_line "$work/broker.log" 'event=ready'
broker_admin=$(sed -n 's|.*event=admin_listening uri=\(http://[0-9.:]*\).*|\1|p' \
    "$work/broker.log")
i=0
while [ "$(grep -c 'event=tee_open' "$work/broker.log")" -lt 18 ]; do
    i=$((i + 1))
    if [ $i -gt 300 ] || grep -q 'event=tee_failed' "$work/broker.log"; then
        echo "teep-demo: the TEEs did not all open:" >&2
        grep 'tee_failed\|error' "$work/broker.log" >&2 || true
        exit 1
    fi
    sleep 0.1
done
# check_in NAME: make device NAME run a policy check now: the broker's
# local TEEs through its admin API, the remote devices by push (CoAP,
# WebSocket) or by a signal to their agent (HTTP: the device always
# starts the connection).
check_in() {
    case $1 in
    remote-http) kill -USR1 "$(cat "$work/remote-http.pid")" ;;
    remote-*) curl -s -o /dev/null -X POST "$broker_admin/admin/push?device=$1" ;;
    *) curl -s -o /dev/null -X POST "$broker_admin/admin/policy-check?tee=$1" ;;
    esac
}
listener() { # SCHEME: the URI the broker listens on for it
    sed -n "s|.*event=listening uri=\($1://[^ ]*\).*|\1|p" "$work/broker.log" |
        head -1
}

show_plan() { # NAME DEVICE DEPLOYMENT
    plan=$(tam --get plan deployment show "$3" | tr -d '[]"' | sed 's/, /; /g')
    printf '   %-13s device %-2s deployment %-2s plan: %s\n' "$1" "$2" "$3" \
        "$plan"
}

# 3. The network user: packages, devices, deployments.
printf '{"owner": "network user", "records": [1, 2, 3]}\n' >"$work/pd.json"
cp "$bin/hello-ua" "$work/hello-ua"
(cd "$work" && tar cf bundle.tar hello-ua pd.json)
ta=$(tam --get id package add ta hello "$bin/hello-ta")
ua=$(tam --get id package add ua hello-ua "$bin/hello-ua")
echo "== packages: TA hello (id $ta), UA hello-ua (id $ua)"
for m in $modes; do
    for t in $types; do
        n=m$m-$t
        dev=$(tam --get id device add "$n" \
            --teep-key "$work/tee/$n/teep-key.pub.pem" \
            --attestation-key "$work/tee/$n/attestation-key.pub.pem")
        ua_opt=""
        case $m in 1 | 2 | 3) ua_opt="--ua $ua" ;; esac
        # shellcheck disable=SC2086
        dep=$(tam --get id deployment add "$n" --mode "$m" --type "$t" \
            --ta "$ta" $ua_opt --device "$dev")
        echo "$n $dev $dep" >>"$work/deployments"
        show_plan "$n" "$dev" "$dep"
    done
done
# The remote devices: each a teep-agent with its own sim TEE, registered
# with the public keys it exports, then started against the broker.
for tr in $transports; do
    n=remote-$tr
    agent="$bin/teep-agent --state $work/tee/$n --device $n
        --tam-key $work/tam/tam-esp256.pub.pem
        --tc-signer $work/tam/tc-signer.pub.pem"
    $agent --broker "$tam_url" --export-keys "$work/$n.keys" 2>>"$work/$n.log"
    dev=$(tam --get id device add "$n" --teep-key "$work/$n.keys/teep-key.pub.pem" \
        --attestation-key "$work/$n.keys/attestation-key.pub.pem")
    dep=$(tam --get id deployment add "$n" --mode 5 --type process --ta "$ta" \
        --device "$dev")
    echo "$n $dev $dep" >>"$work/remotes"
    show_plan "$n" "$dev" "$dep"
    $agent --broker "$(listener "$tr")" --ua-socket "$work/$n.ua.sock" \
        2>>"$work/$n.log" &
    agent_pids="$agent_pids $!"
    echo $! >"$work/$n.pid"
done

# 4. Go: each TEE's broker asks its Agent for a policy check, which
#    contacts the TAM; steps print as the TAM records them.  When a
#    deployment waits for its PD, the data owner encrypts the PD to the
#    key the attestation vouched for and uploads it, and the broker is
#    asked for another policy check.
echo "== deploying (steps as they happen)"
start=$(date +%s)
while read -r n dev dep; do check_in "$n"; done <"$work/deployments"
cat "$work/deployments" "$work/remotes" >"$work/all"
mkdir -p "$work/seen"
step_lines() { # DEPLOYMENT: "step<TAB>title<TAB>status<TAB>detail" lines + state
    tam deployment show "$1" | awk '
        /"state":/ { s = $0; sub(/.*"state": "/, "", s); sub(/".*/, "", s); state = s }
        /"detail":/ { d = $0; sub(/.*"detail": /, "", d); sub(/,$/, "", d); gsub(/"/, "", d) }
        /"status":/ { st = $0; sub(/.*"status": "/, "", st); sub(/".*/, "", st) }
        /"title":/ { t = $0; sub(/.*"title": "/, "", t); sub(/",?$/, "", t)
                     n++; printf "step\t%d\t%s\t%s\t%s\n", n, t, st, d }
        END { printf "state\t%s\n", state }'
}
while :; do
    open=0
    while read -r n dev dep; do
        [ -f "$work/seen/$n.final" ] && continue
        step_lines "$dep" >"$work/seen/$n.now"
        while IFS="$(printf '\t')" read -r kind k title status detail; do
            [ "$kind" = step ] || continue
            key="$work/seen/$n.$k"
            [ "$(cat "$key" 2>/dev/null)" = "$status" ] && continue
            echo "$status" >"$key"
            [ "$status" = pending ] && continue
            [ "$title" = att ] && title=attestation
            [ "$detail" = null ] && detail=""
            printf '   [%3ss] %-13s %-26s %s%s\n' "$(($(date +%s) - start))" \
                "$n" "$title" "$status" "${detail:+ ($detail)}"
        done <"$work/seen/$n.now"
        state=$(sed -n 's/^state\t//p' "$work/seen/$n.now")
        case $state in
        done | failed)
            echo "$state" >"$work/seen/$n.final"
            echo "$(($(date +%s) - start))" >"$work/seen/$n.time"
            ;;
        waiting-pd)
            open=$((open + 1))
            if [ ! -f "$work/seen/$n.pd" ]; then
                pd=$work/pd.json
                name=pd
                case $n in m6-*) pd=$work/bundle.tar; name=bundle ;; esac
                tam device attested-key "$dev" --out "$work/$n.pdkey.pem" >/dev/null
                "$bin/teep" pd encrypt --to "$work/$n.pdkey.pem" \
                    --out "$work/$n.pd" "$pd"
                tam pd upload "$dep" "$dev" "$work/$n.pd" --plaintext "$pd" \
                    --name "$name" >/dev/null
                printf '   [%3ss] %-13s %-26s %s\n' "$(($(date +%s) - start))" \
                    "$n" "PD encrypted and uploaded" \
                    "(to the attested key, $(wc -c <"$work/$n.pd") bytes)"
                : >"$work/seen/$n.pd"
                check_in "$n"
            fi
            ;;
        *) open=$((open + 1)) ;;
        esac
    done <"$work/all"
    [ $open -eq 0 ] && break
    if [ $(($(date +%s) - start)) -gt "$timeout" ]; then
        echo "teep-demo: $open deployment(s) not finished after ${timeout}s"
        break
    fi
    sleep 0.3
done

# 5. The summary.
echo
echo "== summary"
printf '%-6s %-12s %-8s %-6s %s\n' mode instance result time steps
summary() { # FILE: rows for its deployments; sets OK to how many succeeded
    OK=0
    while read -r n dev dep; do
        case $n in
        remote-*) m=5 t="process/$(echo "${n#remote-}" | tr a-z A-Z)" ;;
        *) m=${n%%-*} m=${m#m} t=${n#*-} ;;
        esac
        result=$(cat "$work/seen/$n.final" 2>/dev/null || echo unfinished)
        [ "$result" = done ] && OK=$((OK + 1))
        steps=$(awk -F '\t' '$1 == "step" { t = $3 == "att" ? "attestation" : $3;
            printf "%s%s %s", sep, t, $4; sep = "; " }' "$work/seen/$n.now")
        printf '%-6s %-12s %-8s %-6s %s\n' "$m" "$t" "$result" \
            "$(cat "$work/seen/$n.time" 2>/dev/null || echo -)s" "$steps"
    done <"$1"
}
summary "$work/remotes"
remote_ok=$OK
# The TA serves: a UA on each remote device asks the hello TA (deployed
# with its PD above) through that device's UA gateway.
ua_ok=0
for tr in $transports; do
    n=remote-$tr
    if answer=$("$bin/hello-ua" "$work/$n.ua.sock" "hi from the $tr device" 2>&1); then
        ua_ok=$((ua_ok + 1))
    fi
    echo "UA -> TA on $n: $answer"
done
summary "$work/deployments"
uas=$(ls "$work/ree" 2>/dev/null | tr '\n' ' ')
echo "UAs installed in the REE by the broker: ${uas:-none}"
echo "remote agents (HTTP, CoAP, WebSocket): $remote_ok/3 succeeded," \
    "UA -> TA answered: $ua_ok/3"
echo "deployments: $OK/18 succeeded"
[ "$OK" -eq 18 ] && [ "$remote_ok" -eq 3 ] && [ "$ua_ok" -eq 3 ]
