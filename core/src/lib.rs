//! tresor: Canton-compatible key management.
//!
//! This crate is the core every binding builds on:
//! * [`scheme`] — Canton's key and algorithm specs with their config strings and proto numbers;
//! * [`keys`] — public/private keys in DER, PEM, raw and JWK form, Canton fingerprints, key usages;
//! * [`primitives`] — Ed25519, ECDSA, AES-128-GCM, ECIES, RSA-OAEP, HMAC, HKDF on two backends;
//! * [`error`] — one error type with stable numeric codes;
//! * `config` (cargo feature `config`) — the `tresor.toml` configuration and opening a vault as it says.
//!
//! `scheme`, `keys` and `primitives` do no I/O, no logging and no async, and build for wasm32.
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
