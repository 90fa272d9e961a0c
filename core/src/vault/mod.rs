//! The vault: the façade a node uses, and the only place that knows about Canton's three key-storage
//! modes:
//!
//! 1. **clear** — keys generated here, stored as PKCS#8 in the store;
//! 2. **envelope** ("encrypted private key store") — keys generated here and stored sealed. Two levels:
//!    a KMS wrapper key wraps one store data key (AES-256-GCM, random), and every private key row is
//!    sealed locally under the data key with the row's fingerprint, format version, data key id and
//!    integrity record (purpose, spec, usage, KMS key id: everything that decides what the key may do)
//!    as associated data. Opening a store costs one KMS call however many keys it holds; rotating the
//!    wrapper key re-wraps one data key; rotating the data key re-seals every row in one transaction;
//! 3. **external** — keys generated and used inside a KMS/HSM; the store keeps public keys and KMS ids,
//!    and each row's integrity record carries an HMAC tag under a key derived from a store data key that
//!    a KMS wrapper key wraps (one KMS call at start-up).
//!
//! A row whose rights were edited is refused with [`ErrorKind::StoreCorrupted`] naming the key and the
//! column. Every write takes the store's write lock and re-reads the data key under it, so writers in
//! other processes never commit rows under a data key a rotation just replaced.
//!
//! Migration clear → envelope happens when a store is opened in envelope mode; envelope → clear only with
//! `reverted = true`, as in Canton. A passive instance (PostgreSQL HA) waits until the active one has
//! finished migrating. Every write is one transaction: a failed operation leaves the store as it was.
//!
//! Decrypted keys live in a bounded cache ([`CacheConfig`]) that zeroizes them on eviction and drop.
//!
//! With an audit log ([`VaultOptions::audit_log`]) every key operation is recorded there before it takes
//! effect: generate, import, register, rotate, delete, export — and sign and decrypt by fingerprint with
//! [`VaultOptions::audit_key_use`]. Key names are checked here for every face: at most 300 characters,
//! no control characters.
//!
//! # Verbs
//! The same names in every face of tresor (Rust, C `tresor_vault_<verb>`, Java, Python):
//!
//! | verb | what |
//! |---|---|
//! | `generate_signing_key`, `generate_encryption_key` | a new key (in the KMS in external mode) |
//! | `list_keys`, `key_info`, `public_key` | what the vault holds (no secret) |
//! | `sign`, `decrypt` | with a key of the vault, by fingerprint |
//! | `verify`, `encrypt` | with a key's public key, by fingerprint |
//! | `delete_key` | forget a key (an external key stays in the KMS) |
//! | `rotate_node_key` | Canton's `rotate_node_key`: a new key of the same spec and usage |
//! | `register_kms_key` | Canton's `register_kms_signing_key` / `register_kms_encryption_key` |
//! | `rotate_kms_node_key` | Canton's `rotate_kms_node_key`: register a KMS key as a node key's successor |
//! | `wrapper_key_id`, `rotate_wrapper_key`, `rotate_data_key` | envelope administration |
//! | `wrapper_keys`, `retire_wrapper_key` | old wrapper keys: list them, disable or delete them in the KMS (Rust and the CLI only so far) |
//! | `export_sealed`, `import_sealed` | a key sealed under a password (Argon2id + AES-256-GCM) |
//! | `find_key`, `list_keys_matching` | a key by unique fingerprint prefix or name; Canton's list filters |
//! | `import_private_key`, `import_private_keys` | store caller-held keys |
//! | `health` | the KMS's health (`Ok` in clear mode) |
//!
//! Cleartext export of a private key is not a vault verb: it is [`crate::hazmat::export_private_key`].

pub mod blocking;
mod cache;
mod envelope;
pub mod export;
mod manage;
mod operations;
mod records;
mod select;
mod startup;
mod wrapper_keys;

use std::sync::{Arc, RwLock};
use std::time::Duration;

pub use cache::CacheConfig;
use cache::KeyCache;
use envelope::DataKey;
pub use manage::ImportKey;
pub use select::KeyFilter;
pub use wrapper_keys::{RetireAction, WrapperKeyInfo, WrapperKeyState};

use crate::audit::AuditLog;
use crate::error::{Error, ErrorKind, Result};
use crate::keys::{Fingerprint, PublicKey, SigningKeyUsageSet};
use crate::kms::{KmsDriver, KmsHealth, KmsKeyId};
use crate::scheme::{EncryptionKeySpec, KeySpec, Purpose, SigningKeySpec};
use crate::store::{KeyRow, Store};

/// Format version of a clear or external row's `data`: 1 = PKCS#8 DER. Sealed rows are format 2: PKCS#8
/// sealed with the key's integrity record (purpose, spec, usage, KMS key id) as associated data.
pub const FORMAT_VERSION: i64 = 1;

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

/// A progress callback: what is being done, and how far it is.
pub type ProgressFn = Arc<dyn Fn(&'static str, Progress) + Send + Sync>;

/// Options of [`Vault::open`] (a builder: `VaultOptions::new(mode).role(…).cache(…)`).
#[derive(Clone)]
#[non_exhaustive]
pub struct VaultOptions {
    mode: Mode,
    role: Role,
    cache: CacheConfig,
    progress: Option<ProgressFn>,
    audit: Option<Arc<AuditLog>>,
    audit_key_use: bool,
}

impl core::fmt::Debug for VaultOptions {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VaultOptions")
            .field("mode", &self.mode)
            .field("role", &self.role)
            .field("cache", &self.cache)
            .field(
                "audit",
                &self.audit.as_ref().map(|a| a.path().to_path_buf()),
            )
            .field("audit_key_use", &self.audit_key_use)
            .finish_non_exhaustive()
    }
}

impl VaultOptions {
    /// Options for `mode`: active, the default cache, no progress callback, no audit log.
    pub fn new(mode: Mode) -> Self {
        Self {
            mode,
            role: Role::Active,
            cache: CacheConfig::default(),
            progress: None,
            audit: None,
            audit_key_use: false,
        }
    }

    /// Active (the default) or passive.
    pub fn role(mut self, role: Role) -> Self {
        self.role = role;
        self
    }

    /// The limits of the cache of decrypted keys.
    pub fn cache(mut self, cache: CacheConfig) -> Self {
        self.cache = cache;
        self
    }

    /// A callback for migrations and rotations.
    pub fn progress(mut self, progress: ProgressFn) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Where key operations are recorded: the hash-chained audit log the KMS calls go to. Every
    /// generate, import, register, rotate, delete and export (and a cleartext export through
    /// [`crate::hazmat`]) writes a line naming the key, never key material, before it takes effect.
    pub fn audit_log(mut self, log: Arc<AuditLog>) -> Self {
        self.audit = Some(log);
        self
    }

    /// Also record every sign and decrypt by fingerprint in the audit log (default: off; a line per
    /// operation costs a file write). Needs [`VaultOptions::audit_log`].
    pub fn audit_key_use(mut self, on: bool) -> Self {
        self.audit_key_use = on;
        self
    }

    /// The mode.
    pub fn mode(&self) -> &Mode {
        &self.mode
    }
}

/// Where a key's private part lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Storage {
    /// PKCS#8 in the store.
    Clear,
    /// Sealed in the store.
    Sealed,
    /// In the KMS.
    External,
}

impl Storage {
    /// A short name: `clear`, `sealed` or `external`.
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
#[non_exhaustive]
pub struct KeyInfo {
    /// Canton fingerprint.
    pub fingerprint: Fingerprint,
    /// Name, if any.
    pub name: Option<String>,
    /// The key spec (signing or encryption).
    pub spec: KeySpec,
    /// Usage of a signing key (`None` for encryption keys).
    pub usage: Option<SigningKeyUsageSet>,
    /// Where the private key lives.
    pub storage: Storage,
    /// KMS key id (external keys).
    pub kms_key_id: Option<KmsKeyId>,
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
        let kms_key_id = row
            .kms_key_id
            .clone()
            .map(KmsKeyId::new)
            .transpose()
            .map_err(|_| corrupt_row(&row.fingerprint))?;
        Ok(Self {
            fingerprint: row.fingerprint,
            name: row.name.clone(),
            spec: row.spec,
            usage: row.usage,
            storage,
            kms_key_id,
            created_at: row.created_at,
            public_key,
        })
    }

    /// Signing or encryption.
    pub fn purpose(&self) -> Purpose {
        self.spec.purpose()
    }

    /// The signing key spec (signing keys).
    pub fn signing_spec(&self) -> Option<SigningKeySpec> {
        self.spec.signing()
    }

    /// The encryption key spec (encryption keys).
    pub fn encryption_spec(&self) -> Option<EncryptionKeySpec> {
        self.spec.encryption()
    }
}

/// One problem `store check` found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreProblem {
    /// The row it is about, as stored (`None` for problems of the whole store).
    pub fingerprint: Option<String>,
    /// What is wrong.
    pub problem: String,
}

/// The row an error message names ("key <fp> …" or "key row '<text>' …").
fn row_label(message: &str) -> Option<String> {
    let rest = message.strip_prefix("key ")?;
    if let Some(quoted) = rest.strip_prefix("row '") {
        return quoted.split('\'').next().map(str::to_string);
    }
    rest.split_whitespace()
        .next()
        .map(|w| w.trim_end_matches(':').to_string())
}

/// Write a consistent copy of any SQLite database file (e.g. the software KMS's) to `dest`, which must
/// not exist, while other processes may be writing to it (`VACUUM INTO` reads one snapshot).
pub async fn backup_sqlite_file(src: &std::path::Path, dest: &std::path::Path) -> Result<()> {
    crate::store::vacuum_into(src, dest).await
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
    audit: Option<Arc<AuditLog>>,
    /// Record sign and decrypt by fingerprint too.
    audit_key_use: bool,
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

impl Vault {
    /// Open a vault over the key store at `store_url` (`sqlite://<file>`, created if missing, or
    /// `postgres://…` with the `postgres` feature), running Canton's start-up logic for the configured
    /// mode (see the module docs). Envelope and external modes need a KMS driver.
    ///
    /// This is the low-level constructor: `kms` is used exactly as given. Wrap a driver with
    /// [`crate::kms::layered`] for Canton's retries, rate limits, bounds, health tracking and audit
    /// log — or open the vault from a configuration with [`crate::config::open`] (async) or
    /// [`blocking::BlockingVault::open`], which always do.
    pub async fn open(
        store_url: &str,
        kms: Option<Arc<dyn KmsDriver>>,
        options: VaultOptions,
    ) -> Result<Self> {
        let store = Store::open(store_url).await?;
        match Self::open_store(store.clone(), kms, options).await {
            Ok(v) => Ok(v),
            Err(e) => {
                store.close().await;
                Err(e)
            }
        }
    }

    pub(crate) async fn open_store(
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
                audit: options.audit.clone(),
                audit_key_use: options.audit_key_use,
                write_lock: tokio::sync::Mutex::new(()),
            }),
        };
        vault.start(&options.mode, options.role).await?;
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

    /// The KMS driver, if any (with the layers it was opened with).
    pub fn kms_driver(&self) -> Option<&Arc<dyn KmsDriver>> {
        self.inner.kms.as_ref()
    }

    /// The mode the vault runs in after start-up: `clear`, `envelope` or `external`.
    pub fn mode_name(&self) -> &'static str {
        match self.inner.mode {
            Active::Clear => "clear",
            Active::Envelope => "envelope",
            Active::External => "external",
        }
    }

    /// The key store's URL, with any password replaced by `***`.
    pub fn store_url(&self) -> &str {
        self.inner.store.display_url()
    }

    /// The health of the vault's KMS (Canton's `KmsDriverHealth`); a clear-mode vault has no KMS and is
    /// always `Ok`.
    pub async fn health(&self) -> KmsHealth {
        match &self.inner.kms {
            None => KmsHealth::Ok,
            Some(d) => d.health().await,
        }
    }

    /// Record a key operation in the audit log, when the vault has one. A failure to write it fails the
    /// operation (fail closed): what must leave a trace does not happen without one.
    pub(crate) fn audit(&self, message: &str) -> Result<()> {
        match &self.inner.audit {
            Some(log) => log.info(message),
            None => Ok(()),
        }
    }

    /// Wipe the cache and close the store's connections and the KMS driver's. The vault is unusable
    /// afterwards; dropping it without `close` is safe too, but leaves connection threads to finish on
    /// their own.
    pub async fn close(&self) {
        self.clear_cache();
        self.inner.store.close().await;
        if let Some(d) = self.kms_driver() {
            d.close().await;
        }
    }

    /// Check the whole store and list every problem found (an empty list: none): the database file
    /// (SQLite's own check), the schema version, the data keys, and every key row — that it decodes, that
    /// its rights pass their integrity check, and that its private key opens and matches its public key.
    /// Each problem names the row it is about. Nothing is changed.
    pub async fn check_store(&self) -> Result<Vec<StoreProblem>> {
        let mut problems = Vec::new();
        let (version, file_problems) = self.inner.store.health_report().await?;
        problems.extend(file_problems.into_iter().map(|p| StoreProblem {
            fingerprint: None,
            problem: p,
        }));
        if version != crate::store::SCHEMA_VERSION {
            problems.push(StoreProblem {
                fingerprint: None,
                problem: format!(
                    "schema version {version}, expected {}",
                    crate::store::SCHEMA_VERSION
                ),
            });
        }
        let dks = self.inner.store.data_keys().await;
        match &dks {
            Ok(d) if d.len() > 1 => problems.push(StoreProblem {
                fingerprint: None,
                problem: format!("{} data keys; expected at most one", d.len()),
            }),
            Ok(_) => {}
            Err(e) => problems.push(StoreProblem {
                fingerprint: None,
                problem: e.message().to_string(),
            }),
        }
        if self.is_envelope()
            && let Ok(Some(dk)) = self.cached_data_key()
            && !dk.binds_rights
        {
            problems.push(StoreProblem {
                fingerprint: None,
                problem:
                    "the store is not upgraded yet: its keys' rights are not bound (a damaged \
                          row stopped the upgrade; it runs again when the store is opened)"
                        .into(),
            });
        }
        if self.inner.mode == Active::External
            && dks.as_ref().is_ok_and(Vec::is_empty)
            && self.inner.store.first_external().await?.is_some()
        {
            problems.push(StoreProblem {
                fingerprint: None,
                problem:
                    "the external keys' rights are not bound: the store has no data key (its KMS \
                          could not make a symmetric wrapper key)"
                        .into(),
            });
        }
        for row in self.inner.store.list_all().await? {
            let checked = match row {
                Err(e) => Err(e),
                Ok(row) => match self.check_rights(&row).await {
                    Err(e) => Err(e),
                    Ok(()) if row.kms_key_id.is_none() && row.data.is_some() => self
                        .row_pkcs8(&row)
                        .await
                        .and_then(|pkcs8| envelope::private_from_row(&row, &pkcs8).map(drop))
                        .and_then(|()| KeyInfo::from_row(&row).map(drop)),
                    Ok(()) => KeyInfo::from_row(&row).map(drop),
                },
            };
            if let Err(e) = checked {
                problems.push(StoreProblem {
                    fingerprint: row_label(e.message()),
                    problem: e.message().to_string(),
                });
            }
        }
        Ok(problems)
    }

    /// Write a consistent copy of the store's SQLite file to `dest` (which must not exist) while other
    /// processes may be writing, and run `also` (e.g. copying the software KMS file) while the copy still
    /// matches the live store: the store's write lock is held throughout, so no writer commits in
    /// between. A PostgreSQL store is refused with [`ErrorKind::WrongMode`] (use `pg_dump`).
    pub async fn backup_store(
        &self,
        dest: &std::path::Path,
        also: impl AsyncFnOnce() -> Result<()>,
    ) -> Result<()> {
        self.inner.store.backup_to(dest, also).await
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
