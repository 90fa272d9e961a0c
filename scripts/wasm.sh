#!/usr/bin/env bash
# The WASM package (bindings-wasm/, npm package tresor-wasm): install what is missing, build, test in Node
# and headless Chromium, benchmark.
#
#   bash scripts/wasm.sh [test]   install, build (npm --prefix bindings-wasm run build), Node suite, Chromium
#                                 suite with the demo page test, summary
#   bash scripts/wasm.sh build    install and build only
#   bash scripts/wasm.sh bench    install, build, benchmarks (benchmarks/wasm: tresor-wasm vs @noble/curves and
#                                 WebCrypto, in Node and Chromium)
#   bash scripts/wasm.sh setup    install only
#
# Installs when missing: the wasm32 rustup target and a nightly toolchain with rust-src (the .wasm is built
# with std rebuilt for immediate-abort panics), wasm-bindgen-cli at the exact version the crate pins (into
# target/wasm-tools), the npm dev dependencies (npm ci, from bindings-wasm/package-lock.json), Debian's
# chromium (apt-get), Python cryptography (apt-get, else pip), and the native tresor CLI for the interop
# tests (TRESOR_CLI, else the first of target/debug/tresor, target/release/tresor, target/wasm/debug/tresor
# that exists, else built with cargo build -p tresor-cli into the repository's usual target directory, where
# the other test steps reuse it). The .wasm is built in target/wasm (TRESOR_WASM_TARGET_DIR).
# A step that cannot run because something cannot be installed prints "blocked: <reason>" and the script
# exits 3; a failing test exits 1. Every test step runs under a time limit (TRESOR_WASM_STEP_TIMEOUT
# seconds, default 600), so a stuck browser fails the run instead of hanging it.
set -euo pipefail

cmd="${1:-test}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pkg="$repo/bindings-wasm"
native_target="${CARGO_TARGET_DIR:-$repo/target}"
export CARGO_TARGET_DIR="${TRESOR_WASM_TARGET_DIR:-$repo/target/wasm}"
step_timeout="${TRESOR_WASM_STEP_TIMEOUT:-600}"
tools="$repo/target/wasm-tools"
logs="$repo/target/wasm-logs"
mkdir -p "$logs"
started=$(date +%s)

timings=()
last_step="" last_start=$(date +%s)
end_step() {
  [ -n "$last_step" ] && timings+=("$(printf '%4d s  %s' $(($(date +%s) - last_start)) "$last_step")")
  last_step="" last_start=$(date +%s)
}
step() {
  end_step
  last_step="$*"
  printf '\n== wasm: %s\n' "$*"
}
blocked() {
  echo "blocked: $*"
  exit 3
}

setup() {
  step "toolchains"
  command -v cargo >/dev/null || blocked "cargo is not installed (rustup is needed)"
  command -v node >/dev/null || blocked "node is not installed"
  node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || blocked "Node 20 or later is needed (found $(node --version))"
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown || blocked "rustup could not install the wasm32-unknown-unknown target"
  fi
  if [ "${TRESOR_WASM_NIGHTLY:-1}" = 1 ]; then
    local tc="${TRESOR_WASM_TOOLCHAIN:-nightly}"
    if ! rustup run "$tc" rustc --version >/dev/null 2>&1 ||
      ! rustup component list --toolchain "$tc" --installed 2>/dev/null | grep -q '^rust-src' ||
      ! rustup target list --toolchain "$tc" --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
      rustup toolchain install "$tc" --profile minimal --component rust-src --target wasm32-unknown-unknown ||
        blocked "rustup could not install the $tc toolchain with rust-src and the wasm32 target"
    fi
  fi

  step "wasm-bindgen-cli"
  local want
  want="$(sed -n 's/^wasm-bindgen *= *{[^}]*version *= *"=\([0-9.]*\)".*/\1/p' "$pkg/Cargo.toml")"
  [ -n "$want" ] || blocked "bindings-wasm/Cargo.toml does not pin wasm-bindgen with an exact version"
  if [ "$("$tools/bin/wasm-bindgen" --version 2>/dev/null)" != "wasm-bindgen $want" ]; then
    echo "installing wasm-bindgen-cli $want into $tools (a few minutes, once)"
    CARGO_TARGET_DIR="$tools/build" cargo install wasm-bindgen-cli --version "$want" --root "$tools" --force \
      >"$logs/wasm-bindgen-install.log" 2>&1 ||
      { tail -20 "$logs/wasm-bindgen-install.log"; blocked "cargo could not install wasm-bindgen-cli $want"; }
  fi
  "$tools/bin/wasm-bindgen" --version

  step "npm dependencies"
  if [ ! -d "$pkg/node_modules" ] || [ "$pkg/package-lock.json" -nt "$pkg/node_modules/.package-lock.json" ]; then
    (cd "$pkg" && npm ci --no-audit --no-fund) || blocked "npm ci failed in bindings-wasm"
  fi
}

browser_setup() {
  step "chromium"
  if [ -z "${CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then
    command -v apt-get >/dev/null || blocked "chromium is missing and there is no apt-get to install it"
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
      command -v sudo >/dev/null || blocked "chromium is missing and apt-get needs root (no sudo)"
      sudo="sudo -n"
    fi
    echo "installing Debian's chromium (apt-get; once)"
    { $sudo apt-get update && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; } \
      >"$logs/apt.log" 2>&1 || { tail -20 "$logs/apt.log"; blocked "apt-get could not install chromium"; }
  fi
  "${CHROMIUM:-/usr/bin/chromium}" --version || blocked "chromium does not start"
}

interop_setup() {
  step "interop tools (tresor CLI, OpenSSL, Python cryptography)"
  command -v openssl >/dev/null || blocked "openssl is not installed"
  if ! python3 -c 'import cryptography' 2>/dev/null; then
    # Debian's package first (pip refuses to install into a Debian-managed Python), then pip.
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo -n"
    { command -v apt-get >/dev/null &&
      $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-cryptography; } \
      >"$logs/pip.log" 2>&1 ||
      python3 -m pip install --quiet cryptography >>"$logs/pip.log" 2>&1 ||
      python3 -m pip install --quiet --user --break-system-packages cryptography >>"$logs/pip.log" 2>&1 ||
      { tail -20 "$logs/pip.log"; blocked "neither apt-get nor pip could install Python cryptography"; }
  fi
  if [ -z "${TRESOR_CLI:-}" ]; then
    local c
    for c in "$native_target/debug/tresor" "$native_target/release/tresor" "$CARGO_TARGET_DIR/debug/tresor"; do
      if [ -x "$c" ]; then
        export TRESOR_CLI="$c"
        break
      fi
    done
  fi
  if [ -z "${TRESOR_CLI:-}" ]; then
    echo "building the tresor CLI (cargo build -p tresor-cli into $native_target; once)"
    (cd "$repo" && CARGO_TARGET_DIR="$native_target" cargo build -p tresor-cli) >"$logs/tresor-cli.log" 2>&1 ||
      { tail -30 "$logs/tresor-cli.log"; echo "wasm: the tresor CLI does not build"; exit 1; }
    export TRESOR_CLI="$native_target/debug/tresor"
  fi
  echo "tresor CLI: $TRESOR_CLI"
}

build() {
  step "build (npm --prefix bindings-wasm run build)"
  npm --prefix "$pkg" run build
}

# "N passed, N failed" counts from a log: node:test's "# pass N"/"# fail N" or the Chromium runner's line.
counts_node() { sed -n 's/^# \(pass\|fail\) \([0-9]*\)$/\2/p' "$1" | paste -sd' ' -; }

run_tests() {
  local status=0 rc=0 timed_out="" node_pass=0 node_fail=0 chr_pass=0 chr_fail=0
  step "interop fixtures"
  (cd "$pkg" && timeout -k 10 "$step_timeout" node tests/fixtures.mjs)

  step "Node $(node --version): node --test"
  set +e
  (cd "$pkg" && timeout -k 10 "$step_timeout" node --test tests/node.test.mjs) 2>&1 | tee "$logs/node.log"
  rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || status=1
  [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || timed_out+=" node"
  set -e
  read -r node_pass node_fail <<<"$(counts_node "$logs/node.log")"

  step "headless Chromium: the same suite, the demo page"
  set +e
  (cd "$pkg" && timeout -k 10 "$step_timeout" node tests/browser.mjs) 2>&1 | tee "$logs/chromium.log"
  rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || status=1
  [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || timed_out+=" chromium"
  set -e
  read -r chr_pass chr_fail <<<"$(sed -n 's/^chromium: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$logs/chromium.log")"

  end_step
  local size
  size="$(node -e 'const i=require(process.argv[1]);console.log(`${(i.wasm_gzip_bytes/1000).toFixed(1)} KB gzipped (${(i.wasm_bytes/1000).toFixed(1)} KB), budget ${i.budget_gzip_bytes/1000} KB`)' "$pkg/dist/build-info.json")"
  printf '\n== wasm summary\n'
  echo "node:     ${node_pass:-0} passed, ${node_fail:-?} failed"
  echo "chromium: ${chr_pass:-0} passed, ${chr_fail:-?} failed (demo screenshot: target/wasm-demo.png)"
  echo "size:     $size"
  [ -z "$timed_out" ] || echo "timed out (after ${step_timeout} s):$timed_out"
  printf 'steps:\n'
  printf '  %s\n' "${timings[@]}"
  echo "time:     $(($(date +%s) - started)) s"
  if [ -z "${node_pass:-}" ] || [ -z "${chr_pass:-}" ]; then status=1; fi
  echo "wasm: $((${node_pass:-0} + ${chr_pass:-0})) passed, $((${node_fail:-1} + ${chr_fail:-1})) failed"
  return $status
}

case "$cmd" in
  setup)
    setup
    browser_setup
    interop_setup
    ;;
  build)
    setup
    build
    ;;
  test)
    setup
    browser_setup
    interop_setup
    build
    run_tests
    ;;
  bench)
    setup
    browser_setup
    build
    step "benchmarks (benchmarks/wasm/run.mjs)"
    timeout -k 10 1800 node "$repo/benchmarks/wasm/run.mjs" "${@:2}"
    ;;
  *)
    echo "usage: bash scripts/wasm.sh [test|build|bench|setup]" >&2
    exit 2
    ;;
esac
