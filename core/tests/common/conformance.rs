//! A reusable conformance suite for [`KmsDriver`] implementations: a port of the cases of Canton's
//! `KmsDriverTest` (spec/canton-compat.md §3), run against every driver against its real service.
//!
//! Use from a test file with `#[path = "common/conformance.rs"] mod conformance;` and call [`run`] with the
//! bare driver: the suite runs it as `layered(driver, LayerConfig::minimal())`, the bounds layer and
//! nothing else, which is the driver with Canton's contract (drivers leave the size bounds to that layer).
//! Each case prints one line `conformance [<provider>] <case>: ok | gap: <reason>`. A gap (an operation the
//! service cannot do, e.g. SoftHSM2's OAEP is SHA-1 only) is named in the output and must be covered by the
//! same case against the software driver; it is never silently skipped.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use tresor::kms::{KmsDriver, KmsHealth, KmsKeyId, KmsKeySpec, LayerConfig, layered};
use tresor::primitives::{Encrypter, Verifier};
use tresor::{
    EncryptionAlgorithmSpec, EncryptionKeySpec, ErrorKind, SigningAlgorithmSpec, SigningKeySpec,
};

/// What the suite may do and which keys it may use (Canton's fixtures).
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Generate and delete keys (Canton's `allowKeyGeneration`).
    pub allow_key_generation: bool,
    /// Keys made outside the suite, by spec (Canton's `predefinedSigningKeys`).
    pub predefined_signing: Vec<(SigningKeySpec, KmsKeyId)>,
    /// Canton's `predefinedEncryptionKeys`.
    pub predefined_encryption: Vec<(EncryptionKeySpec, KmsKeyId)>,
    /// Canton's `predefinedSymmetricKey`.
    pub predefined_symmetric: Option<KmsKeyId>,
    /// Signing algorithms the service cannot do, with the reason printed as a gap.
    pub signing_gaps: Vec<(SigningAlgorithmSpec, &'static str)>,
    /// Encryption algorithms the service cannot do, with the reason printed as a gap.
    pub encryption_gaps: Vec<(EncryptionAlgorithmSpec, &'static str)>,
    /// Key specs the service cannot generate, with the reason printed as a gap.
    pub generation_gaps: Vec<(KmsKeySpec, &'static str)>,
    /// How long health may take to become Ok (Canton: 60 s).
    pub health_timeout: Option<Duration>,
}

/// What ran.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Cases that passed.
    pub passed: usize,
    /// Cases reported as gaps.
    pub gaps: Vec<String>,
}

fn line(provider: &str, case: &str, outcome: &str) {
    eprintln!("conformance [{provider}] {case}: {outcome}");
}

fn signing_spec_for(algo: SigningAlgorithmSpec) -> SigningKeySpec {
    match algo {
        SigningAlgorithmSpec::Ed25519 => SigningKeySpec::EcCurve25519,
        SigningAlgorithmSpec::EcDsaSha256 => SigningKeySpec::EcP256,
        SigningAlgorithmSpec::EcDsaSha384 => SigningKeySpec::EcP384,
    }
}

fn encryption_spec_for(algo: EncryptionAlgorithmSpec) -> EncryptionKeySpec {
    match algo {
        EncryptionAlgorithmSpec::RsaOaepSha256 => EncryptionKeySpec::Rsa2048,
        _ => EncryptionKeySpec::EcP256,
    }
}

/// Run every case against `driver` behind the bounds layer (`LayerConfig::minimal()`); panics (with the
/// case named) on the first failure.
pub async fn run(driver: Arc<dyn KmsDriver>, opts: &Options) -> Summary {
    let bounded = layered(driver, LayerConfig::minimal());
    let driver = bounded.as_ref();
    let p = driver.provider().to_string();
    let mut s = Summary::default();
    let ok = |s: &mut Summary, case: &str| {
        line(&p, case, "ok");
        s.passed += 1;
    };
    let gap = |s: &mut Summary, case: &str, why: &str| {
        line(&p, case, &format!("gap: {why}"));
        s.gaps.push(format!("{case}: {why}"));
    };

    assert!(
        opts.allow_key_generation
            || (!opts.predefined_signing.is_empty()
                && !opts.predefined_encryption.is_empty()
                && opts.predefined_symmetric.is_some()),
        "conformance [{p}]: key generation is off and a predefined key collection is empty"
    );

    // 1. Health reaches Ok.
    let deadline = Instant::now() + opts.health_timeout.unwrap_or(Duration::from_secs(60));
    loop {
        let h = driver.health().await;
        if h == KmsHealth::Ok {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "conformance [{p}] health: not Ok in time: {h:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    ok(&mut s, "health becomes ok");

    // 2. Supported sets are non-empty.
    assert!(
        !driver.supported_signing_key_specs().is_empty(),
        "signing key specs empty"
    );
    ok(&mut s, "supported signing key specs non-empty");
    assert!(
        !driver.supported_signing_algo_specs().is_empty(),
        "signing algo specs empty"
    );
    ok(&mut s, "supported signing algo specs non-empty");
    assert!(
        !driver.supported_encryption_key_specs().is_empty(),
        "encryption key specs empty"
    );
    ok(&mut s, "supported encryption key specs non-empty");
    assert!(
        !driver.supported_encryption_algo_specs().is_empty(),
        "encryption algo specs empty"
    );
    ok(&mut s, "supported encryption algo specs non-empty");

    // 3. Generate → exists → delete, for every spec.
    if opts.allow_key_generation {
        for spec in driver.supported_signing_key_specs() {
            let case = format!("generate/exists/delete signing {spec}");
            if let Some((_, why)) = opts
                .generation_gaps
                .iter()
                .find(|(k, _)| *k == KmsKeySpec::Signing(spec))
            {
                gap(&mut s, &case, why);
                continue;
            }
            let id = driver
                .generate_signing_key_pair(spec, Some("tresor-conformance"))
                .await
                .unwrap_or_else(|e| panic!("{case}: generate: {e}"));
            assert!(
                id.as_str().chars().count() <= 300,
                "{case}: key id longer than 300 chars"
            );
            driver
                .key_exists_and_is_active(&id)
                .await
                .unwrap_or_else(|e| panic!("{case}: exists: {e}"));
            driver
                .delete_key(&id)
                .await
                .unwrap_or_else(|e| panic!("{case}: delete: {e}"));
            ok(&mut s, &case);
        }
        for spec in driver.supported_encryption_key_specs() {
            let case = format!("generate/exists/delete encryption {spec}");
            if let Some((_, why)) = opts
                .generation_gaps
                .iter()
                .find(|(k, _)| *k == KmsKeySpec::Encryption(spec))
            {
                gap(&mut s, &case, why);
                continue;
            }
            let id = driver
                .generate_encryption_key_pair(spec, Some("tresor-conformance"))
                .await
                .unwrap_or_else(|e| panic!("{case}: generate: {e}"));
            driver
                .key_exists_and_is_active(&id)
                .await
                .unwrap_or_else(|e| panic!("{case}: exists: {e}"));
            driver
                .delete_key(&id)
                .await
                .unwrap_or_else(|e| panic!("{case}: delete: {e}"));
            ok(&mut s, &case);
        }
        let case = "generate/exists/delete symmetric";
        if let Some((_, why)) = opts
            .generation_gaps
            .iter()
            .find(|(k, _)| *k == KmsKeySpec::Symmetric)
        {
            gap(&mut s, case, why);
        } else {
            let id = driver
                .generate_symmetric_key(Some("tresor-conformance"))
                .await
                .unwrap_or_else(|e| panic!("{case}: generate: {e}"));
            driver
                .key_exists_and_is_active(&id)
                .await
                .unwrap_or_else(|e| panic!("{case}: exists: {e}"));
            driver
                .delete_key(&id)
                .await
                .unwrap_or_else(|e| panic!("{case}: delete: {e}"));
            ok(&mut s, case);
        }
    }

    // 4. Sign, then verify locally, for every signing algorithm.
    for algo in driver.supported_signing_algo_specs() {
        let case = format!("sign and verify locally {algo}");
        if let Some((_, why)) = opts.signing_gaps.iter().find(|(a, _)| *a == algo) {
            gap(&mut s, &case, why);
            continue;
        }
        let spec = signing_spec_for(algo);
        let (id, generated) = match opts.predefined_signing.iter().find(|(k, _)| *k == spec) {
            Some((_, id)) => (id.clone(), false),
            None if opts.allow_key_generation => (
                driver
                    .generate_signing_key_pair(spec, Some("tresor-conformance"))
                    .await
                    .unwrap_or_else(|e| panic!("{case}: generate: {e}")),
                true,
            ),
            None => panic!("{case}: no predefined {spec} key and generation is off"),
        };
        let pk = driver
            .get_public_key(&id)
            .await
            .unwrap_or_else(|e| panic!("{case}: get public key: {e}"));
        assert_eq!(
            pk.spec,
            KmsKeySpec::Signing(spec),
            "{case}: public key spec"
        );
        let sig = driver
            .sign(&id, b"test", algo)
            .await
            .unwrap_or_else(|e| panic!("{case}: sign: {e}"));
        Verifier::new(pk.key.clone())
            .and_then(|v| v.verify(algo, b"test", &sig))
            .unwrap_or_else(|e| panic!("{case}: the signature does not verify locally: {e}"));
        if generated {
            let _ = driver.delete_key(&id).await;
        }
        ok(&mut s, &case);
    }

    // 5. Signing with an unknown key id fails.
    let invalid = KmsKeyId::new("invalid").expect("id");
    let algo = driver.supported_signing_algo_specs()[0];
    let e = driver
        .sign(&invalid, b"test", algo)
        .await
        .expect_err("signing with key id 'invalid' must fail");
    assert!(!e.is_retryable(), "an unknown key is not retryable: {e}");
    ok(&mut s, "signing with an unknown key id fails");

    // 6. Encrypt locally in Canton's format, decrypt in the KMS, for every encryption algorithm.
    for algo in driver.supported_encryption_algo_specs() {
        let case = format!("encrypt locally, decrypt in the KMS {algo}");
        if let Some((_, why)) = opts.encryption_gaps.iter().find(|(a, _)| *a == algo) {
            gap(&mut s, &case, why);
            continue;
        }
        let spec = encryption_spec_for(algo);
        let (id, generated) = match opts.predefined_encryption.iter().find(|(k, _)| *k == spec) {
            Some((_, id)) => (id.clone(), false),
            None if opts.allow_key_generation => (
                driver
                    .generate_encryption_key_pair(spec, Some("tresor-conformance"))
                    .await
                    .unwrap_or_else(|e| panic!("{case}: generate: {e}")),
                true,
            ),
            None => panic!("{case}: no predefined {spec} key and generation is off"),
        };
        let pk = driver
            .get_public_key(&id)
            .await
            .unwrap_or_else(|e| panic!("{case}: get public key: {e}"));
        assert_eq!(
            pk.spec,
            KmsKeySpec::Encryption(spec),
            "{case}: public key spec"
        );
        let ct = Encrypter::new(pk.key.clone())
            .and_then(|e| e.encrypt(algo, b"test"))
            .unwrap_or_else(|e| panic!("{case}: local encrypt: {e}"));
        let pt = driver
            .decrypt_asymmetric(&id, &ct, algo)
            .await
            .unwrap_or_else(|e| panic!("{case}: decrypt: {e}"));
        assert_eq!(pt.as_slice(), b"test", "{case}: plaintext");
        if generated {
            let _ = driver.delete_key(&id).await;
        }
        ok(&mut s, &case);
    }

    // 7. Symmetric round trip.
    let case = "symmetric encrypt/decrypt round trip";
    let (id, generated) = match &opts.predefined_symmetric {
        Some(id) => (id.clone(), false),
        None => (
            driver
                .generate_symmetric_key(Some("tresor-conformance"))
                .await
                .unwrap_or_else(|e| panic!("{case}: {e}")),
            true,
        ),
    };
    for data in [&b"test"[..], &[0u8; 4096][..]] {
        let ct = driver
            .encrypt_symmetric(&id, data)
            .await
            .unwrap_or_else(|e| panic!("{case}: encrypt: {e}"));
        assert!(ct.len() <= 6144, "{case}: ciphertext over Canton's bound");
        let pt = driver
            .decrypt_symmetric(&id, &ct)
            .await
            .unwrap_or_else(|e| panic!("{case}: decrypt: {e}"));
        assert_eq!(pt.as_slice(), data, "{case}");
    }
    if generated {
        let _ = driver.delete_key(&id).await;
    }
    ok(&mut s, case);

    // 8. Canton's bounds: oversized inputs (and, where keys may be generated, names) are refused with
    //    a non-retryable error, before any request reaches the service.
    let case = "inputs over Canton's bounds are refused";
    let any = KmsKeyId::new("tresor-conformance-bounds").expect("id");
    let sign_algo = driver.supported_signing_algo_specs()[0];
    let enc_algo = driver.supported_encryption_algo_specs()[0];
    let refused = [
        (
            "sign 4097 bytes",
            driver.sign(&any, &[0u8; 4097], sign_algo).await.map(drop),
        ),
        (
            "encrypt_symmetric 4097 bytes",
            driver.encrypt_symmetric(&any, &[0u8; 4097]).await.map(drop),
        ),
        (
            "decrypt_symmetric 6145 bytes",
            driver.decrypt_symmetric(&any, &[0u8; 6145]).await.map(drop),
        ),
        (
            "decrypt_asymmetric 6145 bytes",
            driver
                .decrypt_asymmetric(&any, &[0u8; 6145], enc_algo)
                .await
                .map(drop),
        ),
    ];
    for (what, r) in refused {
        let e = r.expect_err(&format!("{case}: {what}"));
        assert_eq!(e.kind(), ErrorKind::InputTooLarge, "{case}: {what}: {e}");
        assert!(!e.is_retryable(), "{case}: {what}: {e}");
    }
    if opts.allow_key_generation {
        let e = driver
            .generate_symmetric_key(Some(&"n".repeat(301)))
            .await
            .expect_err("a key name of 301 characters");
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{case}: {e}");
    }
    ok(&mut s, case);
    s
}
