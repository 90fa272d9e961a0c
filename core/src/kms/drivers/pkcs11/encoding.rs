//! The DER this driver reads and writes, built and parsed with the `der` and `spki` crates:
//! `CKA_EC_PARAMS` (a named-curve OID), `CKA_EC_POINT` (an OCTET STRING around the point), and the
//! SubjectPublicKeyInfo of a token key (from its EC point, or its RSA modulus and exponent).

use der::asn1::{AnyRef, BitStringRef, ObjectIdentifier, OctetStringRef, UintRef};
use der::{Decode as _, Encode as _};
use spki::{AlgorithmIdentifier, SubjectPublicKeyInfo};

use crate::error::{Error, ErrorKind, Result};
use crate::scheme::SigningKeySpec;

/// `prime256v1` (P-256).
pub(super) const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// `secp384r1` (P-384).
pub(super) const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
/// `secp256k1`.
pub(super) const OID_SECP256K1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.10");
/// `id-Ed25519`, used as `CKA_EC_PARAMS` of Edwards keys and as the SPKI algorithm.
pub(super) const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
/// `id-ecPublicKey`.
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// `rsaEncryption`.
const OID_RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

fn der_err(what: &str, e: der::Error) -> Error {
    Error::new(
        ErrorKind::KmsFailure,
        format!("PKCS#11: encoding {what} failed ({e})"),
    )
}

/// The curve OID of a signing key spec.
pub(super) fn curve_oid(spec: SigningKeySpec) -> ObjectIdentifier {
    match spec {
        SigningKeySpec::EcP256 => OID_P256,
        SigningKeySpec::EcP384 => OID_P384,
        SigningKeySpec::EcSecp256k1 => OID_SECP256K1,
        SigningKeySpec::EcCurve25519 => OID_ED25519,
    }
}

/// `CKA_EC_PARAMS` naming `curve`: the DER of its OID.
pub(super) fn ec_params(curve: ObjectIdentifier) -> Result<Vec<u8>> {
    curve.to_der().map_err(|e| der_err("EC parameters", e))
}

/// The curve a `CKA_EC_PARAMS` value names (`None` for anything but a named-curve OID).
pub(super) fn ec_params_curve(params: &[u8]) -> Option<ObjectIdentifier> {
    ObjectIdentifier::from_der(params).ok()
}

/// The length of an uncompressed point on `curve` (the raw key length for Ed25519).
pub(super) fn point_len(curve: ObjectIdentifier) -> Option<usize> {
    match curve {
        c if c == OID_P256 || c == OID_SECP256K1 => Some(65),
        c if c == OID_P384 => Some(97),
        c if c == OID_ED25519 => Some(32),
        _ => None,
    }
}

/// The point in a `CKA_EC_POINT` value of `len` bytes: the standard's DER OCTET STRING around it, or the
/// bare point that some tokens return.
pub(super) fn ec_point(value: &[u8], len: usize) -> Option<&[u8]> {
    if value.len() == len {
        return Some(value);
    }
    let inner = <&OctetStringRef>::from_der(value).ok()?.as_bytes();
    (inner.len() == len).then_some(inner)
}

/// `point` wrapped in a DER OCTET STRING (what some modules want as the ECDH peer point).
pub(super) fn ec_point_der(point: &[u8]) -> Result<Vec<u8>> {
    OctetStringRef::new(point)
        .and_then(|p| p.to_der())
        .map_err(|e| der_err("an EC point", e))
}

/// The SubjectPublicKeyInfo of an EC key on `curve` (a prime curve), from its uncompressed point.
pub(super) fn ec_spki(curve: ObjectIdentifier, point: &[u8]) -> Result<Vec<u8>> {
    SubjectPublicKeyInfo {
        algorithm: AlgorithmIdentifier {
            oid: OID_EC_PUBLIC_KEY,
            parameters: Some(curve),
        },
        subject_public_key: BitStringRef::from_bytes(point).map_err(|e| der_err("a key", e))?,
    }
    .to_der()
    .map_err(|e| der_err("an EC public key", e))
}

/// The SubjectPublicKeyInfo of an Ed25519 key, from its 32 raw bytes.
pub(super) fn ed25519_spki(raw: &[u8]) -> Result<Vec<u8>> {
    SubjectPublicKeyInfo {
        algorithm: AlgorithmIdentifier::<AnyRef<'_>> {
            oid: OID_ED25519,
            parameters: None,
        },
        subject_public_key: BitStringRef::from_bytes(raw).map_err(|e| der_err("a key", e))?,
    }
    .to_der()
    .map_err(|e| der_err("an Ed25519 public key", e))
}

/// The SubjectPublicKeyInfo of an RSA key, from its modulus and public exponent (big-endian, leading
/// zeros allowed).
pub(super) fn rsa_spki(modulus: &[u8], exponent: &[u8]) -> Result<Vec<u8>> {
    let uint = |v| UintRef::new(v).map_err(|e| der_err("an RSA integer", e));
    let key = rsa::pkcs1::RsaPublicKey {
        modulus: uint(modulus)?,
        public_exponent: uint(exponent)?,
    }
    .to_der()
    .map_err(|e| der_err("an RSA public key", e))?;
    SubjectPublicKeyInfo {
        algorithm: AlgorithmIdentifier {
            oid: OID_RSA_ENCRYPTION,
            parameters: Some(AnyRef::NULL),
        },
        subject_public_key: BitStringRef::from_bytes(&key).map_err(|e| der_err("a key", e))?,
    }
    .to_der()
    .map_err(|e| der_err("an RSA public key", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KeyType, PrivateKey, PublicKey};

    #[test]
    fn ec_params_are_named_curve_oids() {
        // The DER the previous hand-written encoder used, byte for byte.
        let p256 = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
        let p384 = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
        let k256 = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a];
        let ed = [0x06, 0x03, 0x2b, 0x65, 0x70];
        for (spec, der) in [
            (SigningKeySpec::EcP256, &p256[..]),
            (SigningKeySpec::EcP384, &p384[..]),
            (SigningKeySpec::EcSecp256k1, &k256[..]),
            (SigningKeySpec::EcCurve25519, &ed[..]),
        ] {
            let oid = curve_oid(spec);
            assert_eq!(ec_params(oid).expect("encode"), der, "{spec}");
            assert_eq!(ec_params_curve(der), Some(oid), "{spec}");
        }
        assert_eq!(ec_params_curve(b"edwards25519"), None);
        assert_eq!(ec_params_curve(&[0x06, 0x08, 0x2a]), None);
        assert_eq!(point_len(OID_P384), Some(97));
        assert_eq!(point_len(OID_EC_PUBLIC_KEY), None);
    }

    #[test]
    fn ec_points_bare_or_wrapped() {
        let point = [4u8; 65];
        let wrapped = ec_point_der(&point).expect("wrap");
        assert_eq!(&wrapped[..2], &[0x04, 0x41]);
        assert_eq!(ec_point(&wrapped, 65), Some(&point[..]));
        assert_eq!(ec_point(&point, 65), Some(&point[..]));
        let p384 = [4u8; 97];
        let wrapped = ec_point_der(&p384).expect("wrap");
        assert_eq!(&wrapped[..2], &[0x04, 0x61]);
        assert_eq!(ec_point(&wrapped, 97), Some(&p384[..]));
        // A length over 127 takes the long form (no curve here needs it, but a token may use it).
        let long = [4u8; 133];
        let wrapped = ec_point_der(&long).expect("wrap");
        assert_eq!(&wrapped[..3], &[0x04, 0x81, 0x85], "long-form length");
        assert_eq!(ec_point(&wrapped, 133), Some(&long[..]));
        assert_eq!(ec_point(&wrapped, 65), None, "wrong length");
        assert_eq!(ec_point(&wrapped[..50], 97), None, "truncated");
        assert_eq!(ec_point(&[], 32), None);
    }

    #[test]
    fn spkis_match_the_key_module() {
        for kt in [
            KeyType::EcP256,
            KeyType::EcP384,
            KeyType::EcSecp256k1,
            KeyType::Ed25519,
            KeyType::Rsa2048,
        ] {
            let key = PrivateKey::generate(kt).expect("generate");
            let pk = key.public_key();
            let raw = pk.raw();
            let der = match kt {
                KeyType::EcP256 => ec_spki(OID_P256, &raw),
                KeyType::EcP384 => ec_spki(OID_P384, &raw),
                KeyType::EcSecp256k1 => ec_spki(OID_SECP256K1, &raw),
                KeyType::Ed25519 => ed25519_spki(&raw),
                KeyType::Rsa2048 => {
                    let k = rsa::pkcs1::RsaPublicKey::<UintRef<'_>>::from_der(&raw).expect("pkcs1");
                    // A leading zero on the modulus (as tokens may return it) changes nothing.
                    let mut n = vec![0u8];
                    n.extend_from_slice(k.modulus.as_bytes());
                    rsa_spki(&n, k.public_exponent.as_bytes())
                }
            }
            .expect("spki");
            assert_eq!(der, pk.spki_der(), "{kt:?}");
            let parsed = PublicKey::from_spki_der(&der).expect("parses");
            assert_eq!(parsed.spki_der(), pk.spki_der(), "{kt:?}");
        }
    }
}
