"""Caller-held keys and primitives: encodings, fingerprints, sign/verify, encrypt/decrypt, buffers."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from typing import Callable, Union

import pytest
from cryptography.hazmat.primitives import serialization

import tresor
from conftest import ENCRYPTION_SPECS, SIGNING_SPECS

ALL_SPECS = ["ec-curve-25519", "ec-p-256", "ec-p-384", "ec-secp-256k-1", "rsa-2048"]
Buffer = Union[bytes, bytearray, memoryview]
BUFFERS: list[Callable[[bytes], Buffer]] = [bytes, bytearray, memoryview]


@pytest.fixture(scope="module")
def keys() -> dict[str, tresor.PrivateKey]:
    return {spec: tresor.PrivateKey.generate(spec) for spec in ALL_SPECS}


def b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_int(text: str) -> int:
    return int.from_bytes(b64url(text), "big")


def canton_fingerprint(key_bytes: bytes) -> str:
    return "1220" + hashlib.sha256(struct.pack(">I", 12) + key_bytes).hexdigest()


@pytest.mark.parametrize("spec", ALL_SPECS)
def test_encodings_round_trip(keys: dict[str, tresor.PrivateKey], spec: str) -> None:
    key = keys[spec]
    pub = key.public_key
    assert key.spec == pub.spec == spec
    assert key.fingerprint == pub.fingerprint
    der = pub.to_der()
    assert tresor.PublicKey.from_der(der) == pub
    assert tresor.PublicKey.from_pem(pub.to_pem()) == pub
    assert tresor.PublicKey.from_pem(pub.to_pem().encode()) == pub
    assert tresor.PublicKey.from_bytes(der) == pub
    assert tresor.PublicKey.from_bytes(pub.to_pem().encode()) == pub
    assert tresor.PublicKey.from_jwk(pub.to_jwk()) == pub
    assert tresor.PublicKey.from_raw(spec, pub.to_raw()) == pub
    assert hash(tresor.PublicKey.from_der(der)) == hash(pub)
    assert pub != tresor.PrivateKey.generate("ec-p-256").public_key
    assert pub != "not a key"
    jwk = json.loads(pub.to_jwk())
    assert "d" not in jwk
    # Fingerprint: Canton's multihash of the SPKI (the raw 32 bytes for Ed25519).
    key_bytes = pub.to_raw() if spec == "ec-curve-25519" else der
    assert pub.fingerprint == canton_fingerprint(key_bytes)
    # Private key encodings.
    assert tresor.PrivateKey.from_der(key.to_der()).fingerprint == key.fingerprint
    assert tresor.PrivateKey.from_pem(key.to_pem()).fingerprint == key.fingerprint
    assert tresor.PrivateKey.from_bytes(key.to_pem().encode()).fingerprint == key.fingerprint
    assert tresor.PrivateKey.from_bytes(key.to_der()).fingerprint == key.fingerprint
    assert key.to_pem().startswith("-----BEGIN PRIVATE KEY-----")
    assert pub.to_pem().startswith("-----BEGIN PUBLIC KEY-----")
    # Private JWK and raw secret, checked against cryptography's view of the same key.
    private_jwk = json.loads(key.to_jwk())
    assert tresor.PrivateKey.from_jwk(key.to_jwk()).to_der() == key.to_der()
    assert {k: v for k, v in private_jwk.items() if k not in ("d", "p", "q", "dp", "dq", "qi")} == jwk
    with pytest.raises(tresor.MalformedKey):
        tresor.PrivateKey.from_jwk(pub.to_jwk())
    with pytest.raises(tresor.MalformedKey):
        tresor.PublicKey.from_jwk(key.to_jwk())
    peer = key.to_cryptography()
    if spec == "rsa-2048":
        with pytest.raises(tresor.InvalidArgument):
            key.to_raw()
        numbers = peer.private_numbers()
        assert b64url_int(private_jwk["d"]) == numbers.d
        assert b64url_int(private_jwk["p"]) == numbers.p
        assert b64url_int(private_jwk["qi"]) == numbers.iqmp
    else:
        raw = key.to_raw()
        assert tresor.PrivateKey.from_raw(spec, raw).to_der() == key.to_der()
        assert b64url(private_jwk["d"]) == raw
        if spec == "ec-curve-25519":
            assert raw == peer.private_bytes(
                serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
            )
        else:
            assert int.from_bytes(raw, "big") == peer.private_numbers().private_value


def test_raw_private_keys() -> None:
    seed = bytes(range(32))
    a = tresor.PrivateKey.from_raw("ec-curve-25519", seed)
    b = tresor.PrivateKey.from_raw("Ed25519".replace("Ed25519", "ec-curve-25519"), bytearray(seed))
    assert a.fingerprint == b.fingerprint
    scalar = (7).to_bytes(32, "big")
    p256 = tresor.PrivateKey.from_raw("ec-p-256", scalar)
    assert p256.spec == "ec-p-256"
    with pytest.raises(tresor.MalformedKey):
        tresor.PrivateKey.from_raw("ec-p-256", bytes(32))  # zero is not a scalar


def test_display_names_are_accepted() -> None:
    assert tresor.PrivateKey.generate("EC-P256").spec == "ec-p-256"
    with pytest.raises(tresor.UnknownScheme) as e:
        tresor.PrivateKey.generate("ec-p-521")
    assert "accepted" in str(e.value)


@pytest.mark.parametrize("spec", SIGNING_SPECS)
@pytest.mark.parametrize("wrap", BUFFERS)
def test_sign_verify(
    keys: dict[str, tresor.PrivateKey], spec: str, wrap: Callable[[bytes], Buffer]
) -> None:
    key = keys[spec]
    msg = b"a message to sign"
    sig = key.sign(wrap(msg))
    assert isinstance(sig, bytes)
    key.public_key.verify(wrap(sig), wrap(msg))
    key.verify(sig, msg)
    with pytest.raises(tresor.InvalidSignature) as e:
        key.public_key.verify(sig, msg + b"!")
    assert e.value.code == 300 and e.value.kind == "invalid_signature"
    assert isinstance(e.value, tresor.CryptoError) and isinstance(e.value, tresor.TresorError)


def test_signature_formats(keys: dict[str, tresor.PrivateKey]) -> None:
    assert len(keys["ec-curve-25519"].sign(b"m")) == 64
    der = keys["ec-p-256"].sign(b"m", "ec-dsa-sha-256")
    assert der[0] == 0x30
    raw = tresor.ecdsa_der_to_raw(der, "ec-p-256")
    assert len(raw) == 64
    assert tresor.ecdsa_raw_to_der(raw, "ec-p-256") == der
    der384 = keys["ec-p-384"].sign(b"m")
    assert len(tresor.ecdsa_der_to_raw(der384, "ec-p-384")) == 96
    with pytest.raises(tresor.IncompatibleKey):
        keys["ec-p-256"].sign(b"m", "ec-dsa-sha-384")
    with pytest.raises(tresor.IncompatibleKey):
        keys["rsa-2048"].sign(b"m")
    with pytest.raises(tresor.MalformedSignature):
        keys["ec-curve-25519"].public_key.verify(b"short", b"m")


@pytest.mark.parametrize("spec", ENCRYPTION_SPECS)
@pytest.mark.parametrize("wrap", BUFFERS)
def test_encrypt_decrypt(
    keys: dict[str, tresor.PrivateKey], spec: str, wrap: Callable[[bytes], Buffer]
) -> None:
    key = keys[spec]
    for pt in [b"", b"x", b"secret" * 5, bytes(190)]:
        ct = key.public_key.encrypt(wrap(pt))
        assert key.decrypt(wrap(ct)) == pt
    tampered = bytearray(key.encrypt(b"secret"))
    tampered[-1] ^= 1
    with pytest.raises(tresor.DecryptionFailed):
        key.decrypt(tampered)


def test_ecies_lengths_and_legacy(keys: dict[str, tresor.PrivateKey]) -> None:
    key = keys["ec-p-256"]
    ct = key.encrypt(b"0123456789abcdef0123456789abcdef")
    assert len(ct) == 16 + 65 + 48 + 32  # IV, ephemeral point, CBC of 32 bytes padded, tag
    with pytest.raises(tresor.MalformedCiphertext):
        key.decrypt(b"too short")
    with pytest.raises(tresor.IncompatibleKey):
        key.decrypt(ct, "rsa-oaep-sha-256")
    with pytest.raises(tresor.IncompatibleKey):
        keys["ec-curve-25519"].encrypt(b"x")
    with pytest.raises(tresor.UnknownScheme):
        key.encrypt(b"x", "rot13")


def test_rsa_bounds(keys: dict[str, tresor.PrivateKey]) -> None:
    with pytest.raises(tresor.TresorError) as e:
        keys["rsa-2048"].encrypt(bytes(191))
    assert e.value.code in (100, 102)


def test_aes_gcm() -> None:
    key = tresor.AesGcmKey(bytes(range(16)))
    for wrap in BUFFERS:
        ct = key.encrypt(wrap(b"attack at dawn"))
        assert len(ct) == 12 + 14 + 16
        assert key.decrypt(wrap(ct)) == b"attack at dawn"
    assert tresor.AesGcmKey(key.to_bytes()).decrypt(key.encrypt(b"")) == b""
    other = tresor.AesGcmKey.generate()
    with pytest.raises(tresor.DecryptionFailed):
        other.decrypt(key.encrypt(b"x"))
    with pytest.raises(tresor.MalformedCiphertext):
        key.decrypt(bytes(27))
    with pytest.raises(tresor.MalformedKey):
        tresor.AesGcmKey(bytes(32))  # Canton's scheme is AES-128


def test_hmac_hkdf_hash() -> None:
    # RFC 4231 case 2 and RFC 5869 case 1.
    tag = tresor.hmac_sha256(b"Jefe", b"what do ya want for nothing?")
    assert tag.hex() == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    tresor.hmac_sha256_verify(b"Jefe", b"what do ya want for nothing?", tag)
    with pytest.raises(tresor.InvalidSignature):
        tresor.hmac_sha256_verify(b"Jefe", b"what do ya want for nothing!", tag)
    okm = tresor.hkdf_sha256(
        bytes([0x0B] * 22), salt=bytes(range(13)), info=bytes(range(0xF0, 0xFA)), length=42
    )
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )
    assert len(tresor.hkdf_sha256(b"ikm")) == 32
    with pytest.raises(tresor.InvalidArgument):
        tresor.hkdf_sha256(b"ikm", length=8161)
    h = tresor.canton_hash(12, b"content")
    assert h == bytes([0x12, 0x20]) + hashlib.sha256(struct.pack(">I", 12) + b"content").digest()


def test_names() -> None:
    assert tresor.key_usage("protocol, namespace") == ["namespace", "protocol"]
    assert tresor.key_usage(["sequencer-auth"]) == ["sequencer-auth"]
    with pytest.raises(tresor.InvalidKeyUsage):
        tresor.key_usage("proof-of-ownership")
    assert tresor.scheme_name("signing-algorithm", "Ed25519") == "ed-25519"
    assert tresor.scheme_name("encryption-key-spec", "RSA-2048") == "rsa-2048"
    assert tresor.scheme_name("key-spec", "EC-Secp256k1") == "ec-secp-256k-1"
    with pytest.raises(tresor.UnknownScheme):
        tresor.scheme_name("signing-key-spec", "ec-p-521")
    with pytest.raises(tresor.InvalidArgument):
        tresor.scheme_name("colour", "red")


def test_wrong_argument_types() -> None:
    key = tresor.PrivateKey.generate("ec-curve-25519")
    with pytest.raises(TypeError):
        key.sign("text is not bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        key.sign(12)  # type: ignore[arg-type]
    with pytest.raises(tresor.MalformedKey):
        tresor.PublicKey.from_der(b"")
    with pytest.raises(tresor.MalformedKey):
        tresor.PublicKey.from_pem(key.to_pem())  # a private key where a public one is expected
    with pytest.raises(tresor.MalformedKey):
        tresor.PublicKey.from_jwk('{"kty":"OKP","crv":"Ed25519","x":"AA","d":"AA"}')
    with pytest.raises(tresor.MalformedData):
        tresor.PublicKey.from_pem(b"\xff\xfe")


def test_version() -> None:
    assert tresor.__version__.count(".") == 2


def test_installed_from_the_wheel() -> None:
    import os

    if os.environ.get("TRESOR_EXPECT_INSTALLED") != "1":
        return
    assert "site-packages" in (tresor.__file__ or ""), tresor.__file__
