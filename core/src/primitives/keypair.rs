//! Caller-held keys, prepared once and used for everything their type can do: [`KeyPair`] (a private
//! key: sign, decrypt, and what its public key does) and [`PreparedPublicKey`] (verify, encrypt).
//!
//! These are what the bindings hand to their users for keys that do not live in a vault (C
//! `tresor_private_key`/`tresor_public_key`, Java and Python `PrivateKey`/`PublicKey`, the WASM
//! `PublicKey`): the algorithm defaults to the key spec's (Canton's default), a requested algorithm is
//! checked against the spec, and a key that cannot do an operation says so with
//! [`ErrorKind::IncompatibleKey`](crate::ErrorKind::IncompatibleKey) — or, when the backend refuses the
//! operation for the key (RSA decryption on the portable backend), with that refusal, never with a
//! substitute.
//!
//! Preparation (parsing the key for the backend) happens on first use and is kept, so repeated calls
//! cost only the operation. Both types are `Send + Sync`.

use std::sync::OnceLock;

use zeroize::Zeroizing;

use super::{Decrypter, Encrypter, Signer, Verifier};
use crate::error::Result;
use crate::keys::{Fingerprint, KeyType, PrivateKey, PublicKey};
use crate::scheme::{EncryptionAlgorithmSpec, SigningAlgorithmSpec};

/// Get the prepared value, preparing it on first use. A failed preparation is not kept: the next call
/// reports the same error again.
fn prepared<T>(cell: &OnceLock<T>, make: impl FnOnce() -> Result<T>) -> Result<&T> {
    if let Some(v) = cell.get() {
        return Ok(v);
    }
    let v = make()?;
    Ok(cell.get_or_init(|| v))
}

/// A public key prepared for verifying and encrypting in Canton's formats.
pub struct PreparedPublicKey {
    key: PublicKey,
    verifier: OnceLock<Verifier>,
    encrypter: OnceLock<Encrypter>,
}

impl PreparedPublicKey {
    /// Prepare `key` (nothing is computed until the first operation).
    pub fn new(key: PublicKey) -> Self {
        Self {
            key,
            verifier: OnceLock::new(),
            encrypter: OnceLock::new(),
        }
    }

    /// The key.
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }

    /// Its Canton fingerprint.
    pub fn fingerprint(&self) -> Fingerprint {
        self.key.fingerprint()
    }

    /// Its type.
    pub fn key_type(&self) -> KeyType {
        self.key.key_type()
    }

    /// Verify `sig` (Canton's format: DER for ECDSA, 64 bytes for Ed25519) over `msg` with `algo`, or
    /// the key spec's default algorithm. `Ok` when it verifies; the opaque
    /// [`InvalidSignature`](crate::ErrorKind::InvalidSignature) when it does not.
    pub fn verify(&self, algo: Option<SigningAlgorithmSpec>, msg: &[u8], sig: &[u8]) -> Result<()> {
        let algo = self.key.key_type().require_signing()?.algorithm(algo)?;
        prepared(&self.verifier, || Verifier::new(self.key.clone()))?.verify(algo, msg, sig)
    }

    /// Encrypt `pt` to this key with `algo`, or the key spec's default algorithm, in Canton's format.
    pub fn encrypt(&self, algo: Option<EncryptionAlgorithmSpec>, pt: &[u8]) -> Result<Vec<u8>> {
        let algo = self.key.key_type().require_encryption()?.algorithm(algo)?;
        prepared(&self.encrypter, || Encrypter::new(self.key.clone()))?.encrypt(algo, pt)
    }
}

impl From<PublicKey> for PreparedPublicKey {
    fn from(key: PublicKey) -> Self {
        Self::new(key)
    }
}

impl core::fmt::Debug for PreparedPublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PreparedPublicKey")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// A caller-held private key with its public key, prepared for signing, decrypting, verifying and
/// encrypting. The private key is zeroized on drop and never shown by `Debug`.
pub struct KeyPair {
    private: PrivateKey,
    public: PreparedPublicKey,
    signer: OnceLock<Signer>,
    decrypter: OnceLock<Decrypter>,
}

impl KeyPair {
    /// A key pair around `key`.
    pub fn new(key: PrivateKey) -> Self {
        Self {
            public: PreparedPublicKey::new(key.public_key().clone()),
            private: key,
            signer: OnceLock::new(),
            decrypter: OnceLock::new(),
        }
    }

    /// A fresh key pair of `key_type` from the operating system's RNG.
    pub fn generate(key_type: KeyType) -> Result<Self> {
        Ok(Self::new(PrivateKey::generate(key_type)?))
    }

    /// Parse a private key file's contents (PKCS#8 DER, or PEM).
    pub fn from_der_or_pem(bytes: &[u8]) -> Result<Self> {
        Ok(Self::new(PrivateKey::from_der_or_pem(bytes)?))
    }

    /// The private key (secret material: keep what you take from it in zeroizing memory).
    pub fn private_key(&self) -> &PrivateKey {
        &self.private
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        self.public.public_key()
    }

    /// The public key, prepared.
    pub fn public(&self) -> &PreparedPublicKey {
        &self.public
    }

    /// The Canton fingerprint of the public key.
    pub fn fingerprint(&self) -> Fingerprint {
        self.public.fingerprint()
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        self.private.key_type()
    }

    /// Sign `msg` with `algo`, or the key spec's default algorithm, in Canton's signature format.
    pub fn sign(&self, algo: Option<SigningAlgorithmSpec>, msg: &[u8]) -> Result<Vec<u8>> {
        let algo = self.key_type().require_signing()?.algorithm(algo)?;
        prepared(&self.signer, || Signer::new(self.private.clone()))?.sign(algo, msg)
    }

    /// Decrypt a ciphertext in Canton's format of `algo`, or of the key spec's default algorithm.
    pub fn decrypt(
        &self,
        algo: Option<EncryptionAlgorithmSpec>,
        ct: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let algo = self.key_type().require_encryption()?.algorithm(algo)?;
        prepared(&self.decrypter, || Decrypter::new(self.private.clone()))?.decrypt(algo, ct)
    }

    /// See [`PreparedPublicKey::verify`].
    pub fn verify(&self, algo: Option<SigningAlgorithmSpec>, msg: &[u8], sig: &[u8]) -> Result<()> {
        self.public.verify(algo, msg, sig)
    }

    /// See [`PreparedPublicKey::encrypt`].
    pub fn encrypt(&self, algo: Option<EncryptionAlgorithmSpec>, pt: &[u8]) -> Result<Vec<u8>> {
        self.public.encrypt(algo, pt)
    }
}

impl From<PrivateKey> for KeyPair {
    fn from(key: PrivateKey) -> Self {
        Self::new(key)
    }
}

impl core::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyPair")
            .field("key_type", &self.key_type())
            .field("fingerprint", &self.fingerprint().to_string())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn every_type_does_what_it_can_and_says_what_it_cannot() {
        for kt in [
            KeyType::Ed25519,
            KeyType::EcP256,
            KeyType::EcP384,
            KeyType::EcSecp256k1,
            KeyType::Rsa2048,
        ] {
            let kp = KeyPair::generate(kt).expect("generate");
            match kt.signing_spec() {
                Some(_) => {
                    let sig = kp.sign(None, b"m").expect("sign");
                    kp.verify(None, b"m", &sig).expect("verify");
                    let e = kp.verify(None, b"x", &sig).expect_err("other message");
                    assert_eq!(e.kind(), ErrorKind::InvalidSignature);
                }
                None => {
                    let e = kp.sign(None, b"m").expect_err("cannot sign");
                    assert_eq!(e.kind(), ErrorKind::IncompatibleKey);
                    let e = kp.verify(None, b"m", &[0; 64]).expect_err("cannot verify");
                    assert_eq!(e.kind(), ErrorKind::IncompatibleKey);
                }
            }
            match kt.encryption_spec() {
                // The portable backend refuses RSA-OAEP decryption (see the test below).
                Some(_) if kt == KeyType::Rsa2048 && !cfg!(feature = "native") => {
                    kp.encrypt(None, b"secret").expect("encrypt");
                }
                Some(_) => {
                    let ct = kp.encrypt(None, b"secret").expect("encrypt");
                    assert_eq!(
                        kp.decrypt(None, &ct).expect("decrypt").as_slice(),
                        b"secret"
                    );
                }
                None => {
                    let e = kp.decrypt(None, &[0; 100]).expect_err("cannot decrypt");
                    assert_eq!(e.kind(), ErrorKind::IncompatibleKey);
                    let e = kp.encrypt(None, b"x").expect_err("cannot encrypt");
                    assert_eq!(e.kind(), ErrorKind::IncompatibleKey);
                }
            }
        }
        let kp = KeyPair::generate(KeyType::EcP256).expect("generate");
        let e = kp
            .sign(Some(SigningAlgorithmSpec::EcDsaSha384), b"m")
            .expect_err("wrong algorithm");
        assert_eq!(e.kind(), ErrorKind::IncompatibleKey);
        assert!(!format!("{kp:?}").contains("pkcs8"));
    }

    /// On the portable backend an RSA key decrypts nothing (timing advisory): the refusal itself is
    /// reported, every time, not a generic "cannot decrypt" (the C handle used to swallow it).
    #[cfg(not(feature = "native"))]
    #[test]
    fn portable_rsa_decryption_reports_the_backend_refusal() {
        let kp = KeyPair::generate(KeyType::Rsa2048).expect("generate");
        let ct = kp.encrypt(None, b"x").expect("encrypt is fine");
        for _ in 0..2 {
            let e = kp.decrypt(None, &ct).expect_err("refused");
            assert_eq!(e.kind(), ErrorKind::UnsupportedAlgorithm, "{e}");
        }
    }
}
