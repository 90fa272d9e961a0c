//! Health for any [`KmsDriver`]:
//!
//! * [`HealthPoller`]: a background task that asks the driver for its health every period (Canton's
//!   `health-check-period`, default 10 s) and keeps the latest answer. A check that panics or does not
//!   answer within the period counts as [`KmsHealth::Failed`] (Canton: a failed health Future is Failed).
//! * [`HealthTracking`]: a layer that watches the outcome of every call going through it and reports
//!   [`KmsHealth::Degraded`] while the most recent calls failed with retryable errors (the KMS is
//!   unreachable or throttling), and the driver's own health again as soon as a call succeeds.
//!   Non-retryable errors (a missing key, a bad argument) say nothing about the KMS and are ignored.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use super::{BoxFuture, Layer, Layered, Next, Outcome, Request};
use crate::error::Result;
use crate::kms::{KmsDriver, KmsHealth};

/// Canton's default `health-check-period`.
pub const DEFAULT_HEALTH_CHECK_PERIOD: Duration = Duration::from_secs(10);

/// A background health poller (see the module docs). Dropping it stops the task.
#[derive(Debug)]
pub struct HealthPoller {
    latest: watch::Receiver<KmsHealth>,
    task: tokio::task::JoinHandle<()>,
    period: Duration,
}

async fn check_once(driver: &Arc<dyn KmsDriver>, period: Duration) -> KmsHealth {
    let d = driver.clone();
    let handle = tokio::spawn(async move { d.health().await });
    match tokio::time::timeout(period, handle).await {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => KmsHealth::Failed(format!("the KMS health check failed: {e}")),
        Err(_) => KmsHealth::Failed(format!(
            "the KMS health check did not answer within {} ms",
            period.as_millis()
        )),
    }
}

impl HealthPoller {
    /// Start polling `driver` every `period` (the first check runs at once). Needs a tokio runtime.
    /// Until the first answer the health is `Failed("not checked yet")`.
    pub fn spawn(driver: Arc<dyn KmsDriver>, period: Duration) -> Self {
        let period = period.max(Duration::from_millis(1));
        let (tx, rx) = watch::channel(KmsHealth::Failed("not checked yet".into()));
        let task = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(period);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let h = check_once(&driver, period).await;
                if tx.send(h).is_err() {
                    return;
                }
            }
        });
        Self {
            latest: rx,
            task,
            period,
        }
    }

    /// Start polling with Canton's default period (10 s).
    pub fn spawn_default(driver: Arc<dyn KmsDriver>) -> Self {
        Self::spawn(driver, DEFAULT_HEALTH_CHECK_PERIOD)
    }

    /// The latest health.
    pub fn latest(&self) -> KmsHealth {
        self.latest.borrow().clone()
    }

    /// A receiver that is notified of every new answer.
    pub fn subscribe(&self) -> watch::Receiver<KmsHealth> {
        self.latest.clone()
    }

    /// The polling period.
    pub fn period(&self) -> Duration {
        self.period
    }
}

impl Drop for HealthPoller {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Debug, Default)]
struct Recent {
    /// Retryable failures since the last success.
    failures: u64,
    last: Option<String>,
}

/// The health-tracking layer's behaviour (see the module docs).
#[derive(Debug, Default)]
pub struct HealthLayer {
    recent: Mutex<Recent>,
}

impl HealthLayer {
    /// A layer that has seen no failure yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many calls failed with a retryable error since the last success.
    pub fn recent_failures(&self) -> u64 {
        self.lock().failures
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recent> {
        match self.recent.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn observe<T>(&self, op: &str, r: &Result<T>) {
        match r {
            Ok(_) => *self.lock() = Recent::default(),
            Err(e) if e.is_retryable() => {
                let mut g = self.lock();
                g.failures = g.failures.saturating_add(1);
                g.last = Some(format!("{op}: {e}"));
            }
            Err(_) => {}
        }
    }
}

impl Layer for HealthLayer {
    async fn call<'a, T: Outcome>(&'a self, req: &'a Request<'a>, next: Next<'a, T>) -> Result<T> {
        let r = next().await;
        self.observe(req.operation(), &r);
        r
    }

    async fn health<'a>(&'a self, next: BoxFuture<'a, KmsHealth>) -> KmsHealth {
        let h = next.await;
        let (n, last) = {
            let g = self.lock();
            (g.failures, g.last.clone())
        };
        match h {
            KmsHealth::Ok if n > 0 => KmsHealth::Degraded(format!(
                "{n} recent KMS call(s) failed with a retryable error; last: {}",
                last.unwrap_or_default()
            )),
            other => other,
        }
    }
}

/// The health-tracking layer around a driver.
pub type HealthTracking = Layered<HealthLayer>;

impl Layered<HealthLayer> {
    /// Wrap `inner`.
    pub fn new(inner: Arc<dyn KmsDriver>) -> Self {
        Self::wrap(inner, HealthLayer::new())
    }

    /// How many calls failed with a retryable error since the last success.
    pub fn recent_failures(&self) -> u64 {
        self.layer().recent_failures()
    }
}
