//! Using the vault's keys: sign and decrypt (with the cache of prepared keys), verify and encrypt.

use std::sync::Arc;

use zeroize::Zeroizing;

use super::cache::CachedKey;
use super::envelope::private_from_row;
use super::{Vault, corrupt_row};
use crate::error::{Error, ErrorKind, Result};
use crate::keys::{Fingerprint, SigningKeyUsageSet};
use crate::kms::KmsKeyId;
use crate::primitives::{Decrypter, Encrypter, Signer, Verifier};
use crate::scheme::{EncryptionAlgorithmSpec, KeySpec, Purpose, SigningAlgorithmSpec};
use crate::store::KeyRow;

fn usage_error(
    fp: &Fingerprint,
    key_usage: SigningKeyUsageSet,
    usage: SigningKeyUsageSet,
) -> Error {
    Error::new(
        ErrorKind::UsageNotAllowed,
        format!("key {fp} has usage {key_usage}, which does not allow {usage}"),
    )
}

fn sign_prepared(
    key: &CachedKey,
    fp: &Fingerprint,
    msg: &[u8],
    usage: SigningKeyUsageSet,
    algo: Option<SigningAlgorithmSpec>,
) -> Result<Vec<u8>> {
    match key {
        CachedKey::Signer {
            signer,
            spec,
            usage: key_usage,
        } => {
            if !key_usage.intersects(usage) {
                return Err(usage_error(fp, *key_usage, usage));
            }
            signer.sign(spec.algorithm(algo)?, msg)
        }
        CachedKey::Decrypter { .. } => Err(Error::incompatible_key(format!(
            "key {fp} is an encryption key, not a signing key"
        ))),
    }
}

fn decrypt_prepared(
    key: &CachedKey,
    fp: &Fingerprint,
    ciphertext: &[u8],
    algo: Option<EncryptionAlgorithmSpec>,
) -> Result<Zeroizing<Vec<u8>>> {
    match key {
        CachedKey::Decrypter { decrypter, spec } => {
            decrypter.decrypt(spec.algorithm(algo)?, ciphertext)
        }
        CachedKey::Signer { .. } => Err(Error::incompatible_key(format!(
            "key {fp} is a signing key, not an encryption key"
        ))),
    }
}

/// The audit line of a signature by fingerprint (no message, no signature).
fn sign_record(
    fp: &Fingerprint,
    usage: SigningKeyUsageSet,
    algo: Option<SigningAlgorithmSpec>,
    len: usize,
) -> String {
    format!(
        "sign with key {fp} for usage {usage}, algorithm {}, {len} bytes",
        algo.map_or("default", SigningAlgorithmSpec::as_str)
    )
}

/// The audit line of a decryption by fingerprint (no ciphertext, no plaintext).
fn decrypt_record(fp: &Fingerprint, algo: Option<EncryptionAlgorithmSpec>, len: usize) -> String {
    format!(
        "decrypt with key {fp}, algorithm {}, {len} bytes of ciphertext",
        algo.map_or("default", EncryptionAlgorithmSpec::as_str)
    )
}

impl Vault {
    /// Open a non-external row's private key, prepare it and put it in the cache.
    async fn load_into_cache(&self, row: &KeyRow) -> Result<Arc<CachedKey>> {
        let pkcs8 = self.row_pkcs8(row).await?;
        let key = private_from_row(row, &pkcs8)?;
        let prepared = match row.spec {
            KeySpec::Signing(spec) => CachedKey::Signer {
                spec,
                usage: row.usage.ok_or_else(|| corrupt_row(&row.fingerprint))?,
                signer: Signer::new(key)?,
            },
            KeySpec::Encryption(spec) => CachedKey::Decrypter {
                spec,
                decrypter: Decrypter::new(key)?,
            },
        };
        Ok(self.inner.cache.insert(row.fingerprint, prepared))
    }

    /// Sign `msg` with the key `fp` for one of the usages in `usage` ([`ErrorKind::UsageNotAllowed`]
    /// when the key's usage does not overlap). `algo` defaults to the key spec's default algorithm.
    ///
    /// A key already in the cache is used without touching the store; otherwise its row is read (and, in
    /// envelope mode, opened) once and cached. An external key signs in the KMS.
    pub async fn sign(
        &self,
        fp: &Fingerprint,
        msg: &[u8],
        usage: SigningKeyUsageSet,
        algo: Option<SigningAlgorithmSpec>,
    ) -> Result<Vec<u8>> {
        if let Some(k) = self.inner.cache.get(fp) {
            let r = sign_prepared(&k, fp, msg, usage, algo);
            return self.record_use(r, || sign_record(fp, usage, algo, msg.len()));
        }
        // The slow path's future (store and KMS I/O) is large; boxing it keeps this future small, so the
        // warm-cache path costs what the signature costs.
        let r = Box::pin(self.sign_uncached(fp, msg, usage, algo)).await;
        self.record_use(r, || sign_record(fp, usage, algo, msg.len()))
    }

    async fn sign_uncached(
        &self,
        fp: &Fingerprint,
        msg: &[u8],
        usage: SigningKeyUsageSet,
        algo: Option<SigningAlgorithmSpec>,
    ) -> Result<Vec<u8>> {
        let row = self.row_with_purpose(fp, Purpose::Signing).await?;
        let key_usage = row.usage.ok_or_else(|| corrupt_row(fp))?;
        if !key_usage.intersects(usage) {
            return Err(usage_error(fp, key_usage, usage));
        }
        if let (Some(id), KeySpec::Signing(spec)) = (&row.kms_key_id, row.spec) {
            let algo = spec.algorithm(algo)?;
            return self
                .kms()?
                .sign(&KmsKeyId::new(id.clone())?, msg, algo)
                .await;
        }
        let k = self.load_into_cache(&row).await?;
        sign_prepared(&k, fp, msg, usage, algo)
    }

    /// Sign using only the cache, with no I/O and no await: `None` when the key is not cached (then call
    /// [`Vault::sign`]). The blocking API uses this as its fast path.
    pub fn try_sign_cached(
        &self,
        fp: &Fingerprint,
        msg: &[u8],
        usage: SigningKeyUsageSet,
        algo: Option<SigningAlgorithmSpec>,
    ) -> Option<Result<Vec<u8>>> {
        let k = self.inner.cache.get(fp)?;
        let r = sign_prepared(&k, fp, msg, usage, algo);
        Some(self.record_use(r, || sign_record(fp, usage, algo, msg.len())))
    }

    /// Decrypt a ciphertext in Canton's format with the key `fp`. `algo` defaults to the key spec's
    /// default algorithm. An external key decrypts in the KMS.
    pub async fn decrypt(
        &self,
        fp: &Fingerprint,
        ciphertext: &[u8],
        algo: Option<EncryptionAlgorithmSpec>,
    ) -> Result<Zeroizing<Vec<u8>>> {
        if let Some(k) = self.inner.cache.get(fp) {
            let r = decrypt_prepared(&k, fp, ciphertext, algo);
            return self.record_use(r, || decrypt_record(fp, algo, ciphertext.len()));
        }
        let r = Box::pin(self.decrypt_uncached(fp, ciphertext, algo)).await;
        self.record_use(r, || decrypt_record(fp, algo, ciphertext.len()))
    }

    async fn decrypt_uncached(
        &self,
        fp: &Fingerprint,
        ciphertext: &[u8],
        algo: Option<EncryptionAlgorithmSpec>,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let row = self.row_with_purpose(fp, Purpose::Encryption).await?;
        if let (Some(id), KeySpec::Encryption(spec)) = (&row.kms_key_id, row.spec) {
            let algo = spec.algorithm(algo)?;
            return self
                .kms()?
                .decrypt_asymmetric(&KmsKeyId::new(id.clone())?, ciphertext, algo)
                .await;
        }
        let k = self.load_into_cache(&row).await?;
        decrypt_prepared(&k, fp, ciphertext, algo)
    }

    /// Decrypt using only the cache (no I/O): `None` when the key is not cached.
    pub fn try_decrypt_cached(
        &self,
        fp: &Fingerprint,
        ciphertext: &[u8],
        algo: Option<EncryptionAlgorithmSpec>,
    ) -> Option<Result<Zeroizing<Vec<u8>>>> {
        let k = self.inner.cache.get(fp)?;
        let r = decrypt_prepared(&k, fp, ciphertext, algo);
        Some(self.record_use(r, || decrypt_record(fp, algo, ciphertext.len())))
    }

    /// Verify a signature with a stored signing key's public key (no KMS call).
    pub async fn verify(
        &self,
        fp: &Fingerprint,
        msg: &[u8],
        sig: &[u8],
        algo: Option<SigningAlgorithmSpec>,
    ) -> Result<()> {
        let info = self.key_info(fp).await?;
        let spec = info.signing_spec().ok_or_else(|| {
            Error::incompatible_key(format!("key {fp} is an encryption key, not a signing key"))
        })?;
        Verifier::new(info.public_key)?.verify(spec.algorithm(algo)?, msg, sig)
    }

    /// Encrypt to a stored encryption key's public key (no KMS call).
    pub async fn encrypt(
        &self,
        fp: &Fingerprint,
        pt: &[u8],
        algo: Option<EncryptionAlgorithmSpec>,
    ) -> Result<Vec<u8>> {
        let info = self.key_info(fp).await?;
        let spec = info.encryption_spec().ok_or_else(|| {
            Error::incompatible_key(format!("key {fp} is a signing key, not an encryption key"))
        })?;
        Encrypter::new(info.public_key)?.encrypt(spec.algorithm(algo)?, pt)
    }
}
