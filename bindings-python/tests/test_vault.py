"""The vault, on a SQLite file and on the PostgreSQL server (the `vault` fixture runs each test on both)."""

from __future__ import annotations

import pathlib
import threading

import pytest

import tresor
import tresor.hazmat
from conftest import ENCRYPTION_SPECS, SIGNING_SPECS, envelope_config, write_kms_key


def test_generate_list_sign_verify(vault: tresor.Vault) -> None:
    assert vault.mode == "envelope"
    assert vault.list_keys() == [] or all(isinstance(k, tresor.KeyInfo) for k in vault.list_keys())
    made = []
    for spec in SIGNING_SPECS:
        info = vault.generate_signing_key(spec, "protocol,sequencer-auth", name=f"sig-{spec}")
        assert info.spec == spec and info.purpose == "signing" and info.storage == "sealed"
        assert info.usage == ["sequencer-auth", "protocol"]
        assert info.name == f"sig-{spec}"
        assert info.kms_key_id is None and info.created_at > 0
        made.append(info)
        msg = b"to be signed"
        sig = vault.sign(info.fingerprint, bytearray(msg), "protocol")
        vault.verify(info.fingerprint, msg, sig)
        info.public_key.verify(sig, memoryview(msg))
        assert vault.public_key(info.fingerprint) == info.public_key
        with pytest.raises(tresor.InvalidSignature):
            vault.verify(info.fingerprint, b"other", sig)
        with pytest.raises(tresor.UsageNotAllowed):
            vault.sign(info.fingerprint, msg, ["namespace"])
    for spec in ENCRYPTION_SPECS:
        info = vault.generate_encryption_key(spec)
        assert info.usage is None and info.purpose == "encryption" and info.name is None
        made.append(info)
        ct = vault.encrypt(info.fingerprint, b"secret")
        assert vault.decrypt(info.fingerprint, ct) == b"secret"
        assert tresor.PublicKey.from_der(info.public_key.to_der()).encrypt(b"x") != b"x"
        with pytest.raises(tresor.IncompatibleKey):
            vault.sign(info.fingerprint, b"m", "protocol")
    listed = {k.fingerprint for k in vault.list_keys()}
    assert {k.fingerprint for k in made} <= listed
    assert vault.key_info(made[0].fingerprint).name == made[0].name
    assert vault.health().status == "ok" and vault.health().serving


def test_delete_rotate_and_missing_keys(vault: tresor.Vault) -> None:
    info = vault.generate_signing_key("ec-p-256", ["protocol"], name="node")
    rotated = vault.rotate_node_key(info.fingerprint)
    assert rotated.fingerprint != info.fingerprint
    assert rotated.spec == info.spec and rotated.usage == info.usage
    assert rotated.name is not None and rotated.name.startswith("node-rotated-")
    vault.delete_key(info.fingerprint)
    with pytest.raises(tresor.KeyNotFound) as e:
        vault.key_info(info.fingerprint)
    assert e.value.code == 400 and isinstance(e.value, tresor.StoreError)
    with pytest.raises(tresor.KeyNotFound):
        vault.sign(info.fingerprint, b"m", "protocol")
    with pytest.raises(tresor.MalformedData):
        vault.key_info("not a fingerprint")
    namespace = vault.generate_signing_key("ec-curve-25519", "namespace")
    with pytest.raises(tresor.TresorError):  # a KMS key as successor needs external mode
        vault.rotate_kms_node_key(namespace.fingerprint, "some-kms-key")


def test_envelope_administration(vault: tresor.Vault) -> None:
    keys = [vault.generate_signing_key("ec-curve-25519", "protocol") for _ in range(3)]
    before = vault.wrapper_key_id()
    after = vault.rotate_wrapper_key()
    assert after != before and vault.wrapper_key_id() == after
    assert vault.rotate_data_key() >= 3
    for k in keys:
        k.public_key.verify(vault.sign(k.fingerprint, b"m", "protocol"), b"m")


def test_export_import(vault: tresor.Vault, tmp_path: pathlib.Path) -> None:
    info = vault.generate_signing_key("ec-curve-25519", "namespace", name="root")
    sealed = vault.export_sealed(info.fingerprint, "pass phrase")
    assert "tresor-key-export/1" in sealed
    opened = tresor.open_sealed_export(sealed, b"pass phrase")
    assert opened.fingerprint == info.fingerprint and opened.usage == ["namespace"]
    assert opened.purpose == "signing" and opened.spec == "ec-curve-25519" and opened.name == "root"
    assert opened.private_key.fingerprint == info.fingerprint
    with pytest.raises(tresor.WrongPassword):
        tresor.open_sealed_export(sealed, "wrong")
    with pytest.raises(tresor.MalformedData):
        tresor.open_sealed_export("{}", "pass phrase")
    with pytest.raises(tresor.InvalidArgument):
        vault.export_sealed(info.fingerprint, "")
    vault.delete_key(info.fingerprint)
    back = vault.import_sealed(sealed, "pass phrase", name="root-again")
    assert back.fingerprint == info.fingerprint and back.name == "root-again"
    with pytest.raises(tresor.KeyAlreadyExists):
        vault.import_sealed(sealed, "pass phrase")
    # Caller-held keys.
    key = tresor.PrivateKey.generate("ec-p-256")
    imported = vault.import_private_key(key, "encryption")
    assert imported.fingerprint == key.fingerprint and imported.purpose == "encryption"
    assert key.decrypt(vault.encrypt(key.fingerprint, b"s")) == b"s"
    signing = tresor.PrivateKey.generate("ec-p-384")
    vault.import_private_key(signing, "signing", usage="protocol", name="imported")
    signing.public_key.verify(vault.sign(signing.fingerprint, b"m", "protocol"), b"m")
    # Cleartext export is hazmat, and audited.
    clear = tresor.hazmat.export_private_key(vault, signing.fingerprint)
    assert clear.to_der() == signing.to_der()
    audit = (tmp_path / "tresor-kms-audit.log").read_text()
    assert signing.fingerprint in audit
    assert signing.to_pem() not in audit


def test_external_mode_refuses_export(tmp_path: pathlib.Path) -> None:
    config = """
[store]
url = "sqlite://external.db"
[crypto]
provider = "kms"
[kms]
type = "software"
path = "kms.db"
"""
    with tresor.Vault.open(
        text=config, base_dir=tmp_path, create=True, passphrase="typed passphrase", environment=False
    ) as vault:
        assert vault.mode == "external"
        info = vault.generate_signing_key("ec-p-256", "protocol")
        assert info.storage == "external" and info.kms_key_id
        info.public_key.verify(vault.sign(info.fingerprint, b"m", "protocol"), b"m")
        with pytest.raises(tresor.WrongMode):
            vault.export_sealed(info.fingerprint, "pw")
        with pytest.raises(tresor.WrongMode):
            tresor.hazmat.export_private_key(vault, info.fingerprint)
        with pytest.raises(tresor.WrongMode):
            vault.wrapper_key_id()
        assert vault.health().status == "ok"


def test_open_from_file_and_canton_config(tmp_path: pathlib.Path) -> None:
    write_kms_key(tmp_path)
    (tmp_path / "tresor.toml").write_text(envelope_config("sqlite://from-file.db"))
    with pytest.raises(tresor.IoFailure):
        tresor.Vault.open(tmp_path / "tresor.toml", environment=False)  # no store yet, no create
    with tresor.Vault.open(str(tmp_path / "tresor.toml"), create=True, environment=False) as v:
        fp = v.generate_signing_key("ec-curve-25519", "namespace").fingerprint
    with tresor.Vault.open(tmp_path / "tresor.toml", environment=False) as v:
        assert [k.fingerprint for k in v.list_keys()] == [fp]
    canton = tmp_path / "canton.conf"
    canton.write_text(
        "canton.participants.participant1.crypto {\n"
        '  private-key-store.encryption.type = "kms"\n'
        '  kms { type = "software", path = "tresor-kms.db", key-file = "tresor-kms.key" }\n'
        "}\n"
    )
    with tresor.Vault.open(
        tmp_path / "tresor.toml", canton_config=canton, node="participant1", environment=False
    ) as v:
        assert v.mode == "envelope" and [k.fingerprint for k in v.list_keys()] == [fp]
    with pytest.raises(tresor.InvalidArgument):
        tresor.Vault.open(tmp_path / "tresor.toml", canton_config=canton)  # node missing
    with pytest.raises(tresor.InvalidArgument):
        tresor.Vault.open(tmp_path / "tresor.toml", text="[store]\n")
    with pytest.raises(tresor.MalformedData):
        tresor.Vault.open(text="[store\n", base_dir=tmp_path, environment=False)


def test_context_manager_and_close(tmp_path: pathlib.Path) -> None:
    write_kms_key(tmp_path)
    with tresor.Vault.open(
        text=envelope_config("sqlite://c.db"), base_dir=tmp_path, create=True, environment=False
    ) as v:
        assert not v.closed
        info = v.generate_signing_key("ec-curve-25519", "protocol")
    assert v.closed
    with pytest.raises(tresor.InvalidArgument):
        v.sign(info.fingerprint, b"m", "protocol")
    v.close()  # twice is fine
    assert "closed" in repr(v)


def test_eight_threads_one_vault(vault: tresor.Vault) -> None:
    signing = [vault.generate_signing_key(s, "protocol") for s in SIGNING_SPECS]
    encryption = [vault.generate_encryption_key(s) for s in ENCRYPTION_SPECS]
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(n: int) -> None:
        try:
            barrier.wait()
            for i in range(25):
                key = signing[(n + i) % len(signing)]
                msg = f"thread {n} message {i}".encode()
                sig = vault.sign(key.fingerprint, msg, "protocol")
                key.public_key.verify(sig, msg)
                enc = encryption[(n + i) % len(encryption)]
                assert vault.decrypt(enc.fingerprint, vault.encrypt(enc.fingerprint, msg)) == msg
                if i % 10 == 0:
                    made = vault.generate_signing_key("ec-curve-25519", "protocol")
                    assert vault.key_info(made.fingerprint).fingerprint == made.fingerprint
                    vault.list_keys()
        except BaseException as e:  # noqa: BLE001 (reported by the main thread)
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(vault.list_keys()) >= 6 + 8 * 3
