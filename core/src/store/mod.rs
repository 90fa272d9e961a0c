//! The private key store: SQLite (bundled, the embedded default) or PostgreSQL (feature `postgres`, for
//! HA nodes sharing one database), with versioned schema migrations and transactional writes.
//!
//! The store only moves rows; it knows nothing about sealing. The [`crate::vault`] decides what goes in
//! `data` (clear PKCS#8, a sealed blob, or nothing for keys held in a KMS). Every statement lives here:
//! the vault calls these functions (reads on the pool, writes inside a [`Tx`]) and writes no SQL.
//!
//! The module is internal to the crate: no program can insert or edit raw rows through tresor.
//!
//! Schema (version 1):
//! * `tresor_keys` — one row per key: fingerprint (primary key), name, purpose (0 signing, 1 encryption,
//!   as Canton numbers them), usage (signing keys: comma-separated usage names), key spec, format version,
//!   public key (DER SPKI), data (clear or sealed private key; NULL for external keys), data key id (NULL
//!   when the row is clear), KMS key id (external keys), creation time (ms since the epoch).
//! * `tresor_data_keys` — the store data keys: id, the KMS wrapper key id that wraps it, the wrapped key,
//!   creation time and whether it is the active one. Each sealed row names its data key, and through it its
//!   wrapper key: keeping the wrapper key id on every row would make a wrapper-key rotation rewrite every
//!   row, which the two-level design exists to avoid.
//! * `tresor_meta` — name/value pairs (store mode, migration state).
//! * `tresor_schema` — the applied schema version.

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row as _};

use crate::error::{Error, ErrorKind, Result};
use crate::keys::{Fingerprint, SigningKeyUsageSet};
use crate::scheme::{KeySpec, Purpose};
use crate::util::{now_ms, redact_url};

mod meta;

/// The current schema version.
pub(crate) const SCHEMA_VERSION: i64 = 1;

/// The PostgreSQL advisory lock key taken by schema migrations ("tresor" in ASCII); advisory locks are
/// per database, so stores in other databases of the same server do not contend.
const PG_MIGRATION_LOCK: i64 = 0x7472_6573_6f72;

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
];

impl Store {
    /// Close every connection (waiting for them to finish). Later calls fail with `StoreFailure`.
    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }

    /// Open the store at `url` (`sqlite://path/to/file.db` — created if missing — or
    /// `postgres://user:password@host/db`), applying pending schema migrations.
    pub(crate) async fn open(url: &str) -> Result<Self> {
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
        let (url, max) = match dialect {
            Dialect::Sqlite => {
                let sep = if url.contains('?') { '&' } else { '?' };
                let u = if url.contains("mode=") {
                    url.to_string()
                } else {
                    format!("{url}{sep}mode=rwc")
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
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        for pragma in [
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = FULL",
                            "PRAGMA foreign_keys = ON",
                            "PRAGMA busy_timeout = 30000",
                        ] {
                            sqlx::query(pragma).execute(&mut *conn).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await
            .map_err(|e| db_err(&format!("opening {display}"), e))?;
        let store = Self {
            pool,
            dialect,
            url_for_display: display,
        };
        store.migrate().await?;
        Ok(store)
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

    async fn migrate(&self) -> Result<()> {
        const CREATE_SCHEMA_TABLE: &str =
            "CREATE TABLE IF NOT EXISTS tresor_schema (version BIGINT NOT NULL)";
        if self.dialect == Dialect::Sqlite {
            sqlx::query(CREATE_SCHEMA_TABLE)
                .execute(&self.pool)
                .await
                .map_err(|e| db_err("creating the schema table", e))?;
        }
        let mut tx = self
            .pool
            .begin()
            .await
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
            sqlx::query(CREATE_SCHEMA_TABLE)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_err("creating the schema table", e))?;
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
            return Err(Error::new(
                ErrorKind::StoreFailure,
                format!(
                    "the key store has schema version {current}, newer than this tresor ({SCHEMA_VERSION}); upgrade tresor"
                ),
            ));
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

    /// Begin a transaction.
    pub(crate) async fn begin(&self) -> Result<Tx> {
        self.pool
            .begin()
            .await
            .map(Tx)
            .map_err(|e| db_err("starting a transaction", e))
    }

    /// All key rows, ordered by creation time then fingerprint.
    pub(crate) async fn list(&self) -> Result<Vec<KeyRow>> {
        let rows = sqlx::query(&format!("{SELECT_KEY} ORDER BY created_at, fingerprint"))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_err("listing keys", e))?;
        rows.iter().map(row_to_key).collect()
    }

    /// One key row.
    pub(crate) async fn get(&self, fp: &Fingerprint) -> Result<Option<KeyRow>> {
        sqlx::query(&format!("{SELECT_KEY} WHERE fingerprint = $1"))
            .bind(fp.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err("reading a key", e))?
            .as_ref()
            .map(row_to_key)
            .transpose()
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
}

/// A database transaction: every write of the vault happens inside one, so a failed operation leaves
/// the store as it was (dropping a `Tx` without [`Tx::commit`] rolls it back).
pub(crate) struct Tx(sqlx::Transaction<'static, sqlx::Any>);

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
    /// snapshot).
    pub(crate) async fn list(&mut self) -> Result<Vec<KeyRow>> {
        let rows = sqlx::query(&format!("{SELECT_KEY} ORDER BY created_at, fingerprint"))
            .fetch_all(self.conn())
            .await
            .map_err(|e| db_err("listing keys", e))?;
        rows.iter().map(row_to_key).collect()
    }

    /// Insert a key row ([`ErrorKind::KeyAlreadyExists`] when the fingerprint is taken).
    pub(crate) async fn insert_key(&mut self, row: &KeyRow) -> Result<()> {
        let res = sqlx::query(
            "INSERT INTO tresor_keys (fingerprint, name, purpose, usage, key_spec, format_version, public_key, data, \
             data_key_id, kms_key_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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

    /// Replace a row's data and data key id.
    pub(crate) async fn update_key_data(
        &mut self,
        fp: &Fingerprint,
        data: &[u8],
        data_key_id: Option<i64>,
    ) -> Result<()> {
        sqlx::query("UPDATE tresor_keys SET data = $1, data_key_id = $2 WHERE fingerprint = $3")
            .bind(data.to_vec())
            .bind(data_key_id)
            .bind(fp.to_string())
            .execute(self.conn())
            .await
            .map_err(|e| db_err("updating a key", e))?;
        Ok(())
    }

    /// Delete a key row; false when there was none.
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

const SELECT_KEY: &str = "SELECT fingerprint, name, purpose, usage, key_spec, format_version, public_key, \
     data, data_key_id, kms_key_id, created_at FROM tresor_keys";

fn row_to_key(r: &AnyRow) -> Result<KeyRow> {
    let fp_text: Option<String> = r.try_get(0).ok();
    let fingerprint: Option<Fingerprint> = fp_text.as_deref().and_then(|f| f.parse().ok());
    let corrupt = |what: &str| {
        Error::new(
            ErrorKind::StoreCorrupted,
            match (&fingerprint, &fp_text) {
                (Some(fp), _) => format!("key {fp} in the store: bad {what}"),
                (None, Some(t)) => {
                    format!("key row '{}' in the store: bad {what}", t.escape_debug())
                }
                (None, None) => format!("a key row in the store: bad {what}"),
            },
        )
    };
    let fingerprint = fingerprint.ok_or_else(|| corrupt("fingerprint"))?;
    let usage: Option<String> = r.try_get(3).map_err(|_| corrupt("usage"))?;
    let purpose: i64 = r
        .try_get::<i16, _>(2)
        .map(i64::from)
        .or_else(|_| r.try_get::<i64, _>(2))
        .map_err(|_| corrupt("purpose"))?;
    let purpose = match purpose {
        0 => Purpose::Signing,
        1 => Purpose::Encryption,
        _ => return Err(corrupt("purpose")),
    };
    let spec: String = r.try_get(4).map_err(|_| corrupt("key spec"))?;
    let usage = usage
        .map(|u| SigningKeyUsageSet::parse_list(&u))
        .transpose()
        .map_err(|_| corrupt("usage"))?;
    if (purpose == Purpose::Signing) != usage.is_some() {
        return Err(corrupt("usage"));
    }
    Ok(KeyRow {
        fingerprint,
        name: r.try_get(1).map_err(|_| corrupt("name"))?,
        spec: KeySpec::parse(purpose, &spec).map_err(|_| corrupt("key spec"))?,
        usage,
        format_version: r.try_get(5).map_err(|_| corrupt("format version"))?,
        public_key: r.try_get(6).map_err(|_| corrupt("public key"))?,
        data: r.try_get(7).map_err(|_| corrupt("data"))?,
        data_key_id: r.try_get(8).map_err(|_| corrupt("data key id"))?,
        kms_key_id: r.try_get(9).map_err(|_| corrupt("KMS key id"))?,
        created_at: r.try_get(10).map_err(|_| corrupt("creation time"))?,
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
}
