#!/usr/bin/env bash
# The JVM side's tests: builds every Maven module under bindings-jvm/ (the native library through cargo, the tresor
# jar, the Canton driver jar) and runs their JUnit tests under -Xcheck:jni: the driver API's binary-shape test, the
# conformance suite against its reference fixture and broken variants, the Java API (shared vectors, every error code,
# 8 threads through one vault, use after close, no secret in toString), and Canton's conformance cases against the
# packaged driver jar for the software backend and, when their services can be had, PKCS#11 on SoftHSM2, AWS on
# local-kms and GCP on tresor's GCP KMS test server (each with and without key generation). Then: no -Xcheck:jni
# warning anywhere, the driver jar's entries, and the README's Java example compiled and run against the jar. Prints a
# summary; exits non-zero on any failure.
#
# Usage: bindings-jvm/scripts/test.sh [--offline]
#        (from any directory; the build is `mvn package` of bindings-jvm/pom.xml after removing the modules' target/)
# Environment: TRESOR_SKIP_INSTALL=1 (install nothing), TRESOR_MAVEN_OFFLINE=1 (same as --offline: Maven's -o,
#              for a machine whose ~/.m2 already holds everything from one online run),
#              TRESOR_JVM_SERVICES=0 (do not start SoftHSM2, local-kms and the GCP test server: "blocked"),
#              TRESOR_LOCAL_KMS_PORT (default 54291, local-kms's port for this run),
#              TRESOR_JVM_NATIVE=debug (build the native library with cargo's dev profile into the workspace's
#              target/, sharing the compiled dependencies of the Rust tests: what ./scripts/test.sh does).
# Services started here are stopped on exit. The native library is built by cargo into target/jvm (release) unless
# TRESOR_JVM_NATIVE=debug. Exit status: 0 all passed, 1 a failure, 3 blocked (a backend's service could not be had).
set -uo pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=$(cd "$DIR/.." && pwd)
LOG_DIR="$DIR/target"
LOG="$LOG_DIR/test.log"
OFFLINE=()
if [ "${1:-}" = "--offline" ] || [ "${TRESOR_MAVEN_OFFLINE:-0}" = 1 ]; then OFFLINE=(-o); fi
NATIVE=()
if [ "${TRESOR_JVM_NATIVE:-release}" = debug ]; then
  NATIVE=(-Dtresor.cargo.target.dir="$ROOT/target" -Dtresor.cargo.profile=dev -Dtresor.cargo.profile.dir=debug)
fi

apt_updated=0
apt_install() {
  if [ "${TRESOR_SKIP_INSTALL:-0}" = 1 ]; then echo "missing Debian packages: $* (install skipped)"; return 1; fi
  if [ "$apt_updated" = 0 ]; then apt-get update -qq >/dev/null && apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1; }
if ! command -v javac >/dev/null || [ "$(java_major)" -lt 17 ] 2>/dev/null; then
  apt_install openjdk-17-jdk-headless || { echo "bindings-jvm: no JDK 17"; exit 1; }
fi
command -v mvn >/dev/null || apt_install maven || { echo "bindings-jvm: no Maven"; exit 1; }
command -v cargo >/dev/null || { echo "bindings-jvm: no cargo (install Rust with rustup)"; exit 1; }

mkdir -p "$LOG_DIR"
echo "java: $(java -version 2>&1 | head -n1); $(mvn -v 2>/dev/null | head -n1 | sed 's/\x1b\[[0-9;]*m//g'); $(cargo --version)"

# --- services (stopped on exit) ------------------------------------------------------------------------------------
declare -A BACKEND=([software]="ran")
STARTED=()
stop_services() {
  local s
  for s in "${STARTED[@]}"; do
    bash "$ROOT/scripts/services/$s.sh" stop >/dev/null 2>&1 || true
  done
}
trap stop_services EXIT

# Start a service (not in a subshell: STARTED must reach the exit trap). On failure, REASON says why.
REASON=""
start_service() {
  local name=$1 out status attempt
  # Up to three attempts: local-kms.sh can take a server that has not exec'd yet for one that exited (it reads
  # /proc/<pid>/cmdline right after the fork), which happens on a loaded machine.
  for attempt in 1 2 3; do
    out=$(bash "$ROOT/scripts/services/$name.sh" start 2>&1)
    status=$?
    if [ "$status" = 0 ]; then
      STARTED+=("$name")
      return 0
    fi
    [ "$status" = 3 ] && break
    sleep 1
  done
  REASON=$(printf '%s\n' "$out" | sed -n 's/^blocked: //p' | tail -n1)
  [ -n "$REASON" ] || REASON="$name.sh start failed (status $status): $(printf '%s\n' "$out" | tail -n1)"
  return 1
}

if [ "${TRESOR_JVM_SERVICES:-1}" = 0 ]; then
  BACKEND[pkcs11]="blocked: TRESOR_JVM_SERVICES=0"
  BACKEND[aws]="blocked: TRESOR_JVM_SERVICES=0"
  BACKEND[gcp]="blocked: TRESOR_JVM_SERVICES=0"
  BACKEND[postgres]="blocked: TRESOR_JVM_SERVICES=0"
else
  if start_service softhsm; then
    # shellcheck disable=SC1091
    . "$ROOT/target/services/softhsm/env"
    export SOFTHSM2_CONF TRESOR_TEST_PKCS11_MODULE TRESOR_TEST_PKCS11_TOKEN TRESOR_TEST_PKCS11_PIN_FILE
    BACKEND[pkcs11]="ran"
  else
    BACKEND[pkcs11]="blocked: $REASON"
  fi
  # Our own port, so that a local-kms someone else runs on the default port does not block this run.
  export TRESOR_LOCAL_KMS_PORT="${TRESOR_LOCAL_KMS_PORT:-54291}"
  if start_service local-kms; then
    TRESOR_TEST_AWS_ENDPOINT=$(bash "$ROOT/scripts/services/local-kms.sh" url)
    export TRESOR_TEST_AWS_ENDPOINT AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
    BACKEND[aws]="ran"
  else
    BACKEND[aws]="blocked: $REASON"
  fi
  # The Java API's vault tests on a PostgreSQL store (the backup refusal among them).
  if start_service postgres; then
    BACKEND[postgres]="ran"
  else
    BACKEND[postgres]="blocked: $REASON"
  fi
  if start_service gcp-kms; then
    TRESOR_TEST_GCP_ENDPOINT=$(bash "$ROOT/scripts/services/gcp-kms.sh" url)
    export TRESOR_TEST_GCP_ENDPOINT
    BACKEND[gcp]="ran"
  else
    BACKEND[gcp]="blocked: $REASON"
  fi
fi

# --- build and test -------------------------------------------------------------------------------------------------
start=$(date +%s)
# What `mvn clean` would do, without needing the clean plugin: a machine that ran `mvn package` once can run this
# offline. Stale classes of deleted sources would otherwise still run as tests.
for module_pom in "$DIR"/*/pom.xml; do rm -rf "$(dirname "$module_pom")/target"; done
mvn -f "$DIR/pom.xml" -B -ntp "${OFFLINE[@]}" "${NATIVE[@]}" package >"$LOG" 2>&1
status=$?
elapsed=$(( $(date +%s) - start ))
cargo_line=$(grep -m1 'Finished `' "$LOG" | sed 's/^ *//')

# One line per test class from the Surefire reports, then the totals.
passed=0 failed=0 skipped=0
attr() { grep -o "$1=\"[0-9]*\"" <<<"$2" | head -n1 | grep -o '[0-9]*'; }
for report in "$DIR"/*/target/surefire-reports/TEST-*.xml; do
  [ -e "$report" ] || continue
  line=$(grep -m1 '<testsuite ' "$report")
  name=$(grep -o ' name="[^"]*"' <<<"$line" | head -n1 | sed 's/ name="\(.*\)"/\1/')
  tests=$(attr tests "$line"); errors=$(attr errors "$line"); failures=$(attr failures "$line"); skips=$(attr skipped "$line")
  bad=$((errors + failures))
  printf '  %-80s %3d tests, %d failed, %d skipped\n' "${name#io.tresor.}" "$tests" "$bad" "$skips"
  passed=$((passed + tests - bad - skips)); failed=$((failed + bad)); skipped=$((skipped + skips))
done

# Why each skipped test was skipped (JUnit's assumption messages), once per reason.
if [ "$skipped" -gt 0 ]; then
  echo "skipped, by reason:"
  grep -h -A1 '<skipped' "$DIR"/*/target/surefire-reports/TEST-*.xml 2>/dev/null |
    sed -n 's/.*\(Assumption failed: [^]<]*\).*/\1/p; s/.*<skipped message="\([^"]*\)".*/\1/p' |
    sort | uniq -c | sed 's/^ */  /'
fi

if [ "$status" -ne 0 ]; then
  echo "--- last lines of $LOG ---"
  grep -v '^\[INFO\] \(Download\|Building jar\)' "$LOG" | tail -n 40
  [ "$failed" -gt 0 ] || failed=1
fi

# --- -Xcheck:jni: every forked test JVM ran with it; the JVM prints its findings outside the test protocol ----------
checks=0
jni_warnings=$(grep -rhE 'WARNING in native method|FATAL ERROR in native method|JNI local refs: [0-9]+, exceeds' \
  "$DIR"/*/target/surefire-reports "$LOG" 2>/dev/null | sort | uniq -c)
if [ -n "$jni_warnings" ]; then
  echo "-Xcheck:jni: warnings:"; echo "$jni_warnings"; checks=1
else
  echo "-Xcheck:jni: no warnings (surefire reports, dump streams and build log scanned)"
fi

# --- the driver jar's entries --------------------------------------------------------------------------------------
DRIVER_JAR="$DIR/tresor-canton-driver/target/tresor-canton-driver-0.1.0.jar"
if [ -f "$DRIVER_JAR" ]; then
  entries=$(unzip -Z1 "$DRIVER_JAR" 2>/dev/null || jar tf "$DRIVER_JAR")
  foreign=$(grep -Ev '^(io/$|io/tresor/|native/|META-INF/$|META-INF/MANIFEST.MF$|META-INF/services/com\.digitalasset\.canton\.crypto\.kms\.driver\.api(\.v1)?\.KmsDriverFactory$|META-INF/maven/(io\.tresor/.*)?$|META-INF/services/$)' <<<"$entries")
  if [ -n "$foreign" ]; then
    echo "driver jar: entries Canton ships or that do not belong:"; echo "$foreign" | head -n 20; checks=1
  else
    echo "driver jar: $(wc -l <<<"$entries") entries, $(du -h "$DRIVER_JAR" | cut -f1), only io/tresor/**, native/linux-x86_64/libtresor_jni.so and the two service files"
  fi
else
  echo "driver jar: not built"; checks=1
fi

# --- the README's Java example, compiled and run against the tresor jar ----------------------------------------------
TRESOR_JAR="$DIR/tresor/target/tresor-0.1.0.jar"
EXAMPLE_DIR="$LOG_DIR/readme-example"
rm -rf "$EXAMPLE_DIR"; mkdir -p "$EXAMPLE_DIR/src"
sed -n '/<!-- java-example:begin -->/,/<!-- java-example:end -->/p' "$DIR/README.md" | sed '1,/^```java/d;/^```/,$d' >"$EXAMPLE_DIR/src/Example.java"
if [ ! -s "$EXAMPLE_DIR/src/Example.java" ]; then
  echo "README example: not found between the java-example markers"; checks=1
elif [ ! -f "$TRESOR_JAR" ]; then
  echo "README example: the tresor jar was not built"; checks=1
elif ! javac -d "$EXAMPLE_DIR/classes" -cp "$TRESOR_JAR" "$EXAMPLE_DIR/src/Example.java" >"$EXAMPLE_DIR/javac.log" 2>&1; then
  echo "README example: does not compile"; cat "$EXAMPLE_DIR/javac.log"; checks=1
elif ! (cd "$EXAMPLE_DIR" && java -Xcheck:jni -cp "$TRESOR_JAR:classes" Example >"$EXAMPLE_DIR/run.log" 2>&1); then
  echo "README example: compiles, fails when run:"; tail -n 20 "$EXAMPLE_DIR/run.log"; checks=1
elif grep -q 'WARNING in native method' "$EXAMPLE_DIR/run.log"; then
  echo "README example: -Xcheck:jni warnings"; checks=1
else
  echo "README example: compiled and ran ($(wc -l <"$EXAMPLE_DIR/run.log") lines of output, -Xcheck:jni clean)"
fi

# --- what ran -------------------------------------------------------------------------------------------------------
vectors=$(find "$ROOT/tests/vectors" -maxdepth 1 -name '*.json' 2>/dev/null | wc -l)
echo "shared vectors: $vectors file(s) in tests/vectors$( [ "$vectors" = 0 ] && echo ' (none yet: the runner reports a skipped case)')"
blocked=0
for b in software pkcs11 aws gcp postgres; do
  printf '%-24s %s\n' "$([ "$b" = postgres ] && echo "PostgreSQL store:" || echo "driver backend $b:")" "${BACKEND[$b]:-blocked: unknown}"
  case "${BACKEND[$b]:-}" in blocked:*) echo "${BACKEND[$b]} ($b)"; blocked=1;; esac
done
echo "bindings-jvm: Maven build $( [ "$status" -eq 0 ] && echo ok || echo FAILED ) in ${elapsed}s${cargo_line:+ (cargo: $cargo_line)} (log: ${LOG#"$DIR"/})"
echo "bindings-jvm: $passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$checks" -eq 0 ] || exit 1
# Everything that ran passed, but a backend's conformance did not run: blocked is not passed.
[ "$blocked" -eq 0 ] || exit 3
