//! A retrying layer for any [`KmsDriver`], with Canton's retry semantics and defaults
//! (spec/canton-compat.md §4): only errors that say they are retryable
//! ([`crate::Error::is_retryable`]) are retried; `key_exists_and_is_active` uses the create-key-check
//! policy, every other operation the failures policy.
//!
//! | policy | initial delay | max delay | max retries |
//! |---|---|---|---|
//! | [`RetryPolicy::failures`] | 500 ms | 10 s | unlimited |
//! | [`RetryPolicy::create_key_check`] | 100 ms | 10 s | 20 |
//!
//! **Difference from Canton.** Canton's `Kms.withKmsBackoffRetryPolicyET` passes
//! `Jitter.equal(initialDelay)`, so every wait after the first is `initialDelay/2 + rand[0, initialDelay/2]`
//! and `max-delay` has no effect. Here the backoff is really exponential: the `n`-th wait (from 0) has
//! the ceiling `min(max_delay, initial_delay · 2ⁿ)` and is drawn with "equal jitter" from
//! `[ceiling/2, ceiling]`. The ceilings double until they reach `max_delay`, so the waits grow (each
//! wait's range starts where the previous one's ended) and then stay in `[max_delay/2, max_delay]`.

use std::sync::Arc;
use std::time::Duration;

use super::{Layer, Layered, Next, Outcome, Request};
use crate::error::Result;
use crate::kms::{KmsDriver, KmsKeyId};

/// How to retry one class of operations (Canton's `retries.failures` / `retries.create-key-check`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The ceiling of the first wait.
    pub initial_delay: Duration,
    /// The largest ceiling any wait may have.
    pub max_delay: Duration,
    /// How many retries after the first attempt; `None` retries for as long as the error is retryable.
    pub max_retries: Option<u32>,
}

impl RetryPolicy {
    /// Canton's `retries.failures` default: 500 ms, 10 s, unlimited.
    pub const fn failures() -> Self {
        Self {
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
            max_retries: None,
        }
    }

    /// Canton's `retries.create-key-check` default: 100 ms, 10 s, 20 retries.
    pub const fn create_key_check() -> Self {
        Self {
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            max_retries: Some(20),
        }
    }

    /// A policy that never retries.
    pub const fn none() -> Self {
        Self {
            initial_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
            max_retries: Some(0),
        }
    }

    /// The ceiling of wait number `retry` (0 for the wait before the first retry):
    /// `min(max_delay, initial_delay · 2^retry)`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        self.initial_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// The range `[ceiling/2, ceiling]` wait number `retry` is drawn from.
    pub fn bounds(&self, retry: u32) -> (Duration, Duration) {
        let c = self.ceiling(retry);
        (c / 2, c)
    }

    /// Draw wait number `retry` (equal jitter: `ceiling/2 + rand[0, ceiling/2]`).
    pub fn delay(&self, retry: u32) -> Duration {
        let (lo, hi) = self.bounds(retry);
        let span = hi.saturating_sub(lo).as_nanos() as u64;
        if span == 0 {
            return lo;
        }
        lo + Duration::from_nanos(random_u64() % (span + 1))
    }

    fn may_retry(&self, retries_done: u32) -> bool {
        self.max_retries.is_none_or(|m| retries_done < m)
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::failures()
    }
}

fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    // Jitter needs no cryptographic quality; fall back to the clock if the RNG is unavailable.
    if crate::primitives::random_bytes(&mut b).is_err() {
        return crate::util::now_ms().unsigned_abs();
    }
    u64::from_le_bytes(b)
}

/// Both of Canton's retry policies (`crypto.kms.retries`); `Default` is Canton's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    /// For every operation except `key_exists_and_is_active`.
    pub failures: RetryPolicy,
    /// For `key_exists_and_is_active` (the check after creating a key).
    pub create_key_check: RetryPolicy,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            failures: RetryPolicy::failures(),
            create_key_check: RetryPolicy::create_key_check(),
        }
    }
}

impl RetryConfig {
    /// Both policies given explicitly.
    pub const fn new(failures: RetryPolicy, create_key_check: RetryPolicy) -> Self {
        Self {
            failures,
            create_key_check,
        }
    }
}

/// Run `op` until it succeeds, fails with a non-retryable error, or `policy` runs out of retries;
/// the last error is returned.
pub async fn retry<T, F, Fut>(policy: &RetryPolicy, mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut retries = 0u32;
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if e.is_retryable() && policy.may_retry(retries) => {
                tokio::time::sleep(policy.delay(retries)).await;
                retries = retries.saturating_add(1);
            }
            Err(e) => return Err(e),
        }
    }
}

/// After creating a key in a KMS: wait until it exists and is active (Canton's external-key creation:
/// create, then `keyExistsAndIsActive` under the create-key-check policy). Retryable errors (a key
/// still being generated) are retried; anything else, or running out of retries, is returned.
pub async fn wait_until_active(
    driver: &dyn KmsDriver,
    key_id: &KmsKeyId,
    policy: &RetryPolicy,
) -> Result<()> {
    retry(policy, || driver.key_exists_and_is_active(key_id)).await
}

/// The retrying layer's behaviour (see the module docs): `key_exists_and_is_active` under the
/// create-key-check policy, everything else under the failures policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryLayer {
    config: RetryConfig,
}

impl RetryLayer {
    /// Retry with both policies.
    pub const fn new(config: RetryConfig) -> Self {
        Self { config }
    }

    /// The policies in use.
    pub fn config(&self) -> &RetryConfig {
        &self.config
    }

    /// The policy for `req`.
    pub fn policy(&self, req: &Request<'_>) -> &RetryPolicy {
        match req {
            Request::KeyExistsAndIsActive { .. } => &self.config.create_key_check,
            _ => &self.config.failures,
        }
    }
}

impl Layer for RetryLayer {
    fn call<'a, T: Outcome>(
        &'a self,
        req: &'a Request<'a>,
        next: Next<'a, T>,
    ) -> impl Future<Output = Result<T>> + Send + 'a {
        retry(self.policy(req), next)
    }
}

/// The retrying layer around a driver.
pub type Retrying = Layered<RetryLayer>;

impl Layered<RetryLayer> {
    /// Wrap `inner` with both policies.
    pub fn new(inner: Arc<dyn KmsDriver>, config: RetryConfig) -> Self {
        Self::wrap(inner, RetryLayer::new(config))
    }

    /// The policies in use.
    pub fn config(&self) -> &RetryConfig {
        self.layer().config()
    }
}
