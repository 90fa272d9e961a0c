#!/usr/bin/env bash
# Interop tests: tresor against independent implementations (OpenSSL, pyca/cryptography,
# BouncyCastle, hashlib). See README.md in this directory.
#
#   TRESOR_BIN=...  AES_GCM_TOOL=...  bash tests/interop/run.sh
#
# Prints one `ok - ...` / `not ok - ...` line per check, then `N passed, M failed`; exits 1 if any
# check failed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TRESOR_BIN=${TRESOR_BIN:-$ROOT/target/debug/tresor}
AES_GCM_TOOL=${AES_GCM_TOOL:-$ROOT/target/debug/examples/aes_gcm_tool}
JAVA_DIR=$HERE/java

# Error-path checks look for "backtrace" in the output; keep the user's setting out of it.
unset RUST_BACKTRACE RUST_LIB_BACKTRACE

T=$(mktemp -d "${TMPDIR:-/tmp}/tresor-interop.XXXXXX")
trap 'rm -rf "$T"' EXIT

PASSED=0
FAILED=0

say() { printf '%s\n' "$*"; }

pass() {
    PASSED=$((PASSED + 1))
    say "ok - $1"
    : >"$T/last.err"
}

# fail <name> [detail...]: the detail lines (and the last command's stderr) become `#` comments.
fail() {
    FAILED=$((FAILED + 1))
    say "not ok - $1"
    shift
    local line
    for line in "$@"; do say "#   $line"; done
    if [[ -s $T/last.err ]]; then
        head -n 5 "$T/last.err" | sed 's/^/#   stderr: /'
    fi
    : >"$T/last.err"
}

# check <name> <command...>: ok when the command succeeds. stdout/stderr go to $T/last.{out,err}.
check() {
    local name=$1
    shift
    if "$@" >"$T/last.out" 2>"$T/last.err"; then
        pass "$name"
    else
        fail "$name" "exit status $? from: $*"
    fi
}

# check_fails <name> <command...>: ok when the command fails (any non-zero status).
check_fails() {
    local name=$1
    shift
    if "$@" >"$T/last.out" 2>"$T/last.err"; then
        fail "$name" "expected a failure, but it succeeded: $*"
    else
        pass "$name"
    fi
}

# check_status <name> <expected-status> <command...>
check_status() {
    local name=$1 want=$2 got=0
    shift 2
    "$@" >"$T/last.out" 2>"$T/last.err" || got=$?
    if [[ $got == "$want" ]]; then
        pass "$name"
    else
        fail "$name" "expected exit status $want, got $got from: $*"
    fi
}

# check_cli_error <name> <allowed-statuses> <command...>: the command must exit with one of the
# allowed statuses ("nonzero" = any non-zero one), print exactly one non-empty line on stderr and
# nothing that looks like a panic or a backtrace.
check_cli_error() {
    local name=$1 allowed=$2 got=0
    shift 2
    "$@" >"$T/last.out" 2>"$T/last.err" || got=$?
    local problems=()
    if [[ $allowed == nonzero ]]; then
        [[ $got != 0 ]] || problems+=("expected a non-zero exit status, got 0")
    elif [[ " $allowed " != *" $got "* ]]; then
        problems+=("expected exit status $allowed, got $got")
    fi
    local lines
    lines=$(awk 'END { print NR }' "$T/last.err")
    if [[ $lines != 1 ]]; then
        problems+=("expected exactly one line on stderr, got $lines")
    elif ! grep -q '[^[:space:]]' "$T/last.err"; then
        problems+=("the stderr line is empty")
    fi
    if grep -qiE 'panicked|backtrace' "$T/last.out" "$T/last.err"; then
        problems+=("the output mentions a panic or a backtrace")
    fi
    if ((${#problems[@]} == 0)); then
        pass "$name"
    else
        fail "$name" "command: $*" "${problems[@]}"
    fi
}

# Files ------------------------------------------------------------------------------------------

# flip <in> <out> <offset>: copy <in> to <out> with the byte at <offset> (negative: from the end;
# taken modulo the length, so a short file is still tampered with) XOR-ed with 0x01. <in> must not
# be empty.
flip() {
    python3 - "$1" "$2" "$3" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[int(sys.argv[3]) % len(data)] ^= 0x01
open(sys.argv[2], "wb").write(data)
PY
}

size_of() { stat -c %s "$1"; }

# random_file <path> <bytes>
random_file() { head -c "$2" /dev/urandom >"$1"; }

# same_files <a> <b>: cmp, quietly.
same_files() { cmp -s "$1" "$2"; }

# Tools -------------------------------------------------------------------------------------------

# tresor refuses to replace an existing output file (without --force); the checks reuse scratch
# names, so an old output file under $T is removed first. That also keeps a negative check from
# passing only because the output file was already there.
tresor() {
    local i args=("$@")
    for ((i = 0; i + 1 < ${#args[@]}; i++)); do
        case ${args[i]} in
        --out | --public-out) [[ ${args[i + 1]} != "$T"/* ]] || rm -f -- "${args[i + 1]}" ;;
        esac
    done
    "$TRESOR_BIN" "$@"
}
aes_gcm_tool() { "$AES_GCM_TOOL" "$@"; }
py_aesgcm() { python3 "$HERE/aesgcm_peer.py" "$@"; }
py_fingerprint() { python3 "$HERE/fingerprint.py" "$@"; }
bc_ecies() { java -cp "$JAVA_DIR/target/classes:$JAVA_DIR/target/lib/*" tresor.interop.EciesPeer "$@"; }

prepare_tools() {
    if [[ ! -x $TRESOR_BIN ]]; then
        say "# building the tresor CLI ($TRESOR_BIN is missing)"
        (cd "$ROOT" && cargo build -q -p tresor-cli) >&2 || true
    fi
    if [[ ! -x $AES_GCM_TOOL ]]; then
        say "# building the aes_gcm_tool example ($AES_GCM_TOOL is missing)"
        (cd "$ROOT" && cargo build -q -p tresor --example aes_gcm_tool) >&2 || true
    fi
    for tool in "$TRESOR_BIN" "$AES_GCM_TOOL"; do
        if [[ ! -x $tool ]]; then
            say "Bail out! $tool does not exist and could not be built"
            exit 2
        fi
    done
    if ! python3 -c 'import cryptography' 2>/dev/null; then
        say "# installing pyca/cryptography"
        python3 -m pip install -q cryptography >&2 || say "# pip install cryptography failed"
    fi
    # The BouncyCastle peer: built once (Maven caches BouncyCastle in ~/.m2, so later runs work
    # offline); rebuilt when its sources or pom change.
    local stamp=$JAVA_DIR/target/classes/tresor/interop/EciesPeer.class
    if [[ ! -f $stamp ]] || ! compgen -G "$JAVA_DIR/target/lib/bcprov-*.jar" >/dev/null ||
        [[ -n $(find "$JAVA_DIR/pom.xml" "$JAVA_DIR/src" -newer "$stamp" -type f 2>/dev/null) ]]; then
        say "# building the BouncyCastle peer (mvn package)"
        if ! (cd "$JAVA_DIR" && mvn -q -B package) >"$T/mvn.log" 2>&1; then
            sed 's/^/#   mvn: /' "$T/mvn.log" | tail -n 20
        fi
    fi
}

# Keys --------------------------------------------------------------------------------------------
# Every key lives in $T/keys as <name>.key.pem (PKCS#8), <name>.pub.pem and <name>.pub.der (SPKI).

KEYS=$T/keys

# openssl_key <name> <genpkey args...>
openssl_key() {
    local name=$1
    shift
    openssl genpkey "$@" -out "$KEYS/$name.key.pem" &&
        openssl pkey -in "$KEYS/$name.key.pem" -pubout -out "$KEYS/$name.pub.pem" &&
        openssl pkey -pubin -in "$KEYS/$name.pub.pem" -outform DER -out "$KEYS/$name.pub.der"
}

# tresor_key <name> <spec>: tresor keygen, then check that OpenSSL reads both files and that the
# public key file holds the public half of the private key.
tresor_key() {
    local name=$1 spec=$2
    tresor keygen --spec "$spec" --out "$KEYS/$name.key.pem" --public-out "$KEYS/$name.pub.pem" \
        >"$KEYS/$name.keygen.out" || return 1
    grep -q -- '-----BEGIN PRIVATE KEY-----' "$KEYS/$name.key.pem" || {
        echo "the private key file is not a PKCS#8 PEM" >&2
        return 1
    }
    grep -q -- '-----BEGIN PUBLIC KEY-----' "$KEYS/$name.pub.pem" || {
        echo "the public key file is not an SPKI PEM" >&2
        return 1
    }
    openssl pkey -in "$KEYS/$name.key.pem" -noout || return 1
    openssl pkey -pubin -in "$KEYS/$name.pub.pem" -outform DER -out "$KEYS/$name.pub.der" || return 1
    openssl pkey -in "$KEYS/$name.key.pem" -pubout -outform DER -out "$T/derived.pub.der" || return 1
    cmp -s "$T/derived.pub.der" "$KEYS/$name.pub.der" || {
        echo "the public key file does not match the private key (per OpenSSL)" >&2
        return 1
    }
}

make_keys() {
    mkdir -p "$KEYS"
    check "openssl genpkey: Ed25519" openssl_key o-ed25519 -algorithm ED25519
    check "openssl genpkey: P-256" openssl_key o-p256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256
    check "openssl genpkey: P-384" openssl_key o-p384 -algorithm EC -pkeyopt ec_paramgen_curve:P-384
    check "openssl genpkey: secp256k1" openssl_key o-k256 -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1
    check "openssl genpkey: RSA-2048" openssl_key o-rsa -algorithm RSA -pkeyopt rsa_keygen_bits:2048

    check "tresor keygen ec-curve-25519: OpenSSL reads the PEM files" tresor_key t-ed25519 ec-curve-25519
    check "tresor keygen ec-p-256: OpenSSL reads the PEM files" tresor_key t-p256 ec-p-256
    check "tresor keygen ec-p-384: OpenSSL reads the PEM files" tresor_key t-p384 ec-p-384
    check "tresor keygen ec-secp-256k-1: OpenSSL reads the PEM files" tresor_key t-k256 ec-secp-256k-1
    check "tresor keygen rsa-2048: OpenSSL reads the PEM files" tresor_key t-rsa rsa-2048
    check "tresor keygen: the private key file has mode 0600" \
        test "$(stat -c %a "$KEYS/t-p256.key.pem" 2>/dev/null)" = 600
    check "tresor keygen rsa-2048: OpenSSL sees a 2048-bit key" \
        bash -c "openssl pkey -pubin -in '$KEYS/t-rsa.pub.pem' -text -noout | grep -q '(2048 bit)'"
}

have_key() { [[ -f $KEYS/$1.key.pem && -f $KEYS/$1.pub.pem && -f $KEYS/$1.pub.der ]]; }

# 1. Signatures: OpenSSL <-> tresor ---------------------------------------------------------------

openssl_sign() { # <kind> <key> <msg> <sig>
    case $1 in
    ed25519) openssl pkeyutl -sign -rawin -inkey "$2" -in "$3" -out "$4" ;;
    sha256) openssl dgst -sha256 -sign "$2" -out "$4" "$3" ;;
    sha384) openssl dgst -sha384 -sign "$2" -out "$4" "$3" ;;
    esac
}

openssl_verify() { # <kind> <pub> <msg> <sig>
    case $1 in
    ed25519) openssl pkeyutl -verify -pubin -rawin -inkey "$2" -in "$3" -sigfile "$4" ;;
    sha256) openssl dgst -sha256 -verify "$2" -signature "$4" "$3" ;;
    sha384) openssl dgst -sha384 -verify "$2" -signature "$4" "$3" ;;
    esac
}

# tresor_sig_format <kind> <sig>: Ed25519 raw 64 bytes; ECDSA a DER SEQUENCE of two INTEGERs.
tresor_sig_format() {
    if [[ $1 == ed25519 ]]; then
        [[ $(size_of "$2") == 64 ]]
    else
        openssl asn1parse -inform DER -in "$2" >"$T/asn1.txt" 2>/dev/null &&
            [[ $(grep -c 'prim: INTEGER' "$T/asn1.txt") == 2 ]] &&
            head -n 1 "$T/asn1.txt" | grep -q 'cons: SEQUENCE'
    fi
}

signature_checks() {
    local msgs=("$T/msg-empty" "$T/msg-777")
    : >"$T/msg-empty"
    random_file "$T/msg-777" 777
    local entry name origin label kind algo key pub msg n flip_msg
    # origin-keyname : label : openssl kind : tresor algo
    for entry in \
        o-ed25519:Ed25519:ed25519:ed-25519 t-ed25519:Ed25519:ed25519:ed-25519 \
        o-p256:P-256:sha256:ec-dsa-sha-256 t-p256:P-256:sha256:ec-dsa-sha-256 \
        o-p384:P-384:sha384:ec-dsa-sha-384 t-p384:P-384:sha384:ec-dsa-sha-384 \
        o-k256:secp256k1:sha256:ec-dsa-sha-256 t-k256:secp256k1:sha256:ec-dsa-sha-256; do
        IFS=: read -r name label kind algo <<<"$entry"
        case $name in o-*) origin="openssl key" ;; *) origin="tresor key" ;; esac
        key=$KEYS/$name.key.pem
        pub=$KEYS/$name.pub.pem
        if ! have_key "$name"; then
            fail "sign $label ($origin): skipped, the key could not be made"
            continue
        fi
        for msg in "${msgs[@]}"; do
            n=$(size_of "$msg")
            # OpenSSL 3.0's `pkeyutl -rawin` cannot sign or verify an empty message ("Could not
            # allocate 0 bytes for oneshot sign/verify buffer"): no empty-message Ed25519 peer here.
            if [[ $kind == ed25519 && $n == 0 ]]; then continue; fi
            local tag="$label, $origin, ${n}-byte message"
            local osig=$T/$name-$n.openssl.sig tsig=$T/$name-$n.tresor.sig
            flip_msg=$T/$name-$n.tampered
            if [[ $n == 0 ]]; then printf 'x' >"$flip_msg"; else flip "$msg" "$flip_msg" 0; fi

            if openssl_sign "$kind" "$key" "$msg" "$osig" 2>"$T/last.err"; then
                check_status "openssl signs, tresor verifies ($tag)" 0 \
                    tresor verify --key "$pub" --algo "$algo" --in "$msg" --sig "$osig"
                check_status "openssl signature on a tampered message: tresor verify exits 1 ($tag)" 1 \
                    tresor verify --key "$pub" --algo "$algo" --in "$flip_msg" --sig "$osig"
            else
                fail "openssl signs ($tag)"
            fi

            if tresor sign --key "$key" --algo "$algo" --in "$msg" --out "$tsig" >"$T/last.out" 2>"$T/last.err" &&
                [[ -s $tsig ]]; then
                check "tresor signature format is $([[ $kind == ed25519 ]] && echo 'raw 64 bytes' || echo 'DER') ($tag)" \
                    tresor_sig_format "$kind" "$tsig"
                check "tresor signs, openssl verifies ($tag)" openssl_verify "$kind" "$pub" "$msg" "$tsig"
                check_fails "tresor signature on a tampered message: openssl rejects it ($tag)" \
                    openssl_verify "$kind" "$pub" "$flip_msg" "$tsig"
                check_status "tresor signature on a tampered message: tresor verify exits 1 ($tag)" 1 \
                    tresor verify --key "$pub" --algo "$algo" --in "$flip_msg" --sig "$tsig"
                flip "$tsig" "$T/$name-$n.flipped.sig" -1
                check_fails "tresor signature with a flipped bit: openssl rejects it ($tag)" \
                    openssl_verify "$kind" "$pub" "$msg" "$T/$name-$n.flipped.sig"
            else
                fail "tresor signs ($tag)" "tresor sign --key $key --algo $algo"
            fi
        done
    done
}

# 2. RSA-OAEP-SHA256: OpenSSL <-> tresor ----------------------------------------------------------

OAEP_OPTS=(-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256)

rsa_checks() {
    local name origin n pt ct
    for name in o-rsa t-rsa; do
        case $name in o-*) origin="openssl key" ;; *) origin="tresor key" ;; esac
        if ! have_key "$name"; then
            fail "RSA-OAEP ($origin): skipped, the key could not be made"
            continue
        fi
        # 190 bytes is the most RSA-2048 OAEP-SHA-256 can carry.
        for n in 1 32 190; do
            pt=$T/rsa-$n.pt
            random_file "$pt" "$n"
            ct=$T/$name-$n.openssl.ct
            if openssl pkeyutl -encrypt -pubin -inkey "$KEYS/$name.pub.pem" "${OAEP_OPTS[@]}" \
                -in "$pt" -out "$ct" 2>"$T/last.err"; then
                rm -f "$T/rsa.out"
                check "openssl encrypts, tresor decrypts (RSA-OAEP-SHA256, $origin, $n-byte plaintext)" \
                    eval "tresor decrypt --key '$KEYS/$name.key.pem' --algo rsa-oaep-sha-256 --in '$ct' --out '$T/rsa.out' && cmp -s '$pt' '$T/rsa.out'"
            else
                fail "openssl encrypts (RSA-OAEP-SHA256, $origin, $n-byte plaintext)"
            fi
            ct=$T/$name-$n.tresor.ct
            if tresor encrypt --key "$KEYS/$name.pub.pem" --algo rsa-oaep-sha-256 --in "$pt" --out "$ct" \
                >"$T/last.out" 2>"$T/last.err" && [[ -s $ct ]]; then
                check "tresor RSA ciphertext is 256 bytes ($origin, $n-byte plaintext)" test "$(size_of "$ct")" = 256
                rm -f "$T/rsa.out"
                check "tresor encrypts, openssl decrypts (RSA-OAEP-SHA256, $origin, $n-byte plaintext)" \
                    eval "openssl pkeyutl -decrypt -inkey '$KEYS/$name.key.pem' ${OAEP_OPTS[*]} -in '$ct' -out '$T/rsa.out' && cmp -s '$pt' '$T/rsa.out'"
            else
                fail "tresor encrypts (RSA-OAEP-SHA256, $origin, $n-byte plaintext)"
            fi
        done
        ct=$T/$name-190.tresor.ct
        if [[ -s $ct ]]; then
            flip "$ct" "$T/rsa-tampered.ct" 100
            check_fails "tampered RSA ciphertext: openssl rejects it ($origin)" \
                openssl pkeyutl -decrypt -inkey "$KEYS/$name.key.pem" "${OAEP_OPTS[@]}" -in "$T/rsa-tampered.ct" -out "$T/rsa.out"
            check_cli_error "tampered RSA ciphertext: tresor decrypt fails cleanly ($origin)" nonzero \
                tresor decrypt --key "$KEYS/$name.key.pem" --algo rsa-oaep-sha-256 --in "$T/rsa-tampered.ct" --out "$T/rsa.out"
        fi
        # A plaintext too large for OAEP must be refused, not truncated.
        random_file "$T/rsa-191.pt" 191
        check_cli_error "RSA-OAEP plaintext of 191 bytes: tresor encrypt refuses it ($origin)" nonzero \
            tresor encrypt --key "$KEYS/$name.pub.pem" --algo rsa-oaep-sha-256 --in "$T/rsa-191.pt" --out "$T/rsa.out"
    done
}

# 3. AES-128-GCM: pyca/cryptography <-> tresor ----------------------------------------------------

aes_gcm_checks() {
    local key other n pt ct
    key=$(openssl rand -hex 16)
    other=$(openssl rand -hex 16)
    for n in 0 1 15 16 17 100 1000; do
        pt=$T/gcm-$n.pt
        random_file "$pt" "$n"

        ct=$T/gcm-$n.py.ct
        if py_aesgcm encrypt "$key" "$pt" "$ct" 2>"$T/last.err" && [[ -s $ct ]]; then
            rm -f "$T/gcm.out"
            check "cryptography encrypts, tresor decrypts (AES-128-GCM, $n-byte plaintext)" \
                eval "aes_gcm_tool decrypt $key '$ct' '$T/gcm.out' && cmp -s '$pt' '$T/gcm.out'"
            flip "$ct" "$T/gcm-t.ct" $((12 + n / 2))
            check_fails "tampered cryptography ciphertext: tresor rejects it ($n-byte plaintext)" \
                aes_gcm_tool decrypt "$key" "$T/gcm-t.ct" "$T/gcm.out"
        else
            fail "cryptography encrypts (AES-128-GCM, $n-byte plaintext)"
        fi

        ct=$T/gcm-$n.tresor.ct
        if aes_gcm_tool encrypt "$key" "$pt" "$ct" 2>"$T/last.err" && [[ -s $ct ]]; then
            check "tresor AES-GCM ciphertext is IV(12) + $n + tag(16) bytes" test "$(size_of "$ct")" = $((n + 28))
            rm -f "$T/gcm.out"
            check "tresor encrypts, cryptography decrypts (AES-128-GCM, $n-byte plaintext)" \
                eval "py_aesgcm decrypt $key '$ct' '$T/gcm.out' && cmp -s '$pt' '$T/gcm.out'"
            flip "$ct" "$T/gcm-t.ct" $((12 + n / 2))
            check_fails "tampered tresor ciphertext: cryptography rejects it ($n-byte plaintext)" \
                py_aesgcm decrypt "$key" "$T/gcm-t.ct" "$T/gcm.out"
            check_fails "tampered tresor ciphertext: tresor rejects it ($n-byte plaintext)" \
                aes_gcm_tool decrypt "$key" "$T/gcm-t.ct" "$T/gcm.out"
        else
            fail "tresor encrypts (AES-128-GCM, $n-byte plaintext)"
        fi
    done

    ct=$T/gcm-100.tresor.ct
    if [[ -s $ct ]]; then
        flip "$ct" "$T/gcm-iv.ct" 0
        check_fails "tresor ciphertext with a flipped IV bit: cryptography rejects it" py_aesgcm decrypt "$key" "$T/gcm-iv.ct" "$T/gcm.out"
        check_fails "tresor ciphertext with a flipped IV bit: tresor rejects it" aes_gcm_tool decrypt "$key" "$T/gcm-iv.ct" "$T/gcm.out"
        flip "$ct" "$T/gcm-tag.ct" -1
        check_fails "tresor ciphertext with a flipped tag bit: cryptography rejects it" py_aesgcm decrypt "$key" "$T/gcm-tag.ct" "$T/gcm.out"
        check_fails "tresor ciphertext with a flipped tag bit: tresor rejects it" aes_gcm_tool decrypt "$key" "$T/gcm-tag.ct" "$T/gcm.out"
        check_fails "tresor ciphertext under the wrong key: cryptography rejects it" py_aesgcm decrypt "$other" "$ct" "$T/gcm.out"
        check_fails "tresor ciphertext under the wrong key: tresor rejects it" aes_gcm_tool decrypt "$other" "$ct" "$T/gcm.out"
        head -c 27 "$ct" >"$T/gcm-short.ct"
        check_fails "27-byte AES-GCM ciphertext (shorter than IV + tag): tresor rejects it" aes_gcm_tool decrypt "$key" "$T/gcm-short.ct" "$T/gcm.out"
        aes_gcm_tool encrypt "$key" "$T/gcm-100.pt" "$T/gcm-100.again.ct" 2>"$T/last.err" || true
        check "tresor AES-GCM uses a fresh IV per encryption" \
            test "$(head -c 12 "$ct" | od -An -tx1)" != "$(head -c 12 "$T/gcm-100.again.ct" | od -An -tx1)"
    fi
}

# 4. ECIES (ecies-hkdf-hmac-sha-256-aes-128-cbc): BouncyCastle <-> tresor -------------------------

ECIES=ecies-hkdf-hmac-sha-256-aes-128-cbc

ecies_checks() {
    if [[ ! -f $JAVA_DIR/target/classes/tresor/interop/EciesPeer.class ]]; then
        fail "BouncyCastle peer: build failed, ECIES checks skipped (see the mvn output above)"
        return 0
    fi
    local name origin n pt ct expected
    for name in t-p256 o-p256; do
        case $name in o-*) origin="openssl key" ;; *) origin="tresor key" ;; esac
        if ! have_key "$name"; then
            fail "ECIES ($origin): skipped, the key could not be made"
            continue
        fi
        for n in 0 1 15 16 17 100 1000; do
            pt=$T/ecies-$n.pt
            [[ -f $pt ]] || random_file "$pt" "$n"
            # IV(16) || ephemeral point(65) || AES-CBC with PKCS#7 padding || HMAC-SHA-256 tag(32)
            expected=$((16 + 65 + (n / 16 + 1) * 16 + 32))

            ct=$T/$name-$n.bc.ct
            if bc_ecies encrypt "$KEYS/$name.pub.pem" "$pt" "$ct" 2>"$T/last.err" && [[ -s $ct ]]; then
                rm -f "$T/ecies.out"
                check "BouncyCastle encrypts, tresor decrypts (ECIES, $origin, $n-byte plaintext)" \
                    eval "tresor decrypt --key '$KEYS/$name.key.pem' --algo $ECIES --in '$ct' --out '$T/ecies.out' && cmp -s '$pt' '$T/ecies.out'"
            else
                fail "BouncyCastle encrypts (ECIES, $origin, $n-byte plaintext)"
            fi

            ct=$T/$name-$n.tresor.ct
            if tresor encrypt --key "$KEYS/$name.pub.pem" --algo "$ECIES" --in "$pt" --out "$ct" \
                >"$T/last.out" 2>"$T/last.err" && [[ -s $ct ]]; then
                check "tresor ECIES ciphertext is $expected bytes ($origin, $n-byte plaintext)" test "$(size_of "$ct")" = "$expected"
                rm -f "$T/ecies.out"
                check "tresor encrypts, BouncyCastle decrypts (ECIES, $origin, $n-byte plaintext)" \
                    eval "bc_ecies decrypt '$KEYS/$name.key.pem' '$ct' '$T/ecies.out' && cmp -s '$pt' '$T/ecies.out'"
            else
                fail "tresor encrypts (ECIES, $origin, $n-byte plaintext)"
            fi
        done

        # The public key as DER works for BouncyCastle too (the Java side reads PEM or DER).
        ct=$T/$name-der.bc.ct
        rm -f "$T/ecies.out"
        check "BouncyCastle encrypts to the DER public key, tresor decrypts ($origin)" \
            eval "bc_ecies encrypt '$KEYS/$name.pub.der' '$T/ecies-100.pt' '$ct' && tresor decrypt --key '$KEYS/$name.key.pem' --algo $ECIES --in '$ct' --out '$T/ecies.out' && cmp -s '$T/ecies-100.pt' '$T/ecies.out'"

        # Tampering: one flipped bit in each authenticated part of the wire format.
        ct=$T/$name-100.tresor.ct
        [[ -s $ct ]] || continue
        local part offset
        for part in point:40 ciphertext:100 tag:-1; do
            offset=${part#*:}
            part=${part%%:*}
            flip "$ct" "$T/ecies-t.ct" "$offset"
            check_fails "tresor ECIES ciphertext with a flipped $part bit: BouncyCastle rejects it ($origin)" \
                bc_ecies decrypt "$KEYS/$name.key.pem" "$T/ecies-t.ct" "$T/ecies.out"
            check_cli_error "tresor ECIES ciphertext with a flipped $part bit: tresor rejects it ($origin)" nonzero \
                tresor decrypt --key "$KEYS/$name.key.pem" --algo "$ECIES" --in "$T/ecies-t.ct" --out "$T/ecies.out"
        done
        # The IV is not covered by the HMAC in this scheme (BouncyCastle's IES MACs the AES-CBC
        # ciphertext only), so a flipped IV bit is not detected: it flips the same bit of the first
        # plaintext block. tresor must behave exactly like BouncyCastle here.
        flip "$ct" "$T/ecies-iv.ct" 0
        flip "$T/ecies-100.pt" "$T/ecies-100.iv-flipped.pt" 0
        rm -f "$T/ecies-iv.bc.out"
        check "tresor ECIES ciphertext with a flipped IV bit: BouncyCastle yields the plaintext with that bit flipped ($origin)" \
            eval "bc_ecies decrypt '$KEYS/$name.key.pem' '$T/ecies-iv.ct' '$T/ecies-iv.bc.out' && cmp -s '$T/ecies-iv.bc.out' '$T/ecies-100.iv-flipped.pt'"
        rm -f "$T/ecies.out"
        check "tresor ECIES ciphertext with a flipped IV bit: tresor yields the same as BouncyCastle ($origin)" \
            eval "tresor decrypt --key '$KEYS/$name.key.pem' --algo $ECIES --in '$T/ecies-iv.ct' --out '$T/ecies.out' && cmp -s '$T/ecies.out' '$T/ecies-100.iv-flipped.pt'"

        ct=$T/$name-100.bc.ct
        if [[ -s $ct ]]; then
            flip "$ct" "$T/ecies-t.ct" 100
            check_fails "BouncyCastle ECIES ciphertext with a flipped bit: tresor rejects it ($origin)" \
                tresor decrypt --key "$KEYS/$name.key.pem" --algo "$ECIES" --in "$T/ecies-t.ct" --out "$T/ecies.out"
        fi
    done

    # A ciphertext for one key does not open under another.
    if have_key t-p256 && have_key o-p256 && [[ -f $T/t-p256-100.tresor.ct ]]; then
        check_fails "tresor ECIES ciphertext under the wrong key: BouncyCastle rejects it" \
            bc_ecies decrypt "$KEYS/o-p256.key.pem" "$T/t-p256-100.tresor.ct" "$T/ecies.out"
        check_fails "tresor ECIES ciphertext under the wrong key: tresor rejects it" \
            tresor decrypt --key "$KEYS/o-p256.key.pem" --algo "$ECIES" --in "$T/t-p256-100.tresor.ct" --out "$T/ecies.out"
    fi
}

# 5. Fingerprints: tresor vs hashlib --------------------------------------------------------------

# fingerprint_matches <name> <mode>: tresor fingerprint of the PEM and of the DER file both equal
# the hashlib value.
fingerprint_matches() {
    local name=$1 mode=$2 want got_pem got_der
    want=$(py_fingerprint "$mode" "$KEYS/$name.pub.der") || return 1
    got_pem=$(tresor fingerprint "$KEYS/$name.pub.pem") || return 1
    got_der=$(tresor fingerprint "$KEYS/$name.pub.der") || return 1
    if ! [[ $got_pem =~ ^1220[0-9a-f]{64}$ ]]; then
        echo "tresor printed '$got_pem', not 68 lowercase hex digits starting with 1220" >&2
        return 1
    fi
    if [[ $got_pem != "$want" ]]; then
        echo "tresor (PEM) $got_pem != hashlib $want" >&2
        return 1
    fi
    if [[ $got_der != "$want" ]]; then
        echo "tresor (DER) $got_der != hashlib $want" >&2
        return 1
    fi
    # tresor keygen prints the fingerprint of the key it made.
    if [[ -f $KEYS/$name.keygen.out ]] && [[ $(cat "$KEYS/$name.keygen.out") != "$want" ]]; then
        echo "tresor keygen printed '$(cat "$KEYS/$name.keygen.out")', hashlib says $want" >&2
        return 1
    fi
}

fingerprint_checks() {
    local entry name label mode origin
    for entry in \
        t-ed25519:ec-curve-25519:ed25519 o-ed25519:ec-curve-25519:ed25519 \
        t-p256:ec-p-256:spki o-p256:ec-p-256:spki \
        t-p384:ec-p-384:spki o-p384:ec-p-384:spki \
        t-k256:ec-secp-256k-1:spki o-k256:ec-secp-256k-1:spki \
        t-rsa:rsa-2048:spki o-rsa:rsa-2048:spki; do
        IFS=: read -r name label mode <<<"$entry"
        case $name in o-*) origin="openssl key" ;; *) origin="tresor key" ;; esac
        if ! have_key "$name"; then
            fail "fingerprint $label ($origin): skipped, the key could not be made"
            continue
        fi
        check "fingerprint $label ($origin): tresor (PEM and DER$([[ $name == t-* ]] && echo ', keygen output')) = hashlib" fingerprint_matches "$name" "$mode"
    done
    # Two different keys of one spec have different fingerprints (i.e. the key bytes are hashed).
    if have_key t-p256 && have_key o-p256; then
        check "fingerprints of two different P-256 keys differ" \
            test "$(tresor fingerprint "$KEYS/t-p256.pub.pem" 2>/dev/null)" != "$(tresor fingerprint "$KEYS/o-p256.pub.pem" 2>/dev/null)"
    fi
}

# 6. CLI error behaviour ---------------------------------------------------------------------------

cli_error_checks() {
    local e=$T/err
    mkdir -p "$e"
    : >"$e/empty.pem"
    random_file "$e/garbage.bin" 300
    printf -- '-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PUBLIC KEY-----\n' >"$e/garbage-pub.pem"
    printf -- '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----\n' >"$e/garbage-key.pem"
    printf 'hello interop\n' >"$e/msg"
    random_file "$e/sig64" 64
    local nokey=$e/does-not-exist.pem

    # Key files that are not keys.
    check_cli_error "fingerprint of an empty key file" nonzero tresor fingerprint "$e/empty.pem"
    check_cli_error "fingerprint of a garbage key file" nonzero tresor fingerprint "$e/garbage.bin"
    check_cli_error "fingerprint of a PEM file with a garbage body" nonzero tresor fingerprint "$e/garbage-pub.pem"
    check_cli_error "fingerprint of a missing file" nonzero tresor fingerprint "$nokey"
    check_cli_error "sign with an empty key file" nonzero \
        tresor sign --key "$e/empty.pem" --algo ed-25519 --in "$e/msg" --out "$e/out.sig"
    check_cli_error "sign with a garbage key file" nonzero \
        tresor sign --key "$e/garbage.bin" --algo ec-dsa-sha-256 --in "$e/msg" --out "$e/out.sig"
    check_cli_error "sign with a PEM file with a garbage body" nonzero \
        tresor sign --key "$e/garbage-key.pem" --algo ec-dsa-sha-256 --in "$e/msg" --out "$e/out.sig"
    check_cli_error "encrypt with an empty key file" nonzero \
        tresor encrypt --key "$e/empty.pem" --algo "$ECIES" --in "$e/msg" --out "$e/out.ct"
    check_cli_error "encrypt with a garbage key file" nonzero \
        tresor encrypt --key "$e/garbage.bin" --algo rsa-oaep-sha-256 --in "$e/msg" --out "$e/out.ct"
    check_cli_error "decrypt with an empty key file" nonzero \
        tresor decrypt --key "$e/empty.pem" --algo "$ECIES" --in "$e/msg" --out "$e/out.pt"
    check_cli_error "decrypt with a garbage key file" nonzero \
        tresor decrypt --key "$e/garbage.bin" --algo rsa-oaep-sha-256 --in "$e/msg" --out "$e/out.pt"

    # verify: an unreadable key is an error (2), not an invalid signature (1).
    check_cli_error "verify with an empty key file exits 2" 2 \
        tresor verify --key "$e/empty.pem" --algo ed-25519 --in "$e/msg" --sig "$e/sig64"
    check_cli_error "verify with a garbage key file exits 2" 2 \
        tresor verify --key "$e/garbage.bin" --algo ed-25519 --in "$e/msg" --sig "$e/sig64"
    check_cli_error "verify with a missing key file exits 2" 2 \
        tresor verify --key "$nokey" --algo ed-25519 --in "$e/msg" --sig "$e/sig64"
    check_cli_error "verify with a directory as the key file exits 2" 2 \
        tresor verify --key "$e" --algo ed-25519 --in "$e/msg" --sig "$e/sig64"

    # Unknown specs and algorithms.
    check_cli_error "keygen with an unknown --spec" nonzero tresor keygen --spec ec-p-521 --out "$e/unknown.pem"
    check "keygen with an unknown --spec writes no key file" test ! -e "$e/unknown.pem"
    check_cli_error "keygen without --spec" nonzero tresor keygen --out "$e/unknown.pem"
    if have_key t-p256; then
        check_cli_error "sign with an unknown --algo" nonzero \
            tresor sign --key "$KEYS/t-p256.key.pem" --algo ec-dsa-sha-512 --in "$e/msg" --out "$e/out.sig"
        check_cli_error "verify with an unknown --algo exits 2" 2 \
            tresor verify --key "$KEYS/t-p256.pub.pem" --algo ec-dsa-sha-512 --in "$e/msg" --sig "$e/sig64"
        check_cli_error "encrypt with an unknown --algo" nonzero \
            tresor encrypt --key "$KEYS/t-p256.pub.pem" --algo aes-128-gcm --in "$e/msg" --out "$e/out.ct"
        check_cli_error "decrypt with an unknown --algo" nonzero \
            tresor decrypt --key "$KEYS/t-p256.key.pem" --algo aes-128-gcm --in "$e/msg" --out "$e/out.pt"
        check_cli_error "an unknown subcommand" nonzero tresor frobnicate
    fi

    # Keys that do not fit the algorithm.
    if have_key t-p384; then
        rm -f "$e/out.sig"
        check_cli_error "sign with a P-384 key and ec-dsa-sha-256" nonzero \
            tresor sign --key "$KEYS/t-p384.key.pem" --algo ec-dsa-sha-256 --in "$e/msg" --out "$e/out.sig"
        check "sign with a P-384 key and ec-dsa-sha-256 writes no signature" test ! -e "$e/out.sig"
        if [[ -f $T/t-p384-777.tresor.sig ]]; then
            check_cli_error "verify with a P-384 key and ec-dsa-sha-256 exits 2" 2 \
                tresor verify --key "$KEYS/t-p384.pub.pem" --algo ec-dsa-sha-256 --in "$T/msg-777" --sig "$T/t-p384-777.tresor.sig"
        fi
        check_cli_error "encrypt (ECIES) to a P-384 key" nonzero \
            tresor encrypt --key "$KEYS/t-p384.pub.pem" --algo "$ECIES" --in "$e/msg" --out "$e/out.ct"
    fi
    if have_key t-ed25519; then
        check_cli_error "sign with an Ed25519 key and ec-dsa-sha-256" nonzero \
            tresor sign --key "$KEYS/t-ed25519.key.pem" --algo ec-dsa-sha-256 --in "$e/msg" --out "$e/out.sig"
        check_cli_error "encrypt (RSA-OAEP) to an Ed25519 key" nonzero \
            tresor encrypt --key "$KEYS/t-ed25519.pub.pem" --algo rsa-oaep-sha-256 --in "$e/msg" --out "$e/out.ct"
    fi
    if have_key t-p256; then
        check_cli_error "sign with a P-256 key and ed-25519" nonzero \
            tresor sign --key "$KEYS/t-p256.key.pem" --algo ed-25519 --in "$e/msg" --out "$e/out.sig"
        check_cli_error "verify with a P-256 key and ec-dsa-sha-384 exits 2" 2 \
            tresor verify --key "$KEYS/t-p256.pub.pem" --algo ec-dsa-sha-384 --in "$e/msg" --sig "$e/sig64"
        check_cli_error "encrypt (RSA-OAEP) to a P-256 key" nonzero \
            tresor encrypt --key "$KEYS/t-p256.pub.pem" --algo rsa-oaep-sha-256 --in "$e/msg" --out "$e/out.ct"
        check_cli_error "sign with a public key file" nonzero \
            tresor sign --key "$KEYS/t-p256.pub.pem" --algo ec-dsa-sha-256 --in "$e/msg" --out "$e/out.sig"
    fi
    if have_key t-rsa; then
        check_cli_error "encrypt (ECIES) to an RSA key" nonzero \
            tresor encrypt --key "$KEYS/t-rsa.pub.pem" --algo "$ECIES" --in "$e/msg" --out "$e/out.ct"
        check_cli_error "sign with an RSA key" nonzero \
            tresor sign --key "$KEYS/t-rsa.key.pem" --algo ec-dsa-sha-256 --in "$e/msg" --out "$e/out.sig"
    fi

    # Invalid and malformed signatures.
    if have_key t-ed25519; then
        check_cli_error "verify with a random 64-byte Ed25519 signature exits 1" 1 \
            tresor verify --key "$KEYS/t-ed25519.pub.pem" --algo ed-25519 --in "$e/msg" --sig "$e/sig64"
        head -c 10 "$e/sig64" >"$e/sig10"
        check_cli_error "verify with a 10-byte Ed25519 signature fails cleanly" "1 2" \
            tresor verify --key "$KEYS/t-ed25519.pub.pem" --algo ed-25519 --in "$e/msg" --sig "$e/sig10"
    fi
    if have_key t-p256 && [[ -f $T/t-p256-777.tresor.sig ]]; then
        check_cli_error "verify with another message's ECDSA signature exits 1" 1 \
            tresor verify --key "$KEYS/t-p256.pub.pem" --algo ec-dsa-sha-256 --in "$e/msg" --sig "$T/t-p256-777.tresor.sig"
        check_cli_error "verify with a garbage ECDSA signature fails cleanly" "1 2" \
            tresor verify --key "$KEYS/t-p256.pub.pem" --algo ec-dsa-sha-256 --in "$e/msg" --sig "$e/garbage.bin"
        : >"$e/empty.sig"
        check_cli_error "verify with an empty signature file fails cleanly" "1 2" \
            tresor verify --key "$KEYS/t-p256.pub.pem" --algo ec-dsa-sha-256 --in "$e/msg" --sig "$e/empty.sig"
        check_cli_error "verify with a missing signature file exits 2" 2 \
            tresor verify --key "$KEYS/t-p256.pub.pem" --algo ec-dsa-sha-256 --in "$e/msg" --sig "$e/nope.sig"
        check_cli_error "verify with a missing input file exits 2" 2 \
            tresor verify --key "$KEYS/t-p256.pub.pem" --algo ec-dsa-sha-256 --in "$e/nope.msg" --sig "$T/t-p256-777.tresor.sig"
    fi
    if have_key t-p256; then
        check_cli_error "sign a missing input file" nonzero \
            tresor sign --key "$KEYS/t-p256.key.pem" --algo ec-dsa-sha-256 --in "$e/nope.msg" --out "$e/out.sig"
        check_cli_error "sign into a directory that does not exist" nonzero \
            tresor sign --key "$KEYS/t-p256.key.pem" --algo ec-dsa-sha-256 --in "$e/msg" --out "$e/no/such/dir/out.sig"
    fi
    check_cli_error "keygen into a directory that does not exist" nonzero \
        tresor keygen --spec ec-p-256 --out "$e/no/such/dir/key.pem"

    # Truncated and empty ciphertexts.
    local ct
    ct=$T/t-p256-1000.tresor.ct
    if have_key t-p256 && [[ -f $ct ]]; then
        local len
        for len in 0 10 16 80 81 113 $(($(size_of "$ct") - 1)); do
            head -c "$len" "$ct" >"$e/trunc.ct"
            check_cli_error "ECIES ciphertext truncated to $len bytes: decrypt fails cleanly" nonzero \
                tresor decrypt --key "$KEYS/t-p256.key.pem" --algo "$ECIES" --in "$e/trunc.ct" --out "$e/out.pt"
        done
        # The legacy GCM flavour must reject a CBC-flavour ciphertext, too.
        check_cli_error "ECIES-CBC ciphertext decrypted as ecies-...-aes-128-gcm fails cleanly" nonzero \
            tresor decrypt --key "$KEYS/t-p256.key.pem" --algo ecies-hkdf-hmac-sha-256-aes-128-gcm --in "$ct" --out "$e/out.pt"
    fi
    ct=$T/t-rsa-190.tresor.ct
    if have_key t-rsa && [[ -f $ct ]]; then
        for len in 0 100 255; do
            head -c "$len" "$ct" >"$e/trunc.ct"
            check_cli_error "RSA ciphertext truncated to $len bytes: decrypt fails cleanly" nonzero \
                tresor decrypt --key "$KEYS/t-rsa.key.pem" --algo rsa-oaep-sha-256 --in "$e/trunc.ct" --out "$e/out.pt"
        done
    fi
}

# Legacy ECIES-GCM has no independent peer here; it at least has to round-trip.
legacy_gcm_checks() {
    have_key t-p256 || return 0
    local pt=$T/ecies-100.pt
    [[ -f $pt ]] || random_file "$pt" 100
    rm -f "$T/legacy.out"
    check "ecies-hkdf-hmac-sha-256-aes-128-gcm round-trips through tresor (no external peer)" \
        eval "tresor encrypt --key '$KEYS/t-p256.pub.pem' --algo ecies-hkdf-hmac-sha-256-aes-128-gcm --in '$pt' --out '$T/legacy.ct' && tresor decrypt --key '$KEYS/t-p256.key.pem' --algo ecies-hkdf-hmac-sha-256-aes-128-gcm --in '$T/legacy.ct' --out '$T/legacy.out' && cmp -s '$pt' '$T/legacy.out'"
}

# Every case of tresor's own in tests/vectors, re-checked by an independent implementation.
vector_checks() {
    local out line
    if out=$(python3 "$HERE/vectors_check.py" 2>&1); then :; fi
    while IFS= read -r line; do
        case $line in
            "ok - "*) pass "${line#ok - }" ;;
            "not ok - "*) fail "${line#not ok - }" ;;
            *) say "$line" ;;
        esac
    done <<<"$out"
    [[ $out == *"ok - vectors sealed_export.json"* ]] || fail "vectors_check.py did not run to the end" "$out"
}

main() {
    say "# tresor: $TRESOR_BIN"
    say "# aes_gcm_tool: $AES_GCM_TOOL"
    prepare_tools
    say "# $(openssl version), Python $(python3 -c 'import cryptography, sys; print(sys.version.split()[0], "/ cryptography", cryptography.__version__)'), $(java -version 2>&1 | head -n 1)"

    say "# keys"
    make_keys
    say "# 1. signatures: OpenSSL <-> tresor"
    signature_checks
    say "# 2. RSA-OAEP-SHA256: OpenSSL <-> tresor"
    rsa_checks
    say "# 3. AES-128-GCM: pyca/cryptography <-> tresor"
    aes_gcm_checks
    say "# 4. ECIES-HKDF-HMAC-SHA256-AES128-CBC: BouncyCastle <-> tresor"
    ecies_checks
    legacy_gcm_checks
    say "# 5. fingerprints: tresor <-> hashlib"
    fingerprint_checks
    say "# 6. CLI error behaviour"
    cli_error_checks
    say "# 7. tresor's own shared vectors (tests/vectors): pyca/cryptography and hashlib"
    vector_checks

    say "$PASSED passed, $FAILED failed"
    ((FAILED == 0))
}

main "$@"
