#!/usr/bin/env python3
"""Canton public-key fingerprint, computed with nothing but hashlib (independent of tresor).

    fingerprint.py spki <spki.der>        fingerprint of the DER SubjectPublicKeyInfo as is
    fingerprint.py ed25519 <spki.der>     fingerprint of an Ed25519 key: over the raw 32-byte key,
                                          i.e. the last 32 bytes of its SPKI

Canton: hash purpose 12 (public key fingerprint), SHA-256 over u32be(12) || key bytes, rendered as
the multihash  0x12 0x20 || digest  in lowercase hex (68 characters).
"""

import hashlib
import struct
import sys

PUBLIC_KEY_FINGERPRINT_PURPOSE = 12
# The Ed25519 SPKI is a fixed 12-byte prefix followed by the 32-byte key.
ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


def fingerprint(key_bytes: bytes) -> str:
    digest = hashlib.sha256(struct.pack(">I", PUBLIC_KEY_FINGERPRINT_PURPOSE) + key_bytes).digest()
    return (bytes([0x12, 0x20]) + digest).hex()


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("spki", "ed25519"):
        print("usage: fingerprint.py spki|ed25519 <spki.der>", file=sys.stderr)
        return 2
    with open(argv[2], "rb") as f:
        spki = f.read()
    if argv[1] == "ed25519":
        if len(spki) != 44 or not spki.startswith(ED25519_SPKI_PREFIX):
            print(f"not an Ed25519 SPKI ({len(spki)} bytes)", file=sys.stderr)
            return 1
        key_bytes = spki[-32:]
    else:
        key_bytes = spki
    print(fingerprint(key_bytes))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
