//! The checks behind every fuzz target, shared with the crasher replay test.
//!
//! This file is compiled twice: as a module of the `tresor-fuzz` crate (used by `core/fuzz/fuzz_targets/*`)
//! and, through `#[path]`, as a module of `core/tests/fuzz_regressions.rs`, which replays the seed and
//! crasher files with `cargo test`. It therefore names the library only as `tresor::…` and uses nothing but
//! `tresor`, `serde_json` and `std`.
//!
//! Each `check_<target>(data)` feeds arbitrary bytes to one family of parsers. Errors are expected and are
//! part of the contract; a check panics only when tresor breaks it: a parser panics, an error has a kind
//! that does not fit the input, or a property fails (re-encoding a parsed key and parsing it again gives the
//! same key, only canonical encodings are accepted, a ciphertext that opens re-encrypts to itself, …).
//!
//! `cfg(feature = "native")` means "the native backend exists": in the fuzz crate it is tresor-fuzz's own
//! `native` feature, in tresor's tests it is tresor's `native` feature. With it, the checks also run the
//! native backend and require it to agree with the portable one.

use std::sync::OnceLock;

use tresor::primitives::{
    AesGcmKey, Backend, Decrypter, Ed25519Rule, Encrypter, Portable, Signer, Verifier,
    ecdsa_der_to_raw, ecdsa_raw_to_der,
};
use tresor::scheme::SymmetricKeyScheme;
use tresor::{
    EncryptionAlgorithmSpec, EncryptionKeySpec, ErrorKind, Fingerprint, KeyType, PrivateKey,
    PublicKey, SignatureFormat, SigningAlgorithmSpec, SigningKeySpec, SigningKeyUsage,
    SigningKeyUsageSet,
};

/// The message every `signature_verify` input is checked against (the seeds sign it).
pub const MESSAGE: &[u8] = b"tresor fuzz message";

/// A throw-away RSA-2048 key for the fuzz targets and tests only. It is public: never use it elsewhere.
const RSA_TEST_KEY_PEM: &str = include_str!("rsa2048_test_key.pem");

/// Every key type, in the order the selector bytes of the input formats use.
pub const KEY_TYPES: [KeyType; 5] = [
    KeyType::Ed25519,
    KeyType::EcP256,
    KeyType::EcP384,
    KeyType::EcSecp256k1,
    KeyType::Rsa2048,
];

/// Fixed keys, derived from constant seeds and scalars so that seeds made with them stay valid.
#[derive(Debug)]
pub struct FixedKeys {
    /// One private key per entry of [`KEY_TYPES`].
    pub private: Vec<PrivateKey>,
    /// The AES-128 key of `ciphertext_aes_gcm` (flag bit 0 clear).
    pub aes128: [u8; 16],
    /// The AES-256 key of `ciphertext_aes_gcm` (flag bit 0 set).
    pub aes256: [u8; 32],
}

impl FixedKeys {
    /// The fixed private key of `key_type`.
    pub fn private(&self, key_type: KeyType) -> &PrivateKey {
        let i = KEY_TYPES
            .iter()
            .position(|k| *k == key_type)
            .expect("every key type has a fixed key");
        &self.private[i]
    }
}

/// The fixed keys (built once per process).
pub fn fixed_keys() -> &'static FixedKeys {
    static KEYS: OnceLock<FixedKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let ec = |kt, byte: u8, len: usize| {
            PrivateKey::from_raw_secret(kt, &vec![byte; len]).expect("fixed scalar is valid")
        };
        FixedKeys {
            private: vec![
                ec(KeyType::Ed25519, 0x11, 32),
                ec(KeyType::EcP256, 0x22, 32),
                ec(KeyType::EcP384, 0x33, 48),
                ec(KeyType::EcSecp256k1, 0x44, 32),
                PrivateKey::from_pem(RSA_TEST_KEY_PEM).expect("fixed RSA test key is valid"),
            ],
            aes128: [0x55; 16],
            aes256: [0x66; 32],
        }
    })
}

// --- helpers -------------------------------------------------------------------------------------

/// The error kind of `r`, `None` when it is `Ok`.
fn kind<T>(r: &tresor::Result<T>) -> Option<ErrorKind> {
    r.as_ref().err().map(tresor::Error::kind)
}

/// Require `r` to be `Ok` or an error of one of the `allowed` kinds.
#[track_caller]
fn allow<T>(r: &tresor::Result<T>, allowed: &[ErrorKind], what: &str) {
    if let Err(e) = r {
        assert!(
            allowed.contains(&e.kind()),
            "{what}: unexpected error kind {:?}: {e}",
            e.kind()
        );
    }
}

/// Whether `bytes` would be taken for PEM by the `from_der_or_pem` parsers.
fn looks_like_pem(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|t| t.trim_start().starts_with("-----BEGIN "))
}

/// Split one DER TLV off `input`: `(tag, value, rest)`. Lenient (it only reads what tresor accepted).
fn der_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let (bytes, rest) = rest.split_at_checked(usize::from(first & 0x7f))?;
        if bytes.is_empty() || bytes.len() > 4 {
            return None;
        }
        let len = bytes.iter().fold(0usize, |a, b| (a << 8) | usize::from(*b));
        (len, rest)
    };
    let (value, rest) = rest.split_at_checked(len)?;
    Some((tag, value, rest))
}

/// A DER TLV with a definite minimal length.
fn der_encode(tag: u8, value: &[u8]) -> Vec<u8> {
    let len = value.len();
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(value);
    out
}

/// The `publicKey [1]` of a PKCS#8 v2 (RFC 5958 `OneAsymmetricKey`) DER encoding, without the BIT
/// STRING's unused-bits byte; `None` for v1 or anything else.
fn pkcs8_v2_public_key(der: &[u8]) -> Option<&[u8]> {
    let (0x30, body, _) = der_tlv(der)? else {
        return None;
    };
    let (0x02, _version, body) = der_tlv(body)? else {
        return None;
    };
    let (0x30, _algorithm, body) = der_tlv(body)? else {
        return None;
    };
    let (0x04, _private_key, mut body) = der_tlv(body)? else {
        return None;
    };
    while !body.is_empty() {
        let (tag, value, rest) = der_tlv(body)?;
        if tag == 0x81 {
            return value.strip_prefix(&[0]);
        }
        body = rest;
    }
    None
}

/// Turn a PKCS#8 v1 encoding into v2 with `public_key` (a raw key) as its `publicKey [1]`.
fn pkcs8_v1_to_v2(v1: &[u8], public_key: &[u8]) -> Vec<u8> {
    let (_, body, _) = der_tlv(v1).expect("PKCS#8 SEQUENCE");
    let (_, _, rest) = der_tlv(body).expect("PKCS#8 version");
    let mut inner = vec![0x02, 0x01, 0x01];
    inner.extend_from_slice(rest);
    let mut bits = vec![0];
    bits.extend_from_slice(public_key);
    inner.extend_from_slice(&der_encode(0x81, &bits));
    der_encode(0x30, &inner)
}

/// Two public-key parse results agree: the same key, or errors of the same kind.
#[track_caller]
fn same_public(a: &tresor::Result<PublicKey>, b: &tresor::Result<PublicKey>, what: &str) {
    match (a, b) {
        (Ok(x), Ok(y)) => assert_eq!(x, y, "{what}: different keys"),
        (Err(x), Err(y)) => assert_eq!(x.kind(), y.kind(), "{what}: different errors"),
        _ => panic!("{what}: one parser accepted what the other refused: {a:?} vs {b:?}"),
    }
}

/// Two private-key parse results agree: the same canonical PKCS#8, or errors of the same kind.
#[track_caller]
fn same_private(a: &tresor::Result<PrivateKey>, b: &tresor::Result<PrivateKey>, what: &str) {
    match (a, b) {
        (Ok(x), Ok(y)) => {
            assert_eq!(x.pkcs8_der(), y.pkcs8_der(), "{what}: different keys");
            assert_eq!(
                x.public_key(),
                y.public_key(),
                "{what}: different public keys"
            );
        }
        (Err(x), Err(y)) => assert_eq!(x.kind(), y.kind(), "{what}: different errors"),
        _ => panic!("{what}: one parser accepted what the other refused: {a:?} vs {b:?}"),
    }
}

/// Two results of the same operation on the two backends agree.
#[cfg(feature = "native")]
#[track_caller]
fn same_bytes<T: AsRef<[u8]>, U: AsRef<[u8]>>(
    a: &tresor::Result<T>,
    b: &tresor::Result<U>,
    what: &str,
) {
    match (a, b) {
        (Ok(x), Ok(y)) => assert_eq!(x.as_ref(), y.as_ref(), "{what}: backends disagree"),
        (Err(x), Err(y)) => assert_eq!(x.kind(), y.kind(), "{what}: backends disagree: {x} / {y}"),
        (Ok(_), Err(e)) => panic!("{what}: portable accepted, native refused: {e}"),
        (Err(e), Ok(_)) => panic!("{what}: native accepted, portable refused: {e}"),
    }
}

/// Every encoding of a parsed public key parses back to the same key, and the portable backend takes it.
pub fn public_key_properties(key: &PublicKey) {
    let kt = key.key_type();
    let spki = key.spki_der();
    let again = PublicKey::from_spki_der(spki).expect("canonical SPKI parses");
    assert_eq!(&again, key, "SPKI round trip");
    assert_eq!(
        PublicKey::from_der_or_pem(spki).as_ref().ok(),
        Some(key),
        "DER-or-PEM (DER) round trip"
    );
    let pem = key.to_pem();
    assert_eq!(
        PublicKey::from_pem(&pem).as_ref().ok(),
        Some(key),
        "PEM round trip"
    );
    assert_eq!(
        PublicKey::from_der_or_pem(pem.as_bytes()).as_ref().ok(),
        Some(key),
        "DER-or-PEM (PEM) round trip"
    );
    assert!(
        PrivateKey::from_pem(&pem).is_err(),
        "a public PEM parsed as a private key"
    );
    assert_eq!(
        PublicKey::from_raw(kt, &key.raw()).as_ref().ok(),
        Some(key),
        "raw round trip"
    );
    let jwk = key.to_jwk();
    assert_eq!(
        PublicKey::from_jwk(&jwk).as_ref().ok(),
        Some(key),
        "JWK round trip: {jwk}"
    );
    let fp = key.fingerprint();
    assert_eq!(fp, Fingerprint::of_key_bytes(key.fingerprint_input()));
    assert_eq!(
        fp.to_string().parse::<Fingerprint>().ok(),
        Some(fp),
        "fingerprint text round trip"
    );
    assert_eq!(Fingerprint::from_bytes(fp.as_bytes()).ok(), Some(fp));

    // The backends must take every key the parsers accept.
    backend_takes_public::<Portable>(key);
    #[cfg(feature = "native")]
    backend_takes_public::<tresor::primitives::Native>(key);
}

fn backend_takes_public<B: Backend>(key: &PublicKey) {
    let kt = key.key_type();
    let verifier = Verifier::<B>::with_backend(key.clone());
    match kt.signing_spec() {
        Some(spec) => {
            let v = verifier.expect("the backend takes a parsed signing key");
            let r = v.verify(spec.default_algorithm(), MESSAGE, &[0x30, 0x00]);
            allow(
                &r,
                &[ErrorKind::InvalidSignature, ErrorKind::MalformedSignature],
                "bogus signature",
            );
            assert!(r.is_err(), "a bogus signature verified");
        }
        None => assert_eq!(kind(&verifier), Some(ErrorKind::IncompatibleKey)),
    }
    let encrypter = Encrypter::<B>::with_backend(key.clone());
    match kt.encryption_spec() {
        Some(spec) => {
            let e = encrypter.expect("the backend takes a parsed encryption key");
            let ct = e.encrypt(spec.default_algorithm(), b"x");
            assert!(ct.is_ok(), "encryption to a parsed key failed: {ct:?}");
        }
        None => assert_eq!(kind(&encrypter), Some(ErrorKind::IncompatibleKey)),
    }
}

/// Every encoding of a parsed private key parses back to the same key, and it works on the backends.
pub fn private_key_properties(key: &PrivateKey) {
    let again = PrivateKey::from_pkcs8_der(key.pkcs8_der()).expect("canonical PKCS#8 parses");
    assert_eq!(
        again.pkcs8_der(),
        key.pkcs8_der(),
        "PKCS#8 is not canonical"
    );
    assert_eq!(again.public_key(), key.public_key(), "PKCS#8 round trip");
    assert_eq!(again.key_type(), key.key_type());
    let pem = key.to_pem().expect("PEM encoding");
    same_private(
        &PrivateKey::from_pem(&pem),
        &Ok(again.clone()),
        "PEM round trip",
    );
    same_private(
        &PrivateKey::from_der_or_pem(pem.as_bytes()),
        &Ok(again),
        "DER-or-PEM (PEM) round trip",
    );
    assert!(
        PublicKey::from_pem(&pem).is_err(),
        "a private PEM parsed as a public key"
    );
    public_key_properties(key.public_key());

    backend_takes_private::<Portable>(key);
    #[cfg(feature = "native")]
    backend_takes_private::<tresor::primitives::Native>(key);
}

fn backend_takes_private<B: Backend>(key: &PrivateKey) {
    let kt = key.key_type();
    match kt.signing_spec() {
        Some(spec) => {
            let algo = spec.default_algorithm();
            let signer = Signer::<B>::with_backend(key.clone()).expect("signer from a parsed key");
            let sig = signer.sign(algo, MESSAGE).expect("signing");
            Verifier::<Portable>::with_backend(key.public_key().clone())
                .and_then(|v| v.verify(algo, MESSAGE, &sig))
                .expect("portable verifies the signature of a parsed key");
            #[cfg(feature = "native")]
            tresor::primitives::Verifier::<tresor::primitives::Native>::with_backend(
                key.public_key().clone(),
            )
            .and_then(|v| v.verify(algo, MESSAGE, &sig))
            .expect("native verifies the signature of a parsed key");
        }
        None => assert_eq!(
            kind(&Signer::<B>::with_backend(key.clone())),
            Some(ErrorKind::IncompatibleKey)
        ),
    }
    let decrypter = Decrypter::<B>::with_backend(key.clone());
    match kt.encryption_spec() {
        Some(EncryptionKeySpec::EcP256) => {
            let d = decrypter.expect("decrypter from a parsed P-256 key");
            for algo in [
                EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Cbc,
                EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Gcm,
            ] {
                let ct = Encrypter::<B>::with_backend(key.public_key().clone())
                    .and_then(|e| e.encrypt(algo, MESSAGE))
                    .expect("ECIES encryption");
                let pt = d.decrypt(algo, &ct).expect("ECIES decryption");
                assert_eq!(pt.as_slice(), MESSAGE, "ECIES round trip");
            }
        }
        Some(EncryptionKeySpec::Rsa2048) => {
            if B::NAME == "portable" {
                // Portable refuses RSA decryption by design (RUSTSEC-2023-0071).
                assert_eq!(kind(&decrypter), Some(ErrorKind::UnsupportedAlgorithm));
            } else {
                let d = decrypter.expect("decrypter from a parsed RSA key");
                let algo = EncryptionAlgorithmSpec::RsaOaepSha256;
                let ct = Encrypter::<Portable>::with_backend(key.public_key().clone())
                    .and_then(|e| e.encrypt(algo, MESSAGE))
                    .expect("RSA-OAEP encryption");
                let pt = d.decrypt(algo, &ct).expect("RSA-OAEP decryption");
                assert_eq!(pt.as_slice(), MESSAGE, "RSA-OAEP round trip");
            }
        }
        None => assert_eq!(kind(&decrypter), Some(ErrorKind::IncompatibleKey)),
    }
}

// --- key parsers ---------------------------------------------------------------------------------

/// `spki`: DER SubjectPublicKeyInfo, and the same bytes as a raw key of every type.
pub fn check_spki(data: &[u8]) {
    let parsed = PublicKey::from_spki_der(data);
    allow(
        &parsed,
        &[ErrorKind::MalformedKey, ErrorKind::UnsupportedAlgorithm],
        "from_spki_der",
    );
    if !looks_like_pem(data) {
        same_public(
            &PublicKey::from_der_or_pem(data),
            &parsed,
            "from_der_or_pem vs from_spki_der",
        );
    }
    if let Ok(key) = &parsed {
        public_key_properties(key);
    }
    for kt in KEY_TYPES {
        let raw = PublicKey::from_raw(kt, data);
        allow(
            &raw,
            &[ErrorKind::MalformedKey, ErrorKind::UnsupportedAlgorithm],
            "from_raw",
        );
        if let Ok(key) = raw {
            assert_eq!(key.key_type(), kt);
            public_key_properties(&key);
        }
    }
}

/// `pkcs8`: DER PKCS#8 private keys, and the same bytes as a raw seed or scalar of every type.
pub fn check_pkcs8(data: &[u8]) {
    let parsed = PrivateKey::from_pkcs8_der(data);
    allow(
        &parsed,
        &[ErrorKind::MalformedKey, ErrorKind::UnsupportedAlgorithm],
        "from_pkcs8_der",
    );
    if !looks_like_pem(data) {
        same_private(
            &PrivateKey::from_der_or_pem(data),
            &parsed,
            "from_der_or_pem vs from_pkcs8_der",
        );
    }
    if let Ok(key) = &parsed {
        // PKCS#8 v2 is accepted only when its public key is the private key's own.
        if let Some(public) = pkcs8_v2_public_key(data) {
            assert_eq!(
                PublicKey::from_raw(key.key_type(), public).ok().as_ref(),
                Some(key.public_key()),
                "a PKCS#8 v2 key whose public key does not match was accepted"
            );
        }
        private_key_properties(key);
    }
    for kt in KEY_TYPES {
        let raw = PrivateKey::from_raw_secret(kt, data);
        allow(
            &raw,
            &[ErrorKind::MalformedKey, ErrorKind::InvalidArgument],
            "from_raw_secret",
        );
        if let Ok(key) = raw {
            // Most short inputs are valid scalars: keep this path cheap (no backend round trips).
            assert_eq!(key.key_type(), kt);
            let again = PrivateKey::from_pkcs8_der(key.pkcs8_der()).expect("canonical PKCS#8");
            assert_eq!(
                again.pkcs8_der(),
                key.pkcs8_der(),
                "raw secret -> PKCS#8 round trip"
            );
            assert_eq!(again.public_key(), key.public_key());
        }
    }
}

/// `pem`: PEM public and private keys (and `from_der_or_pem` on the same bytes).
pub fn check_pem(data: &[u8]) {
    let kinds = [ErrorKind::MalformedKey, ErrorKind::UnsupportedAlgorithm];
    let public_any = PublicKey::from_der_or_pem(data);
    let private_any = PrivateKey::from_der_or_pem(data);
    allow(&public_any, &kinds, "PublicKey::from_der_or_pem");
    allow(&private_any, &kinds, "PrivateKey::from_der_or_pem");
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let public = PublicKey::from_pem(text);
    let private = PrivateKey::from_pem(text);
    allow(&public, &kinds, "PublicKey::from_pem");
    allow(&private, &kinds, "PrivateKey::from_pem");
    assert!(
        !(public.is_ok() && private.is_ok()),
        "one PEM text parsed as both a public and a private key"
    );
    if looks_like_pem(data) {
        same_public(&public_any, &public, "from_der_or_pem vs from_pem (public)");
        same_private(
            &private_any,
            &private,
            "from_der_or_pem vs from_pem (private)",
        );
    }
    if let Ok(key) = &public {
        public_key_properties(key);
    }
    if let Ok(key) = &private {
        private_key_properties(key);
    }
}

/// `jwk`: public JWKs.
pub fn check_jwk(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = PublicKey::from_jwk(text);
    allow(
        &parsed,
        &[ErrorKind::MalformedKey, ErrorKind::UnsupportedAlgorithm],
        "from_jwk",
    );
    if let Ok(key) = &parsed {
        let json: serde_json::Value = serde_json::from_str(text).expect("an accepted JWK is JSON");
        assert!(
            json.get("d").is_none(),
            "a JWK with a private member 'd' was accepted"
        );
        public_key_properties(key);
    }
}

// --- signatures ----------------------------------------------------------------------------------

fn field_len(spec: SigningKeySpec) -> usize {
    match spec {
        SigningKeySpec::EcP384 => 48,
        _ => 32,
    }
}

/// `ecdsa_der`: `spec selector(1) ‖ bytes`. The bytes are tried as a DER signature and as raw `r ‖ s`.
///
/// `ecdsa_der_to_raw` accepts only strict, minimal DER (short or minimal long lengths, minimal positive
/// non-zero INTEGERs, no trailing data), and `ecdsa_raw_to_der` writes exactly that form, so converting an
/// accepted signature to raw and back must give the input bytes back, for every accepted input.
pub fn check_ecdsa_der(data: &[u8]) {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    let specs = SigningKeySpec::ALL;
    let spec = specs[usize::from(sel) % specs.len()];
    let to_raw = ecdsa_der_to_raw(spec, bytes);
    let to_der = ecdsa_raw_to_der(spec, bytes);
    if spec == SigningKeySpec::EcCurve25519 {
        assert_eq!(kind(&to_raw), Some(ErrorKind::IncompatibleKey));
        assert_eq!(kind(&to_der), Some(ErrorKind::IncompatibleKey));
        return;
    }
    allow(
        &to_raw,
        &[ErrorKind::MalformedSignature],
        "ecdsa_der_to_raw",
    );
    allow(
        &to_der,
        &[ErrorKind::MalformedSignature],
        "ecdsa_raw_to_der",
    );
    let n = field_len(spec);
    if let Ok(raw) = to_raw {
        assert_eq!(raw.len(), 2 * n, "raw signature length");
        let der = ecdsa_raw_to_der(spec, &raw).expect("an accepted signature re-encodes");
        assert_eq!(der, bytes, "DER -> raw -> DER is not the identity");
    }
    if let Ok(der) = to_der {
        let raw = ecdsa_der_to_raw(spec, &der).expect("raw_to_der output parses");
        assert_eq!(raw, bytes, "raw -> DER -> raw is not the identity");
    }
    if bytes.len() == 2 * n {
        let (r, s) = bytes.split_at(n);
        let zero = |v: &[u8]| v.iter().all(|b| *b == 0);
        assert_eq!(
            ecdsa_raw_to_der(spec, bytes).is_ok(),
            !zero(r) && !zero(s),
            "raw_to_der refuses exactly zero r or s"
        );
    }
}

/// A fixed verifier per key type on one backend (RSA has none).
struct FixedVerifiers<B: Backend>(Vec<Option<Verifier<B>>>);

impl<B: Backend> FixedVerifiers<B> {
    fn new() -> Self {
        Self(
            fixed_keys()
                .private
                .iter()
                .map(|k| Verifier::<B>::with_backend(k.public_key().clone()).ok())
                .collect(),
        )
    }
}

fn portable_verifiers() -> &'static FixedVerifiers<Portable> {
    static V: OnceLock<FixedVerifiers<Portable>> = OnceLock::new();
    V.get_or_init(FixedVerifiers::new)
}

#[cfg(feature = "native")]
fn native_verifiers() -> &'static FixedVerifiers<tresor::primitives::Native> {
    static V: OnceLock<FixedVerifiers<tresor::primitives::Native>> = OnceLock::new();
    V.get_or_init(FixedVerifiers::new)
}

fn verify_one<B: Backend>(
    verifiers: &FixedVerifiers<B>,
    key: usize,
    algo: SigningAlgorithmSpec,
    rule: Ed25519Rule,
    sig: &[u8],
) -> tresor::Result<()> {
    match &verifiers.0[key] {
        Some(v) => {
            // `with_ed25519_rule` takes the verifier by value; verifiers are cheap to rebuild but the
            // rule only matters for Ed25519, so build a fresh one only then.
            if rule == Ed25519Rule::Strict {
                v.verify(algo, MESSAGE, sig)
            } else {
                Verifier::<B>::with_backend(v.public_key().clone())?
                    .with_ed25519_rule(rule)
                    .verify(algo, MESSAGE, sig)
            }
        }
        None => {
            Verifier::<B>::with_backend(fixed_keys().private[key].public_key().clone()).map(|_| ())
        }
    }
}

/// `signature_verify`: `key(1) ‖ algorithm(1) ‖ rule(1) ‖ signature`, verified over [`MESSAGE`] with the
/// fixed key `KEY_TYPES[key % 5]`, `SigningAlgorithmSpec::ALL[algorithm % 3]` and the strict (even) or
/// RFC 8032 (odd) Ed25519 rule.
pub fn check_signature_verify(data: &[u8]) {
    let [k, a, r, sig @ ..] = data else {
        return;
    };
    let key = usize::from(*k) % KEY_TYPES.len();
    let kt = KEY_TYPES[key];
    let algos = SigningAlgorithmSpec::ALL;
    let algo = algos[usize::from(*a) % algos.len()];
    let rule = if r & 1 == 0 {
        Ed25519Rule::Strict
    } else {
        Ed25519Rule::Rfc8032
    };
    let res = verify_one(portable_verifiers(), key, algo, rule, sig);
    let Some(spec) = kt.signing_spec() else {
        assert_eq!(kind(&res), Some(ErrorKind::IncompatibleKey), "RSA verifier");
        return;
    };
    if algo.check_key_spec(spec).is_err() {
        assert_eq!(
            kind(&res),
            Some(ErrorKind::IncompatibleKey),
            "algorithm/key"
        );
        return;
    }
    allow(
        &res,
        &[ErrorKind::InvalidSignature, ErrorKind::MalformedSignature],
        "verify",
    );
    if res.is_ok() {
        match algo.signature_format() {
            SignatureFormat::Concat => assert_eq!(sig.len(), 64),
            SignatureFormat::Der => {
                // Only canonical DER verifies: no alternative encodings of one signature.
                let raw = ecdsa_der_to_raw(spec, sig).expect("a verifying signature is strict DER");
                assert_eq!(
                    ecdsa_raw_to_der(spec, &raw).ok().as_deref(),
                    Some(sig),
                    "a verifying signature is canonical DER"
                );
            }
        }
        if rule == Ed25519Rule::Strict && kt == KeyType::Ed25519 {
            assert!(
                verify_one(portable_verifiers(), key, algo, Ed25519Rule::Rfc8032, sig).is_ok(),
                "strict accepted what RFC 8032 refused"
            );
        }
    }
    #[cfg(feature = "native")]
    {
        let native = verify_one(native_verifiers(), key, algo, rule, sig);
        assert_eq!(
            res.is_ok(),
            native.is_ok(),
            "backends disagree on a {kt} signature: portable {res:?}, native {native:?}"
        );
    }
}

// --- ciphertexts ---------------------------------------------------------------------------------

fn p256_decrypter() -> &'static Decrypter<Portable> {
    static D: OnceLock<Decrypter<Portable>> = OnceLock::new();
    D.get_or_init(|| {
        Decrypter::<Portable>::with_backend(fixed_keys().private(KeyType::EcP256).clone())
            .expect("P-256 decrypter")
    })
}

#[cfg(feature = "native")]
fn native_decrypter(kt: KeyType) -> &'static Decrypter<tresor::primitives::Native> {
    use tresor::primitives::Native;
    static P256: OnceLock<Decrypter<Native>> = OnceLock::new();
    static RSA: OnceLock<Decrypter<Native>> = OnceLock::new();
    let cell = if kt == KeyType::Rsa2048 { &RSA } else { &P256 };
    cell.get_or_init(|| {
        Decrypter::<Native>::with_backend(fixed_keys().private(kt).clone())
            .expect("native decrypter")
    })
}

fn check_ecies(data: &[u8], algo: EncryptionAlgorithmSpec, well_formed: bool, overhead: usize) {
    let res = p256_decrypter().decrypt(algo, data);
    match &res {
        Ok(pt) => {
            assert!(well_formed, "a malformed ciphertext opened");
            let body = data.len() - overhead;
            if algo == EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Cbc {
                // PKCS#7 removes 1..=16 bytes.
                assert!(
                    pt.len() < body && pt.len() + 16 >= body,
                    "CBC plaintext length"
                );
            } else {
                assert_eq!(pt.len(), body, "GCM plaintext length");
            }
        }
        Err(e) => {
            let expected = if well_formed {
                ErrorKind::DecryptionFailed
            } else {
                ErrorKind::MalformedCiphertext
            };
            assert_eq!(e.kind(), expected, "{algo}: {e}");
        }
    }
    // The same bytes under the other algorithm families of this key.
    let rsa = p256_decrypter().decrypt(EncryptionAlgorithmSpec::RsaOaepSha256, data);
    assert_eq!(kind(&rsa), Some(ErrorKind::IncompatibleKey));
    #[cfg(feature = "native")]
    same_bytes(
        &res,
        &native_decrypter(KeyType::EcP256).decrypt(algo, data),
        algo.as_str(),
    );
}

/// `ciphertext_ecies_cbc`: Canton's ECIES-CBC wire format `IV(16) ‖ point(65) ‖ n·16 ‖ tag(32)`, to the
/// fixed P-256 key.
pub fn check_ciphertext_ecies_cbc(data: &[u8]) {
    const OVERHEAD: usize = 16 + 65 + 32;
    let well_formed = data.len() >= OVERHEAD + 16
        && (data.len() - OVERHEAD).is_multiple_of(16)
        && data[16] == 0x04;
    check_ecies(
        data,
        EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Cbc,
        well_formed,
        OVERHEAD,
    );
}

/// `ciphertext_ecies_gcm`: the legacy ECIES-GCM wire format `point(65) ‖ IV(12) ‖ ciphertext ‖ tag(16)`, to
/// the fixed P-256 key.
pub fn check_ciphertext_ecies_gcm(data: &[u8]) {
    const OVERHEAD: usize = 65 + 12 + 16;
    let well_formed = data.len() >= OVERHEAD && data[0] == 0x04;
    check_ecies(
        data,
        EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Gcm,
        well_formed,
        OVERHEAD,
    );
}

/// Split an `ciphertext_aes_gcm` input: `flags(1) ‖ aad_len(1) ‖ aad ‖ ciphertext`.
fn split_aes_input(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&flags, rest) = data.split_first()?;
    let (&aad_len, rest) = rest.split_first()?;
    let aad_len = usize::from(aad_len).min(rest.len());
    let (aad, ct) = rest.split_at(aad_len);
    Some((flags, aad, ct))
}

fn aes_gcm_open<B: Backend>(flags: u8, aad: &[u8], ct: &[u8]) -> tresor::Result<Vec<u8>> {
    let keys = fixed_keys();
    let raw: &[u8] = if flags & 1 == 0 {
        &keys.aes128
    } else {
        &keys.aes256
    };
    let key = AesGcmKey::<B>::with_backend(raw).expect("fixed AES key");
    let res = key.decrypt(ct, aad).map(|pt| pt.to_vec());
    if let Ok(pt) = &res {
        // GCM is deterministic for a given IV: what opened must re-encrypt to the same bytes.
        let iv: &[u8; 12] = ct[..12].try_into().expect("an opened ciphertext has an IV");
        let again = key.encrypt_with_iv(iv, pt, aad).expect("re-encryption");
        assert_eq!(again, ct, "AES-GCM re-encryption differs");
    }
    res
}

/// `ciphertext_aes_gcm`: `flags(1) ‖ aad_len(1) ‖ aad ‖ IV(12) ‖ ciphertext ‖ tag(16)`; flag bit 0 picks
/// the fixed AES-256 key instead of the AES-128 one. The bytes after the flags are also tried as a key.
pub fn check_ciphertext_aes_gcm(data: &[u8]) {
    let Some((flags, aad, ct)) = split_aes_input(data) else {
        return;
    };
    let res = aes_gcm_open::<Portable>(flags, aad, ct);
    match &res {
        Ok(pt) => assert_eq!(pt.len() + 28, ct.len(), "AES-GCM plaintext length"),
        Err(e) => {
            let expected = if ct.len() < 28 {
                ErrorKind::MalformedCiphertext
            } else {
                ErrorKind::DecryptionFailed
            };
            assert_eq!(e.kind(), expected, "AES-GCM: {e}");
        }
    }
    let key_bytes = &data[1..data.len().min(41)];
    let key = AesGcmKey::<Portable>::with_backend(key_bytes);
    assert_eq!(
        key.is_ok(),
        key_bytes.len() == 16 || key_bytes.len() == 32,
        "AES-GCM key length check"
    );
    allow(&key, &[ErrorKind::MalformedKey], "AesGcmKey");
    #[cfg(feature = "native")]
    same_bytes(
        &res,
        &aes_gcm_open::<tresor::primitives::Native>(flags, aad, ct),
        "AES-GCM",
    );
}

/// `ciphertext_rsa_oaep`: an RSA-OAEP-SHA256 ciphertext to the fixed RSA-2048 key; the same bytes are also
/// encrypted as a plaintext.
///
/// The portable backend refuses RSA decryption by design, so without the native backend this checks the
/// backend-independent parts only: the refusal, the 190-byte plaintext bound and the key-spec pairing.
/// With it (the fuzz script builds this target with `--features native`), ciphertexts go through the
/// native decrypter's length check and aws-lc's OAEP decoding, and every encryption must round-trip.
pub fn check_ciphertext_rsa_oaep(data: &[u8]) {
    let algo = EncryptionAlgorithmSpec::RsaOaepSha256;
    let rsa = fixed_keys().private(KeyType::Rsa2048);
    assert_eq!(
        kind(&Decrypter::<Portable>::with_backend(rsa.clone())),
        Some(ErrorKind::UnsupportedAlgorithm)
    );
    assert_eq!(
        kind(&p256_decrypter().decrypt(algo, data)),
        Some(ErrorKind::IncompatibleKey)
    );
    let encrypter =
        Encrypter::<Portable>::with_backend(rsa.public_key().clone()).expect("RSA encrypter");
    for ecies in [
        EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Cbc,
        EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Gcm,
    ] {
        assert_eq!(
            kind(&encrypter.encrypt(ecies, data)),
            Some(ErrorKind::IncompatibleKey)
        );
    }
    let ct = encrypter.encrypt(algo, data);
    if data.len() <= tresor::primitives::RSA_OAEP_MAX_PLAINTEXT {
        let ct = ct.expect("RSA-OAEP encrypts up to 190 bytes");
        assert_eq!(ct.len(), 256);
        #[cfg(feature = "native")]
        {
            let pt = native_decrypter(KeyType::Rsa2048)
                .decrypt(algo, &ct)
                .expect("native decrypts a portable ciphertext");
            assert_eq!(pt.as_slice(), data, "RSA-OAEP round trip");
        }
    } else {
        assert_eq!(kind(&ct), Some(ErrorKind::InputTooLarge));
    }
    #[cfg(feature = "native")]
    {
        let res = native_decrypter(KeyType::Rsa2048).decrypt(algo, data);
        match &res {
            Ok(pt) => {
                assert_eq!(data.len(), 256);
                assert!(pt.len() <= tresor::primitives::RSA_OAEP_MAX_PLAINTEXT);
            }
            Err(e) if data.len() != 256 => assert_eq!(e.kind(), ErrorKind::MalformedCiphertext),
            Err(e) => assert_eq!(e.kind(), ErrorKind::DecryptionFailed, "{e}"),
        }
    }
}

// --- strings -------------------------------------------------------------------------------------

macro_rules! check_spec {
    ($t:ty, $s:expr, $n:expr) => {{
        let s: &str = $s;
        match s.parse::<$t>() {
            Ok(v) => {
                let t = s.trim();
                assert!(
                    v.as_str().eq_ignore_ascii_case(t) || v.canton_name().eq_ignore_ascii_case(t),
                    "{} accepted {s:?} as {v}",
                    stringify!($t)
                );
                assert_eq!(v.as_str().parse::<$t>().ok(), Some(v));
                assert_eq!(v.canton_name().parse::<$t>().ok(), Some(v));
                assert_eq!(v.to_string(), v.as_str());
            }
            Err(e) => assert_eq!(e.kind(), ErrorKind::UnknownScheme),
        }
        match <$t>::from_proto($n) {
            Ok(v) => assert_eq!(v.proto(), Some($n)),
            Err(e) => assert_eq!(e.kind(), ErrorKind::UnknownScheme),
        }
    }};
}

/// `scheme_strings`: every `FromStr` of the crate (scheme enums, fingerprints, usages, usage lists), the
/// proto-number lookups and `Fingerprint::from_bytes`, on the input as (lossy) UTF-8.
pub fn check_scheme_strings(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let s = text.as_ref();
    let n = data
        .get(..4)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    check_spec!(SigningKeySpec, s, n);
    check_spec!(SigningAlgorithmSpec, s, n);
    check_spec!(EncryptionKeySpec, s, n);
    check_spec!(EncryptionAlgorithmSpec, s, n);
    check_spec!(SignatureFormat, s, n);
    check_spec!(SymmetricKeyScheme, s, n);

    match s.parse::<Fingerprint>() {
        Ok(fp) => assert_eq!(fp.to_string(), s.trim(), "fingerprint text is canonical"),
        Err(e) => assert_eq!(e.kind(), ErrorKind::MalformedData),
    }
    match Fingerprint::from_bytes(data) {
        Ok(fp) => {
            assert_eq!(fp.as_bytes().as_slice(), data);
            assert_eq!(fp.to_string().parse::<Fingerprint>().ok(), Some(fp));
        }
        Err(e) => assert_eq!(e.kind(), ErrorKind::MalformedData),
    }

    match s.parse::<SigningKeyUsage>() {
        Ok(u) => assert_eq!(u.as_str().parse::<SigningKeyUsage>().ok(), Some(u)),
        Err(e) => assert_eq!(e.kind(), ErrorKind::InvalidKeyUsage),
    }
    let list = SigningKeyUsageSet::parse_list(s);
    match &list {
        Ok(set) => {
            let shown = set.to_string();
            assert_eq!(SigningKeyUsageSet::parse_list(&shown).ok(), Some(*set));
            assert_eq!(
                SigningKeyUsageSet::new(&set.iter().collect::<Vec<_>>()).ok(),
                Some(*set)
            );
            assert_eq!(
                SigningKeyUsageSet::from_db_types(&set.db_types()).ok(),
                Some(*set)
            );
        }
        Err(e) => assert_eq!(e.kind(), ErrorKind::InvalidKeyUsage),
    }
    assert_eq!(s.parse::<SigningKeyUsageSet>().ok(), list.ok());
    let types: Vec<i16> = data
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    match SigningKeyUsageSet::from_db_types(&types) {
        Ok(set) => assert_eq!(
            SigningKeyUsageSet::from_db_types(&set.db_types()).ok(),
            Some(set)
        ),
        Err(e) => assert_eq!(e.kind(), ErrorKind::InvalidKeyUsage),
    }
}

// --- seeds ---------------------------------------------------------------------------------------

/// The seed corpus: `(target, file name, bytes)`, made with tresor and the fixed keys. Written to
/// `core/fuzz/seeds/<target>/<file name>` by `cargo test -p tresor --test fuzz_regressions -- --ignored
/// write_seeds`. ECIES and RSA-OAEP ciphertexts are randomised, so regenerating changes those files (every
/// version is valid); the rest (keys, RFC 6979 signatures, fixed-IV AES-GCM) is reproducible.
pub fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let keys = fixed_keys();
    let mut out: Vec<(&'static str, String, Vec<u8>)> = Vec::new();
    let mut add = |target: &'static str, name: &str, bytes: Vec<u8>| {
        out.push((target, name.to_owned(), bytes));
    };
    let names = ["ed25519", "p256", "p384", "secp256k1", "rsa2048"];
    for (key, name) in keys.private.iter().zip(names) {
        let public = key.public_key();
        add("spki", &format!("{name}.der"), public.spki_der().to_vec());
        add("pkcs8", &format!("{name}.der"), key.pkcs8_der().to_vec());
        add(
            "pem",
            &format!("{name}-public.pem"),
            public.to_pem().into_bytes(),
        );
        add(
            "pem",
            &format!("{name}-private.pem"),
            key.to_pem().expect("PEM").as_bytes().to_vec(),
        );
        add("jwk", &format!("{name}.json"), public.to_jwk().into_bytes());
        if key.key_type() != KeyType::Rsa2048 {
            add("spki", &format!("{name}-raw.bin"), public.raw());
        }
    }
    // EC keys with compressed points (accepted, canonicalised to uncompressed).
    for (i, name) in [(1usize, "p256"), (3, "secp256k1")] {
        let raw = keys.private[i].public_key().raw();
        let prefix = &keys.private[i].public_key().spki_der()
            [..keys.private[i].public_key().spki_der().len() - raw.len()];
        let mut compressed = vec![0x02 | (raw[64] & 1)];
        compressed.extend_from_slice(&raw[1..33]);
        // SEQUENCE and BIT STRING lengths shrink by 32.
        let mut der = prefix.to_vec();
        der[1] -= 32;
        let last = der.len() - 2;
        der[last] -= 32;
        der.extend_from_slice(&compressed);
        add("spki", &format!("{name}-compressed.der"), der);
    }
    // RSA SPKI without the NULL parameters (accepted, canonicalised to NULL).
    {
        let spki = keys.private[4].public_key().spki_der();
        // 30 82 01 22 | 30 0d 06 09 <oid 9> 05 00 | 03 82 01 0f 00 ...
        let mut der = vec![0x30, 0x82, 0x01, 0x20, 0x30, 0x0b];
        der.extend_from_slice(&spki[6..17]);
        der.extend_from_slice(&spki[19..]);
        add("spki", "rsa2048-no-null.der", der);
    }
    // PKCS#8 v2 (OneAsymmetricKey) with the matching public key, for every type.
    for (key, name) in keys.private.iter().zip(names) {
        let v2 = pkcs8_v1_to_v2(key.pkcs8_der(), &key.public_key().raw());
        add("pkcs8", &format!("{name}-v2.der"), v2);
    }
    add("pkcs8", "p256-scalar.bin", vec![0x22; 32]);

    // A JWK with a private member must be refused.
    {
        let jwk = keys.private[0].public_key().to_jwk();
        let mut json: serde_json::Value = serde_json::from_str(&jwk).expect("JWK is JSON");
        if let Some(obj) = json.as_object_mut() {
            obj.insert(
                "d".to_owned(),
                "ERERERERERERERERERERERERERERERERERERERERERE".into(),
            );
        }
        add("jwk", "private-member.json", json.to_string().into_bytes());
    }

    // Signatures over MESSAGE: key selector, algorithm selector, rule, signature.
    let algo_index = |a: SigningAlgorithmSpec| {
        SigningAlgorithmSpec::ALL
            .iter()
            .position(|x| *x == a)
            .expect("known algorithm") as u8
    };
    for (i, (key, name)) in keys.private.iter().zip(names).enumerate().take(4) {
        let spec = key.key_type().signing_spec().expect("signing key");
        let algo = spec.default_algorithm();
        let sig = Signer::<Portable>::with_backend(key.clone())
            .and_then(|s| s.sign(algo, MESSAGE))
            .expect("sign");
        let mut input = vec![i as u8, algo_index(algo), 0];
        input.extend_from_slice(&sig);
        add("signature_verify", &format!("{name}.bin"), input.clone());
        // The same signature with the other Ed25519 rule and with a mismatched algorithm.
        input[2] = 1;
        add(
            "signature_verify",
            &format!("{name}-rfc8032.bin"),
            input.clone(),
        );
        input[1] = (input[1] + 1) % 3;
        add("signature_verify", &format!("{name}-mismatch.bin"), input);
        if algo != SigningAlgorithmSpec::Ed25519 {
            let sel = SigningKeySpec::ALL
                .iter()
                .position(|s| *s == spec)
                .expect("known spec") as u8;
            let mut der = vec![sel];
            der.extend_from_slice(&sig);
            add("ecdsa_der", &format!("{name}.der"), der);
            let mut raw = vec![sel];
            raw.extend_from_slice(&ecdsa_der_to_raw(spec, &sig).expect("raw"));
            add("ecdsa_der", &format!("{name}-raw.bin"), raw);
        }
    }
    add("signature_verify", "rsa.bin", vec![4, 0, 0, 0x30, 0x00]);
    add(
        "ecdsa_der",
        "ed25519.bin",
        vec![0, 0x30, 0x06, 2, 1, 1, 2, 1, 1],
    );

    // Ciphertexts to the fixed P-256 key.
    let p256 = Encrypter::<Portable>::with_backend(keys.private[1].public_key().clone())
        .expect("P-256 encrypter");
    for len in [0usize, 1, 16, 100] {
        let pt: Vec<u8> = (0..len).map(|i| i as u8).collect();
        for (target, algo) in [
            (
                "ciphertext_ecies_cbc",
                EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Cbc,
            ),
            (
                "ciphertext_ecies_gcm",
                EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Gcm,
            ),
        ] {
            let ct = p256.encrypt(algo, &pt).expect("ECIES");
            add(target, &format!("pt{len}.bin"), ct);
        }
    }
    // AES-GCM: flags, aad length, aad, IV ‖ ciphertext ‖ tag.
    for (flags, aad, len) in [
        (0u8, &b""[..], 0usize),
        (0, b"", 20),
        (1, b"", 5),
        (0, b"aad", 33),
        (1, b"context", 64),
    ] {
        let raw: &[u8] = if flags & 1 == 0 {
            &keys.aes128
        } else {
            &keys.aes256
        };
        let key = AesGcmKey::<Portable>::with_backend(raw).expect("AES key");
        let pt: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        let iv = [len as u8; 12];
        let ct = key.encrypt_with_iv(&iv, &pt, aad).expect("AES-GCM");
        let mut input = vec![flags, aad.len() as u8];
        input.extend_from_slice(aad);
        input.extend_from_slice(&ct);
        add(
            "ciphertext_aes_gcm",
            &format!(
                "key{}-aad{}-pt{len}.bin",
                if flags & 1 == 0 { 128 } else { 256 },
                aad.len()
            ),
            input,
        );
    }
    // RSA-OAEP ciphertexts to the fixed RSA key, and a plaintext.
    let rsa = Encrypter::<Portable>::with_backend(keys.private[4].public_key().clone())
        .expect("RSA encrypter");
    for len in [0usize, 32, 190] {
        let pt = vec![0xa5; len];
        let ct = rsa
            .encrypt(EncryptionAlgorithmSpec::RsaOaepSha256, &pt)
            .expect("RSA-OAEP");
        add("ciphertext_rsa_oaep", &format!("pt{len}.bin"), ct);
    }
    add(
        "ciphertext_rsa_oaep",
        "plaintext.bin",
        b"an RSA-OAEP plaintext".to_vec(),
    );

    // Strings.
    let fingerprint = keys.private[0].public_key().fingerprint().to_string();
    let strings: Vec<String> = SigningKeySpec::ALL
        .iter()
        .map(|s| s.as_str().to_owned())
        .chain(
            SigningAlgorithmSpec::ALL
                .iter()
                .map(|s| s.canton_name().to_owned()),
        )
        .chain(EncryptionKeySpec::ALL.iter().map(|s| s.as_str().to_owned()))
        .chain(
            EncryptionAlgorithmSpec::ALL
                .iter()
                .map(|s| s.as_str().to_owned()),
        )
        .chain(
            SignatureFormat::ALL
                .iter()
                .map(|s| s.canton_name().to_owned()),
        )
        .chain(
            SymmetricKeyScheme::ALL
                .iter()
                .map(|s| s.as_str().to_owned()),
        )
        .chain([
            fingerprint.clone(),
            format!(" {fingerprint}\n"),
            "namespace, signing".to_owned(),
            "sequencer-auth,protocol,proof-of-ownership".to_owned(),
            "namespace,proof-of-ownership".to_owned(),
            "Sequencer-Authentication".to_owned(),
        ])
        .collect();
    for (i, s) in strings.into_iter().enumerate() {
        add("scheme_strings", &format!("s{i:02}.txt"), s.into_bytes());
    }
    add(
        "scheme_strings",
        "fingerprint.bin",
        keys.private[1]
            .public_key()
            .fingerprint()
            .as_bytes()
            .to_vec(),
    );
    add("scheme_strings", "db-types.bin", vec![0, 0, 3, 0, 4, 0]);
    out
}
