//! The AWS KMS driver against a real AWS KMS API endpoint (local-kms, started by `scripts/test.sh kms-aws`).
//!
//! The endpoint comes from `TRESOR_TEST_AWS_ENDPOINT`; credentials and region from the usual AWS variables
//! (an emulator takes any, e.g. `AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1`).
//! Without an endpoint every test fails, unless `TRESOR_SKIP_AWS=1` says to skip them.
//! `TRESOR_TEST_AWS_SERVICE` names the emulator behind the endpoint (`local-kms`, the default, or `moto`),
//! which selects its known gaps.
//!
//! Gaps (operations the service cannot do) are printed by name; each one is covered by the same case
//! against the software driver in `kms_software.rs`.
#![cfg(feature = "aws")]

#[path = "common/conformance.rs"]
mod conformance;

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_kms::types::KeyState;
use tresor::kms::aws::{AwsConfig, AwsKms};
use tresor::kms::{KmsDriver, KmsHealth, KmsKeyId, LayerConfig, MAX_SIGN_INPUT, layered};
use tresor::{EncryptionAlgorithmSpec, ErrorKind, SigningAlgorithmSpec, SigningKeySpec};

/// The endpoint under test, or `None` when the tests are to be skipped.
fn endpoint(test: &str) -> Option<String> {
    match std::env::var("TRESOR_TEST_AWS_ENDPOINT") {
        Ok(e) if !e.is_empty() => {
            assert!(
                std::env::var_os("AWS_ACCESS_KEY_ID").is_some()
                    && std::env::var_os("AWS_SECRET_ACCESS_KEY").is_some(),
                "TRESOR_TEST_AWS_ENDPOINT is set but AWS credentials are not: export \
                 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 for an emulator"
            );
            Some(e)
        }
        _ if std::env::var("TRESOR_SKIP_AWS").as_deref() == Ok("1") => {
            eprintln!("skipped: {test}: TRESOR_SKIP_AWS=1 and no TRESOR_TEST_AWS_ENDPOINT");
            None
        }
        _ => panic!(
            "TRESOR_TEST_AWS_ENDPOINT is not set: run `./scripts/test.sh kms-aws` (starts local-kms), or point \
             it at an AWS KMS endpoint, or set TRESOR_SKIP_AWS=1 to skip the AWS tests"
        ),
    }
}

fn region() -> String {
    std::env::var("AWS_REGION")
        .ok()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "us-east-1".to_string())
}

/// Which emulator serves the endpoint (`TRESOR_TEST_AWS_SERVICE`: `local-kms`, the default, or `moto`).
fn service() -> String {
    std::env::var("TRESOR_TEST_AWS_SERVICE")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "local-kms".to_string())
}

/// The known gaps of the emulator, by name (each covered by the software driver in kms_software.rs).
fn encryption_gaps() -> Vec<(EncryptionAlgorithmSpec, &'static str)> {
    match service().as_str() {
        "moto" => vec![(
            EncryptionAlgorithmSpec::RsaOaepSha256,
            "moto's Decrypt only opens its own symmetric ciphertext format, not RSAES_OAEP_SHA_256 \
             ciphertexts made with the public key (covered by the software driver)",
        )],
        _ => Vec::new(),
    }
}

fn config(endpoint: &str) -> AwsConfig {
    AwsConfig {
        region: region(),
        endpoint_override: Some(endpoint.to_string()),
        ..Default::default()
    }
}

/// A driver for the endpoint, offering Ed25519 only when the service passes the probe.
async fn driver(endpoint: &str) -> AwsKms {
    let kms = AwsKms::new(config(endpoint)).await.expect("driver");
    let ed = kms.probe_ed25519().await.expect("Ed25519 probe");
    if !ed {
        eprintln!(
            "gap [aws] Ed25519 (ECC_NIST_EDWARDS25519 / ED25519_SHA_512): not supported by {endpoint}; \
             the Ed25519 cases run against the software driver (kms_software.rs)"
        );
    }
    kms.with_ed25519(ed)
}

fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("tresor-test-{tag}-{}-{nanos}", std::process::id())
}

async fn arn_of(kms: &AwsKms, id: &KmsKeyId) -> KmsKeyId {
    let out = kms
        .client()
        .describe_key()
        .key_id(id.as_str())
        .send()
        .await
        .expect("DescribeKey");
    let arn = out
        .key_metadata()
        .and_then(|m| m.arn())
        .expect("DescribeKey returns the key ARN")
        .to_string();
    assert!(arn.starts_with("arn:"), "an ARN: {arn}");
    KmsKeyId::new(arn).expect("id")
}

async fn alias_of(kms: &AwsKms, id: &KmsKeyId, tag: &str) -> KmsKeyId {
    let alias = format!("alias/{}", unique(tag));
    kms.client()
        .create_alias()
        .alias_name(&alias)
        .target_key_id(id.as_str())
        .send()
        .await
        .expect("CreateAlias");
    KmsKeyId::new(alias).expect("id")
}

async fn key_state(kms: &AwsKms, id: &KmsKeyId) -> Option<KeyState> {
    kms.client()
        .describe_key()
        .key_id(id.as_str())
        .send()
        .await
        .expect("DescribeKey")
        .key_metadata()
        .and_then(|m| m.key_state())
        .cloned()
}

/// Print what AWS KMS cannot do by design (not a gap of the service under test).
fn print_design_limits(kms: &AwsKms) {
    eprintln!(
        "[aws] encryption algorithms: {:?} (AWS KMS has no EC encryption, so no ECIES: by design, not a gap; \
         ECIES runs against the software driver)",
        kms.supported_encryption_algo_specs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_driver_with_key_generation() {
    let Some(ep) = endpoint("aws_driver_with_key_generation") else {
        return;
    };
    let kms = Arc::new(driver(&ep).await);
    print_design_limits(&kms);
    let s = conformance::run(
        kms.clone(),
        &conformance::Options {
            allow_key_generation: true,
            encryption_gaps: encryption_gaps(),
            ..Default::default()
        },
    )
    .await;
    eprintln!("[aws] generation: {} passed, gaps {:?}", s.passed, s.gaps);
    assert!(s.passed >= 12, "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_driver_with_predefined_keys_by_arn_and_alias() {
    let Some(ep) = endpoint("aws_driver_with_predefined_keys_by_arn_and_alias") else {
        return;
    };
    let kms = Arc::new(driver(&ep).await);
    let mut signing = Vec::new();
    for spec in kms.supported_signing_key_specs() {
        let id = kms
            .generate_signing_key_pair(spec, Some("tresor-predefined"))
            .await
            .unwrap_or_else(|e| panic!("generate {spec}: {e}"));
        signing.push((spec, id));
    }
    let mut encryption = Vec::new();
    for spec in kms.supported_encryption_key_specs() {
        let id = kms
            .generate_encryption_key_pair(spec, Some("tresor-predefined"))
            .await
            .unwrap_or_else(|e| panic!("generate {spec}: {e}"));
        encryption.push((spec, id));
    }
    let symmetric = kms
        .generate_symmetric_key(Some("tresor-predefined"))
        .await
        .expect("generate symmetric");

    // Round 1: every key addressed by its ARN.
    let mut opts = conformance::Options {
        encryption_gaps: encryption_gaps(),
        ..Default::default()
    };
    for (spec, id) in &signing {
        opts.predefined_signing
            .push((*spec, arn_of(&kms, id).await));
    }
    for (spec, id) in &encryption {
        opts.predefined_encryption
            .push((*spec, arn_of(&kms, id).await));
    }
    opts.predefined_symmetric = Some(arn_of(&kms, &symmetric).await);
    let s = conformance::run(kms.clone(), &opts).await;
    eprintln!(
        "[aws] predefined by ARN: {} passed, gaps {:?}",
        s.passed, s.gaps
    );
    assert!(s.passed >= 8, "{s:?}");

    // Round 2: every key addressed by an alias (CreateAlias).
    let mut opts = conformance::Options {
        encryption_gaps: encryption_gaps(),
        ..Default::default()
    };
    let mut aliases = Vec::new();
    for (spec, id) in &signing {
        let a = alias_of(&kms, id, "sig").await;
        aliases.push((a.clone(), id.clone()));
        opts.predefined_signing.push((*spec, a));
    }
    for (spec, id) in &encryption {
        let a = alias_of(&kms, id, "enc").await;
        aliases.push((a.clone(), id.clone()));
        opts.predefined_encryption.push((*spec, a));
    }
    let a = alias_of(&kms, &symmetric, "sym").await;
    aliases.push((a.clone(), symmetric.clone()));
    opts.predefined_symmetric = Some(a);
    let s = conformance::run(kms.clone(), &opts).await;
    eprintln!(
        "[aws] predefined by alias: {} passed, gaps {:?}",
        s.passed, s.gaps
    );
    assert!(s.passed >= 8, "{s:?}");

    // key_exists_and_is_active and delete_key accept aliases too (ScheduleKeyDeletion itself does not:
    // the driver resolves the alias first).
    for (alias, id) in &aliases {
        kms.key_exists_and_is_active(alias)
            .await
            .unwrap_or_else(|e| panic!("exists via {alias}: {e}"));
        kms.delete_key(alias)
            .await
            .unwrap_or_else(|e| panic!("delete via {alias}: {e}"));
        assert_eq!(
            key_state(&kms, id).await,
            Some(KeyState::PendingDeletion),
            "{alias}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_key_is_reported_non_retryable() {
    let Some(ep) = endpoint("disabled_key_is_reported_non_retryable") else {
        return;
    };
    let kms = driver(&ep).await;
    let id = kms
        .generate_signing_key_pair(SigningKeySpec::EcP256, Some("tresor-disabled"))
        .await
        .expect("generate");
    kms.key_exists_and_is_active(&id).await.expect("active");
    kms.client()
        .disable_key()
        .key_id(id.as_str())
        .send()
        .await
        .expect("DisableKey");
    let e = kms
        .key_exists_and_is_active(&id)
        .await
        .expect_err("a disabled key is not active");
    assert_eq!(e.kind(), ErrorKind::KmsKeyDisabled, "{e}");
    assert!(!e.is_retryable(), "{e}");
    match kms
        .sign(&id, b"test", SigningAlgorithmSpec::EcDsaSha256)
        .await
    {
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::KmsKeyDisabled, "{e}");
            assert!(!e.is_retryable(), "{e}");
        }
        Ok(_) => eprintln!(
            "gap [aws] signing with a disabled key: {ep} signs anyway (the emulator ignores key state); \
             the software driver refuses every operation on a disabled key (KmsKeyDisabled; vault_sqlite.rs)"
        ),
    }
    let _ = kms.delete_key(&id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_key_is_not_retryable() {
    let Some(ep) = endpoint("unknown_key_is_not_retryable") else {
        return;
    };
    let kms = driver(&ep).await;
    let missing = KmsKeyId::new("0b9e2a6c-1f0d-4c39-9d51-7d0f3a0c5e11").expect("id");
    let e = kms
        .key_exists_and_is_active(&missing)
        .await
        .expect_err("no such key");
    assert_eq!(e.kind(), ErrorKind::KmsKeyNotFound, "{e}");
    assert!(!e.is_retryable(), "{e}");
    let e = kms
        .sign(&missing, b"test", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect_err("no such key");
    assert!(!e.is_retryable(), "{e}");
    let e = kms
        .get_public_key(&KmsKeyId::new("alias/tresor-no-such-alias").expect("id"))
        .await
        .expect_err("no such alias");
    assert!(!e.is_retryable(), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_inputs_fail_before_any_network_call() {
    // An endpoint where nothing listens: a request that went out would fail as KmsUnavailable. The
    // bounds are the bounds layer's, which `layered` always puts above the driver.
    let kms = AwsKms::new(AwsConfig {
        region: "us-east-1".to_string(),
        endpoint_override: Some("http://127.0.0.1:9".to_string()),
        ..Default::default()
    })
    .await
    .expect("driver");
    let kms = layered(Arc::new(kms), LayerConfig::minimal());
    let id = KmsKeyId::new("alias/whatever").expect("id");
    let e = kms
        .sign(
            &id,
            &vec![0u8; MAX_SIGN_INPUT + 1],
            SigningAlgorithmSpec::EcDsaSha256,
        )
        .await
        .expect_err("too large");
    assert_eq!(e.kind(), ErrorKind::InputTooLarge, "{e}");
    let e = kms
        .encrypt_symmetric(&id, &[0u8; 4097])
        .await
        .expect_err("too large");
    assert_eq!(e.kind(), ErrorKind::InputTooLarge, "{e}");
    let e = kms
        .decrypt_symmetric(&id, &[0u8; 6145])
        .await
        .expect_err("too large");
    assert_eq!(e.kind(), ErrorKind::InputTooLarge, "{e}");
    let e = kms
        .generate_symmetric_key(Some(&"n".repeat(301)))
        .await
        .expect_err("name too long");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    // And a request that does go out to nothing is retryable, and health says degraded.
    let e = kms
        .sign(&id, b"test", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect_err("nothing listens");
    assert_eq!(e.kind(), ErrorKind::KmsUnavailable, "{e}");
    assert!(e.is_retryable());
    assert!(
        matches!(kms.health().await, KmsHealth::Degraded(_)),
        "health with no service"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_keys_carry_tags_and_description() {
    let Some(ep) = endpoint("created_keys_carry_tags_and_description") else {
        return;
    };
    let mut cfg = config(&ep);
    cfg.custom_tags = BTreeMap::from([
        ("team".to_string(), "tresor-tests".to_string()),
        ("CreatedBy".to_string(), "someone-else".to_string()),
    ]);
    let kms = AwsKms::new(cfg).await.expect("driver");
    let name = unique("tags");
    let id = kms
        .generate_symmetric_key(Some(&name))
        .await
        .expect("generate");
    let meta = kms
        .client()
        .describe_key()
        .key_id(id.as_str())
        .send()
        .await
        .expect("DescribeKey");
    let meta = meta.key_metadata().expect("metadata");
    assert_eq!(
        meta.key_id(),
        id.as_str(),
        "the id kept is KeyMetadata.KeyId"
    );
    assert_eq!(meta.description(), Some(name.as_str()), "description");
    let tags = kms
        .client()
        .list_resource_tags()
        .key_id(id.as_str())
        .send()
        .await
        .expect("ListResourceTags");
    let tags: BTreeMap<&str, &str> = tags
        .tags()
        .iter()
        .map(|t| (t.tag_key(), t.tag_value()))
        .collect();
    assert_eq!(tags.get("CreatedBy"), Some(&"tresor"), "{tags:?}");
    assert_eq!(tags.get("team"), Some(&"tresor-tests"), "{tags:?}");

    // No name: an empty description.
    let id2 = kms.generate_symmetric_key(None).await.expect("generate");
    let out = kms
        .client()
        .describe_key()
        .key_id(id2.as_str())
        .send()
        .await
        .expect("DescribeKey");
    assert_eq!(
        out.key_metadata()
            .and_then(|m| m.description())
            .unwrap_or(""),
        ""
    );
    let _ = kms.delete_key(&id).await;
    let _ = kms.delete_key(&id2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletion_is_scheduled() {
    let Some(ep) = endpoint("deletion_is_scheduled") else {
        return;
    };
    let kms = driver(&ep).await;
    let id = kms
        .generate_encryption_key_pair(tresor::EncryptionKeySpec::Rsa2048, Some("tresor-delete"))
        .await
        .expect("generate");
    kms.delete_key(&id).await.expect("delete");
    assert_eq!(key_state(&kms, &id).await, Some(KeyState::PendingDeletion));
    let e = kms
        .key_exists_and_is_active(&id)
        .await
        .expect_err("a key pending deletion is not active");
    assert_eq!(e.kind(), ErrorKind::KmsKeyDisabled, "{e}");
    assert!(!e.is_retryable(), "{e}");
    // A signing key where an encryption key is expected (and the reverse) is refused.
    let sig = kms
        .generate_signing_key_pair(SigningKeySpec::EcP384, None)
        .await
        .expect("generate");
    assert!(kms.get_public_encryption_key(&sig).await.is_err());
    kms.get_public_signing_key(&sig).await.expect("signing key");
    let _ = kms.delete_key(&sig).await;
}
