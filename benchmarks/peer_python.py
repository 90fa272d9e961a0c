#!/usr/bin/env python3
"""Python `cryptography` peer for benchmarks/run.sh: the same operations tresor-bench measures.

Prints one JSON object per line and operation, like tresor-bench:
    {"impl": "python-cryptography", "op": "ed25519_sign", "us": 31.2, "samples": [...], "batch": 64}
where `us` is the median over rounds of the mean µs/op in a round (time.perf_counter around batches of calls,
after a warm-up that also sizes the batch). Progress goes to stderr.

ECIES-CBC is built here from cryptography's primitives, as Canton (BouncyCastle) defines it:
ECDH P-256 with an ephemeral key, K = KDF2-SHA256(V || Z) (counter from 1, 80 bytes), K1 = K[0:16] the
AES-128 key, K2 = K[16:80] the HMAC-SHA256 key, C = AES-128-CBC-PKCS7(K1, IV, m) with a random 16-byte IV,
T = HMAC-SHA256(K2, C || 8 zero bytes); wire IV || V || C || T. With --interop-in it first decrypts
tresor-made ciphertexts and stops unless they match; with --interop-out it writes its own ciphertext for
`tresor-bench interop-check`.
"""

import argparse
import json
import os
import statistics
import sys
import time

import cryptography
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac, padding, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

IMPL = "python-cryptography"
BATCH_TARGET = 0.001  # seconds: timing one batch must cost a negligible share of it
MSG = b"\x5a" * 32  # what is signed (Canton signs hashes)
SECRET = b"\xa5" * 32  # what ECIES and RSA-OAEP encrypt
AES_KEY = b"\x42" * 16
P256 = ec.SECP256R1()

# --- ECIES-CBC (Canton's ecies-hkdf-hmac-sha-256-aes-128-cbc) --------------------------------------------

IV_LEN, POINT_LEN, TAG_LEN = 16, 65, 32
MAC_SUFFIX = b"\x00" * 8  # BouncyCastle appends the 64-bit length of the (empty) encoding vector


def kdf2_sha256(secret: bytes, length: int) -> bytes:
    """KDF2 (ISO 18033-2): SHA256(secret || counter) for counter = 1, 2, ... (32-bit big-endian)."""
    out = bytearray()
    counter = 1
    while len(out) < length:
        h = hashes.Hash(hashes.SHA256())
        h.update(secret)
        h.update(counter.to_bytes(4, "big"))
        out += h.finalize()
        counter += 1
    return bytes(out[:length])


def _mac(k2: bytes, c: bytes) -> hmac.HMAC:
    h = hmac.HMAC(k2, hashes.SHA256())
    h.update(c)
    h.update(MAC_SUFFIX)
    return h


def ecies_cbc_encrypt(recipient: ec.EllipticCurvePublicKey, plaintext: bytes) -> bytes:
    eph = ec.generate_private_key(P256)
    v = eph.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    z = eph.exchange(ec.ECDH(), recipient)
    k = kdf2_sha256(v + z, 80)
    k1, k2 = k[:16], k[16:]
    iv = os.urandom(IV_LEN)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    enc = Cipher(algorithms.AES(k1), modes.CBC(iv)).encryptor()
    c = enc.update(padded) + enc.finalize()
    return iv + v + c + _mac(k2, c).finalize()


def ecies_cbc_decrypt(key: ec.EllipticCurvePrivateKey, ct: bytes) -> bytes:
    body = len(ct) - IV_LEN - POINT_LEN - TAG_LEN
    if body < 16 or body % 16 != 0:
        raise ValueError("malformed ECIES-CBC ciphertext")
    iv, v = ct[:IV_LEN], ct[IV_LEN : IV_LEN + POINT_LEN]
    c, t = ct[IV_LEN + POINT_LEN : -TAG_LEN], ct[-TAG_LEN:]
    if v[0] != 0x04:
        raise ValueError("the ephemeral key must be an uncompressed point")
    z = key.exchange(ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(P256, v))
    k = kdf2_sha256(v + z, 80)
    k1, k2 = k[:16], k[16:]
    _mac(k2, c).verify(t)  # constant-time; raises InvalidSignature
    dec = Cipher(algorithms.AES(k1), modes.CBC(iv)).decryptor()
    padded = dec.update(c) + dec.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


# --- Interoperability with tresor ---------------------------------------------------------------------


def read_fields(path: str) -> dict:
    fields = {}
    with open(path, encoding="ascii") as f:
        for line in f:
            name, sep, value = line.strip().partition("=")
            if sep:
                fields[name] = bytes.fromhex(value)
    return fields


def interop(path_in, path_out) -> None:
    if path_in:
        f = read_fields(path_in)
        key = serialization.load_der_private_key(f["pkcs8"], password=None)
        for name in ("ciphertext", "ciphertext_portable"):
            if name in f:
                got = ecies_cbc_decrypt(key, f[name])
                if got != f["plaintext"]:
                    sys.exit(f"interop: tresor's {name} decrypts to a different plaintext")
        print("interop: python decrypts tresor's ECIES-CBC ciphertexts", file=sys.stderr)
        if path_out:
            ct = ecies_cbc_encrypt(key.public_key(), f["plaintext"])
            with open(path_out, "w", encoding="ascii") as out:
                out.write(f"pkcs8={f['pkcs8'].hex()}\n")
                out.write(f"plaintext={f['plaintext'].hex()}\n")
                out.write(f"ciphertext={ct.hex()}\n")


# --- Operations ---------------------------------------------------------------------------------------
# Each entry maps an op id to a function running the operation n times (the loop is inside, so the
# measurement has no extra Python call per operation beyond the cryptography call itself).


def build_ops() -> list:
    ops = []

    def sign_verify(prefix, key, *alg):
        pub = key.public_key()
        sig = key.sign(MSG, *alg)
        pub.verify(sig, MSG, *alg)  # raises if the pair is broken
        sign, verify = key.sign, pub.verify

        def run_sign(n):
            for _ in range(n):
                sign(MSG, *alg)

        def run_verify(n):
            for _ in range(n):
                verify(sig, MSG, *alg)

        ops.append((prefix + "_sign", run_sign))
        ops.append((prefix + "_verify", run_verify))

    sign_verify("ed25519", ed25519.Ed25519PrivateKey.generate())
    sign_verify("ecdsa_p256", ec.generate_private_key(P256), ec.ECDSA(hashes.SHA256()))
    sign_verify("ecdsa_p384", ec.generate_private_key(ec.SECP384R1()), ec.ECDSA(hashes.SHA384()))

    aead = AESGCM(AES_KEY)

    def gcm(op, size, fixed_nonce=False):
        pt = b"\x17" * size
        nonce = os.urandom(12)
        if aead.decrypt(nonce, aead.encrypt(nonce, pt, None), None) != pt:
            sys.exit("AES-GCM round trip mismatch")
        encrypt, urandom = aead.encrypt, os.urandom

        def run(n):
            for _ in range(n):
                encrypt(urandom(12), pt, None)  # a fresh random nonce per message, like tresor

        def run_fixed(n):  # diagnostic: one nonce for every message, like `openssl speed`
            for _ in range(n):
                encrypt(nonce, pt, None)

        ops.append((op, run_fixed if fixed_nonce else run))

    gcm("aes128gcm_enc_1k", 1024)
    gcm("aes128gcm_enc_64k", 65536)
    gcm("aes128gcm_enc_1k_fixed_iv", 1024, fixed_nonce=True)
    gcm("aes128gcm_enc_64k_fixed_iv", 65536, fixed_nonce=True)

    ec_key = ec.generate_private_key(P256)
    ec_pub = ec_key.public_key()
    ct = ecies_cbc_encrypt(ec_pub, SECRET)
    if ecies_cbc_decrypt(ec_key, ct) != SECRET:
        sys.exit("ECIES-CBC round trip mismatch")

    def run_ecies_enc(n):
        for _ in range(n):
            ecies_cbc_encrypt(ec_pub, SECRET)

    def run_ecies_dec(n):
        for _ in range(n):
            ecies_cbc_decrypt(ec_key, ct)

    ops.append(("ecies_cbc_enc", run_ecies_enc))
    ops.append(("ecies_cbc_dec", run_ecies_dec))

    peer = ec.generate_private_key(P256).public_key()
    ecdh, ecdh_alg = ec_key.exchange, ec.ECDH()

    def run_ecdh(n):
        for _ in range(n):
            ecdh(ecdh_alg, peer)

    ops.append(("ecdh_p256", run_ecdh))

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_pub = rsa_key.public_key()
    oaep = asym_padding.OAEP(
        mgf=asym_padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None
    )
    rsa_ct = rsa_pub.encrypt(SECRET, oaep)
    if rsa_key.decrypt(rsa_ct, oaep) != SECRET:
        sys.exit("RSA-OAEP round trip mismatch")
    rsa_decrypt, rsa_encrypt = rsa_key.decrypt, rsa_pub.encrypt

    def run_rsa_dec(n):
        for _ in range(n):
            rsa_decrypt(rsa_ct, oaep)

    def run_rsa_enc(n):
        for _ in range(n):
            rsa_encrypt(SECRET, oaep)

    ops.append(("rsa2048_oaep_dec", run_rsa_dec))
    ops.append(("rsa2048_oaep_enc", run_rsa_enc))
    return ops


# --- Timing -------------------------------------------------------------------------------------------


def warm_up(run, warmup: float) -> int:
    """Run for about `warmup` seconds, doubling the batch until one batch takes at least BATCH_TARGET."""
    clock = time.perf_counter
    start = clock()
    batch = 1
    while True:
        t = clock()
        run(batch)
        took = clock() - t
        if took < BATCH_TARGET:
            batch *= 2
        elif clock() - start >= warmup:
            return batch


def one_round(run, batch: int, budget: float, cpu_clock: bool) -> float:
    """Batches until `budget` wall-clock seconds are spent; the mean µs/op, by wall-clock time or, with
    `cpu_clock`, by this thread's CPU time over the round (leaves out time other processes hold the CPU)."""
    clock = time.perf_counter
    cpu_start = time.thread_time() if cpu_clock else 0.0
    start = clock()
    iterations = 0
    while True:
        run(batch)
        iterations += batch
        elapsed = clock() - start
        if elapsed >= budget:
            if cpu_clock:
                elapsed = time.thread_time() - cpu_start
            return elapsed * 1e6 / iterations


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="2 rounds of 100 ms (default: 5 of 500 ms)")
    p.add_argument("--rounds", type=int)
    p.add_argument("--budget-ms", type=int)
    p.add_argument("--warmup-ms", type=int)
    p.add_argument("--clock", choices=["wall", "cpu"], default="wall", help="divide by wall or thread CPU time")
    p.add_argument("--only", action="append", default=[], help="op id substrings, comma-separated")
    p.add_argument("--interop-in", help="file from `tresor-bench interop-make` to decrypt first")
    p.add_argument("--interop-out", help="write a python-made ECIES-CBC ciphertext here")
    p.add_argument("--interop-only", action="store_true", help="stop after the interop check")
    a = p.parse_args()
    rounds = a.rounds or (2 if a.quick else 5)
    budget = (a.budget_ms or (100 if a.quick else 500)) / 1000
    warmup = (a.warmup_ms or (30 if a.quick else 150)) / 1000
    only = [o for arg in a.only for o in arg.split(",") if o]

    interop(a.interop_in, a.interop_out)
    if a.interop_only:
        return
    print(
        f"peer_python: cryptography {cryptography.__version__}, {rounds} round(s) x "
        f"{budget * 1000:.0f} ms per op, warm-up {warmup * 1000:.0f} ms, {a.clock} clock",
        file=sys.stderr,
    )
    for op, run in build_ops():
        if only and not any(o in op for o in only):
            continue
        print(f"  {op}", file=sys.stderr)
        batch = warm_up(run, warmup)
        samples = [one_round(run, batch, budget, a.clock == "cpu") for _ in range(rounds)]
        line = {
            "impl": IMPL,
            "op": op,
            "us": round(statistics.median(samples), 4),
            "samples": [round(s, 4) for s in samples],
            "batch": batch,
        }
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    try:
        main()
    except InvalidSignature:
        sys.exit("peer_python: a MAC or signature check failed (interop or self-check)")
