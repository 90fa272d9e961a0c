//! Forwarding through every layer, and the bounds layer, against an in-process fake driver (these test
//! the layers, not a driver).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::ratelimit::Rate;
use super::retry::RetryPolicy;
use super::*;
use crate::error::ErrorKind;
use crate::keys::{KeyType, PrivateKey};
use crate::kms::{
    MAX_ASYMMETRIC_CIPHERTEXT, MAX_ASYMMETRIC_PLAINTEXT, MAX_KEY_ID_LEN, MAX_KEY_NAME_LEN,
    MAX_SIGN_INPUT, MAX_SYMMETRIC_CIPHERTEXT, MAX_SYMMETRIC_PLAINTEXT,
};

/// Records every call with its arguments, and answers with results of a chosen length.
struct Fake {
    calls: Mutex<Vec<String>>,
    /// The length of the bytes `sign`, `encrypt_symmetric` and the decryptions return.
    out_len: AtomicUsize,
    public: KmsPublicKey,
}

impl Fake {
    fn new() -> Arc<Self> {
        let key = PrivateKey::generate(KeyType::EcP256).expect("generate");
        Arc::new(Self {
            calls: Mutex::new(Vec::new()),
            out_len: AtomicUsize::new(16),
            public: KmsPublicKey {
                key: key.public_key().clone(),
                spec: KmsKeySpec::Signing(SigningKeySpec::EcP256),
            },
        })
    }

    fn record(&self, call: String) {
        self.calls.lock().expect("lock").push(call);
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.calls.lock().expect("lock"))
    }

    fn bytes(&self) -> Vec<u8> {
        vec![7u8; self.out_len.load(Ordering::SeqCst)]
    }
}

fn name(n: Option<&str>) -> String {
    n.map_or_else(
        || "-".to_string(),
        |n| format!("{} chars", n.chars().count()),
    )
}

#[async_trait]
impl KmsDriver for Fake {
    fn provider(&self) -> &str {
        self.record("provider".into());
        "fake"
    }
    async fn health(&self) -> KmsHealth {
        self.record("health".into());
        KmsHealth::Ok
    }
    fn supported_signing_key_specs(&self) -> Vec<SigningKeySpec> {
        self.record("supported_signing_key_specs".into());
        vec![SigningKeySpec::EcP256]
    }
    fn supported_signing_algo_specs(&self) -> Vec<SigningAlgorithmSpec> {
        self.record("supported_signing_algo_specs".into());
        vec![SigningAlgorithmSpec::EcDsaSha256]
    }
    fn supported_encryption_key_specs(&self) -> Vec<EncryptionKeySpec> {
        self.record("supported_encryption_key_specs".into());
        vec![EncryptionKeySpec::Rsa2048]
    }
    fn supported_encryption_algo_specs(&self) -> Vec<EncryptionAlgorithmSpec> {
        self.record("supported_encryption_algo_specs".into());
        vec![EncryptionAlgorithmSpec::RsaOaepSha256]
    }
    async fn generate_signing_key_pair(
        &self,
        spec: SigningKeySpec,
        n: Option<&str>,
    ) -> Result<KmsKeyId> {
        self.record(format!("generate_signing_key_pair {spec} {}", name(n)));
        KmsKeyId::new("fake-signing")
    }
    async fn generate_encryption_key_pair(
        &self,
        spec: EncryptionKeySpec,
        n: Option<&str>,
    ) -> Result<KmsKeyId> {
        self.record(format!("generate_encryption_key_pair {spec} {}", name(n)));
        KmsKeyId::new("fake-encryption")
    }
    async fn generate_symmetric_key(&self, n: Option<&str>) -> Result<KmsKeyId> {
        self.record(format!("generate_symmetric_key {}", name(n)));
        KmsKeyId::new("fake-symmetric")
    }
    async fn sign(
        &self,
        key_id: &KmsKeyId,
        data: &[u8],
        algo: SigningAlgorithmSpec,
    ) -> Result<Vec<u8>> {
        self.record(format!("sign {key_id} {algo} {}", data.len()));
        Ok(self.bytes())
    }
    async fn decrypt_asymmetric(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
        algo: EncryptionAlgorithmSpec,
    ) -> Result<Zeroizing<Vec<u8>>> {
        self.record(format!(
            "decrypt_asymmetric {key_id} {algo} {}",
            ciphertext.len()
        ));
        Ok(Zeroizing::new(self.bytes()))
    }
    async fn encrypt_symmetric(&self, key_id: &KmsKeyId, data: &[u8]) -> Result<Vec<u8>> {
        self.record(format!("encrypt_symmetric {key_id} {}", data.len()));
        Ok(self.bytes())
    }
    async fn decrypt_symmetric(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        self.record(format!("decrypt_symmetric {key_id} {}", ciphertext.len()));
        Ok(Zeroizing::new(self.bytes()))
    }
    async fn get_public_key(&self, key_id: &KmsKeyId) -> Result<KmsPublicKey> {
        self.record(format!("get_public_key {key_id}"));
        Ok(self.public.clone())
    }
    async fn key_exists_and_is_active(&self, key_id: &KmsKeyId) -> Result<()> {
        self.record(format!("key_exists_and_is_active {key_id}"));
        Ok(())
    }
    async fn delete_key(&self, key_id: &KmsKeyId) -> Result<()> {
        self.record(format!("delete_key {key_id}"));
        Ok(())
    }
    async fn disable_key(&self, key_id: &KmsKeyId) -> Result<()> {
        self.record(format!("disable_key {key_id}"));
        Ok(())
    }
    async fn close(&self) {
        self.record("close".into());
    }
}

/// Every method of the trait, once, with in-bounds arguments; the calls the driver below should see.
async fn exercise(d: &dyn KmsDriver) -> Vec<String> {
    let k = KmsKeyId::new("k-1").expect("id");
    assert_eq!(d.provider(), "fake");
    assert_eq!(d.health().await, KmsHealth::Ok);
    assert_eq!(d.supported_signing_key_specs(), [SigningKeySpec::EcP256]);
    assert_eq!(
        d.supported_signing_algo_specs(),
        [SigningAlgorithmSpec::EcDsaSha256]
    );
    assert_eq!(
        d.supported_encryption_key_specs(),
        [EncryptionKeySpec::Rsa2048]
    );
    assert_eq!(
        d.supported_encryption_algo_specs(),
        [EncryptionAlgorithmSpec::RsaOaepSha256]
    );
    let id = d
        .generate_signing_key_pair(SigningKeySpec::EcP384, Some("n"))
        .await
        .expect("generate signing");
    assert_eq!(id.as_str(), "fake-signing");
    let id = d
        .generate_encryption_key_pair(EncryptionKeySpec::EcP256, None)
        .await
        .expect("generate encryption");
    assert_eq!(id.as_str(), "fake-encryption");
    let id = d
        .generate_symmetric_key(Some("sym"))
        .await
        .expect("generate symmetric");
    assert_eq!(id.as_str(), "fake-symmetric");
    assert_eq!(
        d.sign(&k, &[1; 10], SigningAlgorithmSpec::Ed25519)
            .await
            .expect("sign")
            .len(),
        16
    );
    let algo = EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Cbc;
    assert_eq!(
        d.decrypt_asymmetric(&k, &[2; 11], algo)
            .await
            .expect("decrypt asymmetric")
            .len(),
        16
    );
    assert_eq!(
        d.encrypt_symmetric(&k, &[3; 12])
            .await
            .expect("encrypt")
            .len(),
        16
    );
    assert_eq!(
        d.decrypt_symmetric(&k, &[4; 13])
            .await
            .expect("decrypt")
            .len(),
        16
    );
    let pk = d.get_public_key(&k).await.expect("public key");
    assert_eq!(pk.spec, KmsKeySpec::Signing(SigningKeySpec::EcP256));
    d.key_exists_and_is_active(&k).await.expect("exists");
    d.delete_key(&k).await.expect("delete");
    d.disable_key(&k).await.expect("disable");
    d.close().await;
    [
        "provider",
        "health",
        "supported_signing_key_specs",
        "supported_signing_algo_specs",
        "supported_encryption_key_specs",
        "supported_encryption_algo_specs",
        "generate_signing_key_pair ec-p-384 1 chars",
        "generate_encryption_key_pair ec-p-256 -",
        "generate_symmetric_key 3 chars",
        "sign k-1 ed-25519 10",
        "decrypt_asymmetric k-1 ecies-hkdf-hmac-sha-256-aes-128-cbc 11",
        "encrypt_symmetric k-1 12",
        "decrypt_symmetric k-1 13",
        "get_public_key k-1",
        "key_exists_and_is_active k-1",
        "delete_key k-1",
        "disable_key k-1",
        "close",
    ]
    .map(String::from)
    .to_vec()
}

fn temp_log(name: &str) -> (Arc<AuditLog>, std::path::PathBuf) {
    let dir =
        std::env::temp_dir().join(format!("tresor-layers-unit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let log = AuditLog::open(crate::audit::AuditLogConfig::new(dir.join("audit.log")))
        .expect("open the audit log");
    (Arc::new(log), dir)
}

#[tokio::test]
async fn every_method_reaches_the_driver_through_each_layer() {
    let fake = Fake::new();
    let (log, dir) = temp_log("forwarding");
    let limits = RateLimits::new(Some(Rate::per_second(1000)), Some(Rate::per_second(1000)));
    let retry = RetryConfig::new(RetryPolicy::failures(), RetryPolicy::create_key_check());
    let full = LayerConfig {
        retry: Some(retry),
        rate_limits: Some(limits),
        audit: Some(log.clone()),
        health_tracking: true,
    };
    let stacks: Vec<(&str, Arc<dyn KmsDriver>)> = vec![
        ("retry", Arc::new(Retrying::new(fake.clone(), retry))),
        (
            "rate limit",
            Arc::new(RateLimited::new(fake.clone(), limits)),
        ),
        ("audit", Arc::new(Audited::new(fake.clone(), log.clone()))),
        ("health", Arc::new(HealthTracking::new(fake.clone()))),
        ("bounds", Arc::new(Bounded::new(fake.clone()))),
        ("layered, all layers", layered(fake.clone(), full)),
        (
            "layered, minimal",
            layered(fake.clone(), LayerConfig::minimal()),
        ),
    ];
    for (what, d) in stacks {
        fake.take();
        let want = exercise(d.as_ref()).await;
        assert_eq!(fake.take(), want, "through {what}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn layers_have_their_accessors() {
    let fake = Fake::new();
    let retry = RetryConfig::new(RetryPolicy::none(), RetryPolicy::create_key_check());
    let r = Retrying::new(fake.clone(), retry);
    assert_eq!(*r.config(), retry);
    assert_eq!(
        r.layer()
            .policy(&Request::KeyExistsAndIsActive {
                key_id: &KmsKeyId::new("k").expect("id")
            })
            .max_retries,
        Some(20)
    );
    assert_eq!(r.inner().provider(), "fake");
    let limits = RateLimits::new(Some(Rate::per_second(5)), None);
    assert_eq!(*RateLimited::new(fake.clone(), limits).limits(), limits);
    assert_eq!(
        *RateLimited::with_provider_defaults(fake.clone()).limits(),
        RateLimits::for_provider("other")
    );
    assert_eq!(HealthTracking::new(fake.clone()).recent_failures(), 0);
    assert!(format!("{r:?}").contains("provider: \"fake\""), "{r:?}");
}

#[test]
fn requests_describe_operations_without_bytes() {
    let k = KmsKeyId::new("k-1").expect("id");
    let sign = Request::Sign {
        key_id: &k,
        algo: SigningAlgorithmSpec::EcDsaSha256,
        len: 9,
    };
    assert_eq!(sign.operation(), "sign");
    assert_eq!(sign.key_id(), Some(&k));
    assert_eq!(sign.input_len(), Some(9));
    assert_eq!(sign.class(), OpClass::Crypto);
    assert_eq!(sign.key_name(), None);
    let generate = Request::GenerateSymmetricKey { name: Some("x") };
    assert_eq!(generate.key_id(), None);
    assert_eq!(generate.key_name(), Some("x"));
    assert_eq!(generate.input_len(), None);
    assert_eq!(generate.class(), OpClass::KeyManagement);
    assert_eq!(
        Request::KeyExistsAndIsActive { key_id: &k }.class(),
        OpClass::KeyManagement
    );
}

// --- bounds ----------------------------------------------------------------------------------------

/// The error kind of `r`, and how many calls reached the driver.
fn outcome<T>(fake: &Fake, r: Result<T>) -> (Option<ErrorKind>, usize) {
    (r.err().map(|e| e.kind()), fake.take().len())
}

#[tokio::test]
async fn bounds_refuse_oversized_inputs_before_the_driver() {
    let fake = Fake::new();
    let d = Bounded::new(fake.clone());
    let k = KmsKeyId::new("k").expect("id");
    let ok = (None, 1);
    let too_large = (Some(ErrorKind::InputTooLarge), 0);
    let ecies = EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Cbc;
    let p256 = SigningAlgorithmSpec::EcDsaSha256;

    assert_eq!(MAX_SIGN_INPUT, 4096);
    assert_eq!(outcome(&fake, d.sign(&k, &[0; 4096], p256).await), ok);
    assert_eq!(
        outcome(&fake, d.sign(&k, &[0; 4097], p256).await),
        too_large
    );

    assert_eq!(MAX_SYMMETRIC_PLAINTEXT, 4096);
    assert_eq!(
        outcome(&fake, d.encrypt_symmetric(&k, &[0; 4096]).await),
        ok
    );
    assert_eq!(
        outcome(&fake, d.encrypt_symmetric(&k, &[0; 4097]).await),
        too_large
    );

    assert_eq!(MAX_SYMMETRIC_CIPHERTEXT, 6144);
    assert_eq!(
        outcome(&fake, d.decrypt_symmetric(&k, &[0; 6144]).await),
        ok
    );
    assert_eq!(
        outcome(&fake, d.decrypt_symmetric(&k, &[0; 6145]).await),
        too_large
    );

    assert_eq!(MAX_ASYMMETRIC_CIPHERTEXT, 6144);
    assert_eq!(
        outcome(&fake, d.decrypt_asymmetric(&k, &[0; 6144], ecies).await),
        ok
    );
    assert_eq!(
        outcome(&fake, d.decrypt_asymmetric(&k, &[0; 6145], ecies).await),
        too_large
    );

    // Key names: at most 300 characters (not bytes), for each of the three generate operations.
    assert_eq!(MAX_KEY_NAME_LEN, 300);
    let bad_name = (Some(ErrorKind::InvalidArgument), 0);
    let at_max = "é".repeat(300);
    let over = "n".repeat(301);
    for (name, want) in [(&at_max, ok), (&over, bad_name)] {
        let name = Some(name.as_str());
        assert_eq!(
            outcome(
                &fake,
                d.generate_signing_key_pair(SigningKeySpec::EcP256, name)
                    .await
            ),
            want
        );
        assert_eq!(
            outcome(
                &fake,
                d.generate_encryption_key_pair(EncryptionKeySpec::Rsa2048, name)
                    .await
            ),
            want
        );
        assert_eq!(outcome(&fake, d.generate_symmetric_key(name).await), want);
    }

    // Operations without bytes have no input bound.
    assert_eq!(outcome(&fake, d.get_public_key(&k).await), ok);
    assert_eq!(outcome(&fake, d.key_exists_and_is_active(&k).await), ok);
    assert_eq!(outcome(&fake, d.delete_key(&k).await), ok);

    // The errors are Canton's: not retryable, naming the bound.
    let e = d.sign(&k, &[0; 5000], p256).await.expect_err("too large");
    assert!(!e.is_retryable());
    assert_eq!(e.message(), "sign takes at most 4096 bytes, got 5000");
    let e = d
        .generate_symmetric_key(Some(&over))
        .await
        .expect_err("too long");
    assert!(!e.is_retryable());
    assert_eq!(e.message(), "a key name is at most 300 characters, got 301");
    fake.take();
}

#[tokio::test]
async fn bounds_check_results() {
    let fake = Fake::new();
    let d = Bounded::new(fake.clone());
    let k = KmsKeyId::new("k").expect("id");
    let violated = Some(ErrorKind::KmsBoundsViolated);
    let len = |n: usize| fake.out_len.store(n, Ordering::SeqCst);

    // encrypt_symmetric returns at most 6144 bytes.
    len(6144);
    assert_eq!(
        outcome(&fake, d.encrypt_symmetric(&k, b"x").await),
        (None, 1)
    );
    len(6145);
    assert_eq!(
        outcome(&fake, d.encrypt_symmetric(&k, b"x").await),
        (violated, 1)
    );

    // decrypt_symmetric returns at most 4096 bytes (what encrypt_symmetric accepts).
    len(4096);
    assert_eq!(
        outcome(&fake, d.decrypt_symmetric(&k, b"x").await),
        (None, 1)
    );
    len(4097);
    assert_eq!(
        outcome(&fake, d.decrypt_symmetric(&k, b"x").await),
        (violated, 1)
    );

    // RSA-OAEP-SHA256 decryption returns at most 190 bytes; ECIES has no plaintext bound of its own.
    let rsa = EncryptionAlgorithmSpec::RsaOaepSha256;
    let ecies = EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Cbc;
    assert_eq!(MAX_ASYMMETRIC_PLAINTEXT, 190);
    len(190);
    assert_eq!(
        outcome(&fake, d.decrypt_asymmetric(&k, b"x", rsa).await),
        (None, 1)
    );
    len(191);
    assert_eq!(
        outcome(&fake, d.decrypt_asymmetric(&k, b"x", rsa).await),
        (violated, 1)
    );
    len(5000);
    assert_eq!(
        outcome(&fake, d.decrypt_asymmetric(&k, b"x", ecies).await),
        (None, 1)
    );

    // Signatures have no bound.
    assert_eq!(
        outcome(
            &fake,
            d.sign(&k, b"x", SigningAlgorithmSpec::EcDsaSha256).await
        ),
        (None, 1)
    );

    len(6145);
    let e = d
        .encrypt_symmetric(&k, b"x")
        .await
        .map(|ct| ct.len())
        .expect_err("result too large");
    assert!(!e.is_retryable());
    assert_eq!(
        e.message(),
        "encrypt_symmetric returned 6145 bytes, more than Canton's bound of 6144"
    );

    // Returned key ids: at most 300 characters (a `KmsKeyId` cannot hold more, so the check is
    // exercised at its limit).
    assert_eq!(MAX_KEY_ID_LEN, 300);
    let id = KmsKeyId::new("i".repeat(300)).expect("id");
    assert!(KmsKeyId::new("i".repeat(301)).is_err());
    for req in [
        Request::GenerateSigningKeyPair {
            spec: SigningKeySpec::EcP256,
            name: None,
        },
        Request::GenerateEncryptionKeyPair {
            spec: EncryptionKeySpec::EcP256,
            name: None,
        },
        Request::GenerateSymmetricKey { name: None },
    ] {
        bounds::check_outcome(&req, &id).expect("300 characters");
    }
    fake.take();
}

#[tokio::test]
async fn layered_always_checks_bounds_innermost() {
    let fake = Fake::new();
    let (log, dir) = temp_log("bounds-audit");
    let k = KmsKeyId::new("k").expect("id");
    let mut cfg = LayerConfig::defaults_for(fake.as_ref()).with_audit(log.clone());
    cfg.retry = Some(RetryConfig::new(
        RetryPolicy {
            initial_delay: std::time::Duration::from_millis(1),
            max_delay: std::time::Duration::from_millis(1),
            max_retries: Some(3),
        },
        RetryPolicy::none(),
    ));
    for d in [
        layered(fake.clone(), cfg),
        layered(fake.clone(), LayerConfig::minimal()),
    ] {
        fake.take();
        let e = d
            .sign(&k, &[0; 4097], SigningAlgorithmSpec::EcDsaSha256)
            .await
            .expect_err("too large");
        assert_eq!(e.kind(), ErrorKind::InputTooLarge);
        fake.out_len.store(6145, Ordering::SeqCst);
        let e = d.encrypt_symmetric(&k, b"x").await.expect_err("too large");
        assert_eq!(e.kind(), ErrorKind::KmsBoundsViolated);
        fake.out_len.store(16, Ordering::SeqCst);
        // The refused input never reached the driver; the bad result was asked for once (not retried).
        assert_eq!(fake.take(), ["encrypt_symmetric k 1"]);
        assert_eq!(
            d.health().await,
            KmsHealth::Ok,
            "not counted against health"
        );
    }
    // Refusals are in the audit trail: a request line and a WARN line each.
    log.flush().expect("flush");
    let text = std::fs::read_to_string(dir.join("audit.log")).expect("read");
    let lines: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].contains(" INFO Sending request ["), "{}", lines[0]);
    assert!(lines[0].contains("SignRequest(KeyId=k, "), "{}", lines[0]);
    assert!(
        lines[1].contains(" WARN Request [") && lines[1].contains("input_too_large"),
        "{}",
        lines[1]
    );
    assert!(
        lines[3].contains(" WARN Request [") && lines[3].contains("kms_bounds_violated"),
        "{}",
        lines[3]
    );
    let _ = std::fs::remove_dir_all(dir);
}
