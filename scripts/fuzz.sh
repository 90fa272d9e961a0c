#!/usr/bin/env bash
# Fuzz tresor's parsers and ciphertext formats with cargo-fuzz (libFuzzer + AddressSanitizer).
#
#   scripts/fuzz.sh                      # every target, 20 s each
#   FUZZ_SECONDS=60 scripts/fuzz.sh pem jwk
#
# Environment:
#   FUZZ_SECONDS   seconds per target (default 20)
#   FUZZ_TIMEOUT   seconds one input may take before it counts as a hang (default 10)
#   FUZZ_NATIVE    1 (default): build ciphertext_rsa_oaep with the native backend (aws-lc) as well, so that
#                  RSA-OAEP decryption is fuzzed (the portable backend refuses it); 0: every target on the
#                  portable backend only, RSA gets the backend-independent checks (saves the ~1.5 min aws-lc
#                  build); all: every target with both backends, each input checked on portable and native
#                  and the two required to agree (differential; ~20 s more build than 1)
#
# Every target is built once (`cargo +nightly fuzz build -O -a`: release, with debug assertions and overflow
# checks), then each binary runs for FUZZ_SECONDS with core/fuzz/seeds/<target> as seeds and
# core/fuzz/corpus/<target> (git-ignored) as its growing corpus. An input that crashes, hangs or runs out of
# memory is copied to core/fuzz/crashers/<target>/, where `cargo test -p tresor --test fuzz_regressions`
# replays it; the script then exits non-zero naming it. Logs: core/fuzz/artifacts/<target>/fuzz.log.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
fuzz_dir=$root/core/fuzz
seconds=${FUZZ_SECONDS:-20}
timeout=${FUZZ_TIMEOUT:-10}
native=${FUZZ_NATIVE:-1}
all_targets=(spki pkcs8 pem jwk ecdsa_der ciphertext_ecies_cbc ciphertext_ecies_gcm ciphertext_aes_gcm
    ciphertext_rsa_oaep signature_verify scheme_strings)
native_targets=(ciphertext_rsa_oaep)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi
for t in "${targets[@]}"; do
    case " ${all_targets[*]} " in
        *" $t "*) ;;
        *) echo "fuzz.sh: unknown target '$t' (targets: ${all_targets[*]})" >&2; exit 2 ;;
    esac
done

start=$(date +%s)

# --- toolchain -----------------------------------------------------------------------------------
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing the nightly toolchain" >&2
    rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi
host=$(rustc +nightly -vV | sed -n 's/^host: //p')

# --- build ---------------------------------------------------------------------------------------
# Portable backend for every target first; then the native-backend targets are rebuilt with
# `--features native`, which replaces just their binaries (the order matters: a later portable build
# puts the portable binaries back).
build=(cargo +nightly fuzz build -O -a --fuzz-dir "$fuzz_dir")
echo "fuzz.sh: building the fuzz targets" >&2
"${build[@]}"
backends="portable backend"
case "$native" in
    0) ;;
    all)
        if "${build[@]}" --features native; then
            backends="portable + native backends"
        else
            echo "fuzz.sh: warning: the native build failed; every target runs on the portable backend" >&2
        fi
        ;;
    *)
        for t in "${native_targets[@]}"; do
            case " ${targets[*]} " in *" $t "*) ;; *) continue ;; esac
            if "${build[@]}" --features native "$t"; then
                backends="portable backend, $t on portable + native"
            else
                echo "fuzz.sh: warning: the native build of $t failed; it runs on the portable backend," \
                    "which refuses RSA decryption (only the shared length/format checks are fuzzed)" >&2
            fi
        done
        ;;
esac
built=$(date +%s)
echo "fuzz.sh: build took $((built - start)) s ($backends)" >&2

# --- run -----------------------------------------------------------------------------------------
bin_dir=$fuzz_dir/target/$host/release
passed=0
failed=0
failures=()
for t in "${targets[@]}"; do
    corpus=$fuzz_dir/corpus/$t
    artifacts=$fuzz_dir/artifacts/$t
    crashers=$fuzz_dir/crashers/$t
    log=$artifacts/fuzz.log
    mkdir -p "$corpus" "$artifacts"
    marker=$artifacts/.started
    touch "$marker"
    rc=0
    "$bin_dir/$t" -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" \
        "$corpus" "$fuzz_dir/seeds/$t" >"$log" 2>&1 || rc=$?
    found=()
    while IFS= read -r f; do
        found+=("$f")
    done < <(find "$artifacts" -maxdepth 1 -type f -newer "$marker" \
        \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | sort)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    size=$(find "$corpus" -type f | wc -l)
    if [ "$rc" = 0 ] && [ ${#found[@]} = 0 ]; then
        passed=$((passed + 1))
        printf '%-22s ok    %9s runs  %6s/s  corpus %s\n' "$t" "${runs:-?}" "${speed:-?}" "$size"
    else
        failed=$((failed + 1))
        mkdir -p "$crashers"
        saved=()
        for f in "${found[@]}"; do
            cp "$f" "$crashers/"
            saved+=("core/fuzz/crashers/$t/$(basename "$f")")
        done
        what=$(grep -m 1 -E 'panicked at|ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)' "$log" || true)
        printf '%-22s FAIL  (exit %s) %s\n' "$t" "$rc" "$what"
        if [ ${#saved[@]} = 0 ]; then
            echo "                       no input saved; see core/fuzz/artifacts/$t/fuzz.log"
            failures+=("$t (see core/fuzz/artifacts/$t/fuzz.log)")
        else
            for s in "${saved[@]}"; do echo "                       input: $s"; done
            failures+=("$t: ${saved[*]}")
        fi
    fi
    rm -f "$marker"
done

end=$(date +%s)
echo "fuzz.sh: total $((end - start)) s (build $((built - start)) s, ${seconds} s per target)" >&2
echo "$passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then
    echo "failing targets (replay with: cargo test -p tresor --test fuzz_regressions):" >&2
    for f in "${failures[@]}"; do echo "  $f" >&2; done
    exit 1
fi
