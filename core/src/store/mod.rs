//! The private key store: SQLite (bundled, the embedded default) or PostgreSQL (feature `postgres`, for
//! HA nodes sharing one database), with versioned schema migrations and transactional writes.
//!
//! The store only moves rows; it knows nothing about sealing. The [`crate::vault`] decides what goes in
//! `data` (clear PKCS#8, a sealed blob, or nothing for keys held in a KMS). Every statement lives here:
//! the vault calls these functions (reads on the pool, writes inside a [`Tx`]) and writes no SQL.
//!
//! The module is internal to the crate: no program can insert or edit raw rows through tresor.
//!
//! Schema (version 2):
//! * `tresor_keys` — one row per key: fingerprint (primary key), name, purpose (0 signing, 1 encryption,
//!   as Canton numbers them), usage (signing keys: comma-separated usage names), key spec, format version,
//!   public key (DER SPKI), data (clear or sealed private key; NULL for external keys), data key id (NULL
//!   when the row is clear), KMS key id (external keys), creation time (ms since the epoch), and (version
//!   2) `rights`: the key's integrity record (what the key may do, bound to the sealed blob or
//!   authenticated under the data key; see the vault).
//! * `tresor_data_keys` — the store data keys: id, the KMS wrapper key id that wraps it, the wrapped key,
//!   creation time and whether it is the active one. Each sealed row names its data key, and through it its
//!   wrapper key: keeping the wrapper key id on every row would make a wrapper-key rotation rewrite every
//!   row, which the two-level design exists to avoid.
//! * `tresor_meta` — name/value pairs (store mode, migration state).
//! * `tresor_schema` — the applied schema version.
//!
//! Every write transaction takes the store's write lock when it begins (SQLite `BEGIN IMMEDIATE`, waiting
//! up to the busy timeout; a PostgreSQL transaction-scoped advisory lock), so a writer that reads the
//! current data key inside its transaction sees the one its rows will be committed under, whatever other
//! processes do meanwhile.
//!
//! SQLite values are read as bytes and decoded here, so one damaged row (text that is not UTF-8, a number
//! that is not one) is an error naming that row, never a failure of every query.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Connection as _, Row as _};

use crate::error::{Error, ErrorKind, Result};
use crate::keys::{Fingerprint, SigningKeyUsageSet};
use crate::scheme::{KeySpec, Purpose};
use crate::util::{now_ms, redact_url};

mod meta;

/// The current schema version.
pub(crate) const SCHEMA_VERSION: i64 = 2;

/// The PostgreSQL advisory lock key taken by schema migrations ("tresor" in ASCII); advisory locks are
/// per database, so stores in other databases of the same server do not contend.
const PG_MIGRATION_LOCK: i64 = 0x7472_6573_6f72;

/// The PostgreSQL advisory lock key every write transaction takes ("tresorw").
const PG_WRITE_LOCK: i64 = 0x74_7265_736f_7277;

/// How long a SQLite connection waits for another process's write lock.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 30_000;

/// The first 16 bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// SQLite (file).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// One key row.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct KeyRow {
    /// The Canton fingerprint (primary key).
    pub(crate) fingerprint: Fingerprint,
    /// Optional name (≤ 300 characters).
    pub(crate) name: Option<String>,
    /// The key spec (and through it the purpose: signing or encryption).
    pub(crate) spec: KeySpec,
    /// Usage of a signing key; `None` for encryption keys.
    pub(crate) usage: Option<SigningKeyUsageSet>,
    /// Format version of `data`.
    pub(crate) format_version: i64,
    /// DER SPKI of the public key.
    pub(crate) public_key: Vec<u8>,
    /// Clear PKCS#8, or a sealed blob (when `data_key_id` is set), or `None` for external keys.
    pub(crate) data: Option<Vec<u8>>,
    /// The data key that sealed `data`; `None` when `data` is clear.
    pub(crate) data_key_id: Option<i64>,
    /// The KMS key id of an external key.
    pub(crate) kms_key_id: Option<String>,
    /// Creation time, ms since the Unix epoch.
    pub(crate) created_at: i64,
    /// The integrity record of the key's rights (`None` for clear rows and rows of older formats).
    pub(crate) rights: Option<Vec<u8>>,
}

impl KeyRow {
    /// Signing or encryption.
    pub(crate) fn purpose(&self) -> Purpose {
        self.spec.purpose()
    }
}

impl core::fmt::Debug for KeyRow {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyRow")
            .field("fingerprint", &self.fingerprint)
            .field("name", &self.name)
            .field("spec", &self.spec)
            .field("usage", &self.usage)
            .field("format_version", &self.format_version)
            .field("sealed", &self.data_key_id.is_some())
            .field("kms_key_id", &self.kms_key_id)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// One store data key row.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct DataKeyRow {
    /// Id (referenced by sealed key rows).
    pub(crate) id: i64,
    /// The KMS wrapper key that wraps it.
    pub(crate) wrapper_key_id: String,
    /// The data key encrypted under the wrapper key (opaque KMS ciphertext).
    pub(crate) wrapped_key: Vec<u8>,
    /// Creation time, ms since the Unix epoch.
    pub(crate) created_at: i64,
    /// Whether new rows are sealed under it.
    pub(crate) active: bool,
}

impl core::fmt::Debug for DataKeyRow {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DataKeyRow")
            .field("id", &self.id)
            .field("wrapper_key_id", &self.wrapper_key_id)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

/// A connection pool to the key store.
#[derive(Clone)]
pub(crate) struct Store {
    pool: AnyPool,
    dialect: Dialect,
    url_for_display: String,
    /// The SQLite file (`None` for PostgreSQL and in-memory databases).
    path: Option<PathBuf>,
}

impl core::fmt::Debug for Store {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Store")
            .field("dialect", &self.dialect)
            .field("url", &self.url_for_display)
            .finish()
    }
}

pub(crate) fn db_err(what: &str, e: sqlx::Error) -> Error {
    Error::new(ErrorKind::StoreFailure, format!("key store: {what} failed")).with_source(e)
}

const MIGRATIONS: &[&[&str]] = &[
    // version 1
    &[
        "CREATE TABLE tresor_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE tresor_data_keys (id BIGINT PRIMARY KEY, wrapper_key_id TEXT NOT NULL, \
         wrapped_key {blob} NOT NULL, created_at BIGINT NOT NULL, active SMALLINT NOT NULL)",
        "CREATE TABLE tresor_keys (fingerprint TEXT PRIMARY KEY, name TEXT, purpose SMALLINT NOT NULL, \
         usage TEXT, key_spec TEXT NOT NULL, format_version BIGINT NOT NULL, public_key {blob} NOT NULL, \
         data {blob}, data_key_id BIGINT REFERENCES tresor_data_keys(id), kms_key_id TEXT, \
         created_at BIGINT NOT NULL)",
        "CREATE INDEX tresor_keys_data_key ON tresor_keys(data_key_id)",
    ],
    // version 2: the integrity record of each key's rights
    &["ALTER TABLE tresor_keys ADD COLUMN rights {blob}"],
];

/// The file of a `sqlite:` URL (`None` for in-memory databases).
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && !path.starts_with(':')).then(|| PathBuf::from(path))
}

/// Check a SQLite store file before SQLite opens it, so a wrong file is named at once: a file that is not
/// a SQLite database, an empty file (only `create` may turn it into a store), a directory.
fn precheck_sqlite_file(path: &Path, create: bool) -> Result<()> {
    let shown = path.display();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if create {
                return Ok(());
            }
            return Err(Error::new(
                ErrorKind::Io,
                format!("the key store '{shown}' does not exist"),
            ));
        }
        Err(e) => {
            return Err(Error::new(
                ErrorKind::Io,
                format!("cannot read the key store '{shown}'"),
            )
            .with_source(e));
        }
    };
    if !meta.is_file() {
        return Err(Error::new(
            ErrorKind::Io,
            format!("the key store '{shown}' is not a file"),
        ));
    }
    if meta.len() == 0 {
        if create {
            return Ok(());
        }
        return Err(Error::new(
            ErrorKind::StoreFailure,
            format!(
                "the key store '{shown}' is an empty file (0 bytes), not a tresor key store; \
                 a new store is made only by 'tresor init' (opening with create set)"
            ),
        ));
    }
    let mut header = [0u8; 16];
    let read = std::fs::File::open(path).and_then(|mut f| {
        let mut n = 0;
        while n < header.len() {
            match std::io::Read::read(&mut f, &mut header[n..])? {
                0 => break,
                k => n += k,
            }
        }
        Ok(n)
    });
    match read {
        Ok(n) if n == header.len() && &header == SQLITE_HEADER => Ok(()),
        Ok(_) => Err(Error::new(
            ErrorKind::StoreFailure,
            format!("the key store '{shown}' is not a SQLite database (not a tresor key store)"),
        )),
        Err(e) => Err(Error::new(
            ErrorKind::Io,
            format!("cannot read the key store '{shown}'"),
        )
        .with_source(e)),
    }
}

/// Whether a file can be opened for writing (`false` only for a permission problem).
fn writable(path: &Path) -> bool {
    !matches!(
        std::fs::OpenOptions::new().write(true).open(path),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied
            || e.raw_os_error() == Some(30) // EROFS
    )
}

/// Whether files can be created in a directory (probed by creating and removing one).
fn dir_writable(dir: &Path) -> bool {
    let probe = dir.join(format!(".tresor-write-check-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            true
        }
        Err(e) => e.kind() == std::io::ErrorKind::AlreadyExists,
    }
}

/// Why SQLite could not open or set up a store file: what is wrong, in words, with SQLite's error as the
/// source.
fn diagnose_sqlite(path: &Path, e: sqlx::Error) -> Error {
    let shown = path.display();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let with = |suffix: &str| {
        let mut s = path.as_os_str().to_owned();
        s.push(suffix);
        PathBuf::from(s)
    };
    let (wal, shm) = (with("-wal"), with("-shm"));
    let message = if shm.exists() && !writable(&shm) {
        format!(
            "the key store's shared-memory file '{}' is read-only (left by another user or a read-only \
             copy?): make it writable, or remove it when no process uses the store",
            shm.display()
        )
    } else if wal.exists() && !writable(&wal) {
        format!(
            "the key store's write-ahead log '{}' is read-only: make it writable",
            wal.display()
        )
    } else if path.exists() && !writable(path) {
        format!("the key store '{shown}' is read-only: tresor needs to write to it")
    } else if !dir_writable(&dir) {
        format!(
            "the directory '{}' of the key store is not writable: SQLite needs to create its \
             write-ahead log ('-wal') and shared-memory ('-shm') files next to '{shown}'",
            dir.display()
        )
    } else if e.to_string().contains("not a database") {
        format!("the key store '{shown}' is not a SQLite database (not a tresor key store)")
    } else {
        format!("key store: opening '{shown}' failed")
    };
    Error::new(ErrorKind::StoreFailure, message).with_source(e)
}

/// The pragmas every SQLite connection of the store runs first.
fn sqlite_pragmas() -> [String; 4] {
    [
        "PRAGMA journal_mode = WAL".to_string(),
        "PRAGMA synchronous = FULL".to_string(),
        "PRAGMA foreign_keys = ON".to_string(),
        format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"),
    ]
}

impl Store {
    /// Checkpoint the write-ahead log into the database file (SQLite; waiting at most a moment for
    /// other processes' readers) and close every connection, waiting for them to finish. Later calls
    /// fail with `StoreFailure`; closing twice is harmless.
    pub(crate) async fn close(&self) {
        if self.dialect == Dialect::Sqlite
            && !self.pool.is_closed()
            && let Ok(mut conn) = self.pool.acquire().await
        {
            // Closing the last connection checkpoints too; this covers the other processes' connections
            // keeping the log alive. A busy database is not an error here: the log stays for later.
            let _ = sqlx::query("PRAGMA busy_timeout = 200")
                .execute(&mut *conn)
                .await;
            let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut *conn)
                .await;
            let _ = sqlx::query(&format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"))
                .execute(&mut *conn)
                .await;
        }
        self.pool.close().await;
    }

    /// Open the store at `url` (`sqlite://path/to/file.db` — created if missing — or
    /// `postgres://user:password@host/db`), applying pending schema migrations.
    pub(crate) async fn open(url: &str) -> Result<Self> {
        Self::open_with(url, true).await
    }

    /// Open the store at `url`. Without `create`, a SQLite store must already be a tresor key store: a
    /// missing, empty or foreign file is an error (nothing is created in it). Pending schema migrations
    /// are applied either way.
    pub(crate) async fn open_with(url: &str, create: bool) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            if !cfg!(feature = "postgres") {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    "this build has no PostgreSQL support (build tresor with the `postgres` feature)",
                ));
            }
            Dialect::Postgres
        } else {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "unsupported store URL '{}': use sqlite://<file> or postgres://…",
                    redact_url(url)
                ),
            ));
        };
        let display = redact_url(url);
        let path = match dialect {
            Dialect::Sqlite => sqlite_file(url),
            Dialect::Postgres => None,
        };
        if let Some(p) = &path {
            precheck_sqlite_file(p, create)?;
        }
        let (url, max) = match dialect {
            Dialect::Sqlite => {
                let sep = if url.contains('?') { '&' } else { '?' };
                let u = if url.contains("mode=") {
                    url.to_string()
                } else if create {
                    format!("{url}{sep}mode=rwc")
                } else {
                    format!("{url}{sep}mode=rw")
                };
                (u, 1)
            }
            Dialect::Postgres => (url.to_string(), 8),
        };
        let opts: AnyConnectOptions = url.parse().map_err(|e| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("bad store URL '{display}'"),
            )
            .with_source(e)
        })?;
        if dialect == Dialect::Sqlite {
            // One connection outside the pool first: the pool retries failed connections until its
            // acquire timeout, which turned a wrong file into a 30 s wait ending in "pool timed out".
            Self::probe_sqlite(&opts, path.as_deref(), create).await?;
        }
        // No idle timeout, no maximum lifetime and no minimum size: the pool then runs no background
        // maintenance task (sqlx 0.8's task could spin forever at runtime shutdown), and connections
        // live until `close`.
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .min_connections(0)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        for pragma in sqlite_pragmas() {
                            sqlx::query(&pragma).execute(&mut *conn).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await
            .map_err(|e| match &path {
                Some(p) => diagnose_sqlite(p, e),
                None => db_err(&format!("opening {display}"), e),
            })?;
        let store = Self {
            pool,
            dialect,
            url_for_display: display,
            path,
        };
        if let Err(e) = store.migrate(create).await {
            store.pool.close().await;
            return Err(e);
        }
        Ok(store)
    }

    /// Open one SQLite connection, set it up and, without `create`, check that the file holds a tresor
    /// key store; every failure is diagnosed at once.
    async fn probe_sqlite(
        opts: &AnyConnectOptions,
        path: Option<&Path>,
        create: bool,
    ) -> Result<()> {
        let diagnose = |e: sqlx::Error| match path {
            Some(p) => diagnose_sqlite(p, e),
            None => db_err("opening the key store", e),
        };
        let mut conn = sqlx::AnyConnection::connect_with(opts)
            .await
            .map_err(diagnose)?;
        let mut result = Ok(());
        for pragma in sqlite_pragmas() {
            if let Err(e) = sqlx::query(&pragma).execute(&mut conn).await {
                result = Err(diagnose(e));
                break;
            }
        }
        if result.is_ok() && !create {
            let shown = path.map_or_else(|| "(memory)".into(), |p| p.display().to_string());
            result = match sqlx::query(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'tresor_schema'",
            )
            .fetch_one(&mut conn)
            .await
            .and_then(|r| r.try_get::<i64, _>(0))
            {
                Ok(1) => Ok(()),
                Ok(_) => Err(Error::new(
                    ErrorKind::StoreFailure,
                    format!(
                        "'{shown}' is a SQLite database but not a tresor key store (it has no tresor tables); \
                         a new store is made only by 'tresor init' (opening with create set)"
                    ),
                )),
                Err(e) => Err(diagnose(e)),
            };
        }
        let _ = conn.close().await;
        result
    }

    /// The URL, with any password replaced by `***`.
    pub(crate) fn display_url(&self) -> &str {
        &self.url_for_display
    }

    fn sql(&self, s: &str) -> String {
        s.replace(
            "{blob}",
            if self.dialect == Dialect::Postgres {
                "BYTEA"
            } else {
                "BLOB"
            },
        )
    }

    /// The schema version recorded in the store (0 when there is no schema table), read without writing.
    async fn schema_version(&self) -> Result<i64> {
        let exists_sql = match self.dialect {
            Dialect::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'tresor_schema'"
            }
            Dialect::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = 'tresor_schema'"
            }
        };
        let exists: i64 = sqlx::query(exists_sql)
            .fetch_one(&self.pool)
            .await
            .and_then(|r| r.try_get(0))
            .map_err(|e| db_err("reading the schema version", e))?;
        if exists == 0 {
            return Ok(0);
        }
        let v: Option<i64> = sqlx::query("SELECT MAX(version) FROM tresor_schema")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| db_err("reading the schema version", e))?
            .try_get(0)
            .ok();
        Ok(v.unwrap_or(0))
    }

    fn newer_schema(current: i64) -> Error {
        Error::new(
            ErrorKind::StoreFailure,
            format!(
                "the key store has schema version {current}, newer than this tresor ({SCHEMA_VERSION}); upgrade tresor"
            ),
        )
    }

    async fn migrate(&self, create: bool) -> Result<()> {
        // A store at the current version is only read: a read-only command writes nothing.
        let current = self.schema_version().await?;
        if current == SCHEMA_VERSION {
            return Ok(());
        }
        if current > SCHEMA_VERSION {
            return Err(Self::newer_schema(current));
        }
        if current == 0 && !create && self.dialect == Dialect::Sqlite {
            return Err(Error::new(
                ErrorKind::StoreFailure,
                format!(
                    "{} is not a tresor key store (it has no tresor tables)",
                    self.url_for_display
                ),
            ));
        }
        const CREATE_SCHEMA_TABLE: &str =
            "CREATE TABLE IF NOT EXISTS tresor_schema (version BIGINT NOT NULL)";
        let mut tx = match self.dialect {
            // The write lock first: two processes migrating at once take turns.
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Dialect::Postgres => self.pool.begin().await,
        }
        .map_err(|e| db_err("starting a migration", e))?;
        if self.dialect == Dialect::Postgres {
            // PostgreSQL's CREATE TABLE IF NOT EXISTS is not safe against concurrent creators: two HA
            // nodes opening a fresh database at once can both pass the existence check, and the second
            // then fails on a catalog unique index (pg_type_typname_nsp_index). So the schema table is
            // created inside the migration transaction, behind a transaction-scoped advisory lock that
            // serialises migrators (released at commit or rollback).
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(PG_MIGRATION_LOCK)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_err("locking the schema", e))?;
        }
        sqlx::query(CREATE_SCHEMA_TABLE)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_err("creating the schema table", e))?;
        if self.dialect == Dialect::Postgres {
            // One migrator at a time across HA nodes.
            sqlx::query("LOCK TABLE tresor_schema IN EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await
                .map_err(|e| db_err("locking the schema", e))?;
        }
        let current: Option<i64> = sqlx::query("SELECT MAX(version) FROM tresor_schema")
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| db_err("reading the schema version", e))?
            .try_get(0)
            .ok();
        let current = current.unwrap_or(0);
        if current > SCHEMA_VERSION {
            return Err(Self::newer_schema(current));
        }
        for (i, steps) in MIGRATIONS.iter().enumerate() {
            let version = i as i64 + 1;
            if version <= current {
                continue;
            }
            for step in *steps {
                sqlx::query(&self.sql(step))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| db_err(&format!("schema migration to version {version}"), e))?;
            }
            sqlx::query("INSERT INTO tresor_schema (version) VALUES ($1)")
                .bind(version)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_err("recording the schema version", e))?;
        }
        tx.commit()
            .await
            .map_err(|e| db_err("committing a migration", e))
    }

    /// Begin a write transaction: it holds the store's write lock from its first statement (SQLite
    /// `BEGIN IMMEDIATE`, waiting for other writers up to the busy timeout; a PostgreSQL advisory lock),
    /// so what it reads stays current until it commits.
    pub(crate) async fn begin(&self) -> Result<Tx> {
        match self.dialect {
            Dialect::Sqlite => self
                .pool
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map(|t| Tx(t, self.dialect))
                .map_err(|e| match (&self.path, &e) {
                    // A file problem (a stale read-only `-shm`, …) is named, not reported raw.
                    (Some(p), sqlx::Error::Database(d))
                        if d.message().contains("readonly")
                            || d.message().contains("unable to open") =>
                    {
                        diagnose_sqlite(p, e)
                    }
                    _ => db_err("starting a transaction", e),
                }),
            Dialect::Postgres => {
                let mut tx = self
                    .pool
                    .begin()
                    .await
                    .map_err(|e| db_err("starting a transaction", e))?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(PG_WRITE_LOCK)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| db_err("locking the store for writing", e))?;
                Ok(Tx(tx, self.dialect))
            }
        }
    }

    /// All key rows, each decoded on its own: a damaged row is an error naming it, the others are
    /// returned as they are. The outer error is a failure of the query itself.
    pub(crate) async fn list_all(&self) -> Result<Vec<Result<KeyRow>>> {
        let rows = sqlx::query(&format!(
            "{} ORDER BY created_at, fingerprint",
            select_key(self.dialect)
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("listing keys", e))?;
        Ok(rows.iter().map(|r| row_to_key(r, self.dialect)).collect())
    }

    /// One key row.
    pub(crate) async fn get(&self, fp: &Fingerprint) -> Result<Option<KeyRow>> {
        sqlx::query(&format!(
            "{} WHERE fingerprint = $1",
            select_key(self.dialect)
        ))
        .bind(fp.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("reading a key", e))?
        .as_ref()
        .map(|r| row_to_key(r, self.dialect))
        .transpose()
    }

    /// The fingerprint (as stored) of the first row matching `condition` (a fixed SQL predicate), for
    /// start-up checks that must not decode every row.
    async fn first_matching(&self, condition: &str) -> Result<Option<String>> {
        let col = match self.dialect {
            Dialect::Sqlite => "CAST(fingerprint AS BLOB)",
            Dialect::Postgres => "convert_to(fingerprint, 'UTF8')",
        };
        let row = sqlx::query(&format!(
            "SELECT {col} FROM tresor_keys WHERE {condition} ORDER BY created_at, fingerprint LIMIT 1"
        ))
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("reading keys", e))?;
        Ok(row
            .and_then(|r| r.try_get::<Option<Vec<u8>>, _>(0).ok().flatten())
            .map(|b| String::from_utf8_lossy(&b).escape_debug().to_string()))
    }

    /// The first row holding an external (KMS) key, if any.
    pub(crate) async fn first_external(&self) -> Result<Option<String>> {
        self.first_matching("kms_key_id IS NOT NULL").await
    }

    /// The first row holding a private key (clear or sealed), if any.
    pub(crate) async fn first_private(&self) -> Result<Option<String>> {
        self.first_matching("data IS NOT NULL").await
    }

    /// How many rows there are, and how many of them are clear private keys (data present, not sealed).
    /// A read error is an error, never a count of 0: migrations decide on these numbers.
    pub(crate) async fn counts(&self) -> Result<(i64, i64)> {
        let row = sqlx::query(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN data IS NOT NULL AND data_key_id IS NULL THEN 1 ELSE 0 END), 0) \
             FROM tresor_keys",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(|e| db_err("counting keys", e))?;
        decode_counts(&row)
    }

    /// The data keys, newest first.
    pub(crate) async fn data_keys(&self) -> Result<Vec<DataKeyRow>> {
        let rows = sqlx::query(
            "SELECT id, wrapper_key_id, wrapped_key, created_at, active FROM tresor_data_keys ORDER BY id DESC",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("reading data keys", e))?;
        rows.iter().map(row_to_data_key).collect()
    }

    /// The recorded schema version and SQLite's own integrity check (`PRAGMA quick_check`; PostgreSQL:
    /// nothing to add), for `store check`.
    pub(crate) async fn health_report(&self) -> Result<(i64, Vec<String>)> {
        let version = self.schema_version().await?;
        let mut problems = Vec::new();
        if self.dialect == Dialect::Sqlite {
            let rows = sqlx::query("PRAGMA quick_check")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| db_err("checking the database file", e))?;
            for r in rows {
                let line: String = r
                    .try_get::<Option<String>, _>(0)
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                if line != "ok" {
                    problems.push(format!("SQLite integrity check: {line}"));
                }
            }
            let fk = sqlx::query("PRAGMA foreign_key_check(tresor_keys)")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| db_err("checking foreign keys", e))?;
            if !fk.is_empty() {
                problems.push(format!(
                    "{} key row(s) name a data key the store does not hold",
                    fk.len()
                ));
            }
        }
        Ok((version, problems))
    }

    /// Write a consistent copy of a SQLite store to `dest` (which must not exist) while other
    /// processes may be writing, and run `also` while the copy is still the live store's state: the
    /// store's write lock is held from before the copy until `also` returns. The copy is read by a
    /// second connection (`VACUUM INTO`, one snapshot). PostgreSQL stores are refused with
    /// [`ErrorKind::WrongMode`] (use the server's tools).
    pub(crate) async fn backup_to(
        &self,
        dest: &Path,
        also: impl AsyncFnOnce() -> Result<()>,
    ) -> Result<()> {
        let Some(src) = self
            .path
            .as_deref()
            .filter(|_| self.dialect == Dialect::Sqlite)
        else {
            return Err(Error::new(
                ErrorKind::WrongMode,
                format!(
                    "{} is not a SQLite file: back it up with the database's own tools \
                     (PostgreSQL: pg_dump, or a base backup with point-in-time recovery)",
                    self.url_for_display
                ),
            ));
        };
        let lock = self.begin().await?;
        let result = match vacuum_into(src, dest).await {
            Ok(()) => also().await,
            Err(e) => Err(e),
        };
        drop(lock);
        result
    }
}

/// `VACUUM INTO dest` on a connection of its own to the SQLite file `src`: a consistent copy of one
/// snapshot, taken while other connections may be writing.
pub(crate) async fn vacuum_into(src: &Path, dest: &Path) -> Result<()> {
    use sqlx::sqlite::SqliteConnectOptions;
    let target = dest.to_str().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("backup path '{}' is not UTF-8", dest.display()),
        )
    })?;
    if dest.exists() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("backup file '{}' already exists", dest.display()),
        ));
    }
    let opts = SqliteConnectOptions::new()
        .filename(src)
        .create_if_missing(false)
        .busy_timeout(Duration::from_millis(u64::from(SQLITE_BUSY_TIMEOUT_MS)));
    let mut conn = sqlx::SqliteConnection::connect_with(&opts)
        .await
        .map_err(|e| diagnose_sqlite(src, e))?;
    let r = sqlx::query("VACUUM INTO ?1")
        .bind(target.to_string())
        .execute(&mut conn)
        .await;
    let _ = conn.close().await;
    r.map_err(|e| {
        db_err(
            &format!("copying '{}' to '{}'", src.display(), dest.display()),
            e,
        )
    })?;
    Ok(())
}

/// A database transaction: every write of the vault happens inside one, so a failed operation leaves
/// the store as it was (dropping a `Tx` without [`Tx::commit`] rolls it back).
pub(crate) struct Tx(sqlx::Transaction<'static, sqlx::Any>, Dialect);

impl core::fmt::Debug for Tx {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Tx")
    }
}

impl Tx {
    fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.0
    }

    /// Commit; `what` names the operation in the error.
    pub(crate) async fn commit(self, what: &str) -> Result<()> {
        self.0.commit().await.map_err(|e| db_err(what, e))
    }

    /// Every key row, as this transaction sees them (migrations and rotations work on a consistent
    /// snapshot); the first damaged row is an error naming it.
    pub(crate) async fn list(&mut self) -> Result<Vec<KeyRow>> {
        let dialect = self.1;
        let rows = sqlx::query(&format!(
            "{} ORDER BY created_at, fingerprint",
            select_key(dialect)
        ))
        .fetch_all(self.conn())
        .await
        .map_err(|e| db_err("listing keys", e))?;
        rows.iter().map(|r| row_to_key(r, dialect)).collect()
    }

    /// The rows sealed under a data key (what a data-key rotation or a store upgrade re-seals).
    pub(crate) async fn list_sealed(&mut self) -> Result<Vec<KeyRow>> {
        let mut rows = self.list().await?;
        rows.retain(|r| r.data_key_id.is_some());
        Ok(rows)
    }

    /// The data keys, newest first, as this transaction sees them (under the write lock: the ones new
    /// rows will be committed under).
    pub(crate) async fn data_keys(&mut self) -> Result<Vec<DataKeyRow>> {
        let rows = sqlx::query(
            "SELECT id, wrapper_key_id, wrapped_key, created_at, active FROM tresor_data_keys ORDER BY id DESC",
        )
        .fetch_all(self.conn())
        .await
        .map_err(|e| db_err("reading data keys", e))?;
        rows.iter().map(row_to_data_key).collect()
    }

    /// Insert a key row ([`ErrorKind::KeyAlreadyExists`] when the fingerprint is taken).
    pub(crate) async fn insert_key(&mut self, row: &KeyRow) -> Result<()> {
        let res = sqlx::query(
            "INSERT INTO tresor_keys (fingerprint, name, purpose, usage, key_spec, format_version, public_key, data, \
             data_key_id, kms_key_id, created_at, rights) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(row.fingerprint.to_string())
        .bind(row.name.clone())
        .bind(row.purpose() as i16)
        .bind(row.usage.map(|u| u.to_string()))
        .bind(row.spec.as_str())
        .bind(row.format_version)
        .bind(row.public_key.clone())
        .bind(row.data.clone())
        .bind(row.data_key_id)
        .bind(row.kms_key_id.clone())
        .bind(row.created_at)
        .bind(row.rights.clone())
        .execute(self.conn())
        .await;
        match res {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(Error::new(
                ErrorKind::KeyAlreadyExists,
                format!(
                    "a key with fingerprint {} is already in the store",
                    row.fingerprint
                ),
            )),
            Err(e) => Err(db_err("storing a key", e)),
        }
    }

    /// Replace a row's data, data key id, format version and integrity record.
    pub(crate) async fn update_key_data(
        &mut self,
        fp: &Fingerprint,
        data: &[u8],
        data_key_id: Option<i64>,
        format_version: i64,
        rights: Option<&[u8]>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE tresor_keys SET data = $1, data_key_id = $2, format_version = $3, rights = $4 \
             WHERE fingerprint = $5",
        )
        .bind(data.to_vec())
        .bind(data_key_id)
        .bind(format_version)
        .bind(rights.map(<[u8]>::to_vec))
        .bind(fp.to_string())
        .execute(self.conn())
        .await
        .map_err(|e| db_err("updating a key", e))?;
        Ok(())
    }

    /// Replace a row's integrity record (external keys).
    pub(crate) async fn update_key_rights(
        &mut self,
        fp: &Fingerprint,
        rights: &[u8],
    ) -> Result<()> {
        sqlx::query("UPDATE tresor_keys SET rights = $1 WHERE fingerprint = $2")
            .bind(rights.to_vec())
            .bind(fp.to_string())
            .execute(self.conn())
            .await
            .map_err(|e| db_err("updating a key", e))?;
        Ok(())
    }

    /// Delete a key row; false when there was none. Works on damaged rows too: only the fingerprint
    /// is compared.
    pub(crate) async fn delete_key(&mut self, fp: &Fingerprint) -> Result<bool> {
        let n = sqlx::query("DELETE FROM tresor_keys WHERE fingerprint = $1")
            .bind(fp.to_string())
            .execute(self.conn())
            .await
            .map_err(|e| db_err("deleting a key", e))?
            .rows_affected();
        Ok(n > 0)
    }

    /// Record a new active data key, wrapped under `wrapper_key_id`.
    pub(crate) async fn insert_data_key(
        &mut self,
        id: i64,
        wrapper_key_id: &str,
        wrapped: &[u8],
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO tresor_data_keys (id, wrapper_key_id, wrapped_key, created_at, active) \
             VALUES ($1, $2, $3, $4, 1)",
        )
        .bind(id)
        .bind(wrapper_key_id.to_string())
        .bind(wrapped.to_vec())
        .bind(now_ms())
        .execute(self.conn())
        .await
        .map_err(|e| db_err("storing the data key", e))?;
        Ok(())
    }

    /// Remove every data key but `keep` (`None`: all of them).
    pub(crate) async fn delete_data_keys(&mut self, keep: Option<i64>) -> Result<()> {
        let q = match keep {
            Some(id) => sqlx::query("DELETE FROM tresor_data_keys WHERE id <> $1").bind(id),
            None => sqlx::query("DELETE FROM tresor_data_keys"),
        };
        q.execute(self.conn())
            .await
            .map_err(|e| db_err("removing data keys", e))?;
        Ok(())
    }

    /// Re-wrap data key `id` (still wrapped under `old_wrapper`) under `new_wrapper`; false when the row
    /// changed meanwhile (another instance rotated it).
    pub(crate) async fn rewrap_data_key(
        &mut self,
        id: i64,
        old_wrapper: &str,
        new_wrapper: &str,
        wrapped: &[u8],
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE tresor_data_keys SET wrapper_key_id = $1, wrapped_key = $2 \
             WHERE id = $3 AND wrapper_key_id = $4",
        )
        .bind(new_wrapper.to_string())
        .bind(wrapped.to_vec())
        .bind(id)
        .bind(old_wrapper.to_string())
        .execute(self.conn())
        .await
        .map_err(|e| db_err("re-wrapping the data key", e))?
        .rows_affected();
        Ok(n == 1)
    }
}

/// The two numbers of [`Store::counts`]; a value that does not decode is an error, never 0.
fn decode_counts(row: &AnyRow) -> Result<(i64, i64)> {
    let total = row.try_get(0).map_err(|e| db_err("counting keys", e))?;
    let clear = row.try_get(1).map_err(|e| db_err("counting keys", e))?;
    Ok((total, clear))
}

const KEY_COLUMNS: [&str; 12] = [
    "fingerprint",
    "name",
    "purpose",
    "usage",
    "key_spec",
    "format_version",
    "public_key",
    "data",
    "data_key_id",
    "kms_key_id",
    "created_at",
    "rights",
];

/// The key row query. On SQLite every column is read as bytes (decoded in [`row_to_key`]): SQLite
/// stores whatever it is given, and one value that does not decode must not fail the whole query.
fn select_key(dialect: Dialect) -> String {
    let cols: Vec<String> = KEY_COLUMNS
        .iter()
        .map(|c| match dialect {
            Dialect::Sqlite => format!("CAST({c} AS BLOB)"),
            Dialect::Postgres => (*c).to_string(),
        })
        .collect();
    format!("SELECT {} FROM tresor_keys", cols.join(", "))
}

/// Reads one column of a key row, whatever the dialect. `Err(())` means the value does not decode.
struct Cols<'a> {
    row: &'a AnyRow,
    dialect: Dialect,
}

impl Cols<'_> {
    fn bytes(&self, i: usize) -> core::result::Result<Option<Vec<u8>>, ()> {
        self.row.try_get::<Option<Vec<u8>>, _>(i).map_err(|_| ())
    }

    fn text(&self, i: usize) -> core::result::Result<Option<String>, ()> {
        match self.dialect {
            Dialect::Sqlite => self
                .bytes(i)?
                .map(|b| String::from_utf8(b).map_err(|_| ()))
                .transpose(),
            Dialect::Postgres => self.row.try_get::<Option<String>, _>(i).map_err(|_| ()),
        }
    }

    fn int(&self, i: usize) -> core::result::Result<Option<i64>, ()> {
        match self.dialect {
            Dialect::Sqlite => self
                .text(i)?
                .map(|t| t.parse::<i64>().map_err(|_| ()))
                .transpose(),
            Dialect::Postgres => self
                .row
                .try_get::<Option<i64>, _>(i)
                .or_else(|_| {
                    self.row
                        .try_get::<Option<i16>, _>(i)
                        .map(|v| v.map(i64::from))
                })
                .or_else(|_| {
                    self.row
                        .try_get::<Option<i32>, _>(i)
                        .map(|v| v.map(i64::from))
                })
                .map_err(|_| ()),
        }
    }
}

/// The error for a key row whose column `what` does not decode, naming the row.
pub(crate) fn damaged_row(fp_text: Option<&str>, what: &str) -> Error {
    Error::new(
        ErrorKind::StoreCorrupted,
        match fp_text {
            Some(t) => match t.parse::<Fingerprint>() {
                Ok(fp) => format!("key {fp} in the store: bad {what}"),
                Err(_) => format!("key row '{}' in the store: bad {what}", t.escape_debug()),
            },
            None => format!("a key row in the store: bad {what}"),
        },
    )
}

fn row_to_key(r: &AnyRow, dialect: Dialect) -> Result<KeyRow> {
    let c = Cols { row: r, dialect };
    let fp_text: Option<String> = match dialect {
        Dialect::Sqlite => match c.bytes(0) {
            Ok(Some(b)) => Some(String::from_utf8_lossy(&b).into_owned()),
            _ => None,
        },
        Dialect::Postgres => c.text(0).ok().flatten(),
    };
    let corrupt = |what: &str| damaged_row(fp_text.as_deref(), what);
    let fingerprint: Fingerprint = fp_text
        .as_deref()
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| corrupt("fingerprint"))?;
    let purpose = match c.int(2) {
        Ok(Some(0)) => Purpose::Signing,
        Ok(Some(1)) => Purpose::Encryption,
        _ => return Err(corrupt("purpose")),
    };
    let usage = c
        .text(3)
        .map_err(|_| corrupt("usage"))?
        .map(|u| SigningKeyUsageSet::parse_list(&u))
        .transpose()
        .map_err(|_| corrupt("usage"))?;
    if (purpose == Purpose::Signing) != usage.is_some() {
        return Err(corrupt("usage"));
    }
    let spec = c
        .text(4)
        .ok()
        .flatten()
        .ok_or_else(|| corrupt("key spec"))?;
    let need = |v: core::result::Result<Option<i64>, ()>, what: &str| {
        v.ok().flatten().ok_or_else(|| corrupt(what))
    };
    Ok(KeyRow {
        fingerprint,
        name: c.text(1).map_err(|_| corrupt("name"))?,
        spec: KeySpec::parse(purpose, &spec).map_err(|_| corrupt("key spec"))?,
        usage,
        format_version: need(c.int(5), "format version")?,
        public_key: c
            .bytes(6)
            .ok()
            .flatten()
            .ok_or_else(|| corrupt("public key"))?,
        data: c.bytes(7).map_err(|_| corrupt("data"))?,
        data_key_id: c.int(8).map_err(|_| corrupt("data key id"))?,
        kms_key_id: c.text(9).map_err(|_| corrupt("KMS key id"))?,
        created_at: need(c.int(10), "creation time")?,
        rights: c.bytes(11).map_err(|_| corrupt("integrity record"))?,
    })
}

fn row_to_data_key(r: &AnyRow) -> Result<DataKeyRow> {
    let corrupt = |what: &str| {
        Error::new(
            ErrorKind::StoreCorrupted,
            format!("data key row: bad {what}"),
        )
    };
    let active: i64 = r
        .try_get::<i16, _>(4)
        .map(i64::from)
        .or_else(|_| r.try_get::<i64, _>(4))
        .map_err(|_| corrupt("active flag"))?;
    Ok(DataKeyRow {
        id: r.try_get(0).map_err(|_| corrupt("id"))?,
        wrapper_key_id: r.try_get(1).map_err(|_| corrupt("wrapper key id"))?,
        wrapped_key: r.try_get(2).map_err(|_| corrupt("wrapped key"))?,
        created_at: r.try_get(3).map_err(|_| corrupt("creation time"))?,
        active: active != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A count that does not decode is an error (it used to read as 0, and a migration decided on it).
    #[test]
    fn counts_that_do_not_decode_are_errors() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let store = Store::open("sqlite::memory:").await.expect("store");
            let row = sqlx::query("SELECT 'three', 2")
                .fetch_one(&store.pool)
                .await
                .expect("row");
            let e = decode_counts(&row).expect_err("text is not a count");
            assert_eq!(e.kind(), ErrorKind::StoreFailure);
            let row = sqlx::query("SELECT 3, 2")
                .fetch_one(&store.pool)
                .await
                .expect("row");
            assert_eq!(decode_counts(&row).expect("numbers"), (3, 2));
            assert_eq!(store.counts().await.expect("empty store"), (0, 0));
        });
    }

    /// The pool runs with no idle timeout, no maximum lifetime and no minimum size, so sqlx spawns no
    /// maintenance task for it (sqlx 0.8's could spin forever at runtime shutdown: a one-shot command
    /// that never exited).
    #[test]
    fn the_pool_has_no_maintenance_task() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let store = Store::open("sqlite::memory:").await.expect("store");
            let o = store.pool.options();
            assert_eq!(o.get_idle_timeout(), None);
            assert_eq!(o.get_max_lifetime(), None);
            assert_eq!(o.get_min_connections(), 0);
            store.close().await;
        });
    }
}
