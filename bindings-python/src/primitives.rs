//! Primitives: AES-128-GCM (Canton's symmetric scheme), HMAC-SHA256, HKDF-SHA256, Canton's hash, ECDSA
//! signature encodings, Canton's scheme and usage names, and opening a password-sealed key export.

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::PyBytes;
use tresor::primitives::AesGcmKey as CoreAesGcmKey;
use tresor::{
    EncryptionAlgorithmSpec, EncryptionKeySpec, KeySpec, SigningAlgorithmSpec, SigningKeySpec,
    SigningKeyUsageSet,
};

use crate::keys::PrivateKey;
use crate::{Buf, bytes, call, call_detached, text_arg};

/// An AES-128-GCM key, Canton's symmetric scheme: ciphertexts are `IV(12) ‖ ciphertext ‖ tag(16)`, with
/// no associated data. The key is zeroized when the object is freed and never shown by `repr`.
#[pyclass(frozen, module = "tresor", name = "AesGcmKey")]
pub(crate) struct AesGcmKey {
    inner: CoreAesGcmKey,
}

#[pymethods]
impl AesGcmKey {
    /// A key from its 16 raw bytes (`MalformedKey` for any other length).
    #[new]
    fn new(py: Python<'_>, key: Buf<'_>) -> PyResult<Self> {
        call(py, || CoreAesGcmKey::aes128(&key)).map(|inner| Self { inner })
    }

    /// A fresh random key.
    #[staticmethod]
    fn generate(py: Python<'_>) -> PyResult<Self> {
        call(py, CoreAesGcmKey::generate_aes128).map(|inner| Self { inner })
    }

    /// Encrypt with a fresh random IV.
    fn encrypt<'py>(&self, py: Python<'py>, plaintext: Buf<'_>) -> PyResult<Bound<'py, PyBytes>> {
        let ct = call(py, || self.inner.encrypt(&plaintext, &[]))?;
        Ok(bytes(py, &ct))
    }

    /// Decrypt (`MalformedCiphertext` when too short, `DecryptionFailed` when it does not open).
    fn decrypt<'py>(&self, py: Python<'py>, ciphertext: Buf<'_>) -> PyResult<Bound<'py, PyBytes>> {
        let pt = call(py, || self.inner.decrypt(&ciphertext, &[]))?;
        Ok(bytes(py, &pt))
    }

    /// The raw key bytes (secret material).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        bytes(py, self.inner.as_bytes())
    }

    fn __repr__(&self) -> String {
        "AesGcmKey(bits=128)".to_owned()
    }
}

/// HMAC-SHA256 of `data` under `key` (any key length).
#[pyfunction]
fn hmac_sha256<'py>(py: Python<'py>, key: Buf<'_>, data: Buf<'_>) -> Bound<'py, PyBytes> {
    bytes(py, &tresor::primitives::hmac_sha256(&key, &data))
}

/// Check an HMAC-SHA256 tag in constant time: None, or `InvalidSignature`.
#[pyfunction]
fn hmac_sha256_verify(py: Python<'_>, key: Buf<'_>, data: Buf<'_>, tag: Buf<'_>) -> PyResult<()> {
    call(py, || {
        tresor::primitives::hmac_sha256_verify(&key, &data, &tag)
    })
}

/// HKDF-SHA256 (RFC 5869): `length` bytes (at most 8160) from `ikm`, `salt` (empty = zeros) and `info`.
#[pyfunction]
#[pyo3(signature = (ikm, *, salt = None, info = None, length = 32))]
fn hkdf_sha256<'py>(
    py: Python<'py>,
    ikm: Buf<'_>,
    salt: Option<Buf<'_>>,
    info: Option<Buf<'_>>,
    length: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    let salt = salt.as_deref().unwrap_or_default();
    let info = info.as_deref().unwrap_or_default();
    let okm = call(py, || {
        tresor::primitives::hkdf_sha256(salt, &ikm, info, length)
    })?;
    Ok(bytes(py, &okm))
}

/// Canton's hash of `content` for a hash purpose: the 34-byte multihash `0x12 0x20 ‖ SHA-256(u32be(purpose)
/// ‖ content)`.
#[pyfunction]
fn canton_hash<'py>(py: Python<'py>, purpose: u32, content: Buf<'_>) -> Bound<'py, PyBytes> {
    bytes(py, &tresor::keys::canton_hash(purpose, &content))
}

fn signing_spec(py: Python<'_>, spec: &str) -> PyResult<SigningKeySpec> {
    call(py, || spec.parse())
}

/// An ECDSA signature from DER to raw `r ‖ s` (each the field size of `spec`: `ec-p-256`, `ec-p-384`,
/// `ec-secp-256k-1`).
#[pyfunction]
fn ecdsa_der_to_raw<'py>(
    py: Python<'py>,
    signature: Buf<'_>,
    spec: PyBackedStr,
) -> PyResult<Bound<'py, PyBytes>> {
    let spec = signing_spec(py, &spec)?;
    let raw = call(py, || {
        tresor::primitives::ecdsa_der_to_raw(spec, &signature)
    })?;
    Ok(bytes(py, &raw))
}

/// An ECDSA signature from raw `r ‖ s` to DER.
#[pyfunction]
fn ecdsa_raw_to_der<'py>(
    py: Python<'py>,
    signature: Buf<'_>,
    spec: PyBackedStr,
) -> PyResult<Bound<'py, PyBytes>> {
    let spec = signing_spec(py, &spec)?;
    let der = call(py, || {
        tresor::primitives::ecdsa_raw_to_der(spec, &signature)
    })?;
    Ok(bytes(py, &der))
}

/// Signing-key usages from a comma-separated string or a sequence of names.
pub(crate) fn usage_arg(ob: &Bound<'_, PyAny>) -> PyResult<SigningKeyUsageSet> {
    let py = ob.py();
    if let Ok(s) = ob.extract::<PyBackedStr>() {
        return call(py, || SigningKeyUsageSet::parse_list(&s));
    }
    let names: Vec<PyBackedStr> = ob.extract()?;
    let joined = names.iter().map(|n| &**n).collect::<Vec<&str>>().join(",");
    call(py, || SigningKeyUsageSet::parse_list(&joined))
}

/// The usages of a set, as names.
pub(crate) fn usage_names(u: SigningKeyUsageSet) -> Vec<&'static str> {
    u.iter().map(|x| x.as_str()).collect()
}

/// The canonical form of a set of signing-key usages (`namespace`, `sequencer-auth`, `protocol`,
/// `proof-of-ownership`), as a tuple of names in Canton's order. `InvalidKeyUsage` for an empty or
/// invalid set, `UnknownScheme`… for an unknown name.
#[pyfunction]
fn key_usage(usage: &Bound<'_, PyAny>) -> PyResult<Vec<&'static str>> {
    usage_arg(usage).map(usage_names)
}

/// The canonical config string of a scheme name (Canton's config strings and display names are
/// accepted). `kind`: `signing-key-spec`, `signing-algorithm`, `encryption-key-spec`,
/// `encryption-algorithm` or `key-spec`.
#[pyfunction]
fn scheme_name(py: Python<'_>, kind: PyBackedStr, name: PyBackedStr) -> PyResult<&'static str> {
    let n: &str = &name;
    match &*kind {
        "signing-key-spec" => call(py, || n.parse::<SigningKeySpec>().map(|s| s.as_str())),
        "signing-algorithm" => call(py, || n.parse::<SigningAlgorithmSpec>().map(|s| s.as_str())),
        "encryption-key-spec" => call(py, || n.parse::<EncryptionKeySpec>().map(|s| s.as_str())),
        "encryption-algorithm" => call(py, || {
            n.parse::<EncryptionAlgorithmSpec>().map(|s| s.as_str())
        }),
        "key-spec" => call(py, || {
            n.parse::<tresor::keys::KeyType>()
                .map(tresor::keys::KeyType::spec_name)
        }),
        other => Err(crate::invalid(
            py,
            format!(
                "unknown scheme kind '{}'; accepted: signing-key-spec, signing-algorithm, \
                 encryption-key-spec, encryption-algorithm, key-spec",
                other.escape_debug()
            ),
        )),
    }
}

/// A password-sealed key export, opened.
#[pyclass(frozen, module = "tresor", name = "SealedExport")]
pub(crate) struct SealedExport {
    key: Py<PrivateKey>,
    fingerprint: String,
    purpose: &'static str,
    usage: Option<SigningKeyUsageSet>,
    spec: &'static str,
    name: Option<String>,
}

#[pymethods]
impl SealedExport {
    /// The private key (secret material).
    #[getter]
    fn private_key(&self, py: Python<'_>) -> Py<PrivateKey> {
        self.key.clone_ref(py)
    }
    /// Its Canton fingerprint.
    #[getter]
    fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
    /// `signing` or `encryption`.
    #[getter]
    fn purpose(&self) -> &'static str {
        self.purpose
    }
    /// The signing key's usages (None for an encryption key).
    #[getter]
    fn usage(&self) -> Option<Vec<&'static str>> {
        self.usage.map(usage_names)
    }
    /// The key spec's config string.
    #[getter]
    fn spec(&self) -> &'static str {
        self.spec
    }
    /// The name recorded at export.
    #[getter]
    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    fn __repr__(&self) -> String {
        format!(
            "SealedExport(fingerprint='{}', purpose='{}', spec='{}', usage={:?}, name={:?})",
            self.fingerprint,
            self.purpose,
            self.spec,
            self.usage.map(|u| u.to_string()),
            self.name
        )
    }
}

/// Open a `tresor-key-export/1` file (what `Vault.export_sealed` and `tresor key export` write) with its
/// password, without a vault. `WrongPassword` when it does not open, `MalformedData` when the file is
/// not one.
#[pyfunction]
fn open_sealed_export(
    py: Python<'_>,
    export: &Bound<'_, PyAny>,
    password: &Bound<'_, PyAny>,
) -> PyResult<SealedExport> {
    let text = text_arg(export)?;
    let password = crate::password_arg(password)?;
    let opened = call_detached(py, || tresor::vault::export::open_export(&text, &password))?;
    let spec = opened.spec().map(KeySpec::as_str).unwrap_or("");
    let fingerprint = opened.key.public_key().fingerprint().to_string();
    Ok(SealedExport {
        key: Py::new(py, PrivateKey::new(opened.key))?,
        fingerprint,
        purpose: opened.purpose.as_str(),
        usage: opened.usage,
        spec,
        name: opened.name,
    })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<AesGcmKey>()?;
    m.add_class::<SealedExport>()?;
    m.add_function(wrap_pyfunction!(hmac_sha256, m)?)?;
    m.add_function(wrap_pyfunction!(hmac_sha256_verify, m)?)?;
    m.add_function(wrap_pyfunction!(hkdf_sha256, m)?)?;
    m.add_function(wrap_pyfunction!(canton_hash, m)?)?;
    m.add_function(wrap_pyfunction!(ecdsa_der_to_raw, m)?)?;
    m.add_function(wrap_pyfunction!(ecdsa_raw_to_der, m)?)?;
    m.add_function(wrap_pyfunction!(key_usage, m)?)?;
    m.add_function(wrap_pyfunction!(scheme_name, m)?)?;
    m.add_function(wrap_pyfunction!(open_sealed_export, m)?)?;
    Ok(())
}
