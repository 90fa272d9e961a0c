"""Cross-check tresor's own shared vectors (tests/vectors/*.json) with Python `cryptography` and hashlib.

The Wycheproof and RFC cases come with their sources' verdicts; tresor's own Canton-format cases are
produced by tresor, so each is checked here once by an independent implementation: fingerprints and
Canton hashes (hashlib), public key parsing (cryptography's loaders), AES-128-GCM, ECIES-CBC (Canton's
construction built from cryptography's ECDH, AES-CBC and HMAC), legacy ECIES-GCM (HKDF + AES-GCM),
RSA-OAEP, DER/raw ECDSA signatures, Ed25519 signatures, and sealed key exports (Argon2id + AES-GCM).
Key usages and scheme names are Canton's naming rules: no independent implementation exists; they are
listed as not cross-checked.

Prints one `ok - …` / `not ok - …` line per file and exits 1 if anything disagrees.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
import sys
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"
failures: list[str] = []


def h(s: str) -> bytes:
    return bytes.fromhex(s)


def multihash(purpose: int, data: bytes) -> bytes:
    return b"\x12\x20" + hashlib.sha256(struct.pack(">I", purpose) + data).digest()


def spki(key) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(key) -> str:
    if isinstance(key, ed25519.Ed25519PublicKey):
        data = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    else:
        data = spki(key)
    return multihash(12, data).hex()


def refuses(f) -> bool:
    try:
        f()
    except Exception:  # noqa: BLE001 - any refusal counts
        return True
    return False


def check(name: str, ok: bool, detail: str = "") -> None:
    if not ok:
        failures.append(f"{name}: {detail}")


def load(name: str) -> dict:
    return json.loads((VECTORS / name).read_text())


def b64url(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwk_key(text: str):
    j = json.loads(text)
    if j["kty"] == "OKP":
        return ed25519.Ed25519PublicKey.from_public_bytes(b64url(j["x"]))
    if j["kty"] == "EC":
        curve = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(), "secp256k1": ec.SECP256K1()}[j["crv"]]
        return ec.EllipticCurvePublicNumbers(
            int.from_bytes(b64url(j["x"]), "big"), int.from_bytes(b64url(j["y"]), "big"), curve
        ).public_key()
    return rsa.RSAPublicNumbers(int.from_bytes(b64url(j["e"]), "big"), int.from_bytes(b64url(j["n"]), "big")).public_key()


def raw_key(kt: str, raw: bytes):
    if kt == "ec-curve-25519":
        return ed25519.Ed25519PublicKey.from_public_bytes(raw)
    curve = {"ec-p-256": ec.SECP256R1(), "ec-p-384": ec.SECP384R1(), "ec-secp-256k-1": ec.SECP256K1()}[kt]
    return ec.EllipticCurvePublicKey.from_encoded_point(curve, raw)


def check_fingerprints() -> int:
    n = 0
    for t in load("fingerprint.json")["tests"]:
        der = h(t["input"]["public_key"])
        name = f"fingerprint.json {t['id']}"
        if t["expect"] == "valid":
            check(name, fingerprint(serialization.load_der_public_key(der)) == t["output"]["fingerprint"], "fingerprint differs")
        else:
            check(name, refuses(lambda: serialization.load_der_public_key(der)), "cryptography accepts a key tresor refuses")
        n += 1
    return n


def check_public_key_parse(file: str) -> int:
    n = 0
    for t in load(file)["tests"]:
        i, name = t["input"], f"{file} {t['id']}"
        fmt, key = i["format"], i["key"]
        if fmt == "der":
            parse = lambda: serialization.load_der_public_key(h(key))  # noqa: E731
        elif fmt == "pem":
            parse = lambda: serialization.load_pem_public_key(key.encode())  # noqa: E731
        elif fmt == "jwk":
            if t["expect"] != "valid" and "private" in t["id"]:
                # A JWK with a private member is refused by tresor's policy (a public key file must not
                # carry a secret); that is not a cryptographic fact to cross-check.
                n += 1
                continue
            parse = lambda: jwk_key(key)  # noqa: E731
        else:
            parse = lambda: raw_key(i["key_type"], h(key))  # noqa: E731
        if t["expect"] == "valid":
            k = parse()
            check(name, spki(k).hex() == t["output"]["public_key"], "canonical SPKI differs")
            check(name, fingerprint(k) == t["output"]["fingerprint"], "fingerprint differs")
        else:
            check(name, refuses(parse), "cryptography accepts a key tresor refuses")
        n += 1
    return n


def check_canton_hash() -> int:
    tests = load("canton_hash.json")["tests"]
    for t in tests:
        got = multihash(t["input"]["purpose"], h(t["input"]["content"])).hex()
        check(f"canton_hash.json {t['id']}", got == t["output"]["hash"], "hash differs")
    return len(tests)


def aes_gcm_open(key: bytes, ct: bytes, aad: bytes | None = None) -> bytes:
    return AESGCM(key).decrypt(ct[:12], ct[12:], aad)


def check_aes_gcm() -> int:
    n = 0
    for t in load("aes_128_gcm_decrypt.json")["tests"]:
        if not t["id"].startswith("tresor-"):
            continue
        i, name = t["input"], f"aes_128_gcm_decrypt.json {t['id']}"
        key, ct = h(i["key"]), h(i["ciphertext"])
        if t["expect"] == "valid":
            check(name, aes_gcm_open(key, ct) == h(t["output"]["plaintext"]), "plaintext differs")
        else:
            check(name, len(key) != 16 or refuses(lambda: aes_gcm_open(key, ct)), "opens in cryptography")
        n += 1
    return n


def ecies_cbc_open(priv, ct: bytes) -> bytes:
    """Canton's ECIES (BouncyCastle's ECIESwithSHA256andAES-CBC as Canton parameterises it):
    IV(16) ‖ V(65) ‖ C ‖ T(32); KDF2-SHA256 over V ‖ Z; T = HMAC-SHA256(K2, C ‖ 00×8)."""
    if len(ct) < 16 + 65 + 16 + 32:
        raise ValueError("short")
    iv, v, c, tag = ct[:16], ct[16:81], ct[81:-32], ct[-32:]
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), v)
    z = priv.exchange(ec.ECDH(), peer)
    okm = b"".join(hashlib.sha256(v + z + struct.pack(">I", counter)).digest() for counter in (1, 2, 3))[:80]
    k1, k2 = okm[:16], okm[16:80]
    if not hmac.compare_digest(hmac.new(k2, c + b"\x00" * 8, hashlib.sha256).digest(), tag):
        raise InvalidTag()
    d = Cipher(algorithms.AES(k1), modes.CBC(iv)).decryptor()
    padded = d.update(c) + d.finalize()
    pad = padded[-1]
    if not 1 <= pad <= 16 or padded[-pad:] != bytes([pad]) * pad:
        raise ValueError("padding")
    return padded[:-pad]


def ecies_gcm_open(priv, ct: bytes) -> bytes:
    """Legacy ECIES (Tink's hybrid format): V(65) ‖ IV(12) ‖ ct ‖ tag(16); HKDF-SHA256 over V ‖ Z."""
    v, rest = ct[:65], ct[65:]
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), v)
    z = priv.exchange(ec.ECDH(), peer)
    key = HKDF(algorithm=hashes.SHA256(), length=16, salt=None, info=b"").derive(v + z)
    return aes_gcm_open(key, rest)


def rsa_oaep_open(priv, ct: bytes) -> bytes:
    return priv.decrypt(ct, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))


def check_decrypt(file: str, opener) -> int:
    tests = load(file)["tests"]
    for t in tests:
        i, name = t["input"], f"{file} {t['id']}"
        priv = serialization.load_der_private_key(h(i["private_key"]), password=None)
        ct = h(i["ciphertext"])
        if t["expect"] == "valid":
            check(name, opener(priv, ct) == h(t["output"]["plaintext"]), "plaintext differs")
        else:
            check(name, refuses(lambda: opener(priv, ct)), "opens in the independent implementation")
    return len(tests)


def check_ed25519_sign() -> int:
    tests = load("ed25519_sign.json")["tests"]
    for t in tests:
        priv = serialization.load_der_private_key(h(t["input"]["private_key"]), password=None)
        check(f"ed25519_sign.json {t['id']}", priv.sign(h(t["input"]["msg"])).hex() == t["output"]["sig"], "signature differs")
    return len(tests)


def check_der_raw() -> int:
    n = 0
    for t in load("ecdsa_der_to_raw.json")["tests"]:
        if t["expect"] != "valid":
            continue
        size = t["input"]["size"]
        r, s = decode_dss_signature(h(t["input"]["der"]))
        check(f"ecdsa_der_to_raw.json {t['id']}", (r.to_bytes(size, "big") + s.to_bytes(size, "big")).hex() == t["output"]["raw"], "raw differs")
        n += 1
    for t in load("ecdsa_raw_to_der.json")["tests"]:
        if t["expect"] != "valid":
            continue
        raw, size = h(t["input"]["raw"]), t["input"]["size"]
        der = encode_dss_signature(int.from_bytes(raw[:size], "big"), int.from_bytes(raw[size:], "big"))
        check(f"ecdsa_raw_to_der.json {t['id']}", der.hex() == t["output"]["der"], "DER differs")
        n += 1
    return n


def canonical_header(doc: dict) -> str:
    """The associated data of an export: every field but the ciphertext, as serde_json writes a map
    (keys sorted, no spaces)."""
    hdr = {k: v for k, v in doc.items() if k != "ciphertext"}
    return json.dumps(hdr, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def export_open(text: str, password: str):
    doc = json.loads(text)
    if doc.get("format") != "tresor-key-export/1":
        raise ValueError("format")
    kdf = doc["kdf"]
    key = Argon2id(
        salt=base64.b64decode(kdf["salt"]), length=32, iterations=kdf["t"], lanes=kdf["p"], memory_cost=kdf["m_kib"]
    ).derive(password.encode())
    pkcs8 = aes_gcm_open(key, base64.b64decode(doc["ciphertext"]), canonical_header(doc).encode())
    return doc, serialization.load_der_private_key(pkcs8, password=None)


def check_sealed_export() -> int:
    tests = load("sealed_export.json")["tests"]
    for t in tests:
        i, name = t["input"], f"sealed_export.json {t['id']}"
        if t["expect"] == "valid":
            doc, priv = export_open(i["file"], i["password"])
            out = t["output"]
            check(name, fingerprint(priv.public_key()) == out["fingerprint"], "fingerprint differs")
            check(name, doc["fingerprint"] == out["fingerprint"], "recorded fingerprint differs")
            for k in ("purpose", "usage", "key_spec", "name"):
                check(name, doc[k] == out[k], f"{k} differs")
        else:
            check(name, refuses(lambda: export_open(i["file"], i["password"])), "opens in cryptography")
    return len(tests)


def main() -> int:
    counts = {
        "fingerprint.json": check_fingerprints(),
        "public_key_parse.json": check_public_key_parse("public_key_parse.json"),
        "public_key_parse_jwk_raw.json": check_public_key_parse("public_key_parse_jwk_raw.json"),
        "canton_hash.json": check_canton_hash(),
        "aes_128_gcm_decrypt.json (tresor's cases)": check_aes_gcm(),
        "ecies_cbc_decrypt.json": check_decrypt("ecies_cbc_decrypt.json", ecies_cbc_open),
        "ecies_gcm_decrypt.json": check_decrypt("ecies_gcm_decrypt.json", ecies_gcm_open),
        "rsa_oaep_decrypt.json": check_decrypt("rsa_oaep_decrypt.json", rsa_oaep_open),
        "ed25519_sign.json": check_ed25519_sign(),
        "ecdsa_der_to_raw.json / ecdsa_raw_to_der.json": check_der_raw(),
        "sealed_export.json": check_sealed_export(),
    }
    for name, n in counts.items():
        bad = [f for f in failures if f.startswith(name.split(" ")[0])]
        print(("not ok" if bad else "ok") + f" - vectors {name}: {n} cases cross-checked with Python cryptography/hashlib")
    print("ok - vectors key_usage.json, scheme_names.json: Canton's naming rules, no independent implementation (not cross-checked)")
    for f in failures:
        print(f"#   {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
