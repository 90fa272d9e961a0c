//! The blocking API: a [`Vault`] with its own tokio runtime, for the C, JNI and Python bridges and for
//! programs that are not async. Signing and decrypting with a cached key never enter the runtime.

use std::sync::Arc;

use zeroize::Zeroizing;

use super::{KeyInfo, Vault, VaultOptions};
use crate::error::{Error, Result};
use crate::keys::{Fingerprint, PublicKey, SigningKeyUsageSet};
use crate::kms::{KmsDriver, KmsKeyId, KmsKeySpec};
use crate::scheme::{
    EncryptionAlgorithmSpec, EncryptionKeySpec, SigningAlgorithmSpec, SigningKeySpec,
};
use crate::store::{Purpose, Store};

/// A vault driven by an owned runtime. `Send + Sync`: share it between threads.
#[derive(Debug)]
pub struct BlockingVault {
    rt: tokio::runtime::Runtime,
    vault: Vault,
}

impl Drop for BlockingVault {
    /// Close the vault (cache wiped, connections closed) before the runtime shuts down, so no
    /// connection thread outlives it. Skipped when dropped inside an async context, where blocking
    /// is not allowed.
    fn drop(&mut self) {
        if tokio::runtime::Handle::try_current().is_err() {
            self.rt.block_on(self.vault.close());
        }
    }
}

impl BlockingVault {
    /// Build a runtime (two worker threads) and open the vault over the store at `store_url`.
    pub fn open(
        store_url: &str,
        kms: Option<Arc<dyn KmsDriver>>,
        options: VaultOptions,
    ) -> Result<Self> {
        let rt = Self::new_runtime()?;
        let vault = rt.block_on(async {
            let store = Store::open(store_url).await?;
            Vault::open(store, kms, options).await
        })?;
        Ok(Self { rt, vault })
    }

    /// Wrap a vault opened on `rt` (its store's connections live on that runtime).
    pub fn from_runtime(rt: tokio::runtime::Runtime, vault: Vault) -> Self {
        Self { rt, vault }
    }

    /// The runtime a blocking vault runs on: multi-threaded, two workers, I/O and timers enabled.
    pub fn new_runtime() -> Result<tokio::runtime::Runtime> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tresor")
            .enable_all()
            .build()
            .map_err(|e| Error::internal("cannot start the runtime").with_source(e))
    }

    /// Wrap an existing vault, with a new runtime.
    pub fn from_vault(vault: Vault) -> Result<Self> {
        Ok(Self::from_runtime(Self::new_runtime()?, vault))
    }

    /// The async vault inside.
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// Run any future of the vault on this runtime.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// See [`Vault::generate_signing_key`].
    pub fn generate_signing_key(
        &self,
        spec: SigningKeySpec,
        usage: SigningKeyUsageSet,
        name: Option<&str>,
    ) -> Result<KeyInfo> {
        self.rt
            .block_on(self.vault.generate_signing_key(spec, usage, name))
    }

    /// See [`Vault::generate_encryption_key`].
    pub fn generate_encryption_key(
        &self,
        spec: EncryptionKeySpec,
        name: Option<&str>,
    ) -> Result<KeyInfo> {
        self.rt
            .block_on(self.vault.generate_encryption_key(spec, name))
    }

    /// See [`Vault::list`].
    pub fn list(&self) -> Result<Vec<KeyInfo>> {
        self.rt.block_on(self.vault.list())
    }

    /// See [`Vault::info`].
    pub fn info(&self, fp: &Fingerprint) -> Result<KeyInfo> {
        self.rt.block_on(self.vault.info(fp))
    }

    /// See [`Vault::public_key`].
    pub fn public_key(&self, fp: &Fingerprint) -> Result<PublicKey> {
        self.rt.block_on(self.vault.public_key(fp))
    }

    /// See [`Vault::sign`]; a cached key signs without entering the runtime.
    pub fn sign(
        &self,
        fp: &Fingerprint,
        msg: &[u8],
        usage: SigningKeyUsageSet,
        algo: Option<SigningAlgorithmSpec>,
    ) -> Result<Vec<u8>> {
        match self.vault.try_sign_cached(fp, msg, usage, algo) {
            Some(r) => r,
            None => self.rt.block_on(self.vault.sign(fp, msg, usage, algo)),
        }
    }

    /// See [`Vault::decrypt`]; a cached key decrypts without entering the runtime.
    pub fn decrypt(
        &self,
        fp: &Fingerprint,
        ciphertext: &[u8],
        algo: Option<EncryptionAlgorithmSpec>,
    ) -> Result<Zeroizing<Vec<u8>>> {
        match self.vault.try_decrypt_cached(fp, ciphertext, algo) {
            Some(r) => r,
            None => self.rt.block_on(self.vault.decrypt(fp, ciphertext, algo)),
        }
    }

    /// See [`Vault::verify`].
    pub fn verify(
        &self,
        fp: &Fingerprint,
        msg: &[u8],
        sig: &[u8],
        algo: Option<SigningAlgorithmSpec>,
    ) -> Result<()> {
        self.rt.block_on(self.vault.verify(fp, msg, sig, algo))
    }

    /// See [`Vault::encrypt`].
    pub fn encrypt(
        &self,
        fp: &Fingerprint,
        pt: &[u8],
        algo: Option<EncryptionAlgorithmSpec>,
    ) -> Result<Vec<u8>> {
        self.rt.block_on(self.vault.encrypt(fp, pt, algo))
    }

    /// See [`Vault::delete`].
    pub fn delete(&self, fp: &Fingerprint) -> Result<()> {
        self.rt.block_on(self.vault.delete(fp))
    }

    /// See [`Vault::rotate_node_key`].
    pub fn rotate_node_key(&self, fp: &Fingerprint) -> Result<KeyInfo> {
        self.rt.block_on(self.vault.rotate_node_key(fp))
    }

    /// See [`Vault::wrapper_key_id`].
    pub fn wrapper_key_id(&self) -> Result<Option<KmsKeyId>> {
        self.rt.block_on(self.vault.wrapper_key_id())
    }

    /// See [`Vault::rotate_wrapper_key`].
    pub fn rotate_wrapper_key(&self, new_id: Option<KmsKeyId>) -> Result<KmsKeyId> {
        self.rt.block_on(self.vault.rotate_wrapper_key(new_id))
    }

    /// See [`Vault::rotate_data_key`].
    pub fn rotate_data_key(&self) -> Result<u64> {
        self.rt.block_on(self.vault.rotate_data_key())
    }

    /// See [`Vault::register_external`].
    pub fn register_external(
        &self,
        kms_key_id: &KmsKeyId,
        expected: KmsKeySpec,
        usage: Option<SigningKeyUsageSet>,
        name: Option<&str>,
    ) -> Result<KeyInfo> {
        self.rt.block_on(
            self.vault
                .register_external(kms_key_id, expected, usage, name),
        )
    }

    /// See [`Vault::register_external_any`].
    pub fn register_external_any(
        &self,
        kms_key_id: &KmsKeyId,
        purpose: Purpose,
        usage: Option<SigningKeyUsageSet>,
        name: Option<&str>,
    ) -> Result<KeyInfo> {
        self.rt.block_on(
            self.vault
                .register_external_any(kms_key_id, purpose, usage, name),
        )
    }

    /// See [`Vault::import_private_key`].
    pub fn import_private_key(
        &self,
        key: &crate::keys::PrivateKey,
        purpose: Purpose,
        usage: Option<SigningKeyUsageSet>,
        name: Option<&str>,
    ) -> Result<KeyInfo> {
        self.rt
            .block_on(self.vault.import_private_key(key, purpose, usage, name))
    }

    /// See [`Vault::export_private_key`].
    pub fn export_private_key(
        &self,
        fp: &Fingerprint,
    ) -> Result<(KeyInfo, crate::keys::PrivateKey)> {
        self.rt.block_on(self.vault.export_private_key(fp))
    }
}
