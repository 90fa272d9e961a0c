//! The audit records of key operations. With an audit log (`audit-logging = true`), every verb that
//! changes which keys the vault holds, or lets a key leave it, writes one line naming the key — never
//! key material: generate, import, register, rotate, delete and export (`Key operation: …`), and, when
//! [`VaultOptions::audit_key_use`](super::VaultOptions::audit_key_use) is set, every sign and decrypt
//! by fingerprint (`Key use: …`).
//!
//! The records fail closed: a change is committed only after its line is written (a failed commit adds
//! a `WARN` line saying so), an export or a key use returns its result only after its line is written.

use super::{KeyInfo, Vault};
use crate::error::Result;
use crate::keys::Fingerprint;
use crate::store::{KeyRow, Tx};

/// A key as the audit log names it: fingerprint, purpose, spec, usage, name and storage.
pub(crate) fn describe(k: &KeyInfo) -> String {
    let mut s = format!("{} ({} {}", k.fingerprint, k.purpose(), k.spec);
    if let Some(u) = k.usage {
        s.push_str(&format!(", usage {u}"));
    }
    if let Some(n) = &k.name {
        s.push_str(&format!(", name '{}'", n.escape_debug()));
    }
    s.push_str(&format!(", {}", k.storage.as_str()));
    if let Some(id) = &k.kms_key_id {
        s.push_str(&format!(", KMS key {id}"));
    }
    s.push(')');
    s
}

impl Vault {
    /// Whether sign and decrypt by fingerprint are recorded.
    pub(crate) fn records_key_use(&self) -> bool {
        self.inner.audit_key_use && self.inner.audit.is_some()
    }

    /// Record one key operation (`Key operation: <what>`).
    pub(crate) fn record(&self, what: &str) -> Result<()> {
        self.audit(&format!("Key operation: {what}"))
    }

    /// After a key use succeeded, record it when configured; the result is returned only then.
    pub(crate) fn record_use<T>(
        &self,
        result: Result<T>,
        what: impl FnOnce() -> String,
    ) -> Result<T> {
        if result.is_ok() && self.records_key_use() {
            self.audit(&format!("Key use: {}", what()))?;
        }
        result
    }

    /// Commit `tx` after writing `records` (one line each): nothing is committed without its record.
    /// A commit that fails after the lines were written adds a `WARN` line saying it did not happen.
    pub(crate) async fn commit_recorded(
        &self,
        tx: Tx,
        what: &str,
        records: &[String],
    ) -> Result<()> {
        for r in records {
            self.record(r)?;
        }
        match tx.commit(what).await {
            Ok(()) => Ok(()),
            Err(e) => {
                if let Some(log) = &self.inner.audit {
                    for r in records {
                        let _ =
                            log.warn(&format!("Key operation not committed ({}): {r}", e.kind()));
                    }
                }
                Err(e)
            }
        }
    }

    /// Insert rows in one transaction, each recorded first as `record(<description of the key>)`. The
    /// rows are bound under the store's data key current once the write lock is held (private keys
    /// sealed with their rights in envelope mode, external rows' rights tagged).
    pub(crate) async fn insert_recorded(
        &self,
        rows: &[KeyRow],
        what: &str,
        record: impl Fn(&str) -> String,
    ) -> Result<Vec<KeyInfo>> {
        let (mut tx, rows) = self.bind_rows(rows).await?;
        let infos = rows
            .iter()
            .map(KeyInfo::from_row)
            .collect::<Result<Vec<_>>>()?;
        for row in &rows {
            tx.insert_key(row).await?;
        }
        let records: Vec<String> = infos.iter().map(|i| record(&describe(i))).collect();
        self.commit_recorded(tx, what, &records).await?;
        Ok(infos)
    }

    /// A one-line description of the key `fp` for a record, or its bare fingerprint when its row cannot
    /// be read.
    pub(crate) async fn describe_key(&self, fp: &Fingerprint) -> String {
        match self.key_info(fp).await {
            Ok(i) => describe(&i),
            Err(_) => fp.to_string(),
        }
    }
}
