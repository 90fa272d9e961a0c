//! A client-side rate limiter for any [`KmsDriver`]: one token bucket per operation class, sized to the
//! provider's published request quotas, so a busy node waits (an async sleep) instead of being throttled
//! by the KMS.
//!
//! Operation classes ([`OpClass`]):
//! * [`OpClass::Crypto`]: `sign`, `decrypt_asymmetric`, `encrypt_symmetric`, `decrypt_symmetric`;
//! * [`OpClass::KeyManagement`]: the three `generate_*`, `get_public_key`, `key_exists_and_is_active`
//!   (a describe call) and `delete_key`.
//!
//! `health` and the `supported_*` sets are not limited.
//!
//! Defaults ([`RateLimits::for_provider`]):
//! * `aws`: crypto 300 requests/s — AWS KMS allows 300 ECC and 500 RSA asymmetric requests per second per
//!   account and region by default (spec/perf-anchors.md); a driver cannot know whether a caller mixes the
//!   two, so the lower quota is used. Key management 50 requests/s (conservative).
//! * any other remote provider: crypto 100/s and key management 20/s (conservative; raise them to the
//!   provider's quota with [`RateLimits::new`]).
//! * `software`: no limit (the software KMS has no quota).
//!
//! Each bucket holds up to `burst` tokens and refills at `per_second`; a request that finds no token
//! reserves the next one and sleeps until it is due, so concurrent callers are served in order and spaced
//! `1 / per_second` apart.
//!
//! Time is read from tokio's clock ([`tokio::time::Instant`]), so the limiter follows a paused test clock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::{Layer, Layered, Next, Outcome, Request};
use crate::error::{Error, ErrorKind, Result};
use crate::kms::KmsDriver;

/// A class of operations sharing one quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpClass {
    /// Sign, decrypt, encrypt.
    Crypto,
    /// Create, describe (key check), get public key, delete.
    KeyManagement,
}

/// The rate of one bucket (valid by construction: a positive, finite rate and a burst of at least 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    per_second: f64,
    burst: u32,
}

impl Rate {
    /// `per_second` sustained requests, with up to `burst` at once after a quiet period; a zero,
    /// negative or non-finite rate, or a zero burst, is refused.
    pub fn new(per_second: f64, burst: u32) -> Result<Self> {
        if !(per_second.is_finite() && per_second > 0.0) || burst == 0 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "a KMS rate limit needs a positive, finite rate and a burst of at least 1 \
                     (got {per_second}/s, burst {burst})"
                ),
            ));
        }
        Ok(Self { per_second, burst })
    }

    /// `n` requests per second (at least 1), with a burst of one second's worth.
    pub const fn per_second(n: u32) -> Self {
        let n = if n == 0 { 1 } else { n };
        Self {
            per_second: n as f64,
            burst: n,
        }
    }

    /// Sustained requests per second.
    pub const fn rate(&self) -> f64 {
        self.per_second
    }

    /// The burst size.
    pub const fn burst(&self) -> u32 {
        self.burst
    }
}

/// The limits of each class; `None` means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RateLimits {
    /// Limit for [`OpClass::Crypto`].
    pub crypto: Option<Rate>,
    /// Limit for [`OpClass::KeyManagement`].
    pub key_management: Option<Rate>,
}

impl RateLimits {
    /// Explicit limits.
    pub const fn new(crypto: Option<Rate>, key_management: Option<Rate>) -> Self {
        Self {
            crypto,
            key_management,
        }
    }

    /// No limits.
    pub const fn unlimited() -> Self {
        Self {
            crypto: None,
            key_management: None,
        }
    }

    /// The defaults for a provider name (see the module docs).
    pub fn for_provider(provider: &str) -> Self {
        match provider {
            "software" => Self::unlimited(),
            "aws" => Self::new(Some(Rate::per_second(300)), Some(Rate::per_second(50))),
            _ => Self::new(Some(Rate::per_second(100)), Some(Rate::per_second(20))),
        }
    }
}

/// One token bucket.
#[derive(Debug)]
struct Bucket {
    rate: Rate,
    /// (tokens, when they were counted); tokens go negative when requests are waiting.
    state: Mutex<(f64, Instant)>,
}

impl Bucket {
    fn new(rate: Rate) -> Self {
        Self {
            rate,
            state: Mutex::new((f64::from(rate.burst), Instant::now())),
        }
    }

    /// Take a token; returns how long to wait before using it.
    fn reserve(&self) -> Duration {
        let now = Instant::now();
        let mut st = match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let elapsed = now.saturating_duration_since(st.1).as_secs_f64();
        let tokens = (st.0 + elapsed * self.rate.per_second).min(f64::from(self.rate.burst)) - 1.0;
        *st = (tokens, now);
        if tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-tokens / self.rate.per_second)
        }
    }

    async fn acquire(&self) {
        let wait = self.reserve();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// The rate-limiting layer's behaviour (see the module docs).
#[derive(Debug)]
pub struct RateLimitLayer {
    limits: RateLimits,
    crypto: Option<Bucket>,
    key_management: Option<Bucket>,
}

impl RateLimitLayer {
    /// Limit to `limits`.
    pub fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            crypto: limits.crypto.map(Bucket::new),
            key_management: limits.key_management.map(Bucket::new),
        }
    }

    /// The limits in use.
    pub fn limits(&self) -> &RateLimits {
        &self.limits
    }

    async fn wait(&self, class: OpClass) {
        let bucket = match class {
            OpClass::Crypto => &self.crypto,
            OpClass::KeyManagement => &self.key_management,
        };
        if let Some(b) = bucket {
            b.acquire().await;
        }
    }
}

impl Layer for RateLimitLayer {
    async fn call<'a, T: Outcome>(&'a self, req: &'a Request<'a>, next: Next<'a, T>) -> Result<T> {
        self.wait(req.class()).await;
        next().await
    }
}

/// The rate-limiting layer around a driver.
pub type RateLimited = Layered<RateLimitLayer>;

impl Layered<RateLimitLayer> {
    /// Wrap `inner` with `limits`.
    pub fn new(inner: Arc<dyn KmsDriver>, limits: RateLimits) -> Self {
        Self::wrap(inner, RateLimitLayer::new(limits))
    }

    /// Wrap `inner` with the defaults for its provider ([`RateLimits::for_provider`]).
    pub fn with_provider_defaults(inner: Arc<dyn KmsDriver>) -> Self {
        let limits = RateLimits::for_provider(inner.provider());
        Self::new(inner, limits)
    }

    /// The limits in use.
    pub fn limits(&self) -> &RateLimits {
        self.layer().limits()
    }
}
