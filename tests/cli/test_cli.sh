#!/bin/sh
# test_cli.sh: the `teep` command-line tool against the published vectors.
# Usage: test_cli.sh PATH-TO-TEEP VECTORS-DIR
# Runs every command the way a user would, checks exit codes, outputs and
# stderr, and fails on any sanitizer report (the script also runs against
# a -DTEEP_SANITIZE=ON build).  Last line: "N passed, N failed".
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 PATH-TO-TEEP VECTORS-DIR" >&2
    exit 2
fi
TEEP=$1
V=$2
K=$V/keys
[ -x "$TEEP" ] || { echo "$TEEP: not an executable" >&2; exit 2; }
[ -d "$K" ] || { echo "$V: no keys/ directory" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

passed=0
failed=0
rc=0

pass() { passed=$((passed + 1)); }
fail() {
    failed=$((failed + 1))
    echo "FAIL: $*"
    if [ -s "$tmp/err" ]; then sed 's/^/    stderr: /' "$tmp/err" | head -5; fi
}

# run_from FILE ARGS...: teep with stdin from FILE, stdout in $tmp/out,
# stderr in $tmp/err, exit code in $rc.  A sanitizer report is a failure
# whatever the exit code.
run_from() {
    input=$1
    shift
    "$TEEP" "$@" <"$input" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if grep -q -e "Sanitizer" -e "runtime error:" "$tmp/err"; then
        fail "sanitizer report: teep $*"
    fi
}

# run ARGS...: the same with nothing on stdin.
run() { run_from /dev/null "$@"; }

# expect CODE DESCRIPTION: check the exit code of the last run.
expect() {
    if [ "$rc" -eq "$1" ]; then pass; else fail "$2 (exit $rc, want $1)"; fi
}

# check DESCRIPTION COMMAND...: pass when COMMAND succeeds.
check() {
    desc=$1
    shift
    if "$@"; then pass; else fail "$desc"; fi
}

# The last stderr is exactly one line that gives a byte offset.
one_line_with_byte() {
    [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "at byte [0-9]" "$tmp/err"
}

if command -v python3 >/dev/null 2>&1; then
    json_ok() { python3 -m json.tool "$1" >/dev/null 2>&1; }
elif command -v jq >/dev/null 2>&1; then
    json_ok() { jq . "$1" >/dev/null 2>&1; }
else
    echo "neither python3 nor jq: JSON is not validated"
    json_ok() { true; }
fi

# Hex of a file, one upper-case line (vectors are upper case already).
norm_hex() { tr -d ' \r\n' <"$1" | tr 'a-f' 'A-F'; }

type_of() {
    case $1 in
    *query_request*) echo QueryRequest ;;
    *query_response*) echo QueryResponse ;;
    *update*) echo Update ;;
    *teep_success*) echo Success ;;
    *teep_error*) echo Error ;;
    esac
}

profile_of() {
    case $1 in
    *tp26_*) echo rfc ;;
    *) echo legacy ;;
    esac
}

# The key that signed a vector (the first key SIGNERS.txt names for it; the
# same table scripts/vectors.sh uses), and one that did not.
key_for() {
    awk -v v="$1.hex" -v dir="$V" '$1 == v { print dir "/" $2; exit }' "$V/SIGNERS.txt"
}

wrong_key_for() {
    case $(key_for "$1") in
    *teep_agent*) echo "$K/libteep_tam_es256_cose_key_public.hex" ;;
    *) echo "$K/libteep_teep_agent_es256_cose_key_public.hex" ;;
    esac
}

# ---- unsigned vectors: decode, JSON, round trip -----------------------
unsigned=""
for kind in query_request query_response update teep_success teep_error; do
    unsigned="$unsigned tp_$kind tp26_$kind libteep_$kind"
done
for name in $unsigned; do
    f=$V/$name.hex
    run decode "$f"
    expect 0 "decode $name"
    cp "$tmp/out" "$tmp/$name.json"
    check "decode $name: valid JSON" json_ok "$tmp/$name.json"
    check "decode $name: type $(type_of "$name")" \
        grep -q "\"type\": \"$(type_of "$name")\"" "$tmp/$name.json"
    check "decode $name: profile $(profile_of "$name")" \
        grep -q "\"profile\": \"$(profile_of "$name")\"" "$tmp/$name.json"
    check "decode $name: token" \
        grep -q '"token": "A0A1A2A3A4A5A6A7A8A9AAABACADAEAF"' "$tmp/$name.json"
    run encode "$tmp/$name.json"
    expect 0 "encode $name"
    check "decode | encode $name gives the same bytes" \
        test "$(norm_hex "$tmp/out")" = "$(norm_hex "$f")"
    # Binary in, from stdin: the same JSON as from hex.
    run encode --binary --out "$tmp/$name.bin" "$tmp/$name.json"
    expect 0 "encode --binary --out $name"
    run_from "$tmp/$name.bin" decode -
    expect 0 "decode - < $name.bin"
    check "decode of binary $name equals decode of hex" \
        cmp -s "$tmp/out" "$tmp/$name.json"
done

# Names and positional elements by CDDL name.
check "QueryRequest: data-item-requested bits named" \
    grep -q '"trusted-components"' "$tmp/tp_query_request.json"
check "QueryRequest: cipher suite names" \
    grep -q '"sign1-esp256"' "$tmp/tp_query_request.json"
check "QueryRequest: SUIT profile names" \
    grep -q '"suit-sha256-esp256-ecdh-a128ctr"' "$tmp/tp_query_request.json"
check "Error: legacy err-code 17 named" \
    grep -q '"err-code_name": "ERR_MANIFEST_PROCESSING_FAILED"' \
    "$tmp/tp_teep_error.json"
check "Error: rfc err-code 11" grep -q '"err-code": 11' \
    "$tmp/tp26_teep_error.json"
check "QueryResponse: tc-list as JSON" \
    grep -q "\"h'0102030405060708090A0B0C0D0E0F'\"" \
    "$tmp/tp_query_response.json"
check "QueryResponse: libteep's label 5 kept as unknown option" \
    grep -q '"label": 5' "$tmp/libteep_query_response.json"

# Converting between numberings: legacy examples re-encoded as rfc are the
# renumbered examples.
for kind in query_request query_response update teep_success teep_error; do
    run encode --profile rfc "$tmp/tp_$kind.json"
    expect 0 "encode --profile rfc tp_$kind"
    check "tp_$kind as rfc equals tp26_$kind" \
        test "$(norm_hex "$tmp/out")" = "$(norm_hex "$V/tp26_$kind.hex")"
done

# ---- invalid input ----------------------------------------------------
for name in libteep_query_request_err1 libteep_query_request_err2 \
    libteep_query_request_err3; do
    run decode "$V/$name.hex"
    expect 2 "decode $name (negative vector)"
    check "decode $name: one stderr line with the byte" one_line_with_byte
done

run decode --profile rfc "$V/tp_teep_error.hex"
expect 2 "decode --profile rfc of a legacy Error"

for name in tp_update gen_tp_update_cose_sign1_esp256 \
    gen_tp26_query_request_cose_sign; do
    hex=$(norm_hex "$V/$name.hex")
    printf '%s\n' "${hex%??}" >"$tmp/truncated.hex"
    run decode "$tmp/truncated.hex"
    expect 2 "decode truncated $name"
    check "decode truncated $name: one stderr line with the byte" \
        one_line_with_byte
    check "decode truncated $name: stderr names the command and file" \
        grep -q "^teep decode: $tmp/truncated.hex: " "$tmp/err"
done

printf 'not a teep message\n' >"$tmp/garbage.txt"
run decode "$tmp/garbage.txt"
expect 2 "decode of text"
check "decode of text: one stderr line with the byte" one_line_with_byte

run decode "$tmp/does-not-exist"
expect 2 "decode of a missing file"

printf '{"type": "Success", "options": {"tokn": "00"}}' >"$tmp/bad.json"
run encode "$tmp/bad.json"
expect 2 "encode with an unknown option name"
check "encode names the bad member" grep -q "options.tokn" "$tmp/err"
printf '{"type": "Success",' >"$tmp/bad.json"
run encode "$tmp/bad.json"
expect 2 "encode of invalid JSON"

# ---- signed vectors: decode, verify with the right and a wrong key ----
for f in "$V"/libteep_*_cose.hex "$V"/gen_*.hex; do
    name=$(basename "$f" .hex)
    run decode "$f"
    case $name in
    libteep_evidence_cose | libteep_attestation_results_cose)
        # EAT claim sets, not TEEP messages: decode refuses them.
        expect 2 "decode $name (an EAT, not a TEEP message)"
        ;;
    *)
        expect 0 "decode $name"
        cp "$tmp/out" "$tmp/signed.json"
        check "decode $name: valid JSON" json_ok "$tmp/signed.json"
        check "decode $name: cose member" \
            grep -q '"structure": "COSE_Sign' "$tmp/signed.json"
        check "decode $name: type" \
            grep -q "\"type\": \"$(type_of "$name")\"" "$tmp/signed.json"
        ;;
    esac
    run verify --key "$(key_for "$name")" "$f"
    expect 0 "verify $name with $(basename "$(key_for "$name")")"
    check "verify $name prints the kid that verified" grep -q "kid" "$tmp/out"
    run verify --key "$(wrong_key_for "$name")" "$f"
    expect 1 "verify $name with a wrong key"
done

# COSE_Sign vectors: either signer's key alone verifies.
for name in gen_tp_query_request_cose_sign gen_tp26_query_request_cose_sign; do
    run verify --key "$K/libteep_tam_ed25519_cose_key_private.hex" \
        "$V/$name.hex"
    expect 0 "verify $name with the Ed25519 key"
    check "verify $name: Ed25519 kid printed" \
        grep -q "866EEFBD6718C8846CD7DDFE43FC74AB1DAAC4538FF8514EA2EC2D410A415743" \
        "$tmp/out"
done

# One flipped byte in the signature.
for name in gen_tp_update_cose_sign1_esp256 gen_tp_update_cose_sign1_ed25519 \
    libteep_teep_success_cose; do
    hex=$(norm_hex "$V/$name.hex")
    body=${hex%???}
    last3=${hex#"$body"}
    flipped=$(printf '%s' "$last3" | cut -c1 | tr '0-9A-F' '123456789ABCDEF0')
    printf '%s%s%s\n' "$body" "$flipped" "$(printf '%s' "$last3" | cut -c2-)" \
        >"$tmp/corrupt.hex"
    run verify --key "$(key_for "$name")" "$tmp/corrupt.hex"
    expect 1 "verify $name with a flipped signature byte"
done

run verify --key "$tmp/does-not-exist" "$V/gen_tp_update_cose_sign1_esp256.hex"
expect 2 "verify with an unreadable key"
run verify --key "$K/libteep_tam_prime256v1_pub.pem" "$V/tp_update.hex"
expect 2 "verify of an unsigned message"
hex=$(norm_hex "$V/gen_tp_update_cose_sign1_esp256.hex")
printf '%s\n' "${hex%????}" >"$tmp/truncated.hex"
run verify --key "$K/libteep_tam_prime256v1_pub.pem" "$tmp/truncated.hex"
expect 2 "verify of truncated input"
check "verify of truncated input: one stderr line with the byte" \
    one_line_with_byte

# ---- keygen -> sign -> verify -----------------------------------------
for type in p256 ed25519; do
    for format in pem cose; do
        key=$tmp/$type-$format.key
        pub=$tmp/$type-$format.pub
        run keygen --type "$type" --format "$format" --out "$key" --pub "$pub"
        expect 0 "keygen $type $format"
        kid=$(cat "$tmp/out")
        check "keygen $type $format: kid is 64 hex digits" \
            test "$(printf '%s' "$kid" | tr -cd '0-9A-F' | wc -c)" -eq 64
        check "keygen $type $format: private key mode 0600" \
            test "$(stat -c %a "$key")" = 600
        run sign --key "$key" --out "$tmp/signed.cbor" "$V/tp_update.hex"
        expect 0 "sign with $type $format"
        run verify --key "$pub" "$tmp/signed.cbor"
        expect 0 "verify $type $format signature with the public key"
        check "verify $type $format: the new kid verified" \
            grep -q "kid $kid" "$tmp/out"
        run decode "$tmp/signed.cbor"
        expect 0 "decode what sign wrote ($type $format)"
        check "sign with one key makes a COSE_Sign1" \
            grep -q '"structure": "COSE_Sign1"' "$tmp/out"
        run verify --key "$K/libteep_tam_prime256v1_pub.pem" "$tmp/signed.cbor"
        expect 1 "verify $type $format signature with another key"
    done
done

# Signing with the legacy algorithm names libteep uses.
run sign --key "$tmp/p256-pem.key" --alg es256 --hex "$V/tp_update.hex"
expect 0 "sign --alg es256"
cp "$tmp/out" "$tmp/es256.hex"
run decode "$tmp/es256.hex"
check "sign --alg es256 writes alg -7" grep -q '"alg_id": -7' "$tmp/out"
run verify --key "$tmp/p256-pem.pub" "$tmp/es256.hex"
expect 0 "verify an ES256 signature"
run sign --key "$tmp/p256-pem.key" --alg ed25519 "$V/tp_update.hex"
expect 2 "sign a P-256 key with --alg ed25519"

# COSE_Sign with two keys verifies with either.
run sign --key "$tmp/p256-pem.key" --key "$tmp/ed25519-cose.key" \
    "$V/tp26_query_request.hex"
expect 0 "sign with two keys"
cp "$tmp/out" "$tmp/two.hex"
run decode "$tmp/two.hex"
check "two keys make a COSE_Sign" grep -q '"structure": "COSE_Sign"' "$tmp/out"
check "COSE_Sign has two signatures" \
    test "$(grep -c '"alg_id"' "$tmp/out")" -eq 2
for pub in p256-pem.pub ed25519-cose.pub; do
    run verify --key "$tmp/$pub" "$tmp/two.hex"
    expect 0 "COSE_Sign verifies with $pub alone"
done
run verify --key "$K/libteep_tam_prime256v1_pub.pem" "$tmp/two.hex"
expect 1 "COSE_Sign with neither signer's key"

# sign refuses what is not an unsigned TEEP message.
run sign --key "$tmp/p256-pem.key" "$tmp/garbage.txt"
expect 2 "sign refuses garbage"
run sign --key "$tmp/p256-pem.key" "$V/tp_suit_uri.hex"
expect 2 "sign refuses a SUIT envelope"
run sign --key "$tmp/p256-pem.key" "$V/gen_tp_update_cose_sign1_esp256.hex"
expect 2 "sign refuses a signed message"
run sign --key "$tmp/p256-pem.pub" "$V/tp_update.hex"
expect 2 "sign refuses a public key"

# ---- suit ----------------------------------------------------------------
SUITKEY=$K/teep_draft_suit_signing_key_public.pem
for name in tp_suit_uri tp_suit_integrated tp_suit_personalization \
    suittd_example0_dependent suittd_example1_process \
    suittd_example2_integrated suitenc_suit-manifest-es-ecdh-content; do
    run suit verify --key "$SUITKEY" "$V/$name.hex"
    expect 0 "suit verify $name"
    run suit decode "$V/$name.hex"
    expect 0 "suit decode $name"
    check "suit decode $name: valid JSON" json_ok "$tmp/out"
done
run suit verify --key "$K/libteep_tam_prime256v1_pub.pem" "$V/tp_suit_uri.hex"
expect 1 "suit verify with the wrong key"
printf 'Hello, Secure World!' >"$tmp/ta.bin"
run keygen --type p256 --out "$tmp/suit.key" --pub "$tmp/suit.pub"
expect 0 "keygen for suit"
run suit create --component "TEEP-Device/SecureFS/8d82573a926d4754935332dc29997f74/ta" \
    --payload "$tmp/ta.bin" --integrated --key "$tmp/suit.key" --out "$tmp/ta.suit"
expect 0 "suit create --integrated"
run suit verify --key "$tmp/suit.pub" "$tmp/ta.suit"
expect 0 "suit verify of a created envelope"
run suit verify --key "$SUITKEY" "$tmp/ta.suit"
expect 1 "suit verify of a created envelope with another key"
run suit decode "$tmp/ta.suit"
expect 0 "suit decode of a created envelope"
check "created envelope integrates #tc-like payload of 20 bytes" grep -q "20" "$tmp/out"
run suit verify --key "$SUITKEY" "$tmp/garbage.txt"
expect 2 "suit verify of garbage"

# ---- pd: personalization data ---------------------------------------------
# Encrypt to a new key of each type with each profile that fits, decrypt,
# compare; the published suitenc vectors with --info; refusals.
printf '{"name":"FOO Bar","secret":"0123456789abfcdef0123456789abcd"}' \
    >"$tmp/pd.json"
for type in p256 x25519; do
    run keygen --type "$type" --out "$tmp/pd-$type.key" --pub "$tmp/pd-$type.pub"
    expect 0 "keygen $type for pd"
done
for case in p256: p256:esp256-a128kw-a128gcm p256:esp256-a128kw-a128ctr \
    p256:esp256-hkdf-a128gcm p256:suit-sha256-esp256-ecdh-a128gcm \
    x25519: x25519:x25519-a128kw-chachapoly x25519:x25519-a128kw-a128ctr \
    x25519:x25519-hkdf-chachapoly; do
    type=${case%%:*}
    profile=${case#*:}
    run pd encrypt --to "$tmp/pd-$type.pub" ${profile:+--profile "$profile"} \
        --out "$tmp/pd.blob" "$tmp/pd.json"
    expect 0 "pd encrypt $type ${profile:-default}"
    run pd decrypt --key "$tmp/pd-$type.key" --out "$tmp/pd.back" "$tmp/pd.blob"
    expect 0 "pd decrypt $type ${profile:-default}"
    check "pd $type ${profile:-default}: decrypts to the plaintext" \
        cmp -s "$tmp/pd.json" "$tmp/pd.back"
done
# hex on stdout, decrypted from stdin
run pd encrypt --to "$tmp/pd-p256.pub" "$tmp/pd.json"
expect 0 "pd encrypt to hex on stdout"
cp "$tmp/out" "$tmp/pd.hex"
run_from "$tmp/pd.hex" pd decrypt --key "$tmp/pd-p256.key" --binary -
expect 0 "pd decrypt hex from stdin"
check "pd decrypt from stdin: the plaintext" cmp -s "$tmp/pd.json" "$tmp/out"
# detached: info and ciphertext in two files, as a SUIT manifest has them
run pd encrypt --to "$tmp/pd-x25519.pub" --info "$tmp/pd.info" \
    --out "$tmp/pd.ct" "$tmp/pd.json"
expect 0 "pd encrypt --info"
run pd decrypt --key "$tmp/pd-x25519.key" --info "$tmp/pd.info" --binary \
    "$tmp/pd.ct"
expect 0 "pd decrypt --info"
check "pd decrypt --info: the plaintext" cmp -s "$tmp/pd.json" "$tmp/out"
# the published vectors
PDKEY=$K/teep_draft_personalization_kek_receiver.pem
for mode in gcm ctr; do
    run pd decrypt --key "$PDKEY" \
        --info "$V/suitenc_suit-encryption-info-es-ecdh-aes-$mode.hex" \
        --binary "$V/suitenc_encrypted-payload-es-ecdh-aes-$mode.hex"
    expect 0 "pd decrypt suitenc $mode vector"
    check "suitenc $mode vector: the firmware text" \
        test "$(cat "$tmp/out")" = "This is a real firmware image."
done
# refusals: another key (1), a key of the other type (1), a public key,
# a truncated blob, an Ed25519 recipient, a profile for the other curve (2)
run pd encrypt --to "$tmp/pd-p256.pub" --out "$tmp/pd.blob" "$tmp/pd.json"
expect 0 "pd encrypt for the refusals"
run pd decrypt --key "$PDKEY" "$tmp/pd.blob"
expect 1 "pd decrypt with another P-256 key"
run pd decrypt --key "$tmp/pd-x25519.key" "$tmp/pd.blob"
expect 1 "pd decrypt with an X25519 key"
run pd decrypt --key "$tmp/pd-p256.pub" "$tmp/pd.blob"
expect 2 "pd decrypt with a public key"
head -c 40 "$tmp/pd.blob" >"$tmp/pd.short"
run pd decrypt --key "$tmp/pd-p256.key" "$tmp/pd.short"
expect 2 "pd decrypt of a truncated blob"
check "pd decrypt of a truncated blob: one stderr line with the byte" \
    one_line_with_byte
run pd encrypt --to "$K/libteep_tam_ed25519_pub.pem" "$tmp/pd.json"
expect 2 "pd encrypt to an Ed25519 key"
run pd encrypt --to "$tmp/pd-p256.pub" --profile x25519-a128kw-chachapoly \
    "$tmp/pd.json"
expect 2 "pd encrypt with a profile for the other curve"
run pd encrypt --to "$tmp/pd-p256.pub" --profile nonsense "$tmp/pd.json"
expect 2 "pd encrypt --profile nonsense"
run pd encrypt "$tmp/pd.json"
expect 2 "pd encrypt without --to"
for sub in "" encrypt decrypt; do
    run pd $sub --help
    expect 0 "teep pd $sub --help"
    check "teep pd $sub --help prints a usage" grep -q "^Usage: teep pd" \
        "$tmp/out"
done
run pd frobnicate
expect 2 "teep pd with an unknown sub-command"

# ---- eat decode: the private-use Evidence claims ------------------------------
# A bare claims set with -70003 pd-key (a P-256 COSE_Key) and -70004 ta-keys
# ([[<<['TEEP-Device', 'ot-lookup', 'ta']>>, 32 x 0xaa]]): both printed.
PDKEY_HEX=a4010220012158200102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202258202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40
TAKEY_HEX=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
CID_HEX=834b544545502d446576696365496f742d6c6f6f6b7570427461
printf 'a23a00011172584b%s3a000111738182581a%s5820%s\n' "$PDKEY_HEX" \
    "$CID_HEX" "$TAKEY_HEX" >"$tmp/keys.eat"
run eat decode "$tmp/keys.eat"
expect 0 "eat decode of pd-key and ta-keys"
check "eat decode pd-key/ta-keys: valid JSON" json_ok "$tmp/out"
upper() { echo "$1" | tr 'a-f' 'A-F'; }
check "eat decode prints pd-key" \
    grep -q "\"pd-key\": \"$(upper "$PDKEY_HEX")\"" "$tmp/out"
check "eat decode prints pd-key as a COSE_Key" grep -q '"-1": 1' "$tmp/out"
check "eat decode prints the ta-keys component" \
    grep -q '"component": "TEEP-Device/ot-lookup/ta"' "$tmp/out"
check "eat decode prints the ta-keys component-id" \
    grep -q "\"component-id\": \"$(upper "$CID_HEX")\"" "$tmp/out"
check "eat decode prints the ta-keys key-sha256" \
    grep -q "\"key-sha256\": \"$(upper "$TAKEY_HEX")\"" "$tmp/out"
# a key hash of 31 bytes is refused
printf 'a13a000111738182581a%s581f%s\n' "$CID_HEX" \
    "$(echo "$TAKEY_HEX" | cut -c3-)" >"$tmp/short.eat"
run eat decode "$tmp/short.eat"
expect 2 "eat decode of a 31-byte ta-keys hash"
check "eat decode of a 31-byte hash: says key-sha256" grep -q "key-sha256" \
    "$tmp/err"

# ---- usage --------------------------------------------------------------
run --help
expect 0 "teep --help"
run --version
expect 0 "teep --version"
for cmd in decode encode verify sign keygen eat suit; do
    run "$cmd" --help
    expect 0 "teep $cmd --help"
    check "teep $cmd --help prints a usage" grep -q "^Usage: teep $cmd" \
        "$tmp/out"
    run "$cmd" --no-such-option
    expect 2 "teep $cmd --no-such-option"
    check "teep $cmd: unknown option gives a hint" grep -q "Try 'teep $cmd --help'" \
        "$tmp/err"
done
run frobnicate
expect 2 "unknown command"
check "unknown command gives a hint" grep -q "Try 'teep --help'" "$tmp/err"
run
expect 2 "no command"
run decode
expect 2 "decode without FILE"
run decode --profile nonsense "$V/tp_update.hex"
expect 2 "decode --profile nonsense"
run keygen --type p256
expect 2 "keygen without --out"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
