"""Vault.backup: a consistent copy of a SQLite store taken while another thread writes, which opens as a
store of its own; a PostgreSQL store is refused with WrongMode."""

from __future__ import annotations

import pathlib
import stat
import threading

import pytest

import tresor
from conftest import _fresh_database, _require_postgres, envelope_config, write_kms_key


def test_backup_while_a_thread_writes(tmp_path: pathlib.Path) -> None:
    write_kms_key(tmp_path)
    config = tmp_path / "tresor.toml"
    config.write_text(envelope_config("sqlite://tresor.db"))
    with tresor.Vault.open(config, create=True, environment=False) as vault:
        before = [
            vault.generate_signing_key(spec, "protocol", name=f"before-{i}").fingerprint
            for i, spec in enumerate(["ec-curve-25519", "ec-p-256", "ec-p-384", "ec-secp-256k-1"])
        ]
        stop = threading.Event()
        written: list[str] = []
        errors: list[BaseException] = []

        def write() -> None:
            try:
                i = 0
                while not stop.is_set() or i < 3:
                    if i % 4 == 3:
                        vault.rotate_data_key()
                    else:
                        written.append(vault.generate_signing_key("ec-curve-25519", "protocol").fingerprint)
                    i += 1
            except BaseException as e:  # noqa: BLE001 (reported by the main thread)
                errors.append(e)

        writer = threading.Thread(target=write)
        writer.start()
        reports = [vault.backup(tmp_path / f"backup-{n}") for n in range(3)]
        stop.set()
        writer.join()
        assert not errors, errors
        assert written
    for n, report in enumerate(reports):
        copy = tmp_path / f"backup-{n}"
        assert report.dir == str(copy)
        assert [pathlib.Path(p).name for p, _ in report.files] == [
            "tresor.db",
            "tresor-kms.db",
            "tresor-kms.key",
            "tresor.toml",
        ]
        assert [what for _, what in report.files][:3] == ["key store", "software KMS", "software KMS key file"]
        assert report.notes == []
        assert stat.S_IMODE(copy.stat().st_mode) == 0o700
        assert stat.S_IMODE((copy / "tresor-kms.key").stat().st_mode) == 0o600
        assert repr(report) == f"BackupReport(dir={str(copy)!r}, files=4)"
        # The copy is a store of its own: its config names the copies.
        with tresor.Vault.open(copy / "tresor.toml", environment=False) as restored:
            assert restored.store_url == f"sqlite://{copy / 'tresor.db'}"
            keys = restored.list_keys()
            assert set(before) <= {k.fingerprint for k in keys}
            for k in keys:
                sig = restored.sign(k.fingerprint, b"restored", "protocol")
                restored.verify(k.fingerprint, b"restored", sig)


def test_backup_refuses_a_non_empty_directory(tmp_path: pathlib.Path) -> None:
    write_kms_key(tmp_path)
    (tmp_path / "tresor.toml").write_text(envelope_config("sqlite://tresor.db"))
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "other").write_text("x")
    with tresor.Vault.open(tmp_path / "tresor.toml", create=True, environment=False) as vault:
        with pytest.raises(tresor.InvalidArgument, match="is not empty"):
            vault.backup(taken)
        # Opened from config text there is no config file to copy: the report says so.
        report = vault.backup(tmp_path / "fresh")
        assert len(report.files) == 4
    assert [p.name for p in taken.iterdir()] == ["other"]
    with tresor.Vault.open(
        text=envelope_config("sqlite://tresor.db"), base_dir=tmp_path, environment=False
    ) as vault:
        report = vault.backup(tmp_path / "from-text")
        assert [what for _, what in report.files] == ["key store", "software KMS", "software KMS key file"]
        assert any("not read from a file" in n for n in report.notes), report.notes


def test_backup_of_a_postgresql_store_raises_wrong_mode(tmp_path: pathlib.Path) -> None:
    url = _fresh_database(_require_postgres())
    write_kms_key(tmp_path)
    with tresor.Vault.open(
        text=envelope_config(url), base_dir=tmp_path, create=True, environment=False
    ) as vault:
        with pytest.raises(tresor.WrongMode, match="pg_dump -Fc") as e:
            vault.backup(tmp_path / "copy")
        assert "WAL archiving" in str(e.value)
    assert not (tmp_path / "copy").exists()
