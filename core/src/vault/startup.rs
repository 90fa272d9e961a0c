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
        let finished = poll_until(poll, timeout, move || async move {
            let dks = self.inner.store.data_keys().await?;
            let (_, clear) = self.inner.store.counts().await?;
            Ok(match mode {
                Mode::Envelope(c) if !c.reverted => !dks.is_empty() && clear == 0,
                Mode::Envelope(_) => dks.is_empty(),
                Mode::Clear | Mode::External => true,
            })
        })
        .await?;
        if finished {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::StoreFailure,
            format!(
                "passive instance: the active instance did not finish migrating within {timeout:?}"
            ),
        ))
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
        let rows = tx.list_sealed().await?;
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

/// Ask `ready` at once and then every `poll` until it answers `true` (returns `Ok(true)`), fails (its
/// error), or answers `false` once `timeout` has passed since the start (returns `Ok(false)`). Time is
/// read from tokio's clock, so a paused test clock governs it.
async fn poll_until<F, Fut>(poll: Duration, timeout: Duration, mut ready: F) -> Result<bool>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool>>,
{
    let start = tokio::time::Instant::now();
    loop {
        if ready().await? {
            return Ok(true);
        }
        if start.elapsed() >= timeout {
            return Ok(false);
        }
        tokio::time::sleep(poll).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use tokio::time::Instant;

    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// Runs `poll_until` (poll 50 ms, timeout 400 ms) with a check that is ready at its `ready_at`-th
    /// call (never with `None`) and records, in ms after the start, when each check ran; returns the
    /// result, the check times and when `poll_until` returned.
    async fn run(ready_at: Option<usize>) -> (bool, Vec<u128>, u128) {
        let start = Instant::now();
        let times = Mutex::new(Vec::new());
        let wait = poll_until(50 * MS, 400 * MS, || {
            let mut t = times.lock().expect("lock");
            t.push(start.elapsed().as_millis());
            let n = t.len();
            async move { Ok(ready_at == Some(n)) }
        });
        // On the paused clock a wait that never ends would run for ever: bound it (virtual time).
        let r = tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .expect("poll_until gives up within 10 s")
            .expect("the check does not fail");
        (
            r,
            times.into_inner().expect("lock"),
            start.elapsed().as_millis(),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn a_passive_instance_polls_every_period_until_the_timeout() {
        let (r, times, end) = run(None).await;
        assert!(!r, "never ready: gives up");
        assert_eq!(times, [0, 50, 100, 150, 200, 250, 300, 350, 400]);
        assert_eq!(end, 400, "gives up as soon as the timeout has passed");
    }

    #[tokio::test(start_paused = true)]
    async fn a_passive_instance_stops_polling_once_ready() {
        let (r, times, end) = run(Some(3)).await;
        assert!(r);
        assert_eq!(times, [0, 50, 100]);
        assert_eq!(end, 100);
        let (r, times, end) = run(Some(1)).await;
        assert!(r);
        assert_eq!((times, end), (vec![0], 0), "ready at once: no wait");
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_check_ends_the_wait_with_its_error() {
        let start = Instant::now();
        let mut calls = 0;
        let e = poll_until(50 * MS, 400 * MS, || {
            calls += 1;
            let n = calls;
            async move {
                if n == 2 {
                    Err(Error::new(ErrorKind::StoreFailure, "store gone"))
                } else {
                    Ok(false)
                }
            }
        })
        .await
        .expect_err("the check's error");
        assert_eq!(e.kind(), ErrorKind::StoreFailure);
        assert_eq!((calls, start.elapsed()), (2, 50 * MS));
    }
}
