//! tresor: Canton-compatible key management.
//!
//! This crate is the core every face of tresor calls (the `tresor` CLI, the C library, the JVM jar, the
//! Python wheel and the WASM package are marshalling only). Its modules, bottom up (each uses only the
//! ones above it):
//! * [`error`] — one error type; the error table (kinds, stable numeric codes, families, retryability)
//!   from which the C, Java, Python and TypeScript tables are generated;
//! * [`util`] — small shared helpers: hex, RFC 3339 time, URL redaction, quoting;
//! * [`scheme`] — Canton's key and algorithm specs with their config strings and proto numbers;
//! * [`keys`] — public/private keys in DER, PEM, raw and JWK form, Canton fingerprints, key usages;
//! * [`primitives`] — Ed25519, ECDSA, AES-128-GCM, ECIES, RSA-OAEP, HMAC, HKDF on two backends, and
//!   [`KeyPair`]/[`PreparedPublicKey`] for a caller-held key;
//! * [`audit`] (feature `vault`) — the hash-chained audit log and its verifier;
//! * [`kms`] (feature `vault`) — one driver trait ([`kms::KmsDriver`], Canton's v1 semantics), the drivers
//!   (software; AWS, GCP, PKCS#11 behind their cargo features), the layers (retry, rate limits, audit,
//!   health, Canton's bounds) and the one configuration model ([`kms::registry`]);
//! * the key store (internal: every SQL statement lives there, behind transactions);
//! * [`vault`] (feature `vault`) — the key store with Canton's clear, envelope and external modes: the
//!   one verb table every face uses (`generate`, `sign`, `list_keys`, `key_info`, `export_sealed`, …),
//!   async ([`Vault`]) and blocking ([`BlockingVault`]);
//! * [`hazmat`] (feature `vault`) — cleartext private-key export, audited;
//! * [`config`] (feature `config`) — `tresor.toml` or a Canton node's `crypto` block, where it is found
//!   ([`config::ConfigSources`]), environment overrides, and opening a vault as it says, async or blocking.
//!
//! `error`, `util`, `scheme`, `keys` and `primitives` do no I/O, no logging and no async, and build for
//! wasm32.
#![forbid(unsafe_code)]

#[cfg(feature = "vault")]
pub mod audit;
#[cfg(feature = "vault")]
mod conf;
#[cfg(feature = "config")]
pub mod config;
pub mod error;
#[cfg(feature = "vault")]
pub mod hazmat;
pub mod keys;
#[cfg(feature = "vault")]
pub mod kms;
pub mod primitives;
pub mod scheme;
#[cfg(feature = "vault")]
mod store;
pub mod util;
#[cfg(feature = "vault")]
pub mod vault;

pub use error::{Error, ErrorKind, Result};
pub use keys::{Fingerprint, KeyType, PrivateKey, PublicKey, SigningKeyUsage, SigningKeyUsageSet};
pub use primitives::{
    AesGcmKey, Decrypter, DefaultBackend, Encrypter, KeyPair, PreparedPublicKey, Signer, Verifier,
};
pub use scheme::{
    EncryptionAlgorithmSpec, EncryptionKeySpec, KeySpec, Purpose, SignatureFormat,
    SigningAlgorithmSpec, SigningKeySpec,
};
#[cfg(feature = "vault")]
pub use vault::blocking::{BlockingVault, runtime};
#[cfg(feature = "vault")]
pub use vault::{KeyInfo, Vault};

/// The README's Rust example, compiled and run as a doc test.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The crate version (the same for the CLI and every binding).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
