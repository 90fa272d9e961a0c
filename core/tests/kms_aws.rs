//! The AWS KMS driver against a real AWS KMS API endpoint (local-kms, started by `scripts/test.sh kms-aws`).
//!
//! The endpoint comes from `TRESOR_TEST_AWS_ENDPOINT`; credentials and region from the usual AWS variables
//! (local-kms takes any, e.g. `AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1`).
//! Without an endpoint every test fails, unless `TRESOR_SKIP_AWS=1` says to skip them.
//! `TRESOR_TEST_AWS_SERVICE` names the service behind the endpoint (`local-kms`, the default, or `aws`),
//! which selects its pinned gaps: each capability the driver uses is probed, and a capability that fails
//! but is not pinned fails the test, as does a pinned gap that starts working.
//!
//! Ed25519 (`ECC_NIST_EDWARDS25519` / `ED25519_SHA_512`) is a gap of local-kms: the requests the driver
//! sends for it are checked against a local capture instead (`ed25519_requests_are_exactly_as_aws_expects`).
#![cfg(feature = "aws")]

#[path = "common/conformance.rs"]
mod conformance;

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_kms::types::KeyState;
use tresor::kms::aws::{AwsConfig, AwsKms};
use tresor::kms::{KmsDriver, KmsHealth, KmsKeyId, LayerConfig, MAX_SIGN_INPUT, layered};
use tresor::primitives::Verifier;
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

/// Which service serves the endpoint (`TRESOR_TEST_AWS_SERVICE`: `local-kms`, the default, or `aws`).
fn service() -> String {
    std::env::var("TRESOR_TEST_AWS_SERVICE")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "local-kms".to_string())
}

/// The capability local-kms is known to lack, by the name `pinned_gaps_of_the_service` probes it under.
const ED25519: &str = "Ed25519 keys (ECC_NIST_EDWARDS25519, ED25519_SHA_512)";

/// The gaps pinned for the service under test (name, why).
fn expected_gaps() -> Vec<(&'static str, &'static str)> {
    match service().as_str() {
        "local-kms" => vec![(
            ED25519,
            "local-kms has no ECC_NIST_EDWARDS25519 key spec (CreateKey answers ValidationException)",
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

/// A driver for the endpoint, offering Ed25519 only when the service passes the probe (which must agree
/// with the pinned gaps).
async fn driver(endpoint: &str) -> AwsKms {
    let kms = AwsKms::new(config(endpoint)).await.expect("driver");
    let ed = kms.probe_ed25519().await.expect("Ed25519 probe");
    let pinned = expected_gaps().iter().any(|(n, _)| *n == ED25519);
    assert_eq!(
        ed,
        !pinned,
        "Ed25519 on {} is {}, but the pinned gaps say otherwise: update expected_gaps()",
        service(),
        if ed { "supported" } else { "not supported" }
    );
    if !ed {
        eprintln!(
            "gap [aws] {ED25519}: not supported by {} at {endpoint} (pinned); the driver's requests are \
             checked against a local capture, the Ed25519 cases run against the software driver \
             (kms_software.rs) and tresor's GCP KMS API test server (kms_gcp.rs)",
            service()
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
    let mut opts = conformance::Options::default();
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
    let mut opts = conformance::Options::default();
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
    let e = kms
        .sign(&id, b"test", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect_err("signing with a disabled key");
    assert_eq!(e.kind(), ErrorKind::KmsKeyDisabled, "{e}");
    assert!(!e.is_retryable(), "{e}");
    let _ = kms.delete_key(&id).await;

    // The driver's own disable (tresor's extension), by alias: DisableKey gets the resolved key id.
    let sym = kms.generate_symmetric_key(None).await.expect("generate");
    let ct = kms
        .encrypt_symmetric(&sym, b"wrapped")
        .await
        .expect("encrypt");
    let alias = alias_of(&kms, &sym, "disable").await;
    kms.disable_key(&alias).await.expect("disable by alias");
    let meta = kms
        .client()
        .describe_key()
        .key_id(sym.as_str())
        .send()
        .await
        .expect("DescribeKey");
    assert_eq!(
        meta.key_metadata().and_then(|m| m.key_state()),
        Some(&KeyState::Disabled)
    );
    for (what, r) in [
        ("encrypt", kms.encrypt_symmetric(&sym, b"x").await.map(drop)),
        ("decrypt", kms.decrypt_symmetric(&sym, &ct).await.map(drop)),
        ("exists", kms.key_exists_and_is_active(&sym).await),
    ] {
        let e = r.expect_err(what);
        assert_eq!(e.kind(), ErrorKind::KmsKeyDisabled, "{what}: {e}");
        assert!(!e.is_retryable(), "{what}: {e}");
    }
    kms.disable_key(&sym)
        .await
        .expect("disabling twice is not an error");
    let _ = kms.delete_key(&sym).await;
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
    let pk = kms.get_public_key(&id).await.expect("public key");
    let ct = tresor::primitives::Encrypter::new(pk.key)
        .and_then(|e| e.encrypt(EncryptionAlgorithmSpec::RsaOaepSha256, b"secret"))
        .expect("encrypt locally");
    kms.delete_key(&id).await.expect("delete");
    assert_eq!(key_state(&kms, &id).await, Some(KeyState::PendingDeletion));
    let e = kms
        .key_exists_and_is_active(&id)
        .await
        .expect_err("a key pending deletion is not active");
    assert_eq!(e.kind(), ErrorKind::KmsKeyDisabled, "{e}");
    assert!(!e.is_retryable(), "{e}");
    // And it is refused for use: decrypt with it, and sign and encrypt with other keys pending deletion.
    let e = kms
        .decrypt_asymmetric(&id, &ct, EncryptionAlgorithmSpec::RsaOaepSha256)
        .await
        .expect_err("decrypt with a key pending deletion");
    assert_eq!(e.kind(), ErrorKind::KmsKeyDisabled, "{e}");
    let sym = kms.generate_symmetric_key(None).await.expect("generate");
    let signing = kms
        .generate_signing_key_pair(SigningKeySpec::EcP256, None)
        .await
        .expect("generate");
    kms.delete_key(&sym).await.expect("delete");
    kms.delete_key(&signing).await.expect("delete");
    for (what, r) in [
        ("encrypt", kms.encrypt_symmetric(&sym, b"x").await.map(drop)),
        (
            "sign",
            kms.sign(&signing, b"x", SigningAlgorithmSpec::EcDsaSha256)
                .await
                .map(drop),
        ),
    ] {
        let e = r.expect_err(what);
        assert_eq!(e.kind(), ErrorKind::KmsKeyDisabled, "{what}: {e}");
        assert!(!e.is_retryable(), "{what}: {e}");
    }
    // A signing key where an encryption key is expected (and the reverse) is refused.
    let sig = kms
        .generate_signing_key_pair(SigningKeySpec::EcP384, None)
        .await
        .expect("generate");
    assert!(kms.get_public_encryption_key(&sig).await.is_err());
    kms.get_public_signing_key(&sig).await.expect("signing key");
    let _ = kms.delete_key(&sig).await;
}

/// Sign `b"probe"` with a new key of `spec`, verify locally, delete the key.
async fn probe_signing(kms: &AwsKms, spec: SigningKeySpec) -> Result<(), String> {
    let algo = spec.default_algorithm();
    let id = kms
        .generate_signing_key_pair(spec, Some("tresor-gap-probe"))
        .await
        .map_err(|e| e.to_string())?;
    let r = async {
        let pk = kms.get_public_key(&id).await?;
        let sig = kms.sign(&id, b"probe", algo).await?;
        Verifier::new(pk.key)?.verify(algo, b"probe", &sig)
    }
    .await
    .map_err(|e| e.to_string());
    let _ = kms.delete_key(&id).await;
    r
}

/// Every capability the AWS driver uses, probed by name against the service; the failures must be
/// exactly the pinned gaps of `expected_gaps()`. (local-kms also signs RSA-PSS with the maximum salt
/// length instead of the digest length; that is not probed because the driver never signs with RSA:
/// Canton's signing key specs are EC and Ed25519 only.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinned_gaps_of_the_service() {
    let Some(ep) = endpoint("pinned_gaps_of_the_service") else {
        return;
    };
    let kms = AwsKms::new(config(&ep))
        .await
        .expect("driver")
        .with_ed25519(true);
    let mut results: Vec<(&str, Result<(), String>)> = Vec::new();
    for (name, spec) in [
        (
            "EC-P256 keys (ECC_NIST_P256, ECDSA_SHA_256)",
            SigningKeySpec::EcP256,
        ),
        (
            "EC-P384 keys (ECC_NIST_P384, ECDSA_SHA_384)",
            SigningKeySpec::EcP384,
        ),
        (
            "secp256k1 keys (ECC_SECG_P256K1, ECDSA_SHA_256)",
            SigningKeySpec::EcSecp256k1,
        ),
        (ED25519, SigningKeySpec::EcCurve25519),
    ] {
        results.push((name, probe_signing(&kms, spec).await));
    }
    let rsa = async {
        let id = kms
            .generate_encryption_key_pair(tresor::EncryptionKeySpec::Rsa2048, None)
            .await?;
        let pk = kms.get_public_key(&id).await?;
        let ct = tresor::primitives::Encrypter::new(pk.key)?
            .encrypt(EncryptionAlgorithmSpec::RsaOaepSha256, b"probe")?;
        let pt = kms
            .decrypt_asymmetric(&id, &ct, EncryptionAlgorithmSpec::RsaOaepSha256)
            .await?;
        let _ = kms.delete_key(&id).await;
        if pt.as_slice() == b"probe" {
            Ok(())
        } else {
            Err(tresor::Error::new(ErrorKind::KmsFailure, "wrong plaintext"))
        }
    }
    .await
    .map_err(|e| e.to_string());
    results.push((
        "RSA-2048 OAEP-SHA256 decryption of a ciphertext made with the public key",
        rsa,
    ));
    let sym = async {
        let id = kms.generate_symmetric_key(None).await?;
        let ct = kms.encrypt_symmetric(&id, b"probe").await?;
        let pt = kms.decrypt_symmetric(&id, &ct).await?;
        // The state checks: a disabled key and a key pending deletion are refused.
        kms.disable_key(&id).await?;
        let disabled = kms.encrypt_symmetric(&id, b"probe").await;
        let other = kms.generate_symmetric_key(None).await?;
        kms.delete_key(&other).await?;
        let pending = kms.encrypt_symmetric(&other, b"probe").await;
        let _ = kms.delete_key(&id).await;
        Ok::<_, tresor::Error>((pt.as_slice() == b"probe", disabled, pending))
    }
    .await;
    let (round_trip, disabled, pending) = match sym {
        Ok((ok, d, p)) => (
            if ok {
                Ok(())
            } else {
                Err("wrong plaintext".to_string())
            },
            match d {
                Err(e) if e.kind() == ErrorKind::KmsKeyDisabled => Ok(()),
                other => Err(format!("a disabled key answered {other:?}")),
            },
            match p {
                Err(e) if e.kind() == ErrorKind::KmsKeyDisabled => Ok(()),
                other => Err(format!("a key pending deletion answered {other:?}")),
            },
        ),
        Err(e) => (Err(e.to_string()), Err(e.to_string()), Err(e.to_string())),
    };
    results.push(("symmetric encrypt/decrypt (SYMMETRIC_DEFAULT)", round_trip));
    results.push(("disabled keys refused (DisabledException)", disabled));
    results.push((
        "keys pending deletion refused (KMSInvalidStateException)",
        pending,
    ));

    let expected = expected_gaps();
    let mut wrong = Vec::new();
    for (name, r) in &results {
        let pinned = expected.iter().find(|(n, _)| n == name);
        match (r, pinned) {
            (Ok(()), None) => eprintln!("[aws] {}: {name}: ok", service()),
            (Err(e), Some((_, why))) => eprintln!(
                "gap [aws] {}: {name}: expected gap ({why}); it fails as pinned: {e}",
                service()
            ),
            (Err(e), None) => wrong.push(format!("unexpected gap: {name}: {e}")),
            (Ok(()), Some(_)) => wrong.push(format!(
                "pinned gap now works: {name}: remove it from expected_gaps()"
            )),
        }
    }
    for (name, _) in &expected {
        assert!(
            results.iter().any(|(n, _)| n == name),
            "pinned gap {name} is never probed"
        );
    }
    assert!(wrong.is_empty(), "{} on {ep}: {wrong:#?}", service());
}

// --- Ed25519: the exact requests, against a local capture -------------------------------------------

/// One request the capture saw: its `X-Amz-Target` and JSON body.
#[derive(Debug, Clone)]
struct Captured {
    target: String,
    body: serde_json::Value,
}

/// A local HTTP endpoint that records every AWS JSON request and answers as AWS KMS does for an Ed25519
/// key, signing with a key of its own (so the driver's verification of what comes back is real).
struct Capture {
    url: String,
    seen: Arc<std::sync::Mutex<Vec<Captured>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const CAPTURE_KEY_ID: &str = "0d1f7a52-8c4e-4b1a-9f3e-6a2b5c7d9e01";
const CAPTURE_ARN: &str =
    "arn:aws:kms:us-east-1:111122223333:key/0d1f7a52-8c4e-4b1a-9f3e-6a2b5c7d9e01";

fn capture_answer(target: &str, body: &serde_json::Value, key: &tresor::PrivateKey) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let meta = serde_json::json!({
        "KeyId": CAPTURE_KEY_ID, "Arn": CAPTURE_ARN, "AWSAccountId": "111122223333",
        "KeySpec": "ECC_NIST_EDWARDS25519", "CustomerMasterKeySpec": "ECC_NIST_EDWARDS25519",
        "KeyUsage": "SIGN_VERIFY", "KeyState": "Enabled", "Enabled": true, "Origin": "AWS_KMS",
        "KeyManager": "CUSTOMER", "CreationDate": 1.7e9, "MultiRegion": false,
        "SigningAlgorithms": ["ED25519_SHA_512", "ED25519_PH_SHA_512"],
    });
    match target {
        "TrentService.CreateKey" | "TrentService.DescribeKey" => {
            serde_json::json!({ "KeyMetadata": meta }).to_string()
        }
        "TrentService.GetPublicKey" => serde_json::json!({
            "KeyId": CAPTURE_ARN, "KeySpec": "ECC_NIST_EDWARDS25519",
            "CustomerMasterKeySpec": "ECC_NIST_EDWARDS25519", "KeyUsage": "SIGN_VERIFY",
            "PublicKey": b64.encode(key.public_key().spki_der()),
            "SigningAlgorithms": ["ED25519_SHA_512", "ED25519_PH_SHA_512"],
        })
        .to_string(),
        "TrentService.Sign" => {
            let msg = body["Message"]
                .as_str()
                .and_then(|m| b64.decode(m).ok())
                .unwrap_or_default();
            let sig = tresor::Signer::new(key.clone())
                .and_then(|s| s.sign(SigningAlgorithmSpec::Ed25519, &msg))
                .expect("capture signs");
            serde_json::json!({
                "KeyId": CAPTURE_ARN, "Signature": b64.encode(sig),
                "SigningAlgorithm": "ED25519_SHA_512",
            })
            .to_string()
        }
        "TrentService.ScheduleKeyDeletion" => serde_json::json!({
            "KeyId": CAPTURE_ARN, "DeletionDate": 1.8e9, "KeyState": "PendingDeletion",
            "PendingWindowInDays": 7,
        })
        .to_string(),
        _ => String::new(),
    }
}

async fn capture_one(
    mut conn: tokio::net::TcpStream,
    seen: &std::sync::Mutex<Vec<Captured>>,
    key: &tresor::PrivateKey,
) -> std::io::Result<()> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    let len: usize = header("content-length").parse().unwrap_or(0);
    while buf.len() < head_end + len {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body: serde_json::Value =
        serde_json::from_slice(&buf[head_end..head_end + len]).unwrap_or_default();
    let target = header("x-amz-target");
    let answer = capture_answer(&target, &body, key);
    seen.lock().expect("lock").push(Captured { target, body });
    let (status, answer) = if answer.is_empty() {
        (
            "400 Bad Request",
            r#"{"__type":"UnsupportedOperationException","message":"not captured"}"#.to_string(),
        )
    } else {
        ("200 OK", answer)
    };
    let resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-RequestId: capture\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    );
    conn.write_all(resp.as_bytes()).await?;
    conn.shutdown().await
}

async fn start_capture() -> Capture {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the capture");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let key = tresor::PrivateKey::generate(tresor::KeyType::Ed25519).expect("Ed25519 key");
    let s = seen.clone();
    let task = tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            let s = s.clone();
            let key = key.clone();
            tokio::spawn(async move {
                let _ = capture_one(conn, &s, &key).await;
            });
        }
    });
    Capture { url, seen, task }
}

/// What AWS KMS expects for an Ed25519 key, checked request by request: `CreateKey` with
/// `KeySpec=ECC_NIST_EDWARDS25519`, `KeyUsage=SIGN_VERIFY` and tresor's tags; `Sign` with the whole
/// message (`MessageType=RAW`, message mode) and `SigningAlgorithm=ED25519_SHA_512`; the public key read
/// as DER SPKI and the 64-byte signature returned as it is (Canton's format). No AWS KMS service
/// available here has Ed25519, so the answers come from a local capture (it signs with a key of its
/// own, and the signature is verified with the public key it handed out).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ed25519_requests_are_exactly_as_aws_expects() {
    let cap = start_capture().await;
    eprintln!(
        "gap [aws] {ED25519}: no AWS KMS service here has it (local-kms lacks it); the driver's requests \
         are checked against a local capture, not a service"
    );
    let kms = AwsKms::new(config(&cap.url))
        .await
        .expect("driver")
        .with_ed25519(true);
    assert!(
        kms.supported_signing_key_specs()
            .contains(&SigningKeySpec::EcCurve25519)
    );
    let id = kms
        .generate_signing_key_pair(SigningKeySpec::EcCurve25519, Some("tresor-ed25519"))
        .await
        .expect("CreateKey");
    assert_eq!(id.as_str(), CAPTURE_KEY_ID);
    let pk = kms.get_public_key(&id).await.expect("GetPublicKey");
    assert_eq!(
        pk.spec,
        tresor::kms::KmsKeySpec::Signing(SigningKeySpec::EcCurve25519)
    );
    assert_eq!(pk.key.key_type(), tresor::KeyType::Ed25519);
    assert_eq!(pk.key.spki_der().len(), 44, "Ed25519 DER SPKI");
    let data: Vec<u8> = (0..4096u32).map(|i| (i % 253) as u8).collect();
    let sig = kms
        .sign(&id, &data, SigningAlgorithmSpec::Ed25519)
        .await
        .expect("Sign");
    assert_eq!(sig.len(), 64, "raw Ed25519 signature");
    Verifier::new(pk.key.clone())
        .and_then(|v| v.verify(SigningAlgorithmSpec::Ed25519, &data, &sig))
        .expect("the signature verifies with the public key");
    assert!(
        kms.probe_ed25519().await.expect("probe"),
        "the probe passes"
    );

    let seen = cap.seen.lock().expect("lock").clone();
    let targets: Vec<&str> = seen.iter().map(|c| c.target.as_str()).collect();
    assert_eq!(
        &targets[..3],
        [
            "TrentService.CreateKey",
            "TrentService.GetPublicKey",
            "TrentService.Sign"
        ],
        "{targets:?}"
    );
    let create = &seen[0].body;
    assert_eq!(create["KeySpec"], "ECC_NIST_EDWARDS25519", "{create}");
    assert_eq!(create["KeyUsage"], "SIGN_VERIFY", "{create}");
    assert_eq!(create["Description"], "tresor-ed25519", "{create}");
    assert_eq!(create["MultiRegion"], false, "{create}");
    let tags: Vec<(String, String)> = create["Tags"]
        .as_array()
        .expect("Tags")
        .iter()
        .map(|t| {
            (
                t["TagKey"].as_str().unwrap_or_default().to_string(),
                t["TagValue"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        tags.contains(&("CreatedBy".to_string(), "tresor".to_string())),
        "{tags:?}"
    );
    assert!(create.get("CustomerMasterKeySpec").is_none(), "{create}");
    assert_eq!(seen[1].body["KeyId"], CAPTURE_KEY_ID);
    let sign = &seen[2].body;
    {
        use base64::Engine as _;
        assert_eq!(
            sign["Message"],
            base64::engine::general_purpose::STANDARD.encode(&data),
            "the whole message, not a digest"
        );
    }
    assert_eq!(sign["MessageType"], "RAW", "{sign}");
    assert_eq!(sign["SigningAlgorithm"], "ED25519_SHA_512", "{sign}");
    assert_eq!(sign["KeyId"], CAPTURE_KEY_ID, "{sign}");
    let fields: Vec<&String> = sign.as_object().expect("object").keys().collect();
    assert_eq!(
        fields,
        ["KeyId", "Message", "MessageType", "SigningAlgorithm"],
        "no other field in Sign"
    );
    // The probe made and deleted its own key: CreateKey, GetPublicKey, Sign, ScheduleKeyDeletion.
    assert_eq!(
        &targets[3..],
        [
            "TrentService.CreateKey",
            "TrentService.GetPublicKey",
            "TrentService.Sign",
            "TrentService.ScheduleKeyDeletion"
        ]
    );
    assert_eq!(seen[6].body["PendingWindowInDays"], 7);
}
