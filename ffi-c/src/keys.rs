//! Keys held by the caller: `tresor_public_key` (parse, fingerprint, verify, encrypt) and
//! `tresor_private_key` (generate, parse, sign, decrypt).

use std::ffi::c_char;

use tresor_core::keys::KeyType;
use tresor_core::{
    EncryptionAlgorithmSpec, Error, ErrorKind, Fingerprint, KeyPair, PreparedPublicKey, PrivateKey,
    PublicKey, SigningAlgorithmSpec,
};

use crate::ffi::{
    Handle, Out, Result, Tagged, boundary, boundary_value, bytes_in, opt_str_in, str_in,
    tresor_bytes,
};
use crate::status::tresor_status;

/// A fingerprint as text: 68 lowercase hex characters and a NUL. Pass `fp.hex` wherever a
/// `const char *fingerprint` is expected.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct tresor_fingerprint {
    /// The hex digits, NUL-terminated.
    pub hex: [c_char; 69],
}

impl tresor_fingerprint {
    pub(crate) fn new(fp: &Fingerprint) -> Self {
        let mut hex = [0 as c_char; 69];
        for (dst, src) in hex.iter_mut().zip(fp.to_string().bytes()) {
            *dst = src as c_char;
        }
        Self { hex }
    }
}

/// A public key (immutable). Thread-safe: one handle may be used from many threads at once.
#[derive(Debug)]
pub struct tresor_public_key {
    _private: [u8; 0],
}

/// A private key held by the caller (immutable; zeroized when freed). Thread-safe.
#[derive(Debug)]
pub struct tresor_private_key {
    _private: [u8; 0],
}

/// What is behind a `tresor_public_key`: the core's prepared public key.
pub(crate) struct PublicKeyHandle(PreparedPublicKey);

impl Handle for PublicKeyHandle {
    const MAGIC: u64 = 0x7472_6573_6f72_0001;
    const NAME: &'static str = "tresor_public_key";
}

impl PublicKeyHandle {
    pub(crate) fn into_raw(key: PublicKey) -> *const tresor_public_key {
        Tagged::arc_into_raw(Self(PreparedPublicKey::new(key)))
    }

    fn key(&self) -> &PublicKey {
        self.0.public_key()
    }
}

/// What is behind a `tresor_private_key`: the core's key pair.
pub(crate) struct PrivateKeyHandle(KeyPair);

impl Handle for PrivateKeyHandle {
    const MAGIC: u64 = 0x7472_6573_6f72_0002;
    const NAME: &'static str = "tresor_private_key";
}

/// Borrow a public key handle.
///
/// # Safety
/// `p` is NULL or a live tresor handle.
unsafe fn public<'a>(p: *const tresor_public_key) -> Result<&'a PublicKeyHandle> {
    // SAFETY: forwarded contract.
    unsafe { Tagged::<PublicKeyHandle>::get(p, "key") }
}

/// Borrow a private key handle.
///
/// # Safety
/// `p` is NULL or a live tresor handle.
unsafe fn private<'a>(p: *const tresor_private_key) -> Result<&'a PrivateKeyHandle> {
    // SAFETY: forwarded contract.
    unsafe { Tagged::<PrivateKeyHandle>::get(p, "key") }
}

/// An optional signing algorithm argument (NULL = the key spec's default).
fn signing_algorithm(name: Option<&str>) -> Result<Option<SigningAlgorithmSpec>> {
    name.map(str::parse).transpose()
}

/// An optional encryption algorithm argument (NULL = the key spec's default).
fn encryption_algorithm(name: Option<&str>) -> Result<Option<EncryptionAlgorithmSpec>> {
    name.map(str::parse).transpose()
}

// --- public keys ---------------------------------------------------------------------------------

fn public_out(key: PublicKey, out: Out<'_, *const tresor_public_key>) {
    out.write(PublicKeyHandle::into_raw(key));
}

/// Parse a DER X.509 SubjectPublicKeyInfo (Ed25519, EC P-256/P-384/secp256k1, RSA-2048).
///
/// # Safety
/// `der` is readable for `len` bytes (NULL when `len` is 0); `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_public_key_from_der(
    der: *const u8,
    len: usize,
    out: *mut *const tresor_public_key,
) -> tresor_status {
    boundary("tresor_public_key_from_der", || {
        // SAFETY: the caller's contract.
        let (der, out) = unsafe { (bytes_in(der, len, "der")?, Out::new(out, "out")?) };
        public_out(PublicKey::from_spki_der(der)?, out);
        Ok(())
    })
}

/// Parse a PEM `PUBLIC KEY` block (`len` bytes of text; need not be NUL-terminated).
///
/// # Safety
/// As `tresor_public_key_from_der`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_public_key_from_pem(
    pem: *const c_char,
    len: usize,
    out: *mut *const tresor_public_key,
) -> tresor_status {
    boundary("tresor_public_key_from_pem", || {
        // SAFETY: the caller's contract.
        let (pem, out) = unsafe { (bytes_in(pem.cast(), len, "pem")?, Out::new(out, "out")?) };
        let text = std::str::from_utf8(pem)
            .map_err(|_| Error::new(ErrorKind::MalformedKey, "the PEM text is not UTF-8"))?;
        public_out(PublicKey::from_pem(text)?, out);
        Ok(())
    })
}

/// Release a public key. NULL is ignored.
///
/// # Safety
/// `key` is NULL or a public key handle not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_public_key_free(key: *const tresor_public_key) {
    boundary("tresor_public_key_free", || {
        // SAFETY: the caller's contract.
        unsafe { Tagged::<PublicKeyHandle>::arc_free(key, "key") }
    });
}

/// The key's Canton fingerprint.
///
/// # Safety
/// `key` is a live handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_public_key_fingerprint(
    key: *const tresor_public_key,
    out: *mut tresor_fingerprint,
) -> tresor_status {
    boundary("tresor_public_key_fingerprint", || {
        // SAFETY: the caller's contract.
        let (k, out) = unsafe { (public(key)?, Out::new(out, "out")?) };
        out.write(tresor_fingerprint::new(&k.key().fingerprint()));
        Ok(())
    })
}

/// The key as DER SubjectPublicKeyInfo (EC points uncompressed), the form Canton stores.
///
/// # Safety
/// `key` is a live handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_public_key_to_der(
    key: *const tresor_public_key,
    out: *mut tresor_bytes,
) -> tresor_status {
    boundary("tresor_public_key_to_der", || {
        // SAFETY: the caller's contract.
        let (k, out) = unsafe { (public(key)?, Out::new(out, "out")?) };
        out.write(tresor_bytes::from_slice(k.key().spki_der()));
        Ok(())
    })
}

/// The key as a PEM `PUBLIC KEY` block (text; `out->data` is NUL-terminated).
///
/// # Safety
/// `key` is a live handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_public_key_to_pem(
    key: *const tresor_public_key,
    out: *mut tresor_bytes,
) -> tresor_status {
    boundary("tresor_public_key_to_pem", || {
        // SAFETY: the caller's contract.
        let (k, out) = unsafe { (public(key)?, Out::new(out, "out")?) };
        out.write(tresor_bytes::from_slice(k.key().to_pem().as_bytes()));
        Ok(())
    })
}

/// The signing key spec of the key (`"ec-curve-25519"`, `"ec-p-256"`, `"ec-p-384"`,
/// `"ec-secp-256k-1"`), or NULL if the key cannot sign (RSA) or `key` is invalid. Static string.
///
/// # Safety
/// `key` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_public_key_signing_spec(
    key: *const tresor_public_key,
) -> *const c_char {
    boundary_value("tresor_public_key_signing_spec", std::ptr::null(), || {
        // SAFETY: the caller's contract.
        let k = unsafe { public(key) }?;
        Ok(k.key()
            .key_type()
            .signing_spec()
            .map_or(std::ptr::null(), |s| crate::ffi::static_c(s.as_str())))
    })
}

/// The encryption key spec of the key (`"ec-p-256"`, `"rsa-2048"`), or NULL if the key cannot be
/// encrypted to. Static string.
///
/// # Safety
/// `key` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_public_key_encryption_spec(
    key: *const tresor_public_key,
) -> *const c_char {
    boundary_value(
        "tresor_public_key_encryption_spec",
        std::ptr::null(),
        || {
            // SAFETY: the caller's contract.
            let k = unsafe { public(key) }?;
            Ok(k.key()
                .key_type()
                .encryption_spec()
                .map_or(std::ptr::null(), |s| crate::ffi::static_c(s.as_str())))
        },
    )
}

/// Verify `signature` over `msg`. `algorithm` is a signing algorithm spec (`"ed-25519"`,
/// `"ec-dsa-sha-256"`, `"ec-dsa-sha-384"`) or NULL for the key's default. Returns
/// `TRESOR_STATUS_OK` for a valid signature and `TRESOR_STATUS_INVALID_SIGNATURE` (opaque) for any
/// other; ECDSA signatures are DER, Ed25519 signatures 64 raw bytes (verified strictly).
///
/// # Safety
/// `key` is a live handle; `algorithm` is NULL or a C string; `msg`/`signature` are readable for
/// their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_public_key_verify(
    key: *const tresor_public_key,
    algorithm: *const c_char,
    msg: *const u8,
    msg_len: usize,
    signature: *const u8,
    signature_len: usize,
) -> tresor_status {
    boundary("tresor_public_key_verify", || {
        // SAFETY: the caller's contract.
        let (k, algorithm, msg, sig) = unsafe {
            (
                public(key)?,
                opt_str_in(algorithm, "algorithm")?,
                bytes_in(msg, msg_len, "msg")?,
                bytes_in(signature, signature_len, "signature")?,
            )
        };
        k.0.verify(signing_algorithm(algorithm)?, msg, sig)
    })
}

/// Encrypt `plaintext` to the key. `algorithm` is `"ecies-hkdf-hmac-sha-256-aes-128-cbc"` (P-256),
/// `"rsa-oaep-sha-256"` (RSA-2048), or NULL for the key's default.
///
/// # Safety
/// `key` is a live handle; `algorithm` is NULL or a C string; `plaintext` is readable for
/// `plaintext_len` bytes; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_public_key_encrypt(
    key: *const tresor_public_key,
    algorithm: *const c_char,
    plaintext: *const u8,
    plaintext_len: usize,
    out: *mut tresor_bytes,
) -> tresor_status {
    boundary("tresor_public_key_encrypt", || {
        // SAFETY: the caller's contract.
        let (k, algorithm, pt, out) = unsafe {
            (
                public(key)?,
                opt_str_in(algorithm, "algorithm")?,
                bytes_in(plaintext, plaintext_len, "plaintext")?,
                Out::new(out, "out")?,
            )
        };
        let ct = k.0.encrypt(encryption_algorithm(algorithm)?, pt)?;
        out.write(tresor_bytes::from_slice(&ct));
        Ok(())
    })
}

// --- private keys --------------------------------------------------------------------------------

fn private_out(key: PrivateKey, out: Out<'_, *const tresor_private_key>) {
    out.write(Tagged::arc_into_raw(PrivateKeyHandle(KeyPair::new(key))));
}

/// Generate a private key of `spec` (`"ec-curve-25519"`, `"ec-p-256"`, `"ec-p-384"`,
/// `"ec-secp-256k-1"`, `"rsa-2048"`) from the operating system's random generator.
///
/// # Safety
/// `spec` is a C string; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_private_key_generate(
    spec: *const c_char,
    out: *mut *const tresor_private_key,
) -> tresor_status {
    boundary("tresor_private_key_generate", || {
        // SAFETY: the caller's contract.
        let (spec, out) = unsafe { (str_in(spec, "spec")?, Out::new(out, "out")?) };
        private_out(PrivateKey::generate(spec.parse::<KeyType>()?)?, out);
        Ok(())
    })
}

/// Parse a PKCS#8 DER private key. The input is not kept; wipe it when done.
///
/// # Safety
/// `der` is readable for `len` bytes; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_private_key_from_der(
    der: *const u8,
    len: usize,
    out: *mut *const tresor_private_key,
) -> tresor_status {
    boundary("tresor_private_key_from_der", || {
        // SAFETY: the caller's contract.
        let (der, out) = unsafe { (bytes_in(der, len, "der")?, Out::new(out, "out")?) };
        private_out(PrivateKey::from_pkcs8_der(der)?, out);
        Ok(())
    })
}

/// Parse a PEM `PRIVATE KEY` (PKCS#8) block of `len` bytes.
///
/// # Safety
/// `pem` is readable for `len` bytes; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_private_key_from_pem(
    pem: *const c_char,
    len: usize,
    out: *mut *const tresor_private_key,
) -> tresor_status {
    boundary("tresor_private_key_from_pem", || {
        // SAFETY: the caller's contract.
        let (pem, out) = unsafe { (bytes_in(pem.cast(), len, "pem")?, Out::new(out, "out")?) };
        let text = std::str::from_utf8(pem)
            .map_err(|_| Error::new(ErrorKind::MalformedKey, "the PEM text is not UTF-8"))?;
        private_out(PrivateKey::from_pem(text)?, out);
        Ok(())
    })
}

/// The key as PKCS#8 DER. This is secret: release it with `tresor_bytes_free`, which wipes it.
///
/// # Safety
/// `key` is a live handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_private_key_to_der(
    key: *const tresor_private_key,
    out: *mut tresor_bytes,
) -> tresor_status {
    boundary("tresor_private_key_to_der", || {
        // SAFETY: the caller's contract.
        let (k, out) = unsafe { (private(key)?, Out::new(out, "out")?) };
        out.write(tresor_bytes::from_slice(k.0.private_key().pkcs8_der()));
        Ok(())
    })
}

/// The public half, as a new handle (free it with `tresor_public_key_free`).
///
/// # Safety
/// `key` is a live handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_private_key_public_key(
    key: *const tresor_private_key,
    out: *mut *const tresor_public_key,
) -> tresor_status {
    boundary("tresor_private_key_public_key", || {
        // SAFETY: the caller's contract.
        let (k, out) = unsafe { (private(key)?, Out::new(out, "out")?) };
        public_out(k.0.public_key().clone(), out);
        Ok(())
    })
}

/// Sign `msg`. `algorithm` as for `tresor_public_key_verify` (NULL = the key's default). ECDSA
/// signatures are DER, Ed25519 signatures 64 raw bytes.
///
/// # Safety
/// `key` is a live handle; `algorithm` is NULL or a C string; `msg` is readable for `msg_len`
/// bytes; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_private_key_sign(
    key: *const tresor_private_key,
    algorithm: *const c_char,
    msg: *const u8,
    msg_len: usize,
    out: *mut tresor_bytes,
) -> tresor_status {
    boundary("tresor_private_key_sign", || {
        // SAFETY: the caller's contract.
        let (k, algorithm, msg, out) = unsafe {
            (
                private(key)?,
                opt_str_in(algorithm, "algorithm")?,
                bytes_in(msg, msg_len, "msg")?,
                Out::new(out, "out")?,
            )
        };
        let sig = k.0.sign(signing_algorithm(algorithm)?, msg)?;
        out.write(tresor_bytes::from_slice(&sig));
        Ok(())
    })
}

/// Decrypt `ciphertext` (as made by `tresor_public_key_encrypt` or by Canton). The plaintext is
/// secret: release it with `tresor_bytes_free`, which wipes it. Any failure to open is
/// `TRESOR_STATUS_DECRYPTION_FAILED` (opaque) or `TRESOR_STATUS_MALFORMED_CIPHERTEXT`.
///
/// # Safety
/// `key` is a live handle; `algorithm` is NULL or a C string; `ciphertext` is readable for
/// `ciphertext_len` bytes; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_private_key_decrypt(
    key: *const tresor_private_key,
    algorithm: *const c_char,
    ciphertext: *const u8,
    ciphertext_len: usize,
    out: *mut tresor_bytes,
) -> tresor_status {
    boundary("tresor_private_key_decrypt", || {
        // SAFETY: the caller's contract.
        let (k, algorithm, ct, out) = unsafe {
            (
                private(key)?,
                opt_str_in(algorithm, "algorithm")?,
                bytes_in(ciphertext, ciphertext_len, "ciphertext")?,
                Out::new(out, "out")?,
            )
        };
        let pt = k.0.decrypt(encryption_algorithm(algorithm)?, ct)?;
        out.write(tresor_bytes::from_slice(&pt));
        Ok(())
    })
}

/// Release a private key; its secret bytes are zeroized. NULL is ignored.
///
/// # Safety
/// `key` is NULL or a private key handle not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_private_key_free(key: *const tresor_private_key) {
    boundary("tresor_private_key_free", || {
        // SAFETY: the caller's contract.
        unsafe { Tagged::<PrivateKeyHandle>::arc_free(key, "key") }
    });
}
