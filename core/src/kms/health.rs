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

use async_trait::async_trait;
use tokio::sync::watch;
use zeroize::Zeroizing;

use super::{KmsDriver, KmsHealth, KmsKeyId, KmsPublicKey};
use crate::error::Result;
use crate::scheme::{
    EncryptionAlgorithmSpec, EncryptionKeySpec, SigningAlgorithmSpec, SigningKeySpec,
};

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

/// The health-tracking layer (see the module docs).
pub struct HealthTracking {
    inner: Arc<dyn KmsDriver>,
    recent: Mutex<Recent>,
}

impl core::fmt::Debug for HealthTracking {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HealthTracking")
            .field("provider", &self.inner.provider())
            .finish_non_exhaustive()
    }
}

impl HealthTracking {
    /// Wrap `inner`.
    pub fn new(inner: Arc<dyn KmsDriver>) -> Self {
        Self {
            inner,
            recent: Mutex::new(Recent::default()),
        }
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

    fn observe<T>(&self, op: &str, r: Result<T>) -> Result<T> {
        match &r {
            Ok(_) => *self.lock() = Recent::default(),
            Err(e) if e.is_retryable() => {
                let mut g = self.lock();
                g.failures = g.failures.saturating_add(1);
                g.last = Some(format!("{op}: {e}"));
            }
            Err(_) => {}
        }
        r
    }
}

#[async_trait]
impl KmsDriver for HealthTracking {
    fn provider(&self) -> &str {
        self.inner.provider()
    }

    async fn health(&self) -> KmsHealth {
        let h = self.inner.health().await;
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
        let r = self.inner.generate_signing_key_pair(spec, name).await;
        self.observe("generate_signing_key_pair", r)
    }

    async fn generate_encryption_key_pair(
        &self,
        spec: EncryptionKeySpec,
        name: Option<&str>,
    ) -> Result<KmsKeyId> {
        let r = self.inner.generate_encryption_key_pair(spec, name).await;
        self.observe("generate_encryption_key_pair", r)
    }

    async fn generate_symmetric_key(&self, name: Option<&str>) -> Result<KmsKeyId> {
        let r = self.inner.generate_symmetric_key(name).await;
        self.observe("generate_symmetric_key", r)
    }

    async fn sign(
        &self,
        key_id: &KmsKeyId,
        data: &[u8],
        algo: SigningAlgorithmSpec,
    ) -> Result<Vec<u8>> {
        let r = self.inner.sign(key_id, data, algo).await;
        self.observe("sign", r)
    }

    async fn decrypt_asymmetric(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
        algo: EncryptionAlgorithmSpec,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let r = self
            .inner
            .decrypt_asymmetric(key_id, ciphertext, algo)
            .await;
        self.observe("decrypt_asymmetric", r)
    }

    async fn encrypt_symmetric(&self, key_id: &KmsKeyId, data: &[u8]) -> Result<Vec<u8>> {
        let r = self.inner.encrypt_symmetric(key_id, data).await;
        self.observe("encrypt_symmetric", r)
    }

    async fn decrypt_symmetric(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let r = self.inner.decrypt_symmetric(key_id, ciphertext).await;
        self.observe("decrypt_symmetric", r)
    }

    async fn get_public_key(&self, key_id: &KmsKeyId) -> Result<KmsPublicKey> {
        let r = self.inner.get_public_key(key_id).await;
        self.observe("get_public_key", r)
    }

    async fn key_exists_and_is_active(&self, key_id: &KmsKeyId) -> Result<()> {
        let r = self.inner.key_exists_and_is_active(key_id).await;
        self.observe("key_exists_and_is_active", r)
    }

    async fn delete_key(&self, key_id: &KmsKeyId) -> Result<()> {
        let r = self.inner.delete_key(key_id).await;
        self.observe("delete_key", r)
    }

    async fn close(&self) {
        self.inner.close().await;
    }
}
