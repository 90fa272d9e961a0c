//! Symmetric keys: AES-256 with `CKM_AES_GCM` (random 12-byte IV, 128-bit tag), wire `IV ‖ ct ‖ tag`.

use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::object::ObjectHandle;
use cryptoki::session::Session;
use zeroize::Zeroizing;

use super::error::{ck_err, kms_err, not_found};
use super::objects::{find_key, key_spec};
use crate::error::{Error, ErrorKind, Result};
use crate::kms::{KmsKeyId, KmsKeySpec};
use crate::primitives::random_bytes;

const GCM_IV_LEN: usize = 12;
const GCM_TAG_LEN: usize = 16;

pub(super) fn symmetric_key(s: &Session, key_id: &KmsKeyId) -> Result<ObjectHandle> {
    let k = find_key(s, key_id)?;
    match key_spec(s, &k, key_id)? {
        KmsKeySpec::Symmetric => k.secret.ok_or_else(|| not_found(key_id)),
        _ => Err(kms_err(format!(
            "PKCS#11 key {key_id} is not a symmetric key"
        ))),
    }
}

pub(super) fn encrypt_sym_on(s: &Session, key_id: &KmsKeyId, data: &[u8]) -> Result<Vec<u8>> {
    let h = symmetric_key(s, key_id)?;
    let mut iv = [0u8; GCM_IV_LEN];
    random_bytes(&mut iv)?;
    let mut iv_param = iv;
    let params = GcmParams::new(&mut iv_param, &[], ((GCM_TAG_LEN * 8) as u64).into())
        .map_err(|e| ck_err("AES-GCM parameters", e))?;
    let body = s
        .encrypt(&Mechanism::AesGcm(params), h, data)
        .map_err(|e| ck_err("AES-GCM encrypt", e))?;
    let mut out = Vec::with_capacity(GCM_IV_LEN + body.len());
    out.extend_from_slice(&iv);
    out.extend_from_slice(&body);
    Ok(out)
}

pub(super) fn decrypt_sym_on(
    s: &Session,
    key_id: &KmsKeyId,
    ct: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    if ct.len() < GCM_IV_LEN + GCM_TAG_LEN {
        return Err(Error::new(
            ErrorKind::MalformedCiphertext,
            format!(
                "an AES-GCM ciphertext is at least {} bytes (IV + tag), got {}",
                GCM_IV_LEN + GCM_TAG_LEN,
                ct.len()
            ),
        ));
    }
    let h = symmetric_key(s, key_id)?;
    let (iv, body) = ct.split_at(GCM_IV_LEN);
    let mut iv = iv.to_vec();
    let params = GcmParams::new(&mut iv, &[], ((GCM_TAG_LEN * 8) as u64).into())
        .map_err(|e| ck_err("AES-GCM parameters", e))?;
    s.decrypt(&Mechanism::AesGcm(params), h, body)
        .map(Zeroizing::new)
        .map_err(|e| match e {
            CkError::Pkcs11(
                RvError::EncryptedDataInvalid
                | RvError::EncryptedDataLenRange
                | RvError::FunctionFailed,
                _,
            ) => Error::decryption_failed(),
            e => ck_err("AES-GCM decrypt", e),
        })
}
