//! Canton's start-up logic: checking the store against the configured mode and migrating between clear
//! and envelope.

use std::sync::Arc;
use std::time::Duration;

use super::envelope::{
    DataKey, Rights, WRAPPER_KEY_NAME, external_rights, open_row, private_from_row, seal,
};
use super::{Active, EnvelopeConfig, FORMAT_VERSION, Mode, Role, Vault, corrupt_row};
use crate::error::{Error, ErrorKind, Result};
use crate::store::Tx;

impl Vault {
    pub(super) async fn start(&self, mode: &Mode, role: Role) -> Result<()> {
        if let Role::Passive { poll, timeout } = role {
            self.wait_for_active(mode, poll, timeout).await?;
        }
        match mode {
            Mode::Clear => self.start_clear().await,
            Mode::Envelope(c) if c.reverted => self.start_reverted(role).await,
            Mode::Envelope(c) => self.start_envelope(c, role).await,
            Mode::External => self.start_external(role).await,
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
        self.refuse_external_rows().await?;
        let dks = self.inner.store.data_keys().await?;
        if let Some(dk) = dks.first() {
            return Err(Error::new(
                ErrorKind::WrongMode,
                format!(
                    "the store is envelope-encrypted under wrapper key {}; open it in envelope mode, or with \
                     reverted = true to return it to clear",
                    dk.wrapper_key_id
                ),
            ));
        }
        Ok(())
    }

    /// External rows are found with one query (no row is decoded: a damaged row elsewhere does not
    /// stop a start-up).
    async fn refuse_external_rows(&self) -> Result<()> {
        if let Some(fp) = self.inner.store.first_external().await? {
            return Err(Error::new(
                ErrorKind::WrongMode,
                format!("the store holds external KMS keys (e.g. {fp}); open it in external mode"),
            ));
        }
        Ok(())
    }

    /// External mode: the store's data key protects the integrity records of the external rows. A store
    /// without one gets one from an active instance (and every row its record, in the same transaction);
    /// an existing one is unwrapped (one KMS call). A KMS that has no symmetric keys leaves the rows
    /// unbound (`store check` reports it).
    async fn start_external(&self, role: Role) -> Result<()> {
        if let Some(fp) = self.inner.store.first_private().await? {
            return Err(Error::new(
                ErrorKind::WrongMode,
                format!(
                    "the store holds private keys (e.g. {fp}); external mode keeps keys only in the KMS"
                ),
            ));
        }
        let _w = self.inner.write_lock.lock().await;
        if let Some(row) = self.single_data_key().await? {
            let dk = self.unwrap_data_key(&row).await?;
            self.set_data_key(dk)?;
            return Ok(());
        }
        if role != Role::Active {
            // The active instance binds the rows when it makes the data key.
            return Ok(());
        }
        let kms = self.kms()?;
        let wrapper = match kms.generate_symmetric_key(Some(WRAPPER_KEY_NAME)).await {
            Ok(w) => w,
            // A KMS without symmetric keys (a C driver may leave them out): the rows stay unbound,
            // and `store check` says so.
            Err(e) if e.kind() == ErrorKind::UnsupportedAlgorithm => return Ok(()),
            Err(e) => return Err(e),
        };
        let (dk, wrapped) = self.new_data_key(1, wrapper).await?;
        let mut tx = self.inner.store.begin().await?;
        if !tx.data_keys().await?.is_empty() {
            // Another instance made it meanwhile: use that one.
            drop(tx);
            let row = self
                .single_data_key()
                .await?
                .ok_or_else(|| Error::internal("data key vanished"))?;
            let dk = self.unwrap_data_key(&row).await?;
            self.set_data_key(dk)?;
            return Ok(());
        }
        tx.insert_data_key(dk.id, dk.wrapper_key_id.as_str(), &wrapped)
            .await?;
        let rows = tx.list().await?;
        let total = rows.len() as u64;
        for (i, row) in rows.iter().enumerate() {
            tx.update_key_rights(&row.fingerprint, &external_rights(&dk, &Rights::of(row)))
                .await?;
            self.report("binding key rights", i as u64 + 1, total);
        }
        tx.commit("committing the integrity records").await?;
        self.set_data_key(dk)?;
        Ok(())
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
                             to change it, rotate the wrapper key to {configured}",
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
                    None => kms.generate_symmetric_key(Some(WRAPPER_KEY_NAME)).await?,
                };
                let (dk, wrapped) = self.new_data_key(1, wrapper).await?;
                let mut tx = self.inner.store.begin().await?;
                if tx.data_keys().await?.is_empty() {
                    tx.insert_data_key(dk.id, dk.wrapper_key_id.as_str(), &wrapped)
                        .await?;
                    // Seal every clear row in the same transaction.
                    self.seal_clear_rows(&mut tx, &dk).await?;
                    tx.commit("committing the migration").await?;
                    self.set_data_key(dk)?;
                    return Ok(());
                }
                // Another instance made the data key meanwhile: continue with that one.
                drop(tx);
                let row = self
                    .single_data_key()
                    .await?
                    .ok_or_else(|| Error::internal("data key vanished"))?;
                self.unwrap_data_key(&row).await?
            }
        };
        self.set_data_key(dk)?;
        if role != Role::Active {
            return Ok(());
        }
        // Existing envelope store: seal rows that arrived in clear (e.g. a store migrated back and forth),
        // under the data key current when the write lock is held.
        let (_, clear) = self.inner.store.counts().await?;
        if clear > 0 {
            let (mut tx, dk) = self.begin_under_data_key(true).await?;
            let dk = dk.ok_or_else(|| Error::internal("no data key"))?;
            self.seal_clear_rows(&mut tx, &dk).await?;
            tx.commit("committing the migration").await?;
        }
        // A store from before integrity records: re-seal every row with its record under a data key of
        // this version (one transaction). A damaged row stops the upgrade (not the start-up): the store
        // keeps working in the old format and `store check` names the row.
        let legacy = self.cached_data_key()?.is_some_and(|dk| !dk.binds_rights);
        if legacy {
            match self.rotate_data_key_locked("binding key rights").await {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::StoreCorrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    async fn seal_clear_rows(&self, tx: &mut Tx, dk: &DataKey) -> Result<()> {
        let rows = tx.list().await?;
        let clear: Vec<_> = rows
            .iter()
            .filter(|r| r.data.is_some() && r.data_key_id.is_none())
            .collect();
        let total = clear.len() as u64;
        for (i, row) in clear.iter().enumerate() {
            let pkcs8 = row
                .data
                .as_deref()
                .ok_or_else(|| corrupt_row(&row.fingerprint))?;
            private_from_row(row, pkcs8)?;
            let sealed = seal(dk, &Rights::of(row), pkcs8)?;
            tx.update_key_data(
                &row.fingerprint,
                &sealed.data,
                Some(dk.id),
                sealed.format_version,
                sealed.rights.as_deref(),
            )
            .await?;
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
        self.set_data_key(dk)?;
        let (mut tx, dk) = self.begin_under_data_key(true).await?;
        let dk = dk.ok_or_else(|| Error::internal("no data key"))?;
        let rows: Vec<_> = tx
            .list()
            .await?
            .into_iter()
            .filter(|r| r.data_key_id.is_some())
            .collect();
        let total = rows.len() as u64;
        for (i, r) in rows.iter().enumerate() {
            let pkcs8 = open_row(&dk, r)?;
            private_from_row(r, &pkcs8)?;
            tx.update_key_data(&r.fingerprint, &pkcs8, None, FORMAT_VERSION, None)
                .await?;
            self.report("opening keys", i as u64 + 1, total);
        }
        tx.delete_data_keys(None).await?;
        tx.commit("committing the migration").await
    }

    pub(super) fn set_data_key(&self, dk: DataKey) -> Result<Arc<DataKey>> {
        let dk = Arc::new(dk);
        *self
            .inner
            .data_key
            .write()
            .map_err(|_| Error::internal("lock poisoned"))? = Some(dk.clone());
        Ok(dk)
    }

    pub(super) fn is_envelope(&self) -> bool {
        self.inner.mode == Active::Envelope
    }
}
