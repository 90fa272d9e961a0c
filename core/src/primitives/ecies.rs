//! Canton's two ECIES formats, built from a backend's ECDH, AES and the shared KDFs.
//!
//! **`ecies-hkdf-hmac-sha-256-aes-128-cbc`** — BouncyCastle `ECIESwithSHA256andAES-CBC` with Canton's
//! `IESParameterSpec(derivation = [], encoding = [], macKeyBits = 512, cipherKeyBits = 128, iv)`:
//! ephemeral P-256 key, `V` = its uncompressed point, `Z` = ECDH x-coordinate; `K = KDF2-SHA256(V ‖ Z)`,
//! 80 bytes; `K1 = K[0..16]` (AES-128 key), `K2 = K[16..80]` (HMAC-SHA256 key); `C = AES-128-CBC-PKCS7(K1,
//! IV, m)`; `T = HMAC-SHA256(K2, C ‖ 0x00×8)`. Wire: `IV(16) ‖ V(65) ‖ C ‖ T(32)`. The IV and `V` are not
//! covered by the MAC (BouncyCastle's construction); `V` is bound through the KDF. Only uncompressed
//! ephemeral points are accepted (Canton never writes compressed ones).
//!
//! **`ecies-hkdf-hmac-sha-256-aes-128-gcm`** (legacy, Tink `EciesAeadHkdf`): `key = HKDF-SHA256(salt = [],
//! ikm = V ‖ Z, info = [], 16)`; wire `V(65) ‖ IV(12) ‖ ciphertext ‖ tag(16)`, no associated data.

use hmac::{KeyInit, Mac};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{AesGcmKey, Backend, hkdf_sha256, kdf2_sha256, random_bytes};
use crate::error::{Error, ErrorKind, Result};

const IV_LEN: usize = 16;
const POINT_LEN: usize = 65;
const TAG_LEN: usize = 32;
/// The 8-byte big-endian bit length of the (empty) encoding vector that BouncyCastle appends to the MAC input.
const L2: [u8; 8] = [0u8; 8];

fn cbc_keys(v: &[u8], z: &[u8]) -> Zeroizing<[u8; 80]> {
    let mut k = Zeroizing::new([0u8; 80]);
    kdf2_sha256(&[v, z], k.as_mut());
    k
}

fn cbc_tag(k2: &[u8], c: &[u8]) -> [u8; 32] {
    let mut mac = match <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(k2) {
        Ok(m) => m,
        Err(_) => return [0u8; 32], // HMAC takes keys of any length
    };
    mac.update(c);
    mac.update(&L2);
    mac.finalize().into_bytes().into()
}

pub(super) fn encrypt_cbc<B: Backend>(recipient_point: &[u8], pt: &[u8]) -> Result<Vec<u8>> {
    let (v, z) = B::ecdh_ephemeral(recipient_point)?;
    let k = cbc_keys(&v, z.as_ref());
    let (k1, k2) = k.split_at(16);
    let k1: &[u8; 16] = k1.try_into().map_err(|_| Error::internal("KDF split"))?;
    let mut iv = [0u8; IV_LEN];
    random_bytes(&mut iv)?;
    let c = B::aes128_cbc_encrypt(k1, &iv, pt)?;
    let t = cbc_tag(k2, &c);
    let mut out = Vec::with_capacity(IV_LEN + POINT_LEN + c.len() + TAG_LEN);
    out.extend_from_slice(&iv);
    out.extend_from_slice(&v);
    out.extend_from_slice(&c);
    out.extend_from_slice(&t);
    Ok(out)
}

pub(super) fn decrypt_cbc<B: Backend>(key: &B::EcdhKey, ct: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    ecies_cbc_decrypt_with_ecdh::<B>(ct, |v| {
        B::ecdh(key, v).map_err(|_| Error::decryption_failed())
    })
}

/// Decrypt `ecies-hkdf-hmac-sha-256-aes-128-cbc` (wire `IV ‖ V ‖ C ‖ T`, see the module docs) when the
/// P-256 ECDH is done elsewhere, e.g. inside an HSM: `ecdh` gets the ephemeral uncompressed point `V`
/// (65 bytes) and returns the shared x-coordinate `Z`; the KDF2, HMAC check and AES-CBC run here on
/// backend `B`. An error from `ecdh` is returned unchanged; a bad tag or padding is
/// [`ErrorKind::DecryptionFailed`].
pub fn ecies_cbc_decrypt_with_ecdh<B: Backend>(
    ct: &[u8],
    ecdh: impl FnOnce(&[u8]) -> Result<Zeroizing<[u8; 32]>>,
) -> Result<Zeroizing<Vec<u8>>> {
    const MIN: usize = IV_LEN + POINT_LEN + 16 + TAG_LEN;
    if ct.len() < MIN || !(ct.len() - IV_LEN - POINT_LEN - TAG_LEN).is_multiple_of(16) {
        return Err(Error::new(
            ErrorKind::MalformedCiphertext,
            format!(
                "an ECIES-CBC ciphertext is IV(16) ‖ point(65) ‖ n·16 bytes ‖ tag(32), at least {MIN} bytes; got {}",
                ct.len()
            ),
        ));
    }
    let (iv, rest) = ct.split_at(IV_LEN);
    let (v, rest) = rest.split_at(POINT_LEN);
    let (c, t) = rest.split_at(rest.len() - TAG_LEN);
    if v[0] != 0x04 {
        return Err(Error::new(
            ErrorKind::MalformedCiphertext,
            "the ECIES ephemeral key must be an uncompressed P-256 point",
        ));
    }
    let z = ecdh(v)?;
    let k = cbc_keys(v, z.as_ref());
    let (k1, k2) = k.split_at(16);
    let expected = cbc_tag(k2, c);
    if !bool::from(expected.ct_eq(t)) {
        return Err(Error::decryption_failed());
    }
    let k1: &[u8; 16] = k1.try_into().map_err(|_| Error::internal("KDF split"))?;
    let iv: &[u8; 16] = iv.try_into().map_err(|_| Error::internal("IV split"))?;
    B::aes128_cbc_decrypt(k1, iv, c).map_err(|_| Error::decryption_failed())
}

fn gcm_key<B: Backend>(v: &[u8], z: &[u8]) -> Result<AesGcmKey<B>> {
    let mut ikm = Zeroizing::new(Vec::with_capacity(v.len() + z.len()));
    ikm.extend_from_slice(v);
    ikm.extend_from_slice(z);
    let k = hkdf_sha256(&[], &ikm, &[], 16)?;
    AesGcmKey::<B>::with_backend(&k)
}

pub(super) fn encrypt_gcm<B: Backend>(recipient_point: &[u8], pt: &[u8]) -> Result<Vec<u8>> {
    let (v, z) = B::ecdh_ephemeral(recipient_point)?;
    let body = gcm_key::<B>(&v, z.as_ref())?.encrypt(pt, &[])?;
    let mut out = Vec::with_capacity(POINT_LEN + body.len());
    out.extend_from_slice(&v);
    out.extend_from_slice(&body);
    Ok(out)
}

pub(super) fn decrypt_gcm<B: Backend>(key: &B::EcdhKey, ct: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    const MIN: usize = POINT_LEN + 12 + 16;
    if ct.len() < MIN {
        return Err(Error::new(
            ErrorKind::MalformedCiphertext,
            format!(
                "an ECIES-GCM ciphertext is point(65) ‖ IV(12) ‖ ciphertext ‖ tag(16), at least {MIN} bytes; got {}",
                ct.len()
            ),
        ));
    }
    let (v, body) = ct.split_at(POINT_LEN);
    if v[0] != 0x04 {
        return Err(Error::new(
            ErrorKind::MalformedCiphertext,
            "the ECIES ephemeral key must be an uncompressed P-256 point",
        ));
    }
    let z = B::ecdh(key, v).map_err(|_| Error::decryption_failed())?;
    gcm_key::<B>(v, z.as_ref())?.decrypt(body, &[])
}
