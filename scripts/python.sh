#!/usr/bin/env bash
# The Python package (bindings-python/, wheel `tresor`): build the wheel, install it into a fresh virtual
# environment, type-check it, test it, benchmark it. Everything lives under target/.
#
#   bash scripts/python.sh [test]   tools venv (maturin, pytest, mypy, cryptography from PyPI), build the wheel,
#                                   install it into a fresh venv, mypy --strict on the tests, stubtest against
#                                   the built module, PostgreSQL started for the vault tests (stopped on exit),
#                                   pytest, summary
#   bash scripts/python.sh build    tools venv and the wheel only
#   bash scripts/python.sh bench    a release wheel, then the Python table: tresor's wheel against `cryptography`
#                                   (benchmarks/python/bench.py and benchmarks/peer_python.py, interleaved)
#   bash scripts/python.sh bench-env  a release wheel installed in target/python/venv-bench (with cryptography);
#                                   prints that venv's python on stdout (what benchmarks/run.sh uses)
#
# Environment: TRESOR_PY_PROFILE=debug|release (the wheel `test` builds; default debug, see below),
# PYTHON (the interpreter for the venvs; default python3, CPython >= 3.9), CARGO_TARGET_DIR (default target/),
# TRESOR_PY_SKIP_POSTGRES=1 (no PostgreSQL: its tests are skipped instead of required).
#
# `test` builds a debug wheel by default: the dependencies (aws-lc, the curve crates, SQLite, the KMS SDKs)
# are optimised in debug builds too (the workspace's [profile.dev.package."*"]), so the suite runs at nearly
# release speed, and the build is several times faster than `--release` with its link-time work (both timed
# in bindings-python/README.md). Benchmarks always use a release wheel.
#
# A step that cannot run because something cannot be installed prints "blocked: <reason>" and the script
# exits 3; a failing check exits 1.
set -euo pipefail

cmd="${1:-test}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pkg="$repo/bindings-python"
work="$repo/target/python"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
python="${PYTHON:-python3}"
profile="${TRESOR_PY_PROFILE:-debug}"
logs="$work/logs"
mkdir -p "$logs"
started=$(date +%s)
summary=()

step() { printf '\n== python: %s\n' "$*" >&2; }
blocked() {
  echo "blocked: $*"
  exit 3
}
note() { summary+=("$*"); }

tools_venv() {
  step "tools (maturin, pytest, mypy, cryptography) in $work/venv-tools"
  command -v cargo >/dev/null || blocked "cargo is not installed (rustup is needed)"
  command -v "$python" >/dev/null || blocked "no Python interpreter '$python'"
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 9))' ||
    blocked "$python is older than 3.9"
  if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
    if command -v apt-get >/dev/null; then
      { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv; } \
        >"$logs/apt.log" 2>&1 || true
    fi
    "$python" -c 'import venv, ensurepip' 2>/dev/null || blocked "$python cannot create virtual environments (venv/ensurepip)"
  fi
  local t="$work/venv-tools"
  if [ ! -x "$t/bin/maturin" ] || [ ! -x "$t/bin/pytest" ] || [ ! -x "$t/bin/mypy" ] ||
    ! "$t/bin/python" -c 'import cryptography' 2>/dev/null; then
    "$python" -m venv --clear "$t" || blocked "could not create $t"
    "$t/bin/python" -m pip install -q --upgrade pip >"$logs/pip-tools.log" 2>&1 || true
    "$t/bin/python" -m pip install -q maturin pytest mypy cryptography typing_extensions >>"$logs/pip-tools.log" 2>&1 ||
      { tail -20 "$logs/pip-tools.log"; blocked "pip could not install maturin, pytest, mypy and cryptography from PyPI"; }
  fi
  "$t/bin/maturin" --version >&2
}

# build_wheel PROFILE: the wheel in $work/wheels-PROFILE; sets $wheel.
build_wheel() {
  local prof="$1" out="$work/wheels-$1" t0 args=()
  step "wheel ($prof), maturin build -m bindings-python/Cargo.toml"
  [ "$prof" = release ] && args+=(--release)
  rm -rf "$out"
  t0=$(date +%s)
  (cd "$repo" && "$work/venv-tools/bin/maturin" build "${args[@]}" -m "$pkg/Cargo.toml" \
    -i "$work/venv-tools/bin/python" --out "$out") 2>&1 | tee "$logs/build-$prof.log" | grep -E '^(📦|🔗|🐍|✏️|⚠️|💥|error|warning: unused)|Finished|Built wheel' >&2 ||
    true
  wheel="$(ls "$out"/tresor-*.whl 2>/dev/null | head -n1 || true)"
  [ -n "$wheel" ] || { tail -30 "$logs/build-$prof.log"; echo "python: the wheel did not build" >&2; exit 1; }
  local secs=$(($(date +%s) - t0)) size
  size=$(du -k "$wheel" | cut -f1)
  note "wheel: $(basename "$wheel"), $prof, ${size} KiB, built in ${secs} s"
  echo "$(basename "$wheel") $prof ${size}KiB ${secs}s" >"$work/wheel-$prof.txt"
}

# fresh_venv DIR: a new venv with the wheel, pytest, mypy and cryptography.
fresh_venv() {
  local v="$1"
  step "fresh venv $v with the wheel"
  "$python" -m venv --clear "$v" || blocked "could not create $v"
  "$v/bin/python" -m pip install -q --upgrade pip >"$logs/pip-$(basename "$v").log" 2>&1 || true
  "$v/bin/python" -m pip install -q "$wheel" pytest mypy cryptography typing_extensions \
    >>"$logs/pip-$(basename "$v").log" 2>&1 ||
    { tail -20 "$logs/pip-$(basename "$v").log"; blocked "pip could not install the wheel's test dependencies"; }
  "$v/bin/python" -c 'import tresor, sys; print("tresor", tresor.__version__, "from", tresor.__file__, "on Python", sys.version.split()[0])' >&2
}

pg_started=0
stop_postgres() {
  if [ "$pg_started" = 1 ]; then
    bash "$repo/scripts/services/postgres.sh" stop >"$logs/postgres-stop.log" 2>&1 || true
  fi
}

run_tests() {
  local v="$work/venv-test" failed=0
  fresh_venv "$v"

  step "mypy --strict (tests, against the installed package and its stubs)"
  if (cd "$pkg/tests" && "$v/bin/python" -m mypy --strict --cache-dir "$work/mypy-cache" \
    --explicit-package-bases . >"$logs/mypy.log" 2>&1); then
    note "mypy --strict: $(tail -n1 "$logs/mypy.log")"
  else
    cat "$logs/mypy.log"
    note "mypy --strict: FAILED ($(tail -n1 "$logs/mypy.log"))"
    failed=1
  fi

  step "stubtest (the stubs against the built module)"
  if (cd "$work" && "$v/bin/python" -m mypy.stubtest tresor --mypy-config-file "$pkg/pyproject.toml" \
    --allowlist "$pkg/stubtest-allowlist.txt" >"$logs/stubtest.log" 2>&1); then
    note "stubtest: $(tail -n1 "$logs/stubtest.log")"
  else
    cat "$logs/stubtest.log"
    note "stubtest: FAILED"
    failed=1
  fi

  local pg_env=()
  if [ "${TRESOR_PY_SKIP_POSTGRES:-0}" != 1 ]; then
    step "PostgreSQL for the vault tests (scripts/services/postgres.sh)"
    trap stop_postgres EXIT
    pg_started=1
    bash "$repo/scripts/services/postgres.sh" start >"$logs/postgres-start.log" 2>&1 ||
      { tail -20 "$logs/postgres-start.log"; blocked "the PostgreSQL test server did not start"; }
    pg_env=(TRESOR_REQUIRE_POSTGRES=1)
  fi

  step "pytest"
  local rc=0
  (cd "$work" && env "${pg_env[@]}" TRESOR_EXPECT_INSTALLED=1 "$v/bin/python" -m pytest -p no:cacheprovider \
    -c "$pkg/pyproject.toml" --rootdir "$pkg" "$pkg/tests" -q -rs \
    --junitxml "$work/pytest.xml") 2>&1 | tee "$logs/pytest.log" || rc=$?
  note "pytest: $(grep -E '[0-9]+ (passed|failed|error)' "$logs/pytest.log" | tail -n1 | tr -d '=' | sed 's/^ *//')"
  [ "$rc" = 0 ] || failed=1
  stop_postgres
  pg_started=0
  return "$failed"
}

# Other CPython versions found on the machine (the oldest the wheel supports, 3.9, and the newest): the same
# abi3 wheel installed in a venv of each, with the key, interop and vector tests. TRESOR_PY_EXTRA lists
# interpreters explicitly ("" for none).
extra_pythons() {
  if [ -n "${TRESOR_PY_EXTRA+x}" ]; then
    printf '%s\n' $TRESOR_PY_EXTRA
    return
  fi
  local v p root
  root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
  for v in 3.9 3.13; do
    p="$(command -v "python$v" 2>/dev/null || true)"
    [ -n "$p" ] && "$p" -c 'import sys' 2>/dev/null || p="$(ls -d "$root"/versions/"$v".*/bin/python"$v" 2>/dev/null | sort -V | tail -n1 || true)"
    [ -n "$p" ] && [ -x "$p" ] && printf '%s\n' "$p"
  done
}

run_other_pythons() {
  local p ver v failed=0
  while read -r p; do
    [ -n "$p" ] || continue
    ver="$("$p" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" || continue
    v="$work/venv-py$ver"
    step "the same wheel on Python $ver ($p)"
    if ! { "$p" -m venv --clear "$v" && "$v/bin/python" -m pip install -q "$wheel" pytest cryptography typing_extensions; } \
      >"$logs/pip-py$ver.log" 2>&1; then
      note "Python $ver: not run (venv or pip failed, see $logs/pip-py$ver.log)"
      continue
    fi
    if (cd "$work" && "$v/bin/python" -m pytest -p no:cacheprovider -c "$pkg/pyproject.toml" --rootdir "$pkg" -q \
      "$pkg/tests/test_keys.py" "$pkg/tests/test_interop.py" "$pkg/tests/test_vectors.py" >"$logs/pytest-py$ver.log" 2>&1); then
      note "Python $ver: $(tail -n1 "$logs/pytest-py$ver.log" | tr -d '=' | sed 's/^ *//')"
    else
      tail -30 "$logs/pytest-py$ver.log"
      note "Python $ver: FAILED ($(tail -n1 "$logs/pytest-py$ver.log" | tr -d '='))"
      failed=1
    fi
  done < <(extra_pythons)
  return "$failed"
}

print_summary() {
  printf '\n== python: summary (%s s)\n' "$(($(date +%s) - started))"
  local s
  for s in "${summary[@]}"; do printf '  %s\n' "$s"; done
}

case "$cmd" in
  test)
    tools_venv
    build_wheel "$profile"
    rc=0
    run_tests || rc=1
    run_other_pythons || rc=1
    print_summary
    exit "$rc"
    ;;
  build)
    tools_venv
    build_wheel "$profile"
    print_summary
    ;;
  bench-env)
    tools_venv >&2
    build_wheel release >&2
    fresh_venv "$work/venv-bench" >&2
    echo "$work/venv-bench/bin/python"
    ;;
  bench)
    tools_venv
    build_wheel release
    fresh_venv "$work/venv-bench"
    shift || true
    out="$work/bench-$(date -u +%Y%m%dT%H%M%SZ)"
    mkdir -p "$out"
    rounds="${TRESOR_PY_BENCH_ROUNDS:-3}"
    for ((r = 0; r < rounds; r++)); do
      step "benchmark round $((r + 1))/$rounds"
      if [ $((r % 2)) = 0 ]; then
        "$work/venv-bench/bin/python" "$repo/benchmarks/python/bench.py" "$@" >>"$out/raw.jsonl"
        "$work/venv-bench/bin/python" "$repo/benchmarks/peer_python.py" --rounds 2 "$@" >>"$out/raw.jsonl"
      else
        "$work/venv-bench/bin/python" "$repo/benchmarks/peer_python.py" --rounds 2 "$@" >>"$out/raw.jsonl"
        "$work/venv-bench/bin/python" "$repo/benchmarks/python/bench.py" "$@" >>"$out/raw.jsonl"
      fi
    done
    "$work/venv-bench/bin/python" "$repo/benchmarks/report.py" "$out/raw.jsonl" | tee "$out/report.md"
    print_summary
    ;;
  *)
    echo "usage: bash scripts/python.sh [test|build|bench|bench-env]" >&2
    exit 2
    ;;
esac
