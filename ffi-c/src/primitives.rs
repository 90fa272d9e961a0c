//! Stateless primitives: AES-128-GCM in Canton's format, SHA-256, Canton's hash, HMAC, HKDF, random.

use tresor_core::primitives::{hkdf_sha256, hmac_sha256, hmac_sha256_verify, random_bytes, sha256};
use tresor_core::{AesGcmKey, Error, ErrorKind, keys::canton_hash};

use crate::ffi::{Result, boundary, bytes_in, tresor_bytes};
use crate::status::tresor_status;

/// Write a fixed-size digest into a caller buffer of `len` bytes (at least `digest.len()`).
///
/// # Safety
/// `out` is NULL or writable for `len` bytes.
unsafe fn digest_out(digest: &[u8], out: *mut u8, len: usize) -> Result<()> {
    if out.is_null() {
        return Err(crate::ffi::null("out"));
    }
    if len < digest.len() {
        return Err(Error::new(
            ErrorKind::BufferTooSmall,
            format!("out holds {len} bytes; {} are needed", digest.len()),
        ));
    }
    // SAFETY: `out` is writable for `len ≥ digest.len()` bytes (the caller's contract).
    unsafe { std::ptr::copy_nonoverlapping(digest.as_ptr(), out, digest.len()) };
    Ok(())
}

/// AES-128-GCM encryption in Canton's format: `IV(12) ‖ ciphertext ‖ tag(16)`, with a random IV and
/// no associated data. `key` is 16 bytes.
///
/// # Safety
/// `key` and `plaintext` are readable for their lengths; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_aes_gcm_encrypt(
    key: *const u8,
    key_len: usize,
    plaintext: *const u8,
    plaintext_len: usize,
    out: *mut tresor_bytes,
) -> tresor_status {
    boundary("tresor_aes_gcm_encrypt", || {
        // SAFETY: the caller's contract.
        let (key, pt, out) = unsafe {
            (
                bytes_in(key, key_len, "key")?,
                bytes_in(plaintext, plaintext_len, "plaintext")?,
                crate::ffi::Out::new(out, "out")?,
            )
        };
        let k = AesGcmKey::aes128(key)?;
        out.write(tresor_bytes::from_slice(&k.encrypt(pt, &[])?));
        Ok(())
    })
}

/// AES-128-GCM decryption of `IV(12) ‖ ciphertext ‖ tag(16)`. A wrong key or a modified ciphertext
/// is `TRESOR_STATUS_DECRYPTION_FAILED`. The plaintext is wiped by `tresor_bytes_free`.
///
/// # Safety
/// `key` and `ciphertext` are readable for their lengths; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_aes_gcm_decrypt(
    key: *const u8,
    key_len: usize,
    ciphertext: *const u8,
    ciphertext_len: usize,
    out: *mut tresor_bytes,
) -> tresor_status {
    boundary("tresor_aes_gcm_decrypt", || {
        // SAFETY: the caller's contract.
        let (key, ct, out) = unsafe {
            (
                bytes_in(key, key_len, "key")?,
                bytes_in(ciphertext, ciphertext_len, "ciphertext")?,
                crate::ffi::Out::new(out, "out")?,
            )
        };
        let k = AesGcmKey::aes128(key)?;
        out.write(tresor_bytes::from_slice(&k.decrypt(ct, &[])?));
        Ok(())
    })
}

/// SHA-256 of `data` into `out` (at least 32 bytes; `TRESOR_STATUS_BUFFER_TOO_SMALL` otherwise).
///
/// # Safety
/// `data` is readable for `data_len` bytes; `out` is writable for `out_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_sha256(
    data: *const u8,
    data_len: usize,
    out: *mut u8,
    out_len: usize,
) -> tresor_status {
    boundary("tresor_sha256", || {
        // SAFETY: the caller's contract.
        let data = unsafe { bytes_in(data, data_len, "data") }?;
        // SAFETY: the caller's contract.
        unsafe { digest_out(&sha256(data), out, out_len) }
    })
}

/// Canton's purpose-prefixed hash as a multihash, `0x12 0x20 ‖ SHA-256(u32be(purpose) ‖ data)`,
/// into `out` (at least 34 bytes). With purpose 12 and a key's bytes this is its fingerprint.
///
/// # Safety
/// `data` is readable for `data_len` bytes; `out` is writable for `out_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_canton_hash(
    purpose: u32,
    data: *const u8,
    data_len: usize,
    out: *mut u8,
    out_len: usize,
) -> tresor_status {
    boundary("tresor_canton_hash", || {
        // SAFETY: the caller's contract.
        let data = unsafe { bytes_in(data, data_len, "data") }?;
        // SAFETY: the caller's contract.
        unsafe { digest_out(&canton_hash(purpose, data), out, out_len) }
    })
}

/// HMAC-SHA-256 of `data` under `key` (any length) into `out` (at least 32 bytes).
///
/// # Safety
/// `key`/`data` are readable for their lengths; `out` is writable for `out_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_hmac_sha256(
    key: *const u8,
    key_len: usize,
    data: *const u8,
    data_len: usize,
    out: *mut u8,
    out_len: usize,
) -> tresor_status {
    boundary("tresor_hmac_sha256", || {
        // SAFETY: the caller's contract.
        let (key, data) = unsafe {
            (
                bytes_in(key, key_len, "key")?,
                bytes_in(data, data_len, "data")?,
            )
        };
        let mut tag = hmac_sha256(key, data);
        // SAFETY: the caller's contract.
        let r = unsafe { digest_out(&tag, out, out_len) };
        zeroize::Zeroize::zeroize(&mut tag);
        r
    })
}

/// Check an HMAC-SHA-256 tag in constant time: `TRESOR_STATUS_OK` or
/// `TRESOR_STATUS_INVALID_SIGNATURE`.
///
/// # Safety
/// All buffers are readable for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_hmac_sha256_verify(
    key: *const u8,
    key_len: usize,
    data: *const u8,
    data_len: usize,
    tag: *const u8,
    tag_len: usize,
) -> tresor_status {
    boundary("tresor_hmac_sha256_verify", || {
        // SAFETY: the caller's contract.
        let (key, data, tag) = unsafe {
            (
                bytes_in(key, key_len, "key")?,
                bytes_in(data, data_len, "data")?,
                bytes_in(tag, tag_len, "tag")?,
            )
        };
        hmac_sha256_verify(key, data, tag)
    })
}

/// HKDF-SHA-256 (RFC 5869): extract from `ikm` with `salt` (empty = zeros), expand with `info` to
/// exactly `out_len` bytes (1 to 8160) written to `out`.
///
/// # Safety
/// Inputs are readable for their lengths; `out` is writable for `out_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_hkdf_sha256(
    salt: *const u8,
    salt_len: usize,
    ikm: *const u8,
    ikm_len: usize,
    info: *const u8,
    info_len: usize,
    out: *mut u8,
    out_len: usize,
) -> tresor_status {
    boundary("tresor_hkdf_sha256", || {
        // SAFETY: the caller's contract.
        let (salt, ikm, info) = unsafe {
            (
                bytes_in(salt, salt_len, "salt")?,
                bytes_in(ikm, ikm_len, "ikm")?,
                bytes_in(info, info_len, "info")?,
            )
        };
        if out_len == 0 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "HKDF output length is 0 (1 to 8160 bytes)",
            ));
        }
        let okm = hkdf_sha256(salt, ikm, info, out_len)?;
        // SAFETY: the caller's contract.
        unsafe { digest_out(&okm, out, out_len) }
    })
}

/// Fill `out` with `len` bytes from the operating system's random generator.
///
/// # Safety
/// `out` is writable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_random_bytes(out: *mut u8, len: usize) -> tresor_status {
    boundary("tresor_random_bytes", || {
        if len == 0 {
            return Ok(());
        }
        if out.is_null() {
            return Err(crate::ffi::null("out"));
        }
        if len > isize::MAX as usize {
            return Err(crate::ffi::invalid("len is not a valid size"));
        }
        // SAFETY: non-NULL and writable for `len` bytes (the caller's contract).
        let buf = unsafe { std::slice::from_raw_parts_mut(out, len) };
        random_bytes(buf)
    })
}
