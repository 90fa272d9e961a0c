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

/// Put `header` in front of the `body` bytes of `buf` (within its capacity when there is room).
fn prepend(buf: &mut Vec<u8>, header: &[&[u8]]) {
    let n: usize = header.iter().map(|h| h.len()).sum();
    let body = buf.len();
    buf.resize(body + n, 0);
    buf.copy_within(0..body, n);
    let mut at = 0;
    for h in header {
        buf[at..at + h.len()].copy_from_slice(h);
        at += h.len();
    }
}

/// `ecies-hkdf-hmac-sha-256-aes-128-cbc` of the plaintext in `buf`, in place (see the module docs).
pub(super) fn encrypt_cbc_in_place<B: Backend>(
    recipient_point: &[u8],
    buf: &mut Vec<u8>,
) -> Result<()> {
    let (v, z) = B::ecdh_ephemeral(recipient_point)?;
    let k = cbc_keys(&v, z.as_ref());
    let (k1, k2) = k.split_at(16);
    let k1: &[u8; 16] = k1.try_into().map_err(|_| Error::internal("KDF split"))?;
    let mut iv = [0u8; IV_LEN];
    random_bytes(&mut iv)?;
    let n = buf.len();
    let padded = n + (16 - n % 16);
    buf.reserve_exact(IV_LEN + POINT_LEN + (padded - n) + TAG_LEN);
    buf.resize(padded, 0);
    B::aes128_cbc_encrypt_in_place(k1, &iv, buf, n)?;
    let t = cbc_tag(k2, buf);
    buf.extend_from_slice(&t);
    prepend(buf, &[&iv, &v]);
    Ok(())
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

/// Legacy `ecies-hkdf-hmac-sha-256-aes-128-gcm` of the plaintext in `buf`, in place.
pub(super) fn encrypt_gcm_in_place<B: Backend>(
    recipient_point: &[u8],
    buf: &mut Vec<u8>,
) -> Result<()> {
    let (v, z) = B::ecdh_ephemeral(recipient_point)?;
    let key = gcm_key::<B>(&v, z.as_ref())?;
    let mut iv = [0u8; 12];
    random_bytes(&mut iv)?;
    buf.reserve_exact(POINT_LEN + iv.len() + 16);
    let tag = B::aes_gcm_seal(&key.inner, &iv, &[], buf)?;
    buf.extend_from_slice(&tag);
    prepend(buf, &[&v, &iv]);
    Ok(())
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
