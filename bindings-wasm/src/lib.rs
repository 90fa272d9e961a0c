//! tresor-wasm: the WebAssembly face of tresor, for browsers and Node.
//!
//! Verify-only: public keys (parse, encode, Canton fingerprint), signature verification, Canton's hash,
//! ECDSA signature re-encoding, encryption to a public key, and Canton's scheme names. No secret key, key
//! store or KMS is compiled in.
//!
//! This crate is a bridge and nothing more: every function converts its arguments, calls one function of
//! the `tresor` core, and converts the result or the error. Errors become the JS class `TresorError`
//! (`js/tresor-error.js`, imported by the generated glue as `./tresor-error.js`) with the core's numeric
//! `code` and snake-case `kind`. The public JS module (`js/index.js`) wraps these exports: it accepts
//! strings and `ArrayBuffer`s, and re-creates the instance if it ever traps.
//!
//! No input may abort the instance: the core's parsers are fuzzed (core/fuzz), and the JS suite runs
//! randomized inputs through every entry point here.

use tresor::{
    Encrypter, EncryptionAlgorithmSpec, EncryptionKeySpec, Fingerprint, KeyType,
    SigningAlgorithmSpec, SigningKeySpec, Verifier,
};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(raw_module = "./tresor-error.js")]
extern "C" {
    /// The JS error class every failure is thrown as.
    #[wasm_bindgen(js_name = TresorError)]
    type JsTresorError;

    #[wasm_bindgen(constructor, js_class = "TresorError")]
    fn new(code: u32, kind: &str, message: &str) -> JsTresorError;
}

/// The core's error as a thrown `TresorError`.
fn throw(e: tresor::Error) -> JsValue {
    JsTresorError::new(e.code(), e.kind().name(), e.message()).into()
}

type JsResult<T> = Result<T, JsValue>;

/// A key type named by its key spec (a signing spec first, then an encryption spec), as the CLI and the C
/// library name them.
fn key_type_of(spec: &str) -> tresor::Result<KeyType> {
    match spec.parse::<SigningKeySpec>() {
        Ok(s) => Ok(s.into()),
        Err(signing) => spec
            .parse::<EncryptionKeySpec>()
            .map(KeyType::from)
            .map_err(|_| signing),
    }
}

/// The config string of a key type's spec (`ec-curve-25519`, `ec-p-256`, …, `rsa-2048`).
fn key_spec_name(t: KeyType) -> &'static str {
    match (t.signing_spec(), t.encryption_spec()) {
        (Some(s), _) => s.as_str(),
        (None, Some(e)) => e.as_str(),
        // Every key type is a signing or an encryption type; the core's KeyType::name is the fallback.
        (None, None) => t.name(),
    }
}

/// A validated public key (Ed25519, EC P-256/P-384/secp256k1, RSA-2048) held as canonical DER SPKI.
#[wasm_bindgen(js_name = PublicKey)]
#[derive(Debug)]
pub struct WasmPublicKey {
    key: tresor::PublicKey,
    /// Prepared once for repeated verification (signing key types only).
    verifier: Option<Verifier>,
}

impl WasmPublicKey {
    fn wrap(r: tresor::Result<tresor::PublicKey>) -> JsResult<WasmPublicKey> {
        let key = r.map_err(throw)?;
        let verifier = match key.key_type().signing_spec() {
            Some(_) => Some(Verifier::new(key.clone()).map_err(throw)?),
            None => None,
        };
        Ok(Self { key, verifier })
    }
}

#[wasm_bindgen(js_class = PublicKey)]
impl WasmPublicKey {
    /// Parse DER X.509 SubjectPublicKeyInfo.
    #[wasm_bindgen(js_name = fromSpkiDer)]
    pub fn from_spki_der(der: &[u8]) -> JsResult<WasmPublicKey> {
        Self::wrap(tresor::PublicKey::from_spki_der(der))
    }

    /// Parse a PEM `PUBLIC KEY` block.
    #[wasm_bindgen(js_name = fromPem)]
    pub fn from_pem(pem: &str) -> JsResult<WasmPublicKey> {
        Self::wrap(tresor::PublicKey::from_pem(pem))
    }

    /// Parse DER SPKI or PEM text given as bytes.
    #[wasm_bindgen(js_name = fromDerOrPem)]
    pub fn from_der_or_pem(bytes: &[u8]) -> JsResult<WasmPublicKey> {
        Self::wrap(tresor::PublicKey::from_der_or_pem(bytes))
    }

    /// Parse a JWK (JSON text).
    #[wasm_bindgen(js_name = fromJwk)]
    pub fn from_jwk(jwk: &str) -> JsResult<WasmPublicKey> {
        Self::wrap(tresor::PublicKey::from_jwk(jwk))
    }

    /// Parse raw key bytes of the key type named by `key_spec` (`ec-curve-25519`, `ec-p-256`, …).
    #[wasm_bindgen(js_name = fromRaw)]
    pub fn from_raw(key_spec: &str, raw: &[u8]) -> JsResult<WasmPublicKey> {
        let t = key_type_of(key_spec).map_err(throw)?;
        Self::wrap(tresor::PublicKey::from_raw(t, raw))
    }

    /// The Canton fingerprint (68 lowercase hex characters).
    #[wasm_bindgen(getter)]
    pub fn fingerprint(&self) -> String {
        self.key.fingerprint().to_string()
    }

    /// Whether `fingerprint` (68 hex characters) is this key's Canton fingerprint. Throws for text that
    /// is not a fingerprint.
    #[wasm_bindgen(js_name = hasFingerprint)]
    pub fn has_fingerprint(&self, fingerprint: &str) -> JsResult<bool> {
        let claimed: Fingerprint = fingerprint.parse().map_err(throw)?;
        Ok(claimed == self.key.fingerprint())
    }

    /// The key spec's config string (`ec-curve-25519`, `ec-p-256`, `ec-p-384`, `ec-secp-256k-1`,
    /// `rsa-2048`).
    #[wasm_bindgen(getter, js_name = keySpec)]
    pub fn key_spec(&self) -> String {
        key_spec_name(self.key.key_type()).to_owned()
    }

    /// A short human name of the key type ("Ed25519", "EC P-256", …).
    #[wasm_bindgen(getter, js_name = keyTypeName)]
    pub fn key_type_name(&self) -> String {
        self.key.key_type().name().to_owned()
    }

    /// The algorithm Canton uses by default with this key (`ed-25519`, `ec-dsa-sha-256`, … for signing
    /// keys, `rsa-oaep-sha-256` for RSA).
    #[wasm_bindgen(getter, js_name = defaultAlgorithm)]
    pub fn default_algorithm(&self) -> String {
        let t = self.key.key_type();
        match (t.signing_spec(), t.encryption_spec()) {
            (Some(s), _) => s.default_algorithm().as_str().to_owned(),
            (None, Some(e)) => e.default_algorithm().as_str().to_owned(),
            (None, None) => String::new(),
        }
    }

    /// Canonical DER SubjectPublicKeyInfo.
    #[wasm_bindgen(js_name = spkiDer)]
    pub fn spki_der(&self) -> Vec<u8> {
        self.key.spki_der().to_vec()
    }

    /// PEM `PUBLIC KEY` text.
    #[wasm_bindgen(js_name = toPem)]
    pub fn to_pem(&self) -> String {
        self.key.to_pem()
    }

    /// JWK (JSON text).
    #[wasm_bindgen(js_name = toJwk)]
    pub fn to_jwk(&self) -> String {
        self.key.to_jwk()
    }

    /// Raw key bytes (Ed25519: 32 bytes; EC: uncompressed point; RSA: PKCS#1 DER).
    pub fn raw(&self) -> Vec<u8> {
        self.key.raw()
    }

    /// Verify a Canton-format signature (DER for ECDSA, 64 bytes for Ed25519). `false` when the signature
    /// does not verify; throws for an unknown algorithm, a key/algorithm mismatch or a malformed
    /// signature.
    pub fn verify(&self, algorithm: &str, msg: &[u8], sig: &[u8]) -> JsResult<bool> {
        let algo: SigningAlgorithmSpec = algorithm.parse().map_err(throw)?;
        let verifier = match &self.verifier {
            Some(v) => v,
            None => return Err(throw(not_signing(&self.key))),
        };
        match verifier.verify(algo, msg, sig) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == tresor::ErrorKind::InvalidSignature => Ok(false),
            Err(e) => Err(throw(e)),
        }
    }

    /// Encrypt `plaintext` to this key in Canton's wire format of `algorithm`
    /// (`ecies-hkdf-hmac-sha-256-aes-128-cbc` for P-256, `rsa-oaep-sha-256` for RSA-2048).
    pub fn encrypt(&self, algorithm: &str, plaintext: &[u8]) -> JsResult<Vec<u8>> {
        let algo: EncryptionAlgorithmSpec = algorithm.parse().map_err(throw)?;
        Encrypter::new(self.key.clone())
            .and_then(|e| e.encrypt(algo, plaintext))
            .map_err(throw)
    }
}

/// The core's error for a key that cannot sign (it names the key type).
fn not_signing(key: &tresor::PublicKey) -> tresor::Error {
    match key.key_type().require_signing() {
        Err(e) => e,
        Ok(_) => tresor::Error::new(tresor::ErrorKind::Internal, "verifier missing"),
    }
}

/// Canton's purpose-prefixed SHA-256 multihash: `0x12 0x20 ‖ SHA-256(u32be(purpose) ‖ content)`.
#[wasm_bindgen(js_name = cantonHash)]
pub fn canton_hash(purpose: u32, content: &[u8]) -> Vec<u8> {
    tresor::keys::canton_hash(purpose, content).to_vec()
}

/// An ECDSA signature in DER as raw `r ‖ s` for the curve of `key_spec` (`ec-p-256`, `ec-p-384`,
/// `ec-secp-256k-1`).
#[wasm_bindgen(js_name = ecdsaDerToRaw)]
pub fn ecdsa_der_to_raw(key_spec: &str, der: &[u8]) -> JsResult<Vec<u8>> {
    let spec: SigningKeySpec = key_spec.parse().map_err(throw)?;
    tresor::primitives::ecdsa_der_to_raw(spec, der).map_err(throw)
}

/// A raw `r ‖ s` ECDSA signature as DER for the curve of `key_spec`.
#[wasm_bindgen(js_name = ecdsaRawToDer)]
pub fn ecdsa_raw_to_der(key_spec: &str, raw: &[u8]) -> JsResult<Vec<u8>> {
    let spec: SigningKeySpec = key_spec.parse().map_err(throw)?;
    tresor::primitives::ecdsa_raw_to_der(spec, raw).map_err(throw)
}

/// The canonical config string for a scheme name of `kind` (`signing-key-spec`, `signing-algorithm`,
/// `encryption-key-spec`, `encryption-algorithm`, `key-spec`); Canton's display names are accepted.
#[wasm_bindgen(js_name = canonicalName)]
pub fn canonical_name(kind: &str, name: &str) -> JsResult<String> {
    let r = match kind {
        "signing-key-spec" => name.parse::<SigningKeySpec>().map(|s| s.as_str()),
        "signing-algorithm" => name.parse::<SigningAlgorithmSpec>().map(|s| s.as_str()),
        "encryption-key-spec" => name.parse::<EncryptionKeySpec>().map(|s| s.as_str()),
        "encryption-algorithm" => name.parse::<EncryptionAlgorithmSpec>().map(|s| s.as_str()),
        "key-spec" => key_type_of(name).map(key_spec_name),
        _ => Err(tresor::Error::new(
            tresor::ErrorKind::InvalidArgument,
            "scheme kind must be signing-key-spec, signing-algorithm, encryption-key-spec, \
             encryption-algorithm or key-spec",
        )),
    };
    r.map(str::to_owned).map_err(throw)
}

/// The numeric codes of the core's error kinds, in the order of [`error_kind_names`].
#[wasm_bindgen(js_name = errorKindCodes)]
pub fn error_kind_codes() -> Vec<u32> {
    tresor::ErrorKind::ALL.iter().map(|k| k.code()).collect()
}

/// The names of the core's error kinds, comma-separated, in the order of [`error_kind_codes`].
#[wasm_bindgen(js_name = errorKindNames)]
pub fn error_kind_names() -> String {
    let names: Vec<&str> = tresor::ErrorKind::ALL.iter().map(|k| k.name()).collect();
    names.join(",")
}

/// The crate version (the same for every tresor artifact).
#[wasm_bindgen]
pub fn version() -> String {
    tresor::VERSION.to_owned()
}

/// Trap on purpose (WebAssembly `unreachable`), so that the tests can check that the JS module
/// re-creates a trapped instance. Not part of the public API.
#[wasm_bindgen(js_name = __trapForTests)]
pub fn trap_for_tests() {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
}
