//! The blocking API: a [`Vault`] with its own tokio runtime, for the C, JNI and Python bridges and for
//! programs that are not async. Signing and decrypting with a cached key never enter the runtime.

use std::sync::Arc;

use zeroize::Zeroizing;

use super::{ImportKey, KeyInfo, Vault, VaultOptions};
use crate::error::{Error, Result};
use crate::keys::{Fingerprint, PrivateKey, PublicKey, SigningKeyUsageSet};
use crate::kms::{KmsDriver, KmsHealth, KmsKeyId};
use crate::scheme::{
    EncryptionAlgorithmSpec, EncryptionKeySpec, KeySpec, Purpose, SigningAlgorithmSpec,
    SigningKeySpec,
};

/// The runtime every blocking face of tresor runs its async work on: multi-threaded, two workers, I/O
/// and timers enabled. The CLI, the C library and the JVM and Python bindings all build theirs here.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("tresor")
        .enable_all()
        .build()
        .map_err(|e| Error::internal("cannot start the async runtime").with_source(e))
}

/// A vault driven by an owned runtime. `Send + Sync`: share it between threads.
pub struct BlockingVault {
    rt: tokio::runtime::Runtime,
    vault: Vault,
    /// The configuration it was opened from (`BlockingVault::open`), for what needs its paths (a backup).
    #[cfg(feature = "config")]
    pub(crate) config: Option<Box<crate::config::Config>>,
}

impl core::fmt::Debug for BlockingVault {
    /// The runtime and the vault; of the configuration only whether there is one.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut d = f.debug_struct("BlockingVault");
        d.field("rt", &self.rt).field("vault", &self.vault);
        #[cfg(feature = "config")]
        d.field(
            "config",
            &self.config.as_ref().map(|_| "from a configuration"),
        );
        d.finish()
    }
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
    /// The low-level constructor ([`Vault::open`]): the store at `store_url` and `kms` used exactly as
    /// given — no layers are added; wrap the driver with [`crate::kms::layered`] yourself. (With the
    /// `config` feature, `BlockingVault::open` opens the vault a configuration describes, with every
    /// layer; that is what bindings call.)
    pub fn open_with_driver(
        store_url: &str,
        kms: Option<Arc<dyn KmsDriver>>,
        options: VaultOptions,
    ) -> Result<Self> {
        let rt = runtime()?;
        let vault = rt.block_on(Vault::open(store_url, kms, options))?;
        Ok(Self::from_runtime(rt, vault))
    }

    /// Wrap a vault opened on `rt` (its store's connections live on that runtime).
    pub fn from_runtime(rt: tokio::runtime::Runtime, vault: Vault) -> Self {
        Self {
            rt,
            vault,
            #[cfg(feature = "config")]
            config: None,
        }
    }

    /// The configuration the vault was opened from, when it was opened by `BlockingVault::open`.
    #[cfg(feature = "config")]
    pub fn config(&self) -> Option<&crate::config::Config> {
        self.config.as_deref()
    }

    /// The async vault inside.
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// Run any future of the vault on this runtime.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// See [`Vault::health`].
    pub fn health(&self) -> KmsHealth {
        self.rt.block_on(self.vault.health())
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

    /// See [`Vault::list_keys`].
    pub fn list_keys(&self) -> Result<Vec<KeyInfo>> {
        self.rt.block_on(self.vault.list_keys())
    }

    /// See [`Vault::key_info`].
    pub fn key_info(&self, fp: &Fingerprint) -> Result<KeyInfo> {
        self.rt.block_on(self.vault.key_info(fp))
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

    /// See [`Vault::delete_key`].
    pub fn delete_key(&self, fp: &Fingerprint) -> Result<()> {
        self.rt.block_on(self.vault.delete_key(fp))
    }

    /// See [`Vault::rotate_node_key`].
    pub fn rotate_node_key(&self, fp: &Fingerprint) -> Result<KeyInfo> {
        self.rt.block_on(self.vault.rotate_node_key(fp))
    }

    /// See [`Vault::rotate_kms_node_key`].
    pub fn rotate_kms_node_key(
        &self,
        fp: &Fingerprint,
        new_kms_key_id: &KmsKeyId,
        name: Option<&str>,
    ) -> Result<KeyInfo> {
        self.rt
            .block_on(self.vault.rotate_kms_node_key(fp, new_kms_key_id, name))
    }

    /// See [`Vault::wrapper_key_id`].
    pub fn wrapper_key_id(&self) -> Result<KmsKeyId> {
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

    /// See [`Vault::register_kms_key`].
    pub fn register_kms_key(
        &self,
        kms_key_id: &KmsKeyId,
        purpose: Purpose,
        expected: Option<KeySpec>,
        usage: Option<SigningKeyUsageSet>,
        name: Option<&str>,
    ) -> Result<KeyInfo> {
        self.rt.block_on(
            self.vault
                .register_kms_key(kms_key_id, purpose, expected, usage, name),
        )
    }

    /// See [`Vault::import_private_key`].
    pub fn import_private_key(
        &self,
        key: &PrivateKey,
        purpose: Purpose,
        usage: Option<SigningKeyUsageSet>,
        name: Option<&str>,
    ) -> Result<KeyInfo> {
        self.rt
            .block_on(self.vault.import_private_key(key, purpose, usage, name))
    }

    /// See [`Vault::import_private_keys`].
    pub fn import_private_keys(&self, keys: &[ImportKey<'_>]) -> Result<Vec<KeyInfo>> {
        self.rt.block_on(self.vault.import_private_keys(keys))
    }

    /// See [`Vault::export_sealed`].
    pub fn export_sealed(&self, fp: &Fingerprint, password: &[u8]) -> Result<String> {
        self.rt.block_on(self.vault.export_sealed(fp, password))
    }

    /// See [`Vault::import_sealed`].
    pub fn import_sealed(
        &self,
        export: &str,
        password: &[u8],
        name: Option<&str>,
    ) -> Result<KeyInfo> {
        self.rt
            .block_on(self.vault.import_sealed(export, password, name))
    }
}
