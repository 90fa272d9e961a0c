//! The GCP KMS driver against tresor's GCP KMS API test server (`tests/services/gcp-kms`, the Cloud KMS v1
//! REST API written from Google's public reference, its fidelity checked by Google's own Python client;
//! not Google's service), started by `scripts/services/gcp-kms.sh` or `./scripts/test.sh kms-gcp`. Never
//! against a mock.
//!
//! `TRESOR_TEST_GCP_ENDPOINT` is the server's REST base URL. Without it the tests fail, unless
//! `TRESOR_SKIP_GCP=1`, which makes them print "skipped: …" and pass.
//!
//! Every key spec and algorithm the driver offers, Ed25519 (`EC_SIGN_ED25519`) included, must work on the
//! server: there is no expected gap, so any failure fails the test.
#![cfg(feature = "gcp")]

#[path = "common/conformance.rs"]
mod conformance;

use std::io::{Read as _, Write as _};
use std::sync::Arc;

use tresor::kms::gcp::{GcpConfig, GcpKms};
use tresor::kms::{KmsDriver, KmsKeyId, KmsKeySpec, LayerConfig, layered};
use tresor::primitives::Verifier;
use tresor::{EncryptionKeySpec, ErrorKind, KeyType, SigningAlgorithmSpec, SigningKeySpec};

const PROJECT: &str = "tresor-test";
const LOCATION: &str = "global";

/// The server's endpoint; `None` (after printing why) when the tests are explicitly skipped.
fn endpoint(test: &str) -> Option<String> {
    match std::env::var("TRESOR_TEST_GCP_ENDPOINT") {
        Ok(e) if !e.trim().is_empty() => Some(e.trim().to_string()),
        _ if std::env::var("TRESOR_SKIP_GCP").as_deref() == Ok("1") => {
            eprintln!(
                "skipped: {test}: TRESOR_SKIP_GCP=1 and no TRESOR_TEST_GCP_ENDPOINT (start tresor's GCP \
                 KMS API test server with scripts/services/gcp-kms.sh start)"
            );
            None
        }
        _ => panic!(
            "{test}: TRESOR_TEST_GCP_ENDPOINT is not set. Run ./scripts/test.sh kms-gcp (it starts \
             tresor's GCP KMS API test server), or export TRESOR_TEST_GCP_ENDPOINT=$(scripts/services/gcp-kms.sh url); \
             set TRESOR_SKIP_GCP=1 to skip these tests deliberately"
        ),
    }
}

/// A key ring of its own for each test, so tests do not see each other's keys. A ring whose id starts
/// with `pending-<ms>-` makes the server keep new versions `PENDING_GENERATION` for `<ms>` ms.
fn ring(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{test}-{}-{nanos}", std::process::id())
}

async fn driver_in(endpoint: &str, key_ring_id: String) -> GcpKms {
    GcpKms::connect(GcpConfig {
        location_id: LOCATION.to_string(),
        project_id: PROJECT.to_string(),
        key_ring_id,
        endpoint_override: Some(endpoint.to_string()),
        audit_logging: false,
    })
    .await
    .expect("connect to the GCP KMS API test server")
}

async fn driver(endpoint: &str, test: &str) -> GcpKms {
    driver_in(endpoint, format!("tresor-{}", ring(test))).await
}

/// The optional signing specs (Ed25519, secp256k1) generate, sign and verify: no gap is expected.
async fn check_optional_specs(kms: &GcpKms) -> conformance::Options {
    for spec in [SigningKeySpec::EcCurve25519, SigningKeySpec::EcSecp256k1] {
        let algo = spec.default_algorithm();
        let id = kms
            .generate_signing_key_pair(spec, None)
            .await
            .unwrap_or_else(|e| panic!("unexpected gap: generate {spec}: {e}"));
        let pk = kms.get_public_key(&id).await.expect("public key");
        let sig = kms.sign(&id, b"probe", algo).await.expect("sign");
        Verifier::new(pk.key)
            .and_then(|v| v.verify(algo, b"probe", &sig))
            .unwrap_or_else(|e| panic!("unexpected gap: {spec} signature does not verify: {e}"));
        let _ = kms.delete_key(&id).await;
    }
    conformance::Options::default()
}

#[tokio::test]
async fn gcp_conformance_with_key_generation() {
    let Some(ep) = endpoint("gcp_conformance_with_key_generation") else {
        return;
    };
    let kms = Arc::new(driver(&ep, "gen").await);
    let mut opts = check_optional_specs(&kms).await;
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
    let mut opts = check_optional_specs(&kms).await;
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
    let mut opts = check_optional_specs(&kms).await;
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
    let e = kms
        .key_exists_and_is_active(&id)
        .await
        .expect_err("a destroyed version is not active");
    assert_eq!(e.kind(), ErrorKind::KmsKeyDisabled, "{e}");
    assert!(!e.is_retryable(), "{e}");
    let e = kms
        .sign(&id, b"test", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect_err("signing with a destroyed version");
    assert_eq!(e.kind(), ErrorKind::KmsKeyDisabled, "{e}");
    assert!(!e.is_retryable(), "{e}");
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

/// Needs no server: the bound is checked by the bounds layer before any request (the endpoint is a
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

/// Ed25519 in the cloud KMS: generation (`EC_SIGN_ED25519`), the public key as DER SubjectPublicKeyInfo,
/// and signing by data (a 4 KiB message) in Canton's format (raw 64 bytes), verified locally; by the
/// short id and by the full resource name.
#[tokio::test]
async fn ed25519_keys_generate_sign_and_verify() {
    let Some(ep) = endpoint("ed25519_keys_generate_sign_and_verify") else {
        return;
    };
    let kms = driver(&ep, "ed25519").await;
    assert!(
        kms.supported_signing_key_specs()
            .contains(&SigningKeySpec::EcCurve25519)
    );
    let id = kms
        .generate_signing_key_pair(SigningKeySpec::EcCurve25519, Some("tresor-ed25519"))
        .await
        .expect("generate an EC_SIGN_ED25519 key");
    let full = KmsKeyId::new(format!("{}/cryptoKeys/{id}", kms.key_ring_name())).expect("id");
    let data: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 256) as u8).collect();
    for key in [&id, &full] {
        let pk = kms.get_public_key(key).await.expect("public key");
        assert_eq!(pk.spec, KmsKeySpec::Signing(SigningKeySpec::EcCurve25519));
        assert_eq!(pk.key.key_type(), KeyType::Ed25519);
        // DER SPKI: SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (32 bytes) } = 44 bytes.
        let der = pk.key.spki_der();
        assert_eq!(der.len(), 44, "Ed25519 SPKI length");
        assert_eq!(
            &der[..12],
            &hex::decode("302a300506032b6570032100").expect("hex")[..]
        );
        let sig = kms
            .sign(key, &data, SigningAlgorithmSpec::Ed25519)
            .await
            .expect("sign with Ed25519");
        assert_eq!(sig.len(), 64, "raw Ed25519 signature");
        Verifier::new(pk.key.clone())
            .and_then(|v| v.verify(SigningAlgorithmSpec::Ed25519, &data, &sig))
            .expect("the Ed25519 signature verifies locally");
        assert!(
            Verifier::new(pk.key)
                .and_then(|v| v.verify(SigningAlgorithmSpec::Ed25519, b"other", &sig))
                .is_err()
        );
    }
    // ECDSA on an Ed25519 key is refused without a request going out as something else.
    let e = kms
        .sign(&id, b"x", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect_err("ECDSA with an Ed25519 key");
    assert!(!e.is_retryable(), "{e}");
    kms.delete_key(&id).await.expect("delete");
}

/// A key made while the server keeps new versions `PENDING_GENERATION` for 300 ms is returned only
/// once it is `ENABLED`, so the conformance suite passes with no retry layer (before the driver
/// waited, `key_exists_and_is_active` right after the create failed).
#[tokio::test]
async fn pending_generation_is_awaited_without_the_retry_layer() {
    let Some(ep) = endpoint("pending_generation_is_awaited_without_the_retry_layer") else {
        return;
    };
    let kms = Arc::new(driver_in(&ep, format!("pending-300-{}", ring("await"))).await);
    let mut opts = check_optional_specs(&kms).await;
    opts.allow_key_generation = true;
    let s = conformance::run(kms.clone(), &opts).await;
    eprintln!(
        "gcp conformance (versions PENDING_GENERATION for 300 ms, no retry layer): {} passed",
        s.passed
    );
    assert!(s.passed >= 12, "{s:?}");
}

/// `POST` a JSON body to the server with a bare HTTP/1.1 request (the test makes a key the driver did
/// not make, so the driver does not wait for it); returns the status code and body.
fn http_post(endpoint: &str, path: &str, body: &str) -> (u16, String) {
    let authority = endpoint
        .strip_prefix("http://")
        .expect("an http:// endpoint")
        .trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(authority).expect("connect");
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read");
    let status = raw
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status code");
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, body.to_string())
}

/// A version still `PENDING_GENERATION` answers `FAILED_PRECONDITION` with a `KEY_PENDING_GENERATION`
/// violation; that is retryable (`KmsUnavailable`), not a disabled key (before the fix it was
/// `KmsKeyDisabled`, so the retry layer gave up on a key that was about to work).
#[tokio::test]
async fn a_version_pending_generation_is_retryable() {
    let Some(ep) = endpoint("a_version_pending_generation_is_retryable") else {
        return;
    };
    let kms = driver_in(&ep, format!("pending-30000-{}", ring("retryable"))).await;
    let make = |id: &str, body: &str| {
        let (status, text) = http_post(
            &ep,
            &format!("/v1/{}/cryptoKeys?cryptoKeyId={id}", kms.key_ring_name()),
            body,
        );
        assert_eq!(status, 200, "create {id}: {text}");
        KmsKeyId::new(id).expect("id")
    };
    let sig = make(
        "pending-signing",
        r#"{"purpose":"ASYMMETRIC_SIGN","versionTemplate":{"algorithm":"EC_SIGN_P256_SHA256"}}"#,
    );
    let sym = make("pending-symmetric", r#"{"purpose":"ENCRYPT_DECRYPT"}"#);
    let errors = [
        (
            "get public key",
            kms.get_public_key(&sig)
                .await
                .map(drop)
                .expect_err("pending"),
        ),
        (
            "encrypt symmetric",
            kms.encrypt_symmetric(&sym, b"x")
                .await
                .map(drop)
                .expect_err("pending"),
        ),
        (
            "key exists",
            kms.key_exists_and_is_active(&sig)
                .await
                .expect_err("pending"),
        ),
        (
            "sign",
            kms.sign(&sig, b"x", SigningAlgorithmSpec::EcDsaSha256)
                .await
                .map(drop)
                .expect_err("pending"),
        ),
    ];
    for (what, e) in errors {
        assert_eq!(e.kind(), ErrorKind::KmsUnavailable, "{what}: {e}");
        assert!(e.is_retryable(), "{what}: {e}");
    }
}

/// `disable_key` (tresor's extension) disables every enabled version: the key stays, every use of it
/// fails as disabled (not retryable), and `key_exists_and_is_active` says so.
#[tokio::test]
async fn disabled_keys_are_refused() {
    let Some(ep) = endpoint("disabled_keys_are_refused") else {
        return;
    };
    let kms = driver(&ep, "disable").await;
    let sym = kms.generate_symmetric_key(None).await.expect("generate");
    let ct = kms
        .encrypt_symmetric(&sym, b"wrapped")
        .await
        .expect("encrypt");
    let sig = kms
        .generate_signing_key_pair(SigningKeySpec::EcP256, None)
        .await
        .expect("generate");
    for id in [&sym, &sig] {
        kms.disable_key(id).await.expect("disable");
        let e = kms
            .key_exists_and_is_active(id)
            .await
            .expect_err("disabled");
        assert_eq!(e.kind(), ErrorKind::KmsKeyDisabled, "{e}");
    }
    for (what, r) in [
        ("encrypt", kms.encrypt_symmetric(&sym, b"x").await.map(drop)),
        ("decrypt", kms.decrypt_symmetric(&sym, &ct).await.map(drop)),
        (
            "sign",
            kms.sign(&sig, b"x", SigningAlgorithmSpec::EcDsaSha256)
                .await
                .map(drop),
        ),
    ] {
        let e = r.expect_err(what);
        assert_eq!(e.kind(), ErrorKind::KmsKeyDisabled, "{what}: {e}");
        assert!(!e.is_retryable(), "{what}: {e}");
    }
    // Disabling again changes nothing and is not an error (as AWS's DisableKey).
    kms.disable_key(&sym).await.expect("disable again");
    let e = kms
        .key_exists_and_is_active(&sym)
        .await
        .expect_err("disabled");
    assert_eq!(e.kind(), ErrorKind::KmsKeyDisabled, "{e}");
}
