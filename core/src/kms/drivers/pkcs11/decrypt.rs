//! Asymmetric decryption: RSA-OAEP-SHA256 on the token, and ECIES with the ECDH step on the token
//! (`CKM_ECDH1_DERIVE` into a short-lived session object that is read back) and the KDF, MAC and
//! AES-CBC steps done here.

use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::elliptic_curve::{EcKdf, Ecdh1DeriveParams};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use zeroize::Zeroizing;

use super::encoding::ec_point_der;
use super::error::{ck_err, kms_err, not_found};
use super::mechanisms::{Caps, oaep_sha256};
use super::objects::{find_key, key_spec};
use crate::error::{Error, Result};
use crate::kms::{KmsKeyId, KmsKeySpec};
use crate::primitives::{DefaultBackend, ecies_cbc_decrypt_with_ecdh};
use crate::scheme::{EncryptionAlgorithmSpec, EncryptionKeySpec};

/// ECDH on the token: derive the shared x-coordinate into a session object, read it, destroy it.
pub(super) fn ecdh_on_token(
    s: &Session,
    private: ObjectHandle,
    peer: &[u8],
) -> Result<Zeroizing<[u8; 32]>> {
    let template = [
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::GENERIC_SECRET),
        Attribute::Token(false),
        Attribute::Sensitive(false),
        Attribute::Extractable(true),
        Attribute::ValueLen(32u64.into()),
    ];
    let derive = |point: &[u8]| {
        let mech = Mechanism::Ecdh1Derive(Ecdh1DeriveParams::new(EcKdf::null(), point));
        s.derive_key(&mech, private, &template)
    };
    // The standard wants the bare point; some modules want it DER-wrapped.
    let h = match derive(peer) {
        Ok(h) => h,
        Err(_) => derive(&ec_point_der(peer)?).map_err(|e| ck_err("ECDH derive", e))?,
    };
    let value = s.get_attributes(h, &[AttributeType::Value]);
    let _ = s.destroy_object(h);
    let value = value.map_err(|e| ck_err("reading the derived secret", e))?;
    let z = value
        .into_iter()
        .find_map(|a| match a {
            Attribute::Value(v) => Some(Zeroizing::new(v)),
            _ => None,
        })
        .ok_or_else(|| kms_err("PKCS#11: the derived ECDH secret has no value"))?;
    let mut out = Zeroizing::new([0u8; 32]);
    if z.len() != 32 {
        return Err(kms_err(format!(
            "PKCS#11: the derived ECDH secret is {} bytes, not 32",
            z.len()
        )));
    }
    out.copy_from_slice(&z);
    Ok(out)
}

pub(super) fn decrypt_asym_on(
    s: &Session,
    key_id: &KmsKeyId,
    ct: &[u8],
    algo: EncryptionAlgorithmSpec,
    caps: &Caps,
) -> Result<Zeroizing<Vec<u8>>> {
    let k = find_key(s, key_id)?;
    let spec = match key_spec(s, &k, key_id)? {
        KmsKeySpec::Encryption(spec) => spec,
        _ => {
            return Err(kms_err(format!(
                "PKCS#11 key {key_id} is not an encryption key"
            )));
        }
    };
    let private = k.private.ok_or_else(|| not_found(key_id))?;
    match (spec, algo) {
        (EncryptionKeySpec::Rsa2048, EncryptionAlgorithmSpec::RsaOaepSha256) => {
            if !caps.rsa_oaep_sha256 {
                return Err(kms_err(
                    "PKCS#11: this token does not support RSA-OAEP with SHA-256",
                ));
            }
            s.decrypt(&oaep_sha256(), private, ct)
                .map(Zeroizing::new)
                .map_err(|e| match e {
                    CkError::Pkcs11(
                        RvError::EncryptedDataInvalid | RvError::EncryptedDataLenRange,
                        _,
                    ) => Error::decryption_failed(),
                    e => ck_err("RSA-OAEP decrypt", e),
                })
        }
        (EncryptionKeySpec::EcP256, EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Cbc) => {
            if !caps.ecies {
                return Err(kms_err("PKCS#11: this token cannot do ECDH derivation"));
            }
            ecies_cbc_decrypt_with_ecdh::<DefaultBackend>(ct, |v| {
                ecdh_on_token(s, private, v).map_err(|e| {
                    if e.kind().is_retryable() {
                        e
                    } else {
                        Error::decryption_failed()
                    }
                })
            })
        }
        _ => Err(kms_err(format!(
            "PKCS#11 key {key_id} ({spec}) cannot decrypt {algo}"
        ))),
    }
}
