//! Old wrapper keys: the store remembers every wrapper key it stopped using (in `tresor_meta`, written in
//! the same transaction as the rotation), lists them, and retires them in the KMS — disabled
//! ([`KmsDriver::disable_key`](crate::kms::KmsDriver::disable_key)) or deleted
//! ([`KmsDriver::delete_key`](crate::kms::KmsDriver::delete_key), which schedules the deletion where the
//! KMS has a waiting period). A key that the store still uses (it wraps a data key, or it is the KMS key
//! of a key row) is never retired.

use core::fmt;

use serde_json::{Value, json};

use super::Vault;
use crate::error::{Error, ErrorKind, Result};
use crate::kms::KmsKeyId;
use crate::store::Tx;
use crate::util::now_ms;

/// The `tresor_meta` name prefix of the wrapper-key history.
const HISTORY_PREFIX: &str = "wrapper-key:";

/// Where a wrapper key stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WrapperKeyState {
    /// It wraps the store's data key now.
    InUse,
    /// Replaced by a rotation, still enabled in the KMS.
    Previous,
    /// Replaced, and disabled in the KMS by [`Vault::retire_wrapper_key`].
    Disabled,
    /// Replaced, and deleted (or its deletion scheduled) in the KMS by [`Vault::retire_wrapper_key`].
    Deleted,
}

impl WrapperKeyState {
    /// The name used in the CLI's output and in the store (`in-use`, `previous`, `disabled`, `deleted`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InUse => "in-use",
            Self::Previous => "previous",
            Self::Disabled => "disabled",
            Self::Deleted => "deleted",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "previous" => Self::Previous,
            "disabled" => Self::Disabled,
            "deleted" => Self::Deleted,
            _ => return None,
        })
    }
}

impl fmt::Display for WrapperKeyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What [`Vault::retire_wrapper_key`] does to an old wrapper key in the KMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetireAction {
    /// Disable it: it stays in the KMS and can be enabled again with the provider's tools.
    Disable,
    /// Delete it: AWS schedules the deletion (7 days), GCP schedules the destruction of the version,
    /// the software KMS and PKCS#11 tokens delete it at once.
    Delete,
}

/// A wrapper key the store uses or used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrapperKeyInfo {
    /// The KMS key id.
    pub kms_key_id: KmsKeyId,
    /// Where it stands.
    pub state: WrapperKeyState,
    /// When a rotation replaced it (ms since the Unix epoch); `None` for the key in use.
    pub replaced_at_ms: Option<i64>,
    /// When it was retired (ms since the Unix epoch).
    pub retired_at_ms: Option<i64>,
}

fn history_name(id: &str) -> String {
    format!("{HISTORY_PREFIX}{id}")
}

fn corrupt(name: &str) -> Error {
    Error::new(
        ErrorKind::StoreCorrupted,
        format!("store metadata '{name}' is not a wrapper-key record"),
    )
}

fn parse_record(name: &str, value: &str) -> Result<WrapperKeyInfo> {
    let id = name
        .strip_prefix(HISTORY_PREFIX)
        .ok_or_else(|| corrupt(name))?;
    let v: Value = serde_json::from_str(value).map_err(|_| corrupt(name))?;
    let state = v
        .get("state")
        .and_then(Value::as_str)
        .and_then(WrapperKeyState::parse)
        .ok_or_else(|| corrupt(name))?;
    Ok(WrapperKeyInfo {
        kms_key_id: KmsKeyId::new(id).map_err(|_| corrupt(name))?,
        state,
        replaced_at_ms: v.get("replaced_at_ms").and_then(Value::as_i64),
        retired_at_ms: v.get("retired_at_ms").and_then(Value::as_i64),
    })
}

fn record(info: &WrapperKeyInfo) -> String {
    json!({
        "state": info.state.as_str(),
        "replaced_at_ms": info.replaced_at_ms,
        "retired_at_ms": info.retired_at_ms,
    })
    .to_string()
}

/// Inside a rotation's transaction: `old` is replaced (remembered as `previous`) and `new` is in use
/// (forgotten from the history if it was an old key).
pub(super) async fn record_rotation(tx: &mut Tx, old: &KmsKeyId, new: &KmsKeyId) -> Result<()> {
    tx.delete_meta(&history_name(new.as_str())).await?;
    let info = WrapperKeyInfo {
        kms_key_id: old.clone(),
        state: WrapperKeyState::Previous,
        replaced_at_ms: Some(now_ms()),
        retired_at_ms: None,
    };
    tx.put_meta(&history_name(old.as_str()), &record(&info))
        .await
}

impl Vault {
    /// The wrapper keys of the store: the one in use first (envelope mode), then the ones rotations
    /// replaced, most recently replaced first, with what became of them. No KMS call.
    pub async fn wrapper_keys(&self) -> Result<Vec<WrapperKeyInfo>> {
        let mut out = Vec::new();
        if let Some(row) = self.single_data_key().await? {
            out.push(WrapperKeyInfo {
                kms_key_id: KmsKeyId::new(row.wrapper_key_id)?,
                state: WrapperKeyState::InUse,
                replaced_at_ms: None,
                retired_at_ms: None,
            });
        }
        let mut old = Vec::new();
        for (name, value) in self.inner.store.meta_with_prefix(HISTORY_PREFIX).await? {
            let info = parse_record(&name, &value)?;
            if !out.iter().any(|k| k.kms_key_id == info.kms_key_id) {
                old.push(info);
            }
        }
        old.sort_by_key(|k| std::cmp::Reverse(k.replaced_at_ms));
        out.extend(old);
        Ok(out)
    }

    /// Retire an old wrapper key in the KMS: disable or delete it (see [`RetireAction`]). Only a key
    /// that a rotation of this store replaced can be retired, and never one the store still uses: one
    /// that wraps a data key (another instance may have rotated back to it), or the KMS key of a key row
    /// — those are refused with [`ErrorKind::InvalidArgument`] and nothing is sent to the KMS. Retiring a
    /// key again the same way does nothing; a disabled key can still be deleted.
    pub async fn retire_wrapper_key(&self, id: &KmsKeyId, action: RetireAction) -> Result<()> {
        let kms = self.kms()?.clone();
        let _w = self.inner.write_lock.lock().await;
        let name = history_name(id.as_str());
        let known = self
            .inner
            .store
            .meta_with_prefix(&name)
            .await?
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(n, v)| parse_record(&n, &v))
            .transpose()?;
        // The check reads in a transaction of its own, ended before the KMS call (a read transaction
        // held across it could not be turned into a write on SQLite once another writer committed).
        let mut check = self.inner.store.begin().await?;
        let in_use = check.kms_key_in_use(id.as_str()).await?;
        drop(check);
        if in_use {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "KMS key {id} is in use by this store (it wraps the data key, or a key is held in it); \
                     it cannot be retired"
                ),
            ));
        }
        let Some(mut info) = known else {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "KMS key {id} is not an old wrapper key of this store ('tresor wrapper-key list' shows \
                     them); only keys a wrapper-key rotation replaced can be retired"
                ),
            ));
        };
        let target = match action {
            RetireAction::Disable => WrapperKeyState::Disabled,
            RetireAction::Delete => WrapperKeyState::Deleted,
        };
        if info.state == target
            || (info.state == WrapperKeyState::Deleted && target == WrapperKeyState::Disabled)
        {
            return Ok(());
        }
        match action {
            RetireAction::Disable => kms.disable_key(id).await?,
            RetireAction::Delete => kms.delete_key(id).await?,
        }
        info.state = target;
        info.retired_at_ms = Some(now_ms());
        let mut tx = self.inner.store.begin().await?;
        tx.put_meta(&name, &record(&info)).await?;
        tx.commit("recording the retired wrapper key").await
    }
}
