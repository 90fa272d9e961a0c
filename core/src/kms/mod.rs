//! The KMS driver trait, with Canton's v1 driver semantics: one trait, drivers, layers.
//!
//! * [`KmsDriver`] (this module, with its types) is the single extension point for a KMS or HSM.
//! * [`drivers`]: the software driver ([`software`]), and the AWS (`aws`), GCP (`gcp`) and PKCS#11
//!   (`pkcs11`) drivers behind their cargo features of the same names.
//! * [`layers`]: retry, rate limits, audit, health tracking and Canton's bounds wrap any driver;
//!   [`layered`] stacks them.
//!
//! Semantics follow Canton's `v1.KmsDriver`:
//! * `health` never fails;
//! * the four `supported_*` sets are never empty;
//! * key names are at most [`MAX_KEY_NAME_LEN`] characters, returned key ids at most [`MAX_KEY_ID_LEN`];
//! * `sign` takes at most [`MAX_SIGN_INPUT`] bytes, `encrypt_symmetric` at most [`MAX_SYMMETRIC_PLAINTEXT`],
//!   `decrypt_symmetric` at most [`MAX_SYMMETRIC_CIPHERTEXT`], `decrypt_asymmetric` at most
//!   [`MAX_ASYMMETRIC_CIPHERTEXT`]; a result outside Canton's bounds is a non-retryable
//!   [`ErrorKind::KmsBoundsViolated`];
//! * every error says whether it is retryable ([`Error::is_retryable`]).
//!
//! The size bounds are enforced once, by the bounds layer ([`layers::bounds`]) that [`layered`] always
//! puts right above the driver; drivers themselves do not check them. Wrap a bare driver with
//! `layered(driver, LayerConfig::minimal())` to get Canton's contract and nothing else.

pub mod drivers;
pub mod layers;
pub mod registry;

#[cfg(feature = "aws")]
pub use drivers::aws;
#[cfg(feature = "gcp")]
pub use drivers::gcp;
#[cfg(feature = "pkcs11")]
pub use drivers::pkcs11;
pub use drivers::software;
pub use layers::bounds::{check_input, check_key_name, check_result};
pub use layers::{LayerConfig, health, layered, ratelimit, retry};

use core::fmt;

use async_trait::async_trait;
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind, Result};
use crate::keys::PublicKey;
use crate::scheme::{
    EncryptionAlgorithmSpec, EncryptionKeySpec, SigningAlgorithmSpec, SigningKeySpec,
};

/// Longest key name a driver accepts (Canton's bound).
pub const MAX_KEY_NAME_LEN: usize = 300;
/// Longest key id a driver may return (Canton's bound).
pub const MAX_KEY_ID_LEN: usize = 300;
/// Largest input to `sign`.
pub const MAX_SIGN_INPUT: usize = 4096;
/// Largest plaintext for `encrypt_symmetric`.
pub const MAX_SYMMETRIC_PLAINTEXT: usize = 4096;
/// Largest ciphertext `encrypt_symmetric` may return and `decrypt_symmetric` accepts.
pub const MAX_SYMMETRIC_CIPHERTEXT: usize = 6144;
/// Largest ciphertext `decrypt_asymmetric` accepts.
pub const MAX_ASYMMETRIC_CIPHERTEXT: usize = 6144;
/// Largest plaintext an RSA-OAEP-SHA256 `decrypt_asymmetric` may return (what RSA-2048 OAEP-SHA256 can
/// carry).
pub const MAX_ASYMMETRIC_PLAINTEXT: usize = crate::primitives::RSA_OAEP_MAX_PLAINTEXT;

/// A key identifier in a KMS (id, ARN, alias or resource name, as the provider defines it).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KmsKeyId(String);

impl KmsKeyId {
    /// A key id; empty ids and ids longer than [`MAX_KEY_ID_LEN`] characters are refused.
    pub fn new(id: impl Into<String>) -> Result<Self> {
        let id = id.into();
        if id.is_empty() || id.chars().count() > MAX_KEY_ID_LEN || id.chars().any(char::is_control)
        {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("a KMS key id is 1 to {MAX_KEY_ID_LEN} printable characters"),
            ));
        }
        Ok(Self(id))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KmsKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KmsKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KmsKeyId({})", self.0)
    }
}

/// The health of a driver (Canton `KmsDriverHealth`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KmsHealth {
    /// Serving.
    Ok,
    /// Serving, with a problem worth reporting.
    Degraded(String),
    /// Not serving; the process stays alive.
    Failed(String),
    /// Not serving and not recoverable without a restart.
    Fatal(String),
}

/// The spec of a key held by a KMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KmsKeySpec {
    /// A signing key pair.
    Signing(SigningKeySpec),
    /// An asymmetric encryption key pair.
    Encryption(EncryptionKeySpec),
    /// The KMS's default symmetric key (AES-GCM).
    Symmetric,
}

impl fmt::Display for KmsKeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Signing(s) => write!(f, "signing {s}"),
            Self::Encryption(s) => write!(f, "encryption {s}"),
            Self::Symmetric => f.write_str("symmetric"),
        }
    }
}

/// A public key returned by a KMS: DER SubjectPublicKeyInfo (EC points uncompressed) and its spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsPublicKey {
    /// The parsed, validated key.
    pub key: PublicKey,
    /// The spec the KMS reports for it.
    pub spec: KmsKeySpec,
}

/// A KMS or HSM behind Canton's v1 driver semantics (see the module docs).
#[async_trait]
pub trait KmsDriver: Send + Sync + 'static {
    /// A short name of the provider ("software", "aws", "gcp", "pkcs11", …).
    fn provider(&self) -> &str;

    /// Current health; never fails.
    async fn health(&self) -> KmsHealth;

    /// Signing key specs this driver can generate and use (never empty).
    fn supported_signing_key_specs(&self) -> Vec<SigningKeySpec>;
    /// Signing algorithms this driver can use (never empty).
    fn supported_signing_algo_specs(&self) -> Vec<SigningAlgorithmSpec>;
    /// Encryption key specs this driver can generate and use (never empty).
    fn supported_encryption_key_specs(&self) -> Vec<EncryptionKeySpec>;
    /// Encryption algorithms this driver can decrypt (never empty).
    fn supported_encryption_algo_specs(&self) -> Vec<EncryptionAlgorithmSpec>;

    /// Generate a signing key pair; returns its id.
    async fn generate_signing_key_pair(
        &self,
        spec: SigningKeySpec,
        name: Option<&str>,
    ) -> Result<KmsKeyId>;
    /// Generate an asymmetric encryption key pair; returns its id.
    async fn generate_encryption_key_pair(
        &self,
        spec: EncryptionKeySpec,
        name: Option<&str>,
    ) -> Result<KmsKeyId>;
    /// Generate a symmetric key of the KMS's default spec; returns its id.
    async fn generate_symmetric_key(&self, name: Option<&str>) -> Result<KmsKeyId>;

    /// Sign `data` (≤ 4 KiB) in Canton's format (DER for ECDSA, raw 64 bytes for Ed25519).
    async fn sign(
        &self,
        key_id: &KmsKeyId,
        data: &[u8],
        algo: SigningAlgorithmSpec,
    ) -> Result<Vec<u8>>;
    /// Decrypt a ciphertext in Canton's ECIES or RSA-OAEP format.
    async fn decrypt_asymmetric(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
        algo: EncryptionAlgorithmSpec,
    ) -> Result<Zeroizing<Vec<u8>>>;
    /// Encrypt `data` (≤ 4 KiB) under a symmetric key with the KMS's default algorithm.
    async fn encrypt_symmetric(&self, key_id: &KmsKeyId, data: &[u8]) -> Result<Vec<u8>>;
    /// Decrypt what `encrypt_symmetric` produced (≤ 6,144 bytes).
    async fn decrypt_symmetric(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>>;
    /// The public key of an asymmetric key.
    async fn get_public_key(&self, key_id: &KmsKeyId) -> Result<KmsPublicKey>;
    /// `Ok` if the key exists and is active; an error otherwise.
    async fn key_exists_and_is_active(&self, key_id: &KmsKeyId) -> Result<()>;
    /// Delete the key, or schedule its deletion.
    async fn delete_key(&self, key_id: &KmsKeyId) -> Result<()>;

    /// Disable the key: it stays in the KMS, every use of it fails, and an operator can enable it again
    /// with the provider's own tools. A tresor extension (Canton's v1 driver API has no disable), used
    /// to retire old wrapper keys. The default says the driver cannot do it
    /// ([`ErrorKind::KmsFailure`], not retryable); drivers that can override it.
    async fn disable_key(&self, key_id: &KmsKeyId) -> Result<()> {
        Err(Error::new(
            ErrorKind::KmsFailure,
            format!(
                "the {} KMS driver cannot disable keys (unsupported); key {key_id} was left as it is",
                self.provider()
            ),
        ))
    }

    /// Release the driver's resources (connections, sessions) before it is dropped. Calls after
    /// `close` may fail. The default does nothing; wrappers forward it.
    async fn close(&self) {}
}
