//! `PublicKey` and `PrivateKey`: caller-held keys (the core's `PreparedPublicKey` and `KeyPair`), their
//! encodings, and interop with `cryptography` key objects (through DER).

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::PyBytes;
use tresor::keys::KeyType;
use tresor::{EncryptionAlgorithmSpec, KeyPair, PreparedPublicKey, SigningAlgorithmSpec};

use crate::{Buf, bytes, call, call_detached, text_arg};

/// Whether an operation with this key type costs enough to release the GIL around it, so that other Python
/// threads run meanwhile: RSA (a private-key operation is ~270 µs) and P-384 (sign ~80 µs, verify ~200 µs).
/// Ed25519, P-256 and secp256k1 operations (12–60 µs) keep the GIL: releasing and re-taking it costs about
/// a microsecond on a loaded machine (measured: Ed25519 sign 13.4 µs held, 14.6 µs released), a large share
/// of an Ed25519 signature, and a Python caller spends comparable time between calls anyway.
fn detach_for(kt: KeyType) -> bool {
    matches!(kt, KeyType::Rsa2048 | KeyType::EcP384)
}

pub(crate) fn parse_key_type(py: Python<'_>, spec: &str) -> PyResult<KeyType> {
    call(py, || spec.parse::<KeyType>())
}

fn signing_algo(py: Python<'_>, a: Option<&str>) -> PyResult<Option<SigningAlgorithmSpec>> {
    a.map(|a| call(py, || a.parse())).transpose()
}

fn encryption_algo(py: Python<'_>, a: Option<&str>) -> PyResult<Option<EncryptionAlgorithmSpec>> {
    a.map(|a| call(py, || a.parse())).transpose()
}

fn serialization(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    py.import("cryptography.hazmat.primitives.serialization")
}

/// A public key: verify signatures and encrypt in Canton's formats.
#[pyclass(frozen, module = "tresor", name = "PublicKey")]
pub(crate) struct PublicKey {
    pub(crate) inner: PreparedPublicKey,
}

impl PublicKey {
    pub(crate) fn new(key: tresor::PublicKey) -> Self {
        Self {
            inner: PreparedPublicKey::new(key),
        }
    }
}

#[pymethods]
impl PublicKey {
    /// Parse a DER SubjectPublicKeyInfo.
    #[staticmethod]
    fn from_der(py: Python<'_>, data: Buf<'_>) -> PyResult<Self> {
        call(py, || tresor::PublicKey::from_spki_der(&data)).map(Self::new)
    }

    /// Parse a PEM `PUBLIC KEY` block.
    #[staticmethod]
    fn from_pem(py: Python<'_>, pem: &Bound<'_, PyAny>) -> PyResult<Self> {
        let text = text_arg(pem)?;
        call(py, || tresor::PublicKey::from_pem(&text)).map(Self::new)
    }

    /// Parse a key file's contents: PEM when it looks like PEM, DER otherwise.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: Buf<'_>) -> PyResult<Self> {
        call(py, || tresor::PublicKey::from_der_or_pem(&data)).map(Self::new)
    }

    /// Parse a public JWK (OKP/Ed25519, EC P-256/P-384/secp256k1, RSA).
    #[staticmethod]
    fn from_jwk(py: Python<'_>, jwk: &Bound<'_, PyAny>) -> PyResult<Self> {
        let text = text_arg(jwk)?;
        call(py, || tresor::PublicKey::from_jwk(&text)).map(Self::new)
    }

    /// Parse a raw key of `spec`: Ed25519 32 bytes, EC a SEC1 point, RSA a DER `RSAPublicKey`.
    #[staticmethod]
    fn from_raw(py: Python<'_>, spec: PyBackedStr, data: Buf<'_>) -> PyResult<Self> {
        let kt = parse_key_type(py, &spec)?;
        call(py, || tresor::PublicKey::from_raw(kt, &data)).map(Self::new)
    }

    /// A public key of a `cryptography` key object (a public key, or a private key's public half).
    #[staticmethod]
    fn from_cryptography(py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Self> {
        let ser = serialization(py)?;
        let key = if key.hasattr("private_bytes")? {
            key.call_method0("public_key")?
        } else {
            key.clone()
        };
        let der = key.call_method1(
            "public_bytes",
            (
                ser.getattr("Encoding")?.getattr("DER")?,
                ser.getattr("PublicFormat")?
                    .getattr("SubjectPublicKeyInfo")?,
            ),
        )?;
        let der = der.cast::<PyBytes>()?;
        call(py, || tresor::PublicKey::from_spki_der(der.as_bytes())).map(Self::new)
    }

    /// The key as a `cryptography` public key object.
    fn to_cryptography<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        serialization(py)?.call_method1(
            "load_der_public_key",
            (bytes(py, self.inner.public_key().spki_der()),),
        )
    }

    /// The canonical DER SubjectPublicKeyInfo (EC points uncompressed).
    fn to_der<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        bytes(py, self.inner.public_key().spki_der())
    }

    /// PEM (`-----BEGIN PUBLIC KEY-----`).
    fn to_pem(&self) -> String {
        self.inner.public_key().to_pem()
    }

    /// A public JWK (compact JSON).
    fn to_jwk(&self) -> String {
        self.inner.public_key().to_jwk()
    }

    /// The raw key: Ed25519 32 bytes, EC the uncompressed SEC1 point, RSA a DER `RSAPublicKey`.
    fn to_raw<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        bytes(py, &self.inner.public_key().raw())
    }

    /// The Canton fingerprint (68 lowercase hex characters).
    #[getter]
    fn fingerprint(&self) -> String {
        self.inner.fingerprint().to_string()
    }

    /// The key spec's config string (`ec-curve-25519`, `ec-p-256`, `ec-p-384`, `ec-secp-256k-1`,
    /// `rsa-2048`).
    #[getter]
    fn spec(&self) -> &'static str {
        self.inner.key_type().spec_name()
    }

    /// Verify a signature in Canton's format (DER for ECDSA, 64 bytes for Ed25519); `algorithm` defaults
    /// to the key spec's. Returns None, or raises `InvalidSignature`.
    #[pyo3(signature = (signature, message, algorithm = None))]
    fn verify(
        &self,
        py: Python<'_>,
        signature: Buf<'_>,
        message: Buf<'_>,
        algorithm: Option<PyBackedStr>,
    ) -> PyResult<()> {
        let algo = signing_algo(py, algorithm.as_deref())?;
        if detach_for(self.inner.key_type()) {
            call_detached(py, || self.inner.verify(algo, &message, &signature))
        } else {
            call(py, || self.inner.verify(algo, &message, &signature))
        }
    }

    /// Encrypt to this key in Canton's format; `algorithm` defaults to the key spec's (ECIES-CBC for
    /// P-256, RSA-OAEP-SHA256 for RSA-2048).
    #[pyo3(signature = (plaintext, algorithm = None))]
    fn encrypt<'py>(
        &self,
        py: Python<'py>,
        plaintext: Buf<'_>,
        algorithm: Option<PyBackedStr>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let algo = encryption_algo(py, algorithm.as_deref())?;
        let ct = if detach_for(self.inner.key_type()) {
            call_detached(py, || self.inner.encrypt(algo, &plaintext))?
        } else {
            call(py, || self.inner.encrypt(algo, &plaintext))?
        };
        Ok(bytes(py, &ct))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PublicKey>()
            .is_ok_and(|o| o.get().inner.public_key() == self.inner.public_key())
    }

    fn __hash__(&self) -> u64 {
        let fp = self.inner.fingerprint();
        let b = fp.as_bytes();
        u64::from_be_bytes([b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9]])
    }

    fn __repr__(&self) -> String {
        format!(
            "PublicKey(spec='{}', fingerprint='{}')",
            self.spec(),
            self.inner.fingerprint()
        )
    }
}

/// A private key held by the caller (not in a vault): sign and decrypt in Canton's formats. Its bytes
/// are zeroized when the object is freed and never shown by `repr`.
#[pyclass(frozen, module = "tresor", name = "PrivateKey")]
pub(crate) struct PrivateKey {
    pub(crate) inner: KeyPair,
}

impl PrivateKey {
    pub(crate) fn new(key: tresor::PrivateKey) -> Self {
        Self {
            inner: KeyPair::new(key),
        }
    }
}

#[pymethods]
impl PrivateKey {
    /// A fresh key of `spec` (`ec-curve-25519`, `ec-p-256`, `ec-p-384`, `ec-secp-256k-1`, `rsa-2048`;
    /// Canton's display names too) from the operating system's RNG.
    #[staticmethod]
    fn generate(py: Python<'_>, spec: PyBackedStr) -> PyResult<Self> {
        let kt = parse_key_type(py, &spec)?;
        let kp = if detach_for(kt) {
            call_detached(py, || KeyPair::generate(kt))?
        } else {
            call(py, || KeyPair::generate(kt))?
        };
        Ok(Self { inner: kp })
    }

    /// Parse an unencrypted PKCS#8 DER private key.
    #[staticmethod]
    fn from_der(py: Python<'_>, data: Buf<'_>) -> PyResult<Self> {
        call(py, || tresor::PrivateKey::from_pkcs8_der(&data)).map(Self::new)
    }

    /// Parse a PEM `PRIVATE KEY` block (unencrypted PKCS#8).
    #[staticmethod]
    fn from_pem(py: Python<'_>, pem: &Bound<'_, PyAny>) -> PyResult<Self> {
        let text = text_arg(pem)?;
        call(py, || tresor::PrivateKey::from_pem(&text)).map(Self::new)
    }

    /// Parse a key file's contents: PEM when it looks like PEM, PKCS#8 DER otherwise.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: Buf<'_>) -> PyResult<Self> {
        call(py, || tresor::PrivateKey::from_der_or_pem(&data)).map(Self::new)
    }

    /// A key of `spec` from its raw secret: the 32-byte Ed25519 seed, or the big-endian EC scalar.
    #[staticmethod]
    fn from_raw(py: Python<'_>, spec: PyBackedStr, secret: Buf<'_>) -> PyResult<Self> {
        let kt = parse_key_type(py, &spec)?;
        call(py, || tresor::PrivateKey::from_raw_secret(kt, &secret)).map(Self::new)
    }

    /// Parse a private JWK (`OKP` Ed25519, `EC` P-256/P-384/secp256k1 or `RSA`; its public members must
    /// match the private key).
    #[staticmethod]
    fn from_jwk(py: Python<'_>, jwk: &Bound<'_, PyAny>) -> PyResult<Self> {
        let text = text_arg(jwk)?;
        call(py, || tresor::PrivateKey::from_jwk(&text)).map(Self::new)
    }

    /// A private key of a `cryptography` private key object.
    #[staticmethod]
    fn from_cryptography(py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Self> {
        let ser = serialization(py)?;
        let der = key.call_method1(
            "private_bytes",
            (
                ser.getattr("Encoding")?.getattr("DER")?,
                ser.getattr("PrivateFormat")?.getattr("PKCS8")?,
                ser.getattr("NoEncryption")?.call0()?,
            ),
        )?;
        let der = der.cast::<PyBytes>()?;
        call(py, || tresor::PrivateKey::from_pkcs8_der(der.as_bytes())).map(Self::new)
    }

    /// The key as a `cryptography` private key object.
    fn to_cryptography<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let der = bytes(py, self.inner.private_key().pkcs8_der());
        serialization(py)?.call_method1("load_der_private_key", (der, py.None()))
    }

    /// The PKCS#8 DER encoding (secret material).
    fn to_der<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        bytes(py, self.inner.private_key().pkcs8_der())
    }

    /// PEM (`-----BEGIN PRIVATE KEY-----`, secret material).
    fn to_pem(&self, py: Python<'_>) -> PyResult<String> {
        call(py, || self.inner.private_key().to_pem()).map(|p| p.as_str().to_owned())
    }

    /// The private JWK (compact JSON, secret material).
    fn to_jwk(&self, py: Python<'_>) -> PyResult<String> {
        call(py, || self.inner.private_key().to_jwk()).map(|j| j.as_str().to_owned())
    }

    /// The raw secret: the 32-byte Ed25519 seed, or the big-endian EC scalar (32 bytes; 48 for P-384).
    /// RSA keys have none (`InvalidArgument`; use DER, PEM or JWK). Secret material.
    fn to_raw<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let raw = call(py, || self.inner.private_key().to_raw_secret())?;
        Ok(bytes(py, &raw))
    }

    /// The public key.
    #[getter]
    fn public_key(&self) -> PublicKey {
        PublicKey::new(self.inner.public_key().clone())
    }

    /// The Canton fingerprint of the public key.
    #[getter]
    fn fingerprint(&self) -> String {
        self.inner.fingerprint().to_string()
    }

    /// The key spec's config string.
    #[getter]
    fn spec(&self) -> &'static str {
        self.inner.key_type().spec_name()
    }

    /// Sign `message` in Canton's format; `algorithm` defaults to the key spec's.
    #[pyo3(signature = (message, algorithm = None))]
    fn sign<'py>(
        &self,
        py: Python<'py>,
        message: Buf<'_>,
        algorithm: Option<PyBackedStr>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let algo = signing_algo(py, algorithm.as_deref())?;
        let sig = if detach_for(self.inner.key_type()) {
            call_detached(py, || self.inner.sign(algo, &message))?
        } else {
            call(py, || self.inner.sign(algo, &message))?
        };
        Ok(bytes(py, &sig))
    }

    /// Decrypt a ciphertext in Canton's format; `algorithm` defaults to the key spec's.
    #[pyo3(signature = (ciphertext, algorithm = None))]
    fn decrypt<'py>(
        &self,
        py: Python<'py>,
        ciphertext: Buf<'_>,
        algorithm: Option<PyBackedStr>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let algo = encryption_algo(py, algorithm.as_deref())?;
        let pt = if detach_for(self.inner.key_type()) {
            call_detached(py, || self.inner.decrypt(algo, &ciphertext))?
        } else {
            call(py, || self.inner.decrypt(algo, &ciphertext))?
        };
        Ok(bytes(py, &pt))
    }

    /// See `PublicKey.verify`.
    #[pyo3(signature = (signature, message, algorithm = None))]
    fn verify(
        &self,
        py: Python<'_>,
        signature: Buf<'_>,
        message: Buf<'_>,
        algorithm: Option<PyBackedStr>,
    ) -> PyResult<()> {
        let algo = signing_algo(py, algorithm.as_deref())?;
        if detach_for(self.inner.key_type()) {
            call_detached(py, || self.inner.verify(algo, &message, &signature))
        } else {
            call(py, || self.inner.verify(algo, &message, &signature))
        }
    }

    /// See `PublicKey.encrypt`.
    #[pyo3(signature = (plaintext, algorithm = None))]
    fn encrypt<'py>(
        &self,
        py: Python<'py>,
        plaintext: Buf<'_>,
        algorithm: Option<PyBackedStr>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let algo = encryption_algo(py, algorithm.as_deref())?;
        let ct = if detach_for(self.inner.key_type()) {
            call_detached(py, || self.inner.encrypt(algo, &plaintext))?
        } else {
            call(py, || self.inner.encrypt(algo, &plaintext))?
        };
        Ok(bytes(py, &ct))
    }

    fn __repr__(&self) -> String {
        format!(
            "PrivateKey(spec='{}', fingerprint='{}')",
            self.spec(),
            self.inner.fingerprint()
        )
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PublicKey>()?;
    m.add_class::<PrivateKey>()?;
    Ok(())
}
