//! Key objects on the token: finding the objects behind a key id, reading their attributes, and what
//! they say (the key's spec, its public key, whether it may be used).

use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;

use super::encoding::{
    OID_P256, OID_P384, OID_SECP256K1, ec_params_curve, ec_point, ec_spki, ed25519_spki, point_len,
    rsa_spki,
};
use super::error::{ck_err, kms_err, not_found};
use crate::error::{Error, ErrorKind, Result};
use crate::keys::PublicKey;
use crate::kms::{KmsKeyId, KmsKeySpec};
use crate::scheme::{EncryptionKeySpec, SigningKeySpec};

/// The `CKA_ID` a key id names, when it is hex (generated keys' ids are).
pub(super) fn ck_id(key_id: &KmsKeyId) -> Option<Vec<u8>> {
    let s = key_id.as_str();
    if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    crate::util::unhex(s, "a PKCS#11 key id")
        .ok()
        .filter(|id| !id.is_empty())
}

/// The token objects behind one key id.
#[derive(Debug, Default)]
pub(super) struct KeyObjects {
    pub(super) private: Option<ObjectHandle>,
    pub(super) public: Option<ObjectHandle>,
    pub(super) secret: Option<ObjectHandle>,
    pub(super) all: Vec<ObjectHandle>,
}

fn class_of(s: &Session, h: ObjectHandle) -> Result<Option<ObjectClass>> {
    let attrs = s
        .get_attributes(h, &[AttributeType::Class])
        .map_err(|e| ck_err("reading an object's class", e))?;
    Ok(attrs.into_iter().find_map(|a| match a {
        Attribute::Class(c) => Some(c),
        _ => None,
    }))
}

fn collect(s: &Session, handles: Vec<ObjectHandle>, key_id: &KmsKeyId) -> Result<KeyObjects> {
    let mut k = KeyObjects::default();
    for h in handles {
        let slot = match class_of(s, h)? {
            Some(c) if c == ObjectClass::PRIVATE_KEY => &mut k.private,
            Some(c) if c == ObjectClass::PUBLIC_KEY => &mut k.public,
            Some(c) if c == ObjectClass::SECRET_KEY => &mut k.secret,
            _ => continue,
        };
        if slot.is_some() {
            return Err(kms_err(format!(
                "PKCS#11: key id {key_id} matches more than one key on the token"
            )));
        }
        *slot = Some(h);
        k.all.push(h);
    }
    if k.private.is_some() && k.secret.is_some() {
        return Err(kms_err(format!(
            "PKCS#11: key id {key_id} matches more than one key on the token"
        )));
    }
    Ok(k)
}

/// Find the objects of a key by `CKA_ID` (hex) first, then by `CKA_LABEL`.
pub(super) fn find_key(s: &Session, key_id: &KmsKeyId) -> Result<KeyObjects> {
    if let Some(id) = ck_id(key_id) {
        let found = s
            .find_objects(&[Attribute::Token(true), Attribute::Id(id)])
            .map_err(|e| ck_err("finding a key", e))?;
        if !found.is_empty() {
            return collect(s, found, key_id);
        }
    }
    let found = s
        .find_objects(&[
            Attribute::Token(true),
            Attribute::Label(key_id.as_str().as_bytes().to_vec()),
        ])
        .map_err(|e| ck_err("finding a key", e))?;
    if found.is_empty() {
        return Err(not_found(key_id));
    }
    collect(s, found, key_id)
}

pub(super) fn attrs(
    s: &Session,
    h: ObjectHandle,
    types: &[AttributeType],
) -> Result<Vec<Attribute>> {
    s.get_attributes(h, types)
        .map_err(|e| ck_err("reading key attributes", e))
}

pub(super) fn attr_bool(list: &[Attribute], t: AttributeType) -> bool {
    list.iter().any(|a| {
        matches!(
            (a, t),
            (Attribute::Sign(true), AttributeType::Sign)
                | (Attribute::Decrypt(true), AttributeType::Decrypt)
                | (Attribute::Derive(true), AttributeType::Derive)
                | (Attribute::Encrypt(true), AttributeType::Encrypt)
        )
    })
}

pub(super) fn attr_bytes(list: &[Attribute], t: AttributeType) -> Option<&[u8]> {
    list.iter().find_map(|a| match (a, t) {
        (Attribute::EcParams(v), AttributeType::EcParams)
        | (Attribute::EcPoint(v), AttributeType::EcPoint)
        | (Attribute::Modulus(v), AttributeType::Modulus)
        | (Attribute::PublicExponent(v), AttributeType::PublicExponent)
        | (Attribute::Value(v), AttributeType::Value) => Some(v.as_slice()),
        _ => None,
    })
}

pub(super) fn attr_key_type(list: &[Attribute]) -> Option<KeyType> {
    list.iter().find_map(|a| match a {
        Attribute::KeyType(k) => Some(*k),
        _ => None,
    })
}

/// The spec of a key from its private (or secret) object.
pub(super) fn key_spec(s: &Session, k: &KeyObjects, key_id: &KmsKeyId) -> Result<KmsKeySpec> {
    let disabled = || {
        Error::new(
            ErrorKind::KmsKeyDisabled,
            format!(
                "PKCS#11 key {key_id} may not be used (disabled: no sign, encrypt, decrypt or derive permission)"
            ),
        )
    };
    if let Some(h) = k.secret {
        let a = attrs(
            s,
            h,
            &[
                AttributeType::KeyType,
                AttributeType::Encrypt,
                AttributeType::Decrypt,
            ],
        )?;
        if !attr_bool(&a, AttributeType::Encrypt) && !attr_bool(&a, AttributeType::Decrypt) {
            return Err(disabled());
        }
        return match attr_key_type(&a) {
            Some(t) if t == KeyType::AES => Ok(KmsKeySpec::Symmetric),
            _ => Err(kms_err(format!(
                "PKCS#11 key {key_id} is a secret key of a type this driver does not use"
            ))),
        };
    }
    let h = k.private.ok_or_else(|| not_found(key_id))?;
    let a = attrs(
        s,
        h,
        &[
            AttributeType::KeyType,
            AttributeType::EcParams,
            AttributeType::Modulus,
            AttributeType::Sign,
            AttributeType::Decrypt,
            AttributeType::Derive,
        ],
    )?;
    let unsupported = || {
        kms_err(format!(
            "PKCS#11 key {key_id} is of a type or curve this driver does not use"
        ))
    };
    if ![
        AttributeType::Sign,
        AttributeType::Decrypt,
        AttributeType::Derive,
    ]
    .iter()
    .any(|t| attr_bool(&a, *t))
    {
        // What `disable_on` leaves; without a use the key's purpose cannot be told either.
        return Err(disabled());
    }
    let kt = attr_key_type(&a).ok_or_else(unsupported)?;
    if kt == KeyType::EC {
        let curve = attr_bytes(&a, AttributeType::EcParams)
            .and_then(ec_params_curve)
            .ok_or_else(unsupported)?;
        let sign = attr_bool(&a, AttributeType::Sign);
        return match curve {
            c if c == OID_P256 && sign => Ok(KmsKeySpec::Signing(SigningKeySpec::EcP256)),
            c if c == OID_P256 => Ok(KmsKeySpec::Encryption(EncryptionKeySpec::EcP256)),
            c if c == OID_P384 => Ok(KmsKeySpec::Signing(SigningKeySpec::EcP384)),
            c if c == OID_SECP256K1 => Ok(KmsKeySpec::Signing(SigningKeySpec::EcSecp256k1)),
            _ => Err(unsupported()),
        };
    }
    if kt == KeyType::EC_EDWARDS {
        return Ok(KmsKeySpec::Signing(SigningKeySpec::EcCurve25519));
    }
    if kt == KeyType::RSA {
        let n = attr_bytes(&a, AttributeType::Modulus).unwrap_or(&[]);
        let start = n.iter().position(|b| *b != 0).unwrap_or(n.len());
        if n.len() - start == 256 {
            return Ok(KmsKeySpec::Encryption(EncryptionKeySpec::Rsa2048));
        }
    }
    Err(unsupported())
}

pub(super) fn public_key(
    s: &Session,
    k: &KeyObjects,
    spec: KmsKeySpec,
    key_id: &KmsKeyId,
) -> Result<PublicKey> {
    let h = k.public.ok_or_else(|| {
        kms_err(format!(
            "PKCS#11 key {key_id} has no public key object on the token"
        ))
    })?;
    let a = attrs(
        s,
        h,
        &[
            AttributeType::EcParams,
            AttributeType::EcPoint,
            AttributeType::Modulus,
            AttributeType::PublicExponent,
        ],
    )?;
    let bad = || {
        kms_err(format!(
            "PKCS#11 key {key_id}: malformed public key attributes"
        ))
    };
    let der = match spec {
        KmsKeySpec::Encryption(EncryptionKeySpec::Rsa2048) => {
            let n = attr_bytes(&a, AttributeType::Modulus).ok_or_else(bad)?;
            let e = attr_bytes(&a, AttributeType::PublicExponent).ok_or_else(bad)?;
            rsa_spki(n, e)?
        }
        KmsKeySpec::Signing(SigningKeySpec::EcCurve25519) => {
            let p = attr_bytes(&a, AttributeType::EcPoint).ok_or_else(bad)?;
            ed25519_spki(ec_point(p, 32).ok_or_else(bad)?)?
        }
        KmsKeySpec::Signing(_) | KmsKeySpec::Encryption(EncryptionKeySpec::EcP256) => {
            let curve = attr_bytes(&a, AttributeType::EcParams)
                .and_then(ec_params_curve)
                .ok_or_else(bad)?;
            let len = point_len(curve).ok_or_else(bad)?;
            let p = attr_bytes(&a, AttributeType::EcPoint).ok_or_else(bad)?;
            ec_spki(curve, ec_point(p, len).ok_or_else(bad)?)?
        }
        KmsKeySpec::Symmetric => {
            return Err(kms_err(format!(
                "PKCS#11 key {key_id} is not an asymmetric key"
            )));
        }
    };
    PublicKey::from_spki_der(&der).map_err(|e| {
        Error::new(
            ErrorKind::KmsFailure,
            format!("PKCS#11 key {key_id}: the token's public key does not parse"),
        )
        .with_source(e)
    })
}

pub(super) fn exists_on(s: &Session, key_id: &KmsKeyId) -> Result<()> {
    let k = find_key(s, key_id)?;
    let (h, usable) = match (k.private, k.secret) {
        (Some(h), _) => (
            h,
            [
                AttributeType::Sign,
                AttributeType::Decrypt,
                AttributeType::Derive,
            ],
        ),
        (None, Some(h)) => (
            h,
            [
                AttributeType::Encrypt,
                AttributeType::Decrypt,
                AttributeType::Derive,
            ],
        ),
        (None, None) => return Err(not_found(key_id)),
    };
    let a = attrs(s, h, &usable)?;
    if usable.iter().any(|t| attr_bool(&a, *t)) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::KmsKeyDisabled,
            format!("PKCS#11 key {key_id} may not be used (no sign, decrypt or derive permission)"),
        ))
    }
}

/// Take away every use of a key (`CKA_SIGN`, `CKA_ENCRYPT`, `CKA_DECRYPT`, `CKA_DERIVE` set to false on
/// its private or secret key object), which is what a disabled key is on a token: it stays there and
/// [`exists_on`] reports it as disabled.
pub(super) fn disable_on(s: &Session, key_id: &KmsKeyId) -> Result<()> {
    let k = find_key(s, key_id)?;
    let h = match (k.private, k.secret) {
        (Some(h), _) | (None, Some(h)) => h,
        (None, None) => return Err(not_found(key_id)),
    };
    let uses = [
        AttributeType::Sign,
        AttributeType::Encrypt,
        AttributeType::Decrypt,
        AttributeType::Derive,
    ];
    // Only the attributes the object has and that are set: a token may refuse to touch the others.
    let present: Vec<AttributeType> = uses
        .iter()
        .copied()
        .filter(|t| {
            s.get_attributes(h, &[*t])
                .map(|a| attr_bool(&a, *t))
                .unwrap_or(false)
        })
        .collect();
    let template: Vec<Attribute> = present
        .iter()
        .map(|t| match t {
            AttributeType::Sign => Attribute::Sign(false),
            AttributeType::Encrypt => Attribute::Encrypt(false),
            AttributeType::Decrypt => Attribute::Decrypt(false),
            _ => Attribute::Derive(false),
        })
        .collect();
    if template.is_empty() {
        return Ok(());
    }
    s.update_attributes(h, &template).map_err(|e| {
        Error::new(
            ErrorKind::KmsFailure,
            format!("PKCS#11 key {key_id}: the token refused to disable it (C_SetAttributeValue)"),
        )
        .with_source(e)
    })
}
