//! Managing the vault's keys: generate, import, register KMS keys, list, look up, delete, rotate.

use super::records::describe;
use super::select::{check_name, sanitized};
use super::{Active, KeyInfo, Vault, corrupt_row, not_found};
use crate::error::{Error, ErrorKind, Result};
use crate::keys::{
    Fingerprint, KeyType, PrivateKey, PublicKey, SigningKeyUsage, SigningKeyUsageSet,
};
use crate::kms::retry::{RetryConfig, wait_until_active};
use crate::kms::{KmsKeyId, KmsKeySpec, MAX_KEY_NAME_LEN};
use crate::scheme::{EncryptionKeySpec, KeySpec, Purpose, SigningKeySpec};
use crate::store::KeyRow;
use crate::util::{now_ms, rfc3339_ms};

use super::FORMAT_VERSION;

/// A caller-held key to store with [`Vault::import_private_keys`].
#[derive(Debug)]
pub struct ImportKey<'a> {
    /// The private key.
    pub key: &'a PrivateKey,
    /// Signing or encryption (the key's type must allow it).
    pub purpose: Purpose,
    /// The usage of a signing key (required for signing keys, absent for encryption keys).
    pub usage: Option<SigningKeyUsageSet>,
    /// An optional name of at most 300 characters.
    pub name: Option<&'a str>,
}

/// Wipe the clear private keys of rows made here (the stored copies were sealed from them).
fn wipe(rows: &mut [KeyRow]) {
    use zeroize::Zeroize as _;
    for r in rows {
        if let Some(d) = r.data.as_mut() {
            d.zeroize();
        }
    }
}

/// Whether a key may be rotated as a node key (Canton's `rotate_node_key`, `rotate_kms_node_key`): an
/// encryption key, or a signing key whose usage includes one of the node usages (protocol,
/// sequencer-auth). A key that only signs for the namespace (and proof of ownership) is a namespace key:
/// Canton does not rotate those as node keys — a new namespace key is made and delegated to instead.
/// The rule is decided here, once, for every path.
fn check_node_key(info: &KeyInfo) -> Result<()> {
    let Some(usage) = info.usage else {
        return Ok(());
    };
    let node_usage = usage.iter().any(|u| {
        matches!(
            u,
            SigningKeyUsage::Protocol | SigningKeyUsage::SequencerAuthentication
        )
    });
    if node_usage {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::UsageNotAllowed,
            format!(
                "key {} is a namespace key (usage {usage}): as in Canton, namespace keys are not rotated \
                 as node keys; generate or register a new namespace key and delegate to it",
                info.fingerprint
            ),
        ))
    }
}

impl Vault {
    /// Generate a signing key with `usage` (and an optional name of at most 300 characters). In external
    /// mode the key is generated in the KMS and awaited until active.
    pub async fn generate_signing_key(
        &self,
        spec: SigningKeySpec,
        usage: SigningKeyUsageSet,
        name: Option<&str>,
    ) -> Result<KeyInfo> {
        self.generate(KeySpec::Signing(spec), Some(usage), name)
            .await
    }

    /// Generate an encryption key (optional name of at most 300 characters).
    pub async fn generate_encryption_key(
        &self,
        spec: EncryptionKeySpec,
        name: Option<&str>,
    ) -> Result<KeyInfo> {
        self.generate(KeySpec::Encryption(spec), None, name).await
    }

    async fn generate(
        &self,
        spec: KeySpec,
        usage: Option<SigningKeyUsageSet>,
        name: Option<&str>,
    ) -> Result<KeyInfo> {
        self.generate_recorded(spec, usage, name, |k| format!("generate key {k}"))
            .await
    }

    /// Generate a key, recorded in the audit log as `record(<the new key>)`.
    async fn generate_recorded(
        &self,
        spec: KeySpec,
        usage: Option<SigningKeyUsageSet>,
        name: Option<&str>,
        record: impl Fn(&str) -> String,
    ) -> Result<KeyInfo> {
        check_name(name)?;
        if self.inner.mode == Active::External {
            let kms = self.kms()?;
            let id = match spec {
                KeySpec::Signing(s) => kms.generate_signing_key_pair(s, name).await?,
                KeySpec::Encryption(s) => kms.generate_encryption_key_pair(s, name).await?,
            };
            wait_until_active(kms.as_ref(), &id, &RetryConfig::default().create_key_check).await?;
            return self
                .store_external(&id, spec.purpose(), Some(spec), usage, name, false, record)
                .await;
        }
        let key = PrivateKey::generate(KeyType::from(spec))?;
        let row = self.private_row(&key, spec.purpose(), usage, name).await?;
        self.insert_one(row, "committing a new key", record).await
    }

    async fn insert_one(
        &self,
        row: KeyRow,
        what: &str,
        record: impl Fn(&str) -> String,
    ) -> Result<KeyInfo> {
        let mut rows = [row];
        let stored = self.insert_recorded(&rows, what, record).await;
        wipe(&mut rows);
        stored?
            .pop()
            .ok_or_else(|| Error::internal("no key stored"))
    }

    /// Store a caller-held private key. The purpose must fit the key type; a signing key needs a usage.
    pub async fn import_private_key(
        &self,
        key: &PrivateKey,
        purpose: Purpose,
        usage: Option<SigningKeyUsageSet>,
        name: Option<&str>,
    ) -> Result<KeyInfo> {
        let mut infos = self
            .import_private_keys(&[ImportKey {
                key,
                purpose,
                usage,
                name,
            }])
            .await?;
        infos
            .pop()
            .ok_or_else(|| Error::internal("no key imported"))
    }

    /// Store many caller-held private keys in one transaction (e.g. migrating keys from another store):
    /// either every key is stored or none is.
    pub async fn import_private_keys(&self, keys: &[ImportKey<'_>]) -> Result<Vec<KeyInfo>> {
        self.import_recorded(keys, |k| format!("import key {k}"))
            .await
    }

    /// [`Vault::import_private_keys`], each key recorded in the audit log as `record(<the key>)`.
    pub(super) async fn import_recorded(
        &self,
        keys: &[ImportKey<'_>],
        record: impl Fn(&str) -> String,
    ) -> Result<Vec<KeyInfo>> {
        if self.inner.mode == Active::External {
            return Err(Error::new(
                ErrorKind::WrongMode,
                "external mode keeps keys in the KMS: private keys cannot be imported",
            ));
        }
        let mut rows = Vec::with_capacity(keys.len());
        for k in keys {
            check_name(k.name)?;
            rows.push(self.private_row(k.key, k.purpose, k.usage, k.name).await?);
        }
        let stored = self
            .insert_recorded(&rows, "committing imported keys", record)
            .await;
        wipe(&mut rows);
        stored
    }

    /// The row of a private key made or imported here (sealed in envelope mode).
    async fn private_row(
        &self,
        key: &PrivateKey,
        purpose: Purpose,
        usage: Option<SigningKeyUsageSet>,
        name: Option<&str>,
    ) -> Result<KeyRow> {
        let spec = key.key_type().require(purpose)?;
        let usage = match purpose {
            Purpose::Signing => Some(usage.ok_or_else(|| {
                Error::new(ErrorKind::InvalidKeyUsage, "a signing key needs a usage")
            })?),
            Purpose::Encryption => None,
        };
        // Sealed (in envelope mode) when it is inserted, under the data key current once the store's
        // write lock is held.
        Ok(KeyRow {
            fingerprint: key.public_key().fingerprint(),
            name: name.map(str::to_string),
            spec,
            usage,
            format_version: FORMAT_VERSION,
            public_key: key.public_key().spki_der().to_vec(),
            data: Some(key.pkcs8_der().to_vec()),
            data_key_id: None,
            kms_key_id: None,
            created_at: now_ms(),
            rights: None,
        })
    }

    /// Register a key that already exists in the KMS (external mode; Canton's
    /// `register_kms_signing_key` / `register_kms_encryption_key`): fetch its public key, check it is a
    /// key of `purpose` — and of `expected` spec when given ([`ErrorKind::IncompatibleKey`] otherwise) —
    /// compute its fingerprint and store it with `usage` (signing keys) and `name`. Creates nothing in
    /// the KMS.
    pub async fn register_kms_key(
        &self,
        kms_key_id: &KmsKeyId,
        purpose: Purpose,
        expected: Option<KeySpec>,
        usage: Option<SigningKeyUsageSet>,
        name: Option<&str>,
    ) -> Result<KeyInfo> {
        if let Some(e) = expected.filter(|e| e.purpose() != purpose) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("the expected spec {e} is not a spec of {}", purpose.a_key()),
            ));
        }
        self.store_external(kms_key_id, purpose, expected, usage, name, true, |k| {
            format!("register KMS key {kms_key_id} as key {k}")
        })
        .await
    }

    /// Fetch a KMS key's public key and store its row, recorded as `record(<the key>)`; `check_active`
    /// is false when the caller has just waited for the key to become active (key generation), so the
    /// check is not made twice.
    #[allow(clippy::too_many_arguments)]
    async fn store_external(
        &self,
        kms_key_id: &KmsKeyId,
        purpose: Purpose,
        expected: Option<KeySpec>,
        usage: Option<SigningKeyUsageSet>,
        name: Option<&str>,
        check_active: bool,
        record: impl Fn(&str) -> String,
    ) -> Result<KeyInfo> {
        check_name(name)?;
        if self.inner.mode != Active::External {
            return Err(Error::new(
                ErrorKind::WrongMode,
                format!(
                    "registering KMS keys needs external mode (crypto.provider = kms); the vault is in {} mode",
                    self.mode_name()
                ),
            ));
        }
        if purpose == Purpose::Signing && usage.is_none() {
            return Err(Error::new(
                ErrorKind::InvalidKeyUsage,
                "a signing key needs a usage",
            ));
        }
        let kms = self.kms()?;
        if check_active {
            kms.key_exists_and_is_active(kms_key_id).await?;
        }
        let pk = kms.get_public_key(kms_key_id).await?;
        let spec = match (purpose, pk.spec) {
            (Purpose::Signing, KmsKeySpec::Signing(s)) => KeySpec::Signing(s),
            (Purpose::Encryption, KmsKeySpec::Encryption(s)) => KeySpec::Encryption(s),
            (_, got) => {
                return Err(Error::incompatible_key(format!(
                    "KMS key {kms_key_id} is a {got} key, {} was expected",
                    purpose.a_key()
                )));
            }
        };
        if let Some(want) = expected.filter(|w| *w != spec) {
            return Err(Error::incompatible_key(format!(
                "KMS key {kms_key_id} is a {spec} key, a {want} key was expected"
            )));
        }
        let row = KeyRow {
            fingerprint: pk.key.fingerprint(),
            name: name.map(str::to_string),
            spec,
            usage: usage.filter(|_| purpose == Purpose::Signing),
            format_version: FORMAT_VERSION,
            public_key: pk.key.spki_der().to_vec(),
            data: None,
            data_key_id: None,
            kms_key_id: Some(kms_key_id.as_str().to_string()),
            created_at: now_ms(),
            rights: None,
        };
        self.insert_one(row, "committing a new key", record).await
    }

    /// Every key, oldest first. A damaged row, or one whose rights fail their integrity check, is an
    /// error naming it ([`Vault::list_keys_lenient`] lists the others).
    pub async fn list_keys(&self) -> Result<Vec<KeyInfo>> {
        self.list_keys_lenient().await?.into_iter().collect()
    }

    /// Every key, oldest first, each on its own: a damaged row, or one whose rights fail their
    /// integrity check, is an error naming its fingerprint, and the other keys are listed. The outer
    /// error is a failure of the store itself.
    pub async fn list_keys_lenient(&self) -> Result<Vec<Result<KeyInfo>>> {
        let rows = self.inner.store.list_all().await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(match row {
                Ok(row) => self.checked_info(&row).await,
                Err(e) => Err(e),
            });
        }
        Ok(out)
    }

    /// A row's key, once its rights passed their integrity check.
    pub(super) async fn checked_info(&self, row: &KeyRow) -> Result<KeyInfo> {
        self.check_rights(row).await?;
        KeyInfo::from_row(row)
    }

    /// One key (its rights checked against their integrity record).
    pub async fn key_info(&self, fp: &Fingerprint) -> Result<KeyInfo> {
        let row = self
            .inner
            .store
            .get(fp)
            .await?
            .ok_or_else(|| not_found(fp))?;
        self.checked_info(&row).await
    }

    /// The public key of a key.
    pub async fn public_key(&self, fp: &Fingerprint) -> Result<PublicKey> {
        Ok(self.key_info(fp).await?.public_key)
    }

    /// Delete a key from the store (an external key stays in the KMS: destroying it there is an
    /// operator's decision, made in the KMS).
    pub async fn delete_key(&self, fp: &Fingerprint) -> Result<()> {
        let desc = self.describe_key(fp).await;
        let mut tx = self.inner.store.begin().await?;
        if !tx.delete_key(fp).await? {
            return Err(not_found(fp));
        }
        self.commit_recorded(tx, "committing a delete", &[format!("delete key {desc}")])
            .await?;
        self.inner.cache.remove(fp);
        Ok(())
    }

    /// The name of a rotated key: `<old name or fingerprint prefix>-rotated-<RFC 3339 time>`, at most
    /// 300 characters (the end is kept).
    fn rotated_name(old: &KeyInfo) -> String {
        let base = old
            .name
            .as_deref()
            .map_or_else(|| old.fingerprint.to_string()[..12].to_string(), sanitized);
        let name = format!("{base}-rotated-{}", rfc3339_ms(now_ms()));
        let n = name.chars().count();
        if n > MAX_KEY_NAME_LEN {
            name.chars().skip(n - MAX_KEY_NAME_LEN).collect()
        } else {
            name
        }
    }

    /// Rotate a node key (Canton's `rotate_node_key`): a new key of the same spec and usage, named
    /// `<old>-rotated-<time>`; the old key is kept until deleted. Namespace keys are refused
    /// ([`ErrorKind::UsageNotAllowed`]), as in Canton.
    pub async fn rotate_node_key(&self, fp: &Fingerprint) -> Result<KeyInfo> {
        let old = self.key_info(fp).await?;
        check_node_key(&old)?;
        let name = Self::rotated_name(&old);
        let from = describe(&old);
        self.generate_recorded(old.spec, old.usage, Some(&name), |k| {
            format!("rotate key {from} to new key {k}")
        })
        .await
    }

    /// Rotate a node key to a key made in the KMS beforehand (Canton's `rotate_kms_node_key`, external
    /// mode): the new KMS key is registered with the old key's purpose and usage, named `name` (none by
    /// default, as in Canton); the old key stays until deleted. Namespace keys are refused, as in Canton.
    pub async fn rotate_kms_node_key(
        &self,
        fp: &Fingerprint,
        new_kms_key_id: &KmsKeyId,
        name: Option<&str>,
    ) -> Result<KeyInfo> {
        let old = self.key_info(fp).await?;
        check_node_key(&old)?;
        if old.storage != super::Storage::External {
            return Err(Error::new(
                ErrorKind::WrongMode,
                format!("key {fp} is not a KMS key; rotate it with rotate_node_key"),
            ));
        }
        let from = describe(&old);
        self.store_external(
            new_kms_key_id,
            old.purpose(),
            None,
            old.usage,
            name,
            true,
            |k| format!("rotate key {from} to KMS key {new_kms_key_id}: key {k}"),
        )
        .await
    }

    /// The row of `fp`, which must be a key of `purpose` ([`ErrorKind::IncompatibleKey`] otherwise).
    pub(super) async fn row_with_purpose(
        &self,
        fp: &Fingerprint,
        purpose: Purpose,
    ) -> Result<KeyRow> {
        let row = self
            .inner
            .store
            .get(fp)
            .await?
            .ok_or_else(|| not_found(fp))?;
        if row.purpose() != purpose {
            return Err(Error::incompatible_key(format!(
                "key {fp} is {}, not {}",
                row.purpose().a_key(),
                purpose.a_key()
            )));
        }
        if row.purpose() == Purpose::Signing && row.usage.is_none() {
            return Err(corrupt_row(fp));
        }
        // What the key may do is checked before it does anything.
        self.check_rights(&row).await?;
        Ok(row)
    }
}
