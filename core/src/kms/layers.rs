//! Stack the driver layers in one call: [`layered`].
//!
//! The stack, outermost first:
//!
//! ```text
//! Retrying ─▶ RateLimited ─▶ Audited ─▶ HealthTracking ─▶ driver
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
//! * **Health tracking innermost.** It sees the outcome of every individual attempt, so the driver reports
//!   `Degraded` while attempts keep failing with retryable errors, even while the retry loop above is
//!   still waiting, and `Ok` as soon as one succeeds.
//!
//! (Stacking audit *outside* retry, `audit(retry(…))`, would log one request per logical call and hide
//! the failed attempts; that is the one order this module avoids.)

use std::sync::Arc;

use super::KmsDriver;
use super::audit::{AuditLog, Audited};
use super::health::HealthTracking;
use super::ratelimit::{RateLimited, RateLimits};
use super::retry::{RetryConfig, Retrying};

/// What [`layered`] stacks.
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

    /// Add an audit log.
    pub fn with_audit(mut self, log: Arc<AuditLog>) -> Self {
        self.audit = Some(log);
        self
    }
}

/// Wrap `driver` in the layers `config` asks for, in the order of the module docs.
pub fn layered(driver: Arc<dyn KmsDriver>, config: LayerConfig) -> Arc<dyn KmsDriver> {
    let mut d = driver;
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
