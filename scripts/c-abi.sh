#!/usr/bin/env bash
# The C ABI's checks: header drift, C tests under AddressSanitizer + UndefinedBehaviorSanitizer and
# under Valgrind, installation with PREFIX + pkg-config, and the README's C example.
#
#   scripts/c-abi.sh            everything below, in order
#   scripts/c-abi.sh header     regenerate include/tresor.h with the pinned cbindgen; fail if it changed
#   scripts/c-abi.sh asan       build and run every C test with -fsanitize=address,undefined
#   scripts/c-abi.sh valgrind   build and run every C test under valgrind (0 errors, 0 leaks)
#   scripts/c-abi.sh install    make install into a temporary PREFIX, then build the README example
#                               with `cc app.c $(pkg-config --cflags --libs tresor)` and run it
#   scripts/c-abi.sh pg URL     the threads test through one vault handle on a PostgreSQL store (ASan)
#
# Needs gcc, valgrind and pkg-config (scripts/test.sh installs them) and cbindgen $CBINDGEN_VERSION
# (installed with cargo when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

CBINDGEN_VERSION=0.29.2
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
LIBDIR=$TARGET_DIR/debug
if [ -n "${TRESOR_C_WORK:-}" ]; then
  WORK=$TRESOR_C_WORK # kept, for debugging
  mkdir -p "$WORK"
else
  WORK=$(mktemp -d /tmp/tresor-c-abi.XXXXXX)
  trap 'rm -rf "$WORK"' EXIT
fi
CFLAGS_COMMON=(-std=c11 -Wall -Wextra -Werror -g -O1 -I"$ROOT/include" -I"$ROOT/ffi-c/tests/c")
TESTS=(test_primitives test_vault test_driver)
# The shared vectors (tests/vectors/c/vectors.txt): under ASan+UBSan only (thousands of signatures and
# Argon2id exports are slow under Valgrind and add nothing it does not check in the other tests).
VECTORS=$ROOT/tests/vectors/c/vectors.txt

log() { printf '\n== c-abi: %s\n' "$*"; }

ensure_cbindgen() {
  if ! command -v cbindgen >/dev/null || [ "$(cbindgen --version | awk '{print $2}')" != "$CBINDGEN_VERSION" ]; then
    log "installing cbindgen $CBINDGEN_VERSION (cargo install)"
    cargo install --quiet cbindgen --version "$CBINDGEN_VERSION"
  fi
}

build_lib() {
  log "building libtresor (debug: the tests check behaviour, not speed)"
  # The features the Makefile installs (PostgreSQL stores, PKCS#11), as C users get them.
  cargo build --quiet -p tresor-ffi --features postgres,pkcs11
  # The system libraries a static libtresor needs, as rustc reports them.
  NATIVE_LIBS=$(cargo rustc --quiet -p tresor-ffi --features postgres,pkcs11 --lib --crate-type staticlib -- --print native-static-libs 2>&1 |
    sed -n 's/.*native-static-libs: //p' | tail -1)
  [ -n "$NATIVE_LIBS" ] || NATIVE_LIBS="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"
}

header() {
  ensure_cbindgen
  log "header drift check (cbindgen $CBINDGEN_VERSION)"
  cbindgen --quiet --config ffi-c/cbindgen.toml --crate tresor-ffi --output include/tresor.h
  if ! git diff --exit-code -- include/tresor.h; then
    echo "include/tresor.h differs from what the code generates: commit the regenerated header" >&2
    return 1
  fi
  echo "include/tresor.h is up to date"
  # The header stands alone, in strict C99 and in C++ (extern "C").
  printf '#include "tresor.h"\nint main(void) { return TRESOR_STATUS_OK; }\n' >"$WORK/header.c"
  gcc -std=c99 -Wall -Wextra -Wpedantic -Werror -I"$ROOT/include" -c "$WORK/header.c" -o "$WORK/header.o"
  if command -v g++ >/dev/null; then
    cp "$WORK/header.c" "$WORK/header.cpp"
    g++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -I"$ROOT/include" -c "$WORK/header.cpp" -o "$WORK/header-cpp.o"
  fi
  echo "include/tresor.h compiles alone as C99 and C++11 (-Wpedantic -Werror)"
}

compile_tests() { # $1 = variant name, rest = extra flags
  local variant=$1
  shift
  mkdir -p "$WORK/$variant"
  local tests=("${TESTS[@]}")
  [ "$variant" = asan ] && tests+=(test_vectors)
  for t in "${tests[@]}"; do
    # shellcheck disable=SC2086
    gcc "${CFLAGS_COMMON[@]}" "$@" -o "$WORK/$variant/$t" "ffi-c/tests/c/$t.c" \
      "$LIBDIR/libtresor.a" $NATIVE_LIBS -lpthread
  done
}

run_tests() { # $1 = variant, rest = a command prefix
  local variant=$1
  shift
  local failed=0
  for t in "${TESTS[@]}"; do
    echo "-- $variant: $t"
    if ! (cd "$WORK" && TMPDIR=$WORK "$@" "$WORK/$variant/$t"); then
      echo "FAILED: $variant $t" >&2
      failed=1
    fi
  done
  return $failed
}

# Every function the header declares is called by at least one C test.
coverage() {
  local missing=0 n=0
  for f in $(grep -oE '^[a-z_ ]+[ *]+tresor_[a-z0-9_]+\(' include/tresor.h | grep -oE 'tresor_[a-z0-9_]+\($' | tr -d '(' | sort -u); do
    n=$((n + 1))
    if ! grep -q "\b$f(" ffi-c/tests/c/*.c; then
      echo "no C test calls $f" >&2
      missing=1
    fi
  done
  [ "$missing" = 0 ] && echo "all $n functions of tresor.h are called by the C tests"
  return $missing
}

# The vault's C functions marshal only: each calls one core function (the logic a second binding would repeat
# lives in the core's facade). A function body longer than MARSHAL_MAX_LINES is a sign that logic crept in.
MARSHAL_MAX_LINES=40
marshal_only() {
  local report
  report=$(awk -v max="$MARSHAL_MAX_LINES" '
    /^pub (unsafe )?extern "C" fn tresor_vault_/ { match($0, /tresor_vault_[a-z0-9_]+/); name = substr($0, RSTART, RLENGTH); start = NR; n++ }
    /^}/ && start { if (NR - start + 1 > max) print name ": " NR - start + 1 " lines"; start = 0 }
    END { print n " functions" }' ffi-c/src/vault.rs)
  if grep -q ' lines$' <<<"$report"; then
    echo "tresor_vault_* functions longer than $MARSHAL_MAX_LINES lines (logic belongs in the core):" >&2
    grep ' lines$' <<<"$report" >&2
    return 1
  fi
  echo "all $(tail -n1 <<<"$report") (tresor_vault_*) of ffi-c/src/vault.rs are at most $MARSHAL_MAX_LINES lines (marshalling only)"
}

asan() {
  coverage && marshal_only || return 1
  build_lib
  log "C tests with AddressSanitizer + UndefinedBehaviorSanitizer (gcc -std=c11 -Wall -Wextra -Werror)"
  compile_tests asan -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
  for t in "${TESTS[@]}"; do
    if ! nm "$WORK/asan/$t" | grep __asan_init >/dev/null; then
      echo "$t was not linked with AddressSanitizer" >&2
      return 1
    fi
  done
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 run_tests asan || return 1
  echo "-- asan: test_vectors"
  (cd "$WORK" && TMPDIR=$WORK ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$WORK/asan/test_vectors" "$VECTORS")
}

valgrind_tests() {
  build_lib
  log "C tests under Valgrind (errors and definite/indirect/possible leaks fail)"
  compile_tests plain
  run_tests plain valgrind --quiet --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite,indirect,possible --show-leak-kinds=definite,indirect,possible \
    --fair-sched=yes
}

# The threads test of test_vault (8 threads, one vault handle) on a PostgreSQL store, under ASan+UBSan.
# $1 = a postgres:// URL of an empty database (scripts/test.sh's postgres step makes one).
pg() {
  local url=${1:?usage: c-abi.sh pg postgres://user:password@host:port/database}
  build_lib
  log "the vault's threads test on PostgreSQL, ASan+UBSan"
  mkdir -p "$WORK/asan"
  # shellcheck disable=SC2086
  gcc "${CFLAGS_COMMON[@]}" -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
    -o "$WORK/asan/test_vault" ffi-c/tests/c/test_vault.c "$LIBDIR/libtresor.a" $NATIVE_LIBS -lpthread
  (cd "$WORK" && TMPDIR=$WORK TRESOR_C_TEST_STORE_URL=$url ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$WORK/asan/test_vault")
}

install_check() {
  log "make install PREFIX=… and the README example through pkg-config"
  local prefix=$WORK/prefix
  make -s -C ffi-c install PREFIX="$prefix" PROFILE=dev TARGET_DIR="$TARGET_DIR"
  export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
  pkg-config --exists tresor
  echo "pkg-config: tresor $(pkg-config --modversion tresor): $(pkg-config --cflags --libs tresor)"
  # The README's C example, extracted from between its markers.
  sed -n '/<!-- c-example:begin -->/,/<!-- c-example:end -->/p' README.md | sed '1,2d;$d' | sed '$d' >"$WORK/app.c"
  [ -s "$WORK/app.c" ] || { echo "README.md has no C example between the c-example markers" >&2; return 1; }
  # shellcheck disable=SC2046
  cc -std=c11 -Wall -Wextra -Werror -o "$WORK/app" "$WORK/app.c" $(pkg-config --cflags --libs tresor) \
    -Wl,-rpath,"$prefix/lib"
  mkdir -p "$WORK/readme-run"
  (cd "$WORK/readme-run" && "$WORK/app")
  # The binary uses the installed shared library (by its soname), not the build tree's.
  ldd "$WORK/app" | grep "$prefix/lib/libtresor.so.0" >/dev/null
  echo "README example built with pkg-config and ran against $prefix/lib"
}

case "${1:-all}" in
header) header ;;
asan) asan ;;
valgrind) valgrind_tests ;;
install) install_check ;;
pg) pg "${2:-}" ;;
all)
  header
  asan
  valgrind_tests
  install_check
  ;;
*)
  echo "usage: $0 [header|asan|valgrind|install|all]" >&2
  exit 2
  ;;
esac
