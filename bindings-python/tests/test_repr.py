"""No secret in any repr or str: private keys, AES keys, vaults (store passwords), errors."""

from __future__ import annotations

import pathlib

import tresor
import tresor.hazmat
from conftest import envelope_config, write_kms_key


def assert_hidden(text: str, secrets: list[str]) -> None:
    for s in secrets:
        assert s not in text, f"{s[:16]}… shown in {text!r}"


def test_keys_do_not_show_secrets() -> None:
    for spec in ["ec-curve-25519", "ec-p-256", "ec-p-384", "ec-secp-256k-1", "rsa-2048"]:
        key = tresor.PrivateKey.generate(spec)
        der = key.to_der()
        secrets = [der.hex(), der[-32:].hex(), key.to_pem().splitlines()[1], str(list(der[-32:]))]
        for text in (repr(key), str(key), repr(key.public_key), str(key.public_key)):
            assert_hidden(text, secrets)
        assert key.fingerprint in repr(key) and spec in repr(key)
    aes = tresor.AesGcmKey.generate()
    raw = aes.to_bytes()
    assert repr(aes) == "AesGcmKey(bits=128)"
    assert_hidden(str(aes), [raw.hex(), str(raw)])


def test_vault_objects_do_not_show_secrets(tmp_path: pathlib.Path) -> None:
    write_kms_key(tmp_path)
    master = (tmp_path / "tresor-kms.key").read_text()
    with tresor.Vault.open(
        text=envelope_config("sqlite://r.db"), base_dir=tmp_path, create=True, environment=False
    ) as vault:
        info = vault.generate_signing_key("ec-curve-25519", "namespace", name="root")
        clear = tresor.hazmat.export_private_key(vault, info.fingerprint)
        secrets = [master, clear.to_der().hex(), clear.to_pem().splitlines()[1]]
        sealed = vault.export_sealed(info.fingerprint, "the password")
        opened = tresor.open_sealed_export(sealed, "the password")
        for obj in (vault, info, vault.health(), opened, opened.private_key):
            assert_hidden(repr(obj), secrets + ["the password"])
        assert "root" in repr(info) and info.fingerprint in repr(info)


def test_store_password_is_redacted(tmp_path: pathlib.Path) -> None:
    from conftest import postgres_url

    url = postgres_url()
    if url is None:
        url = "postgres://tresor:hunter2secret@127.0.0.1:1/db"
    password = url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    try:
        with tresor.Vault.open(text=f'[store]\nurl = "{url}"\n', base_dir=tmp_path, environment=False) as v:
            assert_hidden(repr(v), [password])
            assert_hidden(v.store_url, [password])
    except tresor.TresorError as e:  # no server: the error must not show it either
        assert_hidden(str(e) + repr(e), [password])


def test_errors_do_not_show_inputs() -> None:
    key = tresor.PrivateKey.generate("ec-p-256")
    secret_pt = b"very secret plaintext"
    ct = bytearray(key.encrypt(secret_pt))
    ct[-1] ^= 1
    try:
        key.decrypt(bytes(ct))
    except tresor.DecryptionFailed as e:
        assert str(e) == "decryption failed"
