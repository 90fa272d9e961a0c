//! The PKCS#11 driver against a real SoftHSM2 token (started by `scripts/services/softhsm.sh`): the
//! conformance suite with key generation and with predefined keys addressed by label, a refused PIN,
//! unknown keys, concurrent signing over the session pool, disabled keys, and the token's gap list pinned
//! for the PKCS#11 library under test (an unexpected gap fails, and so does a pinned gap that works).
//!
//! Needs TRESOR_TEST_PKCS11_MODULE, TRESOR_TEST_PKCS11_TOKEN and TRESOR_TEST_PKCS11_PIN_FILE (and the
//! SOFTHSM2_CONF the script writes). Without them the tests fail, unless TRESOR_SKIP_PKCS11=1.
#![cfg(feature = "pkcs11")]

#[path = "common/conformance.rs"]
mod conformance;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tresor::ErrorKind;
use tresor::kms::pkcs11::{PinSource, Pkcs11Config, Pkcs11Kms};
use tresor::kms::{KmsDriver, KmsKeyId};
use tresor::primitives::Verifier;
use tresor::{EncryptionKeySpec, SigningAlgorithmSpec, SigningKeySpec};

const WRONG_PIN_CHILD: &str = "TRESOR_PKCS11_WRONG_PIN_CHILD";
const CHILD_PIN_VAR: &str = "TRESOR_TEST_PKCS11_CHILD_PIN";

struct TestEnv {
    module: PathBuf,
    token: String,
    pin_file: PathBuf,
}

/// The token to test against; `None` (after printing "skipped") only when TRESOR_SKIP_PKCS11=1.
fn test_env(test: &str) -> Option<TestEnv> {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    match (
        var("TRESOR_TEST_PKCS11_MODULE"),
        var("TRESOR_TEST_PKCS11_TOKEN"),
        var("TRESOR_TEST_PKCS11_PIN_FILE"),
    ) {
        (Some(module), Some(token), Some(pin_file)) => Some(TestEnv {
            module: module.into(),
            token,
            pin_file: pin_file.into(),
        }),
        _ if std::env::var("TRESOR_SKIP_PKCS11").as_deref() == Ok("1") => {
            eprintln!("{test}: skipped: no PKCS#11 token configured and TRESOR_SKIP_PKCS11=1");
            None
        }
        _ => panic!(
            "{test}: TRESOR_TEST_PKCS11_MODULE, TRESOR_TEST_PKCS11_TOKEN and TRESOR_TEST_PKCS11_PIN_FILE \
             are not set. Run `bash scripts/services/softhsm.sh start && . target/services/softhsm/env` \
             (or ./scripts/test.sh kms-pkcs11), or set TRESOR_SKIP_PKCS11=1 to skip"
        ),
    }
}

fn config(env: &TestEnv, pool: usize) -> Pkcs11Config {
    let mut c = Pkcs11Config::new(
        env.module.clone(),
        env.token.clone(),
        PinSource::File(env.pin_file.clone()),
    );
    c.session_pool_size = pool;
    c
}

async fn open(env: &TestEnv, pool: usize) -> Pkcs11Kms {
    Pkcs11Kms::open(config(env, pool))
        .await
        .unwrap_or_else(|e| panic!("opening the PKCS#11 driver: {e}"))
}

/// Print the token's gaps by name; each is covered by the same case against the software driver
/// (tests/kms_software.rs).
fn print_gaps(kms: &Pkcs11Kms) {
    for (name, why) in kms.gaps() {
        eprintln!("gap: {name}: {why}; covered by the software driver (tests/kms_software.rs)");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pkcs11_conformance_with_key_generation() {
    let Some(env) = test_env("pkcs11_conformance_with_key_generation") else {
        return;
    };
    let kms = Arc::new(open(&env, 4).await);
    print_gaps(&kms);
    // Every scheme is either supported or named as a gap.
    for (supported, name) in [
        (
            kms.supported_encryption_algo_specs()
                .contains(&tresor::EncryptionAlgorithmSpec::RsaOaepSha256),
            "RSA-OAEP-SHA256",
        ),
        (
            kms.supported_signing_algo_specs()
                .contains(&SigningAlgorithmSpec::Ed25519),
            "Ed25519",
        ),
        (
            kms.supported_signing_key_specs()
                .contains(&SigningKeySpec::EcSecp256k1),
            "EC-Secp256k1 signing",
        ),
    ] {
        assert!(
            supported || kms.gaps().iter().any(|(n, _)| n == name),
            "{name} is neither supported nor named as a gap"
        );
    }
    let s = conformance::run(
        kms.clone(),
        &conformance::Options {
            allow_key_generation: true,
            health_timeout: Some(Duration::from_secs(10)),
            ..Default::default()
        },
    )
    .await;
    eprintln!(
        "pkcs11 conformance (generation): {} passed, token gaps: {:?}",
        s.passed,
        kms.gaps()
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
    );
    assert!(s.passed >= 10, "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pkcs11_conformance_with_predefined_keys_by_label() {
    let Some(env) = test_env("pkcs11_conformance_with_predefined_keys_by_label") else {
        return;
    };
    let kms = Arc::new(open(&env, 4).await);
    let run = format!("{}-{}", std::process::id(), rand_suffix());
    let mut opts = conformance::Options {
        health_timeout: Some(Duration::from_secs(10)),
        ..Default::default()
    };
    let mut made = Vec::new();
    for spec in kms.supported_signing_key_specs() {
        let label = format!("tresor-predef-sign-{}-{run}", spec.as_str());
        let id = kms
            .generate_signing_key_pair(spec, Some(&label))
            .await
            .unwrap_or_else(|e| panic!("generating {spec}: {e}"));
        made.push(id);
        opts.predefined_signing
            .push((spec, KmsKeyId::new(label).expect("label id")));
    }
    for spec in kms.supported_encryption_key_specs() {
        let label = format!("tresor-predef-enc-{}-{run}", spec.as_str());
        let id = kms
            .generate_encryption_key_pair(spec, Some(&label))
            .await
            .unwrap_or_else(|e| panic!("generating {spec}: {e}"));
        made.push(id);
        opts.predefined_encryption
            .push((spec, KmsKeyId::new(label).expect("label id")));
    }
    let label = format!("tresor-predef-sym-{run}");
    made.push(
        kms.generate_symmetric_key(Some(&label))
            .await
            .expect("generating the AES key"),
    );
    opts.predefined_symmetric = Some(KmsKeyId::new(label).expect("label id"));
    // The label and the hex CKA_ID address the same key.
    let labels = opts
        .predefined_signing
        .iter()
        .map(|(_, l)| l)
        .chain(opts.predefined_encryption.iter().map(|(_, l)| l));
    for (hex_id, label_id) in made.iter().zip(labels) {
        let a = kms.get_public_key(hex_id).await.expect("by CKA_ID");
        let b = kms.get_public_key(label_id).await.expect("by CKA_LABEL");
        assert_eq!(a, b, "{label_id} and {hex_id} are the same key");
    }
    let s = conformance::run(kms.clone(), &opts).await;
    eprintln!(
        "pkcs11 conformance (predefined, by label): {} passed",
        s.passed
    );
    assert!(s.passed >= 8, "{s:?}");
    for id in made {
        kms.delete_key(&id).await.expect("delete");
        let e = kms
            .key_exists_and_is_active(&id)
            .await
            .expect_err("deleted keys are gone");
        assert_eq!(e.kind(), ErrorKind::KmsKeyNotFound, "{e}");
    }
}

fn rand_suffix() -> String {
    let mut b = [0u8; 4];
    tresor::primitives::random_bytes(&mut b).expect("rng");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// PKCS#11 login state is per process, so the wrong-PIN case runs in a child process of this test binary
/// where no other handle is logged in.
#[test]
fn pkcs11_wrong_pin_is_permission_denied() {
    let Some(env) = test_env("pkcs11_wrong_pin_is_permission_denied") else {
        return;
    };
    let pin = std::fs::read_to_string(&env.pin_file).expect("the PIN file");
    let exe = std::env::current_exe().expect("current exe");
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "pkcs11_wrong_pin_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(WRONG_PIN_CHILD, "1")
        .env(CHILD_PIN_VAR, pin.trim())
        .output()
        .expect("running the child test");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stderr.contains("wrong pin child: ok"),
        "the wrong-PIN child failed:\n{stdout}\n{stderr}"
    );
}

#[tokio::test]
async fn pkcs11_wrong_pin_child() {
    if std::env::var(WRONG_PIN_CHILD).as_deref() != Ok("1") {
        return; // only meaningful in the child process started above
    }
    let Some(env) = test_env("pkcs11_wrong_pin_child") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("tresor-pkcs11-pin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let wrong = dir.join("wrong-pin");
    std::fs::write(&wrong, "000000000000\n").expect("write pin");
    let mut c = config(&env, 2);
    c.pin = PinSource::File(wrong);
    assert!(
        !tresor::kms::registry::KmsConfig::Pkcs11(c.clone())
            .to_config_text(false)
            .contains("000000000000"),
        "the config text never holds the PIN"
    );
    let e = Pkcs11Kms::open(c).await.expect_err("a wrong PIN must fail");
    assert_eq!(e.kind(), ErrorKind::KmsPermissionDenied, "{e}");
    assert!(e.to_string().contains("login refused"), "{e}");
    assert!(!e.is_retryable(), "{e}");
    // The right PIN, from an environment variable the parent set, works.
    let mut c = config(&env, 2);
    c.pin = PinSource::Env(CHILD_PIN_VAR.to_string());
    assert!(
        tresor::kms::registry::KmsConfig::Pkcs11(c.clone())
            .to_config_text(false)
            .contains(CHILD_PIN_VAR)
    );
    let kms = Pkcs11Kms::open(c).await.expect("the right PIN works");
    assert_eq!(kms.health().await, tresor::kms::KmsHealth::Ok);
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("wrong pin child: ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pkcs11_unknown_key_is_not_found_and_not_retryable() {
    let Some(env) = test_env("pkcs11_unknown_key_is_not_found_and_not_retryable") else {
        return;
    };
    let kms = open(&env, 2).await;
    for id in ["no-such-key-label", "00112233445566778899aabbccddeeff"] {
        let id = KmsKeyId::new(id).expect("id");
        let e = kms
            .sign(&id, b"test", SigningAlgorithmSpec::EcDsaSha256)
            .await
            .expect_err("unknown key");
        assert_eq!(e.kind(), ErrorKind::KmsKeyNotFound, "{e}");
        assert!(!e.is_retryable(), "{e}");
        let e = kms
            .key_exists_and_is_active(&id)
            .await
            .expect_err("unknown key");
        assert_eq!(e.kind(), ErrorKind::KmsKeyNotFound, "{e}");
        let e = kms.get_public_key(&id).await.expect_err("unknown key");
        assert_eq!(e.kind(), ErrorKind::KmsKeyNotFound, "{e}");
        let e = kms.delete_key(&id).await.expect_err("unknown key");
        assert_eq!(e.kind(), ErrorKind::KmsKeyNotFound, "{e}");
    }
    // A key of the wrong kind is a non-retryable error, not a crash.
    let id = kms
        .generate_encryption_key_pair(EncryptionKeySpec::EcP256, None)
        .await
        .expect("gen");
    let e = kms
        .sign(&id, b"test", SigningAlgorithmSpec::EcDsaSha256)
        .await
        .expect_err("an encryption key does not sign");
    assert!(!e.is_retryable(), "{e}");
    kms.delete_key(&id).await.expect("delete");
}

async fn sign_16(kms: &std::sync::Arc<Pkcs11Kms>, id: &KmsKeyId) -> (Duration, Vec<Vec<u8>>) {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..16u8 {
        let kms = kms.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            kms.sign(&id, &[i; 64], SigningAlgorithmSpec::EcDsaSha256)
                .await
        }));
    }
    let mut sigs = Vec::new();
    for t in tasks {
        sigs.push(t.await.expect("join").expect("concurrent sign"));
    }
    (start.elapsed(), sigs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pkcs11_concurrent_signing_over_the_session_pool() {
    let Some(env) = test_env("pkcs11_concurrent_signing_over_the_session_pool") else {
        return;
    };
    let pool4 = std::sync::Arc::new(open(&env, 4).await);
    let pool1 = std::sync::Arc::new(open(&env, 1).await);
    assert_eq!(pool4.session_pool_size(), 4);
    let id = pool4
        .generate_signing_key_pair(SigningKeySpec::EcP256, Some("tresor-concurrency"))
        .await
        .expect("gen");
    let pk = pool4.get_public_key(&id).await.expect("public key");
    let verifier = Verifier::new(pk.key).expect("verifier");
    // Warm both pools once.
    for kms in [&pool4, &pool1] {
        kms.sign(&id, b"warm", SigningAlgorithmSpec::EcDsaSha256)
            .await
            .expect("warm");
    }
    let (t4, sigs4) = sign_16(&pool4, &id).await;
    let (t1, sigs1) = sign_16(&pool1, &id).await;
    for (i, (a, b)) in sigs4.iter().zip(&sigs1).enumerate() {
        let msg = [i as u8; 64];
        verifier
            .verify(SigningAlgorithmSpec::EcDsaSha256, &msg, a)
            .expect("pool-4 signature verifies");
        verifier
            .verify(SigningAlgorithmSpec::EcDsaSha256, &msg, b)
            .expect("pool-1 signature verifies");
    }
    eprintln!(
        "pkcs11 concurrency: 16 concurrent ECDSA P-256 signs: pool of 4 sessions {:?}, pool of 1 session {:?}",
        t4, t1
    );
    pool4.delete_key(&id).await.expect("delete");
}

/// The gap list pinned for each PKCS#11 library under test, by what `C_GetInfo` reports (manufacturer
/// and library version). SoftHSM 2.6 (Debian's softhsm2 2.6.1): OAEP is SHA-1 only.
fn pinned_gaps(library: &str) -> Option<Vec<&'static str>> {
    match library {
        "SoftHSM 2.6" => Some(vec!["RSA-OAEP-SHA256"]),
        _ => None,
    }
}

/// The token's gaps are exactly the pinned ones: an unexpected gap fails, and so does a pinned gap that
/// the token now passes (the list must then be updated for that version).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pkcs11_gaps_are_pinned_for_the_library_under_test() {
    let Some(env) = test_env("pkcs11_gaps_are_pinned_for_the_library_under_test") else {
        return;
    };
    let kms = open(&env, 1).await;
    let library = kms.library().to_string();
    let expected = pinned_gaps(&library).unwrap_or_else(|| {
        panic!(
            "no pinned gap list for the PKCS#11 library '{library}' (gaps found: {:?}): add one to \
             pinned_gaps() in tests/kms_pkcs11.rs",
            kms.gaps()
        )
    });
    let found: Vec<&str> = kms.gaps().iter().map(|(n, _)| n.as_str()).collect();
    for (name, why) in kms.gaps() {
        assert!(
            expected.contains(&name.as_str()),
            "unexpected gap on {library}: {name}: {why}"
        );
        eprintln!("gap [pkcs11] {library}: {name}: expected (pinned): {why}");
    }
    for name in &expected {
        assert!(
            found.contains(name),
            "pinned gap '{name}' now works on {library}: remove it from pinned_gaps()"
        );
    }
    eprintln!("[pkcs11] {library}: gaps {found:?} = pinned {expected:?}");
}

/// `disable_key` (tresor's extension) clears a key's use attributes on the token: it stays there, every
/// use fails, and `key_exists_and_is_active` reports it disabled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pkcs11_disabled_keys_are_refused() {
    let Some(env) = test_env("pkcs11_disabled_keys_are_refused") else {
        return;
    };
    let kms = open(&env, 1).await;
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
        kms.key_exists_and_is_active(id).await.expect("active");
        kms.disable_key(id).await.expect("disable");
        let e = kms
            .key_exists_and_is_active(id)
            .await
            .expect_err("disabled");
        assert_eq!(e.kind(), ErrorKind::KmsKeyDisabled, "{e}");
        kms.disable_key(id).await.expect("disable again");
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
    // As AWS's GetPublicKey, the public key of a disabled key is refused too (its objects stay).
    let e = kms.get_public_key(&sig).await.expect_err("disabled");
    assert_eq!(e.kind(), ErrorKind::KmsKeyDisabled, "{e}");
    let _ = kms.delete_key(&sym).await;
    let _ = kms.delete_key(&sig).await;
}
