//! Name/value pairs in `tresor_meta`, and the reads the wrapper-key history needs. The vault keeps the
//! wrapper keys a store no longer uses under names `wrapper-key:<KMS key id>` (see
//! `vault::envelope`).

use sqlx::Row as _;

use super::{Store, Tx, db_err};
use crate::error::Result;

impl Store {
    /// Every `(name, value)` pair whose name starts with `prefix`, ordered by name.
    pub(crate) async fn meta_with_prefix(&self, prefix: &str) -> Result<Vec<(String, String)>> {
        // LIKE narrows the scan (the prefixes used have no wildcard characters); the exact,
        // case-sensitive test is the `starts_with` below.
        let rows =
            sqlx::query("SELECT name, value FROM tresor_meta WHERE name LIKE $1 ORDER BY name")
                .bind(format!("{prefix}%"))
                .fetch_all(&self.pool)
                .await
                .map_err(|e| db_err("reading store metadata", e))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let name: String = r
                .try_get(0)
                .map_err(|e| db_err("reading store metadata", e))?;
            let value: String = r
                .try_get(1)
                .map_err(|e| db_err("reading store metadata", e))?;
            if name.starts_with(prefix) {
                out.push((name, value));
            }
        }
        Ok(out)
    }
}

impl Tx {
    /// Set `name` to `value` (replacing any earlier value).
    pub(crate) async fn put_meta(&mut self, name: &str, value: &str) -> Result<()> {
        self.delete_meta(name).await?;
        sqlx::query("INSERT INTO tresor_meta (name, value) VALUES ($1, $2)")
            .bind(name.to_string())
            .bind(value.to_string())
            .execute(self.conn())
            .await
            .map_err(|e| db_err("writing store metadata", e))?;
        Ok(())
    }

    /// Remove `name` (nothing happens when it is not there).
    pub(crate) async fn delete_meta(&mut self, name: &str) -> Result<()> {
        sqlx::query("DELETE FROM tresor_meta WHERE name = $1")
            .bind(name.to_string())
            .execute(self.conn())
            .await
            .map_err(|e| db_err("writing store metadata", e))?;
        Ok(())
    }

    /// Whether `kms_key_id` is used by the store: it wraps a data key, or it is the KMS key of a key
    /// row (external mode).
    pub(crate) async fn kms_key_in_use(&mut self, kms_key_id: &str) -> Result<bool> {
        let n: i64 = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM tresor_data_keys WHERE wrapper_key_id = $1) + \
             (SELECT COUNT(*) FROM tresor_keys WHERE kms_key_id = $2)",
        )
        .bind(kms_key_id.to_string())
        .bind(kms_key_id.to_string())
        .fetch_one(self.conn())
        .await
        .map_err(|e| db_err("checking where a KMS key is used", e))?
        .try_get(0)
        .map_err(|e| db_err("checking where a KMS key is used", e))?;
        Ok(n > 0)
    }
}
