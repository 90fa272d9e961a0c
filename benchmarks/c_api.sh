#!/usr/bin/env bash
# The C API's cost over the same call in Rust: verify, sign with a caller-held key, and sign through a
# vault (warm cache), for Ed25519 and P-256. benchmarks/c/bench_c.c (linked with libtresor.a) and
# tresor-c-ref-bench (the Rust API) run the same operations the same way, alternately, ROUNDS times;
# the table shows the median ns/op of each side and the ratio C / Rust (the target is at most 1.05).
#
# usage: benchmarks/c_api.sh [--rounds N] [--scale K] [--no-build]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
rounds=3
scale=1
build=1
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="${2:?}"; shift ;;
        --scale) scale="${2:?}"; shift ;;
        --no-build) build=0 ;;
        *) echo "c_api.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done
target_dir="${CARGO_TARGET_DIR:-$root/target}"
work=$(mktemp -d /tmp/tresor-c-api-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

if [ "$build" = 1 ]; then
    echo "== building libtresor and tresor-c-ref-bench (cargo --profile bench: the same profile on both sides)" >&2
    (cd "$root" && cargo build --quiet --profile bench -p tresor-ffi &&
        cargo build --quiet --profile bench -p tresor-bench --bin tresor-c-ref-bench)
fi
gcc -std=c11 -O2 -I"$root/include" -o "$work/bench_c" "$here/c/bench_c.c" \
    "$target_dir/release/libtresor.a" -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
rust="$target_dir/release/tresor-c-ref-bench"

for ((r = 0; r < rounds; r++)); do
    mkdir -p "$work/$r"
    if ((r % 2 == 0)); then
        "$work/bench_c" "$scale" "$work/$r" | sed 's/^/c /' >>"$work/raw"
        "$rust" "$scale" "$work/$r" | sed 's/^/rust /' >>"$work/raw"
    else
        "$rust" "$scale" "$work/$r" | sed 's/^/rust /' >>"$work/raw"
        "$work/bench_c" "$scale" "$work/$r" | sed 's/^/c /' >>"$work/raw"
    fi
done

python3 - "$work/raw" "$rounds" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    side, op, ns = line.split()
    rows.setdefault(op, {}).setdefault(side, []).append(float(ns))
print(f"C API vs Rust API, median of {sys.argv[2]} alternating rounds (each a median of 9 batches)")
print(f"| operation | Rust ns/op | C ns/op | C / Rust |")
print(f"|---|---:|---:|---:|")
worst = 0.0
for op, sides in rows.items():
    r, c = statistics.median(sides["rust"]), statistics.median(sides["c"])
    worst = max(worst, c / r)
    print(f"| {op.replace('_', ' ')} | {r:,.0f} | {c:,.0f} | {c / r:.3f} |")
print(f"worst ratio: {worst:.3f} (target: at most 1.05)")
PY
