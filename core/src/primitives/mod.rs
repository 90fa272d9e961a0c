//! Canton's hot-path cryptography behind one API, on two backends.
//!
//! * [`Native`] (default, feature `native`): aws-lc-rs for ECDSA, ECDH, AES-GCM, AES-CBC, RSA-OAEP and
//!   Ed25519 signing; ed25519-dalek for Ed25519 verification (the fastest measured here).
//! * [`Portable`] (always compiled; the only backend on wasm32): the RustCrypto crates. It refuses RSA-OAEP
//!   *decryption* with [`ErrorKind::UnsupportedAlgorithm`], because the `rsa` crate has an open timing
//!   advisory (RUSTSEC-2023-0071); RSA encryption, which uses only the public key, is available.
//!
//! [`DefaultBackend`] is `Native` when the `native` feature is on, `Portable` otherwise. Every type here
//! takes the backend as a type parameter defaulting to `DefaultBackend`, so `Signer::new(key)` uses the
//! default and `Signer::<Portable>::with_backend(key)` picks one explicitly (the differential tests do).
//!
//! HMAC-SHA-256, HKDF-SHA-256 and SHA-256 are the RustCrypto implementations on both backends: they
//! measured faster than aws-lc-rs here (see `spec/perf-anchors.md`).
//!
//! # Ed25519 acceptance rule
//! Verification is **strict** by default ([`Ed25519Rule::Strict`], ed25519-dalek's `verify_strict`): it
//! rejects non-canonical `S` (≥ L), non-canonical encodings of `R` and `A`, and small-order `R` or `A`,
//! and uses the cofactorless equation `[S]B = R + [k]A`. [`Ed25519Rule::Rfc8032`] relaxes this to RFC 8032
//! §5.1.7 as written (canonical `S`, cofactorless equation, small-order points accepted).

/// `Debug` for backend key types that prints only the type name (they hold key material).
macro_rules! opaque_debug {
    ($($t:ident),+) => {
        $(impl core::fmt::Debug for $t {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(concat!(stringify!($t), "(..)"))
            }
        })+
    };
}
use opaque_debug;

mod ecdsa_der;
mod ecies;
mod keypair;
#[cfg(feature = "native")]
mod native;
mod portable;

use zeroize::Zeroizing;

pub use ecdsa_der::{ecdsa_der_to_raw, ecdsa_raw_to_der};
pub use ecies::ecies_cbc_decrypt_with_ecdh;
pub use keypair::{KeyPair, PreparedPublicKey};
#[cfg(feature = "native")]
pub use native::Native;
pub use portable::Portable;

use crate::error::{Error, ErrorKind, Result};
use crate::keys::{KeyType, PrivateKey, PublicKey};
use crate::scheme::{EncryptionAlgorithmSpec, SigningAlgorithmSpec};

/// The backend used when none is named.
#[cfg(feature = "native")]
pub type DefaultBackend = Native;
/// The backend used when none is named.
#[cfg(not(feature = "native"))]
pub type DefaultBackend = Portable;

mod sealed {
    pub trait Sealed {}
}

/// Which Ed25519 verification equation and encodings to accept (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ed25519Rule {
    /// ed25519-dalek `verify_strict` (the default).
    #[default]
    Strict,
    /// RFC 8032 §5.1.7 cofactorless verification, small-order points accepted.
    Rfc8032,
}

/// A crypto backend. Sealed: implemented by [`Native`] and [`Portable`] only.
///
/// The associated types are keys prepared once for repeated use (parsed, precomputed), so that the hot
/// path does no parsing.
pub trait Backend: sealed::Sealed + Send + Sync + 'static {
    /// A short name ("native" or "portable").
    const NAME: &'static str;
    #[doc(hidden)]
    type Signer: Send + Sync;
    #[doc(hidden)]
    type Verifier: Send + Sync;
    #[doc(hidden)]
    type AesGcmKey: Send + Sync;
    #[doc(hidden)]
    type EcdhKey: Send + Sync;
    #[doc(hidden)]
    type RsaEncrypter: Send + Sync;
    #[doc(hidden)]
    type RsaDecrypter: Send + Sync;

    #[doc(hidden)]
    fn generate(key_type: KeyType) -> Result<PrivateKey>;
    #[doc(hidden)]
    fn signer(key: &PrivateKey) -> Result<Self::Signer>;
    /// Sign with the key's algorithm (Ed25519, or ECDSA with the curve's hash); ECDSA output is DER.
    #[doc(hidden)]
    fn sign(signer: &Self::Signer, msg: &[u8]) -> Result<Vec<u8>>;
    #[doc(hidden)]
    fn verifier(key: &PublicKey) -> Result<Self::Verifier>;
    #[doc(hidden)]
    fn verify(verifier: &Self::Verifier, msg: &[u8], sig: &[u8], rule: Ed25519Rule) -> Result<()>;
    /// AES-GCM key (16 or 32 bytes).
    #[doc(hidden)]
    fn aes_gcm_key(key: &[u8]) -> Result<Self::AesGcmKey>;
    /// Encrypt `buf` in place, returning the 16-byte tag.
    #[doc(hidden)]
    fn aes_gcm_seal(
        key: &Self::AesGcmKey,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; 16]>;
    /// Decrypt `ciphertext ‖ tag` in `buf` in place, truncating it to the plaintext.
    #[doc(hidden)]
    fn aes_gcm_open(
        key: &Self::AesGcmKey,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut Zeroizing<Vec<u8>>,
    ) -> Result<()>;
    /// AES-128-CBC with PKCS#7 padding, in place: `buf` holds the message in its first `msg_len` bytes
    /// and is exactly the padded length (`msg_len` rounded up to the next multiple of 16, plus 16 when
    /// it already is one); it ends as the ciphertext.
    #[doc(hidden)]
    fn aes128_cbc_encrypt_in_place(
        key: &[u8; 16],
        iv: &[u8; 16],
        buf: &mut [u8],
        msg_len: usize,
    ) -> Result<()>;
    #[doc(hidden)]
    fn aes128_cbc_decrypt(key: &[u8; 16], iv: &[u8; 16], ct: &[u8]) -> Result<Zeroizing<Vec<u8>>>;
    #[doc(hidden)]
    fn ecdh_key(key: &PrivateKey) -> Result<Self::EcdhKey>;
    /// P-256 ECDH with an uncompressed peer point: the 32-byte x-coordinate.
    #[doc(hidden)]
    fn ecdh(key: &Self::EcdhKey, peer_point: &[u8]) -> Result<Zeroizing<[u8; 32]>>;
    /// Ephemeral P-256 ECDH: (ephemeral uncompressed point, shared x-coordinate).
    #[doc(hidden)]
    fn ecdh_ephemeral(peer_point: &[u8]) -> Result<([u8; 65], Zeroizing<[u8; 32]>)>;
    #[doc(hidden)]
    fn rsa_encrypter(key: &PublicKey) -> Result<Self::RsaEncrypter>;
    #[doc(hidden)]
    fn rsa_oaep_encrypt(key: &Self::RsaEncrypter, pt: &[u8]) -> Result<Vec<u8>>;
    #[doc(hidden)]
    fn rsa_decrypter(key: &PrivateKey) -> Result<Self::RsaDecrypter>;
    #[doc(hidden)]
    fn rsa_oaep_decrypt(key: &Self::RsaDecrypter, ct: &[u8]) -> Result<Zeroizing<Vec<u8>>>;
}

impl PrivateKey {
    /// Generate a fresh key pair of `key_type` from the operating system's RNG, on the default backend.
    ///
    /// (Defined here rather than in [`crate::keys`]: key generation is a primitive, and `keys` depends
    /// on nothing but `scheme` and `error`.)
    pub fn generate(key_type: KeyType) -> Result<Self> {
        DefaultBackend::generate(key_type)
    }
}

/// Fill `out` with cryptographically secure random bytes (keys, IVs, nonces, salts).
///
/// With the native backend compiled in, they come from AWS-LC's userspace DRBG (CTR-DRBG per thread,
/// seeded and periodically reseeded from the operating system's RNG, reseeded after `fork` and VM
/// snapshots), which costs no system call per draw; otherwise (the portable build, wasm32) from the
/// operating system's RNG (`getrandom`; in a browser, `crypto.getRandomValues`).
pub fn random_bytes(out: &mut [u8]) -> Result<()> {
    #[cfg(feature = "native")]
    {
        aws_lc_rs::rand::fill(out)
            .map_err(|_| Error::internal("the random number generator failed"))
    }
    #[cfg(not(feature = "native"))]
    {
        getrandom::fill(out).map_err(|_| Error::internal("the operating system RNG failed"))
    }
}

// --- Signing -------------------------------------------------------------------------------------

/// A private signing key prepared for repeated signing.
pub struct Signer<B: Backend = DefaultBackend> {
    key: PrivateKey,
    inner: B::Signer,
}

impl Signer<DefaultBackend> {
    /// Prepare `key` (Ed25519, P-256, P-384 or secp256k1) for signing on the default backend.
    pub fn new(key: PrivateKey) -> Result<Self> {
        Self::with_backend(key)
    }
}

impl<B: Backend> Signer<B> {
    /// Prepare `key` for signing on backend `B`.
    pub fn with_backend(key: PrivateKey) -> Result<Self> {
        key.key_type().require_signing()?;
        let inner = B::signer(&key)?;
        Ok(Self { key, inner })
    }

    /// Sign `msg` with `algo`, in Canton's signature format (DER for ECDSA, raw 64 bytes for Ed25519).
    pub fn sign(&self, algo: SigningAlgorithmSpec, msg: &[u8]) -> Result<Vec<u8>> {
        algo.check_key_spec(self.key.key_type().require_signing()?)?;
        B::sign(&self.inner, msg)
    }

    /// The private key.
    pub fn private_key(&self) -> &PrivateKey {
        &self.key
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        self.key.public_key()
    }
}

impl<B: Backend> core::fmt::Debug for Signer<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Signer")
            .field("backend", &B::NAME)
            .field("key", &self.key)
            .finish()
    }
}

/// A public key prepared for repeated signature verification.
pub struct Verifier<B: Backend = DefaultBackend> {
    key: PublicKey,
    inner: B::Verifier,
    rule: Ed25519Rule,
}

impl Verifier<DefaultBackend> {
    /// Prepare `key` for verification on the default backend (strict Ed25519 rule).
    pub fn new(key: PublicKey) -> Result<Self> {
        Self::with_backend(key)
    }
}

impl<B: Backend> Verifier<B> {
    /// Prepare `key` for verification on backend `B` (strict Ed25519 rule).
    pub fn with_backend(key: PublicKey) -> Result<Self> {
        key.key_type().require_signing()?;
        let inner = B::verifier(&key)?;
        Ok(Self {
            key,
            inner,
            rule: Ed25519Rule::Strict,
        })
    }

    /// Use `rule` for Ed25519 signatures (ignored for ECDSA).
    pub fn with_ed25519_rule(mut self, rule: Ed25519Rule) -> Self {
        self.rule = rule;
        self
    }

    /// Verify `sig` (Canton format) over `msg` with `algo`. `Ok(())` when valid; a signature that is
    /// not in the format at all (an Ed25519 signature that is not 64 bytes, an ECDSA signature that is
    /// not strict DER) is [`ErrorKind::MalformedSignature`]; a well-formed signature that does not verify
    /// is the opaque [`ErrorKind::InvalidSignature`]; [`ErrorKind::IncompatibleKey`] when `algo` does not
    /// fit the key.
    pub fn verify(&self, algo: SigningAlgorithmSpec, msg: &[u8], sig: &[u8]) -> Result<()> {
        let spec = self.key.key_type().require_signing()?;
        algo.check_key_spec(spec)?;
        if algo != SigningAlgorithmSpec::Ed25519 && ecdsa_der::check_strict_der(spec, sig).is_err()
        {
            return Err(Error::new(
                ErrorKind::MalformedSignature,
                "an ECDSA signature must be strict DER (SEQUENCE of two minimal positive INTEGERs)",
            ));
        }
        B::verify(&self.inner, msg, sig, self.rule)
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }
}

impl<B: Backend> core::fmt::Debug for Verifier<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Verifier")
            .field("backend", &B::NAME)
            .field("key", &self.key)
            .finish()
    }
}

// --- Asymmetric encryption -----------------------------------------------------------------------

enum EncrypterInner<B: Backend> {
    Ec,
    Rsa(B::RsaEncrypter),
}

/// A public key prepared for asymmetric encryption in Canton's formats.
pub struct Encrypter<B: Backend = DefaultBackend> {
    key: PublicKey,
    inner: EncrypterInner<B>,
}

impl Encrypter<DefaultBackend> {
    /// Prepare a P-256 or RSA-2048 public key for encryption on the default backend.
    pub fn new(key: PublicKey) -> Result<Self> {
        Self::with_backend(key)
    }
}

impl<B: Backend> Encrypter<B> {
    /// Prepare a P-256 or RSA-2048 public key for encryption on backend `B`.
    pub fn with_backend(key: PublicKey) -> Result<Self> {
        let inner = match key.key_type().require_encryption()? {
            crate::scheme::EncryptionKeySpec::EcP256 => EncrypterInner::Ec,
            crate::scheme::EncryptionKeySpec::Rsa2048 => {
                EncrypterInner::Rsa(B::rsa_encrypter(&key)?)
            }
        };
        Ok(Self { key, inner })
    }

    /// Encrypt `pt` with `algo` in Canton's wire format.
    ///
    /// The legacy ECIES-GCM format is produced too, for tests and migration tooling; Canton no longer
    /// writes it.
    pub fn encrypt(&self, algo: EncryptionAlgorithmSpec, pt: &[u8]) -> Result<Vec<u8>> {
        let mut buf = Zeroizing::new(Vec::with_capacity(pt.len() + ENCRYPTION_OVERHEAD));
        buf.extend_from_slice(pt);
        self.encrypt_in_place(algo, &mut buf)?;
        Ok(core::mem::take(&mut *buf))
    }

    /// Encrypt the plaintext in `buf` with `algo`, in place: on success `buf` holds the ciphertext in
    /// Canton's wire format (the same bytes [`Encrypter::encrypt`] returns); on error its contents are
    /// unspecified. ECIES works in the buffer itself, so a large message costs its own size once; give
    /// `buf` [`ENCRYPTION_OVERHEAD`] bytes of spare capacity and it is never reallocated (a
    /// reallocation would leave a copy of the plaintext in freed memory).
    pub fn encrypt_in_place(&self, algo: EncryptionAlgorithmSpec, buf: &mut Vec<u8>) -> Result<()> {
        algo.check_key_spec(self.key.key_type().require_encryption()?)?;
        match (&self.inner, algo) {
            (EncrypterInner::Ec, EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Cbc) => {
                ecies::encrypt_cbc_in_place::<B>(self.key.raw_fixed(), buf)
            }
            (EncrypterInner::Ec, EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Gcm) => {
                ecies::encrypt_gcm_in_place::<B>(self.key.raw_fixed(), buf)
            }
            (EncrypterInner::Rsa(k), EncryptionAlgorithmSpec::RsaOaepSha256) => {
                if buf.len() > RSA_OAEP_MAX_PLAINTEXT {
                    return Err(Error::new(
                        ErrorKind::InputTooLarge,
                        format!(
                            "RSA-2048 OAEP-SHA256 encrypts at most {RSA_OAEP_MAX_PLAINTEXT} bytes, got {}",
                            buf.len()
                        ),
                    ));
                }
                let ct = B::rsa_oaep_encrypt(k, buf)?;
                zeroize::Zeroize::zeroize(buf);
                buf.extend_from_slice(&ct);
                Ok(())
            }
            _ => Err(Error::internal("encryption key and algorithm disagree")),
        }
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }
}

impl<B: Backend> core::fmt::Debug for Encrypter<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Encrypter")
            .field("backend", &B::NAME)
            .field("key", &self.key)
            .finish()
    }
}

/// Largest plaintext RSA-2048 OAEP with SHA-256 can carry (256 - 2·32 - 2).
pub const RSA_OAEP_MAX_PLAINTEXT: usize = 190;

/// The most a ciphertext is longer than its plaintext, for every encryption algorithm (RSA-2048's
/// 256-byte ciphertext of an empty message is the largest): the spare capacity
/// [`Encrypter::encrypt_in_place`] needs to never reallocate.
pub const ENCRYPTION_OVERHEAD: usize = 256;

enum DecrypterInner<B: Backend> {
    Ec(B::EcdhKey),
    Rsa(B::RsaDecrypter),
}

/// A private key prepared for asymmetric decryption of Canton's formats.
pub struct Decrypter<B: Backend = DefaultBackend> {
    key: PrivateKey,
    inner: DecrypterInner<B>,
}

impl Decrypter<DefaultBackend> {
    /// Prepare a P-256 or RSA-2048 private key for decryption on the default backend.
    pub fn new(key: PrivateKey) -> Result<Self> {
        Self::with_backend(key)
    }
}

impl<B: Backend> Decrypter<B> {
    /// Prepare a P-256 or RSA-2048 private key for decryption on backend `B`.
    pub fn with_backend(key: PrivateKey) -> Result<Self> {
        let inner = match key.key_type().require_encryption()? {
            crate::scheme::EncryptionKeySpec::EcP256 => DecrypterInner::Ec(B::ecdh_key(&key)?),
            crate::scheme::EncryptionKeySpec::Rsa2048 => {
                DecrypterInner::Rsa(B::rsa_decrypter(&key)?)
            }
        };
        Ok(Self { key, inner })
    }

    /// Decrypt a ciphertext in Canton's wire format for `algo`. Malformed input gives
    /// [`ErrorKind::MalformedCiphertext`]; a ciphertext that does not open gives the opaque
    /// [`ErrorKind::DecryptionFailed`].
    pub fn decrypt(&self, algo: EncryptionAlgorithmSpec, ct: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        algo.check_key_spec(self.key.key_type().require_encryption()?)?;
        match (&self.inner, algo) {
            (DecrypterInner::Ec(k), EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Cbc) => {
                ecies::decrypt_cbc::<B>(k, ct)
            }
            (DecrypterInner::Ec(k), EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Gcm) => {
                ecies::decrypt_gcm::<B>(k, ct)
            }
            (DecrypterInner::Rsa(k), EncryptionAlgorithmSpec::RsaOaepSha256) => {
                if ct.len() != 256 {
                    return Err(Error::new(
                        ErrorKind::MalformedCiphertext,
                        format!("an RSA-2048 ciphertext is 256 bytes, got {}", ct.len()),
                    ));
                }
                B::rsa_oaep_decrypt(k, ct)
            }
            _ => Err(Error::internal("decryption key and algorithm disagree")),
        }
    }

    /// The private key.
    pub fn private_key(&self) -> &PrivateKey {
        &self.key
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        self.key.public_key()
    }
}

impl<B: Backend> core::fmt::Debug for Decrypter<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Decrypter")
            .field("backend", &B::NAME)
            .field("key", &self.key)
            .finish()
    }
}

/// Raw P-256 ECDH (the primitive under ECIES): the 32-byte shared x-coordinate with `peer`, a public key
/// of type P-256. Exposed for interoperability tests; protocols should use [`Encrypter`]/[`Decrypter`].
pub fn ecdh_p256<B: Backend>(key: &PrivateKey, peer: &PublicKey) -> Result<Zeroizing<[u8; 32]>> {
    if key.key_type() != KeyType::EcP256 || peer.key_type() != KeyType::EcP256 {
        return Err(Error::new(
            ErrorKind::IncompatibleKey,
            "ECDH here is defined for P-256 keys only",
        ));
    }
    B::ecdh(&B::ecdh_key(key)?, peer.raw_fixed())
}

// --- Symmetric -----------------------------------------------------------------------------------

/// IV length of Canton's AES-128-GCM format.
pub const AES_GCM_IV_LEN: usize = 12;
/// Tag length of Canton's AES-128-GCM format.
pub const AES_GCM_TAG_LEN: usize = 16;

/// An AES-GCM key (128-bit for Canton's `aes-128-gcm`; 256-bit keys are accepted for tresor's own
/// store data keys). Zeroized on drop.
pub struct AesGcmKey<B: Backend = DefaultBackend> {
    raw: Zeroizing<Vec<u8>>,
    inner: B::AesGcmKey,
}

impl AesGcmKey<DefaultBackend> {
    /// A key from 16 (AES-128) or 32 (AES-256) raw bytes, on the default backend.
    pub fn new(raw: &[u8]) -> Result<Self> {
        Self::with_backend(raw)
    }

    /// A key for Canton's symmetric scheme, AES-128-GCM: exactly 16 bytes (Canton's
    /// `SymmetricKeyScheme` has AES-128 only). [`ErrorKind::MalformedKey`] otherwise.
    pub fn aes128(raw: &[u8]) -> Result<Self> {
        if raw.len() != 16 {
            return Err(Error::new(
                ErrorKind::MalformedKey,
                format!(
                    "an AES-128-GCM key is 16 bytes, got {} (Canton's symmetric scheme is AES-128)",
                    raw.len()
                ),
            ));
        }
        Self::new(raw)
    }

    /// A fresh random AES-128 key.
    pub fn generate_aes128() -> Result<Self> {
        let mut raw = Zeroizing::new([0u8; 16]);
        random_bytes(raw.as_mut())?;
        Self::new(raw.as_ref())
    }
}

impl<B: Backend> AesGcmKey<B> {
    /// A key from 16 or 32 raw bytes on backend `B`.
    pub fn with_backend(raw: &[u8]) -> Result<Self> {
        if raw.len() != 16 && raw.len() != 32 {
            return Err(Error::new(
                ErrorKind::MalformedKey,
                format!("an AES-GCM key is 16 or 32 bytes, got {}", raw.len()),
            ));
        }
        Ok(Self {
            raw: Zeroizing::new(raw.to_vec()),
            inner: B::aes_gcm_key(raw)?,
        })
    }

    /// The raw key bytes (secret).
    pub fn as_bytes(&self) -> &[u8] {
        &self.raw
    }

    /// Encrypt in Canton's format: `IV(12, random) ‖ ciphertext ‖ tag(16)`, with `aad` (Canton uses none).
    pub fn encrypt(&self, pt: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        let mut iv = [0u8; AES_GCM_IV_LEN];
        random_bytes(&mut iv)?;
        self.encrypt_with_iv(&iv, pt, aad)
    }

    /// Encrypt with a caller-chosen IV. Never reuse an IV under one key; this exists for test vectors.
    pub fn encrypt_with_iv(
        &self,
        iv: &[u8; AES_GCM_IV_LEN],
        pt: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(AES_GCM_IV_LEN + pt.len() + AES_GCM_TAG_LEN);
        out.extend_from_slice(iv);
        out.extend_from_slice(pt);
        let tag = B::aes_gcm_seal(&self.inner, iv, aad, &mut out[AES_GCM_IV_LEN..])?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Decrypt Canton's format. Too short: [`ErrorKind::MalformedCiphertext`]; does not open:
    /// [`ErrorKind::DecryptionFailed`].
    pub fn decrypt(&self, ct: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        if ct.len() < AES_GCM_IV_LEN + AES_GCM_TAG_LEN {
            return Err(Error::new(
                ErrorKind::MalformedCiphertext,
                format!(
                    "an AES-GCM ciphertext is at least 28 bytes (IV + tag), got {}",
                    ct.len()
                ),
            ));
        }
        let (iv, rest) = ct.split_at(AES_GCM_IV_LEN);
        let iv: &[u8; 12] = iv.try_into().map_err(|_| Error::internal("IV split"))?;
        let mut buf = Zeroizing::new(rest.to_vec());
        B::aes_gcm_open(&self.inner, iv, aad, &mut buf)?;
        Ok(buf)
    }
}

impl<B: Backend> core::fmt::Debug for AesGcmKey<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AesGcmKey")
            .field("bits", &(self.raw.len() * 8))
            .finish_non_exhaustive()
    }
}

// --- Hashes, MAC, KDF ----------------------------------------------------------------------------

/// SHA-256.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}

/// HMAC-SHA-256 (any key length).
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    use hmac::{KeyInit, Mac};
    match <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().into()
        }
        // HMAC accepts keys of every length; this arm cannot be reached.
        Err(_) => [0u8; 32],
    }
}

/// Constant-time HMAC-SHA-256 check.
pub fn hmac_sha256_verify(key: &[u8], data: &[u8], tag: &[u8]) -> Result<()> {
    use subtle::ConstantTimeEq;
    let expected = hmac_sha256(key, data);
    if tag.len() == 32 && bool::from(expected.ct_eq(tag)) {
        Ok(())
    } else {
        Err(Error::invalid_signature())
    }
}

/// HKDF-SHA-256 (RFC 5869): extract with `salt` (empty = zeros) and expand to `len` bytes with `info`.
/// `len` is at most 255·32 = 8160 bytes.
pub fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[u8], len: usize) -> Result<Zeroizing<Vec<u8>>> {
    let mut out = Zeroizing::new(vec![0u8; len]);
    hkdf::Hkdf::<sha2::Sha256>::new(Some(salt), ikm)
        .expand(info, &mut out)
        .map_err(|_| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("HKDF-SHA256 output is at most 8160 bytes, asked for {len}"),
            )
        })?;
    Ok(out)
}

/// KDF2 with SHA-256 (ISO 18033-2 / BouncyCastle `KDF2BytesGenerator`): counter from 1, big-endian 32-bit.
pub(crate) fn kdf2_sha256(z: &[&[u8]], out: &mut [u8]) {
    use sha2::Digest;
    for (i, chunk) in out.chunks_mut(32).enumerate() {
        let mut h = sha2::Sha256::new();
        for part in z {
            h.update(part);
        }
        h.update(((i + 1) as u32).to_be_bytes());
        let d = h.finalize();
        chunk.copy_from_slice(&d[..chunk.len()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hkdf_rfc5869_case1() {
        let ikm = [0x0bu8; 22];
        let salt: Vec<u8> = (0u8..=0x0c).collect();
        let info: Vec<u8> = (0xf0u8..=0xf9).collect();
        let okm = hkdf_sha256(&salt, &ikm, &info, 42)
            .map(|o| hex::encode(&*o))
            .unwrap_or_default();
        assert_eq!(
            okm,
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );
        assert!(hkdf_sha256(&[], &ikm, &[], 8161).is_err());
    }

    #[test]
    fn hmac_rfc4231_case2() {
        let tag = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(hmac_sha256_verify(b"Jefe", b"what do ya want for nothing?", &tag).is_ok());
        assert!(hmac_sha256_verify(b"Jefe", b"what do ya want for nothing!", &tag).is_err());
    }

    #[test]
    fn kdf2_counter_starts_at_one() {
        use sha2::Digest;
        let mut out = [0u8; 40];
        kdf2_sha256(&[b"ab", b"c"], &mut out);
        let mut h = sha2::Sha256::new();
        h.update(b"abc\0\0\0\x01");
        assert_eq!(&out[..32], h.finalize().as_slice());
        let mut h = sha2::Sha256::new();
        h.update(b"abc\0\0\0\x02");
        assert_eq!(&out[32..], &h.finalize()[..8]);
    }
}
