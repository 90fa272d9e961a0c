//! Envelope encryption: the store data key (wrapped by the KMS wrapper key), sealing and opening rows,
//! and the wrapper-key and data-key rotations.

use std::sync::Arc;

use zeroize::Zeroizing;

use super::{Vault, corrupt_row};
use crate::error::{Error, ErrorKind, Result};
use crate::keys::{Fingerprint, PrivateKey};
use crate::kms::KmsKeyId;
use crate::primitives::{AesGcmKey, random_bytes};
use crate::scheme::Purpose;
use crate::store::{DataKeyRow, KeyRow};

use super::FORMAT_VERSION;

/// The name given to the KMS keys the vault creates as wrapper keys.
pub(super) const WRAPPER_KEY_NAME: &str = "tresor-wrapper-key";

const SEAL_AAD_PREFIX: &[u8] = b"tresor-key-row-v1\0";

/// An unwrapped store data key.
pub(crate) struct DataKey {
    pub(super) id: i64,
    pub(super) wrapper_key_id: KmsKeyId,
    pub(super) key: AesGcmKey,
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

pub(super) fn seal(
    dk: &DataKey,
    fp: &Fingerprint,
    purpose: Purpose,
    pkcs8: &[u8],
) -> Result<Vec<u8>> {
    dk.key
        .encrypt(pkcs8, &seal_aad(fp, purpose, FORMAT_VERSION, dk.id))
}

pub(super) fn open_row(dk: &DataKey, row: &KeyRow) -> Result<Zeroizing<Vec<u8>>> {
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
            &seal_aad(&row.fingerprint, row.purpose(), row.format_version, dk.id),
        )
        .map_err(|_| corrupt_row(&row.fingerprint))
}

/// Parse a row's private key and check it matches the row's public key, fingerprint and spec.
pub(super) fn private_from_row(row: &KeyRow, pkcs8: &[u8]) -> Result<PrivateKey> {
    let key = PrivateKey::from_pkcs8_der(pkcs8).map_err(|_| corrupt_row(&row.fingerprint))?;
    if key.public_key().fingerprint() != row.fingerprint
        || key.public_key().spki_der() != row.public_key
        || key.key_type().require(row.purpose()).ok() != Some(row.spec)
    {
        return Err(corrupt_row(&row.fingerprint));
    }
    Ok(key)
}

impl Vault {
    /// Unwrap a data key row with the KMS (one call).
    pub(super) async fn unwrap_data_key(&self, row: &DataKeyRow) -> Result<DataKey> {
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

    pub(super) async fn single_data_key(&self) -> Result<Option<DataKeyRow>> {
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

    fn cached_data_key(&self) -> Result<Option<Arc<DataKey>>> {
        Ok(self
            .inner
            .data_key
            .read()
            .map_err(|_| Error::internal("lock poisoned"))?
            .clone())
    }

    /// The store's current data key: the one in memory when the store still holds it (one cheap read),
    /// otherwise — another instance sharing the store rotated it — the new one, unwrapped with one KMS
    /// call.
    pub(super) async fn sync_data_key(&self) -> Result<Arc<DataKey>> {
        let row = self.single_data_key().await?.ok_or_else(|| {
            Error::new(
                ErrorKind::WrongMode,
                "the store holds no data key any more (was it reverted to clear by another instance?)",
            )
        })?;
        if let Some(dk) = self
            .cached_data_key()?
            .filter(|dk| dk.id == row.id && dk.wrapper_key_id.as_str() == row.wrapper_key_id)
        {
            return Ok(dk);
        }
        let dk = self.unwrap_data_key(&row).await?;
        self.set_data_key(dk)
    }

    /// The PKCS#8 bytes of a non-external row: opened with the current data key when sealed (following a
    /// data-key rotation made by another instance sharing the store), as stored when clear.
    pub(super) async fn row_pkcs8(&self, row: &KeyRow) -> Result<Zeroizing<Vec<u8>>> {
        match row.data_key_id {
            Some(id) => {
                if !self.is_envelope() {
                    return Err(Error::new(
                        ErrorKind::WrongMode,
                        format!(
                            "key {} is sealed but the vault is not in envelope mode",
                            row.fingerprint
                        ),
                    ));
                }
                let dk = match self.cached_data_key()? {
                    Some(dk) if dk.id == id => dk,
                    _ => self.sync_data_key().await?,
                };
                open_row(&dk, row)
            }
            None => Ok(Zeroizing::new(
                row.data
                    .clone()
                    .ok_or_else(|| corrupt_row(&row.fingerprint))?,
            )),
        }
    }

    /// The data a new private key row gets: sealed under the current data key in envelope mode, PKCS#8
    /// otherwise; and the data key id.
    pub(super) async fn row_data(
        &self,
        key: &PrivateKey,
        purpose: Purpose,
    ) -> Result<(Vec<u8>, Option<i64>)> {
        if self.is_envelope() {
            let dk = self.sync_data_key().await?;
            let fp = key.public_key().fingerprint();
            Ok((seal(&dk, &fp, purpose, key.pkcs8_der())?, Some(dk.id)))
        } else {
            Ok((key.pkcs8_der().to_vec(), None))
        }
    }

    async fn require_envelope(&self) -> Result<Arc<DataKey>> {
        if !self.is_envelope() {
            return Err(Error::new(
                ErrorKind::WrongMode,
                format!(
                    "this needs envelope mode (private-key-store.encryption.type = kms); the vault is in {} mode",
                    self.mode_name()
                ),
            ));
        }
        self.sync_data_key().await
    }

    /// The wrapper key id recorded in the store. [`ErrorKind::WrongMode`] when the vault is not
    /// envelope-encrypted.
    pub async fn wrapper_key_id(&self) -> Result<KmsKeyId> {
        match self.single_data_key().await? {
            Some(r) => KmsKeyId::new(r.wrapper_key_id),
            None => Err(Error::new(
                ErrorKind::WrongMode,
                format!(
                    "a {} vault has no wrapper key (the store is not envelope-encrypted)",
                    self.mode_name()
                ),
            )),
        }
    }

    /// Rotate the wrapper key: use `new_id` or generate a new KMS key, re-wrap the data key (one KMS
    /// decrypt under the old key, one KMS encrypt under the new), update one row atomically. The old
    /// wrapper key is left in the KMS and remembered by the store ([`Vault::wrapper_keys`]); retire it
    /// with [`Vault::retire_wrapper_key`]. Rotating to the current key is an error.
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
            None => kms.generate_symmetric_key(Some(WRAPPER_KEY_NAME)).await?,
        };
        let wrapped = kms.encrypt_symmetric(&new_id, &raw).await?;
        let mut tx = self.inner.store.begin().await?;
        if !tx
            .rewrap_data_key(row.id, &row.wrapper_key_id, new_id.as_str(), &wrapped)
            .await?
        {
            return Err(Error::new(
                ErrorKind::StoreFailure,
                "the data key changed during rotation; try again",
            ));
        }
        let old_id = KmsKeyId::new(row.wrapper_key_id.clone())?;
        super::wrapper_keys::record_rotation(&mut tx, &old_id, &new_id).await?;
        tx.commit("committing the rotation").await?;
        self.set_data_key(DataKey {
            id: row.id,
            wrapper_key_id: new_id.clone(),
            key: AesGcmKey::new(&raw)?,
        })?;
        Ok(new_id)
    }

    /// Rotate the store data key: a fresh data key wrapped by the current wrapper key (one KMS call), and
    /// every sealed row re-sealed under it, all in one database transaction. Returns how many keys were
    /// re-sealed.
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
        tx.insert_data_key(new.id, new.wrapper_key_id.as_str(), &wrapped)
            .await?;
        let rows: Vec<_> = tx
            .list()
            .await?
            .into_iter()
            .filter(|r| r.data_key_id.is_some())
            .collect();
        let total = rows.len() as u64;
        for (i, r) in rows.iter().enumerate() {
            let pkcs8 = open_row(&current, r)?;
            let sealed = seal(&new, &r.fingerprint, r.purpose(), &pkcs8)?;
            tx.update_key_data(&r.fingerprint, &sealed, Some(new.id))
                .await?;
            self.report("re-sealing keys", i as u64 + 1, total);
        }
        tx.delete_data_keys(Some(new.id)).await?;
        tx.commit("committing the rotation").await?;
        self.set_data_key(new)?;
        Ok(total)
    }
}
