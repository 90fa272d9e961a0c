#!/usr/bin/env bash
# JMH benchmarks of the JVM side, every peer in one run: tresor's Java API against the JDK's providers (SunEC,
# SunRsaSign/SunJCE) and BouncyCastle (Ed25519, P-256, P-384 sign/verify, ECIES-CBC and RSA-OAEP decrypt,
# AES-128-GCM 1 KiB), and the Canton driver's sign future against the same signature made directly. Prints the table
# with ratios and checks the goals (exit 1 when one is missed).
#
# Usage: bindings-jvm/scripts/bench.sh [--offline] [JMH options, e.g. -f 2 -wi 5 -i 10 or a benchmark regex]
# Output: bindings-jvm/target/jmh.json (raw), bindings-jvm/target/jmh.txt (JMH's log), the table on stdout.
set -euo pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OFFLINE=()
if [ "${1:-}" = "--offline" ]; then OFFLINE=(-o); shift; fi
mkdir -p "$DIR/target"
echo "building (mvn package, tests skipped)..."
mvn -f "$DIR/pom.xml" -B -ntp -q "${OFFLINE[@]}" -DskipTests package -pl benchmarks -am >"$DIR/target/bench-build.log" 2>&1 ||
  { tail -n 40 "$DIR/target/bench-build.log"; exit 1; }
JAR="$DIR/benchmarks/target/benchmarks.jar"
echo "java: $(java -version 2>&1 | head -n1); cpus: $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "running JMH (1 fork, 3 x 1 s warm-up, 5 x 1 s measurement per benchmark; about 6 minutes)..."
java -jar "$JAR" -rf json -rff "$DIR/target/jmh.json" "$@" >"$DIR/target/jmh.txt" 2>&1 ||
  { tail -n 40 "$DIR/target/jmh.txt"; exit 1; }
python3 "$DIR/scripts/jmh_table.py" "$DIR/target/jmh.json"
