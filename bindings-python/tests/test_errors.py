"""Every error code is raised as its class: the generated table, and real failures driven where they can be."""

from __future__ import annotations

import pathlib
import sqlite3
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

import tresor
import tresor.exceptions as exc
from conftest import envelope_config, write_kms_key

FAMILIES = {
    1: exc.ArgumentError,
    2: exc.InputError,
    3: exc.CryptoError,
    4: exc.StoreError,
    5: exc.KmsError,
    9: exc.UnexpectedError,
}


@pytest.mark.parametrize("code", sorted(exc.BY_CODE))
def test_from_code_maps_every_code_to_its_class(code: int) -> None:
    cls = exc.BY_CODE[code]
    e = exc.from_code(code, "detail")
    assert type(e) is cls and e.code == code and str(e) == "detail"
    assert isinstance(e, exc.TresorError) and isinstance(e, FAMILIES[code // 100])
    assert exc.BY_KIND[e.kind] is cls
    assert e.retryable == (code in (500, 505))
    assert getattr(tresor, cls.__name__) is cls
    if code // 100 in (1, 2):
        assert isinstance(e, ValueError)


def test_unknown_and_retired_codes() -> None:
    for code in (0, 406, 901, 12345):
        e = exc.from_code(code, "m")
        assert type(e) is exc.InternalError and str(code) in str(e)


def expect(cls: type[exc.TresorError], fn: object, *args: object, **kwargs: object) -> exc.TresorError:
    assert callable(fn)
    with pytest.raises(cls) as info:
        fn(*args, **kwargs)
    assert type(info.value) is cls, f"{type(info.value).__name__}: {info.value}"
    assert info.value.code == cls.code
    return info.value


@pytest.fixture
def envelope_vault(tmp_path: pathlib.Path) -> Iterator[tresor.Vault]:
    write_kms_key(tmp_path)
    v = tresor.Vault.open(
        text=envelope_config("sqlite://e.db"), base_dir=tmp_path, create=True, environment=False
    )
    yield v
    v.close()


@pytest.fixture
def external_vault(tmp_path: pathlib.Path) -> Iterator[tresor.Vault]:
    config = '[store]\nurl = "sqlite://x.db"\n[crypto]\nprovider = "kms"\n[kms]\ntype = "software"\npath = "k.db"\n'
    v = tresor.Vault.open(text=config, base_dir=tmp_path, create=True, passphrase="p", environment=False)
    yield v
    v.close()


def test_argument_errors() -> None:
    expect(exc.InvalidArgument, tresor.hkdf_sha256, b"k", length=9000)
    expect(exc.UnknownScheme, tresor.PrivateKey.generate, "dsa-1024")
    expect(exc.InvalidKeyUsage, tresor.key_usage, "")


def test_input_errors() -> None:
    key = tresor.PrivateKey.generate("ec-p-256")
    expect(exc.MalformedKey, tresor.PublicKey.from_der, b"\x30\x00")
    expect(exc.MalformedSignature, key.public_key.verify, b"\x30\x01", b"m")
    expect(exc.MalformedCiphertext, key.decrypt, b"\x00" * 10)
    p521 = ec.generate_private_key(ec.SECP521R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    expect(exc.UnsupportedAlgorithm, tresor.PublicKey.from_der, p521)
    expect(exc.IncompatibleKey, key.sign, b"m", "ed-25519")
    expect(exc.MalformedData, tresor.open_sealed_export, "not json", "pw")


def test_crypto_errors(envelope_vault: tresor.Vault) -> None:
    key = tresor.PrivateKey.generate("ec-curve-25519")
    expect(exc.InvalidSignature, key.verify, bytes(64), b"m")
    enc = tresor.PrivateKey.generate("rsa-2048")
    ct = bytearray(enc.encrypt(b"m"))
    ct[5] ^= 0x40
    expect(exc.DecryptionFailed, enc.decrypt, bytes(ct))
    info = envelope_vault.generate_signing_key("ec-curve-25519", "namespace")
    sealed = envelope_vault.export_sealed(info.fingerprint, "right")
    expect(exc.WrongPassword, envelope_vault.import_sealed, sealed, "wrong")


def test_wrong_kms_key_file(tmp_path: pathlib.Path) -> None:
    write_kms_key(tmp_path)
    config = envelope_config("sqlite://w.db")
    tresor.Vault.open(text=config, base_dir=tmp_path, create=True, environment=False).close()
    write_kms_key(tmp_path)  # another master key
    expect(exc.WrongPassword, tresor.Vault.open, text=config, base_dir=tmp_path, environment=False)


def test_store_errors(envelope_vault: tresor.Vault, tmp_path: pathlib.Path) -> None:
    fp = "1220" + "ab" * 32
    expect(exc.KeyNotFound, envelope_vault.key_info, fp)
    info = envelope_vault.generate_signing_key("ec-p-256", "protocol")
    expect(exc.UsageNotAllowed, envelope_vault.sign, info.fingerprint, b"m", "namespace")
    key = tresor.PrivateKey.generate("ec-p-256")
    envelope_vault.import_private_key(key, "signing", usage="protocol")
    expect(exc.KeyAlreadyExists, envelope_vault.import_private_key, key, "signing", usage="protocol")
    expect(exc.IoFailure, tresor.Vault.open, text=envelope_config("sqlite://missing.db"),
           base_dir=tmp_path, environment=False)


def test_store_failure(tmp_path: pathlib.Path) -> None:
    config = '[store]\nurl = "postgres://nobody:secret@127.0.0.1:1/none"\n'
    e = expect(exc.StoreFailure, tresor.Vault.open, text=config, base_dir=tmp_path, environment=False)
    assert "secret" not in str(e)


def test_store_corrupted(tmp_path: pathlib.Path) -> None:
    write_kms_key(tmp_path)
    config = envelope_config("sqlite://c.db")
    with tresor.Vault.open(text=config, base_dir=tmp_path, create=True, environment=False) as v:
        a = v.generate_signing_key("ec-curve-25519", "protocol")
        b = v.generate_signing_key("ec-curve-25519", "protocol")
    db = sqlite3.connect(tmp_path / "c.db")
    with db:  # swap the sealed private keys of two rows: each fails its associated data
        rows = dict(db.execute("SELECT fingerprint, data FROM tresor_keys").fetchall())
        db.execute("UPDATE tresor_keys SET data = ? WHERE fingerprint = ?", (rows[b.fingerprint], a.fingerprint))
    db.close()
    with tresor.Vault.open(text=config, base_dir=tmp_path, environment=False) as v:
        expect(exc.StoreCorrupted, v.sign, a.fingerprint, b"m", "protocol")


def test_wrong_mode(envelope_vault: tresor.Vault, external_vault: tresor.Vault) -> None:
    info = external_vault.generate_signing_key("ec-p-256", "protocol")
    expect(exc.WrongMode, external_vault.export_sealed, info.fingerprint, "pw")
    expect(exc.WrongMode, envelope_vault.register_kms_key, "some-id", "signing", usage="protocol")


def test_kms_errors(external_vault: tresor.Vault, envelope_vault: tresor.Vault) -> None:
    expect(exc.KmsKeyNotFound, external_vault.register_kms_key, "no-such-key", "signing", usage="protocol")
    expect(exc.KmsKeyNotFound, envelope_vault.rotate_wrapper_key, "no-such-key")
    info = external_vault.generate_signing_key("ec-p-256", "protocol")
    e = expect(exc.InputTooLarge, external_vault.sign, info.fingerprint, bytes(5000), "protocol")
    assert not e.retryable


def test_kms_unavailable(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    config = (
        '[store]\nurl = "sqlite://u.db"\n[private-key-store.encryption]\ntype = "kms"\n'
        '[kms]\ntype = "aws"\nregion = "eu-west-1"\nendpoint-override = "http://127.0.0.1:1"\n'
    )
    e = expect(exc.KmsUnavailable, tresor.Vault.open, text=config, base_dir=tmp_path, create=True,
               max_retries=0, environment=False)
    assert e.retryable and isinstance(e, exc.KmsError)


def test_exceptions_are_catchable_by_family_and_builtin() -> None:
    with pytest.raises(ValueError):
        tresor.PublicKey.from_der(b"junk")
    with pytest.raises(exc.InputError):
        tresor.PublicKey.from_der(b"junk")


def test_package_exports_every_exception() -> None:
    assert set(exc.__all__) <= set(tresor.__all__)
    for name in tresor.__all__:
        assert hasattr(tresor, name), name
