#!/usr/bin/env python3
"""Turn a JMH JSON result (bindings-jvm/scripts/bench.sh) into the comparison table and check the goals.

Rows are CryptoBenchmarks' `<row>_<impl>` methods (impl: tresor, jdk, bc) and DriverBenchmarks' driverSign*/directSign*.
Goals: tresor at least 10x the JDK on the elliptic-curve rows, ahead of BouncyCastle on every row, the driver's sign
future at most 5 us slower than the same signature made directly. Exit status 0 when every goal holds, 1 otherwise.
"""
import json
import sys

ROWS = [
    ("ed25519Sign", "Ed25519 sign", True),
    ("ed25519Verify", "Ed25519 verify", True),
    ("p256Sign", "ECDSA P-256 sign", True),
    ("p256Verify", "ECDSA P-256 verify", True),
    ("p384Sign", "ECDSA P-384 sign", True),
    ("p384Verify", "ECDSA P-384 verify", True),
    ("eciesDecrypt", "ECIES-CBC (P-256) decrypt", True),
    ("rsaDecrypt", "RSA-2048 OAEP-SHA256 decrypt", False),
    ("aesGcm1k", "AES-128-GCM 1 KiB encrypt", False),
]


def main(path):
    with open(path) as f:
        results = json.load(f)
    score = {}
    err = {}
    for r in results:
        name = r["benchmark"].rsplit(".", 1)[-1]
        m = r["primaryMetric"]
        score[name] = m["score"]
        err[name] = m.get("scoreError") or 0.0
    failures = []
    print("| operation | tresor µs/op | JDK µs/op | BouncyCastle µs/op | JDK / tresor | BC / tresor |")
    print("|---|---:|---:|---:|---:|---:|")
    for key, label, ec in ROWS:
        t, j, b = (score.get(f"{key}_{i}") for i in ("tresor", "jdk", "bc"))
        if t is None:
            failures.append(f"{label}: no tresor result")
            continue
        fmt = lambda v: "—" if v is None else (f"{v:.3f}" if v < 10 else f"{v:.1f}")
        rj = j / t if j else None
        rb = b / t if b else None
        print(f"| {label} | {fmt(t)} | {fmt(j)} | {fmt(b)} | "
              f"{'—' if rj is None else f'{rj:.1f}×'} | {'—' if rb is None else f'{rb:.1f}×'} |")
        if ec and rj is not None and rj < 10:
            failures.append(f"{label}: {rj:.1f}× the JDK, goal 10×")
        if rb is not None and rb <= 1:
            failures.append(f"{label}: not ahead of BouncyCastle ({rb:.2f}×)")
    print()
    print("| driver sign (software backend) | driver future µs/op | direct µs/op | overhead µs |")
    print("|---|---:|---:|---:|")
    for spec in ("Ed25519", "P256"):
        d, x = score.get(f"driverSign{spec}"), score.get(f"directSign{spec}")
        if d is None or x is None:
            failures.append(f"driver sign {spec}: missing result")
            continue
        over = d - x
        print(f"| {spec} | {d:.2f} ± {err.get(f'driverSign{spec}', 0):.2f} | {x:.2f} ± {err.get(f'directSign{spec}', 0):.2f} | {over:.2f} |")
        if over >= 5:
            failures.append(f"driver sign {spec}: overhead {over:.2f} µs, goal < 5 µs")
    d, x = score.get("driverHealth"), score.get("directHealth")
    if d is not None and x is not None:
        print(f"| health (a database query: completes on a tresor thread) | {d:.2f} ± {err.get('driverHealth', 0):.2f} "
              f"| {x:.2f} ± {err.get('directHealth', 0):.2f} (Vault.health, blocking) | {d - x:.2f} |")
    print()
    if failures:
        print("goals missed:")
        for f in failures:
            print(f"  - {f}")
        return 1
    print("goals: all met (≥10× the JDK on EC rows, ahead of BouncyCastle on every row, driver overhead < 5 µs)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "bindings-jvm/target/jmh.json"))
