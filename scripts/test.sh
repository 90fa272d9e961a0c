#!/usr/bin/env bash
# Every test of the project, from a fresh clone: installs what is missing, runs each suite, prints a
# summary. Usage: ./scripts/test.sh            (everything)
#                 ./scripts/test.sh rust interop   (only the named steps; see STEPS below)
# Environment: FUZZ_SECONDS (per fuzz target, default 20), TRESOR_SKIP_INSTALL=1 (do not install anything).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export CARGO_TERM_COLOR=never
export RUST_BACKTRACE=0
LOG_DIR="$ROOT/target/test-logs"
mkdir -p "$LOG_DIR"

STEPS=(install fmt clippy rust rust-portable postgres wasm32 doc interop fuzz drift)
if [ "$#" -gt 0 ]; then STEPS=("$@"); fi

log() { printf '\n=== %s ===\n' "$*"; }

# --- prerequisites ----------------------------------------------------------------------------------
apt_updated=0
apt_install() {
  [ "${TRESOR_SKIP_INSTALL:-0}" = 1 ] && { echo "missing Debian packages: $* (install skipped)"; return 1; }
  if [ "$apt_updated" = 0 ]; then apt-get update -qq >/dev/null && apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

step_install() {
  local ok=0
  command -v openssl >/dev/null || apt_install openssl || ok=1
  command -v python3 >/dev/null || apt_install python3 python3-pip || ok=1
  command -v java >/dev/null || apt_install openjdk-17-jdk-headless || ok=1
  command -v mvn >/dev/null || apt_install maven || ok=1
  python3 -c 'import cryptography' 2>/dev/null || python3 -m pip install -q cryptography || ok=1
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt || ok=1
  rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown || ok=1
  rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal || ok=1
  if ! cargo fuzz --version >/dev/null 2>&1; then cargo install cargo-fuzz --locked || ok=1; fi
  echo "openssl: $(openssl version)"; echo "python cryptography: $(python3 -c 'import cryptography; print(cryptography.__version__)' 2>/dev/null)"
  echo "java: $(java -version 2>&1 | head -n1)"; echo "cargo: $(cargo --version)"; echo "cargo-fuzz: $(cargo fuzz --version 2>/dev/null)"
  return $ok
}

# --- steps ------------------------------------------------------------------------------------------
step_fmt() { cargo fmt --all -- --check; }

step_clippy() {
  cargo clippy --workspace --all-targets -- -D warnings &&
    cargo clippy -p tresor --all-targets --no-default-features --features rustcrypto -- -D warnings
}

# Unit, integration (differential, Wycheproof, property, fuzz-crasher replay) and CLI tests, native default.
step_rust() { cargo test --workspace --no-fail-fast; }

# The same core tests with the portable backend as the default (what wasm32 uses).
step_rust_portable() { cargo test -p tresor --no-default-features --features rustcrypto --no-fail-fast; }

# The key store and vault on a real PostgreSQL server (installed if missing, private to this run). The
# subshell's EXIT trap stops the server whatever happens (failure, Ctrl-C); the exit code is the tests'.
step_postgres() (
  trap 'bash scripts/services/postgres.sh stop' EXIT
  trap 'exit 130' INT TERM
  bash scripts/services/postgres.sh start || exit 1
  TRESOR_TEST_PG_URL=$(cat target/services/postgres/url) || exit 1
  export TRESOR_TEST_PG_URL
  cargo test -p tresor --features postgres --test vault_postgres
)

step_wasm32() { cargo build -p tresor --no-default-features --features rustcrypto --target wasm32-unknown-unknown; }

step_doc() { RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p tresor -p tresor-cli; }

# Interop against OpenSSL's CLI, BouncyCastle and Python `cryptography`, for real.
step_interop() { cargo build -p tresor-cli -p tresor --example aes_gcm_tool && bash tests/interop/run.sh; }

step_fuzz() { FUZZ_SECONDS="${FUZZ_SECONDS:-20}" bash scripts/fuzz.sh; }

# Tests must not modify tracked files (generated files stay in sync).
step_drift() { git diff --exit-code --stat; }

# --- runner -----------------------------------------------------------------------------------------
passed=0
failed=0
failed_names=()
start_all=$(date +%s)
for s in "${STEPS[@]}"; do
  fn="step_${s//-/_}"
  if ! declare -F "$fn" >/dev/null; then echo "unknown step '$s'; steps: install fmt clippy rust rust-portable postgres wasm32 doc interop fuzz drift"; exit 2; fi
  log "$s"
  t0=$(date +%s)
  if "$fn" 2>&1 | tee "$LOG_DIR/$s.log"; then
    passed=$((passed + 1)); echo "--- step $s: ok ($(( $(date +%s) - t0 )) s)"
  else
    failed=$((failed + 1)); failed_names+=("$s"); echo "--- step $s: FAILED ($(( $(date +%s) - t0 )) s; log: $LOG_DIR/$s.log)"
  fi
done

echo
echo "steps: ${STEPS[*]} ($(( $(date +%s) - start_all )) s)"
[ "$failed" -gt 0 ] && echo "failed steps: ${failed_names[*]}"
echo "steps: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
