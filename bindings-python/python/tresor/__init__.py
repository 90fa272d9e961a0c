"""tresor: Canton-compatible key management.

Keys, signatures and ciphertexts are byte-compatible with Canton's crypto. The work is done by tresor's
Rust core (the ``tresor._tresor`` extension module); this package is its Python face:

* :class:`PublicKey` and :class:`PrivateKey` — caller-held keys: PEM, DER, JWK and raw encodings,
  Canton fingerprints, sign / verify and encrypt / decrypt in Canton's formats, and conversion to and
  from ``cryptography`` key objects;
* :class:`AesGcmKey`, :func:`hmac_sha256`, :func:`hkdf_sha256`, :func:`canton_hash` — primitives;
* :class:`Vault` — a node's key store (clear, envelope or external mode), opened from a ``tresor.toml``
  or a Canton configuration;
* :mod:`tresor.exceptions` — one exception class per error code, all under :class:`TresorError`;
* :mod:`tresor.hazmat` — what takes secret key material out of tresor's protection.
"""

from tresor.exceptions import *  # noqa: F401,F403 (re-exported: tresor.InvalidSignature, ...)
from tresor._tresor import (
    AesGcmKey,
    BackupReport,
    Health,
    KeyInfo,
    PrivateKey,
    PublicKey,
    SealedExport,
    Vault,
    __version__,
    canton_hash,
    ecdsa_der_to_raw,
    ecdsa_raw_to_der,
    hkdf_sha256,
    hmac_sha256,
    hmac_sha256_verify,
    key_usage,
    open_sealed_export,
    scheme_name,
)

__all__ = [
    "AesGcmKey",
    "BackupReport",
    "Health",
    "KeyInfo",
    "PrivateKey",
    "PublicKey",
    "SealedExport",
    "Vault",
    "__version__",
    "canton_hash",
    "ecdsa_der_to_raw",
    "ecdsa_raw_to_der",
    "hkdf_sha256",
    "hmac_sha256",
    "hmac_sha256_verify",
    "key_usage",
    "open_sealed_export",
    "scheme_name",
    # tresor.exceptions.__all__ (a test checks that the two lists agree):
    "TresorError",
    "ArgumentError",
    "InputError",
    "CryptoError",
    "StoreError",
    "KmsError",
    "UnexpectedError",
    "InvalidArgument",
    "NullArgument",
    "InputTooLarge",
    "UnknownScheme",
    "InvalidKeyUsage",
    "BufferTooSmall",
    "MalformedKey",
    "MalformedSignature",
    "MalformedCiphertext",
    "UnsupportedAlgorithm",
    "IncompatibleKey",
    "MalformedData",
    "InvalidSignature",
    "DecryptionFailed",
    "WrongPassword",
    "KeyNotFound",
    "UsageNotAllowed",
    "KeyAlreadyExists",
    "StoreFailure",
    "StoreCorrupted",
    "WrongMode",
    "IoFailure",
    "KmsUnavailable",
    "KmsFailure",
    "KmsKeyNotFound",
    "KmsKeyDisabled",
    "KmsPermissionDenied",
    "KmsThrottled",
    "KmsBoundsViolated",
    "InternalError",
    "PanicError",
    "BY_CODE",
    "BY_KIND",
    "from_code",
]
