//! Old wrapper keys on real SQLite files and the software KMS: 30 rotations leave 30 old keys, all listed
//! and retired in the KMS; a wrapper key the store still uses is never retired, whatever the history says.
#![cfg(feature = "vault")]

use std::path::PathBuf;
use std::sync::Arc;

use tresor::kms::KmsDriver;
use tresor::kms::software::{MasterKeySource, SoftwareKms};
use tresor::vault::{EnvelopeConfig, Mode, RetireAction, Vault, VaultOptions, WrapperKeyState};
use tresor::{ErrorKind, SigningAlgorithmSpec, SigningKeySpec, SigningKeyUsageSet as U};

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let p =
            std::env::temp_dir().join(format!("tresor-wrapper-keys-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("mkdir");
        Self(p)
    }
    fn db(&self) -> String {
        format!("sqlite://{}", self.0.join("tresor.db").display())
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn setup(d: &Dir) -> (Arc<SoftwareKms>, Vault) {
    let kms = Arc::new(
        SoftwareKms::open(
            &d.0.join("kms.db"),
            MasterKeySource::Passphrase("correct horse battery staple".to_string().into()),
        )
        .await
        .expect("software KMS"),
    );
    let driver: Arc<dyn KmsDriver> = kms.clone();
    let v = Vault::open(
        &d.db(),
        Some(driver),
        VaultOptions::new(Mode::Envelope(EnvelopeConfig::default())),
    )
    .await
    .expect("open");
    (kms, v)
}

#[tokio::test]
async fn thirty_rotations_leave_thirty_old_keys_that_can_all_be_retired() {
    let d = Dir::new("thirty");
    let (kms, v) = setup(&d).await;
    let key = v
        .generate_signing_key(SigningKeySpec::EcP256, U::PROTOCOL_ONLY, None)
        .await
        .expect("generate");
    let first = v.wrapper_key_id().await.expect("wrapper key");
    for _ in 0..30 {
        v.rotate_wrapper_key(None).await.expect("rotate");
    }
    let keys = v.wrapper_keys().await.expect("list");
    assert_eq!(keys.len(), 31);
    assert_eq!(keys[0].state, WrapperKeyState::InUse);
    assert_eq!(keys[0].kms_key_id, v.wrapper_key_id().await.expect("id"));
    assert!(
        keys[1..]
            .iter()
            .all(|k| k.state == WrapperKeyState::Previous)
    );
    assert!(keys.iter().any(|k| k.kms_key_id == first));
    // Every old key is still enabled in the KMS until retired.
    for k in &keys {
        kms.key_exists_and_is_active(&k.kms_key_id)
            .await
            .expect("enabled");
    }
    for (i, k) in keys[1..].iter().enumerate() {
        let how = if i % 2 == 0 {
            RetireAction::Disable
        } else {
            RetireAction::Delete
        };
        v.retire_wrapper_key(&k.kms_key_id, how)
            .await
            .expect("retire");
        let e = kms
            .key_exists_and_is_active(&k.kms_key_id)
            .await
            .expect_err("retired in the KMS");
        let want = match how {
            RetireAction::Disable => ErrorKind::KmsKeyDisabled,
            RetireAction::Delete => ErrorKind::KmsKeyNotFound,
        };
        assert_eq!(e.kind(), want, "{e}");
        // Retiring again the same way does nothing.
        v.retire_wrapper_key(&k.kms_key_id, how)
            .await
            .expect("again");
    }
    let keys = v.wrapper_keys().await.expect("list");
    assert_eq!(
        keys.iter()
            .filter(|k| k.state == WrapperKeyState::Disabled)
            .count(),
        15
    );
    assert_eq!(
        keys.iter()
            .filter(|k| k.state == WrapperKeyState::Deleted)
            .count(),
        15
    );
    assert!(keys[1..].iter().all(|k| k.retired_at_ms.is_some()));
    // The store still works, after a restart too.
    v.sign(&key.fingerprint, b"x", U::PROTOCOL_ONLY, None)
        .await
        .expect("sign");
    v.close().await;
    let driver: Arc<dyn KmsDriver> = kms.clone();
    let v = Vault::open(
        &d.db(),
        Some(driver),
        VaultOptions::new(Mode::Envelope(EnvelopeConfig::default())),
    )
    .await
    .expect("reopen");
    let sig = v
        .sign(&key.fingerprint, b"x", U::PROTOCOL_ONLY, None)
        .await
        .expect("sign after reopening");
    v.verify(
        &key.fingerprint,
        b"x",
        &sig,
        Some(SigningAlgorithmSpec::EcDsaSha256),
    )
    .await
    .expect("verify");
}

#[tokio::test]
async fn a_wrapper_key_in_use_is_never_retired() {
    let d = Dir::new("in-use");
    let (kms, v) = setup(&d).await;
    let w1 = v.wrapper_key_id().await.expect("wrapper key");
    let calls =
        |kms: &SoftwareKms| kms.call_counts()["disable_key"] + kms.call_counts()["delete_key"];

    // The key in use.
    for how in [RetireAction::Disable, RetireAction::Delete] {
        let e = v.retire_wrapper_key(&w1, how).await.expect_err("in use");
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        assert!(e.message().contains("in use"), "{e}");
    }
    // A key the store never used.
    let other = kms.generate_symmetric_key(None).await.expect("generate");
    let e = v
        .retire_wrapper_key(&other, RetireAction::Disable)
        .await
        .expect_err("not a wrapper key of this store");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");

    // Rotated away and back: the history forgets it, and it is in use again.
    let w2 = v.rotate_wrapper_key(None).await.expect("rotate");
    v.rotate_wrapper_key(Some(w1.clone()))
        .await
        .expect("rotate back");
    let e = v
        .retire_wrapper_key(&w1, RetireAction::Disable)
        .await
        .expect_err("in use again");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");

    // Whatever the history says (here: edited to call the key in use "previous", as a record written by
    // another instance that then rotated back could), a key that wraps a data key is refused.
    {
        use sqlx::Connection as _;
        let mut c = sqlx::SqliteConnection::connect(&d.db()).await.expect("db");
        sqlx::query("INSERT INTO tresor_meta (name, value) VALUES ($1, $2)")
            .bind(format!("wrapper-key:{w1}"))
            .bind(r#"{"state":"previous","replaced_at_ms":1,"retired_at_ms":null}"#)
            .execute(&mut c)
            .await
            .expect("edit the history");
    }
    for how in [RetireAction::Disable, RetireAction::Delete] {
        let e = v
            .retire_wrapper_key(&w1, how)
            .await
            .expect_err("wraps the data key");
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    }
    assert_eq!(calls(&kms), 0, "no KMS call for a refused retirement");
    kms.key_exists_and_is_active(&w1).await.expect("untouched");

    // An old key nothing uses is retired (one KMS call).
    v.retire_wrapper_key(&w2, RetireAction::Disable)
        .await
        .expect("w2 is old and unused: retired");
    assert_eq!(calls(&kms), 1);
}
