//! Public and private keys, their encodings, Canton fingerprints and signing-key usages.
//!
//! Every parser here is strict and canonicalising: a key is accepted only if it is well-formed DER (or PEM
//! around DER, or a well-formed JWK) and a valid point or modulus for its type; what is kept and written
//! back is one canonical form — DER X.509 SubjectPublicKeyInfo with uncompressed EC points, and PKCS#8 v1
//! for private keys — so the same key always has the same bytes and the same fingerprint.
//!
//! Private keys zeroize their bytes on drop and never show them in `Debug` output.

use core::fmt;
use core::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use der::{Decode, Encode};
use pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, ErrorKind, Result};
use crate::scheme::{EncryptionKeySpec, KeySpec, SigningKeySpec};

/// The mathematical type of a key pair. Signing and encryption key specs map onto it; P-256 serves both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// Ed25519 (signing only).
    Ed25519,
    /// NIST P-256 (ECDSA signing, ECIES encryption).
    EcP256,
    /// NIST P-384 (ECDSA signing).
    EcP384,
    /// secp256k1 (ECDSA signing).
    EcSecp256k1,
    /// RSA with a 2048-bit modulus (OAEP encryption).
    Rsa2048,
}

impl KeyType {
    /// The signing key spec of this type, if keys of this type can sign.
    pub const fn signing_spec(self) -> Option<SigningKeySpec> {
        match self {
            Self::Ed25519 => Some(SigningKeySpec::EcCurve25519),
            Self::EcP256 => Some(SigningKeySpec::EcP256),
            Self::EcP384 => Some(SigningKeySpec::EcP384),
            Self::EcSecp256k1 => Some(SigningKeySpec::EcSecp256k1),
            Self::Rsa2048 => None,
        }
    }

    /// The encryption key spec of this type, if keys of this type can decrypt.
    pub const fn encryption_spec(self) -> Option<EncryptionKeySpec> {
        match self {
            Self::EcP256 => Some(EncryptionKeySpec::EcP256),
            Self::Rsa2048 => Some(EncryptionKeySpec::Rsa2048),
            _ => None,
        }
    }

    /// The config string of the key type, Canton's key spec name (`ec-curve-25519`, `ec-p-256`,
    /// `ec-p-384`, `ec-secp-256k-1`, `rsa-2048`); what [`FromStr`] reads.
    pub fn spec_name(self) -> &'static str {
        match (self.signing_spec(), self.encryption_spec()) {
            (Some(s), _) => s.as_str(),
            (None, Some(e)) => e.as_str(),
            (None, None) => self.name(),
        }
    }

    /// A short human name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Ed25519 => "Ed25519",
            Self::EcP256 => "EC P-256",
            Self::EcP384 => "EC P-384",
            Self::EcSecp256k1 => "EC secp256k1",
            Self::Rsa2048 => "RSA-2048",
        }
    }

    /// The signing key spec, or [`ErrorKind::IncompatibleKey`] for a key that cannot sign.
    pub fn require_signing(self) -> Result<SigningKeySpec> {
        self.signing_spec().ok_or_else(|| {
            Error::incompatible_key(format!("a {} key cannot be used for signing", self.name()))
        })
    }

    /// The encryption key spec, or [`ErrorKind::IncompatibleKey`] for a key that cannot be used for
    /// encryption.
    pub fn require_encryption(self) -> Result<EncryptionKeySpec> {
        self.encryption_spec().ok_or_else(|| {
            Error::incompatible_key(format!(
                "a {} key cannot be used for encryption",
                self.name()
            ))
        })
    }

    /// The key spec of this type for `purpose`, or [`ErrorKind::IncompatibleKey`].
    pub fn require(self, purpose: crate::scheme::Purpose) -> Result<KeySpec> {
        Ok(match purpose {
            crate::scheme::Purpose::Signing => KeySpec::Signing(self.require_signing()?),
            crate::scheme::Purpose::Encryption => KeySpec::Encryption(self.require_encryption()?),
        })
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for KeyType {
    type Err = Error;

    /// A key spec's config string (signing or encryption: `ec-curve-25519`, `ec-p-256`, `ec-p-384`,
    /// `ec-secp-256k-1`, `rsa-2048`; Canton's display names too) names the key type.
    fn from_str(s: &str) -> Result<Self> {
        if let Ok(spec) = s.parse::<SigningKeySpec>() {
            return Ok(spec.into());
        }
        match s.parse::<EncryptionKeySpec>() {
            Ok(spec) => Ok(spec.into()),
            Err(_) => Err(Error::new(
                ErrorKind::UnknownScheme,
                format!(
                    "unknown key spec '{}'; accepted: {}, {}",
                    s.escape_debug(),
                    SigningKeySpec::accepted(),
                    EncryptionKeySpec::Rsa2048
                ),
            )),
        }
    }
}

impl From<KeySpec> for KeyType {
    fn from(s: KeySpec) -> Self {
        match s {
            KeySpec::Signing(s) => s.into(),
            KeySpec::Encryption(s) => s.into(),
        }
    }
}

impl From<SigningKeySpec> for KeyType {
    fn from(s: SigningKeySpec) -> Self {
        match s {
            SigningKeySpec::EcCurve25519 => Self::Ed25519,
            SigningKeySpec::EcP256 => Self::EcP256,
            SigningKeySpec::EcP384 => Self::EcP384,
            SigningKeySpec::EcSecp256k1 => Self::EcSecp256k1,
        }
    }
}

impl From<EncryptionKeySpec> for KeyType {
    fn from(s: EncryptionKeySpec) -> Self {
        match s {
            EncryptionKeySpec::EcP256 => Self::EcP256,
            EncryptionKeySpec::Rsa2048 => Self::Rsa2048,
        }
    }
}

// --- DER constants -------------------------------------------------------------------------------

const OID_ED25519: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_EC_PUBLIC_KEY: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_SECP256K1: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.3.132.0.10");
const OID_RSA: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// SPKI prefixes for the fixed-size key types (everything before the raw key bytes).
const SPKI_PREFIX_ED25519: &[u8] = &[
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];
const SPKI_PREFIX_P256: &[u8] = &[
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
const SPKI_PREFIX_P384: &[u8] = &[
    0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
    0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00,
];
const SPKI_PREFIX_SECP256K1: &[u8] = &[
    0x30, 0x56, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
    0x81, 0x04, 0x00, 0x0a, 0x03, 0x42, 0x00,
];
/// PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410), followed by the 32-byte seed.
const PKCS8_PREFIX_ED25519: &[u8] = &[
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

// --- Public keys ---------------------------------------------------------------------------------

/// A validated public key, held as canonical DER SubjectPublicKeyInfo.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PublicKey {
    key_type: KeyType,
    spki: Box<[u8]>,
    /// Offset of the raw key inside `spki` (for fixed-size types); 0 for RSA.
    raw_offset: usize,
}

impl PublicKey {
    fn from_raw_fixed(key_type: KeyType, raw: &[u8]) -> Self {
        let prefix = match key_type {
            KeyType::Ed25519 => SPKI_PREFIX_ED25519,
            KeyType::EcP256 => SPKI_PREFIX_P256,
            KeyType::EcP384 => SPKI_PREFIX_P384,
            KeyType::EcSecp256k1 => SPKI_PREFIX_SECP256K1,
            KeyType::Rsa2048 => &[],
        };
        let mut spki = Vec::with_capacity(prefix.len() + raw.len());
        spki.extend_from_slice(prefix);
        spki.extend_from_slice(raw);
        Self {
            key_type,
            spki: spki.into_boxed_slice(),
            raw_offset: prefix.len(),
        }
    }

    /// Parse a DER X.509 SubjectPublicKeyInfo (Ed25519, EC P-256/P-384/secp256k1 with compressed or
    /// uncompressed points, or RSA-2048 with `rsaEncryption`).
    pub fn from_spki_der(der: &[u8]) -> Result<Self> {
        if der.is_empty() {
            return Err(Error::malformed_key("public key is empty"));
        }
        let spki = spki::SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| Error::malformed_key(format!("not a DER SubjectPublicKeyInfo ({e})")))?;
        let bits = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| Error::malformed_key("public key BIT STRING has unused bits"))?;
        let oid = spki.algorithm.oid;
        if oid == OID_ED25519 {
            if spki.algorithm.parameters.is_some() {
                return Err(Error::malformed_key(
                    "Ed25519 SubjectPublicKeyInfo must not have parameters",
                ));
            }
            Self::from_raw(KeyType::Ed25519, bits)
        } else if oid == OID_EC_PUBLIC_KEY {
            let curve = spki
                .algorithm
                .parameters
                .ok_or_else(|| {
                    Error::malformed_key("EC SubjectPublicKeyInfo has no curve parameter")
                })?
                .decode_as::<der::asn1::ObjectIdentifier>()
                .map_err(|_| Error::malformed_key("EC curve parameter is not a named-curve OID"))?;
            let key_type = if curve == OID_P256 {
                KeyType::EcP256
            } else if curve == OID_P384 {
                KeyType::EcP384
            } else if curve == OID_SECP256K1 {
                KeyType::EcSecp256k1
            } else {
                return Err(Error::new(
                    ErrorKind::UnsupportedAlgorithm,
                    format!("unsupported EC curve {curve}; supported: P-256, P-384, secp256k1"),
                ));
            };
            Self::from_raw(key_type, bits)
        } else if oid == OID_RSA {
            match spki.algorithm.parameters {
                None => {}
                Some(p) if der::Tagged::tag(&p) == der::Tag::Null && p.value().is_empty() => {}
                Some(_) => {
                    return Err(Error::malformed_key(
                        "rsaEncryption parameters must be NULL",
                    ));
                }
            }
            Self::from_raw(KeyType::Rsa2048, bits)
        } else {
            Err(Error::new(
                ErrorKind::UnsupportedAlgorithm,
                format!(
                    "unsupported public key algorithm {oid}; supported: Ed25519, EC (P-256, P-384, secp256k1), RSA-2048"
                ),
            ))
        }
    }

    /// Parse a raw public key: Ed25519 = 32 bytes; EC = SEC1 point (uncompressed, or compressed which is
    /// decompressed); RSA = DER PKCS#1 `RSAPublicKey`.
    pub fn from_raw(key_type: KeyType, raw: &[u8]) -> Result<Self> {
        match key_type {
            KeyType::Ed25519 => {
                let bytes: [u8; 32] = raw.try_into().map_err(|_| {
                    Error::malformed_key(format!(
                        "Ed25519 public key must be 32 bytes, got {}",
                        raw.len()
                    ))
                })?;
                ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| {
                    Error::malformed_key("Ed25519 public key is not a valid curve point")
                })?;
                Ok(Self::from_raw_fixed(key_type, &bytes))
            }
            KeyType::EcP256 => Ok(Self::from_raw_fixed(
                key_type,
                &ec_uncompressed::<p256::NistP256>(raw, "P-256")?,
            )),
            KeyType::EcP384 => Ok(Self::from_raw_fixed(
                key_type,
                &ec_uncompressed::<p384::NistP384>(raw, "P-384")?,
            )),
            KeyType::EcSecp256k1 => Ok(Self::from_raw_fixed(
                key_type,
                &ec_uncompressed::<k256::Secp256k1>(raw, "secp256k1")?,
            )),
            KeyType::Rsa2048 => {
                use rsa::pkcs1::DecodeRsaPublicKey;
                let key = rsa::RsaPublicKey::from_pkcs1_der(raw).map_err(|e| {
                    Error::malformed_key(format!("not a valid DER RSAPublicKey ({e})"))
                })?;
                check_rsa_size(key.n().bits_vartime() as usize)?;
                let spki = key.to_public_key_der().map_err(|e| {
                    Error::malformed_key(format!("cannot encode RSA public key ({e})"))
                })?;
                Ok(Self {
                    key_type,
                    spki: spki.as_bytes().into(),
                    raw_offset: 0,
                })
            }
        }
    }

    /// Parse a PEM `PUBLIC KEY` block (SPKI).
    pub fn from_pem(pem: &str) -> Result<Self> {
        let der = pem_decode(pem, &["PUBLIC KEY"], "public key")?;
        Self::from_spki_der(&der)
    }

    /// Parse a public key file's contents: PEM if it looks like PEM, DER SPKI otherwise.
    pub fn from_der_or_pem(bytes: &[u8]) -> Result<Self> {
        match as_pem(bytes) {
            Some(text) => Self::from_pem(text),
            None => Self::from_spki_der(bytes),
        }
    }

    /// Parse a public JWK (RFC 7517/7518/8037): `EC` (P-256, P-384, secp256k1), `OKP` (Ed25519) or `RSA`.
    pub fn from_jwk(json: &str) -> Result<Self> {
        let v: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| Error::malformed_key(format!("JWK is not valid JSON ({e})")))?;
        let obj = v
            .as_object()
            .ok_or_else(|| Error::malformed_key("JWK must be a JSON object"))?;
        if obj.contains_key("d") {
            return Err(Error::malformed_key(
                "JWK contains a private key ('d'); only public JWKs are accepted",
            ));
        }
        let field = |name: &str| -> Result<Vec<u8>> {
            let s = obj
                .get(name)
                .and_then(|x| x.as_str())
                .ok_or_else(|| Error::malformed_key(format!("JWK lacks string member '{name}'")))?;
            B64URL.decode(s).map_err(|_| {
                Error::malformed_key(format!("JWK member '{name}' is not unpadded base64url"))
            })
        };
        let kty = obj.get("kty").and_then(|x| x.as_str()).unwrap_or("");
        let crv = obj.get("crv").and_then(|x| x.as_str()).unwrap_or("");
        match kty {
            "OKP" if crv == "Ed25519" => Self::from_raw(KeyType::Ed25519, &field("x")?),
            "EC" => {
                let (key_type, len) = match crv {
                    "P-256" => (KeyType::EcP256, 32),
                    "P-384" => (KeyType::EcP384, 48),
                    "secp256k1" => (KeyType::EcSecp256k1, 32),
                    other => {
                        return Err(Error::new(
                            ErrorKind::UnsupportedAlgorithm,
                            format!(
                                "unsupported JWK EC curve '{}'; supported: P-256, P-384, secp256k1",
                                other.escape_debug()
                            ),
                        ));
                    }
                };
                let (x, y) = (field("x")?, field("y")?);
                if x.len() != len || y.len() != len {
                    return Err(Error::malformed_key(format!(
                        "JWK {crv} coordinates must be {len} bytes each"
                    )));
                }
                let mut point = Vec::with_capacity(1 + 2 * len);
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                Self::from_raw(key_type, &point)
            }
            "RSA" => {
                let (n, e) = (field("n")?, field("e")?);
                let key = rsa::pkcs1::RsaPublicKey {
                    modulus: rsa::pkcs1::UintRef::new(&n)
                        .map_err(|_| Error::malformed_key("JWK RSA 'n' is invalid"))?,
                    public_exponent: rsa::pkcs1::UintRef::new(&e)
                        .map_err(|_| Error::malformed_key("JWK RSA 'e' is invalid"))?,
                };
                let der = key
                    .to_der()
                    .map_err(|_| Error::malformed_key("JWK RSA key cannot be encoded"))?;
                Self::from_raw(KeyType::Rsa2048, &der)
            }
            _ => Err(Error::new(
                ErrorKind::UnsupportedAlgorithm,
                format!(
                    "unsupported JWK kty '{}' / crv '{}'; supported: OKP/Ed25519, EC/P-256, EC/P-384, EC/secp256k1, RSA",
                    kty.escape_debug(),
                    crv.escape_debug()
                ),
            )),
        }
    }

    /// The key type.
    pub const fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The canonical DER SubjectPublicKeyInfo (EC points uncompressed), as Canton stores public keys.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The SPKI as PEM (`-----BEGIN PUBLIC KEY-----`), as OpenSSL writes it.
    pub fn to_pem(&self) -> String {
        pem_rfc7468::encode_string("PUBLIC KEY", pem_rfc7468::LineEnding::LF, &self.spki)
            .unwrap_or_else(|_| String::new())
    }

    /// The raw key: Ed25519 32 bytes, EC uncompressed SEC1 point, RSA DER PKCS#1 `RSAPublicKey`.
    pub fn raw(&self) -> Vec<u8> {
        match self.key_type {
            KeyType::Rsa2048 => spki::SubjectPublicKeyInfoRef::from_der(&self.spki)
                .ok()
                .and_then(|s| s.subject_public_key.as_bytes().map(<[u8]>::to_vec))
                .unwrap_or_default(),
            _ => self.spki[self.raw_offset..].to_vec(),
        }
    }

    /// The raw key bytes for fixed-size types without copying (empty for RSA).
    pub(crate) fn raw_fixed(&self) -> &[u8] {
        if self.key_type == KeyType::Rsa2048 {
            &[]
        } else {
            &self.spki[self.raw_offset..]
        }
    }

    /// The key as a public JWK (compact JSON).
    pub fn to_jwk(&self) -> String {
        let raw = self.raw();
        let v = match self.key_type {
            KeyType::Ed25519 => {
                serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": B64URL.encode(&raw)})
            }
            KeyType::EcP256 | KeyType::EcP384 | KeyType::EcSecp256k1 => {
                let crv = match self.key_type {
                    KeyType::EcP256 => "P-256",
                    KeyType::EcP384 => "P-384",
                    _ => "secp256k1",
                };
                let len = (raw.len() - 1) / 2;
                serde_json::json!({
                    "kty": "EC", "crv": crv,
                    "x": B64URL.encode(&raw[1..1 + len]),
                    "y": B64URL.encode(&raw[1 + len..]),
                })
            }
            KeyType::Rsa2048 => match rsa::pkcs1::RsaPublicKey::from_der(&raw) {
                Ok(k) => serde_json::json!({
                    "kty": "RSA",
                    "n": B64URL.encode(uint_bytes(&k.modulus)),
                    "e": B64URL.encode(uint_bytes(&k.public_exponent)),
                }),
                Err(_) => serde_json::json!({}),
            },
        };
        v.to_string()
    }

    /// The Canton fingerprint of this key.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of_key_bytes(self.fingerprint_input())
    }

    /// The bytes Canton hashes for the fingerprint: the raw 32-byte key for Ed25519, the SPKI otherwise.
    pub fn fingerprint_input(&self) -> &[u8] {
        match self.key_type {
            KeyType::Ed25519 => &self.spki[self.raw_offset..],
            _ => &self.spki,
        }
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("key_type", &self.key_type)
            .field("fingerprint", &self.fingerprint().to_string())
            .finish()
    }
}

fn uint_bytes<'a>(u: &rsa::pkcs1::UintRef<'a>) -> &'a [u8] {
    u.as_bytes()
}

fn check_rsa_size(bits: usize) -> Result<()> {
    if bits == 2048 {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::UnsupportedAlgorithm,
            format!("RSA keys must have a 2048-bit modulus (Canton's rsa-2048), got {bits} bits"),
        ))
    }
}

fn ec_uncompressed<C>(raw: &[u8], curve: &str) -> Result<Vec<u8>>
where
    C: elliptic_curve::CurveArithmetic + elliptic_curve::point::PointCompression,
    elliptic_curve::AffinePoint<C>:
        elliptic_curve::sec1::FromSec1Point<C> + elliptic_curve::sec1::ToSec1Point<C>,
    elliptic_curve::FieldBytesSize<C>: elliptic_curve::sec1::ModulusSize,
{
    use elliptic_curve::sec1::ToSec1Point;
    let pk = elliptic_curve::PublicKey::<C>::from_sec1_bytes(raw).map_err(|_| {
        Error::malformed_key(format!(
            "not a valid {curve} point (SEC1, on the curve, not identity)"
        ))
    })?;
    Ok(pk.as_affine().to_sec1_point(false).as_bytes().to_vec())
}

// --- Private keys --------------------------------------------------------------------------------

/// A validated private key, held as canonical PKCS#8 v1 DER. Zeroized on drop; `Debug` shows only the
/// key type and the fingerprint of its public key.
#[derive(Clone)]
pub struct PrivateKey {
    key_type: KeyType,
    pkcs8: Zeroizing<Vec<u8>>,
    /// Ed25519 seed or EC scalar (big-endian, field size); empty for RSA.
    secret: Zeroizing<Vec<u8>>,
    public: PublicKey,
}

impl PrivateKey {
    /// Parse a PKCS#8 DER `PrivateKeyInfo` (v1, or v2 whose public key must match).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        if der.is_empty() {
            return Err(Error::malformed_key("private key is empty"));
        }
        let info = pkcs8::PrivateKeyInfoRef::from_der(der)
            .map_err(|e| Error::malformed_key(format!("not a DER PKCS#8 PrivateKeyInfo ({e})")))?;
        let oid = info.algorithm.oid;
        let embedded_public = match &info.public_key {
            Some(bits) => Some(
                bits.as_bytes()
                    .ok_or_else(|| Error::malformed_key("PKCS#8 public key has unused bits"))?,
            ),
            None => None,
        };
        let key = if oid == OID_ED25519 {
            if info.algorithm.parameters.is_some() {
                return Err(Error::malformed_key(
                    "Ed25519 PKCS#8 must not have algorithm parameters",
                ));
            }
            let inner = <&der::asn1::OctetStringRef>::from_der(info.private_key.as_bytes())
                .map_err(|_| Error::malformed_key("Ed25519 private key is not an OCTET STRING"))?;
            let seed: [u8; 32] = inner
                .as_bytes()
                .try_into()
                .map_err(|_| Error::malformed_key("Ed25519 private key seed must be 32 bytes"))?;
            let key = Self::ed25519_from_seed(&seed);
            if embedded_public.is_some_and(|p| p != key.public.raw_fixed()) {
                return Err(Error::malformed_key(
                    "PKCS#8 public key does not match the private key",
                ));
            }
            key
        } else if oid == OID_EC_PUBLIC_KEY {
            let curve = info
                .algorithm
                .parameters
                .ok_or_else(|| Error::malformed_key("EC PKCS#8 has no curve parameter"))?
                .decode_as::<der::asn1::ObjectIdentifier>()
                .map_err(|_| Error::malformed_key("EC curve parameter is not a named-curve OID"))?;
            if curve == OID_P256 {
                Self::ec_from_pkcs8::<p256::NistP256>(KeyType::EcP256, der)?
            } else if curve == OID_P384 {
                Self::ec_from_pkcs8::<p384::NistP384>(KeyType::EcP384, der)?
            } else if curve == OID_SECP256K1 {
                Self::ec_from_pkcs8::<k256::Secp256k1>(KeyType::EcSecp256k1, der)?
            } else {
                return Err(Error::new(
                    ErrorKind::UnsupportedAlgorithm,
                    format!("unsupported EC curve {curve}; supported: P-256, P-384, secp256k1"),
                ));
            }
        } else if oid == OID_RSA {
            let key = rsa::RsaPrivateKey::from_pkcs8_der(der)
                .map_err(|e| Error::malformed_key(format!("not a valid RSA private key ({e})")))?;
            check_rsa_size(key.n().bits_vartime() as usize)?;
            key.validate()
                .map_err(|_| Error::malformed_key("RSA private key is inconsistent"))?;
            Self::from_rsa(&key)?
        } else {
            return Err(Error::new(
                ErrorKind::UnsupportedAlgorithm,
                format!(
                    "unsupported private key algorithm {oid}; supported: Ed25519, EC (P-256, P-384, secp256k1), RSA-2048"
                ),
            ));
        };
        // PKCS#8 v2: the EC and RSA decoders ignore the outer `publicKey` field, so check it against the
        // key here for every type (found by the `pkcs8` fuzz target: a mismatching key was accepted).
        if let Some(p) = embedded_public
            && PublicKey::from_raw(key.key_type, p).ok().as_ref() != Some(&key.public)
        {
            return Err(Error::malformed_key(
                "PKCS#8 public key does not match the private key",
            ));
        }
        Ok(key)
    }

    /// An EC private key from its raw big-endian scalar (field-size bytes; a longer input with leading
    /// zeros is accepted), or an Ed25519 key from its 32-byte seed.
    pub fn from_raw_secret(key_type: KeyType, raw: &[u8]) -> Result<Self> {
        fn scalar(raw: &[u8], len: usize) -> Result<Zeroizing<Vec<u8>>> {
            let start = raw.len().saturating_sub(len);
            if raw[..start].iter().any(|b| *b != 0) {
                return Err(Error::malformed_key(format!(
                    "EC private scalar is longer than {len} bytes"
                )));
            }
            let mut v = Zeroizing::new(vec![0u8; len]);
            let tail = &raw[start..];
            v[len - tail.len()..].copy_from_slice(tail);
            Ok(v)
        }
        let bad = |_| {
            Error::malformed_key(format!(
                "not a valid {key_type} private scalar (zero or ≥ the group order)"
            ))
        };
        match key_type {
            KeyType::Ed25519 => {
                let seed: [u8; 32] = raw
                    .try_into()
                    .map_err(|_| Error::malformed_key("an Ed25519 seed is 32 bytes"))?;
                Ok(Self::ed25519_from_seed(&seed))
            }
            KeyType::EcP256 => Self::from_ec_secret(
                key_type,
                &p256::SecretKey::from_slice(&scalar(raw, 32)?).map_err(bad)?,
            ),
            KeyType::EcP384 => Self::from_ec_secret(
                key_type,
                &p384::SecretKey::from_slice(&scalar(raw, 48)?).map_err(bad)?,
            ),
            KeyType::EcSecp256k1 => Self::from_ec_secret(
                key_type,
                &k256::SecretKey::from_slice(&scalar(raw, 32)?).map_err(bad)?,
            ),
            KeyType::Rsa2048 => Err(Error::new(
                ErrorKind::InvalidArgument,
                "RSA private keys have no raw form here; use PKCS#8",
            )),
        }
    }

    pub(crate) fn ed25519_from_seed(seed: &[u8; 32]) -> Self {
        let sk = ed25519_dalek::SigningKey::from_bytes(seed);
        let public = PublicKey::from_raw_fixed(KeyType::Ed25519, sk.verifying_key().as_bytes());
        let mut pkcs8 = Zeroizing::new(Vec::with_capacity(48));
        pkcs8.extend_from_slice(PKCS8_PREFIX_ED25519);
        pkcs8.extend_from_slice(seed);
        Self {
            key_type: KeyType::Ed25519,
            pkcs8,
            secret: Zeroizing::new(seed.to_vec()),
            public,
        }
    }

    fn ec_from_pkcs8<C>(key_type: KeyType, der: &[u8]) -> Result<Self>
    where
        C: elliptic_curve::CurveArithmetic
            + elliptic_curve::point::PointCompression
            + pkcs8::AssociatedOid
            + elliptic_curve::sec1::ValidatePublicKey,
        elliptic_curve::AffinePoint<C>:
            elliptic_curve::sec1::FromSec1Point<C> + elliptic_curve::sec1::ToSec1Point<C>,
        elliptic_curve::FieldBytesSize<C>: elliptic_curve::sec1::ModulusSize,
    {
        let sk = elliptic_curve::SecretKey::<C>::from_pkcs8_der(der).map_err(|e| {
            Error::malformed_key(format!("not a valid {key_type} private key ({e})"))
        })?;
        Self::from_ec_secret(key_type, &sk)
    }

    pub(crate) fn from_ec_secret<C>(
        key_type: KeyType,
        sk: &elliptic_curve::SecretKey<C>,
    ) -> Result<Self>
    where
        C: elliptic_curve::CurveArithmetic
            + elliptic_curve::point::PointCompression
            + pkcs8::AssociatedOid,
        elliptic_curve::AffinePoint<C>:
            elliptic_curve::sec1::FromSec1Point<C> + elliptic_curve::sec1::ToSec1Point<C>,
        elliptic_curve::FieldBytesSize<C>: elliptic_curve::sec1::ModulusSize,
    {
        use elliptic_curve::sec1::ToSec1Point;
        let point = sk.public_key().as_affine().to_sec1_point(false);
        let public = PublicKey::from_raw_fixed(key_type, point.as_bytes());
        let pkcs8 = sk
            .to_pkcs8_der()
            .map_err(|_| Error::internal("cannot encode EC private key"))?;
        let mut secret_bytes = sk.to_bytes();
        let secret = Zeroizing::new(secret_bytes.to_vec());
        secret_bytes.zeroize();
        Ok(Self {
            key_type,
            pkcs8: Zeroizing::new(pkcs8.as_bytes().to_vec()),
            secret,
            public,
        })
    }

    pub(crate) fn from_rsa(key: &rsa::RsaPrivateKey) -> Result<Self> {
        let pkcs8 = key
            .to_pkcs8_der()
            .map_err(|_| Error::internal("cannot encode RSA private key"))?;
        let spki = key
            .to_public_key()
            .to_public_key_der()
            .map_err(|_| Error::internal("cannot encode RSA public key"))?;
        Ok(Self {
            key_type: KeyType::Rsa2048,
            pkcs8: Zeroizing::new(pkcs8.as_bytes().to_vec()),
            secret: Zeroizing::new(Vec::new()),
            public: PublicKey {
                key_type: KeyType::Rsa2048,
                spki: spki.as_bytes().into(),
                raw_offset: 0,
            },
        })
    }

    /// Parse a PEM `PRIVATE KEY` block (unencrypted PKCS#8), as `openssl genpkey` writes it.
    pub fn from_pem(pem: &str) -> Result<Self> {
        let der = Zeroizing::new(pem_decode(pem, &["PRIVATE KEY"], "private key")?);
        Self::from_pkcs8_der(&der)
    }

    /// Parse a private key file's contents: PEM if it looks like PEM, PKCS#8 DER otherwise.
    pub fn from_der_or_pem(bytes: &[u8]) -> Result<Self> {
        match as_pem(bytes) {
            Some(text) => Self::from_pem(text),
            None => Self::from_pkcs8_der(bytes),
        }
    }

    /// The key type.
    pub const fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The matching public key.
    pub const fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The canonical PKCS#8 v1 DER encoding. This is secret material: keep it in zeroizing memory.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The PKCS#8 encoding as PEM (`-----BEGIN PRIVATE KEY-----`), in zeroizing memory.
    pub fn to_pem(&self) -> Result<Zeroizing<String>> {
        pem_rfc7468::encode_string("PRIVATE KEY", pem_rfc7468::LineEnding::LF, &self.pkcs8)
            .map(Zeroizing::new)
            .map_err(|_| Error::internal("cannot encode PEM"))
    }

    /// The raw private key: the 32-byte Ed25519 seed, or the EC scalar (big-endian, field size: 32
    /// bytes for P-256 and secp256k1, 48 for P-384) — what [`from_raw_secret`](Self::from_raw_secret)
    /// reads. RSA keys have no raw form ([`ErrorKind::InvalidArgument`]; use PKCS#8 or JWK). Secret.
    pub fn to_raw_secret(&self) -> Result<Zeroizing<Vec<u8>>> {
        if self.key_type == KeyType::Rsa2048 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "RSA private keys have no raw form here; use PKCS#8 or JWK",
            ));
        }
        Ok(self.secret.clone())
    }

    /// Parse a private JWK (RFC 7517/7518/8037): `OKP` Ed25519 or `EC` (P-256, P-384, secp256k1) with
    /// `d` and the public members, or `RSA` with `n`, `e`, `d`, `p`, `q`, `dp`, `dq`, `qi`. The public
    /// members must match the private key. The secret members of the parsed JSON are wiped afterwards.
    pub fn from_jwk(json: &str) -> Result<Self> {
        let mut v: serde_json::Value = serde_json::from_str(json)
            .map_err(|_| Error::malformed_key("JWK is not valid JSON"))?;
        let r = Self::from_jwk_value(&v);
        if let Some(obj) = v.as_object_mut() {
            for m in ["d", "p", "q", "dp", "dq", "qi"] {
                if let Some(serde_json::Value::String(s)) = obj.get_mut(m) {
                    s.zeroize();
                }
            }
        }
        r
    }

    fn from_jwk_value(v: &serde_json::Value) -> Result<Self> {
        let obj = v
            .as_object()
            .ok_or_else(|| Error::malformed_key("JWK must be a JSON object"))?;
        if !obj.contains_key("d") {
            return Err(Error::malformed_key(
                "JWK has no private key ('d'); parse a public JWK with PublicKey::from_jwk",
            ));
        }
        let field = |name: &str| -> Result<Zeroizing<Vec<u8>>> {
            let s = obj
                .get(name)
                .and_then(|x| x.as_str())
                .ok_or_else(|| Error::malformed_key(format!("JWK lacks string member '{name}'")))?;
            B64URL.decode(s).map(Zeroizing::new).map_err(|_| {
                Error::malformed_key(format!("JWK member '{name}' is not unpadded base64url"))
            })
        };
        let kty = obj.get("kty").and_then(|x| x.as_str()).unwrap_or("");
        let key = match kty {
            "OKP" | "EC" => {
                // The public members, parsed as a public JWK (without `d`), name the key type.
                let mut public = obj.clone();
                public.remove("d");
                let public = PublicKey::from_jwk(&serde_json::Value::Object(public).to_string())?;
                let len = match public.key_type() {
                    KeyType::EcP384 => 48,
                    _ => 32,
                };
                let d = field("d")?;
                if d.len() != len {
                    return Err(Error::malformed_key(format!(
                        "JWK member 'd' must be {len} bytes for {}",
                        public.key_type()
                    )));
                }
                let key = Self::from_raw_secret(public.key_type(), &d)?;
                if key.public != public {
                    return Err(Error::malformed_key(
                        "JWK public members do not match the private key",
                    ));
                }
                key
            }
            "RSA" => {
                let m: Vec<Zeroizing<Vec<u8>>> = ["n", "e", "d", "p", "q", "dp", "dq", "qi"]
                    .iter()
                    .map(|n| field(n))
                    .collect::<Result<_>>()?;
                let uint = |i: usize, name: &str| {
                    rsa::pkcs1::UintRef::new(&m[i])
                        .map_err(|_| Error::malformed_key(format!("JWK RSA '{name}' is invalid")))
                };
                let pkcs1 = rsa::pkcs1::RsaPrivateKey {
                    modulus: uint(0, "n")?,
                    public_exponent: uint(1, "e")?,
                    private_exponent: uint(2, "d")?,
                    prime1: uint(3, "p")?,
                    prime2: uint(4, "q")?,
                    exponent1: uint(5, "dp")?,
                    exponent2: uint(6, "dq")?,
                    coefficient: uint(7, "qi")?,
                    other_prime_infos: None,
                };
                let der = Zeroizing::new(
                    pkcs1
                        .to_der()
                        .map_err(|_| Error::malformed_key("JWK RSA key cannot be encoded"))?,
                );
                use rsa::pkcs1::DecodeRsaPrivateKey;
                let key = rsa::RsaPrivateKey::from_pkcs1_der(&der)
                    .map_err(|_| Error::malformed_key("JWK RSA key is not a valid RSA key"))?;
                check_rsa_size(key.n().bits_vartime() as usize)?;
                key.validate()
                    .map_err(|_| Error::malformed_key("JWK RSA key is inconsistent"))?;
                Self::from_rsa(&key)?
            }
            other => {
                return Err(Error::new(
                    ErrorKind::UnsupportedAlgorithm,
                    format!(
                        "unsupported JWK kty '{}'; supported: OKP/Ed25519, EC (P-256, P-384, secp256k1), RSA",
                        other.escape_debug()
                    ),
                ));
            }
        };
        Ok(key)
    }

    /// The key as a private JWK (compact JSON): the public JWK's members plus `d` (and, for RSA, `p`,
    /// `q`, `dp`, `dq`, `qi`). Secret.
    pub fn to_jwk(&self) -> Result<Zeroizing<String>> {
        let public: serde_json::Value = serde_json::from_str(&self.public.to_jwk())
            .map_err(|_| Error::internal("cannot encode the public JWK"))?;
        let mut out = Zeroizing::new(String::with_capacity(2048));
        out.push('{');
        if let Some(obj) = public.as_object() {
            for (k, v) in obj {
                out.push_str(&format!("{}:{},", serde_json::Value::from(k.as_str()), v));
            }
        }
        let mut member = |name: &str, bytes: &[u8], last: bool| {
            out.push('"');
            out.push_str(name);
            out.push_str("\":\"");
            let enc = Zeroizing::new(B64URL.encode(bytes));
            out.push_str(&enc);
            out.push('"');
            if !last {
                out.push(',');
            }
        };
        match self.key_type {
            KeyType::Rsa2048 => {
                let info = pkcs8::PrivateKeyInfoRef::from_der(&self.pkcs8)
                    .map_err(|_| Error::internal("cannot decode the RSA private key"))?;
                let k = rsa::pkcs1::RsaPrivateKey::from_der(info.private_key.as_bytes())
                    .map_err(|_| Error::internal("cannot decode the RSA private key"))?;
                member("d", uint_bytes(&k.private_exponent), false);
                member("p", uint_bytes(&k.prime1), false);
                member("q", uint_bytes(&k.prime2), false);
                member("dp", uint_bytes(&k.exponent1), false);
                member("dq", uint_bytes(&k.exponent2), false);
                member("qi", uint_bytes(&k.coefficient), true);
            }
            _ => member("d", &self.secret, true),
        }
        out.push('}');
        Ok(out)
    }

    /// Ed25519 seed or EC scalar bytes (empty for RSA).
    pub(crate) fn secret_bytes(&self) -> &[u8] {
        &self.secret
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("key_type", &self.key_type)
            .field("public_fingerprint", &self.public.fingerprint().to_string())
            .finish_non_exhaustive()
    }
}

// --- PEM -----------------------------------------------------------------------------------------

/// If `bytes` is (trimmed) ASCII text starting with a PEM boundary, return it as text.
fn as_pem(bytes: &[u8]) -> Option<&str> {
    let text = core::str::from_utf8(bytes).ok()?;
    text.trim_start().starts_with("-----BEGIN ").then_some(text)
}

fn pem_decode(pem: &str, labels: &[&str], what: &str) -> Result<Vec<u8>> {
    let text = pem.trim();
    if text.is_empty() {
        return Err(Error::malformed_key(format!("{what} PEM is empty")));
    }
    let (label, der) = pem_rfc7468::decode_vec(text.as_bytes())
        .map_err(|e| Error::malformed_key(format!("{what} is not valid PEM ({e})")))?;
    if labels.contains(&label) {
        return Ok(der);
    }
    let hint = match label {
        "EC PRIVATE KEY" | "RSA PRIVATE KEY" => {
            " (a SEC1/PKCS#1 key: convert it with `openssl pkcs8 -topk8 -nocrypt`)"
        }
        "ENCRYPTED PRIVATE KEY" => {
            " (encrypted PKCS#8 is not supported: decrypt it with `openssl pkcs8`)"
        }
        "PRIVATE KEY" => " (this is a private key, a public key was expected)",
        "PUBLIC KEY" => " (this is a public key, a private key was expected)",
        _ => "",
    };
    Err(Error::malformed_key(format!(
        "expected PEM label {} for a {what}, found '{}'{hint}",
        labels.join(" or "),
        label.escape_debug()
    )))
}

// --- Fingerprints and hashes ---------------------------------------------------------------------

/// Canton hash purposes (`HashPurpose`), the 4-byte prefix of every hashed content.
pub mod hash_purpose {
    pub const SEQUENCED_EVENT_SIGNATURE: u32 = 1;
    pub const MERKLE_TREE_INNER_NODE: u32 = 3;
    pub const TOPOLOGY_TRANSACTION_SIGNATURE: u32 = 11;
    pub const PUBLIC_KEY_FINGERPRINT: u32 = 12;
    pub const AUTHENTICATION_TOKEN: u32 = 14;
    pub const SUBMISSION_REQUEST_SIGNATURE: u32 = 35;
    pub const ACKNOWLEDGEMENT_SIGNATURE: u32 = 36;
    pub const SIGNED_PROTOCOL_MESSAGE_SIGNATURE: u32 = 38;
    pub const PREPARED_SUBMISSION: u32 = 48;
    pub const MULTI_TOPOLOGY_TRANSACTION: u32 = 55;
    pub const SESSION_KEY_DELEGATION: u32 = 56;
    pub const ENCRYPTED_SESSION_KEY: u32 = 58;
    pub const CIPHERTEXT_ID: u32 = 64;
}

/// Canton's purpose-prefixed SHA-256 hash as a multihash: `0x12 0x20 ‖ SHA-256(u32be(purpose) ‖ content)`.
pub fn canton_hash(purpose: u32, content: &[u8]) -> [u8; 34] {
    let mut h = Sha256::new();
    h.update(purpose.to_be_bytes());
    h.update(content);
    let digest = h.finalize();
    let mut out = [0u8; 34];
    out[0] = 0x12;
    out[1] = 0x20;
    out[2..].copy_from_slice(&digest);
    out
}

/// A Canton key fingerprint: the multihash of the key bytes under purpose 12, shown as lowercase hex
/// (68 characters, always starting with `1220`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint([u8; 34]);

impl Fingerprint {
    /// Fingerprint of already-selected key bytes (see [`PublicKey::fingerprint_input`]).
    pub fn of_key_bytes(key_bytes: &[u8]) -> Self {
        Self(canton_hash(hash_purpose::PUBLIC_KEY_FINGERPRINT, key_bytes))
    }

    /// The 34 multihash bytes.
    pub const fn as_bytes(&self) -> &[u8; 34] {
        &self.0
    }

    /// Parse from the 34 multihash bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let b: [u8; 34] = bytes.try_into().map_err(|_| {
            Error::new(
                ErrorKind::MalformedData,
                "a fingerprint is 34 bytes (multihash SHA-256)",
            )
        })?;
        if b[0] != 0x12 || b[1] != 0x20 {
            return Err(Error::new(
                ErrorKind::MalformedData,
                "a fingerprint starts with the multihash prefix 1220",
            ));
        }
        Ok(Self(b))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl FromStr for Fingerprint {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        // Hot path of every sign and decrypt by fingerprint from the bindings: no allocation.
        fn nibble(c: u8) -> Option<u8> {
            match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                _ => None,
            }
        }
        let s = s.trim().as_bytes();
        let malformed = || {
            Error::new(
                ErrorKind::MalformedData,
                "a fingerprint is 68 lowercase hex characters starting with 1220",
            )
        };
        if s.len() != 68 {
            return Err(malformed());
        }
        let mut b = [0u8; 34];
        for (out, pair) in b.iter_mut().zip(s.chunks_exact(2)) {
            match (nibble(pair[0]), nibble(pair[1])) {
                (Some(hi), Some(lo)) => *out = hi << 4 | lo,
                _ => return Err(malformed()),
            }
        }
        Self::from_bytes(&b)
    }
}

// --- Signing key usage ---------------------------------------------------------------------------

/// What a signing key may sign (Canton `SigningKeyUsage`). Fixed when the key is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SigningKeyUsage {
    /// The root namespace key that defines a node's identity and signs topology transactions.
    Namespace,
    /// Authentication of members towards a sequencer.
    SequencerAuthentication,
    /// All protocol signing.
    Protocol,
    /// Self-signatures proving ownership of a key (internal to Canton).
    ProofOfOwnership,
}

impl SigningKeyUsage {
    /// Every usage.
    pub const ALL: [SigningKeyUsage; 4] = [
        Self::Namespace,
        Self::SequencerAuthentication,
        Self::Protocol,
        Self::ProofOfOwnership,
    ];

    /// The name tresor prints and parses (`namespace`, `sequencer-auth`, `protocol`, `proof-of-ownership`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Namespace => "namespace",
            Self::SequencerAuthentication => "sequencer-auth",
            Self::Protocol => "protocol",
            Self::ProofOfOwnership => "proof-of-ownership",
        }
    }

    /// Canton's database number (`dbType`).
    pub const fn db_type(self) -> i16 {
        match self {
            Self::Namespace => 0,
            Self::SequencerAuthentication => 2,
            Self::Protocol => 3,
            Self::ProofOfOwnership => 4,
        }
    }

    /// Canton's v30 proto number.
    pub const fn proto(self) -> u32 {
        match self {
            Self::Namespace => 1,
            Self::SequencerAuthentication => 3,
            Self::Protocol => 4,
            Self::ProofOfOwnership => 5,
        }
    }

    /// The usage for a Canton `dbType` (the removed `IdentityDelegation`, 1, gives `None`).
    pub fn from_db_type(n: i16) -> Option<Self> {
        Self::ALL.into_iter().find(|u| u.db_type() == n)
    }

    const fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for SigningKeyUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SigningKeyUsage {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim();
        let is = |name: &str| t.eq_ignore_ascii_case(name);
        match () {
            () if is("namespace") => Ok(Self::Namespace),
            () if is("sequencer-auth") || is("sequencer-authentication") => {
                Ok(Self::SequencerAuthentication)
            }
            // Canton's own identifier for the protocol usage is "signing".
            () if is("protocol") || is("signing") => Ok(Self::Protocol),
            () if is("proof-of-ownership") => Ok(Self::ProofOfOwnership),
            () => Err(Error::new(
                ErrorKind::InvalidKeyUsage,
                format!(
                    "unknown signing key usage '{}'; accepted: namespace, sequencer-auth, protocol, proof-of-ownership",
                    s.escape_debug()
                ),
            )),
        }
    }
}

/// A valid, non-empty set of signing key usages.
///
/// Invalid sets are rejected at construction: the empty set, `{proof-of-ownership}` and
/// `{namespace, proof-of-ownership}` (as in Canton).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SigningKeyUsageSet(u8);

impl SigningKeyUsageSet {
    /// Every usage (Canton `All`).
    pub const ALL: Self = Self(0b1111);
    /// Canton `NamespaceOnly`.
    pub const NAMESPACE_ONLY: Self = Self(1 << 0);
    /// Canton `SequencerAuthenticationOnly`.
    pub const SEQUENCER_AUTHENTICATION_ONLY: Self = Self(1 << 1);
    /// Canton `ProtocolOnly`.
    pub const PROTOCOL_ONLY: Self = Self(1 << 2);

    /// Build a set, rejecting the invalid ones.
    pub fn new(usages: &[SigningKeyUsage]) -> Result<Self> {
        let bits = usages.iter().fold(0u8, |acc, u| acc | u.bit());
        Self::from_bits(bits)
    }

    fn from_bits(bits: u8) -> Result<Self> {
        let poo = SigningKeyUsage::ProofOfOwnership.bit();
        let ns = SigningKeyUsage::Namespace.bit();
        if bits == 0 {
            return Err(Error::new(
                ErrorKind::InvalidKeyUsage,
                "a signing key needs at least one usage",
            ));
        }
        if bits == poo || bits == ns | poo {
            return Err(Error::new(
                ErrorKind::InvalidKeyUsage,
                "proof-of-ownership alone or with only namespace is not a valid usage set",
            ));
        }
        Ok(Self(bits & 0b1111))
    }

    /// Parse a comma-separated list (`namespace,protocol`).
    pub fn parse_list(s: &str) -> Result<Self> {
        // No allocation: this runs on every sign by fingerprint from the bindings.
        let mut bits = 0u8;
        for p in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            bits |= p.parse::<SigningKeyUsage>()?.bit();
        }
        let mut usages = [SigningKeyUsage::Namespace; 4];
        let mut n = 0;
        for u in SigningKeyUsage::ALL {
            if bits & u.bit() != 0 {
                usages[n] = u;
                n += 1;
            }
        }
        Self::new(&usages[..n])
    }

    /// Whether the set contains `usage`.
    pub const fn contains(self, usage: SigningKeyUsage) -> bool {
        self.0 & usage.bit() != 0
    }

    /// Whether the set shares at least one usage with `other` (Canton's rule for sign and verify).
    pub const fn intersects(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    /// The usages in the set.
    pub fn iter(self) -> impl Iterator<Item = SigningKeyUsage> {
        SigningKeyUsage::ALL
            .into_iter()
            .filter(move |u| self.contains(*u))
    }

    /// Canton `dbType` numbers of the usages.
    pub fn db_types(self) -> Vec<i16> {
        self.iter().map(SigningKeyUsage::db_type).collect()
    }

    /// Build from Canton `dbType` numbers (unknown or removed ones are ignored, as Canton does).
    pub fn from_db_types(types: &[i16]) -> Result<Self> {
        let usages: Vec<_> = types
            .iter()
            .filter_map(|t| SigningKeyUsage::from_db_type(*t))
            .collect();
        Self::new(&usages)
    }
}

impl fmt::Display for SigningKeyUsageSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.iter().map(SigningKeyUsage::as_str).collect();
        f.write_str(&names.join(","))
    }
}

impl fmt::Debug for SigningKeyUsageSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKeyUsageSet({self})")
    }
}

impl FromStr for SigningKeyUsageSet {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse_list(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_type_spec_names_parse_back() {
        for kt in [
            KeyType::Ed25519,
            KeyType::EcP256,
            KeyType::EcP384,
            KeyType::EcSecp256k1,
            KeyType::Rsa2048,
        ] {
            assert_eq!(kt.spec_name().parse::<KeyType>().expect("parse"), kt);
        }
        assert_eq!(KeyType::Ed25519.spec_name(), "ec-curve-25519");
    }

    #[test]
    fn private_jwk_round_trips_and_checks_its_public_members() {
        for kt in [
            KeyType::Ed25519,
            KeyType::EcP256,
            KeyType::EcP384,
            KeyType::EcSecp256k1,
            KeyType::Rsa2048,
        ] {
            let key = PrivateKey::generate(kt).expect("generate");
            let jwk = key.to_jwk().expect("jwk");
            let back = PrivateKey::from_jwk(&jwk).expect("parse");
            assert_eq!(back.pkcs8_der(), key.pkcs8_der(), "{kt}");
            // The public JWK is the private one without the secret members.
            assert_eq!(
                PublicKey::from_jwk(&key.public_key().to_jwk()).expect("public"),
                *key.public_key()
            );
            let e = PublicKey::from_jwk(&jwk).expect_err("a public parser refuses 'd'");
            assert_eq!(e.kind(), ErrorKind::MalformedKey);
            let e = PrivateKey::from_jwk(&key.public_key().to_jwk()).expect_err("no d");
            assert!(e.message().contains("no private key"), "{e}");
            match kt {
                KeyType::Rsa2048 => {
                    assert!(key.to_raw_secret().is_err());
                }
                _ => {
                    let raw = key.to_raw_secret().expect("raw");
                    let again = PrivateKey::from_raw_secret(kt, &raw).expect("from raw");
                    assert_eq!(again.pkcs8_der(), key.pkcs8_der());
                    // Another key's public members with this key's secret are refused.
                    let other = PrivateKey::generate(kt).expect("generate");
                    let mut v: serde_json::Value =
                        serde_json::from_str(&other.to_jwk().expect("jwk")).expect("json");
                    let d: serde_json::Value = serde_json::from_str(&jwk).expect("json");
                    v["d"] = d["d"].clone();
                    let e = PrivateKey::from_jwk(&v.to_string()).expect_err("mismatch");
                    assert!(e.message().contains("do not match"), "{e}");
                }
            }
        }
        // RFC 8037 A.1 (Ed25519) and RFC 7517 A.2 (P-256) private keys.
        let ed = PrivateKey::from_jwk(
            r#"{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
        )
        .expect("RFC 8037");
        assert_eq!(ed.key_type(), KeyType::Ed25519);
        let ec = PrivateKey::from_jwk(
            r#"{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","d":"870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE","use":"enc","kid":"1"}"#,
        )
        .expect("RFC 7517");
        assert_eq!(ec.key_type(), KeyType::EcP256);
        assert!(PrivateKey::from_jwk("[]").is_err() && PrivateKey::from_jwk("{").is_err());
        let e = PrivateKey::from_jwk(r#"{"kty":"oct","d":"AA"}"#).expect_err("oct");
        assert_eq!(e.kind(), ErrorKind::UnsupportedAlgorithm);
    }

    #[test]
    fn usage_sets() {
        use SigningKeyUsage::*;
        assert!(SigningKeyUsageSet::new(&[]).is_err());
        assert!(SigningKeyUsageSet::new(&[ProofOfOwnership]).is_err());
        assert!(SigningKeyUsageSet::new(&[Namespace, ProofOfOwnership]).is_err());
        assert!(SigningKeyUsageSet::new(&[Protocol, ProofOfOwnership]).is_ok());
        let s = SigningKeyUsageSet::parse_list("namespace, signing").ok();
        assert_eq!(s.map(|s| s.to_string()), Some("namespace,protocol".into()));
        assert!(SigningKeyUsageSet::PROTOCOL_ONLY.intersects(SigningKeyUsageSet::ALL));
        assert!(!SigningKeyUsageSet::PROTOCOL_ONLY.intersects(SigningKeyUsageSet::NAMESPACE_ONLY));
        assert_eq!(SigningKeyUsageSet::ALL.db_types(), vec![0, 2, 3, 4]);
        assert_eq!(
            SigningKeyUsageSet::from_db_types(&[1, 3]).ok(),
            Some(SigningKeyUsageSet::PROTOCOL_ONLY)
        );
        let e = "sign"
            .parse::<SigningKeyUsage>()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("accepted: namespace, sequencer-auth, protocol, proof-of-ownership"));
    }

    #[test]
    fn fingerprint_parse_display() {
        let fp = Fingerprint::of_key_bytes(b"abc");
        let s = fp.to_string();
        assert!(s.starts_with("1220") && s.len() == 68);
        assert_eq!(s.parse::<Fingerprint>().ok(), Some(fp));
        assert!(s.to_uppercase().parse::<Fingerprint>().is_err());
        assert!("1221".repeat(17).parse::<Fingerprint>().is_err());
    }

    #[test]
    fn pem_label_errors_are_helpful() {
        let e = PrivateKey::from_pem(
            "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains("openssl pkcs8 -topk8"), "{e}");
    }
}
