//! The layered GCP KMS driver under injected faults: the driver talks to tresor's GCP KMS API test server
//! (`tests/services/gcp-kms`, started by `scripts/test.sh kms-gcp`; not Google's service) through the
//! fault proxy in `common/faultproxy.rs`, which throttles (429 `RESOURCE_EXHAUSTED`), fails (503
//! `UNAVAILABLE`), refuses (403 `PERMISSION_DENIED`), drops connections or delays requests on demand and
//! counts what reaches it by REST method.
//!
//! The endpoint comes from `TRESOR_TEST_GCP_ENDPOINT`. Without it every test fails, unless
//! `TRESOR_SKIP_GCP=1` says to skip them.
#![cfg(feature = "gcp")]

#[path = "common/faultproxy.rs"]
mod faultproxy;

use std::io::{Read as _, Write as _};
use std::sync::Arc;
use std::time::Duration;

use faultproxy::{Fault, FaultProxy};
use tresor::kms::gcp::{GcpConfig, GcpKms};
use tresor::kms::retry::{RetryConfig, RetryPolicy};
use tresor::kms::{KmsDriver, KmsHealth, KmsKeyId, LayerConfig, layered};
use tresor::{ErrorKind, SigningAlgorithmSpec, SigningKeySpec};

fn endpoint(test: &str) -> Option<String> {
    match std::env::var("TRESOR_TEST_GCP_ENDPOINT") {
        Ok(e) if !e.trim().is_empty() => Some(e.trim().to_string()),
        _ if std::env::var("TRESOR_SKIP_GCP").as_deref() == Ok("1") => {
            eprintln!("skipped: {test}: TRESOR_SKIP_GCP=1 and no TRESOR_TEST_GCP_ENDPOINT");
            None
        }
        _ => panic!(
            "{test}: TRESOR_TEST_GCP_ENDPOINT is not set: run ./scripts/test.sh kms-gcp (it starts \
             tresor's GCP KMS API test server), or set TRESOR_SKIP_GCP=1 to skip these tests"
        ),
    }
}

fn quick_retries(max_retries: u32) -> RetryConfig {
    let p = RetryPolicy {
        initial_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(80),
        max_retries: Some(max_retries),
    };
    RetryConfig::new(p, p)
}

struct Setup {
    proxy: FaultProxy,
    driver: Arc<dyn KmsDriver>,
    endpoint: String,
    ring: String,
}

async fn setup(test: &str, max_retries: u32) -> Option<Setup> {
    let endpoint = endpoint(test)?;
    let proxy = FaultProxy::start_gcp(&endpoint).await;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let kms = GcpKms::connect(GcpConfig {
        location_id: "global".to_string(),
        project_id: "tresor-faults".to_string(),
        key_ring_id: format!("faults-{test}-{}-{nanos}", std::process::id()),
        endpoint_override: Some(proxy.url()),
        audit_logging: false,
    })
    .await
    .expect("driver");
    let ring = kms.key_ring_name().to_string();
    let driver = layered(
        Arc::new(kms),
        LayerConfig {
            retry: Some(quick_retries(max_retries)),
            rate_limits: None,
            audit: None,
            health_tracking: true,
        },
    );
    Some(Setup {
        proxy,
        driver,
        endpoint,
        ring,
    })
}

async fn signing_key(s: &Setup) -> KmsKeyId {
    s.driver
        .generate_signing_key_pair(SigningKeySpec::EcP256, None)
        .await
        .expect("signing key")
}

/// The crypto key ids in the ring, read from the server directly (not through the proxy).
fn keys_in_ring(s: &Setup) -> Vec<String> {
    let authority = s
        .endpoint
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let mut c = std::net::TcpStream::connect(authority).expect("connect");
    write!(
        c,
        "GET /v1/{}/cryptoKeys HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n",
        s.ring
    )
    .expect("write");
    let mut raw = String::new();
    c.read_to_string(&mut raw).expect("read");
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("{}");
    let v: serde_json::Value = serde_json::from_str(body).expect("JSON");
    v["cryptoKeys"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|k| k["name"].as_str())
                .map(|n| n.rsplit('/').next().unwrap_or(n).to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_retried_on_sign_and_encrypt() {
    let Some(s) = setup("throttle", 8).await else {
        return;
    };
    let key = signing_key(&s).await;
    // Warm the driver's cache of the key's algorithm, so only asymmetricSign is counted below.
    s.driver
        .sign(&key, b"warm", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect("sign");
    s.proxy.reset_counts();
    s.proxy.inject_on("asymmetricSign", Fault::Throttle, 3);
    s.driver
        .sign(&key, b"throttled", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect("sign succeeds after 3 × 429");
    assert_eq!(s.proxy.count("asymmetricSign"), 4, "{:?}", s.proxy.counts());
    assert_eq!(s.proxy.pending(), 0);

    let sym = s
        .driver
        .generate_symmetric_key(None)
        .await
        .expect("symmetric key");
    s.proxy.reset_counts();
    s.proxy.inject_on("encrypt", Fault::Throttle, 3);
    let ct = s
        .driver
        .encrypt_symmetric(&sym, b"throttled plaintext")
        .await
        .expect("encrypt succeeds after 3 × 429");
    assert_eq!(s.proxy.count("encrypt"), 4);
    let pt = s
        .driver
        .decrypt_symmetric(&sym, &ct)
        .await
        .expect("decrypt");
    assert_eq!(pt.as_slice(), b"throttled plaintext");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unavailable_and_dropped_connections_are_retried() {
    let Some(s) = setup("unavailable", 8).await else {
        return;
    };
    let key = signing_key(&s).await;
    let pk = s.driver.get_public_key(&key).await.expect("public key");
    s.proxy.reset_counts();
    s.proxy.inject_on("getPublicKey", Fault::ServerError, 2);
    s.proxy.inject_on("getPublicKey", Fault::ConnectionReset, 1);
    let again = s
        .driver
        .get_public_key(&key)
        .await
        .expect("succeeds after 2 × 503 and a dropped connection");
    assert_eq!(again.key, pk.key);
    assert_eq!(s.proxy.count("getPublicKey"), 4);
    assert_eq!(s.proxy.pending(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permission_denied_is_not_retried() {
    let Some(s) = setup("denied", 8).await else {
        return;
    };
    let key = signing_key(&s).await;
    s.driver
        .sign(&key, b"warm", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect("sign");
    s.proxy.reset_counts();
    s.proxy.inject_on("asymmetricSign", Fault::AccessDenied, 1);
    let err = s
        .driver
        .sign(&key, b"denied", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect_err("permission denied");
    assert_eq!(err.kind(), ErrorKind::KmsPermissionDenied, "{err}");
    assert!(
        err.message()
            .contains("cloudkms.cryptoKeyVersions.useToSign"),
        "the error names the permission: {err}"
    );
    assert_eq!(
        s.proxy.count("asymmetricSign"),
        1,
        "exactly one request, no retry"
    );
    s.proxy.clear_faults();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_lost_on_the_way_back_makes_one_key() {
    let Some(s) = setup("lost-create", 8).await else {
        return;
    };
    assert!(keys_in_ring(&s).is_empty());
    s.proxy.reset_counts();
    // The server makes the key, the client sees a dropped connection; the retry sends the same id and
    // takes ALREADY_EXISTS as the key it made.
    s.proxy
        .inject_on("cryptoKeys.create", Fault::ResetAfterForward, 1);
    let id = s
        .driver
        .generate_signing_key_pair(SigningKeySpec::EcP256, None)
        .await
        .expect("create succeeds");
    assert_eq!(
        s.proxy.count("cryptoKeys.create"),
        2,
        "{:?}",
        s.proxy.counts()
    );
    let keys = keys_in_ring(&s);
    assert_eq!(
        keys,
        [id.as_str().to_string()],
        "exactly one key in the ring"
    );
    s.driver
        .sign(&id, b"the key works", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect("sign");

    // Refused before reaching the server: nothing was made, the retry makes the key once.
    s.proxy.reset_counts();
    s.proxy
        .inject_on("cryptoKeys.create", Fault::ConnectionReset, 1);
    let id2 = s
        .driver
        .generate_symmetric_key(None)
        .await
        .expect("create succeeds");
    assert_eq!(s.proxy.count("cryptoKeys.create"), 2);
    let mut keys = keys_in_ring(&s);
    keys.sort();
    let mut want = vec![id.as_str().to_string(), id2.as_str().to_string()];
    want.sort();
    assert_eq!(keys, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_degraded_during_an_outage_and_recovers() {
    let Some(s) = setup("health", 2).await else {
        return;
    };
    let key = signing_key(&s).await;
    s.driver
        .sign(&key, b"warm", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect("sign");
    assert_eq!(s.driver.health().await, KmsHealth::Ok);
    s.proxy.inject_on("asymmetricSign", Fault::ServerError, 3);
    let err = s
        .driver
        .sign(&key, b"outage", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect_err("3 × 503 with 2 retries");
    assert_eq!(err.kind(), ErrorKind::KmsUnavailable, "{err}");
    assert!(matches!(s.driver.health().await, KmsHealth::Degraded(_)));
    s.driver
        .sign(&key, b"recovered", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect("sign recovers");
    assert_eq!(s.driver.health().await, KmsHealth::Ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_is_absorbed() {
    let Some(s) = setup("latency", 8).await else {
        return;
    };
    let key = signing_key(&s).await;
    s.driver
        .sign(&key, b"warm", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect("sign");
    s.proxy.reset_counts();
    s.proxy.inject_on(
        "asymmetricSign",
        Fault::Latency(Duration::from_millis(300)),
        1,
    );
    s.driver
        .sign(&key, b"slow", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect("a slow answer is still an answer");
    assert_eq!(s.proxy.pending(), 0, "the sign request was the delayed one");
    assert_eq!(
        s.proxy.count("asymmetricSign"),
        1,
        "no retry for a slow answer"
    );
}
