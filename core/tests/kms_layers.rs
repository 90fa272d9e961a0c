//! The driver layers (retry, rate limit, health, audit) against the software driver, with a small
//! fault-injecting wrapper driver for the error paths. The layers' timing (backoff delays, rate-limit
//! spacing, the health check's timeout) is checked exactly on tokio's paused clock, against an in-memory
//! driver that does no I/O.
#![cfg(feature = "vault")]

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use base64::Engine as _;
use tokio::sync::watch;
use tokio::time::Instant;
use tresor::audit::{AuditLog, AuditLogConfig, ProblemKind, Rolling, verify_audit_log};
use tresor::kms::health::{HealthPoller, HealthTracking};
use tresor::kms::layers::Audited;
use tresor::kms::ratelimit::{Rate, RateLimited, RateLimits};
use tresor::kms::retry::{RetryConfig, RetryPolicy, Retrying, wait_until_active};
use tresor::kms::software::{MasterKeySource, SoftwareKms};
use tresor::kms::{KmsDriver, KmsHealth, KmsKeyId, KmsPublicKey, LayerConfig, layered};
use tresor::primitives::{Encrypter, Verifier};
use tresor::{
    EncryptionAlgorithmSpec, EncryptionKeySpec, Error, ErrorKind, Result, SigningAlgorithmSpec,
    SigningKeySpec,
};
use zeroize::Zeroizing;

fn tmp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tresor-kms-layers-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

async fn software(dir: &Path) -> Arc<SoftwareKms> {
    Arc::new(
        SoftwareKms::open(
            &dir.join("kms.db"),
            MasterKeySource::Passphrase("layers".to_string().into()),
        )
        .await
        .expect("open the software KMS"),
    )
}

// --- an in-memory driver ----------------------------------------------------------------------------

/// A driver that answers at once from memory and does no I/O. The layers' timing is tested on tokio's
/// paused clock, which jumps to the next timer whenever the runtime has nothing to run: with a driver
/// doing I/O it could jump while a request is in flight. These tests check when calls are made, not
/// what they return: signatures are a fixed byte string, encryption returns its input, and there are no
/// public keys.
struct InMemory;

const IN_MEMORY_SIGNATURE: &[u8] = b"in-memory signature";

#[async_trait]
impl KmsDriver for InMemory {
    fn provider(&self) -> &str {
        "in-memory"
    }
    async fn health(&self) -> KmsHealth {
        KmsHealth::Ok
    }
    fn supported_signing_key_specs(&self) -> Vec<SigningKeySpec> {
        vec![SigningKeySpec::EcP256]
    }
    fn supported_signing_algo_specs(&self) -> Vec<SigningAlgorithmSpec> {
        vec![SigningAlgorithmSpec::EcDsaSha256]
    }
    fn supported_encryption_key_specs(&self) -> Vec<EncryptionKeySpec> {
        Vec::new()
    }
    fn supported_encryption_algo_specs(&self) -> Vec<EncryptionAlgorithmSpec> {
        Vec::new()
    }
    async fn generate_signing_key_pair(
        &self,
        _spec: SigningKeySpec,
        _name: Option<&str>,
    ) -> Result<KmsKeyId> {
        KmsKeyId::new("mem-signing")
    }
    async fn generate_encryption_key_pair(
        &self,
        _spec: EncryptionKeySpec,
        _name: Option<&str>,
    ) -> Result<KmsKeyId> {
        KmsKeyId::new("mem-encryption")
    }
    async fn generate_symmetric_key(&self, _name: Option<&str>) -> Result<KmsKeyId> {
        KmsKeyId::new("mem-symmetric")
    }
    async fn sign(
        &self,
        _key_id: &KmsKeyId,
        _data: &[u8],
        _algo: SigningAlgorithmSpec,
    ) -> Result<Vec<u8>> {
        Ok(IN_MEMORY_SIGNATURE.to_vec())
    }
    async fn decrypt_asymmetric(
        &self,
        _key_id: &KmsKeyId,
        ciphertext: &[u8],
        _algo: EncryptionAlgorithmSpec,
    ) -> Result<Zeroizing<Vec<u8>>> {
        Ok(Zeroizing::new(ciphertext.to_vec()))
    }
    async fn encrypt_symmetric(&self, _key_id: &KmsKeyId, data: &[u8]) -> Result<Vec<u8>> {
        Ok(data.to_vec())
    }
    async fn decrypt_symmetric(
        &self,
        _key_id: &KmsKeyId,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        Ok(Zeroizing::new(ciphertext.to_vec()))
    }
    async fn get_public_key(&self, _key_id: &KmsKeyId) -> Result<KmsPublicKey> {
        Err(Error::new(
            ErrorKind::KmsKeyNotFound,
            "the in-memory test driver keeps no public keys",
        ))
    }
    async fn key_exists_and_is_active(&self, _key_id: &KmsKeyId) -> Result<()> {
        Ok(())
    }
    async fn delete_key(&self, _key_id: &KmsKeyId) -> Result<()> {
        Ok(())
    }
}

// --- a fault-injecting wrapper ---------------------------------------------------------------------

#[derive(Debug, Clone)]
enum HealthOverride {
    None,
    Value(KmsHealth),
    Hang,
}

/// Delegates to another driver, but first fails with the queued error kinds (one per call) and records
/// when each call was made (on tokio's clock).
struct Faulty {
    inner: Arc<dyn KmsDriver>,
    plan: Mutex<VecDeque<ErrorKind>>,
    calls: AtomicU64,
    times: Mutex<Vec<Instant>>,
    health: Mutex<HealthOverride>,
}

impl Faulty {
    fn new(inner: Arc<dyn KmsDriver>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            plan: Mutex::new(VecDeque::new()),
            calls: AtomicU64::new(0),
            times: Mutex::new(Vec::new()),
            health: Mutex::new(HealthOverride::None),
        })
    }

    fn fail_next(&self, kind: ErrorKind, times: usize) {
        let mut p = self.plan.lock().expect("lock");
        for _ in 0..times {
            p.push_back(kind);
        }
    }

    fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    fn reset(&self) {
        self.calls.store(0, Ordering::SeqCst);
        self.times.lock().expect("lock").clear();
        self.plan.lock().expect("lock").clear();
    }

    fn gaps(&self) -> Vec<Duration> {
        let t = self.times.lock().expect("lock");
        t.windows(2).map(|w| w[1] - w[0]).collect()
    }

    fn enter(&self) -> Result<()> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.times.lock().expect("lock").push(Instant::now());
        match self.plan.lock().expect("lock").pop_front() {
            Some(kind) => Err(Error::new(kind, "injected fault")),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl KmsDriver for Faulty {
    fn provider(&self) -> &str {
        "faulty"
    }
    async fn health(&self) -> KmsHealth {
        let o = self.health.lock().expect("lock").clone();
        match o {
            HealthOverride::None => self.inner.health().await,
            HealthOverride::Value(h) => h,
            HealthOverride::Hang => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                KmsHealth::Ok
            }
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
        self.enter()?;
        self.inner.generate_signing_key_pair(spec, name).await
    }
    async fn generate_encryption_key_pair(
        &self,
        spec: EncryptionKeySpec,
        name: Option<&str>,
    ) -> Result<KmsKeyId> {
        self.enter()?;
        self.inner.generate_encryption_key_pair(spec, name).await
    }
    async fn generate_symmetric_key(&self, name: Option<&str>) -> Result<KmsKeyId> {
        self.enter()?;
        self.inner.generate_symmetric_key(name).await
    }
    async fn sign(
        &self,
        key_id: &KmsKeyId,
        data: &[u8],
        algo: SigningAlgorithmSpec,
    ) -> Result<Vec<u8>> {
        self.enter()?;
        self.inner.sign(key_id, data, algo).await
    }
    async fn decrypt_asymmetric(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
        algo: EncryptionAlgorithmSpec,
    ) -> Result<Zeroizing<Vec<u8>>> {
        self.enter()?;
        self.inner
            .decrypt_asymmetric(key_id, ciphertext, algo)
            .await
    }
    async fn encrypt_symmetric(&self, key_id: &KmsKeyId, data: &[u8]) -> Result<Vec<u8>> {
        self.enter()?;
        self.inner.encrypt_symmetric(key_id, data).await
    }
    async fn decrypt_symmetric(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        self.enter()?;
        self.inner.decrypt_symmetric(key_id, ciphertext).await
    }
    async fn get_public_key(&self, key_id: &KmsKeyId) -> Result<KmsPublicKey> {
        self.enter()?;
        self.inner.get_public_key(key_id).await
    }
    async fn key_exists_and_is_active(&self, key_id: &KmsKeyId) -> Result<()> {
        self.enter()?;
        self.inner.key_exists_and_is_active(key_id).await
    }
    async fn delete_key(&self, key_id: &KmsKeyId) -> Result<()> {
        self.enter()?;
        self.inner.delete_key(key_id).await
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// --- retry -----------------------------------------------------------------------------------------

#[test]
fn retry_policy_defaults_and_backoff_bounds() {
    let f = RetryPolicy::failures();
    assert_eq!(
        (f.initial_delay, f.max_delay, f.max_retries),
        (ms(500), ms(10_000), None)
    );
    let c = RetryPolicy::create_key_check();
    assert_eq!(
        (c.initial_delay, c.max_delay, c.max_retries),
        (ms(100), ms(10_000), Some(20))
    );
    assert_eq!(RetryConfig::default().failures, f);
    assert_eq!(RetryConfig::default().create_key_check, c);

    // Unlike Canton's quirk (every wait capped at the initial delay), the ceilings grow to max_delay.
    let p = RetryPolicy {
        initial_delay: ms(500),
        max_delay: ms(10_000),
        max_retries: None,
    };
    let ceilings: Vec<u128> = (0..8).map(|n| p.ceiling(n).as_millis()).collect();
    assert_eq!(
        ceilings,
        [500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]
    );
    assert_eq!(p.ceiling(200), ms(10_000));
    let mut top = Duration::ZERO;
    for n in 0..12 {
        let (lo, hi) = p.bounds(n);
        for _ in 0..50 {
            let d = p.delay(n);
            assert!(
                d >= lo && d <= hi,
                "wait {n}: {d:?} outside [{lo:?}, {hi:?}]"
            );
            top = top.max(d);
        }
    }
    assert!(
        top > ms(9_000),
        "the waits reach max_delay (largest {top:?})"
    );
}

/// On the paused clock each wait is exactly what the policy drew: within `[ceiling/2, ceiling]` of
/// its retry number (the timer's millisecond ticks keep it at most at the whole-millisecond ceiling).
#[tokio::test(start_paused = true)]
async fn retryable_errors_are_retried_with_growing_delays() {
    let faulty = Faulty::new(Arc::new(InMemory));
    let policy = RetryPolicy {
        initial_delay: ms(20),
        max_delay: ms(80),
        max_retries: None,
    };
    let d = Retrying::new(
        faulty.clone(),
        RetryConfig::new(policy, RetryPolicy::none()),
    );
    let key = KmsKeyId::new("mem-signing").expect("id");
    faulty.fail_next(ErrorKind::KmsUnavailable, 3);
    faulty.fail_next(ErrorKind::KmsThrottled, 3);
    let started = Instant::now();
    let sig = d
        .sign(&key, b"retry me", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect("succeeds after the faults");
    assert_eq!(sig, IN_MEMORY_SIGNATURE, "the inner driver's answer");
    assert_eq!(faulty.calls(), 7, "6 faults, then the real call");
    let gaps = faulty.gaps();
    assert_eq!(gaps.len(), 6);
    // Ceilings 20, 40, 80, 80, 80, 80 ms: the waits are drawn from [10, 20], [20, 40], then [40, 80]
    // (so they grow until the ceiling reaches max_delay).
    let want = [(10, 20), (20, 40), (40, 80), (40, 80), (40, 80), (40, 80)];
    for (n, (g, (lo, hi))) in gaps.iter().zip(want).enumerate() {
        assert_eq!(policy.bounds(n as u32), (ms(lo), ms(hi)));
        assert!(
            ms(lo) <= *g && *g <= ms(hi),
            "wait {n} was {g:?}, outside [{lo}, {hi}] ms: {gaps:?}"
        );
    }
    assert_eq!(
        started.elapsed(),
        gaps.iter().sum::<Duration>(),
        "no time passes but the backoff waits"
    );
}

#[tokio::test]
async fn a_retried_call_returns_the_software_drivers_answer() {
    let dir = tmp_dir("retry-real");
    let soft = software(&dir).await;
    let key = soft
        .generate_signing_key_pair(SigningKeySpec::EcP256, None)
        .await
        .expect("gen");
    let faulty = Faulty::new(soft.clone());
    let policy = RetryPolicy {
        initial_delay: ms(1),
        max_delay: ms(2),
        max_retries: None,
    };
    let d = Retrying::new(
        faulty.clone(),
        RetryConfig::new(policy, RetryPolicy::none()),
    );
    faulty.fail_next(ErrorKind::KmsUnavailable, 1);
    faulty.fail_next(ErrorKind::KmsThrottled, 1);
    let before = soft.call_counts()["sign"];
    let sig = d
        .sign(&key, b"retry me", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect("succeeds after the faults");
    assert_eq!(faulty.calls(), 3, "2 faults, then the real call");
    assert_eq!(soft.call_counts()["sign"] - before, 1);
    let pk = soft.get_public_key(&key).await.expect("pk");
    Verifier::new(pk.key)
        .expect("verifier")
        .verify(SigningAlgorithmSpec::EcDsaSha256, b"retry me", &sig)
        .expect("a real signature");
    let _ = std::fs::remove_dir_all(dir);
}

/// On the paused clock no time passes at all unless a layer waits: a backoff wait (the first would be
/// at least 250 ms) would show.
#[tokio::test(start_paused = true)]
async fn non_retryable_errors_are_surfaced_at_once() {
    let faulty = Faulty::new(Arc::new(InMemory));
    let d = Retrying::new(faulty.clone(), RetryConfig::default());
    let key = d
        .generate_symmetric_key(None)
        .await
        .expect("generate through the layer");
    faulty.reset();
    faulty.fail_next(ErrorKind::KmsKeyDisabled, 1);
    let started = Instant::now();
    let e = d.encrypt_symmetric(&key, b"x").await.expect_err("fails");
    assert_eq!(e.kind(), ErrorKind::KmsKeyDisabled);
    assert_eq!(faulty.calls(), 1);
    assert_eq!(started.elapsed(), Duration::ZERO, "no backoff wait");
}

#[tokio::test]
async fn a_missing_key_in_the_software_driver_is_not_retried() {
    let dir = tmp_dir("retry-nonretryable");
    let soft = software(&dir).await;
    let d = Retrying::new(soft.clone(), RetryConfig::default());
    let before = soft.call_counts()["sign"];
    let missing = KmsKeyId::new("soft-missing").expect("id");
    let e = d
        .sign(&missing, b"x", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect_err("missing key");
    assert_eq!(e.kind(), ErrorKind::KmsKeyNotFound);
    assert_eq!(soft.call_counts()["sign"] - before, 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn max_retries_is_respected() {
    let dir = tmp_dir("retry-max");
    let soft = software(&dir).await;
    let faulty = Faulty::new(soft.clone());
    let policy = RetryPolicy {
        initial_delay: ms(1),
        max_delay: ms(4),
        max_retries: Some(3),
    };
    let d = Retrying::new(faulty.clone(), RetryConfig::new(policy, policy));
    faulty.fail_next(ErrorKind::KmsThrottled, 100);
    let e = d.generate_symmetric_key(None).await.expect_err("gives up");
    assert_eq!(e.kind(), ErrorKind::KmsThrottled);
    assert_eq!(faulty.calls(), 4, "one attempt and 3 retries");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn key_check_uses_the_create_key_check_policy() {
    let dir = tmp_dir("retry-keycheck");
    let soft = software(&dir).await;
    let key = soft
        .generate_signing_key_pair(SigningKeySpec::EcP256, None)
        .await
        .expect("gen");
    let faulty = Faulty::new(soft.clone());
    let key_check = RetryPolicy {
        initial_delay: ms(1),
        max_delay: ms(2),
        max_retries: Some(5),
    };
    let d = Retrying::new(
        faulty.clone(),
        RetryConfig::new(RetryPolicy::none(), key_check),
    );
    faulty.fail_next(ErrorKind::KmsUnavailable, 100);
    let e = d
        .key_exists_and_is_active(&key)
        .await
        .expect_err("gives up");
    assert_eq!(e.kind(), ErrorKind::KmsUnavailable);
    assert_eq!(faulty.calls(), 6, "create-key-check: 1 + 5 retries");
    faulty.reset();
    faulty.fail_next(ErrorKind::KmsUnavailable, 100);
    let e = d.get_public_key(&key).await.expect_err("no retry");
    assert_eq!(e.kind(), ErrorKind::KmsUnavailable);
    assert_eq!(
        faulty.calls(),
        1,
        "failures policy (no retries here) for everything else"
    );

    // wait_until_active: a key still being created answers retryably for a while, then is active.
    faulty.reset();
    faulty.fail_next(ErrorKind::KmsUnavailable, 3);
    wait_until_active(faulty.as_ref(), &key, &key_check)
        .await
        .expect("active after 3 retryable answers");
    assert_eq!(faulty.calls(), 4);
    // A disabled key is not waited for.
    soft.set_key_state(&key, tresor::kms::software::KeyState::Disabled)
        .await
        .expect("disable");
    faulty.reset();
    let e = wait_until_active(faulty.as_ref(), &key, &RetryPolicy::create_key_check())
        .await
        .expect_err("disabled");
    assert_eq!(e.kind(), ErrorKind::KmsKeyDisabled);
    assert_eq!(faulty.calls(), 1);
    let _ = std::fs::remove_dir_all(dir);
}

// --- rate limiting ---------------------------------------------------------------------------------

/// On the paused clock requests reach the driver exactly `1 / rate` apart.
#[tokio::test(start_paused = true)]
async fn rate_limiter_spaces_requests() {
    let faulty = Faulty::new(Arc::new(InMemory));
    let key = KmsKeyId::new("mem-symmetric").expect("id");
    let limits = RateLimits::new(Some(Rate::new(20.0, 1).expect("rate")), None);
    let d = Arc::new(RateLimited::new(faulty.clone(), limits));
    let started = Instant::now();
    for _ in 0..7 {
        d.encrypt_symmetric(&key, b"spaced").await.expect("encrypt");
    }
    // 7 requests at 20/s with a burst of 1: the first at once, then one every 50 ms.
    assert_eq!(faulty.gaps(), [ms(50); 6]);
    assert_eq!(started.elapsed(), ms(300));

    // Concurrent callers are spaced too: 5 at once, right after the previous ones, are served 50 ms
    // after the last one and 50 ms apart.
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let d = d.clone();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            d.encrypt_symmetric(&key, b"spaced").await.map(|_| ())
        }));
    }
    for t in tasks {
        t.await.expect("join").expect("encrypt");
    }
    assert_eq!(faulty.calls(), 12);
    assert_eq!(faulty.gaps(), [ms(50); 11]);
    assert_eq!(started.elapsed(), ms(550));

    // Key management is another class (unlimited here): not held up by the crypto bucket, which is
    // empty now (a crypto request would wait 50 ms).
    let started = Instant::now();
    for _ in 0..5 {
        d.key_exists_and_is_active(&key).await.expect("active");
    }
    assert_eq!(faulty.calls(), 17);
    assert_eq!(started.elapsed(), Duration::ZERO);
    d.encrypt_symmetric(&key, b"spaced").await.expect("encrypt");
    assert_eq!(started.elapsed(), ms(50), "the crypto bucket was empty");

    assert!(
        Rate::new(0.0, 1).is_err() && Rate::new(f64::NAN, 1).is_err() && Rate::new(5.0, 0).is_err()
    );
    assert_eq!(Rate::per_second(0).rate(), 1.0);
    assert_eq!(
        RateLimits::for_provider("aws").crypto,
        Some(Rate::per_second(300))
    );
    assert_eq!(
        RateLimits::for_provider("software"),
        RateLimits::unlimited()
    );
    assert!(RateLimits::for_provider("gcp").crypto.is_some());
}

// --- health ----------------------------------------------------------------------------------------

#[tokio::test]
async fn health_tracking_degrades_and_recovers() {
    let dir = tmp_dir("health");
    let soft = software(&dir).await;
    let key = soft.generate_symmetric_key(None).await.expect("gen");
    let faulty = Faulty::new(soft.clone());
    let d = HealthTracking::new(faulty.clone());
    assert_eq!(d.health().await, KmsHealth::Ok);
    faulty.fail_next(ErrorKind::KmsUnavailable, 2);
    assert!(d.encrypt_symmetric(&key, b"x").await.is_err());
    assert!(d.encrypt_symmetric(&key, b"x").await.is_err());
    match d.health().await {
        KmsHealth::Degraded(reason) => {
            assert!(reason.contains("2 recent"), "{reason}");
            assert!(reason.contains("encrypt_symmetric"), "{reason}");
        }
        other => panic!("expected Degraded, got {other:?}"),
    }
    d.encrypt_symmetric(&key, b"x").await.expect("works again");
    assert_eq!(d.health().await, KmsHealth::Ok);
    // Non-retryable errors say nothing about the KMS's health.
    let missing = KmsKeyId::new("soft-missing").expect("id");
    assert!(d.encrypt_symmetric(&missing, b"x").await.is_err());
    assert_eq!(d.health().await, KmsHealth::Ok);
    // A driver that reports Failed itself is reported as Failed.
    *faulty.health.lock().expect("lock") = HealthOverride::Value(KmsHealth::Failed("down".into()));
    assert_eq!(d.health().await, KmsHealth::Failed("down".into()));
    let _ = std::fs::remove_dir_all(dir);
}

/// The poller's next answer that satisfies `want`, and when it was given (ms after `t0`). Gives up
/// after 10 s on the (paused) clock, so a poller that never answers so fails instead of running forever.
async fn next_health(
    rx: &mut watch::Receiver<KmsHealth>,
    t0: Instant,
    want: impl Fn(&KmsHealth) -> bool,
) -> (KmsHealth, u128) {
    let wait = async {
        loop {
            rx.changed().await.expect("the poller is running");
            let h = rx.borrow_and_update().clone();
            if want(&h) {
                return (h, t0.elapsed().as_millis());
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .unwrap_or_else(|_| {
            panic!(
                "no such health answer within 10 s; latest {:?}",
                rx.borrow()
            )
        })
}

/// On the paused clock the poller checks exactly every period (30 ms: at 0, 30, 60, … ms), and a check
/// that does not answer is reported as Failed exactly one period after it began.
#[tokio::test(start_paused = true)]
async fn health_poller_keeps_the_latest_health() {
    let faulty = Faulty::new(Arc::new(InMemory));
    let tracking = Arc::new(HealthTracking::new(faulty.clone()));
    let key = KmsKeyId::new("mem-symmetric").expect("id");
    let t0 = Instant::now();
    let poller = HealthPoller::spawn(tracking.clone(), ms(30));
    let mut rx = poller.subscribe();
    assert_eq!(poller.period(), ms(30));
    assert_eq!(
        next_health(&mut rx, t0, |h| *h == KmsHealth::Ok).await,
        (KmsHealth::Ok, 0),
        "the first check runs at once"
    );
    // Retryable failures seen by the tracking layer show up in the next polled health.
    faulty.fail_next(ErrorKind::KmsUnavailable, 1);
    assert!(tracking.encrypt_symmetric(&key, b"x").await.is_err());
    let (h, at) = next_health(&mut rx, t0, |_| true).await;
    assert!(matches!(h, KmsHealth::Degraded(_)), "{h:?}");
    assert_eq!(at, 30);
    tracking.encrypt_symmetric(&key, b"x").await.expect("ok");
    assert_eq!(
        next_health(&mut rx, t0, |_| true).await,
        (KmsHealth::Ok, 60)
    );
    // A health check that does not answer counts as Failed: the check at 90 ms times out at 120 ms.
    *faulty.health.lock().expect("lock") = HealthOverride::Hang;
    let (h, at) = next_health(&mut rx, t0, |_| true).await;
    assert_eq!(
        h,
        KmsHealth::Failed("the KMS health check did not answer within 30 ms".into())
    );
    assert_eq!(at, 120);
    // The check begun at 120 ms still hangs (it is answered Failed at 150 ms); the next one, at once
    // after it, answers again.
    tokio::time::sleep_until(t0 + ms(130)).await;
    *faulty.health.lock().expect("lock") = HealthOverride::None;
    assert_eq!(
        next_health(&mut rx, t0, |h| *h == KmsHealth::Ok).await,
        (KmsHealth::Ok, 150)
    );
    drop(poller);
}

// --- audit -----------------------------------------------------------------------------------------

/// Lines of a log: (timestamp, level, message).
fn log_lines(path: &Path) -> Vec<(String, String, String)> {
    std::fs::read_to_string(path)
        .expect("read log")
        .lines()
        .map(|l| {
            let (ts, rest) = l.split_once(' ').expect("ts");
            let (level, rest) = rest.split_once(' ').expect("level");
            let (msg, chain) = rest.rsplit_once(" chain=").expect("chain");
            assert_eq!(chain.len(), 64, "{l}");
            assert!(chain.bytes().all(|b| b.is_ascii_hexdigit()), "{l}");
            let (msg, seq) = msg.rsplit_once(" seq=").expect("seq");
            seq.parse::<u64>().expect("seq number");
            // RFC 3339 UTC with milliseconds: 2026-01-31T12:00:00.123Z
            assert_eq!(ts.len(), 24, "{ts}");
            assert!(ts.ends_with('Z') && &ts[10..11] == "T", "{ts}");
            (ts.to_string(), level.to_string(), msg.to_string())
        })
        .collect()
}

/// The request id of a `Sending request [<id>]: ...` message and the rest.
fn sending(msg: &str) -> Option<(&str, &str)> {
    let rest = msg.strip_prefix("Sending request [")?;
    let (id, rest) = rest.split_once("]: ")?;
    Some((id, rest))
}

fn contains_bytes(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn audit_log_follows_cantons_templates_and_redacts() {
    let dir = tmp_dir("audit");
    let soft = software(&dir).await;
    let log_path = dir.join("kms-audit.log");
    let log = Arc::new(AuditLog::open(AuditLogConfig::new(&log_path)).expect("open log"));
    let d = Audited::new(soft.clone(), log.clone());

    let mut secrets: Vec<Vec<u8>> = Vec::new();
    let sk = d
        .generate_signing_key_pair(SigningKeySpec::EcP256, Some("audit-signing"))
        .await
        .expect("gen signing");
    let spk = d.get_public_key(&sk).await.expect("pk");
    secrets.push(spk.key.spki_der().to_vec());
    secrets.push(spk.key.raw());
    let message = b"audit message 9f3c1a7e5b2d4c6e8a0b".to_vec();
    let sig = d
        .sign(&sk, &message, SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect("sign");
    secrets.push(message.clone());
    secrets.push(sig);

    let ek = d
        .generate_encryption_key_pair(EncryptionKeySpec::EcP256, None)
        .await
        .expect("gen enc");
    let epk = d.get_public_key(&ek).await.expect("pk");
    secrets.push(epk.key.spki_der().to_vec());
    secrets.push(epk.key.raw());
    let pt = b"asymmetric plaintext 0c4f2e9a71d3".to_vec();
    let algo = EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Cbc;
    let ct = Encrypter::new(epk.key.clone())
        .expect("encrypter")
        .encrypt(algo, &pt)
        .expect("encrypt");
    let opened = d.decrypt_asymmetric(&ek, &ct, algo).await.expect("decrypt");
    assert_eq!(opened.as_slice(), pt.as_slice());
    secrets.push(pt);
    secrets.push(ct);

    let symk = d.generate_symmetric_key(None).await.expect("gen sym");
    let spt = b"symmetric plaintext 7b1e5d3c9a2f".to_vec();
    let sct = d.encrypt_symmetric(&symk, &spt).await.expect("encrypt");
    let back = d.decrypt_symmetric(&symk, &sct).await.expect("decrypt");
    assert_eq!(back.as_slice(), spt.as_slice());
    secrets.push(spt);
    secrets.push(sct);
    d.key_exists_and_is_active(&symk).await.expect("active");
    d.delete_key(&symk).await.expect("delete");
    let missing = KmsKeyId::new("soft-missing").expect("id");
    let e = d
        .sign(&missing, &message, SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect_err("missing key");
    assert_eq!(e.kind(), ErrorKind::KmsKeyNotFound);
    drop(d);
    log.flush().expect("flush");

    let lines = log_lines(&log_path);
    assert!(
        lines[0]
            .2
            .starts_with("Audit log file started; previous chain=")
    );
    // Every request is followed by its response (or WARN) with the same id.
    let mut pairs = Vec::new();
    let mut i = 1;
    while i < lines.len() {
        let (level, msg) = (&lines[i].1, &lines[i].2);
        assert_eq!(level, "INFO");
        let (id, request) = sending(msg).unwrap_or_else(|| panic!("not a request: {msg}"));
        assert_eq!(id.len(), 36, "a UUID: {id}");
        let (level2, msg2) = (&lines[i + 1].1, &lines[i + 1].2);
        let response = if level2 == "INFO" {
            let p = format!("Received response [{id}]: [-] - ");
            msg2.strip_prefix(&p)
                .unwrap_or_else(|| panic!("not the response to {id}: {msg2}"))
                .to_string()
        } else {
            assert_eq!(level2, "WARN");
            let p = format!("Request [{id}] failed. Response: ");
            assert!(msg2.starts_with(&p), "{msg2}");
            format!("WARN {}", &msg2[p.len()..])
        };
        pairs.push((request.to_string(), response));
        i += 2;
    }
    let want = [
        (
            "CreateKeyRequest(KeyPurpose=SIGN_VERIFY, KeyScheme=EcP256)".to_string(),
            format!("CreateKeyResponse(KeyId={sk}, KeyPurpose=SIGN_VERIFY, KeyScheme=EcP256)"),
        ),
        (
            format!("GetPublicKeyRequest(KeyId={sk})"),
            format!(
                "GetPublicKeyResponse(KeyId={sk}, PublicKey=** Public key text placeholder **, KeyScheme=EcP256)"
            ),
        ),
        (
            format!(
                "SignRequest(KeyId={sk}, Message=** Sign message text placeholder **, MessageType=RAW, SigningAlgorithm=EcDsaSha256)"
            ),
            format!(
                "SignResponse(KeyId={sk}, Signature=** Signature message text placeholder **, SigningAlgorithm=EcDsaSha256)"
            ),
        ),
        (
            "CreateKeyRequest(KeyPurpose=ENCRYPT_DECRYPT, KeyScheme=EcP256)".to_string(),
            format!("CreateKeyResponse(KeyId={ek}, KeyPurpose=ENCRYPT_DECRYPT, KeyScheme=EcP256)"),
        ),
        (
            format!("GetPublicKeyRequest(KeyId={ek})"),
            format!(
                "GetPublicKeyResponse(KeyId={ek}, PublicKey=** Public key text placeholder **, KeyScheme=EcP256)"
            ),
        ),
        (
            format!(
                "DecryptRequest(CiphertextBlob=** Ciphertext placeholder **, KeyId={ek}, EncryptionAlgorithm={algo:?})"
            ),
            format!(
                "DecryptResponse(KeyId={ek}, Plaintext=** Redacted plaintext placeholder **, EncryptionAlgorithm={algo:?})"
            ),
        ),
        (
            "CreateKeyRequest(KeyPurpose=ENCRYPT_DECRYPT, KeyScheme=SYMMETRIC_DEFAULT)".to_string(),
            format!(
                "CreateKeyResponse(KeyId={symk}, KeyPurpose=ENCRYPT_DECRYPT, KeyScheme=SYMMETRIC_DEFAULT)"
            ),
        ),
        (
            format!(
                "EncryptRequest(Plaintext=** Redacted plaintext placeholder **, KeyId={symk}, EncryptionAlgorithm=SYMMETRIC_DEFAULT)"
            ),
            format!(
                "EncryptResponse(CiphertextBlob=** Ciphertext placeholder **, KeyId={symk}, EncryptionAlgorithm=SYMMETRIC_DEFAULT)"
            ),
        ),
        (
            format!(
                "DecryptRequest(CiphertextBlob=** Ciphertext placeholder **, KeyId={symk}, EncryptionAlgorithm=SYMMETRIC_DEFAULT)"
            ),
            format!(
                "DecryptResponse(KeyId={symk}, Plaintext=** Redacted plaintext placeholder **, EncryptionAlgorithm=SYMMETRIC_DEFAULT)"
            ),
        ),
        (
            format!("RetrieveMetadataRequest(KeyId={symk})"),
            format!(
                "RetrieveMetadataResponse(KeyId={symk}, Metadata=Metadata[KeyScheme: -, State: ENABLED, ** Rest of metadata placeholder **])"
            ),
        ),
        (
            format!("DeleteKeyRequest(KeyId={symk})"),
            format!("DeleteKeyResponse(KeyId={symk})"),
        ),
    ];
    assert_eq!(pairs.len(), want.len() + 1);
    for (got, want) in pairs.iter().zip(want.iter()) {
        assert_eq!(got.0, want.0);
        assert_eq!(got.1, want.1);
    }
    let (req, warn) = &pairs[want.len()];
    assert!(req.starts_with(
        "SignRequest(KeyId=soft-missing, Message=** Sign message text placeholder **"
    ));
    assert!(
        warn.starts_with("WARN ") && warn.contains("kms_key_not_found"),
        "{warn}"
    );

    // No secret in any encoding.
    let raw = std::fs::read(&log_path).expect("read");
    let text = String::from_utf8(raw.clone()).expect("utf-8");
    assert!(secrets.len() >= 10);
    for s in &secrets {
        assert!(s.len() >= 16);
        assert!(!contains_bytes(&raw, s), "raw bytes in the log");
        for enc in [
            hex::encode(s),
            hex::encode_upper(s),
            base64::engine::general_purpose::STANDARD.encode(s),
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(s),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s),
        ] {
            assert!(
                !text.contains(&enc),
                "an encoding of a secret is in the log: {enc}"
            );
        }
        // Nor a 12-byte window of it in hex (a partial dump).
        for w in s.windows(12).step_by(6) {
            assert!(
                !text.contains(&hex::encode(w)),
                "a piece of a secret is in the log"
            );
        }
    }
    assert!(text.contains("** Sign message text placeholder **"));

    let r = verify_audit_log(&log_path).expect("verify");
    assert!(r.is_intact(), "{:?}", r.problem);
    assert_eq!(r.lines as usize, lines.len());
    let _ = std::fs::remove_dir_all(dir);
}

fn write_lines(log: &AuditLog, from: usize, n: usize) {
    for i in from..from + n {
        log.info(&format!("Sending request [{i}]: test line {i}"))
            .expect("write");
    }
}

fn rewrite(path: &Path, f: impl FnOnce(&mut Vec<String>)) {
    let mut lines: Vec<String> = std::fs::read_to_string(path)
        .expect("read")
        .lines()
        .map(str::to_string)
        .collect();
    f(&mut lines);
    std::fs::write(path, lines.join("\n") + "\n").expect("write");
}

#[test]
fn verify_catches_edits_removals_and_reorderings() {
    let dir = tmp_dir("verify");
    let path = dir.join("audit.log");
    {
        let log = AuditLog::open(AuditLogConfig::new(&path)).expect("open");
        write_lines(&log, 0, 5);
    }
    {
        // Re-opened (a new process): the chain continues.
        let log = AuditLog::open(AuditLogConfig::new(&path)).expect("reopen");
        write_lines(&log, 5, 5);
    }
    let r = verify_audit_log(&path).expect("verify");
    assert!(r.is_intact(), "{:?}", r.problem);
    assert_eq!(r.lines, 11, "header + 10 lines");
    let original = std::fs::read(&path).expect("read");

    let check = |f: &dyn Fn(&mut Vec<String>), line: u64, kind: ProblemKind| {
        std::fs::write(&path, &original).expect("restore");
        rewrite(&path, |l| f(l));
        let r = verify_audit_log(&path).expect("verify");
        let p = r.problem.expect("a problem is found");
        assert_eq!((p.line, p.kind), (line, kind), "{p}");
        assert_eq!(p.file, path);
        assert_eq!(r.lines, line - 1);
    };
    // Edit line 5 (a message character).
    check(
        &|l| l[4] = l[4].replacen("test line", "test lime", 1),
        5,
        ProblemKind::Edited,
    );
    // Edit line 7's timestamp.
    check(
        &|l| l[6] = l[6].replacen("T", "t", 1),
        7,
        ProblemKind::Edited,
    );
    // Remove line 5.
    check(
        &|l| {
            l.remove(4);
        },
        5,
        ProblemKind::Removed,
    );
    // Remove lines 5 and 6.
    check(
        &|l| {
            l.drain(4..6);
        },
        5,
        ProblemKind::Removed,
    );
    // Swap lines 5 and 6.
    check(&|l| l.swap(4, 5), 5, ProblemKind::Reordered);
    // Remove the header.
    check(
        &|l| {
            l.remove(0);
        },
        1,
        ProblemKind::Removed,
    );
    // Garbage.
    check(&|l| l[2] = "hello".into(), 3, ProblemKind::Malformed);

    // A line torn by a crash (no newline at the end): the log is still opened and continued, and the
    // torn line is reported.
    std::fs::write(&path, &original).expect("restore");
    let mut torn = original.clone();
    torn.extend_from_slice(b"2026-01-01T00:00:00.000Z INFO Sending req");
    std::fs::write(&path, &torn).expect("write");
    {
        let log = AuditLog::open(AuditLogConfig::new(&path)).expect("reopen after a torn line");
        write_lines(&log, 10, 1);
    }
    let r = verify_audit_log(&path).expect("verify");
    let p = r.problem.expect("the torn line is reported");
    assert_eq!((p.line, p.kind), (12, ProblemKind::Malformed), "{p}");
    let last = std::fs::read_to_string(&path).expect("read");
    assert!(
        last.lines().last().expect("line").contains("seq=12 chain="),
        "{last}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn audit_log_rolls_daily_and_the_chain_continues() {
    let dir = tmp_dir("roll");
    let path = dir.join("audit.log");
    let now = Arc::new(AtomicU64::new(1_780_000_000)); // 2026-05-28
    let clock = {
        let now = now.clone();
        Arc::new(move || SystemTime::UNIX_EPOCH + Duration::from_secs(now.load(Ordering::SeqCst)))
    };
    let cfg = AuditLogConfig::new(&path).with_clock(clock);
    {
        let log = AuditLog::open(cfg.clone()).expect("open");
        write_lines(&log, 0, 4);
        now.fetch_add(86_400, Ordering::SeqCst);
        write_lines(&log, 4, 4);
    }
    let rolled = dir.join("audit.log.2026-05-28");
    assert!(rolled.exists(), "rolled to <name>.<date>");
    let r = verify_audit_log(&path).expect("verify");
    assert!(r.is_intact(), "{:?}", r.problem);
    assert_eq!(r.files, vec![rolled.clone(), path.clone()]);
    assert_eq!(r.lines, 10, "two headers + 8 lines");
    let first_new = std::fs::read_to_string(&path).expect("read");
    let last_old = std::fs::read_to_string(&rolled).expect("read");
    let last_chain = last_old
        .lines()
        .last()
        .expect("line")
        .rsplit_once("chain=")
        .expect("c")
        .1;
    assert!(
        first_new
            .lines()
            .next()
            .expect("header")
            .contains(&format!("previous chain={last_chain}")),
        "the new file's first line stores the link to the last line of the previous file"
    );
    // Re-opening on the next day rolls the file from the earlier day first.
    now.fetch_add(86_400, Ordering::SeqCst);
    {
        let log = AuditLog::open(cfg.clone()).expect("reopen");
        write_lines(&log, 8, 2);
    }
    let r = verify_audit_log(&path).expect("verify");
    assert!(r.is_intact(), "{:?}", r.problem);
    assert_eq!(r.files.len(), 3);

    let snapshot: Vec<(PathBuf, Vec<u8>)> = r
        .files
        .iter()
        .map(|f| (f.clone(), std::fs::read(f).expect("read")))
        .collect();
    let restore = || {
        for (f, b) in &snapshot {
            std::fs::write(f, b).expect("restore");
        }
    };
    // Edited line 3 of the oldest file.
    rewrite(&rolled, |l| {
        l[2] = l[2].replacen("test line", "test lien", 1)
    });
    let p = verify_audit_log(&path)
        .expect("verify")
        .problem
        .expect("problem");
    assert_eq!(
        (p.file.clone(), p.line, p.kind),
        (rolled.clone(), 3, ProblemKind::Edited),
        "{p}"
    );
    restore();
    // The last line of the oldest file removed: seen at the first line of the next file.
    rewrite(&rolled, |l| {
        l.pop();
    });
    let p = verify_audit_log(&path)
        .expect("verify")
        .problem
        .expect("problem");
    assert_eq!(
        (p.file.clone(), p.line, p.kind),
        (dir.join("audit.log.2026-05-29"), 1, ProblemKind::Removed),
        "{p}"
    );
    restore();
    // A reordered pair in the active file.
    rewrite(&path, |l| l.swap(1, 2));
    let p = verify_audit_log(&path)
        .expect("verify")
        .problem
        .expect("problem");
    assert_eq!(
        (p.file.clone(), p.line, p.kind),
        (path.clone(), 2, ProblemKind::Reordered),
        "{p}"
    );
    restore();
    // A whole rolled file removed.
    std::fs::remove_file(dir.join("audit.log.2026-05-29")).expect("rm");
    let p = verify_audit_log(&path)
        .expect("verify")
        .problem
        .expect("problem");
    assert_eq!(
        (p.file.clone(), p.line, p.kind),
        (path.clone(), 1, ProblemKind::Removed),
        "{p}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn audit_log_history_and_environment() {
    let dir = tmp_dir("history");
    let path = dir.join("audit.log");
    let now = Arc::new(AtomicU64::new(1_780_000_000));
    let clock = {
        let now = now.clone();
        Arc::new(move || SystemTime::UNIX_EPOCH + Duration::from_secs(now.load(Ordering::SeqCst)))
    };
    let vars = |k: &str| match k {
        "KMS_LOG_FILE_NAME" => Some(path.display().to_string()),
        "KMS_LOG_IMMEDIATE_FLUSH" => Some("false".into()),
        "KMS_LOG_FILE_HISTORY" => Some("2".into()),
        "KMS_LOG_FILE_ROLLING_PATTERN" => Some("yyyy-MM-dd".into()),
        _ => None,
    };
    let cfg = AuditLogConfig::from_vars(&dir.join("default.log"), vars).expect("config");
    assert_eq!(cfg.path, path);
    assert!(!cfg.immediate_flush);
    assert_eq!((cfg.history, cfg.rolling), (2, Rolling::Daily));
    let log = AuditLog::open(cfg.with_clock(clock)).expect("open");
    for day in 0..5 {
        write_lines(&log, day * 2, 2);
        now.fetch_add(86_400, Ordering::SeqCst);
    }
    log.flush().expect("flush");
    let rolled = tresor::audit::rolled_files(&path).expect("list");
    assert_eq!(rolled.len(), 2, "{rolled:?}");
    let r = verify_audit_log(&path).expect("verify");
    assert!(
        r.is_intact(),
        "older files pruned, the rest still verifies: {:?}",
        r.problem
    );

    let defaults = AuditLogConfig::from_vars(Path::new("x.log"), |_| None).expect("defaults");
    assert!(defaults.immediate_flush);
    assert_eq!((defaults.history, defaults.rolling), (0, Rolling::Daily));
    assert_eq!(defaults.path, PathBuf::from("x.log"));
    let e = AuditLogConfig::from_vars(Path::new("x.log"), |k| {
        (k == "KMS_LOG_FILE_ROLLING_PATTERN").then(|| "yyyy-MM-dd-HH".to_string())
    })
    .expect_err("unsupported pattern");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains("yyyy-MM-dd-HH") && e.message().contains("'yyyy-MM-dd'"));
    let _ = std::fs::remove_dir_all(dir);
}

// --- the whole stack -------------------------------------------------------------------------------

#[tokio::test]
async fn layered_stack_logs_every_attempt() {
    let dir = tmp_dir("layered");
    let soft = software(&dir).await;
    let faulty = Faulty::new(soft.clone());
    let log_path = dir.join("audit.log");
    let log = Arc::new(AuditLog::open(AuditLogConfig::new(&log_path)).expect("log"));
    let mut cfg = LayerConfig::defaults_for(faulty.as_ref()).with_audit(log.clone());
    cfg.retry = Some(RetryConfig::new(
        RetryPolicy {
            initial_delay: ms(2),
            max_delay: ms(8),
            max_retries: Some(10),
        },
        RetryPolicy::create_key_check(),
    ));
    let d = layered(faulty.clone(), cfg);
    let key = d.generate_symmetric_key(None).await.expect("gen");
    faulty.fail_next(ErrorKind::KmsUnavailable, 2);
    let ct = d
        .encrypt_symmetric(&key, b"layered")
        .await
        .expect("after retries");
    let pt = d.decrypt_symmetric(&key, &ct).await.expect("decrypt");
    assert_eq!(pt.as_slice(), b"layered");
    assert_eq!(d.health().await, KmsHealth::Ok);
    let lines = log_lines(&log_path);
    let warns = lines.iter().filter(|l| l.1 == "WARN").count();
    let requests = lines.iter().filter(|l| sending(&l.2).is_some()).count();
    assert_eq!(warns, 2, "each failed attempt is logged");
    assert_eq!(requests, 1 + 3 + 1, "gen, 3 encrypt attempts, decrypt");
    assert!(verify_audit_log(&log_path).expect("verify").is_intact());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn two_writers_share_one_log() {
    // Two handles on one file (as two processes would have): lines interleave, the chain stays intact,
    // also when one of them rolls the file.
    let dir = tmp_dir("two-writers");
    let path = dir.join("audit.log");
    let now = Arc::new(AtomicU64::new(1_780_000_000));
    let clock = {
        let now = now.clone();
        Arc::new(move || SystemTime::UNIX_EPOCH + Duration::from_secs(now.load(Ordering::SeqCst)))
    };
    let cfg = AuditLogConfig::new(&path).with_clock(clock);
    let a = AuditLog::open(cfg.clone()).expect("a");
    let b = AuditLog::open(cfg.clone()).expect("b");
    for i in 0..4 {
        a.info(&format!("from a {i}")).expect("a writes");
        b.info(&format!("from b {i}")).expect("b writes");
    }
    now.fetch_add(86_400, Ordering::SeqCst);
    a.info("a rolls").expect("a rolls");
    b.info("b follows").expect("b follows the roll");
    a.info("a again").expect("a");
    // Concurrently.
    std::thread::scope(|s| {
        for (n, log) in [&a, &b].into_iter().enumerate() {
            s.spawn(move || {
                for i in 0..20 {
                    log.info(&format!("thread {n} line {i}")).expect("write");
                }
            });
        }
    });
    let r = verify_audit_log(&path).expect("verify");
    assert!(r.is_intact(), "{:?}", r.problem);
    assert_eq!(r.files.len(), 2);
    assert_eq!(r.lines, 1 + 8 + 1 + 3 + 40, "header, 8, new header, 3, 40");
    let _ = std::fs::remove_dir_all(dir);
}
