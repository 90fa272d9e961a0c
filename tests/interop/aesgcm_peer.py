#!/usr/bin/env python3
"""AES-GCM in Canton's wire format, done with pyca/cryptography (independent of tresor).

Canton's AES-128-GCM: 16-byte key, random 12-byte IV, 128-bit tag, no associated data, and the
wire format  IV(12) || ciphertext || tag(16).

    aesgcm_peer.py encrypt <hex-key> <in> <out>
    aesgcm_peer.py decrypt <hex-key> <in> <out>

Exit status 0 on success, 1 when the operation fails (one line on stderr), 2 on a usage error.
"""

import os
import sys

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

IV_LEN = 12
TAG_LEN = 16


def encrypt(key: bytes, plaintext: bytes) -> bytes:
    iv = os.urandom(IV_LEN)
    # AESGCM.encrypt returns ciphertext || tag (16-byte tag).
    return iv + AESGCM(key).encrypt(iv, plaintext, None)


def decrypt(key: bytes, wire: bytes) -> bytes:
    if len(wire) < IV_LEN + TAG_LEN:
        raise ValueError(f"ciphertext too short: {len(wire)} bytes")
    iv, body = wire[:IV_LEN], wire[IV_LEN:]
    return AESGCM(key).decrypt(iv, body, None)


def main(argv: list[str]) -> int:
    if len(argv) != 5 or argv[1] not in ("encrypt", "decrypt"):
        print("usage: aesgcm_peer.py encrypt|decrypt <hex-key> <in> <out>", file=sys.stderr)
        return 2
    mode, hex_key, src, dst = argv[1:]
    try:
        key = bytes.fromhex(hex_key)
        if len(key) not in (16, 32):
            raise ValueError(f"an AES-GCM key is 16 or 32 bytes, got {len(key)}")
        with open(src, "rb") as f:
            data = f.read()
        out = encrypt(key, data) if mode == "encrypt" else decrypt(key, data)
        with open(dst, "wb") as f:
            f.write(out)
    except InvalidTag:
        print(f"aesgcm_peer {mode}: authentication failed", file=sys.stderr)
        return 1
    except (OSError, ValueError) as e:
        print(f"aesgcm_peer {mode}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
