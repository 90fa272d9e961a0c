"""Shared fixtures: vaults on a SQLite file and on the PostgreSQL server of scripts/services/postgres.sh."""

from __future__ import annotations

import glob
import os
import pathlib
import shutil
import socket
import subprocess
import secrets
import uuid
from collections.abc import Iterator

import pytest

import tresor

REPO = pathlib.Path(__file__).resolve().parents[2]
POSTGRES_URL_FILE = REPO / "target" / "services" / "postgres" / "url"

SIGNING_SPECS = ["ec-curve-25519", "ec-p-256", "ec-p-384", "ec-secp-256k-1"]
ENCRYPTION_SPECS = ["ec-p-256", "rsa-2048"]


def postgres_url() -> str | None:
    """The test server's URL: TRESOR_TEST_POSTGRES_URL, else the file postgres.sh writes."""
    url = os.environ.get("TRESOR_TEST_POSTGRES_URL")
    if url:
        return url
    if POSTGRES_URL_FILE.exists():
        return POSTGRES_URL_FILE.read_text().strip() or None
    return None


def envelope_config(store_url: str) -> str:
    """A tresor.toml: envelope encryption on the software KMS, whose master key is in tresor-kms.key."""
    return f"""
[store]
url = "{store_url}"

[private-key-store.encryption]
type = "kms"

[kms]
type = "software"
path = "tresor-kms.db"
key-file = "tresor-kms.key"
audit-logging = true
"""


def write_kms_key(directory: pathlib.Path) -> None:
    (directory / "tresor-kms.key").write_text(secrets.token_hex(32))


def _reachable(url: str) -> bool:
    """Whether the server of a postgres:// URL accepts TCP connections (the URL file outlives the server)."""
    hostport = url.split("@", 1)[-1].split("/", 1)[0]
    host, _, port = hostport.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port or 5432)), timeout=2):
            return True
    except (OSError, ValueError):
        return False


def _require_postgres() -> str:
    url = postgres_url()
    if url is not None and not _reachable(url):
        url = None
    if url is None:
        if os.environ.get("TRESOR_REQUIRE_POSTGRES") == "1":
            pytest.fail("TRESOR_REQUIRE_POSTGRES=1 but no PostgreSQL URL (scripts/services/postgres.sh start)")
        pytest.skip("no PostgreSQL server: run scripts/services/postgres.sh start (scripts/python.sh does)")
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> str:
    """A fresh, empty key store: a SQLite file, or a schema of its own on the PostgreSQL server."""
    if request.param == "sqlite":
        return "sqlite://tresor.db"
    return _fresh_database(_require_postgres())


def _psql() -> str:
    found = shutil.which("psql")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))
    if not candidates:
        pytest.fail("psql not found (it comes with the PostgreSQL server that postgres.sh installs)")
    return candidates[-1]


def _fresh_database(url: str) -> str:
    """A new, empty database on the server of `url` (its role may create databases), so that every test
    has a store of its own: the store's data key is wrapped by the test's own software KMS."""
    name = "pytest_" + uuid.uuid4().hex[:16]
    subprocess.run(
        [_psql(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", f"CREATE DATABASE {name}"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def vault(store_url: str, tmp_path: pathlib.Path) -> Iterator[tresor.Vault]:
    write_kms_key(tmp_path)
    v = tresor.Vault.open(
        text=envelope_config(store_url), base_dir=tmp_path, create=True, environment=False
    )
    try:
        yield v
    finally:
        v.close()


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:12]
