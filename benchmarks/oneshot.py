#!/usr/bin/env python3
"""One-shot commands: `tresor sign/verify/encrypt/decrypt --key …` against the OpenSSL command that does the
same job on the same file, run alternately in one process tree so both see the same machine.

Each row starts a fresh process per operation (what a script does), so it measures everything a one-shot
user pays: process start, key parsing, the crypto library's start-up (AWS-LC's entropy seeding for the
operations that draw randomness), the operation, writing the output. For every pair of runs the order
alternates (tresor first, then OpenSSL first). Reported per row: the median wall-clock time and the median
CPU time (user + system, from wait4) of each tool, and the ratio tresor ÷ OpenSSL for both. Wall-clock time
is what a user waits for and is the goal (≤ 1.00); CPU time is printed because it does not move with other
load on the machine.

usage: oneshot.py --tresor PATH [--runs N] [--size BYTES] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def run(cmd: list[str], cwd: str) -> tuple[float, float]:
    """Run `cmd`; return (wall seconds, user+sys CPU seconds). Fails loudly on a non-zero exit."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace") if p.stderr else ""
    if p.stderr:
        p.stderr.close()
    if p.returncode != 0:
        raise SystemExit(f"oneshot: {' '.join(cmd)} exited {p.returncode}: {err.strip()}")
    return wall, ru.ru_utime + ru.ru_stime


def setup(tresor: str, d: str, size: int) -> None:
    """Keys (made by OpenSSL, so tresor reads a peer's PKCS#8/SPKI files) and the input file."""

    def sh(*cmd: str) -> None:
        subprocess.run(cmd, cwd=d, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    sh("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "p256.pem")
    sh("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "p384.pem")
    sh("openssl", "genpkey", "-algorithm", "ED25519", "-out", "ed25519.pem")
    sh("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.pem")
    sh("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "peer.pem")
    for k in ("p256", "p384", "ed25519", "rsa", "peer"):
        sh("openssl", "pkey", "-in", f"{k}.pem", "-pubout", "-out", f"{k}.pub")
    with open(os.path.join(d, "msg"), "wb") as f:
        f.write(os.urandom(size))
    # RSA-OAEP carries at most 190 bytes; ECIES and the ECDH peer row take a 32-byte secret, as Canton does.
    with open(os.path.join(d, "secret"), "wb") as f:
        f.write(os.urandom(32))
    # Signatures and ciphertexts for the verify/decrypt rows, made once by each tool.
    sh(tresor, "sign", "--key", "p256.pem", "--algo", "ec-dsa-sha-256", "--in", "msg", "--out", "t.p256.sig")
    sh(tresor, "sign", "--key", "p384.pem", "--algo", "ec-dsa-sha-384", "--in", "msg", "--out", "t.p384.sig")
    sh(tresor, "sign", "--key", "ed25519.pem", "--algo", "ed-25519", "--in", "msg", "--out", "t.ed.sig")
    sh("openssl", "dgst", "-sha256", "-sign", "p256.pem", "-out", "o.p256.sig", "msg")
    sh("openssl", "dgst", "-sha384", "-sign", "p384.pem", "-out", "o.p384.sig", "msg")
    sh("openssl", "pkeyutl", "-sign", "-rawin", "-inkey", "ed25519.pem", "-in", "msg", "-out", "o.ed.sig")
    sh(tresor, "encrypt", "--key", "rsa.pub", "--algo", "rsa-oaep-sha-256", "--in", "secret", "--out", "t.rsa.ct")
    sh(tresor, "encrypt", "--key", "p256.pub", "--algo", "ecies-hkdf-hmac-sha-256-aes-128-cbc",
       "--in", "secret", "--out", "t.ecies.ct")
    sh("openssl", "pkeyutl", "-encrypt", "-pubin", "-inkey", "rsa.pub", *OAEP, "-in", "secret", "-out", "o.rsa.ct")


OAEP = ["-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256"]


def rows(t: str) -> list[tuple[str, list[str], list[str], str]]:
    """(row, tresor command, OpenSSL command, note)."""
    return [
        ("ecdsa_p256_sign", [t, "sign", "--key", "p256.pem", "--algo", "ec-dsa-sha-256", "--in", "msg", "--out", "x", "--force"],
         ["openssl", "dgst", "-sha256", "-sign", "p256.pem", "-out", "x", "msg"], ""),
        ("ecdsa_p256_verify", [t, "verify", "--key", "p256.pub", "--algo", "ec-dsa-sha-256", "--in", "msg", "--sig", "t.p256.sig"],
         ["openssl", "dgst", "-sha256", "-verify", "p256.pub", "-signature", "o.p256.sig", "msg"], ""),
        ("ecdsa_p384_sign", [t, "sign", "--key", "p384.pem", "--algo", "ec-dsa-sha-384", "--in", "msg", "--out", "x", "--force"],
         ["openssl", "dgst", "-sha384", "-sign", "p384.pem", "-out", "x", "msg"], ""),
        ("ecdsa_p384_verify", [t, "verify", "--key", "p384.pub", "--algo", "ec-dsa-sha-384", "--in", "msg", "--sig", "t.p384.sig"],
         ["openssl", "dgst", "-sha384", "-verify", "p384.pub", "-signature", "o.p384.sig", "msg"], ""),
        ("ed25519_sign", [t, "sign", "--key", "ed25519.pem", "--algo", "ed-25519", "--in", "msg", "--out", "x", "--force"],
         ["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", "ed25519.pem", "-in", "msg", "-out", "x"], ""),
        ("ed25519_verify", [t, "verify", "--key", "ed25519.pub", "--algo", "ed-25519", "--in", "msg", "--sig", "t.ed.sig"],
         ["openssl", "pkeyutl", "-verify", "-rawin", "-pubin", "-inkey", "ed25519.pub", "-in", "msg", "-sigfile", "o.ed.sig"], ""),
        ("rsa2048_oaep_encrypt", [t, "encrypt", "--key", "rsa.pub", "--algo", "rsa-oaep-sha-256", "--in", "secret", "--out", "x", "--force"],
         ["openssl", "pkeyutl", "-encrypt", "-pubin", "-inkey", "rsa.pub", *OAEP, "-in", "secret", "-out", "x"], ""),
        ("rsa2048_oaep_decrypt", [t, "decrypt", "--key", "rsa.pem", "--algo", "rsa-oaep-sha-256", "--in", "t.rsa.ct", "--out", "x", "--force"],
         ["openssl", "pkeyutl", "-decrypt", "-inkey", "rsa.pem", *OAEP, "-in", "o.rsa.ct", "-out", "x"], ""),
        # OpenSSL's command line has no ECIES; its closest one-shot is the ECDH step alone (a lower bound on
        # the work: ECIES adds key generation, KDF2, AES-CBC and HMAC).
        ("ecies_p256_encrypt", [t, "encrypt", "--key", "p256.pub", "--algo", "ecies-hkdf-hmac-sha-256-aes-128-cbc", "--in", "secret", "--out", "x", "--force"],
         ["openssl", "pkeyutl", "-derive", "-inkey", "peer.pem", "-peerkey", "p256.pub", "-out", "x"], "peer: ECDH derive only"),
        ("ecies_p256_decrypt", [t, "decrypt", "--key", "p256.pem", "--algo", "ecies-hkdf-hmac-sha-256-aes-128-cbc", "--in", "t.ecies.ct", "--out", "x", "--force"],
         ["openssl", "pkeyutl", "-derive", "-inkey", "p256.pem", "-peerkey", "peer.pub", "-out", "x"], "peer: ECDH derive only"),
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tresor", required=True, help="the tresor binary (a release build)")
    ap.add_argument("--runs", type=int, default=40, help="runs of each command per row (default 40)")
    ap.add_argument("--size", type=int, default=4096, help="size of the signed file in bytes (default 4096)")
    ap.add_argument("--json", help="also write the results as JSON lines to this file")
    a = ap.parse_args()
    if a.runs < 2:
        raise SystemExit("oneshot: --runs must be at least 2")
    if not shutil.which("openssl"):
        raise SystemExit("oneshot: openssl is required")
    tresor = os.path.abspath(a.tresor)
    ossl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    print(f"one-shot commands, {a.runs} runs each, alternating; {ossl}; signed file {a.size} bytes")
    print(f"{'row':22} {'tresor ms':>10} {'openssl ms':>11} {'ratio':>6}   {'tresor cpu':>10} {'openssl cpu':>11} {'ratio':>6}")
    out = []
    worse = []
    with tempfile.TemporaryDirectory(prefix="tresor-oneshot-") as d:
        setup(tresor, d, a.size)
        for name, tc, oc, note in rows(tresor):
            tw, tcpu, ow, ocpu = [], [], [], []
            for i in range(a.runs):
                pair = [(tc, tw, tcpu), (oc, ow, ocpu)]
                if i % 2:
                    pair.reverse()
                for cmd, wall, cpu in pair:
                    w, c = run(cmd, d)
                    wall.append(w)
                    cpu.append(c)
            m = {k: statistics.median(v) * 1e3 for k, v in (("tw", tw), ("tc", tcpu), ("ow", ow), ("oc", ocpu))}
            rw = m["tw"] / m["ow"]
            rc = m["tc"] / m["oc"] if m["oc"] > 0 else float("nan")
            flag = "  <- slower" if rw > 1.0 else ""
            if rw > 1.0:
                worse.append(name)
            print(f"{name:22} {m['tw']:10.2f} {m['ow']:11.2f} {rw:6.2f}   {m['tc']:10.2f} {m['oc']:11.2f} {rc:6.2f}"
                  f"{'  (' + note + ')' if note else ''}{flag}")
            out.append({"row": name, "runs": a.runs, "tresor_wall_ms": m["tw"], "openssl_wall_ms": m["ow"],
                        "tresor_cpu_ms": m["tc"], "openssl_cpu_ms": m["oc"], "note": note})
    if a.json:
        with open(a.json, "w") as f:
            for r in out:
                f.write(json.dumps(r) + "\n")
    print("rows where tresor is slower than OpenSSL (wall clock): " + (", ".join(worse) if worse else "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
