//! The vault over real SQLite files and the software KMS: every mode, migrations, rotations, bad input.
#![cfg(feature = "vault")]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tresor::kms::software::{KeyState, MasterKeySource, SoftwareKms};
use tresor::kms::{KmsDriver, KmsKeyId};
use tresor::vault::{EnvelopeConfig, Mode, Vault, VaultOptions};
use tresor::{KeySpec, Purpose};

#[path = "common/rows.rs"]
mod rows;
use tresor::{
    EncryptionKeySpec, ErrorKind, Fingerprint, SigningAlgorithmSpec, SigningKeySpec,
    SigningKeyUsageSet as U,
};

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("tresor-vault-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("mkdir");
        Self(p)
    }
    fn db(&self) -> String {
        format!("sqlite://{}", self.0.join("tresor.db").display())
    }
    fn kms_path(&self) -> PathBuf {
        self.0.join("kms.db")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn kms(path: &Path) -> Arc<SoftwareKms> {
    Arc::new(
        SoftwareKms::open(
            path,
            MasterKeySource::Passphrase("correct horse battery staple".to_string().into()),
        )
        .await
        .expect("open software KMS"),
    )
}

fn envelope() -> Mode {
    Mode::Envelope(EnvelopeConfig::default())
}

async fn open(d: &Dir, kms: &Arc<SoftwareKms>, mode: Mode) -> tresor::Result<Vault> {
    let driver: Arc<dyn KmsDriver> = kms.clone();
    Vault::open(&d.db(), Some(driver), VaultOptions::new(mode)).await
}

/// The bytes of the store's tables, for "unchanged" checks (the SQLite file itself may be rewritten by
/// checkpoints, so compare content).
async fn snapshot(d: &Dir) -> String {
    format!(
        "{:?}",
        (rows::rows(&d.db()).await, rows::data_keys(&d.db()).await)
    )
}

async fn populate(v: &Vault) -> (Fingerprint, Fingerprint, Fingerprint) {
    let ns = v
        .generate_signing_key(
            SigningKeySpec::EcCurve25519,
            U::NAMESPACE_ONLY,
            Some("namespace"),
        )
        .await
        .expect("gen");
    let proto = v
        .generate_signing_key(SigningKeySpec::EcP256, U::PROTOCOL_ONLY, Some("protocol"))
        .await
        .expect("gen");
    let enc = v
        .generate_encryption_key(EncryptionKeySpec::EcP256, Some("encryption"))
        .await
        .expect("gen");
    (ns.fingerprint, proto.fingerprint, enc.fingerprint)
}

async fn exercise(v: &Vault, keys: (Fingerprint, Fingerprint, Fingerprint)) {
    let (ns, proto, enc) = keys;
    let sig = v
        .sign(&ns, b"m", U::NAMESPACE_ONLY, None)
        .await
        .expect("sign ns");
    v.verify(&ns, b"m", &sig, None).await.expect("verify ns");
    let sig = v
        .sign(&proto, b"m", U::PROTOCOL_ONLY, None)
        .await
        .expect("sign proto");
    v.verify(&proto, b"m", &sig, Some(SigningAlgorithmSpec::EcDsaSha256))
        .await
        .expect("verify proto");
    let ct = v.encrypt(&enc, b"secret", None).await.expect("encrypt");
    assert_eq!(
        v.decrypt(&enc, &ct, None)
            .await
            .expect("decrypt")
            .as_slice(),
        b"secret"
    );
}

#[tokio::test]
async fn clear_mode_round_trip_and_usage_enforcement() {
    let d = Dir::new("clear");
    let v = Vault::open(&d.db(), None, VaultOptions::new(Mode::Clear))
        .await
        .expect("vault");
    let keys = populate(&v).await;
    exercise(&v, keys).await;
    let e = v
        .sign(&keys.0, b"m", U::PROTOCOL_ONLY, None)
        .await
        .expect_err("wrong usage");
    assert_eq!(e.kind(), ErrorKind::UsageNotAllowed);
    let e = v
        .sign(&keys.2, b"m", U::ALL, None)
        .await
        .expect_err("encryption key cannot sign");
    assert_eq!(e.kind(), ErrorKind::IncompatibleKey);
    let e = v
        .sign(&keys.1, b"m", U::ALL, Some(SigningAlgorithmSpec::Ed25519))
        .await
        .expect_err("algo");
    assert_eq!(e.kind(), ErrorKind::IncompatibleKey);
    let unknown: Fingerprint = Fingerprint::of_key_bytes(b"nothing");
    assert_eq!(
        v.sign(&unknown, b"m", U::ALL, None)
            .await
            .expect_err("unknown")
            .kind(),
        ErrorKind::KeyNotFound
    );
    let list = v.list_keys().await.expect("list");
    assert_eq!(list.len(), 3);
    assert!(
        list.iter()
            .all(|k| k.storage == tresor::vault::Storage::Clear)
    );
    let long = "x".repeat(301);
    let e = v
        .generate_encryption_key(EncryptionKeySpec::Rsa2048, Some(&long))
        .await
        .expect_err("long name");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[tokio::test]
async fn envelope_open_costs_one_kms_call_and_rows_are_sealed() {
    let d = Dir::new("envelope");
    let k = kms(&d.kms_path()).await;
    let keys = {
        let v = open(&d, &k, envelope()).await.expect("vault");
        let keys = populate(&v).await;
        exercise(&v, keys).await;
        keys
    };
    let rows = rows::rows(&d.db()).await;
    assert!(
        rows.iter().all(|r| r.data_key_id.is_some()),
        "every row is sealed"
    );
    for r in &rows {
        let data = r.data.as_ref().expect("data");
        assert!(
            tresor::PrivateKey::from_pkcs8_der(data).is_err(),
            "sealed data is not a clear PKCS#8 key"
        );
    }
    // Re-open: exactly one KMS call (unwrap the data key).
    let k2 = kms(&d.kms_path()).await;
    let v = open(&d, &k2, envelope()).await.expect("reopen");
    assert_eq!(k2.total_calls(), 1, "{:?}", k2.call_counts());
    exercise(&v, keys).await;
    assert_eq!(
        k2.total_calls(),
        1,
        "signing and decrypting make no KMS call: {:?}",
        k2.call_counts()
    );
}

#[tokio::test]
async fn migration_clear_to_envelope_to_clear() {
    let d = Dir::new("migrate");
    let keys = {
        let v = Vault::open(&d.db(), None, VaultOptions::new(Mode::Clear))
            .await
            .expect("vault");
        populate(&v).await
    };
    let k = kms(&d.kms_path()).await;
    {
        let v = open(&d, &k, envelope()).await.expect("envelope");
        assert!(
            v.list_keys()
                .await
                .expect("list")
                .iter()
                .all(|i| i.storage == tresor::vault::Storage::Sealed)
        );
        exercise(&v, keys).await;
    }
    // Clear mode on an encrypted store is a clear error, and changes nothing.
    let before = snapshot(&d).await;
    let e = Vault::open(&d.db(), None, VaultOptions::new(Mode::Clear))
        .await
        .expect_err("clear on sealed");
    assert_eq!(e.kind(), ErrorKind::WrongMode);
    assert!(e.to_string().contains("reverted = true"), "{e}");
    assert_eq!(snapshot(&d).await, before);
    // reverted = true opens everything back to clear.
    {
        let v = open(
            &d,
            &k,
            Mode::Envelope(EnvelopeConfig {
                wrapper_key_id: None,
                reverted: true,
            }),
        )
        .await
        .expect("reverted");
        assert!(
            v.list_keys()
                .await
                .expect("list")
                .iter()
                .all(|i| i.storage == tresor::vault::Storage::Clear)
        );
        exercise(&v, keys).await;
    }
    assert!(rows::data_keys(&d.db()).await.is_empty());
    let v = Vault::open(&d.db(), None, VaultOptions::new(Mode::Clear))
        .await
        .expect("clear again");
    exercise(&v, keys).await;
}

#[tokio::test]
async fn wrapper_and_data_key_rotation() {
    let d = Dir::new("rotate");
    let k = kms(&d.kms_path()).await;
    let v = open(&d, &k, envelope()).await.expect("vault");
    let keys = populate(&v).await;
    let old = v.wrapper_key_id().await.expect("id");
    // Rotating to the current key is an error.
    let e = v
        .rotate_wrapper_key(Some(old.clone()))
        .await
        .expect_err("same key");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let before = k.total_calls();
    let new = k.generate_symmetric_key(Some("next")).await.expect("gen");
    let rotated = v
        .rotate_wrapper_key(Some(new.clone()))
        .await
        .expect("rotate");
    assert_eq!(rotated, new);
    assert_eq!(
        k.total_calls() - before - 1,
        2,
        "re-wrap = one decrypt + one encrypt: {:?}",
        k.call_counts()
    );
    assert_eq!(v.wrapper_key_id().await.expect("id"), new.clone());
    // The old wrapper key is left in the KMS.
    k.key_exists_and_is_active(&old)
        .await
        .expect("old key kept");
    exercise(&v, keys).await;
    // Generated wrapper key.
    let generated = v.rotate_wrapper_key(None).await.expect("rotate generated");
    assert_ne!(generated, new);
    // Data key rotation re-seals every row with one KMS call.
    let before_rows = rows::rows(&d.db()).await;
    let before = k.total_calls();
    assert_eq!(v.rotate_data_key().await.expect("rotate dk"), 3);
    assert_eq!(k.total_calls() - before, 1);
    let after_rows = rows::rows(&d.db()).await;
    for (a, b) in before_rows.iter().zip(&after_rows) {
        assert_ne!(a.data, b.data);
        assert_ne!(a.data_key_id, b.data_key_id);
    }
    v.clear_cache();
    exercise(&v, keys).await;
    // A fresh process opens the rotated store.
    drop(v);
    let k2 = kms(&d.kms_path()).await;
    let v = open(&d, &k2, envelope()).await.expect("reopen");
    exercise(&v, keys).await;
    // A configured wrapper key id that differs from the recorded one is a clear error.
    let e = open(
        &d,
        &k2,
        Mode::Envelope(EnvelopeConfig {
            wrapper_key_id: Some(old),
            reverted: false,
        }),
    )
    .await
    .expect_err("mismatch");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("rotate the wrapper key"), "{e}");
}

#[tokio::test]
async fn tampered_swapped_and_missing_wrapper_are_clear_errors_and_change_nothing() {
    let d = Dir::new("tamper");
    let k = kms(&d.kms_path()).await;
    let keys = {
        let v = open(&d, &k, envelope()).await.expect("vault");
        populate(&v).await
    };
    // Swap the sealed data of two rows.
    let rows = rows::rows(&d.db()).await;
    let (a, b) = (&rows[0], &rows[1]);
    swap_data(&d, &a.fingerprint, &b.fingerprint).await;
    let before = snapshot(&d).await;
    let v = open(&d, &k, envelope())
        .await
        .expect("vault opens: rows are checked when used");
    let e = v
        .sign(&keys.0, b"m", U::ALL, None)
        .await
        .expect_err("swapped row");
    assert_eq!(e.kind(), ErrorKind::StoreCorrupted);
    assert!(!e.to_string().is_empty());
    assert_eq!(
        snapshot(&d).await,
        before,
        "a failed operation leaves the store as it was"
    );
    swap_data(&d, &a.fingerprint, &b.fingerprint).await;
    // Flip one byte of a sealed row.
    flip_byte(&d, &keys.2).await;
    let v = open(&d, &k, envelope()).await.expect("vault");
    let e = v
        .decrypt(&keys.2, b"whatever", None)
        .await
        .expect_err("tampered");
    assert_eq!(e.kind(), ErrorKind::StoreCorrupted);
    // A data key rotation refuses to run over a corrupted row and leaves everything as it was.
    let before = snapshot(&d).await;
    assert_eq!(
        v.rotate_data_key().await.expect_err("corrupted").kind(),
        ErrorKind::StoreCorrupted
    );
    assert_eq!(snapshot(&d).await, before);
    flip_byte(&d, &keys.2).await;
    // Disabled wrapper key: opening fails with a clear error.
    let wrapper = v.wrapper_key_id().await.expect("id");
    drop(v);
    k.set_key_state(&wrapper, KeyState::Disabled)
        .await
        .expect("disable");
    let before = snapshot(&d).await;
    let e = open(&d, &k, envelope())
        .await
        .expect_err("disabled wrapper");
    assert_eq!(e.kind(), ErrorKind::KmsKeyDisabled);
    assert_eq!(snapshot(&d).await, before);
    k.set_key_state(&wrapper, KeyState::Enabled)
        .await
        .expect("enable");
    // Missing wrapper key.
    k.delete_key(&wrapper).await.expect("delete");
    let e = open(&d, &k, envelope()).await.expect_err("missing wrapper");
    assert_eq!(e.kind(), ErrorKind::KmsKeyNotFound);
    assert!(
        e.message()
            .contains(&format!("wrapped by KMS key {wrapper}"))
            && e.message().contains("created with another KMS"),
        "the error says which key is missing and why that may be: {e}"
    );
    assert_eq!(snapshot(&d).await, before);
    // A configured wrapper key that does not exist, on a fresh store.
    let d2 = Dir::new("tamper2");
    let bogus = KmsKeyId::new("soft-does-not-exist").expect("id");
    let e = open(
        &d2,
        &k,
        Mode::Envelope(EnvelopeConfig {
            wrapper_key_id: Some(bogus),
            reverted: false,
        }),
    )
    .await
    .expect_err("bogus wrapper");
    assert_eq!(e.kind(), ErrorKind::KmsKeyNotFound);
}

#[tokio::test]
async fn wrong_software_kms_passphrase() {
    let d = Dir::new("passphrase");
    drop(kms(&d.kms_path()).await);
    let e = SoftwareKms::open(
        &d.kms_path(),
        MasterKeySource::Passphrase("wrong".to_string().into()),
    )
    .await
    .expect_err("wrong passphrase");
    assert_eq!(e.kind(), ErrorKind::WrongPassword);
}

#[tokio::test]
async fn external_mode_with_the_software_kms() {
    let d = Dir::new("external");
    let k = kms(&d.kms_path()).await;
    let v = open(&d, &k, Mode::External).await.expect("vault");
    // Generating a key in the KMS: create, wait until active (one check when it is active at once),
    // fetch the public key — three calls, the activity check made once.
    let before = k.total_calls();
    v.generate_signing_key(SigningKeySpec::EcP256, U::PROTOCOL_ONLY, None)
        .await
        .expect("gen");
    assert_eq!(k.total_calls() - before, 3, "{:?}", k.call_counts());
    let keys = populate(&v).await;
    let before = k.total_calls();
    exercise(&v, keys).await;
    // sign ×2 and decrypt ×1 go to the KMS; verify and encrypt use the stored public key.
    assert_eq!(k.total_calls() - before, 3, "{:?}", k.call_counts());
    let e = v
        .export_sealed(&keys.0, b"pw")
        .await
        .expect_err("export refused");
    assert_eq!(e.kind(), ErrorKind::WrongMode);
    let e = tresor::hazmat::export_private_key(&v, &keys.0)
        .await
        .expect_err("cleartext export refused too");
    assert_eq!(e.kind(), ErrorKind::WrongMode);
    // Register a key made outside the vault.
    let id = k
        .generate_signing_key_pair(SigningKeySpec::EcP384, Some("made-outside"))
        .await
        .expect("gen");
    let info = v
        .register_kms_key(
            &id,
            Purpose::Signing,
            Some(KeySpec::Signing(SigningKeySpec::EcP384)),
            Some(U::PROTOCOL_ONLY),
            None,
        )
        .await
        .expect("register");
    assert_eq!(info.purpose(), Purpose::Signing);
    // The spec the caller expects is checked, not only the purpose (a P-256 key is not a P-384 key).
    let p256 = k
        .generate_signing_key_pair(SigningKeySpec::EcP256, None)
        .await
        .expect("gen");
    let e = v
        .register_kms_key(
            &p256,
            Purpose::Signing,
            Some(KeySpec::Signing(SigningKeySpec::EcP384)),
            Some(U::PROTOCOL_ONLY),
            None,
        )
        .await
        .expect_err("a P-256 key registered as P-384");
    assert_eq!(e.kind(), ErrorKind::IncompatibleKey, "{e}");
    let any = v
        .register_kms_key(&p256, Purpose::Signing, None, Some(U::PROTOCOL_ONLY), None)
        .await
        .expect("any spec");
    assert_eq!(any.spec.as_str(), "ec-p-256");
    let sig = v
        .sign(&info.fingerprint, b"m", U::PROTOCOL_ONLY, None)
        .await
        .expect("sign");
    v.verify(&info.fingerprint, b"m", &sig, None)
        .await
        .expect("verify");
}

#[tokio::test]
async fn export_import_with_password() {
    use tresor::vault::export::open_export;
    let d = Dir::new("export");
    let k = kms(&d.kms_path()).await;
    let v = open(&d, &k, envelope()).await.expect("vault");
    let keys = populate(&v).await;
    let file = v.export_sealed(&keys.0, b"pw").await.expect("export");
    let key = tresor::hazmat::export_private_key(&v, &keys.0)
        .await
        .expect("cleartext export (no audit log configured here)");
    assert!(!file.contains(&tresor::util::hex(key.pkcs8_der())));
    v.delete_key(&keys.0).await.expect("delete");
    assert_eq!(
        v.sign(&keys.0, b"m", U::ALL, None)
            .await
            .expect_err("deleted")
            .kind(),
        ErrorKind::KeyNotFound
    );
    assert_eq!(
        open_export(&file, b"wrong").expect_err("wrong pw").kind(),
        ErrorKind::WrongPassword
    );
    let tampered = file.replace("\"namespace\"", "\"protocol\"");
    assert!(open_export(&tampered, b"pw").is_err());
    let imported = open_export(&file, b"pw").expect("open");
    // Import on another node (a clear store).
    let d2 = Dir::new("export2");
    let v2 = Vault::open(&d2.db(), None, VaultOptions::new(Mode::Clear))
        .await
        .expect("vault2");
    let info2 = v2
        .import_private_key(
            &imported.key,
            imported.purpose,
            imported.usage,
            imported.name.as_deref(),
        )
        .await
        .expect("import");
    assert_eq!(info2.fingerprint, keys.0);
    assert_eq!(info2.usage, Some(U::NAMESPACE_ONLY));
    v2.sign(&keys.0, b"m", U::NAMESPACE_ONLY, None)
        .await
        .expect("sign after import");
    // Importing twice is a clear error.
    let e = v2
        .import_private_key(&imported.key, imported.purpose, imported.usage, None)
        .await
        .expect_err("dup");
    assert_eq!(e.kind(), ErrorKind::KeyAlreadyExists);
}

#[tokio::test]
async fn rotate_node_key_keeps_the_old_one() {
    let d = Dir::new("nodekey");
    let v = Vault::open(&d.db(), None, VaultOptions::new(Mode::Clear))
        .await
        .expect("vault");
    let keys = populate(&v).await;
    let new = v.rotate_node_key(&keys.1).await.expect("rotate");
    assert_ne!(new.fingerprint, keys.1);
    assert_eq!(new.usage, Some(U::PROTOCOL_ONLY));
    assert_eq!(new.spec.as_str(), "ec-p-256");
    assert!(
        new.name
            .as_deref()
            .unwrap_or("")
            .starts_with("protocol-rotated-20"),
        "{:?}",
        new.name
    );
    assert_eq!(v.list_keys().await.expect("list").len(), 4);
}

async fn swap_data(d: &Dir, a: &str, b: &str) {
    let pool = sqlx_pool(d).await;
    let get = |fp: String| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, Vec<u8>>("SELECT data FROM tresor_keys WHERE fingerprint = ?1")
                .bind(fp)
                .fetch_one(&pool)
                .await
                .expect("read")
        }
    };
    let (da, db) = (get(a.to_string()).await, get(b.to_string()).await);
    for (fp, data) in [(a, db), (b, da)] {
        sqlx::query("UPDATE tresor_keys SET data = ?1 WHERE fingerprint = ?2")
            .bind(data)
            .bind(fp.to_string())
            .execute(&pool)
            .await
            .expect("write");
    }
}

async fn flip_byte(d: &Dir, fp: &Fingerprint) {
    let pool = sqlx_pool(d).await;
    let mut data: Vec<u8> =
        sqlx::query_scalar("SELECT data FROM tresor_keys WHERE fingerprint = ?1")
            .bind(fp.to_string())
            .fetch_one(&pool)
            .await
            .expect("read");
    let n = data.len() / 2;
    data[n] ^= 0x40;
    sqlx::query("UPDATE tresor_keys SET data = ?1 WHERE fingerprint = ?2")
        .bind(data)
        .bind(fp.to_string())
        .execute(&pool)
        .await
        .expect("write");
}

async fn sqlx_pool(d: &Dir) -> sqlx::SqlitePool {
    sqlx::SqlitePool::connect(&d.db()).await.expect("pool")
}

#[test]
fn blocking_api_from_eight_threads() {
    use tresor::vault::blocking::BlockingVault;
    let d = Dir::new("blocking");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let k: Arc<dyn KmsDriver> = rt.block_on(kms(&d.kms_path()));
    drop(rt);
    let v = Arc::new(
        BlockingVault::open_with_driver(&d.db(), Some(k), VaultOptions::new(envelope()))
            .expect("open"),
    );
    let key = v
        .generate_signing_key(SigningKeySpec::EcCurve25519, U::PROTOCOL_ONLY, None)
        .expect("gen");
    let fp = key.fingerprint;
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let v = v.clone();
            std::thread::spawn(move || {
                for j in 0..50 {
                    let msg = format!("thread {i} message {j}");
                    let sig = v
                        .sign(&fp, msg.as_bytes(), U::PROTOCOL_ONLY, None)
                        .expect("sign");
                    v.verify(&fp, msg.as_bytes(), &sig, None).expect("verify");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    assert_eq!(v.vault().cached_keys(), 1);
    let e = v
        .sign(&fp, b"m", U::NAMESPACE_ONLY, None)
        .expect_err("usage checked on the cached path too");
    assert_eq!(e.kind(), ErrorKind::UsageNotAllowed);
}

#[tokio::test]
async fn a_second_instance_follows_rotations_made_by_another() {
    let d = Dir::new("follow");
    let k = kms(&d.kms_path()).await;
    let v1 = open(&d, &k, envelope()).await.expect("v1");
    let keys = populate(&v1).await;
    let v2 = open(&d, &k, envelope()).await.expect("v2");
    exercise(&v2, keys).await;
    v1.rotate_data_key().await.expect("rotate data key in v1");
    v2.clear_cache();
    exercise(&v2, keys).await;
    let new = v2
        .generate_signing_key(SigningKeySpec::EcP384, U::ALL, Some("made-by-v2"))
        .await
        .expect("v2 generates under the new data key");
    v1.rotate_wrapper_key(None)
        .await
        .expect("rotate wrapper in v1");
    v2.rotate_data_key()
        .await
        .expect("v2 rotates after v1's wrapper rotation");
    v1.clear_cache();
    exercise(&v1, keys).await;
    v1.sign(&new.fingerprint, b"m", U::ALL, None)
        .await
        .expect("v1 uses v2's key");
}

/// Export follows a data-key rotation made by another instance, as signing does (it used to fail with
/// `store_corrupted`: the export path opened the row with the data key it had in memory).
#[tokio::test]
async fn export_follows_a_data_key_rotation_made_by_another_instance() {
    let d = Dir::new("exportfollow");
    let k = kms(&d.kms_path()).await;
    let v1 = open(&d, &k, envelope()).await.expect("v1");
    let keys = populate(&v1).await;
    let v2 = open(&d, &k, envelope()).await.expect("v2");
    v2.rotate_data_key().await.expect("rotate in v2");
    let file = v1
        .export_sealed(&keys.0, b"correct horse battery staple")
        .await
        .expect("v1 exports after v2's rotation");
    let opened = tresor::vault::export::open_export(&file, b"correct horse battery staple")
        .expect("the export opens");
    assert_eq!(opened.key.public_key().fingerprint(), keys.0);
    v2.rotate_data_key().await.expect("rotate again");
    tresor::hazmat::export_private_key(&v1, &keys.1)
        .await
        .expect("the cleartext export follows too");
}

/// Namespace keys are not node keys: every node-key rotation refuses them, as Canton does (the
/// generating rotation used to accept what the KMS rotation refused).
#[tokio::test]
async fn namespace_keys_are_not_rotated_as_node_keys() {
    let d = Dir::new("nsrotate");
    let v = Vault::open(&d.db(), None, VaultOptions::new(Mode::Clear))
        .await
        .expect("vault");
    let (ns, proto, enc) = populate(&v).await;
    let e = v.rotate_node_key(&ns).await.expect_err("namespace key");
    assert_eq!(e.kind(), ErrorKind::UsageNotAllowed, "{e}");
    assert!(e.message().contains("namespace key"), "{e}");
    let both = v
        .generate_signing_key(
            SigningKeySpec::EcP256,
            U::parse_list("namespace,protocol").expect("usage"),
            None,
        )
        .await
        .expect("gen");
    v.rotate_node_key(&both.fingerprint)
        .await
        .expect("a key with a node usage is a node key");
    v.rotate_node_key(&proto).await.expect("protocol key");
    v.rotate_node_key(&enc).await.expect("encryption key");
    assert_eq!(v.list_keys().await.expect("list").len(), 7);
}

#[path = "common/legacy.rs"]
mod legacy;

/// Set one column of a key row with SQL, as an operator with `sqlite3` would.
async fn set_column(d: &Dir, fp: &Fingerprint, column: &str, value: Option<&str>) {
    let sql = format!("UPDATE tresor_keys SET {column} = $1 WHERE fingerprint = $2");
    let fp = fp.to_string();
    let n = match value {
        Some(v) => {
            rows::exec(
                &d.db(),
                &sql,
                &[rows::Param::Text(v), rows::Param::Text(&fp)],
            )
            .await
        }
        None => {
            let sql = format!("UPDATE tresor_keys SET {column} = NULL WHERE fingerprint = $1");
            rows::exec(&d.db(), &sql, &[rows::Param::Text(&fp)]).await
        }
    };
    assert_eq!(n, 1, "{column} of {fp}");
}

/// The error of using a key whose `column` was edited: store_corrupted, naming the key and the column.
fn assert_names(e: &tresor::Error, fp: &Fingerprint, column: &str) {
    assert_eq!(e.kind(), ErrorKind::StoreCorrupted, "{e}");
    let m = e.to_string();
    assert!(m.contains(&fp.to_string()), "fingerprint not named: {m}");
    assert!(m.contains(column), "column {column} not named: {m}");
}

/// Each column that decides what a key may do, edited with SQL in an envelope store: the key is refused
/// (sign, show, rotate) with store_corrupted naming the key and the column; set back, it works again.
#[tokio::test]
async fn envelope_rights_edited_with_sql_are_refused() {
    let d = Dir::new("rights-envelope");
    let k = kms(&d.kms_path()).await;
    let v = open(&d, &k, envelope()).await.expect("vault");
    let p256 = v
        .generate_signing_key(SigningKeySpec::EcP256, U::PROTOCOL_ONLY, Some("protocol"))
        .await
        .expect("gen")
        .fingerprint;
    let enc = v
        .generate_encryption_key(EncryptionKeySpec::EcP256, Some("enc"))
        .await
        .expect("gen")
        .fingerprint;
    drop(v);
    let stored = rows::rows(&d.db()).await;
    assert!(stored.iter().all(|r| r.data_key_id.is_some()));
    // usage: protocol → namespace (the edit the issue made with sqlite3).
    set_column(&d, &p256, "usage", Some("namespace")).await;
    let v = open(&d, &k, envelope()).await.expect("the store opens");
    let e = v
        .sign(&p256, b"m", U::NAMESPACE_ONLY, None)
        .await
        .expect_err("a namespace signature with a protocol key");
    assert_names(&e, &p256, "usage");
    assert_names(&v.key_info(&p256).await.expect_err("show"), &p256, "usage");
    assert_names(
        &v.rotate_node_key(&p256).await.expect_err("rotate"),
        &p256,
        "usage",
    );
    assert!(
        v.list_keys().await.is_err(),
        "listing every key includes the edited one"
    );
    let listed = v.list_keys_lenient().await.expect("lenient list");
    assert_eq!(listed.iter().filter(|k| k.is_ok()).count(), 1);
    let problems = v.check_store().await.expect("check");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].fingerprint.as_deref(), Some(&*p256.to_string()));
    drop(v);
    set_column(&d, &p256, "usage", Some("protocol")).await;
    // key_spec: a P-256 signing key relabelled P-384.
    set_column(&d, &p256, "key_spec", Some("ec-p-384")).await;
    let v = open(&d, &k, envelope()).await.expect("vault");
    assert_names(
        &v.sign(&p256, b"m", U::PROTOCOL_ONLY, None)
            .await
            .expect_err("spec"),
        &p256,
        "key_spec",
    );
    drop(v);
    set_column(&d, &p256, "key_spec", Some("ec-p-256")).await;
    // purpose: the P-256 signing key made an encryption key (usage cleared, as such a row must be).
    set_column(&d, &p256, "usage", None).await;
    rows::exec(
        &d.db(),
        "UPDATE tresor_keys SET purpose = 1 WHERE fingerprint = $1",
        &[rows::Param::Text(&p256.to_string())],
    )
    .await;
    let v = open(&d, &k, envelope()).await.expect("vault");
    assert_names(
        &v.decrypt(&p256, b"whatever", None)
            .await
            .expect_err("purpose"),
        &p256,
        "purpose",
    );
    assert_names(
        &v.encrypt(&p256, b"m", None).await.expect_err("purpose"),
        &p256,
        "purpose",
    );
    // The other key is untouched and works.
    let ct = v.encrypt(&enc, b"m", None).await.expect("encrypt");
    v.decrypt(&enc, &ct, None).await.expect("decrypt");
    drop(v);
    rows::exec(
        &d.db(),
        "UPDATE tresor_keys SET purpose = 0, usage = 'protocol' WHERE fingerprint = $1",
        &[rows::Param::Text(&p256.to_string())],
    )
    .await;
    // format_version: rows of an upgraded store are never read in the old format.
    rows::exec(
        &d.db(),
        "UPDATE tresor_keys SET format_version = 1 WHERE fingerprint = $1",
        &[rows::Param::Text(&p256.to_string())],
    )
    .await;
    let v = open(&d, &k, envelope()).await.expect("vault");
    assert_names(
        &v.sign(&p256, b"m", U::PROTOCOL_ONLY, None)
            .await
            .expect_err("format"),
        &p256,
        "format_version",
    );
    drop(v);
    rows::exec(
        &d.db(),
        "UPDATE tresor_keys SET format_version = 2 WHERE fingerprint = $1",
        &[rows::Param::Text(&p256.to_string())],
    )
    .await;
    let v = open(&d, &k, envelope()).await.expect("vault");
    v.sign(&p256, b"m", U::PROTOCOL_ONLY, None)
        .await
        .expect("restored row signs");
    assert!(v.check_store().await.expect("check").is_empty());
}

/// The same in external mode, where rows hold no sealed key: usage, key spec, purpose and KMS key id
/// are bound by a tag under a key derived from the store's KMS-wrapped data key.
#[tokio::test]
async fn external_rights_edited_with_sql_are_refused() {
    let d = Dir::new("rights-external");
    let k = kms(&d.kms_path()).await;
    let v = open(&d, &k, Mode::External).await.expect("vault");
    let a = v
        .generate_signing_key(SigningKeySpec::EcP256, U::PROTOCOL_ONLY, Some("a"))
        .await
        .expect("gen");
    let b = v
        .generate_signing_key(SigningKeySpec::EcP256, U::NAMESPACE_ONLY, Some("b"))
        .await
        .expect("gen");
    v.sign(&a.fingerprint, b"m", U::PROTOCOL_ONLY, None)
        .await
        .expect("sign");
    drop(v);
    let (fa, fb) = (a.fingerprint, b.fingerprint);
    let id_a = a.kms_key_id.expect("kms id").as_str().to_string();
    let id_b = b.kms_key_id.expect("kms id").as_str().to_string();
    let cases: [(&str, &str, &str); 3] = [
        ("usage", "namespace", "protocol"),
        ("key_spec", "ec-p-384", "ec-p-256"),
        ("kms_key_id", &id_b, &id_a),
    ];
    for (column, edited, original) in cases {
        set_column(&d, &fa, column, Some(edited)).await;
        let v = open(&d, &k, Mode::External).await.expect("vault");
        let usage = if column == "usage" {
            U::NAMESPACE_ONLY
        } else {
            U::PROTOCOL_ONLY
        };
        assert_names(
            &v.sign(&fa, b"m", usage, None).await.expect_err(column),
            &fa,
            column,
        );
        assert_names(&v.key_info(&fa).await.expect_err(column), &fa, column);
        v.sign(&fb, b"m", U::NAMESPACE_ONLY, None)
            .await
            .expect("the other key signs");
        drop(v);
        set_column(&d, &fa, column, Some(original)).await;
    }
    // A record moved from another row does not authenticate.
    let stored = rows::rows(&d.db()).await;
    let _ = stored;
    rows::exec(
        &d.db(),
        "UPDATE tresor_keys SET rights = (SELECT rights FROM tresor_keys WHERE fingerprint = $1) WHERE fingerprint = $2",
        &[rows::Param::Text(&fb.to_string()), rows::Param::Text(&fa.to_string())],
    )
    .await;
    let v = open(&d, &k, Mode::External).await.expect("vault");
    let e = v
        .sign(&fa, b"m", U::PROTOCOL_ONLY, None)
        .await
        .expect_err("moved record");
    assert_eq!(e.kind(), ErrorKind::StoreCorrupted);
    assert!(e.to_string().contains(&fa.to_string()), "{e}");
    // A removed record is refused too.
    rows::exec(
        &d.db(),
        "UPDATE tresor_keys SET rights = NULL WHERE fingerprint = $1",
        &[rows::Param::Text(&fa.to_string())],
    )
    .await;
    let v2 = open(&d, &k, Mode::External).await.expect("vault");
    assert_eq!(
        v2.key_info(&fa).await.expect_err("no record").kind(),
        ErrorKind::StoreCorrupted
    );
    drop(v);
}

/// A store written before integrity records (format 1 rows, a data key without the version marker) is
/// upgraded when it is opened: every row is re-sealed with its record under a new data key in one
/// transaction, every key still signs or decrypts, and the usage edit is then refused.
#[tokio::test]
async fn a_store_from_before_integrity_records_is_upgraded_at_open() {
    let d = Dir::new("legacy-upgrade");
    let k = kms(&d.kms_path()).await;
    let ns = tresor::PrivateKey::generate(tresor::KeyType::Ed25519).expect("key");
    let proto = tresor::PrivateKey::generate(tresor::KeyType::EcP256).expect("key");
    let enc = tresor::PrivateKey::generate(tresor::KeyType::EcP256).expect("key");
    legacy::write_envelope_store(
        &d.db(),
        k.as_ref(),
        &[
            legacy::LegacyKey {
                key: &ns,
                purpose: Purpose::Signing,
                usage: Some("namespace"),
                spec: "ec-curve-25519",
            },
            legacy::LegacyKey {
                key: &proto,
                purpose: Purpose::Signing,
                usage: Some("protocol"),
                spec: "ec-p-256",
            },
            legacy::LegacyKey {
                key: &enc,
                purpose: Purpose::Encryption,
                usage: None,
                spec: "ec-p-256",
            },
        ],
    )
    .await;
    let before = rows::rows(&d.db()).await;
    assert!(before.iter().all(|r| r.data_key_id == Some(1)));
    let keys = (
        ns.public_key().fingerprint(),
        proto.public_key().fingerprint(),
        enc.public_key().fingerprint(),
    );
    let v = open(&d, &k, envelope()).await.expect("open upgrades");
    let after = rows::rows(&d.db()).await;
    let dks = rows::data_keys(&d.db()).await;
    assert_eq!(dks.len(), 1);
    assert_eq!(dks[0].id, 2, "the upgrade rotates the data key");
    assert!(after.iter().all(|r| r.data_key_id == Some(2)), "{after:?}");
    exercise(&v, keys).await;
    assert!(v.check_store().await.expect("check").is_empty());
    drop(v);
    set_column(&d, &keys.1, "usage", Some("namespace")).await;
    let v = open(&d, &k, envelope()).await.expect("vault");
    assert_names(
        &v.sign(&keys.1, b"m", U::NAMESPACE_ONLY, None)
            .await
            .expect_err("edited usage"),
        &keys.1,
        "usage",
    );
}

/// The pools tresor opens run no background maintenance task: sqlx 0.8's task could spin at 100 %
/// of a core during runtime shutdown, so a one-shot command never exited. Checked on the options the
/// store's pool runs with (in-crate test in `store`); here: opening and closing on a fresh current-thread
/// runtime many times never leaves a task that keeps the runtime from shutting down.
#[test]
fn runtimes_shut_down_after_open_sign_close() {
    let d = Dir::new("shutdown");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let fp = rt.block_on(async {
        let k = kms(&d.kms_path()).await;
        let v = open(&d, &k, envelope()).await.expect("vault");
        let fp = v
            .generate_signing_key(SigningKeySpec::EcCurve25519, U::ALL, None)
            .await
            .expect("gen")
            .fingerprint;
        v.close().await;
        fp
    });
    drop(rt);
    for _ in 0..20 {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let k = kms(&d.kms_path()).await;
            let v = open(&d, &k, envelope()).await.expect("vault");
            v.sign(&fp, b"m", U::ALL, None).await.expect("sign");
            v.close().await;
        });
        rt.shutdown_timeout(std::time::Duration::from_secs(5));
    }
}
