#!/usr/bin/env python3
"""tresor's GCP Cloud KMS API test server (not Google's service).

A small, in-memory implementation of the Cloud KMS v1 REST API (the JSON mapping of
google.cloud.kms.v1.KeyManagementService), written for tresor's tests from Google's public API
reference. It listens on 127.0.0.1 only, accepts any or no Authorization header, and forgets
everything when it stops. Cryptography is done with the `cryptography` package.

Usage:
    python3 server.py [--port N] [--url-file PATH] [--pending-ms MS]

--port 0 (the default) picks a free port. When the server is ready it prints one line
"ready <url>" on stdout and, with --url-file, writes the base URL to that file.

See README.md beside this file for what is covered and what is not.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime
import json
import os
import re
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# --------------------------------------------------------------------------------------------
# CRC32C (Castagnoli), reflected polynomial 0x82F63B78, table-driven.

_CRC32C_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC32C_TABLE.append(_c)


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    table = _CRC32C_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# --------------------------------------------------------------------------------------------
# Enums (names and numbers as in google.cloud.kms.v1).

PURPOSE = {
    "CRYPTO_KEY_PURPOSE_UNSPECIFIED": 0,
    "ENCRYPT_DECRYPT": 1,
    "ASYMMETRIC_SIGN": 5,
    "ASYMMETRIC_DECRYPT": 6,
    "RAW_ENCRYPT_DECRYPT": 7,
    "MAC": 9,
    "KEY_ENCAPSULATION": 10,
    "AES_WRAPPING": 11,
}
PROTECTION = {
    "PROTECTION_LEVEL_UNSPECIFIED": 0,
    "SOFTWARE": 1,
    "HSM": 2,
    "EXTERNAL": 3,
    "EXTERNAL_VPC": 4,
    "HSM_SINGLE_TENANT": 5,
}
STATE = {
    "CRYPTO_KEY_VERSION_STATE_UNSPECIFIED": 0,
    "PENDING_GENERATION": 5,
    "ENABLED": 1,
    "DISABLED": 2,
    "DESTROYED": 3,
    "DESTROY_SCHEDULED": 4,
    "PENDING_IMPORT": 6,
    "IMPORT_FAILED": 7,
    "GENERATION_FAILED": 8,
    "PENDING_EXTERNAL_DESTRUCTION": 9,
    "EXTERNAL_DESTRUCTION_FAILED": 10,
}
ALGORITHM = {
    "CRYPTO_KEY_VERSION_ALGORITHM_UNSPECIFIED": 0,
    "GOOGLE_SYMMETRIC_ENCRYPTION": 1,
    "AES_128_GCM": 41,
    "AES_256_GCM": 19,
    "AES_128_CBC": 42,
    "AES_256_CBC": 43,
    "AES_128_CTR": 44,
    "AES_256_CTR": 45,
    "RSA_SIGN_PSS_2048_SHA256": 2,
    "RSA_SIGN_PSS_3072_SHA256": 3,
    "RSA_SIGN_PSS_4096_SHA256": 4,
    "RSA_SIGN_PSS_4096_SHA512": 15,
    "RSA_SIGN_PKCS1_2048_SHA256": 5,
    "RSA_SIGN_PKCS1_3072_SHA256": 6,
    "RSA_SIGN_PKCS1_4096_SHA256": 7,
    "RSA_SIGN_PKCS1_4096_SHA512": 16,
    "RSA_SIGN_RAW_PKCS1_2048": 28,
    "RSA_SIGN_RAW_PKCS1_3072": 29,
    "RSA_SIGN_RAW_PKCS1_4096": 30,
    "RSA_DECRYPT_OAEP_2048_SHA256": 8,
    "RSA_DECRYPT_OAEP_3072_SHA256": 9,
    "RSA_DECRYPT_OAEP_4096_SHA256": 10,
    "RSA_DECRYPT_OAEP_4096_SHA512": 17,
    "RSA_DECRYPT_OAEP_2048_SHA1": 37,
    "RSA_DECRYPT_OAEP_3072_SHA1": 38,
    "RSA_DECRYPT_OAEP_4096_SHA1": 39,
    "EC_SIGN_P256_SHA256": 12,
    "EC_SIGN_P384_SHA384": 13,
    "EC_SIGN_SECP256K1_SHA256": 31,
    "EC_SIGN_ED25519": 40,
    "HMAC_SHA256": 32,
    "HMAC_SHA1": 33,
    "HMAC_SHA384": 34,
    "HMAC_SHA512": 35,
    "HMAC_SHA224": 36,
    "EXTERNAL_SYMMETRIC_ENCRYPTION": 18,
    "ML_KEM_768": 47,
    "ML_KEM_1024": 48,
    "KEM_XWING": 63,
    "PQ_SIGN_ML_DSA_44": 68,
    "PQ_SIGN_ML_DSA_65": 56,
    "PQ_SIGN_ML_DSA_87": 69,
    "PQ_SIGN_SLH_DSA_SHA2_128S": 57,
    "PQ_SIGN_HASH_SLH_DSA_SHA2_128S_SHA256": 60,
    "PQ_SIGN_ML_DSA_44_EXTERNAL_MU": 70,
    "PQ_SIGN_ML_DSA_65_EXTERNAL_MU": 67,
    "PQ_SIGN_ML_DSA_87_EXTERNAL_MU": 71,
    "AES_256_KWP": 73,
}
PUBLIC_KEY_FORMAT = {
    "PUBLIC_KEY_FORMAT_UNSPECIFIED": 0,
    "PEM": 1,
    "DER": 2,
    "NIST_PQC": 3,
    "XWING_RAW_BYTES": 4,
}
VERSION_VIEW = {"CRYPTO_KEY_VERSION_VIEW_UNSPECIFIED": 0, "FULL": 1}


class Enum:
    """An enum value in a response: written as its name, or as its number when the request asked
    for `$alt=json;enum-encoding=int`."""

    __slots__ = ("name", "table")

    def __init__(self, name: str, table: dict):
        self.name = name
        self.table = table


# --------------------------------------------------------------------------------------------
# What this server implements, per algorithm.

_SIGN_EC = {
    "EC_SIGN_P256_SHA256": (ec.SECP256R1, "sha256"),
    "EC_SIGN_P384_SHA384": (ec.SECP384R1, "sha384"),
    "EC_SIGN_SECP256K1_SHA256": (ec.SECP256K1, "sha256"),
}
_SIGN_RSA = {
    # name: (modulus bits, digest, pss?)
    "RSA_SIGN_PSS_2048_SHA256": (2048, "sha256", True),
    "RSA_SIGN_PSS_3072_SHA256": (3072, "sha256", True),
    "RSA_SIGN_PSS_4096_SHA256": (4096, "sha256", True),
    "RSA_SIGN_PSS_4096_SHA512": (4096, "sha512", True),
    "RSA_SIGN_PKCS1_2048_SHA256": (2048, "sha256", False),
    "RSA_SIGN_PKCS1_3072_SHA256": (3072, "sha256", False),
    "RSA_SIGN_PKCS1_4096_SHA256": (4096, "sha256", False),
    "RSA_SIGN_PKCS1_4096_SHA512": (4096, "sha512", False),
}
_DECRYPT_RSA = {
    "RSA_DECRYPT_OAEP_2048_SHA256": (2048, "sha256"),
    "RSA_DECRYPT_OAEP_3072_SHA256": (3072, "sha256"),
    "RSA_DECRYPT_OAEP_4096_SHA256": (4096, "sha256"),
    "RSA_DECRYPT_OAEP_4096_SHA512": (4096, "sha512"),
    "RSA_DECRYPT_OAEP_2048_SHA1": (2048, "sha1"),
    "RSA_DECRYPT_OAEP_3072_SHA1": (3072, "sha1"),
    "RSA_DECRYPT_OAEP_4096_SHA1": (4096, "sha1"),
}
_HASHES = {
    "sha1": (hashes.SHA1, 20),
    "sha256": (hashes.SHA256, 32),
    "sha384": (hashes.SHA384, 48),
    "sha512": (hashes.SHA512, 64),
}

SUPPORTED_ALGORITHMS = {
    "ENCRYPT_DECRYPT": {"GOOGLE_SYMMETRIC_ENCRYPTION"},
    "ASYMMETRIC_SIGN": set(_SIGN_EC) | {"EC_SIGN_ED25519"} | set(_SIGN_RSA),
    "ASYMMETRIC_DECRYPT": set(_DECRYPT_RSA),
}


def _algorithm_purpose(alg: str) -> str | None:
    """The purpose a Google algorithm belongs to (also for algorithms this server does not do)."""
    if alg in ("GOOGLE_SYMMETRIC_ENCRYPTION", "EXTERNAL_SYMMETRIC_ENCRYPTION"):
        return "ENCRYPT_DECRYPT"
    if alg.startswith(("EC_SIGN_", "RSA_SIGN_", "PQ_SIGN_")):
        return "ASYMMETRIC_SIGN"
    if alg.startswith("RSA_DECRYPT_"):
        return "ASYMMETRIC_DECRYPT"
    if alg.startswith("HMAC_"):
        return "MAC"
    if alg.startswith("AES_") and alg != "AES_256_KWP":
        return "RAW_ENCRYPT_DECRYPT"
    if alg == "AES_256_KWP":
        return "AES_WRAPPING"
    if alg.startswith(("ML_KEM_", "KEM_")):
        return "KEY_ENCAPSULATION"
    return None


# --------------------------------------------------------------------------------------------
# Errors as google.rpc.Status.

_HTTP_OF_STATUS = {
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
    "UNAUTHENTICATED": 401,
}


class ApiError(Exception):
    def __init__(self, status: str, message: str, details: list | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or []

    def body(self) -> dict:
        err = {"code": _HTTP_OF_STATUS[self.status], "message": self.message, "status": self.status}
        if self.details:
            err["details"] = self.details
        return {"error": err}


def invalid(msg: str) -> ApiError:
    return ApiError("INVALID_ARGUMENT", msg)


def unimplemented(msg: str) -> ApiError:
    return ApiError("UNIMPLEMENTED", f"{msg} (tresor's GCP KMS test server does not implement this)")


# --------------------------------------------------------------------------------------------
# JSON request parsing (proto3 JSON mapping).

_ID_RE = re.compile(r"^[a-zA-Z0-9_-]{1,63}$")


def _camel(name: str) -> str:
    if "_" not in name:
        return name
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _normalise(obj: dict, allowed: set, where: str) -> dict:
    """Field names to lowerCamelCase (the JSON parser accepts the proto names too); unknown names
    are refused as Google's JSON parser refuses them."""
    if not isinstance(obj, dict):
        raise invalid(f"Invalid JSON payload received. Expected an object for {where or 'the request'}.")
    out = {}
    for k, v in obj.items():
        ck = _camel(k)
        if ck not in allowed:
            at = f" at '{where}'" if where else ""
            raise invalid(f'Invalid JSON payload received. Unknown name "{k}"{at}: Cannot find field.')
        out[ck] = v
    return out


def parse_enum(value, table: dict, field: str) -> str:
    if value is None:
        return next(iter(table))
    if isinstance(value, bool):
        raise invalid(f"Invalid value at '{field}', {value!r}")
    if isinstance(value, int):
        for name, num in table.items():
            if num == value:
                return name
        raise invalid(f"Invalid value at '{field}' ({value}): not a known enum number")
    if isinstance(value, str):
        if value in table:
            return value
        if re.fullmatch(r"-?[0-9]+", value):  # query parameters carry numbers as text
            return parse_enum(int(value), table, field)
        raise invalid(f'Invalid value at \'{field}\', "{value}"')
    raise invalid(f"Invalid value at '{field}': expected an enum name or number")


def parse_bytes(value, field: str) -> bytes:
    if value is None:
        return b""
    if not isinstance(value, str):
        raise invalid(f"Invalid value at '{field}': expected a base64 string")
    s = value.strip()
    s = s.replace("-", "+").replace("_", "/")
    s += "=" * (-len(s) % 4)
    try:
        return base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        raise invalid(f"Invalid value at '{field}' (TYPE_BYTES), Base64 decoding failed") from None


def parse_int64(value, field: str) -> int | None:
    """An int64 (or Int64Value wrapper): a JSON number or a decimal string."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise invalid(f"Invalid value at '{field}' (TYPE_INT64), {value}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        return int(value.strip())
    raise invalid(f'Invalid value at \'{field}\' (TYPE_INT64), "{value}"')


def parse_bool(value, field: str) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    raise invalid(f"Invalid value at '{field}' (TYPE_BOOL), {value!r}")


def parse_duration_seconds(value, field: str) -> float:
    if not isinstance(value, str) or not re.fullmatch(r"-?[0-9]+(\.[0-9]{1,9})?s", value):
        raise invalid(f"Invalid value at '{field}' (type.googleapis.com/google.protobuf.Duration), {value!r}")
    return float(value[:-1])


def check_crc(data: bytes, given, field: str, what: str) -> bool:
    """Verify an optional CRC32C; True when one was given (and matched)."""
    value = parse_int64(given, field)
    if value is None:
        return False
    if value != crc32c(data):
        raise invalid(
            f"The checksum in field {field} did not match the data in field {what}."
        )
    return True


def crc_str(data: bytes) -> str:
    return str(crc32c(data))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def timestamp(ns: int) -> str:
    secs, nanos = divmod(ns, 1_000_000_000)
    dt = datetime.datetime.fromtimestamp(secs, tz=datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


def duration(seconds: float) -> str:
    if float(seconds).is_integer():
        return f"{int(seconds)}s"
    return f"{seconds:.9f}".rstrip("0") + "s"


# --------------------------------------------------------------------------------------------
# Resources.

DEFAULT_DESTROY_SCHEDULED_SECONDS = 30 * 24 * 3600
_PENDING_RING_RE = re.compile(r"^pending-([0-9]{1,7})-")
_CT_MAGIC = b"\x0atresor-gcp-kms-test\x01"


class Version:
    def __init__(self, key: "CryptoKey", number: int, algorithm: str, protection: str, pending_ms: int):
        self.key = key
        self.number = number
        self.name = f"{key.name}/cryptoKeyVersions/{number}"
        self.algorithm = algorithm
        self.protection = protection
        self.create_ns = time.time_ns()
        self.ready_ns = self.create_ns + pending_ms * 1_000_000
        self.generate_ns: int | None = None
        self.destroy_ns: int | None = None
        self.destroy_event_ns: int | None = None
        self.private = None  # key material; None once destroyed
        self._state = "PENDING_GENERATION" if pending_ms > 0 else "ENABLED"
        if pending_ms <= 0:
            self.generate_ns = self.create_ns

    def state(self) -> str:
        """The state now (time-driven transitions happen when someone looks)."""
        now = time.time_ns()
        if self._state == "PENDING_GENERATION" and now >= self.ready_ns:
            self._state = "ENABLED"
            self.generate_ns = self.ready_ns
        if self._state == "DESTROY_SCHEDULED" and self.destroy_ns is not None and now >= self.destroy_ns:
            self._state = "DESTROYED"
            self.destroy_event_ns = self.destroy_ns
            self.private = None
        return self._state

    def set_state(self, s: str) -> None:
        self._state = s

    def json(self) -> dict:
        st = self.state()
        out = {
            "name": self.name,
            "state": Enum(st, STATE),
            "protectionLevel": Enum(self.protection, PROTECTION),
            "algorithm": Enum(self.algorithm, ALGORITHM),
            "createTime": timestamp(self.create_ns),
        }
        if self.generate_ns is not None:
            out["generateTime"] = timestamp(self.generate_ns)
        if self.destroy_ns is not None:
            out["destroyTime"] = timestamp(self.destroy_ns)
        if self.destroy_event_ns is not None:
            out["destroyEventTime"] = timestamp(self.destroy_event_ns)
        return out


class CryptoKey:
    def __init__(self, name: str, purpose: str, algorithm: str, protection: str, labels: dict,
                 destroy_scheduled_s: float, rotation: dict):
        self.name = name
        self.purpose = purpose
        self.algorithm = algorithm
        self.protection = protection
        self.labels = labels
        self.destroy_scheduled_s = destroy_scheduled_s
        self.rotation = rotation  # rotationPeriod / nextRotationTime, echoed only
        self.create_ns = time.time_ns()
        self.versions: list[Version] = []
        self.primary: Version | None = None

    def json(self) -> dict:
        out = {
            "name": self.name,
            "purpose": Enum(self.purpose, PURPOSE),
            "createTime": timestamp(self.create_ns),
            "versionTemplate": {
                "protectionLevel": Enum(self.protection, PROTECTION),
                "algorithm": Enum(self.algorithm, ALGORITHM),
            },
            "destroyScheduledDuration": duration(self.destroy_scheduled_s),
        }
        if self.primary is not None:
            out["primary"] = self.primary.json()
        if self.labels:
            out["labels"] = dict(self.labels)
        out.update(self.rotation)
        return out


def generate_private(algorithm: str):
    if algorithm == "GOOGLE_SYMMETRIC_ENCRYPTION":
        return secrets.token_bytes(32)
    if algorithm in _SIGN_EC:
        return ec.generate_private_key(_SIGN_EC[algorithm][0]())
    if algorithm == "EC_SIGN_ED25519":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm in _SIGN_RSA:
        return rsa.generate_private_key(public_exponent=65537, key_size=_SIGN_RSA[algorithm][0])
    if algorithm in _DECRYPT_RSA:
        return rsa.generate_private_key(public_exponent=65537, key_size=_DECRYPT_RSA[algorithm][0])
    raise unimplemented(f"Algorithm {algorithm}")


class Store:
    def __init__(self, default_pending_ms: int):
        self.lock = threading.RLock()
        self.key_rings: dict[str, int] = {}  # name -> create time (ns)
        self.keys: dict[str, CryptoKey] = {}
        self.default_pending_ms = default_pending_ms

    def pending_ms_for(self, ring_name: str) -> int:
        ring_id = ring_name.rsplit("/", 1)[-1]
        m = _PENDING_RING_RE.match(ring_id)
        if m:
            return int(m.group(1))
        return self.default_pending_ms

    # --- lookups (caller holds the lock)

    def ring(self, name: str) -> int:
        if name not in self.key_rings:
            raise ApiError("NOT_FOUND", f"KeyRing {name} not found.")
        return self.key_rings[name]

    def key(self, name: str) -> CryptoKey:
        k = self.keys.get(name)
        if k is None:
            raise ApiError("NOT_FOUND", f"CryptoKey {name} not found.")
        return k

    def version(self, key_name: str, vid: str) -> Version:
        name = f"{key_name}/cryptoKeyVersions/{vid}"
        k = self.keys.get(key_name)
        if k is not None and re.fullmatch(r"[0-9]+", vid):
            n = int(vid)
            if 1 <= n <= len(k.versions) and str(n) == vid:
                return k.versions[n - 1]
        raise ApiError("NOT_FOUND", f"CryptoKeyVersion {name} not found.")


def _purpose_error(v_or_key_name: str, purpose: str) -> ApiError:
    return ApiError(
        "FAILED_PRECONDITION",
        f"Operation requested for Key {v_or_key_name} has incorrect key purpose: {purpose}",
    )


def _require_enabled(v: Version) -> None:
    st = v.state()
    if st != "ENABLED":
        details = []
        if st == "PENDING_GENERATION":
            details = [{
                "@type": "type.googleapis.com/google.rpc.PreconditionFailure",
                "violations": [{"type": "KEY_PENDING_GENERATION", "subject": v.name,
                                "description": "The key version is still being generated."}],
            }]
        raise ApiError("FAILED_PRECONDITION", f"{v.name} is not enabled, current state is: {st}.", details)


# --------------------------------------------------------------------------------------------
# The service.

# Fields each message accepts in a request body (lowerCamelCase json names).
_F_KEY_RING = {"name", "createTime"}
_F_CRYPTO_KEY = {"name", "primary", "purpose", "createTime", "nextRotationTime", "rotationPeriod",
                 "versionTemplate", "labels", "importOnly", "destroyScheduledDuration",
                 "cryptoKeyBackend", "keyAccessJustificationsPolicy"}
_F_TEMPLATE = {"protectionLevel", "algorithm"}
_F_VERSION = {"name", "state", "protectionLevel", "algorithm", "attestation", "createTime",
              "generateTime", "destroyTime", "destroyEventTime", "importJob", "importTime",
              "importFailureReason", "generationFailureReason", "externalDestructionFailureReason",
              "externalProtectionLevelOptions", "reimportEligible", "trustedWrappingEnabled",
              "hsmTrusted"}
_F_SIGN = {"name", "digest", "digestCrc32c", "data", "dataCrc32c"}
_F_DIGEST = {"sha256", "sha384", "sha512", "externalMu"}
_F_ADECRYPT = {"name", "ciphertext", "ciphertextCrc32c"}
_F_ENCRYPT = {"name", "plaintext", "additionalAuthenticatedData", "plaintextCrc32c",
              "additionalAuthenticatedDataCrc32c"}
_F_DECRYPT = {"name", "ciphertext", "additionalAuthenticatedData", "ciphertextCrc32c",
              "additionalAuthenticatedDataCrc32c"}
_F_NAME_ONLY = {"name"}
_F_PRIMARY = {"name", "cryptoKeyVersionId"}
_F_RANDOM = {"location", "lengthBytes", "protectionLevel"}

MAX_PLAINTEXT = 64 * 1024
MAX_HSM_COMBINED = 8 * 1024
MAX_SIGN_DATA = 64 * 1024


class Service:
    def __init__(self, store: Store):
        self.s = store

    # ---------------------------------------------------------------- key rings

    def create_key_ring(self, parent: str, q: dict, body: dict) -> dict:
        _normalise(body, _F_KEY_RING, "key_ring")
        ring_id = q.get("keyRingId", "")
        if not ring_id:
            raise invalid("key_ring_id is required.")
        if not _ID_RE.match(ring_id):
            raise invalid(f"Invalid key_ring_id {ring_id!r}: it must match [a-zA-Z0-9_-]{{1,63}}.")
        name = f"{parent}/keyRings/{ring_id}"
        with self.s.lock:
            if name in self.s.key_rings:
                raise ApiError("ALREADY_EXISTS", f"KeyRing {name} already exists.")
            self.s.key_rings[name] = time.time_ns()
            return {"name": name, "createTime": timestamp(self.s.key_rings[name])}

    def get_key_ring(self, name: str) -> dict:
        with self.s.lock:
            return {"name": name, "createTime": timestamp(self.s.ring(name))}

    def list_key_rings(self, parent: str, q: dict) -> dict:
        with self.s.lock:
            names = [n for n in self.s.key_rings if n.startswith(parent + "/keyRings/")]
            items = [{"name": n, "createTime": timestamp(self.s.key_rings[n])} for n in names]
        return _page(items, q, "keyRings")

    # ---------------------------------------------------------------- crypto keys

    def create_crypto_key(self, parent: str, q: dict, body: dict) -> dict:
        b = _normalise(body, _F_CRYPTO_KEY, "crypto_key")
        key_id = q.get("cryptoKeyId", "")
        if not key_id:
            raise invalid("crypto_key_id is required.")
        if not _ID_RE.match(key_id):
            raise invalid(f"Invalid crypto_key_id {key_id!r}: it must match [a-zA-Z0-9_-]{{1,63}}.")
        skip_initial = parse_bool(q.get("skipInitialVersionCreation"), "skip_initial_version_creation")
        if parse_bool(q.get("trustedWrappingEnabled"), "trusted_wrapping_enabled"):
            raise unimplemented("trusted_wrapping_enabled")
        purpose = parse_enum(b.get("purpose"), PURPOSE, "crypto_key.purpose")
        if purpose == "CRYPTO_KEY_PURPOSE_UNSPECIFIED":
            raise invalid("crypto_key.purpose must be specified.")
        tmpl = _normalise(b.get("versionTemplate") or {}, _F_TEMPLATE, "crypto_key.version_template")
        algorithm = parse_enum(tmpl.get("algorithm"), ALGORITHM, "crypto_key.version_template.algorithm")
        protection = parse_enum(tmpl.get("protectionLevel"), PROTECTION,
                                "crypto_key.version_template.protection_level")
        if algorithm == "CRYPTO_KEY_VERSION_ALGORITHM_UNSPECIFIED":
            if purpose == "ENCRYPT_DECRYPT":
                algorithm = "GOOGLE_SYMMETRIC_ENCRYPTION"
            else:
                raise invalid("crypto_key.version_template.algorithm must be specified for this purpose.")
        if protection == "PROTECTION_LEVEL_UNSPECIFIED":
            protection = "SOFTWARE"
        if _algorithm_purpose(algorithm) != purpose:
            raise invalid(
                f"Algorithm {algorithm} is not compatible with purpose {purpose}."
            )
        if purpose not in SUPPORTED_ALGORITHMS:
            raise unimplemented(f"Purpose {purpose}")
        if algorithm not in SUPPORTED_ALGORITHMS[purpose]:
            raise unimplemented(f"Algorithm {algorithm}")
        if protection not in ("SOFTWARE", "HSM"):
            raise unimplemented(f"Protection level {protection}")
        if parse_bool(b.get("importOnly"), "crypto_key.import_only"):
            raise unimplemented("import_only keys (key import)")
        if b.get("cryptoKeyBackend"):
            raise unimplemented("crypto_key_backend")
        rotation = {}
        for f in ("rotationPeriod", "nextRotationTime"):
            if b.get(f) is not None:
                if purpose != "ENCRYPT_DECRYPT":
                    raise invalid("Automatic rotation is only supported for ENCRYPT_DECRYPT keys.")
                if f == "rotationPeriod":
                    parse_duration_seconds(b[f], "crypto_key.rotation_period")
                rotation[f] = b[f]
        labels = b.get("labels") or {}
        if not isinstance(labels, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
            raise invalid("crypto_key.labels must map strings to strings.")
        destroy_s = float(DEFAULT_DESTROY_SCHEDULED_SECONDS)
        if b.get("destroyScheduledDuration") is not None:
            destroy_s = parse_duration_seconds(b["destroyScheduledDuration"], "crypto_key.destroy_scheduled_duration")
            if destroy_s < 0:
                raise invalid("crypto_key.destroy_scheduled_duration must not be negative.")
        name = f"{parent}/cryptoKeys/{key_id}"
        material = None
        with self.s.lock:
            self.s.ring(parent)
            if name in self.s.keys:
                raise ApiError("ALREADY_EXISTS", f"CryptoKey {name} already exists.")
        if not skip_initial:
            material = generate_private(algorithm)  # outside the lock: RSA generation takes a while
        with self.s.lock:
            if name in self.s.keys:
                raise ApiError("ALREADY_EXISTS", f"CryptoKey {name} already exists.")
            key = CryptoKey(name, purpose, algorithm, protection, dict(labels), destroy_s, rotation)
            if material is not None:
                v = Version(key, 1, algorithm, protection, self.s.pending_ms_for(parent))
                v.private = material
                key.versions.append(v)
                if purpose == "ENCRYPT_DECRYPT":
                    key.primary = v
            self.s.keys[name] = key
            return key.json()

    def get_crypto_key(self, name: str) -> dict:
        with self.s.lock:
            return self.s.key(name).json()

    def list_crypto_keys(self, parent: str, q: dict) -> dict:
        _no_filter(q)
        parse_enum(q.get("versionView"), VERSION_VIEW, "version_view")
        with self.s.lock:
            self.s.ring(parent)
            items = [k.json() for n, k in self.s.keys.items() if n.startswith(parent + "/cryptoKeys/")]
        return _page(items, q, "cryptoKeys")

    def update_primary_version(self, name: str, body: dict) -> dict:
        b = _normalise(body, _F_PRIMARY, "")
        vid = b.get("cryptoKeyVersionId") or ""
        if not vid:
            raise invalid("crypto_key_version_id is required.")
        with self.s.lock:
            key = self.s.key(name)
            if key.purpose != "ENCRYPT_DECRYPT":
                raise _purpose_error(name, key.purpose)
            v = self.s.version(name, str(vid))
            _require_enabled(v)
            key.primary = v
            return key.json()

    # ---------------------------------------------------------------- versions

    def create_version(self, parent: str, body: dict) -> dict:
        b = _normalise(body, _F_VERSION, "crypto_key_version")
        want = parse_enum(b.get("state"), STATE, "crypto_key_version.state")
        if want not in ("CRYPTO_KEY_VERSION_STATE_UNSPECIFIED", "ENABLED", "DISABLED"):
            raise invalid("crypto_key_version.state may only be ENABLED or DISABLED at creation.")
        with self.s.lock:
            key = self.s.key(parent)
            algorithm, protection = key.algorithm, key.protection
        material = generate_private(algorithm)
        with self.s.lock:
            v = Version(key, len(key.versions) + 1, algorithm, protection,
                        self.s.pending_ms_for(parent.rsplit("/cryptoKeys/", 1)[0]))
            v.private = material
            if want == "DISABLED" and v.state() == "ENABLED":
                v.set_state("DISABLED")
            key.versions.append(v)
            if key.purpose == "ENCRYPT_DECRYPT" and key.primary is None:
                key.primary = v
            return v.json()

    def get_version(self, key_name: str, vid: str) -> dict:
        with self.s.lock:
            return self.s.version(key_name, vid).json()

    def list_versions(self, parent: str, q: dict) -> dict:
        _no_filter(q)
        parse_enum(q.get("view"), VERSION_VIEW, "view")
        with self.s.lock:
            items = [v.json() for v in self.s.key(parent).versions]
        return _page(items, q, "cryptoKeyVersions")

    def patch_version(self, key_name: str, vid: str, q: dict, body: dict) -> dict:
        b = _normalise(body, _F_VERSION, "crypto_key_version")
        mask = q.get("updateMask")
        if not mask:
            raise invalid("update_mask is required.")
        paths = [_camel(p.strip()) for p in mask.split(",") if p.strip()]
        for p in paths:
            if p != "state":
                raise invalid(f"Field {p!r} in update_mask cannot be updated by this server "
                              "(only 'state' is supported).")
        with self.s.lock:
            v = self.s.version(key_name, vid)
            if "state" in paths:
                want = parse_enum(b.get("state"), STATE, "crypto_key_version.state")
                if want not in ("ENABLED", "DISABLED"):
                    raise invalid(
                        f"crypto_key_version.state may only be changed to ENABLED or DISABLED, not {want}."
                    )
                cur = v.state()
                if cur not in ("ENABLED", "DISABLED"):
                    raise ApiError(
                        "FAILED_PRECONDITION",
                        f"{v.name} is in state {cur}; only ENABLED and DISABLED versions can change state.",
                    )
                v.set_state(want)
            return v.json()

    def destroy_version(self, key_name: str, vid: str, body: dict) -> dict:
        _normalise(body, _F_NAME_ONLY, "")
        with self.s.lock:
            v = self.s.version(key_name, vid)
            cur = v.state()
            if cur not in ("ENABLED", "DISABLED"):
                raise ApiError("FAILED_PRECONDITION",
                               f"{v.name} cannot be scheduled for destruction in state {cur}.")
            v.set_state("DESTROY_SCHEDULED")
            v.destroy_ns = time.time_ns() + int(v.key.destroy_scheduled_s * 1e9)
            return v.json()

    def restore_version(self, key_name: str, vid: str, body: dict) -> dict:
        _normalise(body, _F_NAME_ONLY, "")
        with self.s.lock:
            v = self.s.version(key_name, vid)
            cur = v.state()
            if cur != "DESTROY_SCHEDULED":
                raise ApiError("FAILED_PRECONDITION",
                               f"{v.name} cannot be restored in state {cur}; only DESTROY_SCHEDULED versions can.")
            v.set_state("DISABLED")
            v.destroy_ns = None
            return v.json()

    def get_public_key(self, key_name: str, vid: str, q: dict) -> dict:
        fmt = parse_enum(q.get("publicKeyFormat"), PUBLIC_KEY_FORMAT, "public_key_format")
        with self.s.lock:
            v = self.s.version(key_name, vid)
            if v.key.purpose not in ("ASYMMETRIC_SIGN", "ASYMMETRIC_DECRYPT"):
                raise _purpose_error(v.name, v.key.purpose)
            _require_enabled(v)
            pub = v.private.public_key()
        if fmt in ("NIST_PQC", "XWING_RAW_BYTES"):
            raise invalid(f"Public key format {fmt} is not valid for algorithm {v.algorithm}.")
        pem = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        out = {
            "algorithm": Enum(v.algorithm, ALGORITHM),
            "name": v.name,
            "protectionLevel": Enum(v.protection, PROTECTION),
        }
        if fmt == "DER":
            der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
            out["publicKeyFormat"] = Enum("DER", PUBLIC_KEY_FORMAT)
            out["publicKey"] = {"data": b64(der), "crc32cChecksum": crc_str(der)}
        else:
            out["pem"] = pem.decode("ascii")
            out["pemCrc32c"] = crc_str(pem)
            if fmt == "PEM":
                out["publicKeyFormat"] = Enum("PEM", PUBLIC_KEY_FORMAT)
                out["publicKey"] = {"data": b64(pem), "crc32cChecksum": crc_str(pem)}
        return out

    # ---------------------------------------------------------------- crypto

    def asymmetric_sign(self, key_name: str, vid: str, body: dict) -> dict:
        b = _normalise(body, _F_SIGN, "")
        with self.s.lock:
            v = self.s.version(key_name, vid)
            if v.key.purpose != "ASYMMETRIC_SIGN":
                raise _purpose_error(v.name, v.key.purpose)
            _require_enabled(v)
            priv, alg = v.private, v.algorithm
        has_digest = b.get("digest") is not None
        has_data = b.get("data") is not None and b.get("data") != ""
        if has_digest and has_data:
            raise invalid("Only one of digest and data may be given.")
        verified_digest = verified_data = False
        if has_digest:
            d = _normalise(b["digest"], _F_DIGEST, "digest")
            set_fields = [k for k in ("sha256", "sha384", "sha512", "externalMu") if d.get(k) not in (None, "")]
            if len(set_fields) != 1:
                raise invalid("digest must hold exactly one of sha256, sha384 and sha512.")
            kind = set_fields[0]
            digest = parse_bytes(d[kind], f"digest.{kind}")
            verified_digest = check_crc(digest, b.get("digestCrc32c"), "digest_crc32c", "digest")
            if alg == "EC_SIGN_ED25519":
                raise invalid(f"Algorithm {alg} signs data, not a digest: give the data field.")
            want = _SIGN_EC[alg][1] if alg in _SIGN_EC else _SIGN_RSA[alg][1]
            if kind != want:
                raise invalid(f"The digest type {kind} does not match the algorithm {alg} (needs {want}).")
            if len(digest) != _HASHES[kind][1]:
                raise invalid(f"The {kind} digest must be {_HASHES[kind][1]} bytes, not {len(digest)}.")
        else:
            data = parse_bytes(b.get("data"), "data")
            if not data and b.get("dataCrc32c") is None:
                raise invalid("One of digest and data is required.")
            verified_data = check_crc(data, b.get("dataCrc32c"), "data_crc32c", "data")
            if len(data) > MAX_SIGN_DATA:
                raise invalid(f"data is {len(data)} bytes; at most {MAX_SIGN_DATA} are allowed.")
        if alg == "EC_SIGN_ED25519":
            sig = priv.sign(data)
        elif alg in _SIGN_EC:
            h = _HASHES[_SIGN_EC[alg][1]][0]()
            if has_digest:
                sig = priv.sign(digest, ec.ECDSA(utils.Prehashed(h)))
            else:
                sig = priv.sign(data, ec.ECDSA(h))
        else:
            _, hname, pss = _SIGN_RSA[alg]
            h = _HASHES[hname][0]()
            pad = padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size) if pss else padding.PKCS1v15()
            sig = priv.sign(digest, pad, utils.Prehashed(h)) if has_digest else priv.sign(data, pad, h)
        out = {
            "signature": b64(sig),
            "signatureCrc32c": crc_str(sig),
            "name": v.name,
            "protectionLevel": Enum(v.protection, PROTECTION),
        }
        if verified_digest:
            out["verifiedDigestCrc32c"] = True
        if verified_data:
            out["verifiedDataCrc32c"] = True
        return out

    def asymmetric_decrypt(self, key_name: str, vid: str, body: dict) -> dict:
        b = _normalise(body, _F_ADECRYPT, "")
        with self.s.lock:
            v = self.s.version(key_name, vid)
            if v.key.purpose != "ASYMMETRIC_DECRYPT":
                raise _purpose_error(v.name, v.key.purpose)
            _require_enabled(v)
            priv, alg = v.private, v.algorithm
        ct = parse_bytes(b.get("ciphertext"), "ciphertext")
        verified = check_crc(ct, b.get("ciphertextCrc32c"), "ciphertext_crc32c", "ciphertext")
        if not ct:
            raise invalid("ciphertext is required.")
        h = _HASHES[_DECRYPT_RSA[alg][1]][0]
        try:
            pt = priv.decrypt(ct, padding.OAEP(mgf=padding.MGF1(h()), algorithm=h(), label=None))
        except ValueError:
            raise invalid("Decryption failed.") from None
        out = {
            "plaintext": b64(pt),
            "plaintextCrc32c": crc_str(pt),
            "protectionLevel": Enum(v.protection, PROTECTION),
        }
        if verified:
            out["verifiedCiphertextCrc32c"] = True
        return out

    def _gcm_aad(self, key_name: str, number: int, aad: bytes) -> bytes:
        kn = key_name.encode()
        return len(kn).to_bytes(4, "big") + kn + number.to_bytes(4, "big") + aad

    def encrypt(self, key_name: str, vid: str | None, body: dict) -> dict:
        b = _normalise(body, _F_ENCRYPT, "")
        target = key_name if vid is None else f"{key_name}/cryptoKeyVersions/{vid}"
        with self.s.lock:
            key = self.s.key(key_name)
            if vid is not None:
                v = self.s.version(key_name, vid)
            if key.purpose != "ENCRYPT_DECRYPT":
                raise _purpose_error(target, key.purpose)
            if vid is None:
                v = key.primary
                if v is None:
                    raise ApiError("FAILED_PRECONDITION", f"CryptoKey {key_name} has no primary version.")
            _require_enabled(v)
            secret, number, protection = v.private, v.number, v.protection
        pt = parse_bytes(b.get("plaintext"), "plaintext")
        aad = parse_bytes(b.get("additionalAuthenticatedData"), "additional_authenticated_data")
        vp = check_crc(pt, b.get("plaintextCrc32c"), "plaintext_crc32c", "plaintext")
        va = check_crc(aad, b.get("additionalAuthenticatedDataCrc32c"),
                       "additional_authenticated_data_crc32c", "additional_authenticated_data")
        if not pt:
            raise invalid("plaintext is required.")
        if len(pt) > MAX_PLAINTEXT:
            raise invalid(f"plaintext is {len(pt)} bytes; at most {MAX_PLAINTEXT} are allowed.")
        if len(aad) > MAX_PLAINTEXT:
            raise invalid(f"additional_authenticated_data is {len(aad)} bytes; at most {MAX_PLAINTEXT} are allowed.")
        if protection == "HSM" and len(pt) + len(aad) > MAX_HSM_COMBINED:
            raise invalid(f"For HSM keys plaintext and additional_authenticated_data together may hold at most "
                          f"{MAX_HSM_COMBINED} bytes.")
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(secret).encrypt(nonce, pt, self._gcm_aad(key_name, number, aad))
        ct = _CT_MAGIC + number.to_bytes(4, "big") + nonce + sealed
        out = {
            "name": f"{key_name}/cryptoKeyVersions/{number}",
            "ciphertext": b64(ct),
            "ciphertextCrc32c": crc_str(ct),
            "protectionLevel": Enum(protection, PROTECTION),
        }
        if vp:
            out["verifiedPlaintextCrc32c"] = True
        if va:
            out["verifiedAdditionalAuthenticatedDataCrc32c"] = True
        return out

    def decrypt(self, key_name: str, body: dict) -> dict:
        b = _normalise(body, _F_DECRYPT, "")
        ct = parse_bytes(b.get("ciphertext"), "ciphertext")
        aad = parse_bytes(b.get("additionalAuthenticatedData"), "additional_authenticated_data")
        check_crc(ct, b.get("ciphertextCrc32c"), "ciphertext_crc32c", "ciphertext")
        check_crc(aad, b.get("additionalAuthenticatedDataCrc32c"),
                  "additional_authenticated_data_crc32c", "additional_authenticated_data")
        failed = invalid("Decryption failed: verify that 'name' refers to the correct CryptoKey.")
        with self.s.lock:
            key = self.s.key(key_name)
            if key.purpose != "ENCRYPT_DECRYPT":
                raise _purpose_error(key_name, key.purpose)
            if not ct:
                raise invalid("ciphertext is required.")
            head = len(_CT_MAGIC)
            if len(ct) < head + 4 + 12 + 16 or not ct.startswith(_CT_MAGIC):
                raise failed
            number = int.from_bytes(ct[head:head + 4], "big")
            if not 1 <= number <= len(key.versions):
                raise failed
            v = key.versions[number - 1]
            _require_enabled(v)
            secret, protection = v.private, v.protection
            used_primary = key.primary is v
        nonce = ct[head + 4:head + 16]
        try:
            pt = AESGCM(secret).decrypt(nonce, ct[head + 16:], self._gcm_aad(key_name, number, aad))
        except InvalidTag:
            raise failed from None
        out = {
            "plaintext": b64(pt),
            "plaintextCrc32c": crc_str(pt),
            "protectionLevel": Enum(protection, PROTECTION),
        }
        if used_primary:
            out["usedPrimary"] = True
        return out

    def generate_random_bytes(self, location: str, body: dict) -> dict:
        b = _normalise(body, _F_RANDOM, "")
        n = parse_int64(b.get("lengthBytes"), "length_bytes") or 0
        level = parse_enum(b.get("protectionLevel"), PROTECTION, "protection_level")
        if level != "HSM":
            raise invalid("protection_level must be HSM.")
        if not 8 <= n <= 1024:
            raise invalid("length_bytes must be between 8 and 1024.")
        data = secrets.token_bytes(n)
        return {"data": b64(data), "dataCrc32c": crc_str(data)}


def _no_filter(q: dict) -> None:
    for f in ("filter", "orderBy"):
        if q.get(f):
            raise unimplemented(f"List {f}")


def _page(items: list, q: dict, field: str) -> dict:
    size = parse_int64(q.get("pageSize"), "page_size") or 0
    if size < 0:
        raise invalid("page_size must not be negative.")
    if size == 0 or size > 1000:
        size = 1000
    start = 0
    tok = q.get("pageToken") or ""
    if tok:
        try:
            start = int(base64.urlsafe_b64decode(tok.encode() + b"=" * (-len(tok) % 4)).decode())
        except (ValueError, binascii.Error):
            raise invalid("Invalid page_token.") from None
        if not 0 <= start <= len(items):
            raise invalid("Invalid page_token.")
    page = items[start:start + size]
    out: dict = {}
    if page:
        out[field] = page
    if start + size < len(items):
        out["nextPageToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode().rstrip("=")
    out["totalSize"] = len(items)
    return out


# --------------------------------------------------------------------------------------------
# Routing.

_QUERY_ALLOWED = {
    "createKeyRing": {"keyRingId"},
    "createCryptoKey": {"cryptoKeyId", "skipInitialVersionCreation", "trustedWrappingEnabled"},
    "getPublicKey": {"publicKeyFormat"},
    "patchVersion": {"updateMask"},
    "listKeyRings": {"pageSize", "pageToken", "filter", "orderBy"},
    "listCryptoKeys": {"pageSize", "pageToken", "filter", "orderBy", "versionView"},
    "listVersions": {"pageSize", "pageToken", "filter", "orderBy", "view"},
}


def _query(raw: str, method: str) -> tuple[dict, bool]:
    """Query parameters (camelCased), and whether enums are to be written as numbers."""
    allowed = _QUERY_ALLOWED.get(method, set())
    q: dict = {}
    ints = False
    for k, v in urllib.parse.parse_qsl(raw, keep_blank_values=True):
        if k.startswith("$") or k in ("alt", "prettyPrint", "key", "access_token", "quotaUser",
                                      "fields", "callback", "upload_protocol", "uploadType"):
            if k in ("$alt", "alt") and "enum-encoding=int" in v:
                ints = True
            continue
        ck = _camel(k)
        if ck not in allowed:
            raise invalid(f'Invalid JSON payload received. Unknown name "{k}": Cannot bind query parameter.')
        q[ck] = v
    return q, ints


def route(svc: Service, method: str, path: str, raw_query: str, body: dict) -> tuple[dict, bool]:
    if not path.startswith("/v1/"):
        raise ApiError("NOT_FOUND", f"The requested URL {path} was not found on this server.")
    rest = urllib.parse.unquote(path[4:])
    verb = None
    last_slash = rest.rfind("/")
    colon = rest.find(":", last_slash + 1)
    if colon >= 0:
        rest, verb = rest[:colon], rest[colon + 1:]
    seg = rest.split("/")
    if any(s == "" for s in seg) or len(seg) < 4 or seg[0] != "projects" or seg[2] != "locations":
        raise ApiError("NOT_FOUND", f"The requested URL {path} was not found on this server.")
    loc = "/".join(seg[:4])
    n = len(seg)

    def q(name: str) -> tuple[dict, bool]:
        return _query(raw_query, name)

    def no_body() -> None:
        if body:
            raise invalid("This method takes no request body.")

    # projects/p/locations/l[:generateRandomBytes]
    if n == 4 and verb == "generateRandomBytes" and method == "POST":
        _, ints = q("")
        return svc.generate_random_bytes(loc, body), ints
    if n == 5 and seg[4] == "keyRings" and verb is None:
        if method == "POST":
            params, ints = q("createKeyRing")
            return svc.create_key_ring(loc, params, body), ints
        if method == "GET":
            params, ints = q("listKeyRings")
            _no_filter(params)
            return svc.list_key_rings(loc, params), ints
    if n >= 6 and seg[4] == "keyRings":
        ring = "/".join(seg[:6])
        if n == 6 and verb is None and method == "GET":
            _, ints = q("")
            return svc.get_key_ring(ring), ints
        if n == 7 and seg[6] == "cryptoKeys" and verb is None:
            if method == "POST":
                params, ints = q("createCryptoKey")
                return svc.create_crypto_key(ring, params, body), ints
            if method == "GET":
                params, ints = q("listCryptoKeys")
                return svc.list_crypto_keys(ring, params), ints
        if n >= 8 and seg[6] == "cryptoKeys":
            key = "/".join(seg[:8])
            if n == 8:
                if verb is None and method == "GET":
                    _, ints = q("")
                    return svc.get_crypto_key(key), ints
                if verb == "encrypt" and method == "POST":
                    _, ints = q("")
                    return svc.encrypt(key, None, body), ints
                if verb == "decrypt" and method == "POST":
                    _, ints = q("")
                    return svc.decrypt(key, body), ints
                if verb == "updatePrimaryVersion" and method == "POST":
                    _, ints = q("")
                    return svc.update_primary_version(key, body), ints
                if verb is None and method == "PATCH":
                    raise unimplemented("cryptoKeys.patch")
            if n == 9 and seg[8] == "cryptoKeyVersions" and verb is None:
                if method == "POST":
                    _, ints = q("")
                    return svc.create_version(key, body), ints
                if method == "GET":
                    params, ints = q("listVersions")
                    return svc.list_versions(key, params), ints
            if n in (10, 11) and seg[8] == "cryptoKeyVersions":
                vid = seg[9]
                if n == 11:
                    if seg[10] == "publicKey" and verb is None and method == "GET":
                        params, ints = q("getPublicKey")
                        return svc.get_public_key(key, vid, params), ints
                else:
                    if verb is None and method == "GET":
                        _, ints = q("")
                        return svc.get_version(key, vid), ints
                    if verb is None and method == "PATCH":
                        params, ints = q("patchVersion")
                        return svc.patch_version(key, vid, params, body), ints
                    if method == "POST":
                        _, ints = q("")
                        if verb == "asymmetricSign":
                            return svc.asymmetric_sign(key, vid, body), ints
                        if verb == "asymmetricDecrypt":
                            return svc.asymmetric_decrypt(key, vid, body), ints
                        if verb == "destroy":
                            return svc.destroy_version(key, vid, body), ints
                        if verb == "restore":
                            return svc.restore_version(key, vid, body), ints
                        if verb == "encrypt":
                            return svc.encrypt(key, vid, body), ints
                        if verb in ("macSign", "macVerify", "rawEncrypt", "rawDecrypt", "decapsulate"):
                            raise unimplemented(f"cryptoKeyVersions.{verb}")
    known_verbs = {"generateRandomBytes", "encrypt", "decrypt", "updatePrimaryVersion", "asymmetricSign",
                   "asymmetricDecrypt", "destroy", "restore"}
    if verb is not None and verb not in known_verbs:
        raise unimplemented(f"The method :{verb}")
    if n >= 5 and seg[4] != "keyRings":
        raise unimplemented(f"The collection {seg[4]}")
    if n >= 7 and seg[6] != "cryptoKeys":
        raise unimplemented(f"The collection {seg[6]}")
    raise ApiError("NOT_FOUND", f"The requested URL {path} was not found on this server (method {method}).")


def _encode(obj, ints: bool) -> str:
    def conv(o):
        if isinstance(o, Enum):
            return o.table[o.name] if ints else o.name
        if isinstance(o, dict):
            return {k: conv(v) for k, v in o.items()}
        if isinstance(o, list):
            return [conv(v) for v in o]
        return o

    return json.dumps(conv(obj), indent=2) + "\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The head and the body go out in separate writes; with Nagle's algorithm on, the body waits for the
    # client's delayed ACK of the head (about 40 ms on Linux) on every keep-alive request.
    disable_nagle_algorithm = True
    server_version = "tresor-gcp-kms-test"
    sys_version = ""
    service: Service  # set on the class by main()

    def log_message(self, fmt, *args):  # request line and status only; never bodies
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), fmt % args))
        sys.stderr.flush()

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                line = self.rfile.readline(65537).strip()
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline(65537).strip():
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, text: str) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _handle(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        ints = "enum-encoding=int" in urllib.parse.unquote(url.query)
        try:
            raw = self._read_body()
            body = {}
            if raw.strip():
                try:
                    body = json.loads(raw)
                except (ValueError, UnicodeDecodeError):
                    raise invalid("Invalid JSON payload received.") from None
                if not isinstance(body, dict):
                    raise invalid("Invalid JSON payload received. The request body must be a JSON object.")
            result, ints = route(self.service, self.command, url.path, url.query, body)
            self._send(200, _encode(result, ints))
        except ApiError as e:
            self._send(_HTTP_OF_STATUS[e.status], _encode(e.body(), False))
        except Exception as e:  # a bug in this server: say so, as INTERNAL
            self.log_message("internal error: %s: %s", type(e).__name__, e)
            self._send(500, _encode(ApiError("INTERNAL", f"Internal error in the test server: {type(e).__name__}").body(), False))

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="tresor's GCP Cloud KMS v1 REST test server (not Google's service)")
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: a free port)")
    p.add_argument("--url-file", help="write the base URL here once listening")
    p.add_argument("--pending-ms", type=int, default=None,
                   help="keep every new key version PENDING_GENERATION this long "
                        "(default: $GCP_KMS_TEST_PENDING_MS or 0)")
    a = p.parse_args(argv)
    pending = a.pending_ms
    if pending is None:
        env = os.environ.get("GCP_KMS_TEST_PENDING_MS", "0").strip() or "0"
        if not env.isdigit():
            p.error("GCP_KMS_TEST_PENDING_MS must be a number of milliseconds")
        pending = int(env)
    Handler.service = Service(Store(pending))
    httpd = Server(("127.0.0.1", a.port), Handler)
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    if a.url_file:
        tmp = a.url_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(url + "\n")
        os.replace(tmp, a.url_file)
    print(f"ready {url}", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
