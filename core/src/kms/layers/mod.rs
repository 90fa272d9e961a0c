//! Layers around any [`KmsDriver`]: one [`Layer`] trait, one generic [`Layered`] wrapper, and
//! [`layered`] to stack them.
//!
//! A layer describes its behaviour once, in [`Layer::call`], for every KMS operation: it sees a
//! [`Request`] (the operation, key id, spec or algorithm, and input length — never the bytes) and a
//! `next` function that runs the operation on the driver below; it can act before, run `next` any number
//! of times (retry) or not at all (bounds), and look at the result through [`Outcome`] (key id, key spec,
//! length — never the bytes). [`Layered<L>`] implements [`KmsDriver`] once for every layer: `provider`,
//! the four `supported_*` sets and `close` are forwarded, `health` goes through [`Layer::health`], and
//! each operation through [`Layer::call`].
//!
//! The layers:
//! * [`retry`]: Canton's retry policies ([`Retrying`]);
//! * [`ratelimit`]: one token bucket per operation class ([`RateLimited`]);
//! * [`audit`]: every request and response in the audit log, with Canton's placeholders ([`Audited`]);
//! * [`health`]: `Degraded` while calls keep failing with retryable errors ([`HealthTracking`]), and a
//!   background health poller;
//! * [`bounds`]: Canton's size bounds on inputs and results ([`Bounded`]).
//!
//! # The stack
//! [`layered`] stacks them, outermost first:
//!
//! ```text
//! Retrying ─▶ RateLimited ─▶ Audited ─▶ HealthTracking ─▶ Bounded ─▶ driver
//! ```
//!
//! Why this order:
//! * **Retry outermost.** Each retry is a new attempt that goes through everything below it.
//! * **Rate limiting inside retry.** Every attempt, retries included, is a real request against the
//!   provider's quota, so each one takes a token; a burst of retries is spaced like any other traffic.
//! * **Audit inside the rate limiter.** A `Sending request` line is written when the request really goes
//!   to the KMS (after any wait for a token), and every attempt gets its own id and its own
//!   response or WARN line — as in Canton, whose AWS audit logger is an SDK interceptor below the retry
//!   loop, so failed attempts are in the audit trail rather than hidden behind one eventual success.
//! * **Health tracking inside audit.** It sees the outcome of every individual attempt, so the driver
//!   reports `Degraded` while attempts keep failing with retryable errors, even while the retry loop
//!   above is still waiting, and `Ok` as soon as one succeeds.
//! * **Bounds innermost, always.** Canton's bounds are checked once, right above the driver, whatever
//!   the [`LayerConfig`] says, so every driver has the same contract. A refused request never reaches
//!   the provider; it is still audited (a request line and a WARN line), and its error is not retryable,
//!   so it is neither retried nor counted against health.
//!
//! (Stacking audit *outside* retry, `audit(retry(…))`, would log one request per logical call and hide
//! the failed attempts; that is the one order this module avoids.)

pub mod audit;
pub mod bounds;
pub mod health;
pub mod ratelimit;
pub mod retry;

pub use audit::Audited;
pub use bounds::Bounded;
pub use health::HealthTracking;
pub use ratelimit::RateLimited;
pub use retry::Retrying;

use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use zeroize::Zeroizing;

use super::{KmsDriver, KmsHealth, KmsKeyId, KmsKeySpec, KmsPublicKey};
use crate::audit::AuditLog;
use crate::error::Result;
use crate::scheme::{
    EncryptionAlgorithmSpec, EncryptionKeySpec, SigningAlgorithmSpec, SigningKeySpec,
};
use ratelimit::{OpClass, RateLimits};
use retry::RetryConfig;

/// A boxed, sendable future (what `async_trait` methods return).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The rest of the stack for one operation: each call runs the operation once on the driver below.
pub type Next<'a, T> = &'a (dyn Fn() -> BoxFuture<'a, Result<T>> + Send + Sync + 'a);

/// One KMS operation as a layer sees it: what is asked, of which key, and how large the input is.
/// Never the input bytes (plaintext, ciphertext, message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request<'a> {
    /// [`KmsDriver::generate_signing_key_pair`].
    GenerateSigningKeyPair {
        /// The key spec.
        spec: SigningKeySpec,
        /// The key name, if any.
        name: Option<&'a str>,
    },
    /// [`KmsDriver::generate_encryption_key_pair`].
    GenerateEncryptionKeyPair {
        /// The key spec.
        spec: EncryptionKeySpec,
        /// The key name, if any.
        name: Option<&'a str>,
    },
    /// [`KmsDriver::generate_symmetric_key`].
    GenerateSymmetricKey {
        /// The key name, if any.
        name: Option<&'a str>,
    },
    /// [`KmsDriver::sign`].
    Sign {
        /// The key.
        key_id: &'a KmsKeyId,
        /// The signing algorithm.
        algo: SigningAlgorithmSpec,
        /// The length of the message.
        len: usize,
    },
    /// [`KmsDriver::decrypt_asymmetric`].
    DecryptAsymmetric {
        /// The key.
        key_id: &'a KmsKeyId,
        /// The encryption algorithm.
        algo: EncryptionAlgorithmSpec,
        /// The length of the ciphertext.
        len: usize,
    },
    /// [`KmsDriver::encrypt_symmetric`].
    EncryptSymmetric {
        /// The key.
        key_id: &'a KmsKeyId,
        /// The length of the plaintext.
        len: usize,
    },
    /// [`KmsDriver::decrypt_symmetric`].
    DecryptSymmetric {
        /// The key.
        key_id: &'a KmsKeyId,
        /// The length of the ciphertext.
        len: usize,
    },
    /// [`KmsDriver::get_public_key`].
    GetPublicKey {
        /// The key.
        key_id: &'a KmsKeyId,
    },
    /// [`KmsDriver::key_exists_and_is_active`].
    KeyExistsAndIsActive {
        /// The key.
        key_id: &'a KmsKeyId,
    },
    /// [`KmsDriver::delete_key`].
    DeleteKey {
        /// The key.
        key_id: &'a KmsKeyId,
    },
    /// [`KmsDriver::disable_key`] (a tresor extension; Canton's driver API has no disable).
    DisableKey {
        /// The key.
        key_id: &'a KmsKeyId,
    },
}

impl<'a> Request<'a> {
    /// The name of the [`KmsDriver`] method (`"sign"`, `"generate_symmetric_key"`, …).
    pub fn operation(&self) -> &'static str {
        match self {
            Self::GenerateSigningKeyPair { .. } => "generate_signing_key_pair",
            Self::GenerateEncryptionKeyPair { .. } => "generate_encryption_key_pair",
            Self::GenerateSymmetricKey { .. } => "generate_symmetric_key",
            Self::Sign { .. } => "sign",
            Self::DecryptAsymmetric { .. } => "decrypt_asymmetric",
            Self::EncryptSymmetric { .. } => "encrypt_symmetric",
            Self::DecryptSymmetric { .. } => "decrypt_symmetric",
            Self::GetPublicKey { .. } => "get_public_key",
            Self::KeyExistsAndIsActive { .. } => "key_exists_and_is_active",
            Self::DeleteKey { .. } => "delete_key",
            Self::DisableKey { .. } => "disable_key",
        }
    }

    /// The key the operation uses (`None` for the `generate_*` operations).
    pub fn key_id(&self) -> Option<&'a KmsKeyId> {
        match *self {
            Self::Sign { key_id, .. }
            | Self::DecryptAsymmetric { key_id, .. }
            | Self::EncryptSymmetric { key_id, .. }
            | Self::DecryptSymmetric { key_id, .. }
            | Self::GetPublicKey { key_id }
            | Self::KeyExistsAndIsActive { key_id }
            | Self::DeleteKey { key_id }
            | Self::DisableKey { key_id } => Some(key_id),
            Self::GenerateSigningKeyPair { .. }
            | Self::GenerateEncryptionKeyPair { .. }
            | Self::GenerateSymmetricKey { .. } => None,
        }
    }

    /// The name asked for a new key (`generate_*` operations only).
    pub fn key_name(&self) -> Option<&'a str> {
        match *self {
            Self::GenerateSigningKeyPair { name, .. }
            | Self::GenerateEncryptionKeyPair { name, .. }
            | Self::GenerateSymmetricKey { name } => name,
            _ => None,
        }
    }

    /// The length of the input bytes (operations that take bytes only).
    pub fn input_len(&self) -> Option<usize> {
        match *self {
            Self::Sign { len, .. }
            | Self::DecryptAsymmetric { len, .. }
            | Self::EncryptSymmetric { len, .. }
            | Self::DecryptSymmetric { len, .. } => Some(len),
            _ => None,
        }
    }

    /// The quota class of the operation ([`ratelimit`]).
    pub fn class(&self) -> OpClass {
        match self {
            Self::Sign { .. }
            | Self::DecryptAsymmetric { .. }
            | Self::EncryptSymmetric { .. }
            | Self::DecryptSymmetric { .. } => OpClass::Crypto,
            Self::GenerateSigningKeyPair { .. }
            | Self::GenerateEncryptionKeyPair { .. }
            | Self::GenerateSymmetricKey { .. }
            | Self::GetPublicKey { .. }
            | Self::KeyExistsAndIsActive { .. }
            | Self::DeleteKey { .. }
            | Self::DisableKey { .. } => OpClass::KeyManagement,
        }
    }
}

/// The result of an operation, as a layer may look at it: a returned key id, a key spec, a length —
/// never the bytes (signatures, ciphertexts, plaintexts).
pub trait Outcome: Send + 'static {
    /// The key id a `generate_*` operation returned.
    fn key_id(&self) -> Option<&KmsKeyId> {
        None
    }
    /// The spec of a returned public key.
    fn key_spec(&self) -> Option<KmsKeySpec> {
        None
    }
    /// The length of returned bytes.
    fn byte_len(&self) -> Option<usize> {
        None
    }
}

impl Outcome for KmsKeyId {
    fn key_id(&self) -> Option<&KmsKeyId> {
        Some(self)
    }
}

impl Outcome for Vec<u8> {
    fn byte_len(&self) -> Option<usize> {
        Some(self.len())
    }
}

impl Outcome for Zeroizing<Vec<u8>> {
    fn byte_len(&self) -> Option<usize> {
        Some(self.len())
    }
}

impl Outcome for KmsPublicKey {
    fn key_spec(&self) -> Option<KmsKeySpec> {
        Some(self.spec)
    }
}

impl Outcome for () {}

/// The behaviour of one layer, written once for every operation (see the module docs).
pub trait Layer: Send + Sync + 'static {
    /// Run one operation: `next()` runs it on the layer below (it may be called any number of times).
    fn call<'a, T: Outcome>(
        &'a self,
        req: &'a Request<'a>,
        next: Next<'a, T>,
    ) -> impl Future<Output = Result<T>> + Send + 'a;

    /// The health, given the health of the layer below (`next`); the default passes it on.
    fn health<'a>(
        &'a self,
        next: BoxFuture<'a, KmsHealth>,
    ) -> impl Future<Output = KmsHealth> + Send + 'a {
        next
    }
}

/// A driver wrapped in the layer `L`; implements [`KmsDriver`] once for every layer.
pub struct Layered<L> {
    inner: Arc<dyn KmsDriver>,
    layer: L,
}

impl<L: core::fmt::Debug> core::fmt::Debug for Layered<L> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Layered")
            .field("provider", &self.inner.provider())
            .field("layer", &self.layer)
            .finish()
    }
}

impl<L: Layer> Layered<L> {
    /// Wrap `inner` in `layer`.
    pub fn wrap(inner: Arc<dyn KmsDriver>, layer: L) -> Self {
        Self { inner, layer }
    }

    /// The layer.
    pub fn layer(&self) -> &L {
        &self.layer
    }

    /// The driver below.
    pub fn inner(&self) -> &Arc<dyn KmsDriver> {
        &self.inner
    }
}

#[async_trait]
impl<L: Layer> KmsDriver for Layered<L> {
    fn provider(&self) -> &str {
        self.inner.provider()
    }

    async fn health(&self) -> KmsHealth {
        self.layer.health(self.inner.health()).await
    }

    fn supported_signing_key_specs(&self) -> Vec<SigningKeySpec> {
        self.inner.supported_signing_key_specs()
    }

    fn supported_signing_algo_specs(&self) -> Vec<SigningAlgorithmSpec> {
        self.inner.supported_signing_algo_specs()
    }

    fn supported_encryption_key_specs(&self) -> Vec<EncryptionKeySpec> {
        self.inner.supported_encryption_key_specs()
    }

    fn supported_encryption_algo_specs(&self) -> Vec<EncryptionAlgorithmSpec> {
        self.inner.supported_encryption_algo_specs()
    }

    async fn generate_signing_key_pair(
        &self,
        spec: SigningKeySpec,
        name: Option<&str>,
    ) -> Result<KmsKeyId> {
        let req = Request::GenerateSigningKeyPair { spec, name };
        let d = &self.inner;
        let next = || d.generate_signing_key_pair(spec, name);
        self.layer.call(&req, &next).await
    }

    async fn generate_encryption_key_pair(
        &self,
        spec: EncryptionKeySpec,
        name: Option<&str>,
    ) -> Result<KmsKeyId> {
        let req = Request::GenerateEncryptionKeyPair { spec, name };
        let d = &self.inner;
        let next = || d.generate_encryption_key_pair(spec, name);
        self.layer.call(&req, &next).await
    }

    async fn generate_symmetric_key(&self, name: Option<&str>) -> Result<KmsKeyId> {
        let req = Request::GenerateSymmetricKey { name };
        let d = &self.inner;
        let next = || d.generate_symmetric_key(name);
        self.layer.call(&req, &next).await
    }

    async fn sign(
        &self,
        key_id: &KmsKeyId,
        data: &[u8],
        algo: SigningAlgorithmSpec,
    ) -> Result<Vec<u8>> {
        let req = Request::Sign {
            key_id,
            algo,
            len: data.len(),
        };
        let d = &self.inner;
        let next = || d.sign(key_id, data, algo);
        self.layer.call(&req, &next).await
    }

    async fn decrypt_asymmetric(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
        algo: EncryptionAlgorithmSpec,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let req = Request::DecryptAsymmetric {
            key_id,
            algo,
            len: ciphertext.len(),
        };
        let d = &self.inner;
        let next = || d.decrypt_asymmetric(key_id, ciphertext, algo);
        self.layer.call(&req, &next).await
    }

    async fn encrypt_symmetric(&self, key_id: &KmsKeyId, data: &[u8]) -> Result<Vec<u8>> {
        let req = Request::EncryptSymmetric {
            key_id,
            len: data.len(),
        };
        let d = &self.inner;
        let next = || d.encrypt_symmetric(key_id, data);
        self.layer.call(&req, &next).await
    }

    async fn decrypt_symmetric(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let req = Request::DecryptSymmetric {
            key_id,
            len: ciphertext.len(),
        };
        let d = &self.inner;
        let next = || d.decrypt_symmetric(key_id, ciphertext);
        self.layer.call(&req, &next).await
    }

    async fn get_public_key(&self, key_id: &KmsKeyId) -> Result<KmsPublicKey> {
        let req = Request::GetPublicKey { key_id };
        let d = &self.inner;
        let next = || d.get_public_key(key_id);
        self.layer.call(&req, &next).await
    }

    async fn key_exists_and_is_active(&self, key_id: &KmsKeyId) -> Result<()> {
        let req = Request::KeyExistsAndIsActive { key_id };
        let d = &self.inner;
        let next = || d.key_exists_and_is_active(key_id);
        self.layer.call(&req, &next).await
    }

    async fn delete_key(&self, key_id: &KmsKeyId) -> Result<()> {
        let req = Request::DeleteKey { key_id };
        let d = &self.inner;
        let next = || d.delete_key(key_id);
        self.layer.call(&req, &next).await
    }

    async fn disable_key(&self, key_id: &KmsKeyId) -> Result<()> {
        let req = Request::DisableKey { key_id };
        let d = &self.inner;
        let next = || d.disable_key(key_id);
        self.layer.call(&req, &next).await
    }

    async fn close(&self) {
        self.inner.close().await;
    }
}

// --- the stack -------------------------------------------------------------------------------------

/// What [`layered`] stacks on top of the bounds layer, which is always there.
#[derive(Debug, Clone)]
pub struct LayerConfig {
    /// Retry policies; `None` for no retry layer.
    pub retry: Option<RetryConfig>,
    /// Rate limits; `None` for no rate-limiting layer. [`RateLimits::for_provider`] gives the defaults.
    pub rate_limits: Option<RateLimits>,
    /// The audit log (Canton's `audit-logging = true`); `None` for no audit layer.
    pub audit: Option<Arc<AuditLog>>,
    /// Track recent failures in `health` ([`HealthTracking`]).
    pub health_tracking: bool,
}

impl LayerConfig {
    /// Canton's defaults for `driver`'s provider: both retry policies, the provider's rate limits and
    /// health tracking; no audit log (set [`audit`](Self::audit) for `audit-logging = true`).
    pub fn defaults_for(driver: &dyn KmsDriver) -> Self {
        Self {
            retry: Some(RetryConfig::default()),
            rate_limits: Some(RateLimits::for_provider(driver.provider())),
            audit: None,
            health_tracking: true,
        }
    }

    /// Canton's contract and nothing else: the bounds layer only (no retry, no rate limit, no audit,
    /// no health tracking), for callers that want a bare driver that keeps Canton's bounds.
    pub fn minimal() -> Self {
        Self {
            retry: None,
            rate_limits: None,
            audit: None,
            health_tracking: false,
        }
    }

    /// Add an audit log.
    pub fn with_audit(mut self, log: Arc<AuditLog>) -> Self {
        self.audit = Some(log);
        self
    }
}

/// Wrap `driver` in the bounds layer and the layers `config` asks for, in the order of the module docs.
pub fn layered(driver: Arc<dyn KmsDriver>, config: LayerConfig) -> Arc<dyn KmsDriver> {
    let mut d: Arc<dyn KmsDriver> = Arc::new(Bounded::new(driver));
    if config.health_tracking {
        d = Arc::new(HealthTracking::new(d));
    }
    if let Some(log) = config.audit {
        d = Arc::new(Audited::new(d, log));
    }
    if let Some(limits) = config.rate_limits
        && limits != RateLimits::unlimited()
    {
        d = Arc::new(RateLimited::new(d, limits));
    }
    if let Some(retry) = config.retry {
        d = Arc::new(Retrying::new(d, retry));
    }
    d
}

#[cfg(test)]
mod tests;
