//! The layered AWS KMS driver under injected faults: the driver talks to an AWS KMS endpoint (local-kms,
//! started by `scripts/test.sh kms-aws`) through the fault proxy in `common/faultproxy.rs`, which throttles, fails,
//! drops connections or delays requests on demand and counts what reaches it.
//!
//! The endpoint comes from `TRESOR_TEST_AWS_ENDPOINT`, credentials and region from the usual AWS variables
//! (`AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1` for local-kms). Without an
//! endpoint every test fails, unless `TRESOR_SKIP_AWS=1` says to skip them.
#![cfg(feature = "aws")]

#[path = "common/faultproxy.rs"]
mod faultproxy;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use faultproxy::{Fault, FaultProxy};
use tresor::kms::aws::{AwsConfig, AwsKms, REQUEST_ID_TAG};
use tresor::kms::retry::{RetryConfig, RetryPolicy};
use tresor::kms::{KmsDriver, KmsHealth, KmsKeyId, LayerConfig, layered};
use tresor::{ErrorKind, SigningAlgorithmSpec, SigningKeySpec};

/// The endpoint under test, or `None` when the tests are to be skipped.
fn endpoint(test: &str) -> Option<String> {
    match std::env::var("TRESOR_TEST_AWS_ENDPOINT") {
        Ok(e) if !e.is_empty() => {
            assert!(
                std::env::var_os("AWS_ACCESS_KEY_ID").is_some()
                    && std::env::var_os("AWS_SECRET_ACCESS_KEY").is_some(),
                "TRESOR_TEST_AWS_ENDPOINT is set but AWS credentials are not: export \
                 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 for local-kms"
            );
            Some(e)
        }
        _ if std::env::var("TRESOR_SKIP_AWS").as_deref() == Ok("1") => {
            eprintln!("skipped: {test}: TRESOR_SKIP_AWS=1 and no TRESOR_TEST_AWS_ENDPOINT");
            None
        }
        _ => panic!(
            "TRESOR_TEST_AWS_ENDPOINT is not set: run `./scripts/test.sh kms-aws` (starts local-kms), \
             or point it at an AWS KMS endpoint, or set TRESOR_SKIP_AWS=1 to skip the AWS tests"
        ),
    }
}

fn region() -> String {
    std::env::var("AWS_REGION")
        .ok()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "us-east-1".to_string())
}

fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("tresor-faults-{tag}-{}-{nanos}", std::process::id())
}

/// Small delays so the retries are quick; enough retries for every burst below.
fn quick_retries(max_retries: u32) -> RetryConfig {
    let p = RetryPolicy {
        initial_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(80),
        max_retries: Some(max_retries),
    };
    RetryConfig::new(p, p)
}

/// The proxy in front of the endpoint, and `layered(AwsKms)` talking to the proxy.
struct Setup {
    proxy: FaultProxy,
    driver: Arc<dyn KmsDriver>,
    /// The driver straight against the endpoint, for looking at what the service holds.
    direct: AwsKms,
    /// A tag on every key this setup makes (`tresor-test-case = <unique>`).
    case: String,
}

async fn setup(test: &str, max_retries: u32) -> Option<Setup> {
    let endpoint = endpoint(test)?;
    let proxy = FaultProxy::start(&endpoint).await;
    let case = unique(test);
    let mut custom_tags = BTreeMap::new();
    custom_tags.insert("tresor-test-case".to_string(), case.clone());
    let kms = AwsKms::new(AwsConfig {
        region: region(),
        endpoint_override: Some(proxy.url()),
        custom_tags,
        ..Default::default()
    })
    .await
    .expect("driver");
    let direct = AwsKms::new(AwsConfig {
        region: region(),
        endpoint_override: Some(endpoint),
        ..Default::default()
    })
    .await
    .expect("direct driver");
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
        direct,
        case,
    })
}

/// The keys in the service whose description is `name`, with their tags.
async fn keys_named(direct: &AwsKms, name: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let client = direct.client();
    let mut found = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = client
            .list_keys()
            .set_marker(marker.take())
            .send()
            .await
            .expect("ListKeys");
        for k in page.keys() {
            let id = k.key_id().expect("key id").to_string();
            let meta = client
                .describe_key()
                .key_id(&id)
                .send()
                .await
                .expect("DescribeKey");
            if meta.key_metadata().and_then(|m| m.description()) != Some(name) {
                continue;
            }
            let tags = client
                .list_resource_tags()
                .key_id(&id)
                .send()
                .await
                .expect("ListResourceTags")
                .tags()
                .iter()
                .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
                .collect();
            found.push((id, tags));
        }
        match page.next_marker() {
            Some(m) if page.truncated() => marker = Some(m.to_string()),
            _ => return found,
        }
    }
}

async fn signing_key(s: &Setup) -> KmsKeyId {
    s.driver
        .generate_signing_key_pair(SigningKeySpec::EcP256, Some("tresor-faults-signing"))
        .await
        .expect("signing key")
}

async fn cleanup(s: &Setup, keys: &[&KmsKeyId]) {
    s.proxy.clear_faults();
    for k in keys {
        let _ = s.driver.delete_key(k).await;
    }
}

// --- (a) retryable faults are recovered ----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_retried_on_sign_and_encrypt() {
    let Some(s) = setup("throttle", 8).await else {
        return;
    };
    let key = signing_key(&s).await;
    s.proxy.reset_counts();
    s.proxy.inject_on("TrentService.Sign", Fault::Throttle, 3);
    let sig = s
        .driver
        .sign(&key, b"throttled", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect("sign succeeds after 3 throttles");
    assert!(!sig.is_empty());
    assert_eq!(
        s.proxy.count("Sign"),
        4,
        "3 throttled attempts and 1 that went through"
    );
    assert_eq!(s.proxy.pending(), 0);

    let sym = s
        .driver
        .generate_symmetric_key(Some("tresor-faults-symmetric"))
        .await
        .expect("symmetric key");
    s.proxy.reset_counts();
    s.proxy
        .inject_on("TrentService.Encrypt", Fault::Throttle, 3);
    let ct = s
        .driver
        .encrypt_symmetric(&sym, b"throttled plaintext")
        .await
        .expect("encrypt succeeds after 3 throttles");
    assert_eq!(s.proxy.count("Encrypt"), 4);
    let pt = s
        .driver
        .decrypt_symmetric(&sym, &ct)
        .await
        .expect("decrypt");
    assert_eq!(pt.as_slice(), b"throttled plaintext");
    cleanup(&s, &[&key, &sym]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried() {
    let Some(s) = setup("5xx", 8).await else {
        return;
    };
    let key = signing_key(&s).await;
    s.proxy.reset_counts();
    s.proxy
        .inject_on("TrentService.Sign", Fault::ServerError, 2);
    s.driver
        .sign(&key, b"after two 500s", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect("sign succeeds after 2 × 500");
    assert_eq!(s.proxy.count("Sign"), 3);
    assert_eq!(s.proxy.pending(), 0);
    cleanup(&s, &[&key]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_is_retried() {
    let Some(s) = setup("reset", 8).await else {
        return;
    };
    let key = signing_key(&s).await;
    s.proxy.reset_counts();
    s.proxy
        .inject_on("TrentService.Sign", Fault::ConnectionReset, 1);
    s.driver
        .sign(&key, b"after a reset", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect("sign succeeds after a dropped connection");
    assert_eq!(s.proxy.count("Sign"), 2);
    assert_eq!(s.proxy.pending(), 0);
    cleanup(&s, &[&key]).await;
}

// --- (b) non-retryable errors surface at once ----------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_is_not_retried() {
    let Some(s) = setup("denied", 8).await else {
        return;
    };
    let key = signing_key(&s).await;
    s.proxy.reset_counts();
    s.proxy
        .inject_on("TrentService.Sign", Fault::AccessDenied, 1);
    let err = s
        .driver
        .sign(&key, b"denied", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect_err("access denied");
    assert_eq!(err.kind(), ErrorKind::KmsPermissionDenied, "{err}");
    assert!(
        err.message().contains("kms:Sign"),
        "the error names the operation: {err}"
    );
    assert_eq!(s.proxy.count("Sign"), 1, "exactly one request, no retry");
    cleanup(&s, &[&key]).await;
}

// --- (c) a retried create leaves one key ---------------------------------------------------------------

async fn assert_one_key(s: &Setup, name: &str, id: &KmsKeyId) {
    let keys = keys_named(&s.direct, name).await;
    assert_eq!(
        keys.len(),
        1,
        "exactly one key named {name} in the service: {keys:?}"
    );
    let (found, tags) = &keys[0];
    assert!(
        id.as_str() == found || id.as_str().ends_with(&format!("/{found}")),
        "the driver returned the key the service holds ({id} vs {found})"
    );
    assert_eq!(tags.get("tresor-test-case"), Some(&s.case));
    assert!(tags.contains_key(REQUEST_ID_TAG), "{tags:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_lost_on_the_way_back_makes_one_key() {
    let Some(s) = setup("create", 8).await else {
        return;
    };
    let name = unique("lost");
    s.proxy.reset_counts();
    // The service makes the key, the client sees a dropped connection.
    s.proxy
        .inject_on("TrentService.CreateKey", Fault::ResetAfterForward, 1);
    let id = s
        .driver
        .generate_signing_key_pair(SigningKeySpec::EcP256, Some(&name))
        .await
        .expect("create succeeds");
    assert_eq!(
        s.proxy.count("CreateKey"),
        1,
        "the key was found, not made again"
    );
    assert_one_key(&s, &name, &id).await;
    cleanup(&s, &[&id]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_create_whose_look_up_fails_makes_one_key() {
    let Some(s) = setup("create2", 8).await else {
        return;
    };
    let name = unique("lost2");
    s.proxy.reset_counts();
    // The key is made but the answer is lost, and the look-up right after fails too: the retry layer's
    // next attempt must look again before creating.
    s.proxy
        .inject_on("TrentService.CreateKey", Fault::ResetAfterForward, 1);
    s.proxy
        .inject_on("TrentService.ListKeys", Fault::ConnectionReset, 1);
    let id = s
        .driver
        .generate_signing_key_pair(SigningKeySpec::EcP256, Some(&name))
        .await
        .expect("create succeeds");
    assert_eq!(s.proxy.count("CreateKey"), 1);
    assert_eq!(s.proxy.count("ListKeys"), 2, "looked up twice");
    assert_one_key(&s, &name, &id).await;
    cleanup(&s, &[&id]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_refused_before_reaching_the_service_is_made_once() {
    let Some(s) = setup("create3", 8).await else {
        return;
    };
    let name = unique("refused");
    s.proxy.reset_counts();
    // Never forwarded: nothing was made, so the retry makes the key (once).
    s.proxy
        .inject_on("TrentService.CreateKey", Fault::ConnectionReset, 1);
    let id = s
        .driver
        .generate_signing_key_pair(SigningKeySpec::EcP256, Some(&name))
        .await
        .expect("create succeeds");
    assert_eq!(s.proxy.count("CreateKey"), 2);
    assert_one_key(&s, &name, &id).await;
    cleanup(&s, &[&id]).await;
}

// --- (d) health ----------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_degraded_during_a_5xx_burst_and_recovers() {
    // Few retries, so a burst longer than the retry budget surfaces.
    let Some(s) = setup("health", 2).await else {
        return;
    };
    let key = signing_key(&s).await;
    assert_eq!(s.driver.health().await, KmsHealth::Ok);

    // A burst the retries cannot outlast: the call fails and the driver is Degraded.
    s.proxy
        .inject_on("TrentService.Sign", Fault::ServerError, 3);
    let err = s
        .driver
        .sign(&key, b"burst", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect_err("3 × 500 with 2 retries");
    assert_eq!(err.kind(), ErrorKind::KmsUnavailable, "{err}");
    let h = s.driver.health().await;
    assert!(matches!(h, KmsHealth::Degraded(_)), "{h:?}");

    // Still failing while the retry loop of the next call waits: still Degraded; then it succeeds: Ok.
    // The third attempt is held by the proxy until the health has been read.
    let signs = s.proxy.count("Sign");
    s.proxy
        .inject_on("TrentService.Sign", Fault::ServerError, 2);
    s.proxy.inject_on("TrentService.Sign", Fault::Hold, 1);
    let d = s.driver.clone();
    let k = key.clone();
    let call = tokio::spawn(async move {
        d.sign(&k, b"recovering", SigningAlgorithmSpec::EcDsaSha256)
            .await
    });
    let waiting_since = Instant::now();
    while s.proxy.count("Sign") < signs + 3 {
        assert!(
            waiting_since.elapsed() < Duration::from_secs(60),
            "the third sign attempt did not reach the proxy within 60 s (hung?); {} seen",
            s.proxy.count("Sign") - signs
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let h = s.driver.health().await;
    assert!(
        matches!(h, KmsHealth::Degraded(_)),
        "degraded during the burst: {h:?}"
    );
    assert!(!call.is_finished(), "the held attempt is still in flight");
    s.proxy.release();
    call.await.expect("task").expect("sign recovers");
    assert_eq!(s.proxy.count("Sign"), signs + 3, "2 failures, then success");
    assert_eq!(s.driver.health().await, KmsHealth::Ok);
    cleanup(&s, &[&key]).await;
}

// --- (e) latency ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_is_absorbed() {
    let Some(s) = setup("latency", 8).await else {
        return;
    };
    let key = signing_key(&s).await;
    s.proxy.reset_counts();
    s.proxy.inject_on(
        "TrentService.Sign",
        Fault::Latency(Duration::from_millis(300)),
        1,
    );
    s.driver
        .sign(&key, b"slow", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect("a slow answer is still an answer");
    assert_eq!(s.proxy.pending(), 0, "the sign request was the delayed one");
    assert_eq!(s.proxy.count("Sign"), 1, "no retry for a slow answer");
    cleanup(&s, &[&key]).await;
}
