//! Envelope encryption: the store data key (wrapped by the KMS wrapper key), sealing and opening rows,
//! the integrity records that bind every key's rights, and the wrapper-key and data-key rotations.
//!
//! # What binds a key's rights
//! Everything that decides what a key may do — purpose, key spec, usage, KMS key id — is written into
//! the row's integrity record (`rights` column), and the record is bound under a key the KMS protects:
//! * a sealed row (envelope mode): the record is part of the associated data of the sealed private key,
//!   with the fingerprint, format version and data key id;
//! * an external row (external mode): the record carries an HMAC-SHA256 tag under a key derived from the
//!   store data key, which the KMS wrapper key wraps (external stores get a data key for this alone).
//!
//! Once the record authenticates, each column is compared with it, so an edited column is named.
//!
//! Data keys made by this version carry a version marker inside the KMS-wrapped plaintext. A store whose
//! data key has none (written before the records existed, format version 1 rows) is upgraded when an
//! active instance opens it: a data-key rotation re-seals every row with its record, in one transaction.
//! The marker cannot be removed without the KMS, so an upgraded store never accepts an unbound row again.

use std::sync::Arc;

use zeroize::Zeroizing;

use super::{Vault, corrupt_row};
use crate::error::{Error, ErrorKind, Result};
use crate::keys::{Fingerprint, PrivateKey, SigningKeyUsageSet};
use crate::kms::KmsKeyId;
use crate::primitives::{AesGcmKey, hkdf_sha256, hmac_sha256, hmac_sha256_verify, random_bytes};
use crate::scheme::{KeySpec, Purpose};
use crate::store::{DataKeyRow, KeyRow, Tx};

/// The name given to the KMS keys the vault creates as wrapper keys.
pub(super) const WRAPPER_KEY_NAME: &str = "tresor-wrapper-key";

/// Format version 1: PKCS#8 sealed with the fingerprint, purpose, format version and data key id as
/// associated data (no integrity record).
pub(super) const FORMAT_V1: i64 = 1;
/// Format version 2: PKCS#8 sealed with the fingerprint, format version, data key id and the integrity
/// record as associated data.
pub(super) const FORMAT_V2: i64 = 2;

const SEAL_AAD_V1: &[u8] = b"tresor-key-row-v1\0";
const SEAL_AAD_V2: &[u8] = b"tresor-key-row-v2\0";
const RIGHTS_PREFIX: &[u8] = b"tresor-rights-v1\0";
const RIGHTS_MAC_INFO: &[u8] = b"tresor external row rights mac v1";
/// What a data key of this version wraps: this marker, then the 32-byte key.
const DATA_KEY_V2: &[u8] = b"tresor-data-key-v2\0";
/// How many times a write starts over after another process changed the data key under it.
const MAX_ATTEMPTS: usize = 100;

/// An unwrapped store data key.
pub(crate) struct DataKey {
    pub(super) id: i64,
    pub(super) wrapper_key_id: KmsKeyId,
    pub(super) key: AesGcmKey,
    /// The key for the tags of external rows' integrity records.
    mac_key: Zeroizing<Vec<u8>>,
    /// Whether the data key carries the version marker (rows bound with integrity records).
    pub(super) binds_rights: bool,
    /// What the KMS wraps.
    plaintext: Zeroizing<Vec<u8>>,
}

impl DataKey {
    /// A fresh data key with the version marker.
    fn generate(id: i64, wrapper_key_id: KmsKeyId) -> Result<Self> {
        let mut pt = Zeroizing::new(DATA_KEY_V2.to_vec());
        let mut raw = Zeroizing::new([0u8; 32]);
        random_bytes(raw.as_mut())?;
        pt.extend_from_slice(raw.as_ref());
        Self::from_plaintext(id, wrapper_key_id, pt)
    }

    /// The data key a KMS unwrap gave back: 32 bytes (a data key from before integrity records), or
    /// the version marker and 32 bytes.
    fn from_plaintext(id: i64, wrapper_key_id: KmsKeyId, pt: Zeroizing<Vec<u8>>) -> Result<Self> {
        let (raw, binds_rights) = if pt.len() == 32 {
            (&pt[..], false)
        } else if pt.len() == DATA_KEY_V2.len() + 32 && pt.starts_with(DATA_KEY_V2) {
            (&pt[DATA_KEY_V2.len()..], true)
        } else {
            return Err(Error::new(
                ErrorKind::StoreCorrupted,
                format!(
                    "the store data key unwrapped under {wrapper_key_id} has an unknown format"
                ),
            ));
        };
        let key = AesGcmKey::new(raw)?;
        let mac_key = hkdf_sha256(&[], raw, RIGHTS_MAC_INFO, 32)?;
        Ok(Self {
            id,
            wrapper_key_id,
            key,
            mac_key,
            binds_rights,
            plaintext: pt,
        })
    }
}

/// What a row says the key may do.
pub(super) struct Rights<'a> {
    pub(super) fingerprint: &'a Fingerprint,
    pub(super) spec: KeySpec,
    pub(super) usage: Option<SigningKeyUsageSet>,
    pub(super) kms_key_id: Option<&'a str>,
}

impl<'a> Rights<'a> {
    pub(super) fn of(row: &'a KeyRow) -> Self {
        Self {
            fingerprint: &row.fingerprint,
            spec: row.spec,
            usage: row.usage,
            kms_key_id: row.kms_key_id.as_deref(),
        }
    }

    /// The integrity record: purpose, key spec, usage and KMS key id, each length-prefixed.
    fn record(&self) -> Vec<u8> {
        let mut r = RIGHTS_PREFIX.to_vec();
        r.push(self.spec.purpose() as u8);
        let mut field = |v: Option<&str>| match v {
            None => r.push(0),
            Some(s) => {
                r.push(1);
                r.extend_from_slice(&(s.len() as u32).to_be_bytes());
                r.extend_from_slice(s.as_bytes());
            }
        };
        field(Some(self.spec.as_str()));
        field(self.usage.map(|u| u.to_string()).as_deref());
        field(self.kms_key_id);
        r
    }
}

/// The fields of an integrity record: (purpose byte, spec, usage, KMS key id).
type Record = (u8, Option<String>, Option<String>, Option<String>);

fn parse_record(r: &[u8]) -> Option<Record> {
    let mut rest = r.strip_prefix(RIGHTS_PREFIX)?;
    let (&purpose, tail) = rest.split_first()?;
    rest = tail;
    let mut field = || -> Option<Option<String>> {
        let (&flag, tail) = rest.split_first()?;
        rest = tail;
        match flag {
            0 => Some(None),
            1 => {
                let (len, tail) = rest.split_first_chunk::<4>()?;
                let len = u32::from_be_bytes(*len) as usize;
                if tail.len() < len {
                    return None;
                }
                let (s, tail) = tail.split_at(len);
                rest = tail;
                Some(Some(String::from_utf8(s.to_vec()).ok()?))
            }
            _ => None,
        }
    };
    let spec = field()?;
    let usage = field()?;
    let kms = field()?;
    rest.is_empty().then_some((purpose, spec, usage, kms))
}

/// Compare every column of `row` with its authenticated record; the first that differs is named.
fn check_record(row: &KeyRow, record: &[u8]) -> Result<()> {
    let fp = &row.fingerprint;
    let Some((purpose, spec, usage, kms)) = parse_record(record) else {
        return Err(Error::new(
            ErrorKind::StoreCorrupted,
            format!("key {fp} failed its integrity check: its integrity record does not parse"),
        ));
    };
    let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
    let mismatch = |column: &str, stored: String, bound: String| {
        Error::new(
            ErrorKind::StoreCorrupted,
            format!(
                "key {fp} failed its integrity check: column {column} is '{stored}' in the store but \
                 '{bound}' in the key's integrity record (row altered); the key is refused"
            ),
        )
    };
    if purpose != row.purpose() as u8 {
        let bound = match purpose {
            0 => "signing",
            1 => "encryption",
            _ => "unknown",
        };
        return Err(mismatch(
            "purpose",
            row.purpose().as_str().into(),
            bound.into(),
        ));
    }
    if spec.as_deref() != Some(row.spec.as_str()) {
        return Err(mismatch("key_spec", row.spec.as_str().into(), shown(&spec)));
    }
    let stored_usage = row.usage.map(|u| u.to_string());
    if usage != stored_usage {
        return Err(mismatch("usage", shown(&stored_usage), shown(&usage)));
    }
    if kms != row.kms_key_id {
        return Err(mismatch("kms_key_id", shown(&row.kms_key_id), shown(&kms)));
    }
    Ok(())
}

fn seal_aad_v1(fp: &Fingerprint, purpose: Purpose, data_key_id: i64) -> Vec<u8> {
    let mut a = Vec::with_capacity(SEAL_AAD_V1.len() + 34 + 1 + 16);
    a.extend_from_slice(SEAL_AAD_V1);
    a.extend_from_slice(fp.as_bytes());
    a.push(purpose as u8);
    a.extend_from_slice(&FORMAT_V1.to_be_bytes());
    a.extend_from_slice(&data_key_id.to_be_bytes());
    a
}

fn seal_aad_v2(fp: &Fingerprint, data_key_id: i64, record: &[u8]) -> Vec<u8> {
    let mut a = Vec::with_capacity(SEAL_AAD_V2.len() + 34 + 16 + record.len());
    a.extend_from_slice(SEAL_AAD_V2);
    a.extend_from_slice(fp.as_bytes());
    a.extend_from_slice(&FORMAT_V2.to_be_bytes());
    a.extend_from_slice(&data_key_id.to_be_bytes());
    a.extend_from_slice(record);
    a
}

/// A sealed private key: the blob, its format version and the integrity record.
pub(super) struct Sealed {
    pub(super) data: Vec<u8>,
    pub(super) format_version: i64,
    pub(super) rights: Option<Vec<u8>>,
}

/// Seal `pkcs8` for the row `rights` describes: bound to its integrity record under a data key of this
/// version, in the old format under a data key from before the records (a store not upgraded yet).
pub(super) fn seal(dk: &DataKey, rights: &Rights<'_>, pkcs8: &[u8]) -> Result<Sealed> {
    if dk.binds_rights {
        let record = rights.record();
        let data = dk
            .key
            .encrypt(pkcs8, &seal_aad_v2(rights.fingerprint, dk.id, &record))?;
        Ok(Sealed {
            data,
            format_version: FORMAT_V2,
            rights: Some(record),
        })
    } else {
        let data = dk.key.encrypt(
            pkcs8,
            &seal_aad_v1(rights.fingerprint, rights.spec.purpose(), dk.id),
        )?;
        Ok(Sealed {
            data,
            format_version: FORMAT_V1,
            rights: None,
        })
    }
}

/// The integrity record of an external row, with its tag.
pub(super) fn external_rights(dk: &DataKey, rights: &Rights<'_>) -> Vec<u8> {
    let mut record = rights.record();
    let tag = hmac_sha256(&dk.mac_key, &mac_input(rights.fingerprint, &record));
    record.extend_from_slice(&tag);
    record
}

fn mac_input(fp: &Fingerprint, record: &[u8]) -> Vec<u8> {
    let mut m = fp.as_bytes().to_vec();
    m.extend_from_slice(record);
    m
}

/// Check an external row's integrity record (tag, then every column).
pub(super) fn check_external(dk: &DataKey, row: &KeyRow) -> Result<()> {
    let fp = &row.fingerprint;
    let Some(stored) = row.rights.as_deref() else {
        return Err(Error::new(
            ErrorKind::StoreCorrupted,
            format!(
                "key {fp} failed its integrity check: it has no integrity record (row altered)"
            ),
        ));
    };
    let Some((record, tag)) = stored.split_last_chunk::<32>() else {
        return Err(corrupt_row(fp));
    };
    hmac_sha256_verify(&dk.mac_key, &mac_input(fp, record), tag).map_err(|_| {
        Error::new(
            ErrorKind::StoreCorrupted,
            format!(
                "key {fp} failed its integrity check: its integrity record is not authentic (row \
                 altered or moved)"
            ),
        )
    })?;
    check_record(row, record)
}

pub(super) fn open_row(dk: &DataKey, row: &KeyRow) -> Result<Zeroizing<Vec<u8>>> {
    let fp = &row.fingerprint;
    let data = row.data.as_deref().ok_or_else(|| corrupt_row(fp))?;
    if row.data_key_id != Some(dk.id) {
        return Err(Error::new(
            ErrorKind::StoreCorrupted,
            format!("key {fp} is sealed under a data key this store does not hold"),
        ));
    }
    if !dk.binds_rights {
        if row.format_version != FORMAT_V1 {
            return Err(corrupt_row(fp));
        }
        return dk
            .key
            .decrypt(data, &seal_aad_v1(fp, row.purpose(), dk.id))
            .map_err(|_| corrupt_row(fp));
    }
    if row.format_version != FORMAT_V2 {
        return Err(Error::new(
            ErrorKind::StoreCorrupted,
            format!(
                "key {fp} failed its integrity check: column format_version is {} but this store \
                 only holds format {FORMAT_V2} rows (row altered)",
                row.format_version
            ),
        ));
    }
    let Some(record) = row.rights.as_deref() else {
        return Err(Error::new(
            ErrorKind::StoreCorrupted,
            format!(
                "key {fp} failed its integrity check: it has no integrity record (row altered)"
            ),
        ));
    };
    let pkcs8 = dk
        .key
        .decrypt(data, &seal_aad_v2(fp, dk.id, record))
        .map_err(|_| {
            Error::new(
                ErrorKind::StoreCorrupted,
                format!(
                    "key {fp} failed its integrity check: its sealed data does not match its fingerprint, \
                     data key or integrity record (row altered or moved)"
                ),
            )
        })?;
    check_record(row, record)?;
    Ok(pkcs8)
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

/// Whether a transaction still sees `dk` as the store's one data key (it holds the write lock, so what
/// it sees is what its rows will be committed under).
pub(super) async fn still_current(tx: &mut Tx, dk: &DataKey) -> Result<bool> {
    let dks = tx.data_keys().await?;
    Ok(dks.len() == 1 && dks[0].id == dk.id && dks[0].wrapper_key_id == dk.wrapper_key_id.as_str())
}

fn changed_too_often() -> Error {
    Error::new(
        ErrorKind::StoreFailure,
        format!(
            "the store data key changed {MAX_ATTEMPTS} times while this operation waited for it; try again"
        ),
    )
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
                } else if e.kind() == ErrorKind::KmsKeyNotFound {
                    // The store names a wrapper key the configured KMS does not have: most often a store
                    // created with another KMS (a store is bound to the KMS that wraps its data key).
                    e.context(format!(
                        "the store's data key is wrapped by KMS key {wrapper}, which the configured KMS \
                         does not have (was the store created with another KMS?)"
                    ))
                } else {
                    e
                }
            })?;
        DataKey::from_plaintext(row.id, wrapper, raw)
    }

    /// A new data key (with the version marker) wrapped under `wrapper`: the key and its wrapped form.
    pub(super) async fn new_data_key(
        &self,
        id: i64,
        wrapper: KmsKeyId,
    ) -> Result<(DataKey, Vec<u8>)> {
        let dk = DataKey::generate(id, wrapper)?;
        let wrapped = self
            .kms()?
            .encrypt_symmetric(&dk.wrapper_key_id, &dk.plaintext)
            .await?;
        Ok((dk, wrapped))
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

    pub(super) fn cached_data_key(&self) -> Result<Option<Arc<DataKey>>> {
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

    /// The data key a row was bound under: the one in memory when its id matches, else the store's.
    async fn data_key_for(&self, id: Option<i64>) -> Result<Arc<DataKey>> {
        match self.cached_data_key()? {
            Some(dk) if id.is_none_or(|id| id == dk.id) => Ok(dk),
            _ => self.sync_data_key().await,
        }
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
                let dk = self.data_key_for(Some(id)).await?;
                open_row(&dk, row)
            }
            None => Ok(Zeroizing::new(
                row.data
                    .clone()
                    .ok_or_else(|| corrupt_row(&row.fingerprint))?,
            )),
        }
    }

    /// Check that a row's rights are the ones bound under the KMS-protected key: a sealed row's
    /// integrity record opens with its sealed data, an external row's record carries a valid tag. Clear
    /// rows (clear mode) and rows of a store not upgraded yet have nothing to check.
    pub(super) async fn check_rights(&self, row: &KeyRow) -> Result<()> {
        if row.data_key_id.is_some() {
            self.row_pkcs8(row).await.map(drop)
        } else if row.kms_key_id.is_some() {
            // An external store binds its rows once it has a data key (made by the first active
            // instance whose KMS can wrap one); before that there is nothing to check against.
            if self.single_data_key().await?.is_none() {
                return Ok(());
            }
            let dk = self.data_key_for(None).await?;
            check_external(&dk, row)
        } else {
            Ok(())
        }
    }

    /// Begin a write transaction under the store's current data key (`None` when `needs_data_key` is
    /// false, in clear mode): when another process changed the data key between reading it and taking
    /// the write lock, the transaction is dropped and both are taken again. Once it returns, the data
    /// key cannot change before the transaction ends.
    pub(super) async fn begin_under_data_key(
        &self,
        needs_data_key: bool,
    ) -> Result<(Tx, Option<Arc<DataKey>>)> {
        for _ in 0..MAX_ATTEMPTS {
            let dk = if needs_data_key {
                Some(self.sync_data_key().await?)
            } else {
                None
            };
            let mut tx = self.inner.store.begin().await?;
            if let Some(dk) = &dk
                && !still_current(&mut tx, dk).await?
            {
                continue;
            }
            return Ok((tx, dk));
        }
        Err(changed_too_often())
    }

    /// Begin a write transaction and bind new rows under the store's data key current under its lock:
    /// a private key (clear PKCS#8 in the row) is sealed with its rights in envelope mode, an external
    /// row's rights get their tag when the store has a data key. The clear copies are wiped.
    pub(super) async fn bind_rows(&self, rows: &[KeyRow]) -> Result<(Tx, Vec<KeyRow>)> {
        use zeroize::Zeroize as _;
        let external = rows.iter().any(|r| r.kms_key_id.is_some());
        let mut needs = if external {
            self.single_data_key().await?.is_some()
        } else {
            self.is_envelope()
        };
        for _ in 0..MAX_ATTEMPTS {
            let (mut tx, dk) = self.begin_under_data_key(needs).await?;
            if dk.is_none() && external && !tx.data_keys().await?.is_empty() {
                // An active instance made the data key meanwhile.
                needs = true;
                continue;
            }
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let mut row = row.clone();
                match dk.as_deref() {
                    Some(dk) if row.kms_key_id.is_some() => {
                        row.rights = Some(external_rights(dk, &Rights::of(&row)));
                    }
                    Some(dk) => {
                        if let Some(mut clear) = row.data.take() {
                            let sealed = seal(dk, &Rights::of(&row), &clear);
                            clear.zeroize();
                            let sealed = sealed?;
                            row.data = Some(sealed.data);
                            row.data_key_id = Some(dk.id);
                            row.format_version = sealed.format_version;
                            row.rights = sealed.rights;
                        }
                    }
                    None => {}
                }
                out.push(row);
            }
            return Ok((tx, out));
        }
        Err(changed_too_often())
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
        match self.single_data_key().await?.filter(|_| self.is_envelope()) {
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
    /// with [`Vault::retire_wrapper_key`]. Rotating to the current key is an error. When another process
    /// rotates a key meanwhile, the rotation starts over on the store's new data key.
    pub async fn rotate_wrapper_key(&self, new_id: Option<KmsKeyId>) -> Result<KmsKeyId> {
        self.require_envelope().await?;
        let _w = self.inner.write_lock.lock().await;
        let kms = self.kms()?;
        let mut new_id = new_id;
        for _ in 0..MAX_ATTEMPTS {
            let current = self.require_envelope().await?;
            if new_id.as_ref() == Some(&current.wrapper_key_id) {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("wrapper key {} is already in use", current.wrapper_key_id),
                ));
            }
            let Some(row) = self.single_data_key().await?.filter(|r| r.id == current.id) else {
                continue;
            };
            let raw = kms
                .decrypt_symmetric(&current.wrapper_key_id, &row.wrapped_key)
                .await?;
            let target = match &new_id {
                Some(id) => id.clone(),
                None => {
                    let id = kms.generate_symmetric_key(Some(WRAPPER_KEY_NAME)).await?;
                    new_id = Some(id.clone());
                    id
                }
            };
            let wrapped = kms.encrypt_symmetric(&target, &raw).await?;
            let mut tx = self.inner.store.begin().await?;
            if !still_current(&mut tx, &current).await?
                || !tx
                    .rewrap_data_key(
                        current.id,
                        current.wrapper_key_id.as_str(),
                        target.as_str(),
                        &wrapped,
                    )
                    .await?
            {
                continue;
            }
            super::wrapper_keys::record_rotation(&mut tx, &current.wrapper_key_id, &target).await?;
            tx.commit("committing the rotation").await?;
            self.set_data_key(DataKey::from_plaintext(current.id, target.clone(), raw)?)?;
            return Ok(target);
        }
        Err(changed_too_often())
    }

    /// Rotate the store data key: a fresh data key wrapped by the current wrapper key (one KMS call), and
    /// every sealed row re-sealed under it, all in one database transaction. Returns how many keys were
    /// re-sealed. A rotation made by another process meanwhile makes this one start over on the new
    /// key; a damaged row stops it (named in the error), leaving the store as it was.
    pub async fn rotate_data_key(&self) -> Result<u64> {
        if !self.is_envelope() {
            self.require_envelope().await?;
        }
        let _w = self.inner.write_lock.lock().await;
        self.rotate_data_key_locked("re-sealing keys").await
    }

    /// [`Vault::rotate_data_key`] with the in-process write lock held; `label` names the progress.
    pub(super) async fn rotate_data_key_locked(&self, label: &'static str) -> Result<u64> {
        for _ in 0..MAX_ATTEMPTS {
            let current = self.sync_data_key().await?;
            let (new, wrapped) = self
                .new_data_key(current.id + 1, current.wrapper_key_id.clone())
                .await?;
            let mut tx = self.inner.store.begin().await?;
            if !still_current(&mut tx, &current).await? {
                continue;
            }
            tx.insert_data_key(new.id, new.wrapper_key_id.as_str(), &wrapped)
                .await?;
            let rows = tx.list_sealed().await?;
            let total = rows.len() as u64;
            for (i, r) in rows.iter().enumerate() {
                let pkcs8 = open_row(&current, r)?;
                let sealed = seal(&new, &Rights::of(r), &pkcs8)?;
                tx.update_key_data(
                    &r.fingerprint,
                    &sealed.data,
                    Some(new.id),
                    sealed.format_version,
                    sealed.rights.as_deref(),
                )
                .await?;
                self.report(label, i as u64 + 1, total);
            }
            tx.delete_data_keys(Some(new.id)).await?;
            tx.commit("committing the rotation").await?;
            self.set_data_key(new)?;
            return Ok(total);
        }
        Err(changed_too_often())
    }
}
