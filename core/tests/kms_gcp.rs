//! The GCP KMS driver against gcp-kms-emulator (started by `scripts/services/gcp-kms-emulator.sh`, or
//! `./scripts/test.sh kms-gcp`), never against a mock.
//!
//! `TRESOR_TEST_GCP_ENDPOINT` is the emulator's REST base URL. Without it the tests fail, unless
//! `TRESOR_SKIP_GCP=1`, which makes them print "skipped: …" and pass.
//!
//! What the emulator cannot do is reported by name as a gap; the same conformance case runs against the
//! software driver (tests/kms_software.rs).
#![cfg(feature = "gcp")]

#[path = "common/conformance.rs"]
mod conformance;

use std::sync::Arc;

use tresor::kms::gcp::{GcpConfig, GcpKms};
use tresor::kms::{KmsDriver, KmsKeyId, KmsKeySpec, LayerConfig, layered};
use tresor::primitives::Verifier;
use tresor::{EncryptionKeySpec, ErrorKind, SigningAlgorithmSpec, SigningKeySpec};

const PROJECT: &str = "tresor-test";
const LOCATION: &str = "global";

/// The emulator endpoint; `None` (after printing why) when the tests are explicitly skipped.
fn endpoint(test: &str) -> Option<String> {
    match std::env::var("TRESOR_TEST_GCP_ENDPOINT") {
        Ok(e) if !e.trim().is_empty() => Some(e.trim().to_string()),
        _ if std::env::var("TRESOR_SKIP_GCP").as_deref() == Ok("1") => {
            eprintln!(
                "skipped: {test}: TRESOR_SKIP_GCP=1 and no TRESOR_TEST_GCP_ENDPOINT (start the \
                 emulator with scripts/services/gcp-kms-emulator.sh start)"
            );
            None
        }
        _ => panic!(
            "{test}: TRESOR_TEST_GCP_ENDPOINT is not set. Run ./scripts/test.sh kms-gcp (it starts \
             gcp-kms-emulator), or export TRESOR_TEST_GCP_ENDPOINT=$(scripts/services/gcp-kms-emulator.sh url); \
             set TRESOR_SKIP_GCP=1 to skip these tests deliberately"
        ),
    }
}

/// A key ring of its own for each test, so tests do not see each other's keys.
fn ring(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("tresor-{test}-{}-{nanos}", std::process::id())
}

async fn driver(endpoint: &str, test: &str) -> GcpKms {
    GcpKms::connect(GcpConfig {
        location_id: LOCATION.to_string(),
        project_id: PROJECT.to_string(),
        key_ring_id: ring(test),
        endpoint_override: Some(endpoint.to_string()),
        audit_logging: false,
    })
    .await
    .expect("connect to the emulator")
}

fn gap(what: &str, why: &str) {
    eprintln!(
        "gap [gcp] {what}: {why}; the same case is covered by the software driver's run \
         (tests/kms_software.rs)"
    );
}

/// Which optional signing specs the emulator can generate and sign with. P-256, P-384, RSA-2048 and
/// symmetric keys are required to work; Ed25519 and secp256k1 are probed and reported as gaps.
async fn probe_gaps(kms: &GcpKms) -> conformance::Options {
    let mut opts = conformance::Options::default();
    for spec in [SigningKeySpec::EcCurve25519, SigningKeySpec::EcSecp256k1] {
        let algo = spec.default_algorithm();
        match kms.generate_signing_key_pair(spec, None).await {
            Err(e) => {
                let why: &'static str = Box::leak(
                    format!("the emulator cannot create {spec} keys ({e})").into_boxed_str(),
                );
                opts.generation_gaps.push((KmsKeySpec::Signing(spec), why));
                if spec == SigningKeySpec::EcCurve25519 {
                    opts.signing_gaps.push((algo, why));
                }
            }
            Ok(id) => {
                let signed = async {
                    let pk = kms.get_public_key(&id).await?;
                    let sig = kms.sign(&id, b"probe", algo).await?;
                    Verifier::new(pk.key)?.verify(algo, b"probe", &sig)
                }
                .await;
                if let Err(e) = signed {
                    let why: &'static str = Box::leak(
                        format!("the emulator cannot sign with {spec} keys ({e})").into_boxed_str(),
                    );
                    if spec == SigningKeySpec::EcCurve25519 {
                        opts.signing_gaps.push((algo, why));
                    } else {
                        gap(&format!("sign {spec}"), why);
                    }
                }
                let _ = kms.delete_key(&id).await;
            }
        }
    }
    for (s, why) in &opts.generation_gaps {
        gap(&format!("generate {s}"), why);
    }
    for (a, why) in &opts.signing_gaps {
        gap(&format!("sign {a}"), why);
    }
    opts
}

#[tokio::test]
async fn gcp_conformance_with_key_generation() {
    let Some(ep) = endpoint("gcp_conformance_with_key_generation") else {
        return;
    };
    let kms = Arc::new(driver(&ep, "gen").await);
    let mut opts = probe_gaps(&kms).await;
    opts.allow_key_generation = true;
    let s = conformance::run(kms.clone(), &opts).await;
    eprintln!(
        "gcp conformance (generation): {} passed, gaps: {:?}",
        s.passed, s.gaps
    );
    assert!(s.passed >= 12, "{s:?}");
}

async fn predefined(kms: &GcpKms, opts: &mut conformance::Options, full_names: bool) {
    let name = |id: KmsKeyId| -> KmsKeyId {
        if full_names {
            KmsKeyId::new(format!("{}/cryptoKeys/{id}", kms.key_ring_name())).expect("id")
        } else {
            id
        }
    };
    for spec in SigningKeySpec::ALL {
        if opts
            .generation_gaps
            .iter()
            .any(|(k, _)| *k == KmsKeySpec::Signing(*spec))
        {
            continue;
        }
        let id = kms
            .generate_signing_key_pair(*spec, None)
            .await
            .expect("gen");
        opts.predefined_signing.push((*spec, name(id)));
    }
    let id = kms
        .generate_encryption_key_pair(EncryptionKeySpec::Rsa2048, None)
        .await
        .expect("gen");
    opts.predefined_encryption
        .push((EncryptionKeySpec::Rsa2048, name(id)));
    opts.predefined_symmetric = Some(name(kms.generate_symmetric_key(None).await.expect("gen")));
}

#[tokio::test]
async fn gcp_conformance_with_predefined_keys_by_resource_name() {
    let Some(ep) = endpoint("gcp_conformance_with_predefined_keys_by_resource_name") else {
        return;
    };
    let kms = Arc::new(driver(&ep, "full").await);
    let mut opts = probe_gaps(&kms).await;
    predefined(&kms, &mut opts, true).await;
    assert!(
        opts.predefined_signing
            .iter()
            .all(|(_, id)| id.as_str().starts_with("projects/"))
    );
    let s = conformance::run(kms.clone(), &opts).await;
    eprintln!(
        "gcp conformance (predefined, full names): {} passed, gaps: {:?}",
        s.passed, s.gaps
    );
    assert!(s.passed >= 9, "{s:?}");
}

#[tokio::test]
async fn gcp_conformance_with_predefined_keys_by_short_name() {
    let Some(ep) = endpoint("gcp_conformance_with_predefined_keys_by_short_name") else {
        return;
    };
    let kms = Arc::new(driver(&ep, "short").await);
    let mut opts = probe_gaps(&kms).await;
    predefined(&kms, &mut opts, false).await;
    let s = conformance::run(kms.clone(), &opts).await;
    eprintln!(
        "gcp conformance (predefined, short names): {} passed, gaps: {:?}",
        s.passed, s.gaps
    );
    assert!(s.passed >= 9, "{s:?}");
}

#[tokio::test]
async fn unknown_key_is_not_found_and_not_retryable() {
    let Some(ep) = endpoint("unknown_key_is_not_found_and_not_retryable") else {
        return;
    };
    let kms = driver(&ep, "unknown").await;
    let id = KmsKeyId::new("no-such-key-0000").expect("id");
    for e in [
        kms.key_exists_and_is_active(&id)
            .await
            .expect_err("unknown key"),
        kms.sign(&id, b"x", SigningAlgorithmSpec::EcDsaSha256)
            .await
            .expect_err("unknown key"),
        kms.get_public_key(&id).await.expect_err("unknown key"),
    ] {
        assert_eq!(e.kind(), ErrorKind::KmsKeyNotFound, "{e}");
        assert!(!e.is_retryable(), "{e}");
    }
    let full = KmsKeyId::new(format!(
        "{}/cryptoKeys/no-such-key-0000",
        kms.key_ring_name()
    ))
    .expect("id");
    let e = kms
        .key_exists_and_is_active(&full)
        .await
        .expect_err("unknown key");
    assert_eq!(e.kind(), ErrorKind::KmsKeyNotFound, "{e}");
}

#[tokio::test]
async fn destroyed_version_is_disabled_and_not_retryable() {
    let Some(ep) = endpoint("destroyed_version_is_disabled_and_not_retryable") else {
        return;
    };
    let kms = driver(&ep, "state").await;
    let id = kms
        .generate_signing_key_pair(SigningKeySpec::EcP256, None)
        .await
        .expect("gen");
    kms.key_exists_and_is_active(&id).await.expect("active");
    kms.delete_key(&id).await.expect("destroy version 1");
    match kms.key_exists_and_is_active(&id).await {
        Ok(()) => gap(
            "destroyed version is reported disabled",
            "emulator ignores key state",
        ),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::KmsKeyDisabled, "{e}");
            assert!(!e.is_retryable(), "{e}");
            let e = kms
                .sign(&id, b"test", SigningAlgorithmSpec::EcDsaSha256)
                .await
                .expect_err("signing with a destroyed version");
            assert!(
                matches!(e.kind(), ErrorKind::KmsKeyDisabled),
                "signing with a destroyed version: {e}"
            );
            assert!(!e.is_retryable(), "{e}");
        }
    }
}

#[tokio::test]
async fn ecdsa_is_signed_by_digest_and_verifies_locally() {
    let Some(ep) = endpoint("ecdsa_is_signed_by_digest_and_verifies_locally") else {
        return;
    };
    let kms = driver(&ep, "digest").await;
    let data: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
    for (spec, algo) in [
        (SigningKeySpec::EcP256, SigningAlgorithmSpec::EcDsaSha256),
        (SigningKeySpec::EcP384, SigningAlgorithmSpec::EcDsaSha384),
    ] {
        let id = kms
            .generate_signing_key_pair(spec, None)
            .await
            .expect("gen");
        let pk = kms.get_public_key(&id).await.expect("public key");
        assert_eq!(pk.spec, KmsKeySpec::Signing(spec));
        let sig = kms.sign(&id, &data, algo).await.expect("sign");
        Verifier::new(pk.key.clone())
            .and_then(|v| v.verify(algo, &data, &sig))
            .unwrap_or_else(|e| panic!("{spec}: signature does not verify: {e}"));
        assert!(
            Verifier::new(pk.key)
                .and_then(|v| v.verify(algo, b"other data", &sig))
                .is_err(),
            "{spec}: the signature must not verify for other data"
        );
        let e = kms
            .sign(&id, &data, SigningAlgorithmSpec::Ed25519)
            .await
            .expect_err("algorithm/key mismatch");
        assert!(!e.is_retryable(), "{e}");
        let _ = kms.delete_key(&id).await;
    }
}

/// Needs no emulator: the bound is checked by the bounds layer before any request (the endpoint is a
/// closed port, so a request would fail as `KmsUnavailable`, not `InputTooLarge`).
#[tokio::test]
async fn sign_input_over_4096_bytes_is_refused_locally() {
    let kms = GcpKms::connect(GcpConfig {
        location_id: LOCATION.to_string(),
        project_id: PROJECT.to_string(),
        key_ring_id: "offline".to_string(),
        endpoint_override: Some("http://127.0.0.1:9".to_string()),
        audit_logging: false,
    })
    .await
    .expect("client");
    let kms = layered(Arc::new(kms), LayerConfig::minimal());
    let id = KmsKeyId::new("any-key").expect("id");
    let e = kms
        .sign(&id, &[0u8; 4097], SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect_err("too large");
    assert_eq!(e.kind(), ErrorKind::InputTooLarge, "{e}");
    let e = kms
        .encrypt_symmetric(&id, &[0u8; 4097])
        .await
        .expect_err("too large");
    assert_eq!(e.kind(), ErrorKind::InputTooLarge, "{e}");
    // And the same closed port, reached, is a retryable unavailability.
    let e = kms
        .key_exists_and_is_active(&id)
        .await
        .expect_err("nothing listens");
    assert!(e.is_retryable(), "a refused connection is retryable: {e}");
}
