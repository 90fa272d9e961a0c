//! The vault: the façade a node uses. It is the only place that knows about Canton's three key-storage
//! modes:
//!
//! 1. **clear** — keys generated here, stored as PKCS#8 in the store;
//! 2. **envelope** ("encrypted private key store") — keys generated here and stored sealed. Two levels:
//!    a KMS wrapper key wraps one store data key (AES-256-GCM, random), and every private key row is
//!    sealed locally under the data key with the row's fingerprint, purpose, format version and data key
//!    id as associated data. Opening a store costs one KMS call however many keys it holds; rotating the
//!    wrapper key re-wraps one data key; rotating the data key re-seals every row in one transaction;
//! 3. **external** — keys generated and used inside a KMS/HSM; the store keeps public keys and KMS ids.
//!
//! Migration clear → envelope happens when a store is opened in envelope mode; envelope → clear only with
//! `reverted = true`, as in Canton. A passive instance (PostgreSQL HA) waits until the active one has
//! finished migrating. Every write is one transaction: a failed operation leaves the store as it was.
//!
//! Decrypted keys live in a bounded cache ([`CacheConfig`]) that zeroizes them on eviction and drop.

pub mod blocking;
mod cache;
pub mod export;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use zeroize::Zeroizing;

pub use cache::CacheConfig;
use cache::{CachedKey, KeyCache};

use crate::error::{Error, ErrorKind, Result};
use crate::keys::{Fingerprint, KeyType, PrivateKey, PublicKey, SigningKeyUsageSet};
use crate::kms::retry::{RetryConfig, wait_until_active};
use crate::kms::{KmsDriver, KmsKeyId, KmsKeySpec, check_key_name};
use crate::primitives::{AesGcmKey, Decrypter, Encrypter, Signer, Verifier, random_bytes};
use crate::scheme::{
    EncryptionAlgorithmSpec, EncryptionKeySpec, SigningAlgorithmSpec, SigningKeySpec,
};
use crate::store::{self, DataKeyRow, KeyRow, Purpose, Store, now_ms};

/// Format version of a row's `data`: 1 = PKCS#8 DER (sealed or clear).
pub const FORMAT_VERSION: i64 = 1;

const SEAL_AAD_PREFIX: &[u8] = b"tresor-key-row-v1\0";

/// Envelope-encryption settings, with Canton's names (`private-key-store.encryption`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvelopeConfig {
    /// The KMS wrapper key to use; `None` = the one recorded in the store, or a new one.
    pub wrapper_key_id: Option<KmsKeyId>,
    /// `true` opens every row back to clear (and nothing else does).
    pub reverted: bool,
}

/// How the vault keeps private keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// PKCS#8 in the store.
    Clear,
    /// Sealed under a data key wrapped by a KMS wrapper key.
    Envelope(EnvelopeConfig),
    /// In a KMS/HSM; the store holds public keys and KMS key ids.
    External,
}

/// Active or passive instance (for stores shared by HA nodes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Migrates and writes.
    Active,
    /// Waits (polling every `poll`, at most `timeout`) for the active instance to finish migrating.
    Passive {
        /// Poll period.
        poll: Duration,
        /// Give up after this long.
        timeout: Duration,
    },
}

/// Progress of a long operation (migration, rotation): `done` of `total` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Rows processed.
    pub done: u64,
    /// Rows to process.
    pub total: u64,
}

/// A progress callback.
pub type ProgressFn = Arc<dyn Fn(&'static str, Progress) + Send + Sync>;

/// Options for [`Vault::open`].
#[derive(Clone)]
pub struct VaultOptions {
    /// Storage mode.
    pub mode: Mode,
    /// Active or passive.
    pub role: Role,
    /// Cache limits.
    pub cache: CacheConfig,
    /// Called during migration and rotation.
    pub progress: Option<ProgressFn>,
}

impl core::fmt::Debug for VaultOptions {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VaultOptions")
            .field("mode", &self.mode)
            .field("role", &self.role)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl VaultOptions {
    /// Options for `mode`, active, default cache.
    pub fn new(mode: Mode) -> Self {
        Self {
            mode,
            role: Role::Active,
            cache: CacheConfig::default(),
            progress: None,
        }
    }
}

/// Where a key's private part lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// PKCS#8 in the store.
    Clear,
    /// Sealed in the store.
    Sealed,
    /// In the KMS.
    External,
}

impl Storage {
    /// A short name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Clear => "clear",
            Self::Sealed => "sealed",
            Self::External => "external",
        }
    }
}

/// What the vault knows about a key (no secret material).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// Canton fingerprint.
    pub fingerprint: Fingerprint,
    /// Name, if any.
    pub name: Option<String>,
    /// Signing or encryption.
    pub purpose: Purpose,
    /// Usage of a signing key.
    pub usage: Option<SigningKeyUsageSet>,
    /// Key spec (config string).
    pub key_spec: String,
    /// Where the private key lives.
    pub storage: Storage,
    /// KMS key id (external keys).
    pub kms_key_id: Option<String>,
    /// Creation time, ms since the Unix epoch.
    pub created_at: i64,
    /// The public key.
    pub public_key: PublicKey,
}

impl KeyInfo {
    fn from_row(row: &KeyRow) -> Result<Self> {
        let storage = if row.kms_key_id.is_some() {
            Storage::External
        } else if row.data_key_id.is_some() {
            Storage::Sealed
        } else {
            Storage::Clear
        };
        let public_key =
            PublicKey::from_spki_der(&row.public_key).map_err(|_| corrupt_row(&row.fingerprint))?;
        if public_key.fingerprint() != row.fingerprint {
            return Err(corrupt_row(&row.fingerprint));
        }
        Ok(Self {
            fingerprint: row.fingerprint,
            name: row.name.clone(),
            purpose: row.purpose,
            usage: row.usage,
            key_spec: row.key_spec.clone(),
            storage,
            kms_key_id: row.kms_key_id.clone(),
            created_at: row.created_at,
            public_key,
        })
    }

    /// The signing key spec (signing keys).
    pub fn signing_spec(&self) -> Option<SigningKeySpec> {
        (self.purpose == Purpose::Signing)
            .then(|| self.key_spec.parse().ok())
            .flatten()
    }

    /// The encryption key spec (encryption keys).
    pub fn encryption_spec(&self) -> Option<EncryptionKeySpec> {
        (self.purpose == Purpose::Encryption)
            .then(|| self.key_spec.parse().ok())
            .flatten()
    }
}

fn corrupt_row(fp: &Fingerprint) -> Error {
    Error::new(
        ErrorKind::StoreCorrupted,
        format!("key {fp} failed its integrity check (row altered or moved)"),
    )
}

fn not_found(fp: &Fingerprint) -> Error {
    Error::new(
        ErrorKind::KeyNotFound,
        format!("no key with fingerprint {fp} in the store"),
    )
}

struct DataKey {
    id: i64,
    wrapper_key_id: KmsKeyId,
    key: AesGcmKey,
}

/// The runtime mode after start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Active {
    Clear,
    Envelope,
    External,
}

struct Inner {
    store: Store,
    kms: Option<Arc<dyn KmsDriver>>,
    mode: Active,
    data_key: RwLock<Option<Arc<DataKey>>>,
    cache: KeyCache,
    progress: Option<ProgressFn>,
    /// Serialises writes that must not interleave (rotation, migration) within this process.
    write_lock: tokio::sync::Mutex<()>,
}

/// The key vault (cheap to clone; clones share the store, the KMS and the cache).
#[derive(Clone)]
pub struct Vault {
    inner: Arc<Inner>,
}

impl core::fmt::Debug for Vault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Vault")
            .field("store", &self.inner.store)
            .field("mode", &self.inner.mode)
            .field("cache", &self.inner.cache)
            .finish_non_exhaustive()
    }
}

fn seal_aad(fp: &Fingerprint, purpose: Purpose, format_version: i64, data_key_id: i64) -> Vec<u8> {
    let mut a = Vec::with_capacity(SEAL_AAD_PREFIX.len() + 34 + 1 + 16);
    a.extend_from_slice(SEAL_AAD_PREFIX);
    a.extend_from_slice(fp.as_bytes());
    a.push(purpose as u8);
    a.extend_from_slice(&format_version.to_be_bytes());
    a.extend_from_slice(&data_key_id.to_be_bytes());
    a
}

fn seal(dk: &DataKey, fp: &Fingerprint, purpose: Purpose, pkcs8: &[u8]) -> Result<Vec<u8>> {
    dk.key
        .encrypt(pkcs8, &seal_aad(fp, purpose, FORMAT_VERSION, dk.id))
}

fn open_row(dk: &DataKey, row: &KeyRow) -> Result<Zeroizing<Vec<u8>>> {
    let data = row
        .data
        .as_deref()
        .ok_or_else(|| corrupt_row(&row.fingerprint))?;
    if row.data_key_id != Some(dk.id) {
        return Err(Error::new(
            ErrorKind::StoreCorrupted,
            format!(
                "key {} is sealed under a data key this store does not hold",
                row.fingerprint
            ),
        ));
    }
    dk.key
        .decrypt(
            data,
            &seal_aad(&row.fingerprint, row.purpose, row.format_version, dk.id),
        )
        .map_err(|_| corrupt_row(&row.fingerprint))
}

/// Parse a row's private key and check it matches the row's public key and fingerprint.
fn private_from_row(row: &KeyRow, pkcs8: &[u8]) -> Result<PrivateKey> {
    let key = PrivateKey::from_pkcs8_der(pkcs8).map_err(|_| corrupt_row(&row.fingerprint))?;
    if key.public_key().fingerprint() != row.fingerprint
        || key.public_key().spki_der() != row.public_key
    {
        return Err(corrupt_row(&row.fingerprint));
    }
    Ok(key)
}

fn timestamp_name(ms: i64) -> String {
    // civil-from-days (proleptic Gregorian), UTC
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60,
        ms.rem_euclid(1000)
    )
}

impl Vault {
    /// Open a vault over `store`, running Canton's start-up logic for the configured mode (see the
    /// module docs). Envelope and external modes need a KMS driver.
    pub async fn open(
        store: Store,
        kms: Option<Arc<dyn KmsDriver>>,
        options: VaultOptions,
    ) -> Result<Self> {
        let needs_kms = !matches!(options.mode, Mode::Clear);
        if needs_kms && kms.is_none() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "envelope and external modes need a KMS driver",
            ));
        }
        let mode = match &options.mode {
            Mode::Clear => Active::Clear,
            Mode::Envelope(c) if c.reverted => Active::Clear,
            Mode::Envelope(_) => Active::Envelope,
            Mode::External => Active::External,
        };
        let vault = Self {
            inner: Arc::new(Inner {
                store,
                kms,
                mode,
                data_key: RwLock::new(None),
                cache: KeyCache::new(options.cache),
                progress: options.progress.clone(),
                write_lock: tokio::sync::Mutex::new(()),
            }),
        };
        if let Role::Passive { poll, timeout } = options.role {
            vault.wait_for_active(&options.mode, poll, timeout).await?;
        }
        match &options.mode {
            Mode::Clear => vault.start_clear().await?,
            Mode::Envelope(c) if c.reverted => vault.start_reverted(options.role).await?,
            Mode::Envelope(c) => vault.start_envelope(c, options.role).await?,
            Mode::External => vault.start_external().await?,
        }
        Ok(vault)
    }

    fn kms(&self) -> Result<&Arc<dyn KmsDriver>> {
        self.inner.kms.as_ref().ok_or_else(|| {
            Error::new(
                ErrorKind::WrongMode,
                "this vault has no KMS driver (clear mode)",
            )
        })
    }

    fn report(&self, what: &'static str, done: u64, total: u64) {
        if let Some(p) = &self.inner.progress {
            p(what, Progress { done, total });
        }
    }

    /// The store underneath.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The KMS driver, if any.
    pub fn kms_driver(&self) -> Option<&Arc<dyn KmsDriver>> {
        self.inner.kms.as_ref()
    }

    /// The mode the vault runs in after start-up ("clear", "envelope" or "external").
    pub fn mode_name(&self) -> &'static str {
        match self.inner.mode {
            Active::Clear => "clear",
            Active::Envelope => "envelope",
            Active::External => "external",
        }
    }

    async fn wait_for_active(&self, mode: &Mode, poll: Duration, timeout: Duration) -> Result<()> {
        let start = std::time::Instant::now();
        loop {
            let dks = self.inner.store.data_keys().await?;
            let (_, clear) = self.inner.store.counts().await?;
            let ready = match mode {
                Mode::Envelope(c) if !c.reverted => !dks.is_empty() && clear == 0,
                Mode::Envelope(_) => dks.is_empty(),
                Mode::Clear | Mode::External => true,
            };
            if ready {
                return Ok(());
            }
            if start.elapsed() >= timeout {
                return Err(Error::new(
                    ErrorKind::StoreFailure,
                    format!(
                        "passive instance: the active instance did not finish migrating within {timeout:?}"
                    ),
                ));
            }
            tokio::time::sleep(poll).await;
        }
    }

    async fn start_clear(&self) -> Result<()> {
        let dks = self.inner.store.data_keys().await?;
        if !dks.is_empty() {
            return Err(Error::new(
                ErrorKind::WrongMode,
                format!(
                    "the store is envelope-encrypted under wrapper key {}; open it in envelope mode, or with \
                     reverted = true to return it to clear",
                    dks[0].wrapper_key_id
                ),
            ));
        }
        self.refuse_external_rows().await
    }

    async fn refuse_external_rows(&self) -> Result<()> {
        let rows = self.inner.store.list().await?;
        if let Some(r) = rows.iter().find(|r| r.kms_key_id.is_some()) {
            return Err(Error::new(
                ErrorKind::WrongMode,
                format!(
                    "the store holds external KMS keys (e.g. {}); open it in external mode",
                    r.fingerprint
                ),
            ));
        }
        Ok(())
    }

    async fn start_external(&self) -> Result<()> {
        let rows = self.inner.store.list().await?;
        if let Some(r) = rows.iter().find(|r| r.data.is_some()) {
            return Err(Error::new(
                ErrorKind::WrongMode,
                format!(
                    "the store holds private keys (e.g. {}); external mode keeps keys only in the KMS",
                    r.fingerprint
                ),
            ));
        }
        Ok(())
    }

    /// Unwrap a data key row with the KMS (one call).
    async fn unwrap_data_key(&self, row: &DataKeyRow) -> Result<DataKey> {
        let wrapper = KmsKeyId::new(row.wrapper_key_id.clone())?;
        let raw = self
            .kms()?
            .decrypt_symmetric(&wrapper, &row.wrapped_key)
            .await
            .map_err(|e| {
                if e.kind() == ErrorKind::DecryptionFailed {
                    Error::new(
                        ErrorKind::StoreCorrupted,
                        format!("the store data key does not unwrap under wrapper key {wrapper}"),
                    )
                } else {
                    e
                }
            })?;
        Ok(DataKey {
            id: row.id,
            wrapper_key_id: wrapper,
            key: AesGcmKey::new(&raw)?,
        })
    }

    async fn single_data_key(&self) -> Result<Option<DataKeyRow>> {
        let mut dks = self.inner.store.data_keys().await?;
        if dks.len() > 1 {
            return Err(Error::new(
                ErrorKind::StoreCorrupted,
                format!(
                    "the store holds {} data keys; expected at most one",
                    dks.len()
                ),
            ));
        }
        Ok(dks.pop())
    }

    async fn start_envelope(&self, cfg: &EnvelopeConfig, role: Role) -> Result<()> {
        self.refuse_external_rows().await?;
        let _w = self.inner.write_lock.lock().await;
        let dk = match self.single_data_key().await? {
            Some(row) => {
                if let Some(configured) = cfg
                    .wrapper_key_id
                    .as_ref()
                    .filter(|c| c.as_str() != row.wrapper_key_id)
                {
                    return Err(Error::new(
                        ErrorKind::InvalidArgument,
                        format!(
                            "configured wrapper-key-id {configured} differs from the one recorded in the store ({}); \
                             to change it, rotate: tresor wrapper-key rotate --new-key-id {configured}",
                            row.wrapper_key_id
                        ),
                    ));
                }
                self.unwrap_data_key(&row).await?
            }
            None => {
                if role != Role::Active {
                    return Err(Error::new(
                        ErrorKind::StoreFailure,
                        "passive instance found no data key",
                    ));
                }
                let kms = self.kms()?;
                let wrapper = match &cfg.wrapper_key_id {
                    Some(id) => {
                        kms.key_exists_and_is_active(id).await?;
                        id.clone()
                    }
                    None => {
                        kms.generate_symmetric_key(Some("tresor-wrapper-key"))
                            .await?
                    }
                };
                let mut raw = Zeroizing::new([0u8; 32]);
                random_bytes(raw.as_mut())?;
                let wrapped = kms.encrypt_symmetric(&wrapper, raw.as_ref()).await?;
                let dk = DataKey {
                    id: 1,
                    wrapper_key_id: wrapper,
                    key: AesGcmKey::new(raw.as_ref())?,
                };
                let mut tx = self.inner.store.begin().await?;
                sqlx::query(
                    "INSERT INTO tresor_data_keys (id, wrapper_key_id, wrapped_key, created_at, active) \
                     VALUES ($1, $2, $3, $4, 1)",
                )
                .bind(dk.id)
                .bind(dk.wrapper_key_id.as_str().to_string())
                .bind(wrapped)
                .bind(now_ms())
                .execute(&mut *tx)
                .await
                .map_err(|e| store::db_err("storing the data key", e))?;
                // Seal every clear row in the same transaction.
                self.seal_clear_rows(&mut tx, &dk).await?;
                tx.commit()
                    .await
                    .map_err(|e| store::db_err("committing the migration", e))?;
                *self
                    .inner
                    .data_key
                    .write()
                    .map_err(|_| Error::internal("lock poisoned"))? = Some(Arc::new(dk));
                return Ok(());
            }
        };
        // Existing envelope store: seal rows that arrived in clear (e.g. a store migrated back and forth).
        let (_, clear) = self.inner.store.counts().await?;
        if clear > 0 && role == Role::Active {
            let mut tx = self.inner.store.begin().await?;
            self.seal_clear_rows(&mut tx, &dk).await?;
            tx.commit()
                .await
                .map_err(|e| store::db_err("committing the migration", e))?;
        }
        *self
            .inner
            .data_key
            .write()
            .map_err(|_| Error::internal("lock poisoned"))? = Some(Arc::new(dk));
        Ok(())
    }

    async fn seal_clear_rows(&self, tx: &mut sqlx::AnyConnection, dk: &DataKey) -> Result<()> {
        let rows: Vec<KeyRow> = store::list_in(tx)
            .await?
            .into_iter()
            .filter(|r| r.data.is_some())
            .collect();
        let clear: Vec<&KeyRow> = rows.iter().filter(|r| r.data_key_id.is_none()).collect();
        let total = clear.len() as u64;
        for (i, row) in clear.iter().enumerate() {
            let pkcs8 = row
                .data
                .as_deref()
                .ok_or_else(|| corrupt_row(&row.fingerprint))?;
            private_from_row(row, pkcs8)?;
            let sealed = seal(dk, &row.fingerprint, row.purpose, pkcs8)?;
            store::update_key_data(tx, &row.fingerprint, &sealed, Some(dk.id)).await?;
            self.report("sealing keys", i as u64 + 1, total);
        }
        Ok(())
    }

    async fn start_reverted(&self, role: Role) -> Result<()> {
        self.refuse_external_rows().await?;
        let Some(row) = self.single_data_key().await? else {
            return Ok(()); // already clear
        };
        if role != Role::Active {
            return Err(Error::new(
                ErrorKind::StoreFailure,
                "passive instance: the store is still encrypted",
            ));
        }
        let _w = self.inner.write_lock.lock().await;
        let dk = self.unwrap_data_key(&row).await?;
        let mut tx = self.inner.store.begin().await?;
        let rows: Vec<KeyRow> = store::list_in(&mut tx)
            .await?
            .into_iter()
            .filter(|r| r.data_key_id.is_some())
            .collect();
        let total = rows.len() as u64;
        for (i, r) in rows.iter().enumerate() {
            let pkcs8 = open_row(&dk, r)?;
            private_from_row(r, &pkcs8)?;
            store::update_key_data(&mut tx, &r.fingerprint, &pkcs8, None).await?;
            self.report("opening keys", i as u64 + 1, total);
        }
        sqlx::query("DELETE FROM tresor_data_keys")
            .execute(&mut *tx)
            .await
            .map_err(|e| store::db_err("removing the data key", e))?;
        tx.commit()
            .await
            .map_err(|e| store::db_err("committing the migration", e))
    }

    fn data_key(&self) -> Result<Option<Arc<DataKey>>> {
        Ok(self
            .inner
            .data_key
            .read()
            .map_err(|_| Error::internal("lock poisoned"))?
            .clone())
    }

    // --- key generation -------------------------------------------------------------------------

    /// Generate a signing key with `usage` (and an optional name of at most 300 characters).
    pub async fn generate_signing_key(
        &self,
        spec: SigningKeySpec,
        usage: SigningKeyUsageSet,
        name: Option<&str>,
    ) -> Result<KeyInfo> {
        check_key_name(name)?;
        if self.inner.mode == Active::External {
            let kms = self.kms()?;
            let id = kms.generate_signing_key_pair(spec, name).await?;
            wait_until_active(kms.as_ref(), &id, &RetryConfig::default().create_key_check).await?;
            return self
                .store_external(
                    &id,
                    Purpose::Signing,
                    Some(KmsKeySpec::Signing(spec)),
                    Some(usage),
                    name,
                    false,
                )
                .await;
        }
        let key = PrivateKey::generate(KeyType::from(spec))?;
        self.insert_private(&key, Purpose::Signing, Some(usage), spec.as_str(), name)
            .await
    }

    /// Generate an encryption key (optional name of at most 300 characters).
    pub async fn generate_encryption_key(
        &self,
        spec: EncryptionKeySpec,
        name: Option<&str>,
    ) -> Result<KeyInfo> {
        check_key_name(name)?;
        if self.inner.mode == Active::External {
            let kms = self.kms()?;
            let id = kms.generate_encryption_key_pair(spec, name).await?;
            wait_until_active(kms.as_ref(), &id, &RetryConfig::default().create_key_check).await?;
            return self
                .store_external(
                    &id,
                    Purpose::Encryption,
                    Some(KmsKeySpec::Encryption(spec)),
                    None,
                    name,
                    false,
                )
                .await;
        }
        let key = PrivateKey::generate(KeyType::from(spec))?;
        self.insert_private(&key, Purpose::Encryption, None, spec.as_str(), name)
            .await
    }

    /// Store a private key made elsewhere (import). The purpose must fit the key type.
    pub async fn import_private_key(
        &self,
        key: &PrivateKey,
        purpose: Purpose,
        usage: Option<SigningKeyUsageSet>,
        name: Option<&str>,
    ) -> Result<KeyInfo> {
        check_key_name(name)?;
        if self.inner.mode == Active::External {
            return Err(Error::new(
                ErrorKind::WrongMode,
                "external mode keeps keys in the KMS: import is not possible",
            ));
        }
        let (spec, usage) = match purpose {
            Purpose::Signing => (
                key.key_type().require_signing()?.as_str(),
                Some(usage.ok_or_else(|| {
                    Error::new(ErrorKind::InvalidKeyUsage, "a signing key needs a usage")
                })?),
            ),
            Purpose::Encryption => (key.key_type().require_encryption()?.as_str(), None),
        };
        self.insert_private(key, purpose, usage, spec, name).await
    }

    async fn insert_private(
        &self,
        key: &PrivateKey,
        purpose: Purpose,
        usage: Option<SigningKeyUsageSet>,
        spec: &str,
        name: Option<&str>,
    ) -> Result<KeyInfo> {
        let fp = key.public_key().fingerprint();
        let (data, data_key_id) = match self.inner.mode {
            Active::Envelope => {
                let dk = self.sync_data_key().await?;
                (seal(&dk, &fp, purpose, key.pkcs8_der())?, Some(dk.id))
            }
            _ => (key.pkcs8_der().to_vec(), None),
        };
        let row = KeyRow {
            fingerprint: fp,
            name: name.map(str::to_string),
            purpose,
            usage,
            key_spec: spec.to_string(),
            format_version: FORMAT_VERSION,
            public_key: key.public_key().spki_der().to_vec(),
            data: Some(data),
            data_key_id,
            kms_key_id: None,
            created_at: now_ms(),
        };
        let mut tx = self.inner.store.begin().await?;
        store::insert_key(&mut tx, &row).await?;
        tx.commit()
            .await
            .map_err(|e| store::db_err("committing a new key", e))?;
        KeyInfo::from_row(&row)
    }

    /// Register a key that already exists in the KMS (external mode): fetch its public key, check that
    /// it is of the `expected` spec (`IncompatibleKey` otherwise), compute the fingerprint, store the
    /// row. Creates nothing in the KMS.
    pub async fn register_external(
        &self,
        kms_key_id: &KmsKeyId,
        expected: KmsKeySpec,
        usage: Option<SigningKeyUsageSet>,
        name: Option<&str>,
    ) -> Result<KeyInfo> {
        let purpose = match expected {
            KmsKeySpec::Encryption(_) => Purpose::Encryption,
            _ => Purpose::Signing,
        };
        self.store_external(kms_key_id, purpose, Some(expected), usage, name, true)
            .await
    }

    /// Like [`Vault::register_external`], but accepting a key of any spec of `purpose` (the spec is
    /// whatever the KMS reports).
    pub async fn register_external_any(
        &self,
        kms_key_id: &KmsKeyId,
        purpose: Purpose,
        usage: Option<SigningKeyUsageSet>,
        name: Option<&str>,
    ) -> Result<KeyInfo> {
        self.store_external(kms_key_id, purpose, None, usage, name, true)
            .await
    }

    /// Fetch a KMS key's public key and store its row; `check_active` is false when the caller has just
    /// waited for the key to become active (key generation), so the check is not made twice.
    async fn store_external(
        &self,
        kms_key_id: &KmsKeyId,
        purpose: Purpose,
        expected: Option<KmsKeySpec>,
        usage: Option<SigningKeyUsageSet>,
        name: Option<&str>,
        check_active: bool,
    ) -> Result<KeyInfo> {
        check_key_name(name)?;
        if self.inner.mode != Active::External {
            return Err(Error::new(
                ErrorKind::WrongMode,
                "registering KMS keys needs external mode",
            ));
        }
        let kms = self.kms()?;
        if check_active {
            kms.key_exists_and_is_active(kms_key_id).await?;
        }
        let pk = kms.get_public_key(kms_key_id).await?;
        if let Some(want) = expected
            && want != pk.spec
        {
            return Err(Error::new(
                ErrorKind::IncompatibleKey,
                format!(
                    "KMS key {kms_key_id} is a {} key, a {want} key was expected",
                    pk.spec
                ),
            ));
        }
        let spec = match (purpose, pk.spec) {
            (Purpose::Signing, KmsKeySpec::Signing(s)) => s.as_str(),
            (Purpose::Encryption, KmsKeySpec::Encryption(s)) => s.as_str(),
            (_, got) => {
                return Err(Error::new(
                    ErrorKind::IncompatibleKey,
                    format!(
                        "KMS key {kms_key_id} is a {got} key, a {} key was expected",
                        purpose.as_str()
                    ),
                ));
            }
        };
        if purpose == Purpose::Signing && usage.is_none() {
            return Err(Error::new(
                ErrorKind::InvalidKeyUsage,
                "a signing key needs a usage",
            ));
        }
        let row = KeyRow {
            fingerprint: pk.key.fingerprint(),
            name: name.map(str::to_string),
            purpose,
            usage: if purpose == Purpose::Signing {
                usage
            } else {
                None
            },
            key_spec: spec.to_string(),
            format_version: FORMAT_VERSION,
            public_key: pk.key.spki_der().to_vec(),
            data: None,
            data_key_id: None,
            kms_key_id: Some(kms_key_id.as_str().to_string()),
            created_at: now_ms(),
        };
        let mut tx = self.inner.store.begin().await?;
        store::insert_key(&mut tx, &row).await?;
        tx.commit()
            .await
            .map_err(|e| store::db_err("committing a new key", e))?;
        KeyInfo::from_row(&row)
    }

    // --- reading --------------------------------------------------------------------------------

    /// Every key, oldest first.
    pub async fn list(&self) -> Result<Vec<KeyInfo>> {
        self.inner
            .store
            .list()
            .await?
            .iter()
            .map(KeyInfo::from_row)
            .collect()
    }

    /// One key.
    pub async fn info(&self, fp: &Fingerprint) -> Result<KeyInfo> {
        let row = self
            .inner
            .store
            .get(fp)
            .await?
            .ok_or_else(|| not_found(fp))?;
        KeyInfo::from_row(&row)
    }

    /// The public key of a key.
    pub async fn public_key(&self, fp: &Fingerprint) -> Result<PublicKey> {
        Ok(self.info(fp).await?.public_key)
    }

    // --- using keys -----------------------------------------------------------------------------

    /// The row of `fp`, which must be a key of `purpose` (else `UsageNotAllowed`).
    async fn row_with_purpose(&self, fp: &Fingerprint, purpose: Purpose) -> Result<KeyRow> {
        let row = self
            .inner
            .store
            .get(fp)
            .await?
            .ok_or_else(|| not_found(fp))?;
        if row.purpose != purpose {
            let is = match row.purpose {
                Purpose::Signing => "a signing key",
                Purpose::Encryption => "an encryption key",
            };
            return Err(Error::new(
                ErrorKind::UsageNotAllowed,
                format!("key {fp} is {is}"),
            ));
        }
        Ok(row)
    }

    /// Open a non-external row's private key, prepare it and put it in the cache.
    async fn load_into_cache(&self, row: &KeyRow) -> Result<Arc<CachedKey>> {
        let pkcs8 = match row.data_key_id {
            Some(id) => {
                if self.inner.mode != Active::Envelope {
                    return Err(Error::new(
                        ErrorKind::WrongMode,
                        "the key is sealed but the vault is not in envelope mode",
                    ));
                }
                let dk = match self.data_key()? {
                    Some(dk) if dk.id == id => dk,
                    // Another instance sharing the store rotated the data key: follow it.
                    _ => self.sync_data_key().await?,
                };
                open_row(&dk, row)?
            }
            None => Zeroizing::new(
                row.data
                    .clone()
                    .ok_or_else(|| corrupt_row(&row.fingerprint))?,
            ),
        };
        let key = private_from_row(row, &pkcs8)?;
        let prepared = match row.purpose {
            Purpose::Signing => CachedKey::Signer {
                spec: row
                    .key_spec
                    .parse()
                    .map_err(|_| corrupt_row(&row.fingerprint))?,
                usage: row.usage.ok_or_else(|| corrupt_row(&row.fingerprint))?,
                signer: Signer::new(key)?,
            },
            Purpose::Encryption => CachedKey::Decrypter {
                spec: row
                    .key_spec
                    .parse()
                    .map_err(|_| corrupt_row(&row.fingerprint))?,
                decrypter: Decrypter::new(key)?,
            },
        };
        Ok(self.inner.cache.insert(row.fingerprint, prepared))
    }

    fn usage_error(
        fp: &Fingerprint,
        key_usage: SigningKeyUsageSet,
        usage: SigningKeyUsageSet,
    ) -> Error {
        Error::new(
            ErrorKind::UsageNotAllowed,
            format!("key {fp} has usage {key_usage}, which does not allow {usage}"),
        )
    }

    fn sign_prepared(
        key: &CachedKey,
        fp: &Fingerprint,
        msg: &[u8],
        usage: SigningKeyUsageSet,
        algo: Option<SigningAlgorithmSpec>,
    ) -> Result<Vec<u8>> {
        match key {
            CachedKey::Signer {
                signer,
                spec,
                usage: key_usage,
            } => {
                if !key_usage.intersects(usage) {
                    return Err(Self::usage_error(fp, *key_usage, usage));
                }
                let algo = algo.unwrap_or(spec.default_algorithm());
                signer.sign(algo, msg)
            }
            CachedKey::Decrypter { .. } => Err(Error::new(
                ErrorKind::UsageNotAllowed,
                format!("key {fp} is an encryption key"),
            )),
        }
    }

    /// Sign `msg` with the key `fp` for one of the usages in `usage` (refused when the key's usage does
    /// not overlap). `algo` defaults to the key spec's default algorithm.
    ///
    /// A key already in the cache is used without touching the store; otherwise its row is read (and, in
    /// envelope mode, opened) once and cached.
    pub async fn sign(
        &self,
        fp: &Fingerprint,
        msg: &[u8],
        usage: SigningKeyUsageSet,
        algo: Option<SigningAlgorithmSpec>,
    ) -> Result<Vec<u8>> {
        if let Some(k) = self.inner.cache.get(fp) {
            return Self::sign_prepared(&k, fp, msg, usage, algo);
        }
        // The slow path's future (store and KMS I/O) is large; boxing it keeps this future small, so the
        // warm-cache path costs what the signature costs.
        Box::pin(self.sign_uncached(fp, msg, usage, algo)).await
    }

    async fn sign_uncached(
        &self,
        fp: &Fingerprint,
        msg: &[u8],
        usage: SigningKeyUsageSet,
        algo: Option<SigningAlgorithmSpec>,
    ) -> Result<Vec<u8>> {
        let row = self.row_with_purpose(fp, Purpose::Signing).await?;
        let key_usage = row.usage.ok_or_else(|| corrupt_row(fp))?;
        if !key_usage.intersects(usage) {
            return Err(Self::usage_error(fp, key_usage, usage));
        }
        if let Some(id) = &row.kms_key_id {
            let spec: SigningKeySpec = row.key_spec.parse().map_err(|_| corrupt_row(fp))?;
            let algo = algo.unwrap_or(spec.default_algorithm());
            algo.check_key_spec(spec)?;
            return self
                .kms()?
                .sign(&KmsKeyId::new(id.clone())?, msg, algo)
                .await;
        }
        let k = self.load_into_cache(&row).await?;
        Self::sign_prepared(&k, fp, msg, usage, algo)
    }

    /// Sign using only the cache, with no I/O and no await: `None` when the key is not cached (then call
    /// [`Vault::sign`]). The blocking API uses this as its fast path.
    pub fn try_sign_cached(
        &self,
        fp: &Fingerprint,
        msg: &[u8],
        usage: SigningKeyUsageSet,
        algo: Option<SigningAlgorithmSpec>,
    ) -> Option<Result<Vec<u8>>> {
        let k = self.inner.cache.get(fp)?;
        Some(Self::sign_prepared(&k, fp, msg, usage, algo))
    }

    fn decrypt_prepared(
        key: &CachedKey,
        fp: &Fingerprint,
        ciphertext: &[u8],
        algo: Option<EncryptionAlgorithmSpec>,
    ) -> Result<Zeroizing<Vec<u8>>> {
        match key {
            CachedKey::Decrypter { decrypter, spec } => {
                decrypter.decrypt(algo.unwrap_or(spec.default_algorithm()), ciphertext)
            }
            CachedKey::Signer { .. } => Err(Error::new(
                ErrorKind::UsageNotAllowed,
                format!("key {fp} is a signing key"),
            )),
        }
    }

    /// Decrypt a ciphertext in Canton's format with the key `fp`. `algo` defaults to the key spec's
    /// default algorithm.
    pub async fn decrypt(
        &self,
        fp: &Fingerprint,
        ciphertext: &[u8],
        algo: Option<EncryptionAlgorithmSpec>,
    ) -> Result<Zeroizing<Vec<u8>>> {
        if let Some(k) = self.inner.cache.get(fp) {
            return Self::decrypt_prepared(&k, fp, ciphertext, algo);
        }
        Box::pin(self.decrypt_uncached(fp, ciphertext, algo)).await
    }

    async fn decrypt_uncached(
        &self,
        fp: &Fingerprint,
        ciphertext: &[u8],
        algo: Option<EncryptionAlgorithmSpec>,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let row = self.row_with_purpose(fp, Purpose::Encryption).await?;
        if let Some(id) = &row.kms_key_id {
            let spec: EncryptionKeySpec = row.key_spec.parse().map_err(|_| corrupt_row(fp))?;
            let algo = algo.unwrap_or(spec.default_algorithm());
            algo.check_key_spec(spec)?;
            return self
                .kms()?
                .decrypt_asymmetric(&KmsKeyId::new(id.clone())?, ciphertext, algo)
                .await;
        }
        let k = self.load_into_cache(&row).await?;
        Self::decrypt_prepared(&k, fp, ciphertext, algo)
    }

    /// Decrypt using only the cache (no I/O): `None` when the key is not cached.
    pub fn try_decrypt_cached(
        &self,
        fp: &Fingerprint,
        ciphertext: &[u8],
        algo: Option<EncryptionAlgorithmSpec>,
    ) -> Option<Result<Zeroizing<Vec<u8>>>> {
        let k = self.inner.cache.get(fp)?;
        Some(Self::decrypt_prepared(&k, fp, ciphertext, algo))
    }

    /// Verify a signature with a stored key's public key (no KMS call).
    pub async fn verify(
        &self,
        fp: &Fingerprint,
        msg: &[u8],
        sig: &[u8],
        algo: Option<SigningAlgorithmSpec>,
    ) -> Result<()> {
        let info = self.info(fp).await?;
        let spec = info
            .signing_spec()
            .ok_or_else(|| Error::new(ErrorKind::UsageNotAllowed, "not a signing key"))?;
        Verifier::new(info.public_key)?.verify(algo.unwrap_or(spec.default_algorithm()), msg, sig)
    }

    /// Encrypt to a stored key's public key (no KMS call).
    pub async fn encrypt(
        &self,
        fp: &Fingerprint,
        pt: &[u8],
        algo: Option<EncryptionAlgorithmSpec>,
    ) -> Result<Vec<u8>> {
        let info = self.info(fp).await?;
        let spec = info
            .encryption_spec()
            .ok_or_else(|| Error::new(ErrorKind::UsageNotAllowed, "not an encryption key"))?;
        Encrypter::new(info.public_key)?.encrypt(algo.unwrap_or(spec.default_algorithm()), pt)
    }

    /// The private key of a non-external key (for password-sealed export). Refused in external mode.
    pub async fn export_private_key(&self, fp: &Fingerprint) -> Result<(KeyInfo, PrivateKey)> {
        let row = self
            .inner
            .store
            .get(fp)
            .await?
            .ok_or_else(|| not_found(fp))?;
        if row.kms_key_id.is_some() || self.inner.mode == Active::External {
            return Err(Error::new(
                ErrorKind::WrongMode,
                format!(
                    "key {fp} lives in the KMS and cannot leave it: export is not possible in external mode"
                ),
            ));
        }
        let pkcs8 = match row.data_key_id {
            Some(_) => {
                let dk = self
                    .data_key()?
                    .ok_or_else(|| Error::new(ErrorKind::WrongMode, "sealed key, no data key"))?;
                open_row(&dk, &row)?
            }
            None => Zeroizing::new(row.data.clone().ok_or_else(|| corrupt_row(fp))?),
        };
        let key = private_from_row(&row, &pkcs8)?;
        Ok((KeyInfo::from_row(&row)?, key))
    }

    /// Delete a key from the store (external keys stay in the KMS).
    pub async fn delete(&self, fp: &Fingerprint) -> Result<()> {
        let mut tx = self.inner.store.begin().await?;
        let n = sqlx::query("DELETE FROM tresor_keys WHERE fingerprint = $1")
            .bind(fp.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| store::db_err("deleting a key", e))?
            .rows_affected();
        if n == 0 {
            return Err(not_found(fp));
        }
        tx.commit()
            .await
            .map_err(|e| store::db_err("committing a delete", e))?;
        self.inner.cache.remove(fp);
        Ok(())
    }

    /// Rotate a node key: a new key of the same spec and usage, named `<old>-rotated-<timestamp>`; the old
    /// key is kept until deleted.
    pub async fn rotate_node_key(&self, fp: &Fingerprint) -> Result<KeyInfo> {
        let old = self.info(fp).await?;
        let base = old
            .name
            .clone()
            .unwrap_or_else(|| old.fingerprint.to_string()[..12].to_string());
        let mut name = format!("{base}-rotated-{}", timestamp_name(now_ms()));
        if name.chars().count() > crate::kms::MAX_KEY_NAME_LEN {
            name = name
                .chars()
                .rev()
                .take(crate::kms::MAX_KEY_NAME_LEN)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
        }
        match old.purpose {
            Purpose::Signing => {
                let spec = old.signing_spec().ok_or_else(|| corrupt_row(fp))?;
                let usage = old.usage.ok_or_else(|| corrupt_row(fp))?;
                self.generate_signing_key(spec, usage, Some(&name)).await
            }
            Purpose::Encryption => {
                let spec = old.encryption_spec().ok_or_else(|| corrupt_row(fp))?;
                self.generate_encryption_key(spec, Some(&name)).await
            }
        }
    }

    // --- envelope administration ----------------------------------------------------------------

    /// The wrapper key id recorded in the store (envelope mode).
    pub async fn wrapper_key_id(&self) -> Result<Option<KmsKeyId>> {
        Ok(match self.single_data_key().await? {
            Some(r) => Some(KmsKeyId::new(r.wrapper_key_id)?),
            None => None,
        })
    }

    async fn require_envelope(&self) -> Result<Arc<DataKey>> {
        if self.inner.mode != Active::Envelope {
            return Err(Error::new(
                ErrorKind::WrongMode,
                "this needs envelope mode (private-key-store.encryption.type = kms)",
            ));
        }
        self.sync_data_key().await
    }

    /// The store's current data key: the one in memory when the store still holds it (one cheap read),
    /// otherwise — another instance sharing the store rotated it — the new one, unwrapped with one KMS
    /// call.
    async fn sync_data_key(&self) -> Result<Arc<DataKey>> {
        let row = self.single_data_key().await?.ok_or_else(|| {
            Error::new(
                ErrorKind::WrongMode,
                "the store holds no data key any more (was it reverted to clear by another instance?)",
            )
        })?;
        if let Some(dk) = self
            .data_key()?
            .filter(|dk| dk.id == row.id && dk.wrapper_key_id.as_str() == row.wrapper_key_id)
        {
            return Ok(dk);
        }
        let dk = Arc::new(self.unwrap_data_key(&row).await?);
        *self
            .inner
            .data_key
            .write()
            .map_err(|_| Error::internal("lock poisoned"))? = Some(dk.clone());
        Ok(dk)
    }

    /// Rotate the wrapper key: use `new_id` or generate a new KMS key, re-wrap the data key (one KMS
    /// decrypt under the old key, one KMS encrypt under the new), update one row atomically. The old
    /// wrapper key is left in the KMS. Rotating to the current key is an error.
    pub async fn rotate_wrapper_key(&self, new_id: Option<KmsKeyId>) -> Result<KmsKeyId> {
        let current = self.require_envelope().await?;
        let _w = self.inner.write_lock.lock().await;
        let kms = self.kms()?;
        if new_id.as_ref() == Some(&current.wrapper_key_id) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("wrapper key {} is already in use", current.wrapper_key_id),
            ));
        }
        let row = self
            .single_data_key()
            .await?
            .ok_or_else(|| Error::internal("no data key row"))?;
        let raw = kms
            .decrypt_symmetric(&current.wrapper_key_id, &row.wrapped_key)
            .await?;
        let new_id = match new_id {
            Some(id) => id,
            None => {
                kms.generate_symmetric_key(Some("tresor-wrapper-key"))
                    .await?
            }
        };
        let wrapped = kms.encrypt_symmetric(&new_id, &raw).await?;
        let mut tx = self.inner.store.begin().await?;
        let n = sqlx::query("UPDATE tresor_data_keys SET wrapper_key_id = $1, wrapped_key = $2 WHERE id = $3 AND wrapper_key_id = $4")
            .bind(new_id.as_str().to_string())
            .bind(wrapped)
            .bind(row.id)
            .bind(row.wrapper_key_id.clone())
            .execute(&mut *tx)
            .await
            .map_err(|e| store::db_err("re-wrapping the data key", e))?
            .rows_affected();
        if n != 1 {
            return Err(Error::new(
                ErrorKind::StoreFailure,
                "the data key changed during rotation; try again",
            ));
        }
        tx.commit()
            .await
            .map_err(|e| store::db_err("committing the rotation", e))?;
        let dk = DataKey {
            id: row.id,
            wrapper_key_id: new_id.clone(),
            key: AesGcmKey::new(&raw)?,
        };
        *self
            .inner
            .data_key
            .write()
            .map_err(|_| Error::internal("lock poisoned"))? = Some(Arc::new(dk));
        Ok(new_id)
    }

    /// Rotate the store data key: a fresh data key wrapped by the current wrapper key (one KMS call), and
    /// every sealed row re-sealed under it, all in one database transaction.
    pub async fn rotate_data_key(&self) -> Result<u64> {
        let current = self.require_envelope().await?;
        let _w = self.inner.write_lock.lock().await;
        let kms = self.kms()?;
        let mut raw = Zeroizing::new([0u8; 32]);
        random_bytes(raw.as_mut())?;
        let wrapped = kms
            .encrypt_symmetric(&current.wrapper_key_id, raw.as_ref())
            .await?;
        let new = DataKey {
            id: current.id + 1,
            wrapper_key_id: current.wrapper_key_id.clone(),
            key: AesGcmKey::new(raw.as_ref())?,
        };
        let mut tx = self.inner.store.begin().await?;
        sqlx::query(
            "INSERT INTO tresor_data_keys (id, wrapper_key_id, wrapped_key, created_at, active) VALUES ($1, $2, $3, $4, 1)",
        )
        .bind(new.id)
        .bind(new.wrapper_key_id.as_str().to_string())
        .bind(wrapped)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(|e| store::db_err("storing the new data key", e))?;
        let rows: Vec<KeyRow> = store::list_in(&mut tx)
            .await?
            .into_iter()
            .filter(|r| r.data_key_id.is_some())
            .collect();
        let total = rows.len() as u64;
        for (i, r) in rows.iter().enumerate() {
            let pkcs8 = open_row(&current, r)?;
            let sealed = seal(&new, &r.fingerprint, r.purpose, &pkcs8)?;
            store::update_key_data(&mut tx, &r.fingerprint, &sealed, Some(new.id)).await?;
            self.report("re-sealing keys", i as u64 + 1, total);
        }
        sqlx::query("DELETE FROM tresor_data_keys WHERE id <> $1")
            .bind(new.id)
            .execute(&mut *tx)
            .await
            .map_err(|e| store::db_err("removing the old data key", e))?;
        tx.commit()
            .await
            .map_err(|e| store::db_err("committing the rotation", e))?;
        *self
            .inner
            .data_key
            .write()
            .map_err(|_| Error::internal("lock poisoned"))? = Some(Arc::new(new));
        Ok(total)
    }

    /// Wipe the cache and close the store's connections and the KMS driver's. The vault is unusable
    /// afterwards; dropping it without `close` is safe too, but leaves connection threads to finish on
    /// their own.
    pub async fn close(&self) {
        self.clear_cache();
        self.store().close().await;
        if let Some(d) = self.kms_driver() {
            d.close().await;
        }
    }

    /// Drop every decrypted key from the cache.
    pub fn clear_cache(&self) {
        self.inner.cache.clear();
    }

    /// How many decrypted keys are cached.
    pub fn cached_keys(&self) -> usize {
        self.inner.cache.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(timestamp_name(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            timestamp_name(1_795_305_600_123),
            "2026-11-22T00:00:00.123Z"
        );
        assert_eq!(timestamp_name(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
