#!/usr/bin/env python3
"""Merge benchmark JSON lines (tresor-bench, peer_python.py, run.sh's OpenSSL parser) into one table, and
the lines of python/bench.py (tresor's wheel) into a second one beside it: the wheel against cryptography.

usage: report.py FILE... (or JSON lines on stdin)

Input lines:
  {"impl": ..., "op": ..., "us": ..., "samples": [...]}    a measurement (samples are per-round means)
  {"impl": ..., "op": ..., "status": "refused", "note": ...}  the implementation refuses the operation
  {"meta": "name", "value": "..."}                           printed above the table
Every (impl, op) may appear several times (run.sh's interleaved outer rounds): the cell is the median of
all its samples pooled. Other lines are ignored.
"""

import json
import statistics
import sys

IMPLS = ["tresor-native", "tresor-portable", "openssl", "python-cryptography"]
PEERS = ["openssl", "python-cryptography"]

# (op id, row label, note on the OpenSSL cell or None when `openssl speed` measures the same operation, kind)
# kind: "goal" rows carry the goal "tresor native at least as fast as the fastest peer"; "extra" rows are
# informative; "diag" rows isolate a cost (here: the random IV) to explain a goal row.
ROWS = [
    ("ed25519_sign", "Ed25519 sign", "a", "goal"),
    ("ed25519_verify", "Ed25519 verify", "a", "goal"),
    ("ecdsa_p256_sign", "ECDSA P-256 sign (SHA-256, DER)", "b", "goal"),
    ("ecdsa_p256_verify", "ECDSA P-256 verify", "b", "goal"),
    ("ecdsa_p384_sign", "ECDSA P-384 sign (SHA-384, DER)", "b", "goal"),
    ("ecdsa_p384_verify", "ECDSA P-384 verify", "b", "goal"),
    ("aes128gcm_enc_1k", "AES-128-GCM encrypt 1 KiB", "c", "goal"),
    ("aes128gcm_enc_64k", "AES-128-GCM encrypt 64 KiB", "c", "goal"),
    ("aes128gcm_enc_1k_fixed_iv", "↳ diag.: same, 1 KiB, fixed IV", "c", "diag"),
    ("aes128gcm_enc_64k_fixed_iv", "↳ diag.: same, 64 KiB, fixed IV", "c", "diag"),
    ("ecies_cbc_enc", "ECIES-CBC encrypt (32 B)", None, "goal"),
    ("ecies_cbc_dec", "ECIES-CBC decrypt (32 B)", None, "goal"),
    ("ecdh_p256", "ECDH P-256 derive (extra)", None, "extra"),
    ("rsa2048_oaep_dec", "RSA-2048 OAEP-SHA256 decrypt", "d", "goal"),
    ("rsa2048_oaep_enc", "RSA-2048 OAEP-SHA256 encrypt (extra)", "e", "extra"),
]

NOTES = {
    "a": "openssl: EVP_DigestSign/Verify of a 20-byte message (tresor and Python: 32 bytes).",
    "b": "openssl: signs/verifies a 20-byte pre-computed digest, so no hashing is included "
    "(tresor and Python hash a 32-byte message).",
    "c": "openssl: `speed -aead -evp aes-128-gcm`: per message re-init with a FIXED IV, 13-byte AAD, "
    "encrypt in place, final; no nonce generation and no output allocation (tresor: Canton format, random "
    "12-byte IV, new IV‖ciphertext‖tag buffer; Python: os.urandom(12) nonce, new output).",
    "d": "openssl: `speed rsa2048` private-key op = PKCS#1 v1.5 signature of 36 bytes (CRT), "
    "NOT an OAEP decryption: no OAEP decoding, a lower bound for decrypt.",
    "e": "openssl: `speed rsa2048` public-key op = PKCS#1 v1.5 verification, NOT an OAEP encryption: "
    "no OAEP encoding or random seed, a lower bound for encrypt.",
}
NA_NOTE = (
    "n/a: the OpenSSL CLI has no ECIES; its closest primitive, ECDH P-256 derive "
    "(`speed ecdhp256`), is the 'ECDH P-256 derive' row (ECIES decrypt = 1 ECDH + KDF2 + HMAC + AES-CBC; "
    "encrypt adds an ephemeral key generation)."
)
SLOWER_NOISE = 1.05  # ratios up to this are flagged as within the usual run-to-run noise
NOISY = 0.15  # a cell whose rounds spread by more than this share of the median is noisy
CLOSE = 1.25  # rows with native within this factor of the fastest peer: noise matters for the verdict


def load(paths):
    samples, refused, meta = {}, {}, []
    streams = [open(p, encoding="utf-8") for p in paths] if paths else [sys.stdin]
    for stream in streams:
        for raw in stream:
            raw = raw.strip()
            if not raw.startswith("{"):
                continue
            try:
                d = json.loads(raw)
            except json.JSONDecodeError:
                continue
            if "meta" in d:
                meta.append((d["meta"], d.get("value", "")))
            elif "impl" in d and "op" in d:
                key = (d["impl"], d["op"])
                if d.get("status") == "refused":
                    refused[key] = d.get("note", "")
                elif isinstance(d.get("us"), (int, float)):
                    samples.setdefault(key, []).extend(d.get("samples") or [d["us"]])
    return samples, refused, meta


def fmt(us):
    if us >= 100:
        return f"{us:.0f}"
    if us >= 10:
        return f"{us:.1f}"
    if us >= 1:
        return f"{us:.2f}"
    return f"{us:.3f}"


def spread(values):
    """(max - min) / median of the pooled samples."""
    return (max(values) - min(values)) / statistics.median(values) if len(values) > 1 else 0.0


def main():
    samples, refused, meta = load(sys.argv[1:])
    cell = {k: statistics.median(v) for k, v in samples.items()}
    if any(impl in IMPLS[:3] for impl, _ in cell):
        main_table(samples, refused, meta, cell)
    else:
        for name, value in meta:
            print(f"{name}: {value}")
    python_table(samples, cell)


# The Python table: tresor's wheel (benchmarks/python/bench.py) against `cryptography` (peer_python.py), in
# one interpreter each, same inputs and loop. (op id, label, goal speed-up: cryptography µs ÷ tresor µs).
PY_ROWS = [
    ("ed25519_sign", "Ed25519 sign", 2.0),
    ("ed25519_verify", "Ed25519 verify", 2.0),
    ("ecdsa_p256_sign", "ECDSA P-256 sign", 1.0),
    ("ecdsa_p256_verify", "ECDSA P-256 verify", 1.0),
    ("ecdsa_p384_sign", "ECDSA P-384 sign", 1.0),
    ("ecdsa_p384_verify", "ECDSA P-384 verify", 1.0),
    ("aes128gcm_enc_1k", "AES-128-GCM encrypt 1 KiB", 1.0),
    ("aes128gcm_enc_64k", "AES-128-GCM encrypt 64 KiB (extra)", None),
    ("ecies_cbc_enc", "ECIES-CBC encrypt (32 B)", 1.0),
    ("ecies_cbc_dec", "ECIES-CBC decrypt (32 B)", 1.0),
    ("rsa2048_oaep_dec", "RSA-2048 OAEP-SHA256 decrypt", 1.0),
    ("rsa2048_oaep_enc", "RSA-2048 OAEP-SHA256 encrypt (extra)", None),
]


def python_table(samples, cell):
    ours, theirs = "tresor-python", "python-cryptography"
    if not any(impl == ours for impl, _ in cell):
        return
    print()
    print(f"Python: the tresor wheel against cryptography (µs/op, lower is better; speed-up = {theirs} ÷ {ours})")
    print()
    print(f"| operation | {ours} | {theirs} | speed-up | goal |")
    print("|---|---:|---:|---:|---|")
    missed = []
    for op, label, goal in PY_ROWS:
        a, b = cell.get((ours, op)), cell.get((theirs, op))
        if a is None or b is None:
            print(f"| {label} | {fmt(a) if a else '—'} | {fmt(b) if b else '—'} | — | |")
            continue
        speedup = b / a
        verdict = ""
        if goal is not None:
            ok = speedup >= goal if goal > 1 else speedup > 1.0
            verdict = ("≥ 2× ✓" if goal > 1 else "ahead ✓") if ok else f"◀ missed ({'≥ 2×' if goal > 1 else 'ahead'})"
            if not ok:
                missed.append(label)
        print(f"| {label} | {fmt(a)} | {fmt(b)} | {speedup:.2f}× | {verdict} |")
    print()
    print("Goal: at least 2× cryptography on Ed25519 sign and verify, ahead on every other goal row.")
    print(f"Python goal rows missed: {len(missed)} of {sum(1 for r in PY_ROWS if r[2] is not None)}"
          + (f" ({', '.join(missed)})." if missed else "."))


def main_table(samples, refused, meta, cell):

    header = ["operation (µs/op, lower is better)", *IMPLS, "fastest peer", "native ÷ fastest peer", ""]
    lines = []
    misses, noisy, n_noisy = [], [], 0
    used_notes = []
    for op, label, note, kind in ROWS:
        row = [label]
        for impl in IMPLS:
            key = (impl, op)
            if key in cell:
                text = fmt(cell[key])
                if impl == "openssl" and note:
                    text += f" ({note})"
                    if note not in used_notes:
                        used_notes.append(note)
                row.append(text)
                n_noisy += spread(samples[key]) > NOISY
            elif key in refused:
                row.append("refused")
            elif impl == "openssl" and op.startswith("ecies"):
                row.append("n/a")
            else:
                row.append("—")
        peers = [(cell[(p, op)], p) for p in PEERS if (p, op) in cell]
        native = cell.get(("tresor-native", op))
        if peers and native is not None:
            best, who = min(peers)
            ratio = native / best
            if 1 / CLOSE <= ratio <= CLOSE:  # close enough for noise to decide the verdict
                for impl in ("tresor-native", who):
                    v = samples[(impl, op)]
                    if spread(v) > NOISY:
                        noisy.append(f"{label} — {impl}: rounds {min(v):.3g}–{max(v):.3g} µs")
            row += [f"{who} {fmt(best)}", f"{ratio:.2f}"]
            if ratio > 1.0:
                flag = "◀ native slower" + (" (within 5%)" if ratio <= SLOWER_NOISE else "")
                row.append(flag)
                misses.append((label, ratio, who, kind))
            else:
                row.append("")
        else:
            row += ["—", "—", ""]
        lines.append(row)

    for name, value in meta:
        print(f"{name}: {value}")
    if meta:
        print()
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---"] + ["---:"] * (len(header) - 2) + ["---"]) + "|")
    for row in lines:
        print("| " + " | ".join(row) + " |")
    print()
    print("Cells are medians of per-round means (rounds pooled over the interleaved runs).")
    print("'fastest peer' is the faster of openssl and python-cryptography; ratio < 1.00 = tresor native is faster.")
    for n in sorted(used_notes):
        print(f"({n}) {NOTES[n]}")
    print(NA_NOTE)
    refused_notes = sorted({f"{impl}: {note}" for (impl, _), note in refused.items()})
    for r in refused_notes:
        print(f"refused — {r}")
    print()
    if misses:
        print("Rows where tresor native is slower than the fastest peer:")
        for label, ratio, who, kind in misses:
            tag = "" if kind == "goal" else f" [{kind} row, not part of the goal]"
            print(f"  - {label}: {ratio:.2f}× {who}{tag}")
    else:
        print("tresor native is at least as fast as the fastest peer on every row.")
    goal_misses = [m for m in misses if m[3] == "goal"]
    print(f"Goal rows missed: {len(goal_misses)} of {sum(1 for r in ROWS if r[3] == 'goal')}.")
    total = sum(1 for k in samples)
    print(f"Noisy cells (rounds spread by > {NOISY:.0%} of the median): {n_noisy} of {total}.")
    if noisy:
        print(f"Noisy cells in rows where native is within {CLOSE}× of the fastest peer:")
        for n in noisy:
            print(f"  - {n}")


if __name__ == "__main__":
    main()
