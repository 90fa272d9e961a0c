//! The software KMS: a persistent local KMS whose keys live in their own SQLite file, each sealed with
//! AES-256-GCM under a master key derived from a passphrase (Argon2id) or read from a key file.
//!
//! It is tresor's embedded default wrapper-key provider, so envelope encryption works on a laptop with no
//! cloud account, and it implements the whole [`KmsDriver`] trait (signing and decryption keys too), so
//! external-key mode can be exercised without a cloud. Symmetric keys are AES-128-GCM in Canton's wire
//! format, as Canton expects of a driver's wrapper key.
//!
//! The master key never leaves memory; a wrong passphrase or key file is detected at open time
//! ([`ErrorKind::WrongPassword`]) through a sealed check value. Every call is counted
//! ([`SoftwareKms::call_counts`]) so tests and benchmarks count KMS calls from the driver itself.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use sqlx::Row as _;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind, Result};
use crate::keys::{KeyType, PrivateKey};
use crate::kms::{KmsDriver, KmsHealth, KmsKeyId, KmsKeySpec, KmsPublicKey};
use crate::primitives::{AesGcmKey, Decrypter, Signer, random_bytes};
use crate::scheme::{
    EncryptionAlgorithmSpec, EncryptionKeySpec, SigningAlgorithmSpec, SigningKeySpec,
};
use crate::util::{hex, now_ms, unhex};

const CHECK_PLAINTEXT: &[u8] = b"tresor software KMS master key check v1";
const AAD_PREFIX: &[u8] = b"tresor-softkms-v1\0";

/// Argon2id parameters for the passphrase (memory in KiB, iterations, lanes).
const ARGON2_M_KIB: u32 = 19 * 1024;
const ARGON2_T: u32 = 2;
const ARGON2_P: u32 = 1;

/// Where the software KMS gets its master key.
pub enum MasterKeySource {
    /// A passphrase, stretched with Argon2id (salt stored in the KMS file).
    Passphrase(Zeroizing<String>),
    /// A key file holding 32 random bytes, raw or as 64 hex characters.
    KeyFile(std::path::PathBuf),
}

impl core::fmt::Debug for MasterKeySource {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Passphrase(_) => f.write_str("Passphrase(..)"),
            Self::KeyFile(p) => f.debug_tuple("KeyFile").field(p).finish(),
        }
    }
}

/// State of a key in the software KMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Usable.
    Enabled,
    /// Present but unusable (what a disabled cloud KMS key looks like).
    Disabled,
}

/// Counters of the calls made to a [`SoftwareKms`], by operation name.
pub type CallCounts = BTreeMap<&'static str, u64>;

const OPS: [&str; 12] = [
    "health",
    "generate_signing_key_pair",
    "generate_encryption_key_pair",
    "generate_symmetric_key",
    "sign",
    "decrypt_asymmetric",
    "encrypt_symmetric",
    "decrypt_symmetric",
    "get_public_key",
    "key_exists_and_is_active",
    "delete_key",
    "disable_key",
];

/// The software KMS driver (see the module docs).
pub struct SoftwareKms {
    pool: SqlitePool,
    master: AesGcmKey,
    calls: [AtomicU64; OPS.len()],
    /// Prepared asymmetric keys, so repeated signing does not re-open the sealed row.
    prepared: Mutex<BTreeMap<String, std::sync::Arc<Prepared>>>,
}

enum Prepared {
    Signer(Signer),
    Decrypter(Decrypter),
    Symmetric(AesGcmKey),
}

impl core::fmt::Debug for SoftwareKms {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SoftwareKms").finish_non_exhaustive()
    }
}

fn store_err(what: &str, e: sqlx::Error) -> Error {
    Error::new(
        ErrorKind::KmsUnavailable,
        format!("software KMS: {what} failed"),
    )
    .with_source(e)
}

fn spec_to_str(spec: KmsKeySpec) -> String {
    match spec {
        KmsKeySpec::Signing(s) => format!("signing:{s}"),
        KmsKeySpec::Encryption(s) => format!("encryption:{s}"),
        KmsKeySpec::Symmetric => "symmetric:aes-128-gcm".to_string(),
    }
}

fn spec_from_str(s: &str) -> Result<KmsKeySpec> {
    let bad = || {
        Error::new(
            ErrorKind::KmsFailure,
            format!("software KMS: unknown key spec '{s}' in the KMS file"),
        )
    };
    match s.split_once(':') {
        Some(("signing", v)) => Ok(KmsKeySpec::Signing(
            SigningKeySpec::from_str(v).map_err(|_| bad())?,
        )),
        Some(("encryption", v)) => Ok(KmsKeySpec::Encryption(
            EncryptionKeySpec::from_str(v).map_err(|_| bad())?,
        )),
        Some(("symmetric", "aes-128-gcm")) => Ok(KmsKeySpec::Symmetric),
        _ => Err(bad()),
    }
}

fn aad(id: &str, spec: &str) -> Vec<u8> {
    let mut a = Vec::with_capacity(AAD_PREFIX.len() + id.len() + spec.len() + 1);
    a.extend_from_slice(AAD_PREFIX);
    a.extend_from_slice(id.as_bytes());
    a.push(0);
    a.extend_from_slice(spec.as_bytes());
    a
}

fn read_key_file(path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!("cannot read the software KMS key file '{}'", path.display()),
        )
        .with_source(e)
    })?);
    if bytes.len() == 32 {
        return Ok(bytes);
    }
    let text = core::str::from_utf8(&bytes).unwrap_or("").trim();
    if text.len() == 64
        && let Ok(key) = unhex(text, "the software KMS key file")
    {
        return Ok(Zeroizing::new(key));
    }
    Err(Error::new(
        ErrorKind::MalformedKey,
        format!(
            "the software KMS key file '{}' must hold 32 raw bytes or 64 hex characters",
            path.display()
        ),
    ))
}

/// Write a fresh random key file (64 hex characters, mode 0600). Refuses to replace an existing file.
pub fn create_key_file(path: &Path) -> Result<()> {
    let mut key = Zeroizing::new([0u8; 32]);
    random_bytes(key.as_mut())?;
    let text = Zeroizing::new(hex(key.as_ref()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!(
                "cannot create the software KMS key file '{}'",
                path.display()
            ),
        )
        .with_source(e)
    })?;
    std::io::Write::write_all(&mut f, text.as_bytes())?;
    std::io::Write::write_all(&mut f, b"\n")?;
    Ok(())
}

fn derive_from_passphrase(passphrase: &str, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
    if passphrase.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            "the software KMS passphrase is empty",
        ));
    }
    let params = argon2::Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, Some(32))
        .map_err(|_| Error::internal("Argon2 parameters"))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.as_bytes(), salt, out.as_mut())
        .map_err(|_| Error::internal("Argon2id failed"))?;
    Ok(out)
}

impl SoftwareKms {
    /// Open (or create) the software KMS at `path` with its master key.
    pub async fn open(path: &Path, master: MasterKeySource) -> Result<Self> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(std::time::Duration::from_secs(30));
        // No idle timeout, lifetime or minimum size: no background maintenance task in the pool
        // (sqlx 0.8's could spin forever at runtime shutdown); connections live until `close`.
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(0)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(opts)
            .await
            .map_err(|e| store_err(&format!("opening '{}'", path.display()), e))?;
        for stmt in [
            "CREATE TABLE IF NOT EXISTS softkms_meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
            "CREATE TABLE IF NOT EXISTS softkms_keys (id TEXT PRIMARY KEY, name TEXT, spec TEXT NOT NULL, \
             sealed BLOB NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL)",
        ] {
            sqlx::query(stmt)
                .execute(&pool)
                .await
                .map_err(|e| store_err("creating the schema", e))?;
        }
        let meta = |name: &'static str| {
            let pool = pool.clone();
            async move {
                sqlx::query("SELECT value FROM softkms_meta WHERE name = ?1")
                    .bind(name)
                    .fetch_optional(&pool)
                    .await
                    .map(|r| r.map(|r| r.get::<Vec<u8>, _>(0)))
                    .map_err(|e| store_err("reading metadata", e))
            }
        };
        let kind = match &master {
            MasterKeySource::Passphrase(_) => b"argon2id".to_vec(),
            MasterKeySource::KeyFile(_) => b"keyfile".to_vec(),
        };
        let stored_kind = meta("kdf").await?;
        if let Some(k) = stored_kind.as_ref().filter(|k| **k != kind) {
            // Not a wrong password: the configuration names the other kind of master key.
            let what = |k: &[u8]| match k {
                b"keyfile" => "a key file",
                b"argon2id" => "a passphrase",
                _ => "an unknown kind of master key",
            };
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "this software KMS was created with {} as its master key, but is being opened with {}; \
                     configure the kind it was created with",
                    what(k),
                    what(&kind)
                ),
            ));
        }
        let mut salt = meta("salt").await?.unwrap_or_default();
        if stored_kind.is_none() {
            salt = vec![0u8; 16];
            random_bytes(&mut salt)?;
        }
        let key: Zeroizing<Vec<u8>> = match &master {
            MasterKeySource::Passphrase(p) => {
                Zeroizing::new(derive_from_passphrase(p, &salt)?.to_vec())
            }
            MasterKeySource::KeyFile(path) => read_key_file(path)?,
        };
        let master_key = AesGcmKey::new(&key)?;
        match meta("check").await? {
            Some(check) => {
                let ok = master_key
                    .decrypt(&check, b"check")
                    .map(|pt| pt.as_slice() == CHECK_PLAINTEXT);
                if !matches!(ok, Ok(true)) {
                    return Err(Error::new(
                        ErrorKind::WrongPassword,
                        "the software KMS master key is wrong (passphrase or key file does not match)",
                    ));
                }
            }
            None => {
                let check = master_key.encrypt(CHECK_PLAINTEXT, b"check")?;
                let mut tx = pool
                    .begin()
                    .await
                    .map_err(|e| store_err("initialising", e))?;
                for (name, value) in [("kdf", kind), ("salt", salt), ("check", check)] {
                    sqlx::query("INSERT INTO softkms_meta (name, value) VALUES (?1, ?2)")
                        .bind(name)
                        .bind(value)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| store_err("initialising", e))?;
                }
                tx.commit()
                    .await
                    .map_err(|e| store_err("initialising", e))?;
            }
        }
        Ok(Self {
            pool,
            master: master_key,
            calls: Default::default(),
            prepared: Mutex::new(BTreeMap::new()),
        })
    }

    fn count(&self, op: &'static str) {
        if let Some(i) = OPS.iter().position(|o| *o == op) {
            self.calls[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// How many times each operation was called since this handle was opened.
    pub fn call_counts(&self) -> CallCounts {
        OPS.iter()
            .zip(&self.calls)
            .map(|(op, c)| (*op, c.load(Ordering::Relaxed)))
            .collect()
    }

    /// The total number of calls since this handle was opened.
    pub fn total_calls(&self) -> u64 {
        self.calls.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// Enable or disable a key (software-KMS administration; a disabled key fails every operation).
    pub async fn set_key_state(&self, key_id: &KmsKeyId, state: KeyState) -> Result<()> {
        let s = match state {
            KeyState::Enabled => "enabled",
            KeyState::Disabled => "disabled",
        };
        let n = sqlx::query("UPDATE softkms_keys SET state = ?1 WHERE id = ?2")
            .bind(s)
            .bind(key_id.as_str())
            .execute(&self.pool)
            .await
            .map_err(|e| store_err("updating a key", e))?
            .rows_affected();
        self.prepared
            .lock()
            .map_err(|_| Error::internal("lock poisoned"))?
            .remove(key_id.as_str());
        if n == 0 {
            Err(not_found(key_id))
        } else {
            Ok(())
        }
    }

    async fn insert(
        &self,
        spec: KmsKeySpec,
        name: Option<&str>,
        secret: &[u8],
    ) -> Result<KmsKeyId> {
        let mut raw = [0u8; 16];
        random_bytes(&mut raw)?;
        let id = format!("soft-{}", hex(&raw));
        let spec_s = spec_to_str(spec);
        let sealed = self.master.encrypt(secret, &aad(&id, &spec_s))?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO softkms_keys (id, name, spec, sealed, state, created_at) VALUES (?1, ?2, ?3, ?4, 'enabled', ?5)",
        )
        .bind(&id)
        .bind(name)
        .bind(&spec_s)
        .bind(sealed)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(|e| store_err("storing a key", e))?;
        KmsKeyId::new(id)
    }

    /// Load and open a key: (spec, secret). Fails for missing or disabled keys.
    async fn load(&self, key_id: &KmsKeyId) -> Result<(KmsKeySpec, Zeroizing<Vec<u8>>)> {
        let row = sqlx::query("SELECT spec, sealed, state FROM softkms_keys WHERE id = ?1")
            .bind(key_id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_err("reading a key", e))?
            .ok_or_else(|| not_found(key_id))?;
        let spec_s: String = row.get(0);
        let sealed: Vec<u8> = row.get(1);
        let state: String = row.get(2);
        if state != "enabled" {
            return Err(Error::new(
                ErrorKind::KmsKeyDisabled,
                format!("software KMS key {key_id} is {state}"),
            ));
        }
        let secret = self
            .master
            .decrypt(&sealed, &aad(key_id.as_str(), &spec_s))
            .map_err(|_| {
                Error::new(
                    ErrorKind::KmsFailure,
                    format!("software KMS key {key_id} failed its integrity check"),
                )
            })?;
        Ok((spec_from_str(&spec_s)?, secret))
    }

    async fn prepared(&self, key_id: &KmsKeyId) -> Result<std::sync::Arc<Prepared>> {
        if let Some(p) = self
            .prepared
            .lock()
            .map_err(|_| Error::internal("lock poisoned"))?
            .get(key_id.as_str())
        {
            return Ok(p.clone());
        }
        let (spec, secret) = self.load(key_id).await?;
        let p = std::sync::Arc::new(match spec {
            KmsKeySpec::Signing(_) => {
                Prepared::Signer(Signer::new(PrivateKey::from_pkcs8_der(&secret)?)?)
            }
            KmsKeySpec::Encryption(_) => {
                Prepared::Decrypter(Decrypter::new(PrivateKey::from_pkcs8_der(&secret)?)?)
            }
            KmsKeySpec::Symmetric => Prepared::Symmetric(AesGcmKey::new(&secret)?),
        });
        self.prepared
            .lock()
            .map_err(|_| Error::internal("lock poisoned"))?
            .insert(key_id.to_string(), p.clone());
        Ok(p)
    }
}

fn not_found(key_id: &KmsKeyId) -> Error {
    Error::new(
        ErrorKind::KmsKeyNotFound,
        format!("software KMS has no key {key_id}"),
    )
}

fn wrong_kind(key_id: &KmsKeyId, want: &str) -> Error {
    Error::new(
        ErrorKind::KmsFailure,
        format!("software KMS key {key_id} is not a {want} key"),
    )
}

#[async_trait]
impl KmsDriver for SoftwareKms {
    fn provider(&self) -> &str {
        "software"
    }

    async fn health(&self) -> KmsHealth {
        self.count("health");
        match sqlx::query("SELECT 1").execute(&self.pool).await {
            Ok(_) => KmsHealth::Ok,
            Err(e) => KmsHealth::Failed(format!("software KMS database: {e}")),
        }
    }

    fn supported_signing_key_specs(&self) -> Vec<SigningKeySpec> {
        SigningKeySpec::ALL.to_vec()
    }

    fn supported_signing_algo_specs(&self) -> Vec<SigningAlgorithmSpec> {
        SigningAlgorithmSpec::ALL.to_vec()
    }

    fn supported_encryption_key_specs(&self) -> Vec<EncryptionKeySpec> {
        EncryptionKeySpec::ALL.to_vec()
    }

    fn supported_encryption_algo_specs(&self) -> Vec<EncryptionAlgorithmSpec> {
        vec![
            EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Cbc,
            EncryptionAlgorithmSpec::RsaOaepSha256,
        ]
    }

    async fn generate_signing_key_pair(
        &self,
        spec: SigningKeySpec,
        name: Option<&str>,
    ) -> Result<KmsKeyId> {
        self.count("generate_signing_key_pair");
        let key = PrivateKey::generate(KeyType::from(spec))?;
        self.insert(KmsKeySpec::Signing(spec), name, key.pkcs8_der())
            .await
    }

    async fn generate_encryption_key_pair(
        &self,
        spec: EncryptionKeySpec,
        name: Option<&str>,
    ) -> Result<KmsKeyId> {
        self.count("generate_encryption_key_pair");
        let key = PrivateKey::generate(KeyType::from(spec))?;
        self.insert(KmsKeySpec::Encryption(spec), name, key.pkcs8_der())
            .await
    }

    async fn generate_symmetric_key(&self, name: Option<&str>) -> Result<KmsKeyId> {
        self.count("generate_symmetric_key");
        let mut raw = Zeroizing::new([0u8; 16]);
        random_bytes(raw.as_mut())?;
        self.insert(KmsKeySpec::Symmetric, name, raw.as_ref()).await
    }

    async fn sign(
        &self,
        key_id: &KmsKeyId,
        data: &[u8],
        algo: SigningAlgorithmSpec,
    ) -> Result<Vec<u8>> {
        self.count("sign");
        match &*self.prepared(key_id).await? {
            Prepared::Signer(s) => s.sign(algo, data),
            _ => Err(wrong_kind(key_id, "signing")),
        }
    }

    async fn decrypt_asymmetric(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
        algo: EncryptionAlgorithmSpec,
    ) -> Result<Zeroizing<Vec<u8>>> {
        self.count("decrypt_asymmetric");
        match &*self.prepared(key_id).await? {
            Prepared::Decrypter(d) => d.decrypt(algo, ciphertext),
            _ => Err(wrong_kind(key_id, "decryption")),
        }
    }

    async fn encrypt_symmetric(&self, key_id: &KmsKeyId, data: &[u8]) -> Result<Vec<u8>> {
        self.count("encrypt_symmetric");
        match &*self.prepared(key_id).await? {
            Prepared::Symmetric(k) => k.encrypt(data, &[]),
            _ => Err(wrong_kind(key_id, "symmetric")),
        }
    }

    async fn decrypt_symmetric(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        self.count("decrypt_symmetric");
        match &*self.prepared(key_id).await? {
            Prepared::Symmetric(k) => k.decrypt(ciphertext, &[]),
            _ => Err(wrong_kind(key_id, "symmetric")),
        }
    }

    async fn get_public_key(&self, key_id: &KmsKeyId) -> Result<KmsPublicKey> {
        self.count("get_public_key");
        let (spec, secret) = self.load(key_id).await?;
        if spec == KmsKeySpec::Symmetric {
            return Err(wrong_kind(key_id, "asymmetric"));
        }
        let key = PrivateKey::from_pkcs8_der(&secret)?;
        Ok(KmsPublicKey {
            key: key.public_key().clone(),
            spec,
        })
    }

    async fn key_exists_and_is_active(&self, key_id: &KmsKeyId) -> Result<()> {
        self.count("key_exists_and_is_active");
        let state: Option<String> = sqlx::query("SELECT state FROM softkms_keys WHERE id = ?1")
            .bind(key_id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_err("reading a key", e))?
            .map(|r| r.get(0));
        match state.as_deref() {
            None => Err(not_found(key_id)),
            Some("enabled") => Ok(()),
            Some(s) => Err(Error::new(
                ErrorKind::KmsKeyDisabled,
                format!("software KMS key {key_id} is {s}"),
            )),
        }
    }

    async fn disable_key(&self, key_id: &KmsKeyId) -> Result<()> {
        self.count("disable_key");
        self.set_key_state(key_id, KeyState::Disabled).await
    }

    async fn delete_key(&self, key_id: &KmsKeyId) -> Result<()> {
        self.count("delete_key");
        let n = sqlx::query("DELETE FROM softkms_keys WHERE id = ?1")
            .bind(key_id.as_str())
            .execute(&self.pool)
            .await
            .map_err(|e| store_err("deleting a key", e))?
            .rows_affected();
        self.prepared
            .lock()
            .map_err(|_| Error::internal("lock poisoned"))?
            .remove(key_id.as_str());
        if n == 0 {
            Err(not_found(key_id))
        } else {
            Ok(())
        }
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
