#!/usr/bin/env bash
# Side-by-side benchmark: tresor native, tresor portable, OpenSSL (`openssl speed`) and Python `cryptography`,
# measured in one run on this machine. Prints one table; see benchmarks/README.md.
#
# usage: benchmarks/run.sh [--quick] [--rounds N] [--cpu-time] [--no-build] [--out DIR]
#   --quick     CI smoke test: 1 round, short budgets (< 2 min without the build)
#   --rounds N  interleaved outer rounds (default 3; --quick: 1)
#   --cpu-time  divide by CPU time instead of wall-clock time (for a machine that is not idle)
#   --no-build  use the already built target/release/tresor-bench
#   --out DIR   keep the raw JSON lines and the table in DIR (default benchmarks/results/<timestamp>)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
mode=full
outer=""
build=1
out=""
clock=wall
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) mode=quick ;;
        --full) mode=full ;;
        --rounds) outer="${2:?--rounds needs a value}"; shift ;;
        --no-build) build=0 ;;
        --out) out="${2:?--out needs a directory}"; shift ;;
        --cpu-time) clock=cpu ;;
        -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done

if [ "$mode" = quick ]; then
    outer="${outer:-1}"
    inner=(--rounds 2 --budget-ms 100 --warmup-ms 30)
    ossl_seconds=1
else
    outer="${outer:-3}"
    inner=(--rounds 2 --budget-ms 500 --warmup-ms 150)
    ossl_seconds=2
fi
inner+=(--clock "$clock")
# openssl speed: -elapsed divides by wall-clock time; without it, by the process's user CPU time.
ossl_clock=(-elapsed)
[ "$clock" = cpu ] && ossl_clock=()
case "$outer" in ''|*[!0-9]*|0) echo "run.sh: --rounds takes a positive integer" >&2; exit 2 ;; esac

for tool in openssl python3 cargo awk; do
    command -v "$tool" >/dev/null || { echo "run.sh: '$tool' is required" >&2; exit 1; }
done
python3 -c 'import cryptography' 2>/dev/null || { echo "run.sh: python3 lacks the 'cryptography' package" >&2; exit 1; }

target_dir="${CARGO_TARGET_DIR:-$root/target}"
bench="$target_dir/release/tresor-bench" # the built-in `bench` profile writes to target/release
if [ "$build" = 1 ]; then
    echo "== building tresor-bench (cargo build --profile bench)" >&2
    (cd "$root" && cargo build --profile bench -p tresor-bench)
fi
[ -x "$bench" ] || { echo "run.sh: $bench not found (build it, or drop --no-build)" >&2; exit 1; }

out="${out:-$here/results/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
raw="$out/raw.jsonl"
: >"$raw"

# tresor's Python wheel, measured beside python-cryptography (benchmarks/python/bench.py); the release wheel
# is built and installed into target/python/venv-bench by scripts/python.sh bench-env.
py_tresor=""
if [ "$build" = 1 ]; then
    echo "== building the tresor wheel (scripts/python.sh bench-env)" >&2
    py_tresor="$(bash "$root/scripts/python.sh" bench-env 2>"$out/python-wheel.log")" ||
        { echo "run.sh: warning: no Python table, the wheel did not build (see $out/python-wheel.log)" >&2; py_tresor=""; }
elif [ -x "$root/target/python/venv-bench/bin/python" ]; then
    py_tresor="$root/target/python/venv-bench/bin/python"
fi

meta() { # meta NAME VALUE: a line for the report header
    python3 -c 'import json,sys; print(json.dumps({"meta": sys.argv[1], "value": sys.argv[2]}))' "$1" "$2" >>"$raw"
}
load() { cut -d' ' -f1-3 /proc/loadavg; }

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)"
meta "machine" "${cpu:-unknown CPU}, $(nproc) cores, $(uname -sr)"
meta "mode" "$mode, $clock clock: $outer interleaved round(s); per round: tresor/python ${inner[*]}, openssl -seconds $ossl_seconds ${ossl_clock[*]}"
meta "tresor" "$(rustc --version), profile bench (opt-level 3, no overflow checks), RUSTFLAGS=${RUSTFLAGS:-none}"
meta "openssl" "$(openssl version)"
meta "python-cryptography" "$(python3 -c 'import cryptography, platform
from cryptography.hazmat.backends.openssl.backend import backend
print(f"cryptography {cryptography.__version__} on Python {platform.python_version()}, {backend.openssl_version_text()}")')"
[ -n "$py_tresor" ] && meta "tresor-python" "$("$py_tresor" -c 'import platform, tresor
print(f"tresor {tresor.__version__} wheel (release) on Python {platform.python_version()}")')"
meta "load average at start" "$(load)"
if awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
    echo "run.sh: warning: the 1-minute load average is $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores; results will be noisy" >&2
fi

# ECIES-CBC interoperability, both ways, before anything is timed.
echo "== ECIES-CBC interoperability check (tresor <-> python)" >&2
"$bench" interop-make "$out/interop-tresor.txt"
python3 "$here/peer_python.py" --interop-in "$out/interop-tresor.txt" --interop-out "$out/interop-python.txt" --interop-only
"$bench" interop-check "$out/interop-python.txt"

# `openssl speed -mr` prints (on stderr) "+DTP:bits:kind:alg:secs" or "+DT:alg:secs:bytes" before each
# "+R…:count:…:secs" result line; turn each result into a JSON line with our op ids.
parse_openssl() {
    awk '
        function emit(op, count, secs) {
            if (op != "" && count > 0)
                printf "{\"impl\":\"openssl\",\"op\":\"%s\",\"us\":%.4f,\"samples\":[%.4f],\"count\":%d,\"seconds\":%s}\n",
                    op, secs * 1e6 / count, secs * 1e6 / count, count, secs
        }
        BEGIN { FS = ":" }
        /^\+DTP:/ { bits = $2; kind = $3; alg = $4; next }
        /^\+DT:/  { alg = $2; bits = $4; kind = "enc"; next }
        /^\+R[0-9]*:/ {
            op = ""
            if (alg == "rsa" && bits == 2048) op = (kind == "private") ? "rsa2048_oaep_dec" : "rsa2048_oaep_enc"
            else if (alg == "ecdsa" && (bits == 256 || bits == 384)) op = "ecdsa_p" bits "_" kind
            else if (alg == "ecdh" && bits == 256) op = "ecdh_p256"
            else if (alg == "Ed25519") op = "ed25519_" kind
            else if (alg == "AES-128-GCM" && (bits == 1024 || bits == 65536)) {
                # openssl re-uses one IV: the same figure serves the random-IV row and the fixed-IV one
                op = "aes128gcm_enc_" (bits == 1024 ? "1k" : "64k")
                emit(op "_fixed_iv", $2, $NF)
            }
            emit(op, $2, $NF)
        }'
}

run_rust() {
    echo "== tresor native + portable" >&2
    "$bench" "${inner[@]}" >>"$raw"
}
run_python() {
    echo "== python cryptography" >&2
    python3 "$here/peer_python.py" "${inner[@]}" >>"$raw"
}
run_openssl() {
    echo "== openssl speed" >&2
    {
        openssl speed -seconds "$ossl_seconds" "${ossl_clock[@]}" -mr ed25519 ecdsap256 ecdsap384 rsa2048 ecdhp256
        openssl speed -seconds "$ossl_seconds" "${ossl_clock[@]}" -mr -aead -evp aes-128-gcm -bytes 1024
        openssl speed -seconds "$ossl_seconds" "${ossl_clock[@]}" -mr -aead -evp aes-128-gcm -bytes 65536
    } 2>&1 | tee -a "$out/openssl-raw.txt" | parse_openssl >>"$raw" # -mr writes the +DTP/+R lines to stderr
}

run_python_tresor() {
    echo "== tresor python wheel" >&2
    "$py_tresor" "$here/python/bench.py" "${inner[@]}" >>"$raw"
}

start=$SECONDS
tools=(run_rust run_python run_openssl)
[ -n "$py_tresor" ] && tools+=(run_python_tresor)
for ((r = 0; r < outer; r++)); do
    echo "== round $((r + 1))/$outer" >&2
    # Rotate the order each round so that no implementation always runs first or last.
    for ((i = 0; i < ${#tools[@]}; i++)); do
        "${tools[$(((i + r) % ${#tools[@]}))]}"
    done
done
meta "load average at end" "$(load)"
meta "measuring time" "$((SECONDS - start)) s"

python3 "$here/report.py" "$raw" | tee "$out/report.md"
echo "(raw JSON lines and this table: $out)" >&2

# The vault's figures (issue: signing through the vault with a warm cache, opening a 10,000-key envelope
# store, wrapper- and data-key rotation), KMS calls counted by the software driver.
echo "== vault" >&2
vault_bench="$target_dir/release/tresor-vault-bench"
if [ "$mode" = quick ]; then
    "$vault_bench" --keys 2000 --sign-iterations 2000 | tee -a "$out/report.md"
else
    "$vault_bench" | tee -a "$out/report.md"
fi

# The C API against the same calls in Rust (libtresor.a from a C program vs the Rust API).
echo "== C API" >&2
if [ "$mode" = quick ]; then
    "$here/c_api.sh" --rounds 1 $([ "$build" = 1 ] || echo --no-build) | tee -a "$out/report.md"
else
    "$here/c_api.sh" --rounds 3 $([ "$build" = 1 ] || echo --no-build) | tee -a "$out/report.md"
fi
