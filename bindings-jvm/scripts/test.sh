#!/usr/bin/env bash
# The JVM side's tests: builds every Maven module under bindings-jvm/ and runs its JUnit tests (the driver API's
# binary-shape test, the conformance suite against the reference fixture and its broken variants), then prints a
# summary. Installs a JDK 17 and Maven with apt-get when missing. Meant to be called by scripts/test.sh.
#
# Usage: bindings-jvm/scripts/test.sh [--offline]
#        (from any directory; the build is `mvn package` of bindings-jvm/pom.xml after removing the modules' target/)
# Environment: TRESOR_SKIP_INSTALL=1 (install nothing), TRESOR_MAVEN_OFFLINE=1 (same as --offline: Maven's -o,
#              for a machine whose ~/.m2 already holds everything from one online run).
set -uo pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOG_DIR="$DIR/target"
LOG="$LOG_DIR/test.log"
OFFLINE=()
if [ "${1:-}" = "--offline" ] || [ "${TRESOR_MAVEN_OFFLINE:-0}" = 1 ]; then OFFLINE=(-o); fi

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

mkdir -p "$LOG_DIR"
echo "java: $(java -version 2>&1 | head -n1); $(mvn -v 2>/dev/null | head -n1 | sed 's/\x1b\[[0-9;]*m//g')"
start=$(date +%s)
# What `mvn clean` would do, without needing the clean plugin: a machine that ran `mvn package` once can run this
# offline. Stale classes of deleted sources would otherwise still run as tests.
for module_pom in "$DIR"/*/pom.xml; do rm -rf "$(dirname "$module_pom")/target"; done
mvn -f "$DIR/pom.xml" -B -ntp "${OFFLINE[@]}" package >"$LOG" 2>&1
status=$?
elapsed=$(( $(date +%s) - start ))

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

if [ "$status" -ne 0 ]; then
  echo "--- last lines of $LOG ---"
  grep -v '^\[INFO\] \(Download\|Building jar\)' "$LOG" | tail -n 40
  [ "$failed" -gt 0 ] || failed=1
fi
echo "bindings-jvm: Maven build $( [ "$status" -eq 0 ] && echo ok || echo FAILED ) in ${elapsed}s (log: ${LOG#"$DIR"/})"
echo "bindings-jvm: $passed passed, $failed failed, $skipped skipped"
exit "$status"
