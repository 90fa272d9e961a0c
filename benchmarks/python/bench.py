#!/usr/bin/env python3
"""tresor's Python wheel for benchmarks/run.sh: the operations peer_python.py measures with `cryptography`,
through `tresor`, timed by the same loop (peer_python's warm-up and rounds) and printed as the same JSON
lines with "impl": "tresor-python". Inputs are the same: a 32-byte message (Canton signs hashes), a
32-byte secret for ECIES and RSA-OAEP, 1 KiB and 64 KiB for AES-128-GCM (tresor draws a random IV per
message, as the Python peer does with os.urandom(12)).

usage: bench.py [--rounds N] [--budget-ms MS] [--warmup-ms MS] [--clock wall|cpu] [--only op,...]
"""

import argparse
import json
import pathlib
import statistics
import sys

import tresor

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import peer_python as peer  # noqa: E402 (the shared timing loop and inputs)

IMPL = "tresor-python"


def build_ops() -> list:
    ops = []
    msg, secret = peer.MSG, peer.SECRET

    def sign_verify(prefix: str, spec: str) -> None:
        key = tresor.PrivateKey.generate(spec)
        pub = key.public_key
        sig = key.sign(msg)
        pub.verify(sig, msg)  # raises if the pair is broken
        sign, verify = key.sign, pub.verify

        def run_sign(n: int) -> None:
            for _ in range(n):
                sign(msg)

        def run_verify(n: int) -> None:
            for _ in range(n):
                verify(sig, msg)

        ops.append((prefix + "_sign", run_sign))
        ops.append((prefix + "_verify", run_verify))

    sign_verify("ed25519", "ec-curve-25519")
    sign_verify("ecdsa_p256", "ec-p-256")
    sign_verify("ecdsa_p384", "ec-p-384")

    aes = tresor.AesGcmKey(peer.AES_KEY)

    def gcm(op: str, size: int) -> None:
        pt = b"\x17" * size
        if aes.decrypt(aes.encrypt(pt)) != pt:
            sys.exit("AES-GCM round trip mismatch")
        encrypt = aes.encrypt

        def run(n: int) -> None:
            for _ in range(n):
                encrypt(pt)

        ops.append((op, run))

    gcm("aes128gcm_enc_1k", 1024)
    gcm("aes128gcm_enc_64k", 65536)

    def asym(prefix: str, spec: str) -> None:
        key = tresor.PrivateKey.generate(spec)
        pub = key.public_key
        ct = pub.encrypt(secret)
        if key.decrypt(ct) != secret:
            sys.exit(f"{spec} round trip mismatch")
        encrypt, decrypt = pub.encrypt, key.decrypt

        def run_enc(n: int) -> None:
            for _ in range(n):
                encrypt(secret)

        def run_dec(n: int) -> None:
            for _ in range(n):
                decrypt(ct)

        ops.append((prefix + "_enc", run_enc))
        ops.append((prefix + "_dec", run_dec))

    asym("ecies_cbc", "ec-p-256")
    asym("rsa2048_oaep", "rsa-2048")
    return ops


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--budget-ms", type=int, default=500)
    p.add_argument("--warmup-ms", type=int, default=150)
    p.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    p.add_argument("--only", action="append", default=[], help="op id substrings, comma-separated")
    a = p.parse_args()
    only = [o for arg in a.only for o in arg.split(",") if o]
    budget, warmup = a.budget_ms / 1000, a.warmup_ms / 1000
    print(
        f"bench.py: tresor {tresor.__version__} (wheel), {a.rounds} round(s) x {a.budget_ms} ms per op, "
        f"{a.clock} clock",
        file=sys.stderr,
    )
    for op, run in build_ops():
        if only and not any(o in op for o in only):
            continue
        print(f"  {op}", file=sys.stderr)
        batch = peer.warm_up(run, warmup)
        samples = [peer.one_round(run, batch, budget, a.clock == "cpu") for _ in range(a.rounds)]
        line = {
            "impl": IMPL,
            "op": op,
            "us": round(statistics.median(samples), 4),
            "samples": [round(s, 4) for s in samples],
            "batch": batch,
        }
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
