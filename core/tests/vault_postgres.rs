//! The vault over a real PostgreSQL server (through sqlx's `Any` driver, as in production) and the
//! software KMS: every mode, migrations, rotations, bad input, and two HA instances sharing one database.
//!
//! Needs a server: `scripts/services/postgres.sh start` and
//! `TRESOR_TEST_PG_URL=$(cat target/services/postgres/url) cargo test -p tresor --features postgres --test vault_postgres`
//! (or `./scripts/test.sh postgres`). Without `TRESOR_TEST_PG_URL` every test fails, unless
//! `TRESOR_SKIP_PG=1` says there is no server on purpose.
//!
//! Each test runs in a database of its own (`CREATE DATABASE` with the test role, which has CREATEDB),
//! dropped when the test passes and kept for inspection when it fails.
#![cfg(feature = "postgres")]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::Connection as _;
use tresor::kms::software::{KeyState, MasterKeySource, SoftwareKms};
use tresor::kms::{KmsDriver, KmsKeyId};
use tresor::{KeySpec, Purpose};

#[path = "common/rows.rs"]
mod rows;
use tresor::vault::{
    EnvelopeConfig, KeyInfo, Mode, Progress, ProgressFn, Role, Storage, Vault, VaultOptions,
};
use tresor::{
    EncryptionKeySpec, ErrorKind, Fingerprint, SigningAlgorithmSpec, SigningKeySpec,
    SigningKeyUsageSet as U,
};

const URL_ENV: &str = "TRESOR_TEST_PG_URL";
const SKIP_ENV: &str = "TRESOR_SKIP_PG";

/// The server URL, or `None` when the tests are skipped on purpose. Panics (fails the test) when there
/// is neither: a missing server must not look like a passing run.
fn server_url() -> Option<String> {
    if let Ok(url) = std::env::var(URL_ENV) {
        let url = url.trim().to_string();
        if !url.is_empty() {
            return Some(url);
        }
    }
    if std::env::var(SKIP_ENV).is_ok_and(|v| v.trim() == "1") {
        eprintln!("skipped: TRESOR_SKIP_PG=1 (no PostgreSQL server)");
        return None;
    }
    panic!(
        "{URL_ENV} is not set: these tests need a PostgreSQL server. Start one with \
         `scripts/services/postgres.sh start` and run with \
         {URL_ENV}=$(cat target/services/postgres/url), or run `./scripts/test.sh postgres`; \
         set {SKIP_ENV}=1 to skip them deliberately"
    );
}

/// `url` with its database name replaced by `db` (query parameters kept).
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}_{:x}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A database of its own for one test.
struct TestDb {
    name: String,
    url: String,
    admin_url: String,
}

impl TestDb {
    /// A fresh, empty database; `None` when the tests are skipped.
    async fn create(tag: &str) -> Option<Self> {
        let admin_url = server_url()?;
        let tag: String = tag
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(16)
            .collect::<String>()
            .to_ascii_lowercase();
        let name = format!("tresor_test_{tag}_{}", unique_suffix());
        assert!(name.len() <= 63, "database name too long: {name}");
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| {
                panic!("cannot connect to the PostgreSQL server given by {URL_ENV}: {e}")
            });
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name} (the role needs CREATEDB): {e}"));
        let _ = admin.close().await;
        let url = with_database(&admin_url, &name);
        Some(Self {
            name,
            url,
            admin_url,
        })
    }

    /// A clear-mode vault on the test database (opening it applies the schema migrations).
    async fn store(&self) -> Vault {
        Vault::open(&self.url, None, VaultOptions::new(Mode::Clear))
            .await
            .expect("open the store")
    }

    /// A plain PostgreSQL pool on the test database, for inspecting and tampering with rows.
    async fn raw(&self) -> sqlx::PgPool {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect(&self.url)
            .await
            .expect("raw pool")
    }

    /// Every row of every tresor table, as text: equal snapshots mean an unchanged store.
    async fn snapshot(&self) -> String {
        let pool = self.raw().await;
        let s: String = sqlx::query_scalar(
            "SELECT COALESCE((SELECT string_agg(t::text, E'\\n' ORDER BY t.fingerprint) FROM tresor_keys t), '') \
             || E'\\n--\\n' || COALESCE((SELECT string_agg(t::text, E'\\n' ORDER BY t.id) FROM tresor_data_keys t), '') \
             || E'\\n--\\n' || COALESCE((SELECT string_agg(t::text, E'\\n' ORDER BY t.name) FROM tresor_meta t), '') \
             || E'\\n--\\n' || COALESCE((SELECT string_agg(t::text, E'\\n' ORDER BY t.version) FROM tresor_schema t), '')",
        )
        .fetch_one(&pool)
        .await
        .expect("snapshot");
        pool.close().await;
        s
    }

    async fn count_rows(&self, table: &str) -> i64 {
        let pool = self.raw().await;
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&pool)
            .await
            .expect("count");
        pool.close().await;
        n
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept database {} for inspection", self.name);
            return;
        }
        // Drop is synchronous and may run inside the test's runtime: use a thread with its own.
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async move {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await.ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .ok()?;
                admin.close().await.ok()
            })
        })
        .join();
    }
}

/// A temporary directory for the software KMS file.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("tresor-vault-pg-{name}-{}", unique_suffix()));
        std::fs::create_dir_all(&p).expect("mkdir");
        Self(p)
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

/// A handle on the software KMS file (each HA node opens its own handle on the same KMS).
async fn kms(d: &Dir) -> Arc<SoftwareKms> {
    Arc::new(
        SoftwareKms::open(
            &d.kms_path(),
            MasterKeySource::Passphrase("correct horse battery staple".to_string().into()),
        )
        .await
        .expect("open software KMS"),
    )
}

fn envelope() -> Mode {
    Mode::Envelope(EnvelopeConfig::default())
}

fn reverted() -> Mode {
    Mode::Envelope(EnvelopeConfig {
        wrapper_key_id: None,
        reverted: true,
    })
}

async fn open_with(
    db: &TestDb,
    kms: Option<&Arc<SoftwareKms>>,
    options: VaultOptions,
) -> tresor::Result<Vault> {
    let driver = kms.map(|k| {
        let driver: Arc<dyn KmsDriver> = k.clone();
        driver
    });
    Vault::open(&db.url, driver, options).await
}

async fn open(db: &TestDb, kms: &Arc<SoftwareKms>, mode: Mode) -> tresor::Result<Vault> {
    open_with(db, Some(kms), VaultOptions::new(mode)).await
}

async fn open_clear(db: &TestDb) -> Vault {
    open_with(db, None, VaultOptions::new(Mode::Clear))
        .await
        .expect("clear vault")
}

fn passive(mode: Mode) -> VaultOptions {
    VaultOptions::new(mode).role(Role::Passive {
        poll: Duration::from_millis(50),
        timeout: Duration::from_secs(120),
    })
}

type Keys = (Fingerprint, Fingerprint, Fingerprint);

async fn populate(v: &Vault) -> Keys {
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

async fn exercise(v: &Vault, keys: Keys) {
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

/// Use a key for what it is for: sign and verify, or encrypt and decrypt.
async fn use_key(v: &Vault, info: &KeyInfo) {
    let fp = &info.fingerprint;
    match info.purpose() {
        Purpose::Signing => {
            let usage = info.usage.expect("signing key has a usage");
            let sig = v
                .sign(fp, fp.to_string().as_bytes(), usage, None)
                .await
                .unwrap_or_else(|e| panic!("sign with {fp}: {e}"));
            v.verify(fp, fp.to_string().as_bytes(), &sig, None)
                .await
                .unwrap_or_else(|e| panic!("verify with {fp}: {e}"));
        }
        Purpose::Encryption => {
            let ct = v.encrypt(fp, b"pt", None).await.expect("encrypt");
            let pt = v
                .decrypt(fp, &ct, None)
                .await
                .unwrap_or_else(|e| panic!("decrypt with {fp}: {e}"));
            assert_eq!(pt.as_slice(), b"pt");
        }
    }
}

/// `n` keys of three kinds, generated concurrently (several insert transactions in flight).
async fn generate_many(v: &Vault, n: usize, prefix: &str) -> Vec<KeyInfo> {
    let tasks = 4;
    let mut handles = Vec::new();
    for t in 0..tasks {
        let v = v.clone();
        let prefix = prefix.to_string();
        handles.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for i in (t..n).step_by(tasks) {
                let name = format!("{prefix}-{i}");
                let info = match i % 3 {
                    0 => v
                        .generate_signing_key(
                            SigningKeySpec::EcCurve25519,
                            U::NAMESPACE_ONLY,
                            Some(&name),
                        )
                        .await
                        .expect("gen ed25519"),
                    1 => v
                        .generate_signing_key(SigningKeySpec::EcP256, U::PROTOCOL_ONLY, Some(&name))
                        .await
                        .expect("gen p-256"),
                    _ => v
                        .generate_encryption_key(EncryptionKeySpec::EcP256, Some(&name))
                        .await
                        .expect("gen encryption"),
                };
                out.push(info);
            }
            out
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.expect("generator task"));
    }
    all
}

#[track_caller]
fn assert_kind<T: core::fmt::Debug>(r: tresor::Result<T>, kind: ErrorKind, what: &str) -> String {
    let e = r.expect_err(what);
    assert_eq!(e.kind(), kind, "{what}: {e}");
    let msg = e.to_string();
    assert!(!msg.is_empty(), "{what}: empty message");
    msg
}

// --- schema and connection ----------------------------------------------------------------------------

#[tokio::test]
async fn schema_types_and_idempotent_migration_on_postgres() {
    let Some(db) = TestDb::create("schema").await else {
        return;
    };
    let store = db.store().await;
    let password = db
        .url
        .split_once("://")
        .and_then(|(_, rest)| rest.rsplit_once('@'))
        .and_then(|(creds, _)| creds.split_once(':'))
        .map(|(_, pw)| pw.to_string());
    if let Some(pw) = password.filter(|p| !p.is_empty()) {
        assert!(
            !store.store_url().contains(&pw) && store.store_url().contains("***"),
            "the password is redacted: {}",
            store.store_url()
        );
    }
    drop(store);
    // Opening again applies nothing more.
    let before = db.snapshot().await;
    drop(db.store().await);
    assert_eq!(db.snapshot().await, before);
    // One row per applied schema version (1: the tables, 2: the integrity records).
    assert_eq!(db.count_rows("tresor_schema").await, 2);
    // Native PostgreSQL column types (BYTEA, SMALLINT, BIGINT), which the store reads back through the
    // Any driver.
    let pool = db.raw().await;
    let cols: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_name IN ('tresor_keys', 'tresor_data_keys') ORDER BY table_name, column_name",
    )
    .fetch_all(&pool)
    .await
    .expect("columns");
    let ty = |t: &str, c: &str| {
        cols.iter()
            .find(|(tt, cc, _)| tt == t && cc == c)
            .map(|(_, _, ty)| ty.clone())
            .unwrap_or_else(|| panic!("no column {t}.{c}"))
    };
    assert_eq!(ty("tresor_keys", "purpose"), "smallint");
    assert_eq!(ty("tresor_keys", "public_key"), "bytea");
    assert_eq!(ty("tresor_keys", "data"), "bytea");
    assert_eq!(ty("tresor_keys", "data_key_id"), "bigint");
    assert_eq!(ty("tresor_keys", "created_at"), "bigint");
    assert_eq!(ty("tresor_data_keys", "wrapped_key"), "bytea");
    assert_eq!(ty("tresor_data_keys", "active"), "smallint");
    pool.close().await;
    // Rows written through the store read back identically (SMALLINT purpose, NULL BYTEA, …).
    let v = open_clear(&db).await;
    let keys = populate(&v).await;
    let rows = rows::rows(&db.url).await;
    assert_eq!(rows.len(), 3);
    let row = |fp: &Fingerprint| {
        rows.iter()
            .find(|r| r.fingerprint == fp.to_string())
            .expect("row")
            .clone()
    };
    let enc = row(&keys.2);
    assert_eq!(enc.purpose, Purpose::Encryption as i64);
    assert_eq!(enc.usage, None);
    assert_eq!(enc.data_key_id, None);
    let ns = row(&keys.0);
    assert_eq!(ns.purpose, Purpose::Signing as i64);
    assert_eq!(ns.usage.as_deref(), Some("namespace"));
    assert!(
        rows.iter()
            .all(|r| r.data.is_some() && r.data_key_id.is_none())
    );
    let info = v.key_info(&keys.0).await.expect("info");
    assert_eq!(info.usage, Some(U::NAMESPACE_ONLY));
    // A wrong password is a clear store error that does not echo the password.
    let bad = db.url.replacen("tresor:", "tresor:not-the-password", 1);
    if bad != db.url {
        let msg = assert_kind(
            Vault::open(&bad, None, VaultOptions::new(Mode::Clear)).await,
            ErrorKind::StoreFailure,
            "bad password",
        );
        assert!(!msg.contains("not-the-password"), "{msg}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_nodes_open_a_fresh_database_at_once() {
    // Every node applies the schema migration on start-up; on a fresh database they race to create the
    // tables. A few rounds, each on a database of its own, to make a lost race likely if it can happen.
    for round in 0..3 {
        let Some(db) = TestDb::create(&format!("fresh{round}")).await else {
            return;
        };
        let mut handles = Vec::new();
        for _ in 0..6 {
            let url = db.url.clone();
            handles.push(tokio::spawn(async move {
                Vault::open(&url, None, VaultOptions::new(Mode::Clear)).await
            }));
        }
        for h in handles {
            h.await
                .expect("task")
                .expect("concurrent open and schema migration");
        }
        // One row per applied schema version (1: the tables, 2: the integrity records).
        assert_eq!(db.count_rows("tresor_schema").await, 2);
        // The schema is complete: a vault works on it.
        let v = open_clear(&db).await;
        exercise(&v, populate(&v).await).await;
    }
}

// --- modes ----------------------------------------------------------------------------------------------

#[tokio::test]
async fn clear_mode_round_trip_and_usage_enforcement() {
    let Some(db) = TestDb::create("clear").await else {
        return;
    };
    let v = open_clear(&db).await;
    let keys = populate(&v).await;
    exercise(&v, keys).await;
    let before = db.snapshot().await;
    assert_kind(
        v.sign(&keys.0, b"m", U::PROTOCOL_ONLY, None).await,
        ErrorKind::UsageNotAllowed,
        "wrong usage",
    );
    assert_kind(
        v.sign(&keys.2, b"m", U::ALL, None).await,
        ErrorKind::IncompatibleKey,
        "an encryption key cannot sign",
    );
    assert_kind(
        v.decrypt(&keys.1, b"ct", None).await,
        ErrorKind::IncompatibleKey,
        "a signing key cannot decrypt",
    );
    assert_kind(
        v.sign(&keys.1, b"m", U::ALL, Some(SigningAlgorithmSpec::Ed25519))
            .await,
        ErrorKind::IncompatibleKey,
        "algorithm of another key spec",
    );
    let unknown = Fingerprint::of_key_bytes(b"nothing");
    assert_kind(
        v.sign(&unknown, b"m", U::ALL, None).await,
        ErrorKind::KeyNotFound,
        "unknown fingerprint",
    );
    assert_kind(
        v.delete_key(&unknown).await,
        ErrorKind::KeyNotFound,
        "delete unknown",
    );
    let long = "x".repeat(301);
    assert_kind(
        v.generate_encryption_key(EncryptionKeySpec::Rsa2048, Some(&long))
            .await,
        ErrorKind::InvalidArgument,
        "name too long",
    );
    assert_eq!(
        db.snapshot().await,
        before,
        "failed operations leave the store as it was"
    );
    let list = v.list_keys().await.expect("list");
    assert_eq!(list.len(), 3);
    assert!(list.iter().all(|k| k.storage == Storage::Clear));
    // Clear rows hold PKCS#8.
    for r in rows::rows(&db.url).await {
        tresor::PrivateKey::from_pkcs8_der(r.data.as_deref().expect("data")).expect("pkcs8");
    }
}

#[tokio::test]
async fn envelope_open_costs_one_kms_call_and_rows_are_sealed() {
    let Some(db) = TestDb::create("envelope").await else {
        return;
    };
    let d = Dir::new("envelope");
    let k = kms(&d).await;
    let keys = {
        let v = open(&db, &k, envelope()).await.expect("vault");
        let keys = populate(&v).await;
        exercise(&v, keys).await;
        keys
    };
    let rows = rows::rows(&db.url).await;
    assert_eq!(rows.len(), 3);
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
    assert_eq!(db.count_rows("tresor_data_keys").await, 1);
    // Re-open (another process): exactly one KMS call, to unwrap the data key.
    let k2 = kms(&d).await;
    let v = open(&db, &k2, envelope()).await.expect("reopen");
    assert_eq!(k2.total_calls(), 1, "{:?}", k2.call_counts());
    exercise(&v, keys).await;
    assert_eq!(
        k2.total_calls(),
        1,
        "signing and decrypting make no KMS call: {:?}",
        k2.call_counts()
    );
    assert_eq!(v.mode_name(), "envelope");
}

#[tokio::test]
async fn external_mode_with_the_software_kms() {
    let Some(db) = TestDb::create("external").await else {
        return;
    };
    let d = Dir::new("external");
    let k = kms(&d).await;
    let v = open(&db, &k, Mode::External).await.expect("vault");
    let keys = populate(&v).await;
    let rows = rows::rows(&db.url).await;
    assert!(
        rows.iter()
            .all(|r| r.data.is_none() && r.data_key_id.is_none() && r.kms_key_id.is_some()),
        "external rows hold no private key"
    );
    let before = k.total_calls();
    exercise(&v, keys).await;
    // sign ×2 and decrypt ×1 go to the KMS; verify and encrypt use the stored public key.
    assert_eq!(k.total_calls() - before, 3, "{:?}", k.call_counts());
    let snap = db.snapshot().await;
    let before = k.total_calls();
    assert_kind(
        v.export_sealed(&keys.0, b"pw").await,
        ErrorKind::WrongMode,
        "export refused",
    );
    assert_kind(
        v.sign(&keys.0, b"m", U::PROTOCOL_ONLY, None).await,
        ErrorKind::UsageNotAllowed,
        "wrong usage",
    );
    assert_eq!(
        k.total_calls(),
        before,
        "refused operations make no KMS call"
    );
    assert_eq!(db.snapshot().await, snap);
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
    assert_eq!(info.storage, Storage::External);
    let sig = v
        .sign(&info.fingerprint, b"m", U::PROTOCOL_ONLY, None)
        .await
        .expect("sign");
    v.verify(&info.fingerprint, b"m", &sig, None)
        .await
        .expect("verify");
    // Registering it twice hits the primary key: a clear error, nothing written.
    let snap = db.snapshot().await;
    assert_kind(
        v.register_kms_key(
            &id,
            Purpose::Signing,
            Some(KeySpec::Signing(SigningKeySpec::EcP384)),
            Some(U::PROTOCOL_ONLY),
            None,
        )
        .await,
        ErrorKind::KeyAlreadyExists,
        "registered twice",
    );
    assert_eq!(db.snapshot().await, snap);
    // The store holds external keys: clear mode refuses it.
    drop(v);
    assert_kind(
        open_with(&db, None, VaultOptions::new(Mode::Clear)).await,
        ErrorKind::WrongMode,
        "clear mode on external keys",
    );
    assert_eq!(db.snapshot().await, snap);
}

#[tokio::test]
async fn export_import_and_delete() {
    use tresor::vault::export::open_export;
    let Some(db) = TestDb::create("export").await else {
        return;
    };
    let d = Dir::new("export");
    let k = kms(&d).await;
    let v = open(&db, &k, envelope()).await.expect("vault");
    let keys = populate(&v).await;
    let file = v.export_sealed(&keys.0, b"pw").await.expect("export");
    v.delete_key(&keys.0).await.expect("delete");
    assert_kind(
        v.sign(&keys.0, b"m", U::ALL, None).await,
        ErrorKind::KeyNotFound,
        "deleted",
    );
    assert_eq!(db.count_rows("tresor_keys").await, 2);
    let imported = open_export(&file, b"pw").expect("open");
    // Import back into the envelope store: sealed again.
    let info2 = v
        .import_private_key(
            &imported.key,
            imported.purpose,
            imported.usage,
            imported.name.as_deref(),
        )
        .await
        .expect("import");
    assert_eq!(info2.fingerprint, keys.0);
    assert_eq!(info2.storage, Storage::Sealed);
    assert_eq!(info2.usage, Some(U::NAMESPACE_ONLY));
    exercise(&v, keys).await;
    // Importing twice is a clear error (unique violation reported through the Any driver).
    let snap = db.snapshot().await;
    assert_kind(
        v.import_private_key(&imported.key, imported.purpose, imported.usage, None)
            .await,
        ErrorKind::KeyAlreadyExists,
        "duplicate import",
    );
    assert_eq!(db.snapshot().await, snap);
    // Node key rotation keeps the old key.
    let new = v.rotate_node_key(&keys.1).await.expect("rotate node key");
    assert_ne!(new.fingerprint, keys.1);
    assert_eq!(new.usage, Some(U::PROTOCOL_ONLY));
    assert_eq!(new.spec.as_str(), "ec-p-256");
    assert_eq!(v.list_keys().await.expect("list").len(), 4);
}

// --- migrations and rotations ---------------------------------------------------------------------------

#[tokio::test]
async fn migration_clear_to_envelope_to_clear() {
    let Some(db) = TestDb::create("migrate").await else {
        return;
    };
    let keys = populate(&open_clear(&db).await).await;
    let d = Dir::new("migrate");
    let k = kms(&d).await;
    {
        let v = open(&db, &k, envelope()).await.expect("envelope");
        assert!(
            v.list_keys()
                .await
                .expect("list")
                .iter()
                .all(|i| i.storage == Storage::Sealed)
        );
        exercise(&v, keys).await;
    }
    assert_eq!(rows::counts(&db.url).await, (3, 0));
    // Clear mode on an encrypted store is a clear error, and changes nothing.
    let before = db.snapshot().await;
    let msg = assert_kind(
        open_with(&db, None, VaultOptions::new(Mode::Clear)).await,
        ErrorKind::WrongMode,
        "clear on sealed",
    );
    assert!(msg.contains("reverted = true"), "{msg}");
    assert_eq!(db.snapshot().await, before);
    // External mode on a store holding private keys too.
    assert_kind(
        open(&db, &k, Mode::External).await,
        ErrorKind::WrongMode,
        "external on sealed",
    );
    assert_eq!(db.snapshot().await, before);
    // reverted = true opens everything back to clear.
    {
        let v = open(&db, &k, reverted()).await.expect("reverted");
        assert_eq!(v.mode_name(), "clear");
        assert!(
            v.list_keys()
                .await
                .expect("list")
                .iter()
                .all(|i| i.storage == Storage::Clear)
        );
        exercise(&v, keys).await;
    }
    assert_eq!(db.count_rows("tresor_data_keys").await, 0);
    assert_eq!(rows::counts(&db.url).await, (3, 3));
    let v = open_clear(&db).await;
    exercise(&v, keys).await;
    // And forward again, with a new data key: the store can go back and forth.
    drop(v);
    let v = open(&db, &k, envelope()).await.expect("envelope again");
    exercise(&v, keys).await;
    assert_eq!(rows::counts(&db.url).await, (3, 0));
}

#[tokio::test]
async fn wrapper_and_data_key_rotation() {
    let Some(db) = TestDb::create("rotate").await else {
        return;
    };
    let d = Dir::new("rotate");
    let k = kms(&d).await;
    let v = open(&db, &k, envelope()).await.expect("vault");
    let keys = populate(&v).await;
    let old = v.wrapper_key_id().await.expect("id");
    // Rotating to the current key is an error that changes nothing.
    let snap = db.snapshot().await;
    assert_kind(
        v.rotate_wrapper_key(Some(old.clone())).await,
        ErrorKind::InvalidArgument,
        "same wrapper key",
    );
    assert_eq!(db.snapshot().await, snap);
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
    // The key rows did not change: only the data key row was re-wrapped.
    let rows_after_wrap = rows::rows(&db.url).await;
    k.key_exists_and_is_active(&old)
        .await
        .expect("old key kept");
    exercise(&v, keys).await;
    // Generated wrapper key.
    let generated = v.rotate_wrapper_key(None).await.expect("rotate generated");
    assert_ne!(generated, new);
    let before_rows = rows::rows(&db.url).await;
    assert_eq!(before_rows, rows_after_wrap);
    // Data key rotation re-seals every row with one KMS call.
    let before = k.total_calls();
    assert_eq!(v.rotate_data_key().await.expect("rotate dk"), 3);
    assert_eq!(k.total_calls() - before, 1, "{:?}", k.call_counts());
    let after_rows = rows::rows(&db.url).await;
    assert_eq!(after_rows.len(), 3);
    for (a, b) in before_rows.iter().zip(&after_rows) {
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_ne!(a.data, b.data);
        assert_ne!(a.data_key_id, b.data_key_id);
    }
    let dks = rows::data_keys(&db.url).await;
    assert_eq!(dks.len(), 1, "the old data key is gone");
    assert_eq!(Some(dks[0].id), after_rows[0].data_key_id);
    assert!(dks[0].active);
    v.clear_cache();
    exercise(&v, keys).await;
    // A fresh process opens the rotated store with one KMS call.
    drop(v);
    let k2 = kms(&d).await;
    let v = open(&db, &k2, envelope()).await.expect("reopen");
    assert_eq!(k2.total_calls(), 1, "{:?}", k2.call_counts());
    exercise(&v, keys).await;
    // A configured wrapper key id that differs from the recorded one is a clear error.
    let snap = db.snapshot().await;
    let msg = assert_kind(
        open(
            &db,
            &k2,
            Mode::Envelope(EnvelopeConfig {
                wrapper_key_id: Some(old),
                reverted: false,
            }),
        )
        .await,
        ErrorKind::InvalidArgument,
        "wrapper key mismatch",
    );
    assert!(msg.contains("rotate the wrapper key"), "{msg}");
    assert_eq!(db.snapshot().await, snap);
}

// --- bad input ------------------------------------------------------------------------------------------

async fn swap_data(db: &TestDb, a: &Fingerprint, b: &Fingerprint) {
    let pool = db.raw().await;
    let mut tx = pool.begin().await.expect("tx");
    let get = |fp: &Fingerprint| {
        sqlx::query_scalar::<_, Vec<u8>>("SELECT data FROM tresor_keys WHERE fingerprint = $1")
            .bind(fp.to_string())
    };
    let da = get(a).fetch_one(&mut *tx).await.expect("read a");
    let dbb = get(b).fetch_one(&mut *tx).await.expect("read b");
    for (fp, data) in [(a, dbb), (b, da)] {
        sqlx::query("UPDATE tresor_keys SET data = $1 WHERE fingerprint = $2")
            .bind(data)
            .bind(fp.to_string())
            .execute(&mut *tx)
            .await
            .expect("write");
    }
    tx.commit().await.expect("commit");
    pool.close().await;
}

async fn flip_byte(db: &TestDb, fp: &Fingerprint) {
    let pool = db.raw().await;
    let mut data: Vec<u8> =
        sqlx::query_scalar("SELECT data FROM tresor_keys WHERE fingerprint = $1")
            .bind(fp.to_string())
            .fetch_one(&pool)
            .await
            .expect("read");
    let n = data.len() / 2;
    data[n] ^= 0x40;
    sqlx::query("UPDATE tresor_keys SET data = $1 WHERE fingerprint = $2")
        .bind(data)
        .bind(fp.to_string())
        .execute(&pool)
        .await
        .expect("write");
    pool.close().await;
}

#[tokio::test]
async fn tampered_swapped_and_missing_wrapper_are_clear_errors_and_change_nothing() {
    let Some(db) = TestDb::create("tamper").await else {
        return;
    };
    let d = Dir::new("tamper");
    let k = kms(&d).await;
    let keys = populate(&open(&db, &k, envelope()).await.expect("vault")).await;

    // Unknown fingerprint and wrong usage on a sealed store.
    let v = open(&db, &k, envelope()).await.expect("vault");
    let before = db.snapshot().await;
    assert_kind(
        v.sign(&Fingerprint::of_key_bytes(b"nothing"), b"m", U::ALL, None)
            .await,
        ErrorKind::KeyNotFound,
        "unknown fingerprint",
    );
    assert_kind(
        v.export_sealed(&Fingerprint::of_key_bytes(b"nothing"), b"pw")
            .await,
        ErrorKind::KeyNotFound,
        "export unknown",
    );
    assert_kind(
        v.sign(&keys.1, b"m", U::NAMESPACE_ONLY, None).await,
        ErrorKind::UsageNotAllowed,
        "wrong usage",
    );
    assert_eq!(db.snapshot().await, before);
    drop(v);

    // Swap the sealed data of two rows: the AEAD binds each row to its fingerprint.
    swap_data(&db, &keys.0, &keys.1).await;
    let before = db.snapshot().await;
    let v = open(&db, &k, envelope())
        .await
        .expect("the vault opens: rows are checked when used");
    assert_kind(
        v.sign(&keys.0, b"m", U::ALL, None).await,
        ErrorKind::StoreCorrupted,
        "swapped row",
    );
    assert_kind(
        v.sign(&keys.1, b"m", U::ALL, None).await,
        ErrorKind::StoreCorrupted,
        "swapped row (other)",
    );
    assert_kind(
        v.export_sealed(&keys.0, b"pw").await,
        ErrorKind::StoreCorrupted,
        "export of a swapped row",
    );
    // A data key rotation refuses to run over corrupted rows.
    assert_kind(
        v.rotate_data_key().await,
        ErrorKind::StoreCorrupted,
        "rotation over swapped rows",
    );
    assert_eq!(
        db.snapshot().await,
        before,
        "a failed operation leaves the store as it was"
    );
    // Reverting to clear refuses too (it would write garbage).
    drop(v);
    assert_kind(
        open(&db, &k, reverted()).await,
        ErrorKind::StoreCorrupted,
        "revert over swapped rows",
    );
    assert_eq!(db.snapshot().await, before);
    swap_data(&db, &keys.0, &keys.1).await;

    // Flip one byte of a sealed row.
    flip_byte(&db, &keys.2).await;
    let v = open(&db, &k, envelope()).await.expect("vault");
    let before = db.snapshot().await;
    assert_kind(
        v.decrypt(&keys.2, b"whatever", None).await,
        ErrorKind::StoreCorrupted,
        "tampered row",
    );
    assert_kind(
        v.rotate_data_key().await,
        ErrorKind::StoreCorrupted,
        "rotation over a tampered row",
    );
    assert_eq!(db.snapshot().await, before);
    // The untouched rows still work, and so does the repaired one.
    v.sign(&keys.0, b"m", U::ALL, None)
        .await
        .expect("untouched row");
    flip_byte(&db, &keys.2).await;
    exercise(&v, keys).await;

    // Disabled wrapper key: opening fails with a clear error.
    let wrapper = v.wrapper_key_id().await.expect("id");
    drop(v);
    k.set_key_state(&wrapper, KeyState::Disabled)
        .await
        .expect("disable");
    let before = db.snapshot().await;
    assert_kind(
        open(&db, &k, envelope()).await,
        ErrorKind::KmsKeyDisabled,
        "disabled wrapper",
    );
    assert_kind(
        open(&db, &k, reverted()).await,
        ErrorKind::KmsKeyDisabled,
        "revert under a disabled wrapper",
    );
    assert_eq!(db.snapshot().await, before);
    k.set_key_state(&wrapper, KeyState::Enabled)
        .await
        .expect("enable");
    exercise(&open(&db, &k, envelope()).await.expect("enabled"), keys).await;

    // Missing wrapper key.
    k.delete_key(&wrapper).await.expect("delete");
    assert_kind(
        open(&db, &k, envelope()).await,
        ErrorKind::KmsKeyNotFound,
        "missing wrapper",
    );
    assert_eq!(db.snapshot().await, before);

    // A configured wrapper key that does not exist, on a fresh store with clear keys: nothing migrates.
    let Some(db2) = TestDb::create("tamper2").await else {
        return;
    };
    let keys2 = populate(&open_clear(&db2).await).await;
    let before2 = db2.snapshot().await;
    let bogus = KmsKeyId::new("soft-does-not-exist").expect("id");
    assert_kind(
        open(
            &db2,
            &k,
            Mode::Envelope(EnvelopeConfig {
                wrapper_key_id: Some(bogus),
                reverted: false,
            }),
        )
        .await,
        ErrorKind::KmsKeyNotFound,
        "bogus wrapper",
    );
    assert_eq!(db2.snapshot().await, before2);
    exercise(&open_clear(&db2).await, keys2).await;
}

// --- HA: two instances on one database ------------------------------------------------------------------

/// What a passive node saw.
struct PassiveReport {
    /// When it began opening the store.
    started: Instant,
    /// When `Vault::open` returned (the wait for the active instance is over).
    ready: Instant,
    mode: &'static str,
    keys: Vec<(Fingerprint, Storage)>,
    /// KMS calls made by opening the vault, and after using every key.
    calls_at_open: u64,
    calls_after_use: u64,
}

/// A passive node: its own thread, runtime, store pool and KMS handle, as a separate process would have.
/// It opens the vault once `go` fires (at once without one), says so on `started`, then lists and uses
/// every key.
fn spawn_passive_node(
    url: String,
    kms_path: PathBuf,
    mode: Mode,
    go: Option<std::sync::mpsc::Receiver<()>>,
    started_tx: Option<std::sync::mpsc::Sender<()>>,
) -> std::thread::JoinHandle<PassiveReport> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let k = Arc::new(
                SoftwareKms::open(
                    &kms_path,
                    MasterKeySource::Passphrase("correct horse battery staple".to_string().into()),
                )
                .await
                .expect("passive KMS"),
            );
            if let Some(go) = go {
                go.recv().expect("go signal");
            }
            let started = Instant::now();
            if let Some(tx) = started_tx {
                tx.send(()).expect("started signal");
            }
            let driver: Arc<dyn KmsDriver> = k.clone();
            let v = Vault::open(&url, Some(driver), passive(mode))
                .await
                .expect("passive vault");
            let ready = Instant::now();
            let calls_at_open = k.total_calls();
            let list = v.list_keys().await.expect("list");
            for info in &list {
                use_key(&v, info).await;
            }
            PassiveReport {
                started,
                ready,
                mode: v.mode_name(),
                keys: list.iter().map(|i| (i.fingerprint, i.storage)).collect(),
                calls_at_open,
                calls_after_use: k.total_calls(),
            }
        })
    })
}

/// Run the active instance's migration (`active_mode`, reporting `label` progress over `n` rows) with
/// two passive nodes: A started before the migration begins, B started in the middle of it (the
/// progress callback holds the active's open transaction until B runs and has polled a few times).
/// Both must wait for the commit. Returns their reports.
async fn run_ha_migration(
    db: &TestDb,
    d: &Dir,
    active_mode: Mode,
    passive_mode: Mode,
    label: &'static str,
    n: usize,
) -> Vec<PassiveReport> {
    let (a_started_tx, a_started_rx) = std::sync::mpsc::channel();
    let passive_a = spawn_passive_node(
        db.url.clone(),
        d.kms_path(),
        passive_mode.clone(),
        None,
        Some(a_started_tx),
    );
    tokio::task::spawn_blocking(move || a_started_rx.recv_timeout(Duration::from_secs(60)))
        .await
        .expect("join task")
        .expect("passive A started");
    // Let A poll the store a few times.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        !passive_a.is_finished(),
        "the passive instance must wait for the active one"
    );
    let (go_tx, go_rx) = std::sync::mpsc::channel();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let passive_b = spawn_passive_node(
        db.url.clone(),
        d.kms_path(),
        passive_mode,
        Some(go_rx),
        Some(started_tx),
    );
    let first = Arc::new(Mutex::new(None::<Instant>));
    let last = Arc::new(Mutex::new(None::<Instant>));
    let reports = Arc::new(AtomicU64::new(0));
    let hook = Mutex::new(Some((go_tx, started_rx)));
    let progress: ProgressFn = {
        let (first, last, reports) = (first.clone(), last.clone(), reports.clone());
        Arc::new(move |what: &'static str, p: Progress| {
            if what != label {
                return;
            }
            let now = Instant::now();
            first.lock().expect("lock").get_or_insert(now);
            *last.lock().expect("lock") = Some(now);
            reports.fetch_add(1, Ordering::Relaxed);
            if p.done == p.total / 2
                && let Some((go, started)) = hook.lock().expect("lock").take()
            {
                go.send(()).expect("start passive B");
                started
                    .recv_timeout(Duration::from_secs(30))
                    .expect("passive B started");
                // Hold the migration transaction open while B polls (every 50 ms).
                std::thread::sleep(Duration::from_millis(300));
            }
        })
    };
    let k_active = kms(d).await;
    let options = VaultOptions::new(active_mode).progress(progress);
    let active = open_with(db, Some(&k_active), options)
        .await
        .expect("the active vault migrates");
    assert_eq!(
        reports.load(Ordering::Relaxed),
        n as u64,
        "the active instance migrated every row"
    );
    drop(active);
    let first = first.lock().expect("lock").expect("progress reported");
    let last = last.lock().expect("lock").expect("progress reported");
    let mut out = Vec::new();
    for (name, h) in [("A", passive_a), ("B", passive_b)] {
        let r = tokio::task::spawn_blocking(move || h.join())
            .await
            .expect("join task")
            .unwrap_or_else(|_| panic!("passive node {name} failed"));
        // The migration commits after its last progress report: a passive node that is ready after it
        // waited for the commit.
        assert!(
            r.ready > last,
            "passive {name} became ready only after the active instance's migration"
        );
        assert!(
            r.started < last,
            "passive {name} was started before the migration finished"
        );
        if name == "A" {
            assert!(
                r.started < first,
                "passive A was started before the migration began"
            );
        }
        out.push(r);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ha_passive_waits_for_the_active_migration_to_envelope() {
    const N: usize = 300;
    let Some(db) = TestDb::create("haseal").await else {
        return;
    };
    let d = Dir::new("haseal");
    drop(kms(&d).await); // create the KMS file before the nodes open it
    let infos = generate_many(&open_clear(&db).await, N, "ha").await;
    assert_eq!(rows::counts(&db.url).await, (N as i64, N as i64));
    let passives = run_ha_migration(&db, &d, envelope(), envelope(), "sealing keys", N).await;
    assert_eq!(rows::counts(&db.url).await, (N as i64, 0));
    assert_eq!(db.count_rows("tresor_data_keys").await, 1);
    let want: BTreeSet<Fingerprint> = infos.iter().map(|i| i.fingerprint).collect();
    for r in &passives {
        assert_eq!(r.mode, "envelope");
        assert_eq!(r.keys.len(), N);
        assert!(r.keys.iter().all(|(_, s)| *s == Storage::Sealed));
        assert_eq!(
            r.keys.iter().map(|(fp, _)| *fp).collect::<BTreeSet<_>>(),
            want
        );
        assert_eq!(
            r.calls_at_open, 1,
            "a passive instance unwraps the data key once"
        );
        assert_eq!(r.calls_after_use, 1, "using sealed keys makes no KMS call");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ha_passive_waits_for_the_active_revert_to_clear() {
    const N: usize = 240;
    let Some(db) = TestDb::create("harevert").await else {
        return;
    };
    let d = Dir::new("harevert");
    let infos = {
        let k = kms(&d).await;
        let v = open(&db, &k, envelope()).await.expect("envelope");
        generate_many(&v, N, "ha").await
    };
    assert_eq!(rows::counts(&db.url).await, (N as i64, 0));
    let passives = run_ha_migration(&db, &d, reverted(), reverted(), "opening keys", N).await;
    assert_eq!(db.count_rows("tresor_data_keys").await, 0);
    assert_eq!(rows::counts(&db.url).await, (N as i64, N as i64));
    let want: BTreeSet<Fingerprint> = infos.iter().map(|i| i.fingerprint).collect();
    for r in &passives {
        assert_eq!(r.mode, "clear");
        assert_eq!(r.keys.len(), N);
        assert!(r.keys.iter().all(|(_, s)| *s == Storage::Clear));
        assert_eq!(
            r.keys.iter().map(|(fp, _)| *fp).collect::<BTreeSet<_>>(),
            want
        );
        assert_eq!(r.calls_after_use, 0, "a clear store needs no KMS");
    }
    // And the store is an ordinary clear store again.
    let v = open_clear(&db).await;
    use_key(&v, &infos[0]).await;
}

#[tokio::test]
async fn passive_gives_up_when_no_active_instance_migrates() {
    let Some(db) = TestDb::create("hatimeout").await else {
        return;
    };
    let d = Dir::new("hatimeout");
    let k = kms(&d).await;
    let keys = populate(&open_clear(&db).await).await;
    let before = db.snapshot().await;
    let o = VaultOptions::new(envelope()).role(Role::Passive {
        poll: Duration::from_millis(50),
        timeout: Duration::from_millis(400),
    });
    // How it polls and when it gives up is timed exactly on a paused clock (vault::startup's tests);
    // here: the outcome on a real database.
    let msg = assert_kind(
        open_with(&db, Some(&k), o).await,
        ErrorKind::StoreFailure,
        "passive without an active instance",
    );
    assert!(
        msg.contains("did not finish migrating within 400ms"),
        "{msg}"
    );
    assert_eq!(k.total_calls(), 0, "{:?}", k.call_counts());
    assert_eq!(
        db.snapshot().await,
        before,
        "a passive instance writes nothing"
    );
    exercise(&open_clear(&db).await, keys).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_generate_keys_concurrently_without_losing_rows() {
    const PER_INSTANCE: usize = 90;
    let Some(db) = TestDb::create("haconc").await else {
        return;
    };
    let d = Dir::new("haconc");
    let (ka, kb) = (kms(&d).await, kms(&d).await);
    let a = open(&db, &ka, envelope()).await.expect("active");
    let b = open_with(&db, Some(&kb), passive(envelope()))
        .await
        .expect("passive");
    let (ra, rb) = tokio::join!(
        generate_many(&a, PER_INSTANCE, "node-a"),
        generate_many(&b, PER_INSTANCE, "node-b")
    );
    assert_eq!(ra.len(), PER_INSTANCE);
    assert_eq!(rb.len(), PER_INSTANCE);
    let want: BTreeSet<Fingerprint> = ra.iter().chain(&rb).map(|i| i.fingerprint).collect();
    assert_eq!(want.len(), 2 * PER_INSTANCE);
    assert_eq!(db.count_rows("tresor_keys").await, 2 * PER_INSTANCE as i64);
    for v in [&a, &b] {
        let list = v.list_keys().await.expect("list");
        assert_eq!(
            list.iter().map(|i| i.fingerprint).collect::<BTreeSet<_>>(),
            want,
            "each instance sees every row"
        );
        assert!(list.iter().all(|i| i.storage == Storage::Sealed));
    }
    // Each instance uses the keys the other one made.
    for info in &rb {
        use_key(&a, info).await;
    }
    for info in &ra {
        use_key(&b, info).await;
    }
    // Concurrent deletes of the same key: exactly one wins, the other sees "not found".
    let victim = ra[0].fingerprint;
    let (da, dbb) = tokio::join!(a.delete_key(&victim), b.delete_key(&victim));
    assert!(
        da.is_ok() != dbb.is_ok(),
        "exactly one delete succeeds: {da:?} {dbb:?}"
    );
    let e = da.err().or(dbb.err()).expect("one error");
    assert_eq!(e.kind(), ErrorKind::KeyNotFound, "{e}");
    assert_eq!(
        db.count_rows("tresor_keys").await,
        2 * PER_INSTANCE as i64 - 1
    );
    // The same key imported by both at once: one row, one KeyAlreadyExists.
    let info = b.key_info(&rb[1].fingerprint).await.expect("info");
    let key = tresor::hazmat::export_private_key(&b, &info.fingerprint)
        .await
        .expect("export");
    b.delete_key(&info.fingerprint).await.expect("delete");
    let (ia, ib) = tokio::join!(
        a.import_private_key(&key, info.purpose(), info.usage, None),
        b.import_private_key(&key, info.purpose(), info.usage, None)
    );
    assert!(ia.is_ok() != ib.is_ok(), "exactly one import succeeds");
    let e = ia.err().or(ib.err()).expect("one error");
    assert_eq!(e.kind(), ErrorKind::KeyAlreadyExists, "{e}");
    assert_eq!(
        db.count_rows("tresor_keys").await,
        2 * PER_INSTANCE as i64 - 1
    );
    use_key(&a, &info).await;
}

/// 8 instances (pools of their own, as separate processes have) generate, rotate and import keys while a
/// ninth rotates the data key (and now and then the wrapper key) in a loop: no write fails (they used to
/// fail with a foreign-key violation when the data key they sealed under was replaced), and every key
/// signs afterwards. The counts are printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_writers_during_a_rotation_loop() {
    const OPS: usize = 12;
    let Some(db) = TestDb::create("writers").await else {
        return;
    };
    let d = Dir::new("writers");
    let k = kms(&d).await;
    let rotator = open(&db, &k, envelope()).await.expect("rotator");
    let mut writers = Vec::new();
    for _ in 0..8 {
        writers.push(open(&db, &kms(&d).await, envelope()).await.expect("writer"));
    }
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let rotations = {
        let (v, done) = (rotator.clone(), done.clone());
        tokio::spawn(async move {
            let (mut n, mut failed) = (0usize, Vec::new());
            while !done.load(Ordering::Relaxed) || n < 2 {
                let r = if n % 5 == 4 {
                    v.rotate_wrapper_key(None).await.map(drop)
                } else {
                    v.rotate_data_key().await.map(drop)
                };
                if let Err(e) = r {
                    failed.push(e.to_string());
                }
                n += 1;
            }
            (n, failed)
        })
    };
    let mut tasks = Vec::new();
    for (w, v) in writers.iter().enumerate() {
        let v = v.clone();
        tasks.push(tokio::spawn(async move {
            let mut failed = Vec::new();
            let mut last: Option<Fingerprint> = None;
            let mut made = Vec::new();
            for i in 0..OPS {
                let r = match (i % 3, last) {
                    (1, Some(fp)) => v.rotate_node_key(&fp).await,
                    (2, _) => {
                        let key =
                            tresor::PrivateKey::generate(tresor::KeyType::EcP256).expect("key");
                        v.import_private_key(&key, Purpose::Signing, Some(U::PROTOCOL_ONLY), None)
                            .await
                    }
                    _ => {
                        v.generate_signing_key(
                            SigningKeySpec::EcCurve25519,
                            U::PROTOCOL_ONLY,
                            Some(&format!("w{w}-{i}")),
                        )
                        .await
                    }
                };
                match r {
                    Ok(info) => {
                        last = Some(info.fingerprint);
                        made.push(info.fingerprint);
                    }
                    Err(e) => failed.push(e.to_string()),
                }
            }
            (made, failed)
        }));
    }
    let mut made = Vec::new();
    let mut failures = Vec::new();
    for t in tasks {
        let (m, f) = t.await.expect("writer task");
        made.extend(m);
        failures.extend(f);
    }
    done.store(true, Ordering::Relaxed);
    let (rotated, rotation_failures) = rotations.await.expect("rotator task");
    let checker = open(&db, &kms(&d).await, envelope())
        .await
        .expect("checker");
    let keys = checker.list_keys().await.expect("list");
    for info in &keys {
        let sig = checker
            .sign(&info.fingerprint, b"m", U::ALL, None)
            .await
            .unwrap_or_else(|e| panic!("{} does not sign: {e}", info.fingerprint));
        checker
            .verify(&info.fingerprint, b"m", &sig, None)
            .await
            .expect("verify");
    }
    // Straight to the process's stderr, past the test harness's capture: the counts are in the output.
    let _ = std::io::Write::write_all(
        &mut std::io::stderr().lock(),
        format!(
            "store concurrency (PostgreSQL): {} writes by 8 instances, {} failures; {rotated} rotations, \
             {} failures; {} keys that all sign\n",
            8 * OPS,
            failures.len(),
            rotation_failures.len(),
            keys.len()
        )
        .as_bytes(),
    );
    assert!(failures.is_empty(), "writes failed: {failures:?}");
    assert!(
        rotation_failures.is_empty(),
        "rotations failed: {rotation_failures:?}"
    );
    assert_eq!(keys.len(), made.len());
    assert_eq!(keys.len(), 8 * OPS);
}

#[test]
fn database_urls_are_rewritten() {
    assert_eq!(
        with_database("postgres://u:p@127.0.0.1:5432/tresor", "x"),
        "postgres://u:p@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/tresor?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://u:p@h", "x"), "postgres://u:p@h/x");
}
