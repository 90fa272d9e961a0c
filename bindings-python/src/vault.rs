//! `Vault`: the core's `BlockingVault`, opened from a configuration, shared by every Python thread.
//!
//! Store and KMS work runs with the GIL released. Signing and decrypting with a cached key try the core's
//! cache-only fast path first, with the GIL held (no I/O, microseconds), and fall back to the full
//! operation with the GIL released.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::PyBytes;
use tresor::config::{Config, ConfigSources, OpenOptions};
use tresor::kms::{KmsHealth, KmsKeyId};
use tresor::vault::KeyInfo as CoreKeyInfo;
use tresor::{
    BlockingVault, EncryptionAlgorithmSpec, EncryptionKeySpec, Fingerprint, KeySpec, Purpose,
    SigningAlgorithmSpec, SigningKeySpec, SigningKeyUsageSet,
};
use zeroize::Zeroizing;

use crate::keys::{PrivateKey, PublicKey};
use crate::primitives::{usage_arg, usage_names};
use crate::{Buf, bytes, call, call_detached, invalid, password_arg, text_arg};

/// What the vault knows about a key (no secret material).
#[pyclass(frozen, module = "tresor", name = "KeyInfo")]
pub(crate) struct KeyInfo {
    info: CoreKeyInfo,
}

#[pymethods]
impl KeyInfo {
    /// The Canton fingerprint.
    #[getter]
    fn fingerprint(&self) -> String {
        self.info.fingerprint.to_string()
    }
    /// The key's name, if any.
    #[getter]
    fn name(&self) -> Option<&str> {
        self.info.name.as_deref()
    }
    /// The key spec's config string.
    #[getter]
    fn spec(&self) -> &'static str {
        self.info.spec.as_str()
    }
    /// `signing` or `encryption`.
    #[getter]
    fn purpose(&self) -> &'static str {
        self.info.purpose().as_str()
    }
    /// A signing key's usages (None for an encryption key).
    #[getter]
    fn usage(&self) -> Option<Vec<&'static str>> {
        self.info.usage.map(usage_names)
    }
    /// Where the private key lives: `clear`, `sealed` or `external`.
    #[getter]
    fn storage(&self) -> &'static str {
        self.info.storage.as_str()
    }
    /// The KMS key id (keys in a KMS).
    #[getter]
    fn kms_key_id(&self) -> Option<String> {
        self.info.kms_key_id.as_ref().map(|k| k.as_str().to_owned())
    }
    /// Creation time, milliseconds since the Unix epoch.
    #[getter]
    fn created_at(&self) -> i64 {
        self.info.created_at
    }
    /// The public key.
    #[getter]
    fn public_key(&self) -> PublicKey {
        PublicKey::new(self.info.public_key.clone())
    }
    fn __repr__(&self) -> String {
        format!(
            "KeyInfo(fingerprint='{}', purpose='{}', spec='{}', usage={:?}, storage='{}', name={:?})",
            self.info.fingerprint,
            self.purpose(),
            self.spec(),
            self.info.usage.map(|u| u.to_string()),
            self.info.storage.as_str(),
            self.info.name
        )
    }
}

impl From<CoreKeyInfo> for KeyInfo {
    fn from(info: CoreKeyInfo) -> Self {
        Self { info }
    }
}

/// The health of a vault's KMS (Canton's `KmsDriverHealth`).
#[pyclass(frozen, module = "tresor", name = "Health")]
pub(crate) struct Health {
    status: &'static str,
    message: Option<String>,
}

#[pymethods]
impl Health {
    /// `ok`, `degraded`, `failed` or `fatal`.
    #[getter]
    fn status(&self) -> &'static str {
        self.status
    }
    /// What is wrong (None when ok).
    #[getter]
    fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
    /// Whether the KMS serves requests (`ok` or `degraded`).
    #[getter]
    fn serving(&self) -> bool {
        matches!(self.status, "ok" | "degraded")
    }
    fn __repr__(&self) -> String {
        match &self.message {
            None => format!("Health(status='{}')", self.status),
            Some(m) => format!("Health(status='{}', message={m:?})", self.status),
        }
    }
}

impl From<KmsHealth> for Health {
    fn from(h: KmsHealth) -> Self {
        let (status, message) = match h {
            KmsHealth::Ok => ("ok", None),
            KmsHealth::Degraded(m) => ("degraded", Some(m)),
            KmsHealth::Failed(m) => ("failed", Some(m)),
            KmsHealth::Fatal(m) => ("fatal", Some(m)),
        };
        Self { status, message }
    }
}

/// A key vault: a node's key store in clear, envelope or external mode, opened from a configuration.
/// Share one `Vault` between threads; use it as a context manager or call `close()`.
#[pyclass(frozen, module = "tresor", name = "Vault")]
pub(crate) struct Vault {
    inner: RwLock<Option<Arc<BlockingVault>>>,
    mode: &'static str,
    store_url: String,
}

fn fingerprint(py: Python<'_>, fp: &str) -> PyResult<Fingerprint> {
    call(py, || fp.parse())
}

fn kms_key_id(py: Python<'_>, id: &str) -> PyResult<KmsKeyId> {
    call(py, || KmsKeyId::new(id))
}

impl Vault {
    fn get(&self, py: Python<'_>) -> PyResult<Arc<BlockingVault>> {
        let guard = self.inner.read().map_err(|_| {
            invalid(
                py,
                "the vault is unusable (a thread panicked while closing it)",
            )
        })?;
        guard
            .as_ref()
            .cloned()
            .ok_or_else(|| invalid(py, "the vault is closed"))
    }
}

#[pymethods]
impl Vault {
    /// Open a vault as a configuration says, running Canton's start-up logic (migrations between modes).
    ///
    /// Where the configuration comes from: `config` (a `tresor.toml` path; default `TRESOR_CONFIG`, else
    /// `./tresor.toml`), or `text` (the TOML itself; relative paths in it are relative to `base_dir`,
    /// default the current directory); `canton_config` and `node` apply a Canton node's `crypto` block;
    /// `environment` applies the `TRESOR_*` overrides. Options: `create` makes missing store and
    /// software-KMS files, `passphrase` is the software KMS passphrase when the configuration does not
    /// say where it is, `audit_log_file` overrides where the KMS audit log goes, `max_retries` bounds the
    /// retries of a transiently failing KMS.
    #[staticmethod]
    #[pyo3(signature = (config = None, *, text = None, base_dir = None, canton_config = None, node = None,
        environment = true, create = false, passphrase = None, audit_log_file = None, max_retries = None))]
    #[allow(clippy::too_many_arguments)]
    fn open(
        py: Python<'_>,
        config: Option<PathBuf>,
        text: Option<PyBackedStr>,
        base_dir: Option<PathBuf>,
        canton_config: Option<PathBuf>,
        node: Option<String>,
        environment: bool,
        create: bool,
        passphrase: Option<&Bound<'_, PyAny>>,
        audit_log_file: Option<PathBuf>,
        max_retries: Option<u32>,
    ) -> PyResult<Self> {
        let canton = match (canton_config, node) {
            (Some(f), Some(n)) => Some((f, n)),
            (None, None) => None,
            _ => return Err(invalid(py, "canton_config and node go together")),
        };
        let mut options = OpenOptions::new().create(create);
        if let Some(p) = passphrase {
            options = options.kms_passphrase(Zeroizing::new(text_arg(p)?.to_string()));
        }
        if let Some(f) = audit_log_file {
            options = options.audit_log_file(f);
        }
        if let Some(n) = max_retries {
            options = options.max_retries(n);
        }
        let text: Option<&str> = text.as_deref();
        let opened = call_detached(py, move || {
            let mut sources = ConfigSources::new().environment(environment);
            if let Some(file) = config {
                sources = sources.file(file);
            }
            if let Some(text) = text {
                let base = match base_dir {
                    Some(b) => b,
                    None => std::env::current_dir()?,
                };
                sources = sources.text(text, base);
            }
            if let Some((file, node)) = canton {
                sources = sources.canton(file, node);
            }
            let cfg = Config::load(&sources)?;
            BlockingVault::open(&cfg, options)
        })?;
        let mode = opened.vault().mode_name();
        let store_url = opened.vault().store_url().to_owned();
        Ok(Self {
            inner: RwLock::new(Some(Arc::new(opened))),
            mode,
            store_url,
        })
    }

    /// The mode after start-up: `clear`, `envelope` or `external`.
    #[getter]
    fn mode(&self) -> &'static str {
        self.mode
    }

    /// The key store's URL (any password replaced by `***`).
    #[getter]
    fn store_url(&self) -> &str {
        &self.store_url
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.read().map(|g| g.is_none()).unwrap_or(true)
    }

    /// A new signing key of `spec` with `usage` (a comma-separated string or a sequence of names).
    #[pyo3(signature = (spec, usage, name = None))]
    fn generate_signing_key(
        &self,
        py: Python<'_>,
        spec: PyBackedStr,
        usage: &Bound<'_, PyAny>,
        name: Option<PyBackedStr>,
    ) -> PyResult<KeyInfo> {
        let spec: SigningKeySpec = call(py, || spec.parse())?;
        let usage = usage_arg(usage)?;
        let v = self.get(py)?;
        let name = name.as_deref();
        call_detached(py, || v.generate_signing_key(spec, usage, name)).map(KeyInfo::from)
    }

    /// A new encryption key of `spec` (`ec-p-256` or `rsa-2048`).
    #[pyo3(signature = (spec, name = None))]
    fn generate_encryption_key(
        &self,
        py: Python<'_>,
        spec: PyBackedStr,
        name: Option<PyBackedStr>,
    ) -> PyResult<KeyInfo> {
        let spec: EncryptionKeySpec = call(py, || spec.parse())?;
        let v = self.get(py)?;
        let name = name.as_deref();
        call_detached(py, || v.generate_encryption_key(spec, name)).map(KeyInfo::from)
    }

    /// Every key in the vault.
    fn list_keys(&self, py: Python<'_>) -> PyResult<Vec<KeyInfo>> {
        let v = self.get(py)?;
        let keys = call_detached(py, || v.list_keys())?;
        Ok(keys.into_iter().map(KeyInfo::from).collect())
    }

    /// What the vault knows about the key `fingerprint` (`KeyNotFound` if none).
    fn key_info(&self, py: Python<'_>, fingerprint: PyBackedStr) -> PyResult<KeyInfo> {
        let fp = self::fingerprint(py, &fingerprint)?;
        let v = self.get(py)?;
        call_detached(py, || v.key_info(&fp)).map(KeyInfo::from)
    }

    /// The public key of `fingerprint`.
    fn public_key(&self, py: Python<'_>, fingerprint: PyBackedStr) -> PyResult<PublicKey> {
        let fp = self::fingerprint(py, &fingerprint)?;
        let v = self.get(py)?;
        call_detached(py, || v.public_key(&fp)).map(PublicKey::new)
    }

    /// Sign `message` with the key `fingerprint` for `usage` (the key's usages must include one of them,
    /// as in Canton); `algorithm` defaults to the key spec's.
    #[pyo3(signature = (fingerprint, message, usage, algorithm = None))]
    fn sign<'py>(
        &self,
        py: Python<'py>,
        fingerprint: PyBackedStr,
        message: Buf<'_>,
        usage: &Bound<'_, PyAny>,
        algorithm: Option<PyBackedStr>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let fp = self::fingerprint(py, &fingerprint)?;
        let usage: SigningKeyUsageSet = usage_arg(usage)?;
        let algo: Option<SigningAlgorithmSpec> =
            algorithm.map(|a| call(py, || a.parse())).transpose()?;
        let v = self.get(py)?;
        let cached = call(py, || {
            v.vault()
                .try_sign_cached(&fp, &message, usage, algo)
                .transpose()
        })?;
        let sig = match cached {
            Some(sig) => sig,
            None => call_detached(py, || v.sign(&fp, &message, usage, algo))?,
        };
        Ok(bytes(py, &sig))
    }

    /// Verify a signature with the public key of `fingerprint`: None, or `InvalidSignature`.
    #[pyo3(signature = (fingerprint, message, signature, algorithm = None))]
    fn verify(
        &self,
        py: Python<'_>,
        fingerprint: PyBackedStr,
        message: Buf<'_>,
        signature: Buf<'_>,
        algorithm: Option<PyBackedStr>,
    ) -> PyResult<()> {
        let fp = self::fingerprint(py, &fingerprint)?;
        let algo: Option<SigningAlgorithmSpec> =
            algorithm.map(|a| call(py, || a.parse())).transpose()?;
        let v = self.get(py)?;
        call_detached(py, || v.verify(&fp, &message, &signature, algo))
    }

    /// Encrypt to the key `fingerprint` in Canton's format; `algorithm` defaults to the key spec's.
    #[pyo3(signature = (fingerprint, plaintext, algorithm = None))]
    fn encrypt<'py>(
        &self,
        py: Python<'py>,
        fingerprint: PyBackedStr,
        plaintext: Buf<'_>,
        algorithm: Option<PyBackedStr>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let fp = self::fingerprint(py, &fingerprint)?;
        let algo: Option<EncryptionAlgorithmSpec> =
            algorithm.map(|a| call(py, || a.parse())).transpose()?;
        let v = self.get(py)?;
        let ct = call_detached(py, || v.encrypt(&fp, &plaintext, algo))?;
        Ok(bytes(py, &ct))
    }

    /// Decrypt with the key `fingerprint`; `algorithm` defaults to the key spec's.
    #[pyo3(signature = (fingerprint, ciphertext, algorithm = None))]
    fn decrypt<'py>(
        &self,
        py: Python<'py>,
        fingerprint: PyBackedStr,
        ciphertext: Buf<'_>,
        algorithm: Option<PyBackedStr>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let fp = self::fingerprint(py, &fingerprint)?;
        let algo: Option<EncryptionAlgorithmSpec> =
            algorithm.map(|a| call(py, || a.parse())).transpose()?;
        let v = self.get(py)?;
        // Every decryption releases the GIL: ECIES is ~50 µs, RSA ~270 µs.
        let pt = call_detached(py, || v.decrypt(&fp, &ciphertext, algo))?;
        Ok(bytes(py, &pt))
    }

    /// Forget the key `fingerprint` (a key in a KMS stays there).
    fn delete_key(&self, py: Python<'_>, fingerprint: PyBackedStr) -> PyResult<()> {
        let fp = self::fingerprint(py, &fingerprint)?;
        let v = self.get(py)?;
        call_detached(py, || v.delete_key(&fp))
    }

    /// Canton's `rotate_node_key`: a new key of the same spec and usage; the old one is kept.
    fn rotate_node_key(&self, py: Python<'_>, fingerprint: PyBackedStr) -> PyResult<KeyInfo> {
        let fp = self::fingerprint(py, &fingerprint)?;
        let v = self.get(py)?;
        call_detached(py, || v.rotate_node_key(&fp)).map(KeyInfo::from)
    }

    /// Canton's `rotate_kms_node_key`: register the KMS key `new_kms_key_id` as the successor of the node
    /// key `fingerprint` (external mode).
    #[pyo3(signature = (fingerprint, new_kms_key_id, name = None))]
    fn rotate_kms_node_key(
        &self,
        py: Python<'_>,
        fingerprint: PyBackedStr,
        new_kms_key_id: PyBackedStr,
        name: Option<PyBackedStr>,
    ) -> PyResult<KeyInfo> {
        let fp = self::fingerprint(py, &fingerprint)?;
        let id = kms_key_id(py, &new_kms_key_id)?;
        let v = self.get(py)?;
        let name = name.as_deref();
        call_detached(py, || v.rotate_kms_node_key(&fp, &id, name)).map(KeyInfo::from)
    }

    /// Canton's `register_kms_signing_key` / `register_kms_encryption_key`: store a key made in the KMS
    /// beforehand. `purpose` is `signing` or `encryption`; `spec`, when given, is the spec the key must
    /// have; signing keys need `usage`.
    #[pyo3(signature = (kms_key_id, purpose, *, spec = None, usage = None, name = None))]
    fn register_kms_key(
        &self,
        py: Python<'_>,
        kms_key_id: PyBackedStr,
        purpose: PyBackedStr,
        spec: Option<PyBackedStr>,
        usage: Option<&Bound<'_, PyAny>>,
        name: Option<PyBackedStr>,
    ) -> PyResult<KeyInfo> {
        let id = self::kms_key_id(py, &kms_key_id)?;
        let purpose: Purpose = call(py, || purpose.parse())?;
        let expected: Option<KeySpec> = spec
            .map(|s| call(py, || KeySpec::parse(purpose, &s)))
            .transpose()?;
        let usage = usage.map(usage_arg).transpose()?;
        let v = self.get(py)?;
        let name = name.as_deref();
        call_detached(py, || {
            v.register_kms_key(&id, purpose, expected, usage, name)
        })
        .map(KeyInfo::from)
    }

    /// The KMS wrapper key id recorded in the store (envelope mode).
    fn wrapper_key_id(&self, py: Python<'_>) -> PyResult<String> {
        let v = self.get(py)?;
        call_detached(py, || v.wrapper_key_id()).map(|k| k.as_str().to_owned())
    }

    /// Re-wrap the store data key under a new KMS key (`new_key_id`, or a new one); returns its id.
    #[pyo3(signature = (new_key_id = None))]
    fn rotate_wrapper_key(
        &self,
        py: Python<'_>,
        new_key_id: Option<PyBackedStr>,
    ) -> PyResult<String> {
        let id = new_key_id.map(|k| kms_key_id(py, &k)).transpose()?;
        let v = self.get(py)?;
        call_detached(py, || v.rotate_wrapper_key(id)).map(|k| k.as_str().to_owned())
    }

    /// Re-seal every key under a fresh data key; returns how many rows were re-sealed.
    fn rotate_data_key(&self, py: Python<'_>) -> PyResult<u64> {
        let v = self.get(py)?;
        call_detached(py, || v.rotate_data_key())
    }

    /// The key `fingerprint` sealed under `password` (Argon2id + AES-256-GCM): the text of a
    /// `tresor-key-export/1` file. Refused in external mode (`WrongMode`).
    fn export_sealed(
        &self,
        py: Python<'_>,
        fingerprint: PyBackedStr,
        password: &Bound<'_, PyAny>,
    ) -> PyResult<String> {
        let fp = self::fingerprint(py, &fingerprint)?;
        let password = password_arg(password)?;
        let v = self.get(py)?;
        call_detached(py, || v.export_sealed(&fp, &password))
    }

    /// Import a key exported by `export_sealed` (`WrongPassword` when it does not open); `name` replaces
    /// the recorded name.
    #[pyo3(signature = (export, password, name = None))]
    fn import_sealed(
        &self,
        py: Python<'_>,
        export: &Bound<'_, PyAny>,
        password: &Bound<'_, PyAny>,
        name: Option<PyBackedStr>,
    ) -> PyResult<KeyInfo> {
        let text = text_arg(export)?;
        let password = password_arg(password)?;
        let v = self.get(py)?;
        let name = name.as_deref();
        call_detached(py, || v.import_sealed(&text, &password, name)).map(KeyInfo::from)
    }

    /// Store a caller-held private key as a `purpose` key (signing keys need `usage`).
    #[pyo3(signature = (key, purpose, *, usage = None, name = None))]
    fn import_private_key(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PrivateKey>,
        purpose: PyBackedStr,
        usage: Option<&Bound<'_, PyAny>>,
        name: Option<PyBackedStr>,
    ) -> PyResult<KeyInfo> {
        let purpose: Purpose = call(py, || purpose.parse())?;
        let usage = usage.map(usage_arg).transpose()?;
        let key = key.get();
        let v = self.get(py)?;
        let name = name.as_deref();
        call_detached(py, || {
            v.import_private_key(key.inner.private_key(), purpose, usage, name)
        })
        .map(KeyInfo::from)
    }

    /// The health of the vault's KMS (always `ok` in clear mode).
    fn health(&self, py: Python<'_>) -> PyResult<Health> {
        let v = self.get(py)?;
        Ok(py.detach(|| v.health()).into())
    }

    /// Wipe the cache of decrypted keys and close the store's and the KMS's connections (after the
    /// operations running in other threads finish). The vault is unusable afterwards; closing twice is
    /// allowed.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let taken = {
            let mut guard = self
                .inner
                .write()
                .map_err(|_| invalid(py, "the vault is unusable"))?;
            guard.take()
        };
        if let Some(v) = taken {
            // The last reference closes the vault when dropped (BlockingVault's Drop): off the GIL.
            py.detach(move || {
                v.vault().clear_cache();
                drop(v);
            });
        }
        Ok(())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        format!(
            "Vault(mode='{}', store='{}'{})",
            self.mode,
            self.store_url,
            if self.closed() { ", closed" } else { "" }
        )
    }
}

/// `tresor.hazmat.export_private_key`: the private key `fingerprint` of `vault`, in clear (audited
/// first when the vault has an audit log; refused in external mode).
#[pyfunction]
fn _hazmat_export_private_key(
    py: Python<'_>,
    vault: &Bound<'_, Vault>,
    fingerprint: PyBackedStr,
) -> PyResult<PrivateKey> {
    let fp = self::fingerprint(py, &fingerprint)?;
    let v = vault.get().get(py)?;
    call_detached(py, || tresor::hazmat::export_private_key_blocking(&v, &fp)).map(PrivateKey::new)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Vault>()?;
    m.add_class::<KeyInfo>()?;
    m.add_class::<Health>()?;
    m.add_function(wrap_pyfunction!(_hazmat_export_private_key, m)?)?;
    Ok(())
}
