"""Fidelity test of tresor's GCP KMS test server (server.py beside this file).

Google's own Python client (`google-cloud-kms`, REST transport, anonymous credentials) drives every call
the server serves; results are checked independently with `cryptography` (signatures verified with the
returned public key, ciphertexts made locally with the public key, CRC32C computed here) and a few raw
`urllib` requests check the wire format (enums given as numbers, error bodies).

The server is the one at $TRESOR_TEST_GCP_ENDPOINT (e.g. `scripts/services/gcp-kms.sh url`), or, when that
is unset, one this test starts on a free port and stops at the end.

    target/services/gcp-kms/venv/bin/python -m pytest -q tests/services/gcp-kms/test_fidelity.py
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google.cloud import kms_v1

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = "tresor-fidelity"
LOCATION = "global"

Purpose = kms_v1.CryptoKey.CryptoKeyPurpose
Alg = kms_v1.CryptoKeyVersion.CryptoKeyVersionAlgorithm
State = kms_v1.CryptoKeyVersion.CryptoKeyVersionState
Level = kms_v1.ProtectionLevel


# Google's Python client maps REST errors by HTTP status only (400 -> BadRequest, 409 -> Conflict, …);
# the google.rpc status name is in the body, which these helpers check too.
_HTTP = {"INVALID_ARGUMENT": 400, "FAILED_PRECONDITION": 400, "NOT_FOUND": 404, "ALREADY_EXISTS": 409,
         "UNIMPLEMENTED": 501}


class expect:
    """`with expect("NOT_FOUND") as e:` – the call fails with that google.rpc status and its HTTP code."""

    def __init__(self, status: str):
        self.status = status
        self.message = ""
        self.error: gexc.GoogleAPICallError | None = None
        self.body: dict = {}

    def __enter__(self):
        return self

    def __exit__(self, typ, value, tb):
        assert value is not None, f"expected {self.status}, but the call succeeded"
        if not isinstance(value, gexc.GoogleAPICallError):
            return False
        self.error = value
        assert value.code == _HTTP[self.status], f"HTTP {value.code}, expected {_HTTP[self.status]}: {value}"
        body = value.response.json()["error"]
        assert body["status"] == self.status, f"status {body['status']}, expected {self.status}: {body}"
        assert body["code"] == value.code
        self.message = body["message"]
        self.body = body
        return True


# ------------------------------------------------------------------------------------------------
# CRC32C written independently of the server's (bitwise, no table), checked against a known value.

def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def test_local_crc32c_matches_the_standard_check_value():
    # The CRC-32C check value of "123456789" (RFC 3720, iSCSI).
    assert crc32c(b"123456789") == 0xE3069283


# ------------------------------------------------------------------------------------------------
# Fixtures.

def _start_server() -> tuple[subprocess.Popen, str]:
    tmp = tempfile.mkdtemp(prefix="gcp-kms-fidelity-")
    url_file = os.path.join(tmp, "url")
    log = open(os.path.join(tmp, "server.log"), "w")
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "server.py"), "--port", "0", "--url-file", url_file],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited during start-up (log: {log.name})")
        if os.path.exists(url_file):
            with open(url_file) as f:
                return proc, f.read().strip()
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the server did not start within 30 s")


@pytest.fixture(scope="session")
def endpoint():
    url = os.environ.get("TRESOR_TEST_GCP_ENDPOINT", "").strip()
    if url:
        yield url.rstrip("/")
        return
    proc, url = _start_server()
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def client(endpoint):
    return kms_v1.KeyManagementServiceClient(
        transport="rest",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": endpoint},
    )


@pytest.fixture(scope="session")
def location():
    return f"projects/{PROJECT}/locations/{LOCATION}"


def _uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def ring(client, location):
    r = client.create_key_ring(request={"parent": location, "key_ring_id": _uid("ring"), "key_ring": {}})
    return r.name


def make_key(client, ring, purpose, algorithm, level=Level.SOFTWARE, skip_initial=False, **extra):
    key = {"purpose": purpose, "version_template": {"algorithm": algorithm, "protection_level": level}}
    key.update(extra)
    return client.create_crypto_key(request={
        "parent": ring, "crypto_key_id": _uid("key"), "crypto_key": key,
        "skip_initial_version_creation": skip_initial,
    })


def v1(key) -> str:
    return f"{key.name}/cryptoKeyVersions/1"


def load_pem(client, version_name):
    pk = client.get_public_key(request={"name": version_name})
    assert pk.pem_crc32c == crc32c(pk.pem.encode()), "pem_crc32c"
    return pk, serialization.load_pem_public_key(pk.pem.encode())


def raw(endpoint, method, path, body=None):
    """A request without Google's client: (status, parsed JSON body)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(endpoint + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


# ------------------------------------------------------------------------------------------------
# Key rings.

def test_key_ring_create_get_list_and_errors(client, location, endpoint):
    rid = _uid("ring")
    name = f"{location}/keyRings/{rid}"
    r = client.create_key_ring(request={"parent": location, "key_ring_id": rid, "key_ring": {}})
    assert r.name == name
    assert abs(r.create_time.timestamp() - time.time()) < 60
    g = client.get_key_ring(request={"name": name})
    assert g.name == name and g.create_time == r.create_time
    with expect("ALREADY_EXISTS") as e:
        client.create_key_ring(request={"parent": location, "key_ring_id": rid, "key_ring": {}})
    assert rid in e.message
    with expect("NOT_FOUND") as e:
        client.get_key_ring(request={"name": f"{location}/keyRings/{_uid('missing')}"})
    assert "not found" in e.message
    with expect("INVALID_ARGUMENT"):
        client.create_key_ring(request={"parent": location, "key_ring_id": "bad id!", "key_ring": {}})
    names = [k.name for k in client.list_key_rings(request={"parent": location, "page_size": 1})]
    assert name in names


# ------------------------------------------------------------------------------------------------
# Crypto keys and versions.

def test_crypto_key_create_get_list(client, ring):
    key = make_key(client, ring, Purpose.ASYMMETRIC_SIGN, Alg.EC_SIGN_P256_SHA256, Level.HSM,
                   labels={"team": "tresor"})
    assert key.purpose == Purpose.ASYMMETRIC_SIGN
    assert key.version_template.algorithm == Alg.EC_SIGN_P256_SHA256
    assert key.version_template.protection_level == Level.HSM
    assert key.labels["team"] == "tresor"
    assert not key.primary.name, "asymmetric keys have no primary"
    assert key.destroy_scheduled_duration == datetime.timedelta(days=30)
    got = client.get_crypto_key(request={"name": key.name})
    assert got.name == key.name and got.purpose == key.purpose
    v = client.get_crypto_key_version(request={"name": v1(key)})
    assert v.state == State.ENABLED
    assert v.algorithm == Alg.EC_SIGN_P256_SHA256
    assert v.protection_level == Level.HSM
    assert v.generate_time
    listed = [k.name for k in client.list_crypto_keys(request={"parent": ring})]
    assert key.name in listed
    with expect("ALREADY_EXISTS"):
        client.create_crypto_key(request={
            "parent": ring, "crypto_key_id": key.name.rsplit("/", 1)[1],
            "crypto_key": {"purpose": Purpose.ENCRYPT_DECRYPT},
        })


def test_crypto_key_errors(client, ring, location):
    with expect("NOT_FOUND"):
        client.get_crypto_key(request={"name": f"{ring}/cryptoKeys/{_uid('missing')}"})
    with expect("NOT_FOUND"):
        client.get_crypto_key_version(request={"name": f"{ring}/cryptoKeys/{_uid('missing')}/cryptoKeyVersions/1"})
    with expect("NOT_FOUND"):  # the key ring does not exist
        make_key(client, f"{location}/keyRings/{_uid('missing')}", Purpose.ENCRYPT_DECRYPT,
                 Alg.GOOGLE_SYMMETRIC_ENCRYPTION)
    with expect("INVALID_ARGUMENT"):  # algorithm and purpose disagree
        make_key(client, ring, Purpose.ASYMMETRIC_SIGN, Alg.RSA_DECRYPT_OAEP_2048_SHA256)
    with expect("INVALID_ARGUMENT"):  # asymmetric keys need an algorithm
        client.create_crypto_key(request={"parent": ring, "crypto_key_id": _uid("key"),
                                          "crypto_key": {"purpose": Purpose.ASYMMETRIC_SIGN}})
    with expect("INVALID_ARGUMENT"):  # the id is required
        client.create_crypto_key(request={"parent": ring, "crypto_key_id": "",
                                          "crypto_key": {"purpose": Purpose.ENCRYPT_DECRYPT}})


def test_skip_initial_version_then_create_versions(client, ring):
    key = make_key(client, ring, Purpose.ASYMMETRIC_SIGN, Alg.EC_SIGN_P384_SHA384, skip_initial=True)
    assert list(client.list_crypto_key_versions(request={"parent": key.name})) == []
    with expect("NOT_FOUND"):
        client.get_crypto_key_version(request={"name": v1(key)})
    made = [client.create_crypto_key_version(request={"parent": key.name, "crypto_key_version": {}})
            for _ in range(3)]
    assert [m.name.rsplit("/", 1)[1] for m in made] == ["1", "2", "3"]
    assert all(m.algorithm == Alg.EC_SIGN_P384_SHA384 for m in made)
    page = client.list_crypto_key_versions(request={"parent": key.name, "page_size": 2})
    assert [v.name for v in page] == [m.name for m in made]  # the pager follows next_page_token
    # Each version is its own key pair.
    pems = {client.get_public_key(request={"name": m.name}).pem for m in made}
    assert len(pems) == 3


# ------------------------------------------------------------------------------------------------
# Signing.

EC_CASES = [
    (Alg.EC_SIGN_P256_SHA256, ec.SECP256R1, hashes.SHA256, "sha256"),
    (Alg.EC_SIGN_P384_SHA384, ec.SECP384R1, hashes.SHA384, "sha384"),
    (Alg.EC_SIGN_SECP256K1_SHA256, ec.SECP256K1, hashes.SHA256, "sha256"),
]


@pytest.mark.parametrize("alg,curve,hcls,hname", EC_CASES, ids=lambda c: getattr(c, "name", None))
def test_ecdsa_sign_by_digest_and_by_data(client, ring, alg, curve, hcls, hname):
    key = make_key(client, ring, Purpose.ASYMMETRIC_SIGN, alg)
    pk, pub = load_pem(client, v1(key))
    assert pk.algorithm == alg and pk.name == v1(key) and pk.protection_level == Level.SOFTWARE
    assert isinstance(pub, ec.EllipticCurvePublicKey) and isinstance(pub.curve, curve)
    # SubjectPublicKeyInfo with an uncompressed point.
    der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    point = pub.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    assert der.endswith(point) and point[0] == 4
    msg = b"tresor fidelity " + hname.encode()
    digest = hashlib.new(hname, msg).digest()
    r = client.asymmetric_sign(request={"name": v1(key), "digest": {hname: digest},
                                        "digest_crc32c": crc32c(digest)})
    assert r.verified_digest_crc32c and not r.verified_data_crc32c
    assert r.signature_crc32c == crc32c(r.signature)
    assert r.name == v1(key)
    utils.decode_dss_signature(r.signature)  # DER SEQUENCE{r, s}
    pub.verify(r.signature, msg, ec.ECDSA(hcls()))
    with pytest.raises(InvalidSignature):
        pub.verify(r.signature, msg + b"!", ec.ECDSA(hcls()))
    # The data field: the server hashes.
    r2 = client.asymmetric_sign(request={"name": v1(key), "data": msg, "data_crc32c": crc32c(msg)})
    assert r2.verified_data_crc32c and not r2.verified_digest_crc32c
    pub.verify(r2.signature, msg, ec.ECDSA(hcls()))
    # A digest of the wrong kind or length.
    other = "sha384" if hname == "sha256" else "sha256"
    with expect("INVALID_ARGUMENT"):
        client.asymmetric_sign(request={"name": v1(key), "digest": {other: hashlib.new(other, msg).digest()}})
    with expect("INVALID_ARGUMENT"):
        client.asymmetric_sign(request={"name": v1(key), "digest": {hname: digest[:-1]}})


def test_ed25519_signs_data_not_digests(client, ring):
    key = make_key(client, ring, Purpose.ASYMMETRIC_SIGN, Alg.EC_SIGN_ED25519)
    pk, pub = load_pem(client, v1(key))
    assert pk.algorithm == Alg.EC_SIGN_ED25519
    assert isinstance(pub, ed25519.Ed25519PublicKey)
    msg = b"tresor fidelity ed25519"
    r = client.asymmetric_sign(request={"name": v1(key), "data": msg, "data_crc32c": crc32c(msg)})
    assert r.verified_data_crc32c and len(r.signature) == 64
    assert r.signature_crc32c == crc32c(r.signature)
    pub.verify(r.signature, msg)
    with pytest.raises(InvalidSignature):
        pub.verify(r.signature, msg + b"!")
    with expect("INVALID_ARGUMENT"):
        client.asymmetric_sign(request={"name": v1(key), "digest": {"sha256": hashlib.sha256(msg).digest()}})


@pytest.mark.parametrize("alg,pss", [(Alg.RSA_SIGN_PSS_2048_SHA256, True), (Alg.RSA_SIGN_PKCS1_2048_SHA256, False)],
                         ids=["pss", "pkcs1"])
def test_rsa_signing(client, ring, alg, pss):
    key = make_key(client, ring, Purpose.ASYMMETRIC_SIGN, alg)
    _, pub = load_pem(client, v1(key))
    assert isinstance(pub, rsa.RSAPublicKey) and pub.key_size == 2048
    msg = b"tresor fidelity rsa"
    r = client.asymmetric_sign(request={"name": v1(key), "digest": {"sha256": hashlib.sha256(msg).digest()}})
    pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32) if pss else padding.PKCS1v15()
    pub.verify(r.signature, msg, pad, hashes.SHA256())


# ------------------------------------------------------------------------------------------------
# Asymmetric decryption.

@pytest.mark.parametrize("alg,bits", [(Alg.RSA_DECRYPT_OAEP_2048_SHA256, 2048),
                                      (Alg.RSA_DECRYPT_OAEP_3072_SHA256, 3072)], ids=["2048", "3072"])
def test_rsa_oaep_decrypt(client, ring, alg, bits):
    key = make_key(client, ring, Purpose.ASYMMETRIC_DECRYPT, alg)
    pk, pub = load_pem(client, v1(key))
    assert pk.algorithm == alg and pub.key_size == bits
    msg = b"tresor fidelity oaep"
    ct = pub.encrypt(msg, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
    r = client.asymmetric_decrypt(request={"name": v1(key), "ciphertext": ct, "ciphertext_crc32c": crc32c(ct)})
    assert r.plaintext == msg
    assert r.plaintext_crc32c == crc32c(msg)
    assert r.verified_ciphertext_crc32c
    # OAEP with SHA-1 is another algorithm: it does not decrypt.
    ct1 = pub.encrypt(msg, padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None))
    with expect("INVALID_ARGUMENT"):
        client.asymmetric_decrypt(request={"name": v1(key), "ciphertext": ct1})
    with expect("INVALID_ARGUMENT"):
        client.asymmetric_decrypt(request={"name": v1(key), "ciphertext": b"\x00" * (bits // 8)})


# ------------------------------------------------------------------------------------------------
# Symmetric encryption.

def test_symmetric_encrypt_decrypt_with_aad_and_versions(client, ring):
    key = make_key(client, ring, Purpose.ENCRYPT_DECRYPT, Alg.GOOGLE_SYMMETRIC_ENCRYPTION)
    assert key.primary.name == v1(key) and key.primary.state == State.ENABLED
    pt, aad = b"tresor fidelity symmetric", b"context"
    e = client.encrypt(request={"name": key.name, "plaintext": pt, "plaintext_crc32c": crc32c(pt),
                                "additional_authenticated_data": aad,
                                "additional_authenticated_data_crc32c": crc32c(aad)})
    assert e.name == v1(key)
    assert e.verified_plaintext_crc32c and e.verified_additional_authenticated_data_crc32c
    assert e.ciphertext_crc32c == crc32c(e.ciphertext)
    assert pt not in e.ciphertext
    d = client.decrypt(request={"name": key.name, "ciphertext": e.ciphertext, "ciphertext_crc32c": crc32c(e.ciphertext),
                                "additional_authenticated_data": aad})
    assert d.plaintext == pt and d.plaintext_crc32c == crc32c(pt) and d.used_primary
    with expect("INVALID_ARGUMENT"):  # wrong AAD
        client.decrypt(request={"name": key.name, "ciphertext": e.ciphertext, "additional_authenticated_data": b"x"})
    tampered = bytearray(e.ciphertext)
    tampered[-1] ^= 1
    with expect("INVALID_ARGUMENT"):
        client.decrypt(request={"name": key.name, "ciphertext": bytes(tampered), "additional_authenticated_data": aad})
    other = make_key(client, ring, Purpose.ENCRYPT_DECRYPT, Alg.GOOGLE_SYMMETRIC_ENCRYPTION)
    with expect("INVALID_ARGUMENT"):  # another key's ciphertext
        client.decrypt(request={"name": other.name, "ciphertext": e.ciphertext, "additional_authenticated_data": aad})

    # A second version, made primary: encrypt uses it; the old ciphertext still decrypts (the ciphertext
    # names its version).
    v2 = client.create_crypto_key_version(request={"parent": key.name, "crypto_key_version": {}})
    assert v2.name.endswith("/cryptoKeyVersions/2")
    assert client.get_crypto_key(request={"name": key.name}).primary.name == v1(key)
    k2 = client.update_crypto_key_primary_version(request={"name": key.name, "crypto_key_version_id": "2"})
    assert k2.primary.name == v2.name
    e2 = client.encrypt(request={"name": key.name, "plaintext": pt})
    assert e2.name == v2.name
    d1 = client.decrypt(request={"name": key.name, "ciphertext": e.ciphertext, "additional_authenticated_data": aad})
    assert d1.plaintext == pt and not d1.used_primary
    d2 = client.decrypt(request={"name": key.name, "ciphertext": e2.ciphertext})
    assert d2.plaintext == pt and d2.used_primary
    # Encrypt with an explicit version.
    e1 = client.encrypt(request={"name": v1(key), "plaintext": pt})
    assert e1.name == v1(key)
    assert client.decrypt(request={"name": key.name, "ciphertext": e1.ciphertext}).plaintext == pt
    # A disabled version no longer decrypts what it encrypted.
    client.update_crypto_key_version(request={"crypto_key_version": {"name": v1(key), "state": State.DISABLED},
                                              "update_mask": {"paths": ["state"]}})
    with expect("FAILED_PRECONDITION") as ex:
        client.decrypt(request={"name": key.name, "ciphertext": e1.ciphertext})
    assert "DISABLED" in ex.message
    with expect("FAILED_PRECONDITION"):
        client.update_crypto_key_primary_version(request={"name": key.name, "crypto_key_version_id": "1"})
    assert client.decrypt(request={"name": key.name, "ciphertext": e2.ciphertext}).plaintext == pt


def test_symmetric_limits(client, ring):
    key = make_key(client, ring, Purpose.ENCRYPT_DECRYPT, Alg.GOOGLE_SYMMETRIC_ENCRYPTION)
    big = os.urandom(64 * 1024)
    e = client.encrypt(request={"name": key.name, "plaintext": big})
    assert client.decrypt(request={"name": key.name, "ciphertext": e.ciphertext}).plaintext == big
    with expect("INVALID_ARGUMENT"):
        client.encrypt(request={"name": key.name, "plaintext": big + b"x"})
    hsm = make_key(client, ring, Purpose.ENCRYPT_DECRYPT, Alg.GOOGLE_SYMMETRIC_ENCRYPTION, Level.HSM)
    with expect("INVALID_ARGUMENT"):  # HSM: plaintext + AAD at most 8 KiB
        client.encrypt(request={"name": hsm.name, "plaintext": b"p" * 4097, "additional_authenticated_data": b"a" * 4096})


# ------------------------------------------------------------------------------------------------
# Version states.

def test_disable_enable_destroy_restore(client, ring):
    key = make_key(client, ring, Purpose.ASYMMETRIC_SIGN, Alg.EC_SIGN_P256_SHA256)
    name = v1(key)
    digest = {"sha256": hashlib.sha256(b"state").digest()}

    def set_state(state):
        return client.update_crypto_key_version(request={
            "crypto_key_version": {"name": name, "state": state}, "update_mask": {"paths": ["state"]}})

    assert set_state(State.DISABLED).state == State.DISABLED
    with expect("FAILED_PRECONDITION") as e:
        client.asymmetric_sign(request={"name": name, "digest": digest})
    assert "DISABLED" in e.message
    with expect("FAILED_PRECONDITION"):
        client.get_public_key(request={"name": name})
    assert set_state(State.ENABLED).state == State.ENABLED
    client.asymmetric_sign(request={"name": name, "digest": digest})

    with expect("FAILED_PRECONDITION"):  # only DESTROY_SCHEDULED versions can be restored
        client.restore_crypto_key_version(request={"name": name})
    before = time.time()
    d = client.destroy_crypto_key_version(request={"name": name})
    assert d.state == State.DESTROY_SCHEDULED
    assert abs(d.destroy_time.timestamp() - (before + 30 * 86400)) < 120
    assert client.get_crypto_key_version(request={"name": name}).state == State.DESTROY_SCHEDULED
    with expect("FAILED_PRECONDITION") as e:
        client.asymmetric_sign(request={"name": name, "digest": digest})
    assert "DESTROY_SCHEDULED" in e.message
    with expect("FAILED_PRECONDITION"):  # not ENABLED/DISABLED: no state change by patch
        set_state(State.ENABLED)
    with expect("FAILED_PRECONDITION"):  # already scheduled
        client.destroy_crypto_key_version(request={"name": name})
    r = client.restore_crypto_key_version(request={"name": name})
    assert r.state == State.DISABLED and not r.destroy_time
    assert set_state(State.ENABLED).state == State.ENABLED
    client.asymmetric_sign(request={"name": name, "digest": digest})

    with expect("INVALID_ARGUMENT"):  # patch can only set ENABLED or DISABLED
        set_state(State.DESTROYED)
    with expect("INVALID_ARGUMENT"):  # the update mask is required
        client.update_crypto_key_version(request={"crypto_key_version": {"name": name, "state": State.DISABLED}})
    with expect("NOT_FOUND"):
        client.destroy_crypto_key_version(request={"name": f"{key.name}/cryptoKeyVersions/9"})


def test_short_destroy_schedule_reaches_destroyed(client, ring):
    key = make_key(client, ring, Purpose.ASYMMETRIC_SIGN, Alg.EC_SIGN_P256_SHA256,
                   destroy_scheduled_duration=datetime.timedelta(seconds=1))
    assert key.destroy_scheduled_duration == datetime.timedelta(seconds=1)
    client.destroy_crypto_key_version(request={"name": v1(key)})
    time.sleep(1.3)
    v = client.get_crypto_key_version(request={"name": v1(key)})
    assert v.state == State.DESTROYED and v.destroy_event_time
    with expect("FAILED_PRECONDITION"):
        client.restore_crypto_key_version(request={"name": v1(key)})


def test_pending_generation_test_hook(client, location):
    # Key rings named pending-<ms>-… hold versions that stay PENDING_GENERATION for <ms> milliseconds.
    ring = client.create_key_ring(request={"parent": location, "key_ring_id": _uid("pending-800"), "key_ring": {}})
    key = make_key(client, ring.name, Purpose.ASYMMETRIC_SIGN, Alg.EC_SIGN_P256_SHA256)
    v = client.get_crypto_key_version(request={"name": v1(key)})
    assert v.state == State.PENDING_GENERATION and not v.generate_time
    with expect("FAILED_PRECONDITION") as e:
        client.get_public_key(request={"name": v1(key)})
    assert "PENDING_GENERATION" in e.message
    # As Google answers: a PreconditionFailure detail of type KEY_PENDING_GENERATION naming the version.
    (detail,) = e.body["details"]
    assert detail["@type"] == "type.googleapis.com/google.rpc.PreconditionFailure"
    assert detail["violations"][0]["type"] == "KEY_PENDING_GENERATION"
    assert detail["violations"][0]["subject"] == v1(key)
    with expect("FAILED_PRECONDITION"):
        client.asymmetric_sign(request={"name": v1(key), "digest": {"sha256": bytes(32)}})
    time.sleep(1.0)
    v = client.get_crypto_key_version(request={"name": v1(key)})
    assert v.state == State.ENABLED and v.generate_time
    client.asymmetric_sign(request={"name": v1(key), "digest": {"sha256": bytes(32)}})


# ------------------------------------------------------------------------------------------------
# Errors: missing resources, wrong purpose, CRC mismatches.

def test_missing_keys_are_not_found(client, ring):
    missing = f"{ring}/cryptoKeys/{_uid('missing')}"
    for call in (
        lambda: client.asymmetric_sign(request={"name": f"{missing}/cryptoKeyVersions/1", "data": b"x"}),
        lambda: client.get_public_key(request={"name": f"{missing}/cryptoKeyVersions/1"}),
        lambda: client.asymmetric_decrypt(request={"name": f"{missing}/cryptoKeyVersions/1", "ciphertext": b"x"}),
        lambda: client.encrypt(request={"name": missing, "plaintext": b"x"}),
        lambda: client.decrypt(request={"name": missing, "ciphertext": b"x"}),
        lambda: client.create_crypto_key_version(request={"parent": missing, "crypto_key_version": {}}),
    ):
        with expect("NOT_FOUND") as e:
            call()
        assert missing in e.message


def test_wrong_purpose_is_failed_precondition(client, ring):
    sign = make_key(client, ring, Purpose.ASYMMETRIC_SIGN, Alg.EC_SIGN_P256_SHA256)
    dec = make_key(client, ring, Purpose.ASYMMETRIC_DECRYPT, Alg.RSA_DECRYPT_OAEP_2048_SHA256)
    sym = make_key(client, ring, Purpose.ENCRYPT_DECRYPT, Alg.GOOGLE_SYMMETRIC_ENCRYPTION)
    for call in (
        lambda: client.asymmetric_sign(request={"name": v1(dec), "digest": {"sha256": bytes(32)}}),
        lambda: client.asymmetric_decrypt(request={"name": v1(sign), "ciphertext": bytes(256)}),
        lambda: client.encrypt(request={"name": sign.name, "plaintext": b"x"}),
        lambda: client.decrypt(request={"name": dec.name, "ciphertext": b"x"}),
        lambda: client.get_public_key(request={"name": v1(sym)}),
        lambda: client.asymmetric_sign(request={"name": v1(sym), "data": b"x"}),
        lambda: client.update_crypto_key_primary_version(request={"name": sign.name, "crypto_key_version_id": "1"}),
    ):
        with expect("FAILED_PRECONDITION") as e:
            call()
        assert "purpose" in e.message


def test_crc32c_mismatch_is_invalid_argument(client, ring):
    sign = make_key(client, ring, Purpose.ASYMMETRIC_SIGN, Alg.EC_SIGN_P256_SHA256)
    dec = make_key(client, ring, Purpose.ASYMMETRIC_DECRYPT, Alg.RSA_DECRYPT_OAEP_2048_SHA256)
    sym = make_key(client, ring, Purpose.ENCRYPT_DECRYPT, Alg.GOOGLE_SYMMETRIC_ENCRYPTION)
    d = hashlib.sha256(b"x").digest()
    ct = client.encrypt(request={"name": sym.name, "plaintext": b"x", "additional_authenticated_data": b"a"}).ciphertext
    bad = lambda b: (crc32c(b) + 1) % 2**32  # noqa: E731
    for call in (
        lambda: client.asymmetric_sign(request={"name": v1(sign), "digest": {"sha256": d}, "digest_crc32c": bad(d)}),
        lambda: client.asymmetric_sign(request={"name": v1(sign), "data": b"x", "data_crc32c": bad(b"x")}),
        lambda: client.asymmetric_decrypt(request={"name": v1(dec), "ciphertext": bytes(256),
                                                   "ciphertext_crc32c": bad(bytes(256))}),
        lambda: client.encrypt(request={"name": sym.name, "plaintext": b"x", "plaintext_crc32c": bad(b"x")}),
        lambda: client.encrypt(request={"name": sym.name, "plaintext": b"x", "additional_authenticated_data": b"a",
                                        "additional_authenticated_data_crc32c": bad(b"a")}),
        lambda: client.decrypt(request={"name": sym.name, "ciphertext": ct, "ciphertext_crc32c": bad(ct),
                                        "additional_authenticated_data": b"a"}),
        lambda: client.decrypt(request={"name": sym.name, "ciphertext": ct, "additional_authenticated_data": b"a",
                                        "additional_authenticated_data_crc32c": bad(b"a")}),
    ):
        with expect("INVALID_ARGUMENT") as e:
            call()
        assert "checksum" in e.message
    # A CRC32C of 0 is a value like any other: checked, not ignored.
    with expect("INVALID_ARGUMENT"):
        client.asymmetric_sign(request={"name": v1(sign), "data": b"x", "data_crc32c": 0})


# ------------------------------------------------------------------------------------------------
# Public key formats, random bytes.

def test_public_key_formats(client, ring):
    key = make_key(client, ring, Purpose.ASYMMETRIC_SIGN, Alg.EC_SIGN_P256_SHA256)
    Fmt = kms_v1.PublicKey.PublicKeyFormat
    pem = client.get_public_key(request={"name": v1(key), "public_key_format": Fmt.PEM})
    assert pem.public_key_format == Fmt.PEM
    assert pem.public_key.data == pem.pem.encode()
    assert pem.public_key.crc32c_checksum == crc32c(pem.public_key.data)
    der = client.get_public_key(request={"name": v1(key), "public_key_format": Fmt.DER})
    assert der.public_key_format == Fmt.DER
    assert der.public_key.crc32c_checksum == crc32c(der.public_key.data)
    assert serialization.load_der_public_key(der.public_key.data).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode() == pem.pem
    with expect("INVALID_ARGUMENT"):
        client.get_public_key(request={"name": v1(key), "public_key_format": Fmt.NIST_PQC})


def test_generate_random_bytes(client, location):
    r = client.generate_random_bytes(request={"location": location, "length_bytes": 64,
                                              "protection_level": Level.HSM})
    assert len(r.data) == 64 and r.data_crc32c == crc32c(r.data)
    with expect("INVALID_ARGUMENT"):
        client.generate_random_bytes(request={"location": location, "length_bytes": 4, "protection_level": Level.HSM})


# ------------------------------------------------------------------------------------------------
# The wire format, without Google's client.

def test_raw_enums_as_numbers_or_names_and_int64_as_strings(endpoint, ring):
    kid = _uid("raw")
    # Enums as numbers (as tresor's Rust client sends them): ASYMMETRIC_SIGN = 5, EC_SIGN_P256_SHA256 = 12, HSM = 2.
    st, body = raw(endpoint, "POST", f"/v1/{ring}/cryptoKeys?cryptoKeyId={kid}",
                   {"purpose": 5, "versionTemplate": {"algorithm": 12, "protectionLevel": 2}})
    assert st == 200, body
    assert body["purpose"] == "ASYMMETRIC_SIGN"
    assert body["versionTemplate"] == {"algorithm": "EC_SIGN_P256_SHA256", "protectionLevel": "HSM"}
    # Enums as names, and numbers back when asked for with $alt=json;enum-encoding=int.
    st, body = raw(endpoint, "POST", f"/v1/{ring}/cryptoKeys?cryptoKeyId={kid}-n",
                   {"purpose": "ENCRYPT_DECRYPT"})
    assert st == 200 and body["versionTemplate"]["algorithm"] == "GOOGLE_SYMMETRIC_ENCRYPTION"
    st, body = raw(endpoint, "GET", f"/v1/{ring}/cryptoKeys/{kid}/cryptoKeyVersions/1?%24alt=json%3Benum-encoding%3Dint")
    assert st == 200 and body["state"] == 1 and body["algorithm"] == 12 and body["protectionLevel"] == 2
    # Bytes as base64, int64 as strings; proto field names accepted as well as json names.
    digest = hashlib.sha256(b"raw").digest()
    st, body = raw(endpoint, "POST", f"/v1/{ring}/cryptoKeys/{kid}/cryptoKeyVersions/1:asymmetricSign",
                   {"digest": {"sha256": b64(digest)}, "digest_crc32c": str(crc32c(digest))})
    assert st == 200, body
    assert body["verifiedDigestCrc32c"] is True
    assert isinstance(body["signatureCrc32c"], str)
    assert int(body["signatureCrc32c"]) == crc32c(base64.b64decode(body["signature"]))
    assert "verifiedDataCrc32c" not in body  # false booleans are left out, as proto3 JSON does
    st, body = raw(endpoint, "GET", f"/v1/{ring}/cryptoKeys/{kid}/cryptoKeyVersions/1/publicKey")
    assert st == 200 and isinstance(body["pemCrc32c"], str) and body["algorithm"] == "EC_SIGN_P256_SHA256"


def test_raw_error_bodies(endpoint, ring):
    st, body = raw(endpoint, "GET", f"/v1/{ring}/cryptoKeys/no-such-key")
    assert st == 404
    assert body["error"]["code"] == 404 and body["error"]["status"] == "NOT_FOUND"
    assert "no-such-key" in body["error"]["message"]
    st, body = raw(endpoint, "POST", f"/v1/{ring}/cryptoKeys?cryptoKeyId={_uid('raw')}",
                   {"purpose": 5, "versionTemplate": {"algorithm": 12}, "noSuchField": 1})
    assert st == 400 and body["error"]["status"] == "INVALID_ARGUMENT" and "noSuchField" in body["error"]["message"]
    st, body = raw(endpoint, "POST", f"/v1/{ring}/cryptoKeys?cryptoKeyId={_uid('raw')}", {"purpose": 999})
    assert st == 400 and body["error"]["status"] == "INVALID_ARGUMENT"
    st, body = raw(endpoint, "POST", f"/v1/{ring}/cryptoKeys?cryptoKeyId={_uid('raw')}&bogus=1", {"purpose": 1})
    assert st == 400 and body["error"]["status"] == "INVALID_ARGUMENT"
    st, body = raw(endpoint, "POST", f"/v1/{ring}/cryptoKeys/no-such-key:encrypt", {"plaintext": "!!"})
    assert st in (400, 404)


def test_unimplemented_methods_say_so(client, ring):
    key = make_key(client, ring, Purpose.ASYMMETRIC_SIGN, Alg.EC_SIGN_P256_SHA256)
    with expect("UNIMPLEMENTED") as e:
        client.mac_sign(request={"name": v1(key), "data": b"x"})
    assert "test server" in e.message
    with expect("UNIMPLEMENTED"):  # HMAC keys are not implemented
        make_key(client, ring, Purpose.MAC, Alg.HMAC_SHA256)
