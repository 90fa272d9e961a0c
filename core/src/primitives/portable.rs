//! The portable backend: pure-Rust RustCrypto crates. Builds for wasm32.
//!
//! RSA-OAEP decryption is refused: the `rsa` crate carries RUSTSEC-2023-0071 (a timing side channel in
//! decryption) with no patched version. Encryption uses only the public key and is available.

use p256::ecdsa::signature::{Signer as _, Verifier as _};
use rand_core::UnwrapErr;
use zeroize::Zeroizing;

use super::{Backend, Ed25519Rule, sealed};
use crate::error::{Error, ErrorKind, Result};
use crate::keys::{KeyType, PrivateKey, PublicKey};

/// The portable backend (RustCrypto). See the module docs of [`crate::primitives`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Portable;

impl sealed::Sealed for Portable {}

#[doc(hidden)]
pub enum PortableSigner {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    K256(k256::ecdsa::SigningKey),
}

#[doc(hidden)]
pub enum PortableVerifier {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    K256(k256::ecdsa::VerifyingKey),
}

#[doc(hidden)]
pub struct PortableAesGcm(AesGcmEither);

enum AesGcmEither {
    A128(Box<aes_gcm::Aes128Gcm>),
    A256(Box<aes_gcm::Aes256Gcm>),
}

#[doc(hidden)]
pub struct RsaRefused;

super::opaque_debug!(PortableSigner, PortableVerifier, PortableAesGcm, RsaRefused);

fn rng() -> UnwrapErr<getrandom::SysRng> {
    UnwrapErr(getrandom::SysRng)
}

/// Ed25519 verification shared by both backends (ed25519-dalek).
pub(super) fn ed25519_verify(
    key: &ed25519_dalek::VerifyingKey,
    msg: &[u8],
    sig: &[u8],
    rule: Ed25519Rule,
) -> Result<()> {
    let bytes: &[u8; 64] = sig.try_into().map_err(|_| {
        Error::new(
            ErrorKind::MalformedSignature,
            format!("an Ed25519 signature is 64 bytes, got {}", sig.len()),
        )
    })?;
    let sig = ed25519_dalek::Signature::from_bytes(bytes);
    let ok = match rule {
        Ed25519Rule::Strict => key.verify_strict(msg, &sig).is_ok(),
        Ed25519Rule::Rfc8032 => key.verify(msg, &sig).is_ok(),
    };
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_signature())
    }
}

fn ec_secret<C>(key: &PrivateKey) -> Result<elliptic_curve::SecretKey<C>>
where
    C: elliptic_curve::CurveArithmetic,
{
    elliptic_curve::SecretKey::<C>::from_slice(key.secret_bytes())
        .map_err(|_| Error::malformed_key("EC scalar"))
}

impl Backend for Portable {
    const NAME: &'static str = "portable";
    type Signer = PortableSigner;
    type Verifier = PortableVerifier;
    type AesGcmKey = PortableAesGcm;
    type EcdhKey = p256::SecretKey;
    type RsaEncrypter = rsa::RsaPublicKey;
    type RsaDecrypter = RsaRefused;

    fn generate(key_type: KeyType) -> Result<PrivateKey> {
        match key_type {
            KeyType::Ed25519 => {
                let mut seed = Zeroizing::new([0u8; 32]);
                super::random_bytes(seed.as_mut())?;
                Ok(PrivateKey::ed25519_from_seed(&seed))
            }
            KeyType::EcP256 => PrivateKey::from_ec_secret(
                key_type,
                &<p256::SecretKey as elliptic_curve::Generate>::generate_from_rng(&mut rng()),
            ),
            KeyType::EcP384 => PrivateKey::from_ec_secret(
                key_type,
                &<p384::SecretKey as elliptic_curve::Generate>::generate_from_rng(&mut rng()),
            ),
            KeyType::EcSecp256k1 => PrivateKey::from_ec_secret(
                key_type,
                &<k256::SecretKey as elliptic_curve::Generate>::generate_from_rng(&mut rng()),
            ),
            KeyType::Rsa2048 => {
                let k = rsa::RsaPrivateKey::new(&mut rng(), 2048)
                    .map_err(|_| Error::internal("RSA key generation failed"))?;
                PrivateKey::from_rsa(&k)
            }
        }
    }

    fn signer(key: &PrivateKey) -> Result<PortableSigner> {
        Ok(match key.key_type() {
            KeyType::Ed25519 => {
                let seed: &[u8; 32] = key
                    .secret_bytes()
                    .try_into()
                    .map_err(|_| Error::malformed_key("Ed25519 seed length"))?;
                PortableSigner::Ed25519(ed25519_dalek::SigningKey::from_bytes(seed))
            }
            KeyType::EcP256 => PortableSigner::P256(ec_secret::<p256::NistP256>(key)?.into()),
            KeyType::EcP384 => PortableSigner::P384(ec_secret::<p384::NistP384>(key)?.into()),
            KeyType::EcSecp256k1 => PortableSigner::K256(ec_secret::<k256::Secp256k1>(key)?.into()),
            KeyType::Rsa2048 => {
                return Err(Error::new(
                    ErrorKind::IncompatibleKey,
                    "an RSA-2048 key cannot be used for signing",
                ));
            }
        })
    }

    fn sign(signer: &PortableSigner, msg: &[u8]) -> Result<Vec<u8>> {
        Ok(match signer {
            PortableSigner::Ed25519(k) => k.sign(msg).to_bytes().to_vec(),
            PortableSigner::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign(msg);
                s.to_der().as_bytes().to_vec()
            }
            PortableSigner::P384(k) => {
                let s: p384::ecdsa::Signature = k.sign(msg);
                s.to_der().as_bytes().to_vec()
            }
            PortableSigner::K256(k) => {
                let s: k256::ecdsa::Signature = k.sign(msg);
                s.to_der().as_bytes().to_vec()
            }
        })
    }

    fn verifier(key: &PublicKey) -> Result<PortableVerifier> {
        let raw = key.raw_fixed();
        let bad = |_| Error::malformed_key(format!("{} public key rejected", key.key_type()));
        Ok(match key.key_type() {
            KeyType::Ed25519 => {
                let b: &[u8; 32] = raw
                    .try_into()
                    .map_err(|_| Error::malformed_key("Ed25519 key length"))?;
                PortableVerifier::Ed25519(
                    ed25519_dalek::VerifyingKey::from_bytes(b).map_err(|_| {
                        Error::malformed_key("Ed25519 public key is not a valid point")
                    })?,
                )
            }
            KeyType::EcP256 => PortableVerifier::P256(
                p256::ecdsa::VerifyingKey::from_sec1_bytes(raw).map_err(bad)?,
            ),
            KeyType::EcP384 => PortableVerifier::P384(
                p384::ecdsa::VerifyingKey::from_sec1_bytes(raw).map_err(bad)?,
            ),
            KeyType::EcSecp256k1 => PortableVerifier::K256(
                k256::ecdsa::VerifyingKey::from_sec1_bytes(raw).map_err(bad)?,
            ),
            KeyType::Rsa2048 => {
                return Err(Error::new(
                    ErrorKind::IncompatibleKey,
                    "an RSA-2048 key cannot verify signatures",
                ));
            }
        })
    }

    fn verify(
        verifier: &PortableVerifier,
        msg: &[u8],
        sig: &[u8],
        rule: Ed25519Rule,
    ) -> Result<()> {
        let ok = match verifier {
            PortableVerifier::Ed25519(k) => return ed25519_verify(k, msg, sig, rule),
            PortableVerifier::P256(k) => {
                let s = p256::ecdsa::Signature::from_der(sig)
                    .map_err(|_| Error::invalid_signature())?;
                k.verify(msg, &s).is_ok()
            }
            PortableVerifier::P384(k) => {
                let s = p384::ecdsa::Signature::from_der(sig)
                    .map_err(|_| Error::invalid_signature())?;
                k.verify(msg, &s).is_ok()
            }
            PortableVerifier::K256(k) => {
                // k256 refuses high-S signatures; Canton (BouncyCastle) and aws-lc accept both halves.
                let s = k256::ecdsa::Signature::from_der(sig)
                    .map_err(|_| Error::invalid_signature())?;
                k.verify(msg, &s.normalize_s()).is_ok()
            }
        };
        if ok {
            Ok(())
        } else {
            Err(Error::invalid_signature())
        }
    }

    fn aes_gcm_key(key: &[u8]) -> Result<PortableAesGcm> {
        use aes_gcm::KeyInit;
        let bad = |_| Error::malformed_key("AES-GCM key length");
        Ok(PortableAesGcm(match key.len() {
            16 => AesGcmEither::A128(Box::new(
                aes_gcm::Aes128Gcm::new_from_slice(key).map_err(bad)?,
            )),
            _ => AesGcmEither::A256(Box::new(
                aes_gcm::Aes256Gcm::new_from_slice(key).map_err(bad)?,
            )),
        }))
    }

    fn aes_gcm_seal(
        key: &PortableAesGcm,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; 16]> {
        use aes_gcm::aead::AeadInOut;
        let nonce = aes_gcm::Nonce::from(*nonce);
        let tag = match &key.0 {
            AesGcmEither::A128(c) => c.encrypt_inout_detached(&nonce, aad, buf.into()),
            AesGcmEither::A256(c) => c.encrypt_inout_detached(&nonce, aad, buf.into()),
        }
        .map_err(|_| Error::internal("AES-GCM seal failed"))?;
        Ok(tag.into())
    }

    fn aes_gcm_open(
        key: &PortableAesGcm,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut Zeroizing<Vec<u8>>,
    ) -> Result<()> {
        use aes_gcm::aead::AeadInOut;
        let n = buf
            .len()
            .checked_sub(16)
            .ok_or_else(Error::decryption_failed)?;
        let nonce = aes_gcm::Nonce::from(*nonce);
        let (body, tag) = buf.split_at_mut(n);
        let tag = aes_gcm::Tag::try_from(&*tag).map_err(|_| Error::decryption_failed())?;
        match &key.0 {
            AesGcmEither::A128(c) => {
                c.decrypt_inout_detached(&nonce, aad, (&mut *body).into(), &tag)
            }
            AesGcmEither::A256(c) => {
                c.decrypt_inout_detached(&nonce, aad, (&mut *body).into(), &tag)
            }
        }
        .map_err(|_| Error::decryption_failed())?;
        buf.truncate(n);
        Ok(())
    }

    fn aes128_cbc_encrypt_in_place(
        key: &[u8; 16],
        iv: &[u8; 16],
        buf: &mut [u8],
        msg_len: usize,
    ) -> Result<()> {
        use cbc::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::Pkcs7};
        let padded = buf.len();
        let enc = cbc::Encryptor::<aes::Aes128>::new(key.into(), iv.into());
        let n = enc
            .encrypt_padded::<Pkcs7>(buf, msg_len)
            .map_err(|_| Error::internal("AES-CBC buffer is not the padded length"))?
            .len();
        if n == padded {
            Ok(())
        } else {
            Err(Error::internal("AES-CBC buffer is not the padded length"))
        }
    }

    fn aes128_cbc_decrypt(key: &[u8; 16], iv: &[u8; 16], ct: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        use cbc::cipher::{BlockModeDecrypt, KeyIvInit, block_padding::Pkcs7};
        let dec = cbc::Decryptor::<aes::Aes128>::new(key.into(), iv.into());
        dec.decrypt_padded_vec::<Pkcs7>(ct)
            .map(Zeroizing::new)
            .map_err(|_| Error::decryption_failed())
    }

    fn ecdh_key(key: &PrivateKey) -> Result<p256::SecretKey> {
        ec_secret::<p256::NistP256>(key)
    }

    fn ecdh(key: &p256::SecretKey, peer_point: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
        let peer =
            p256::PublicKey::from_sec1_bytes(peer_point).map_err(|_| Error::decryption_failed())?;
        let shared = p256::ecdh::diffie_hellman(key.to_nonzero_scalar(), peer.as_affine());
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(shared.raw_secret_bytes().as_slice());
        Ok(out)
    }

    fn ecdh_ephemeral(peer_point: &[u8]) -> Result<([u8; 65], Zeroizing<[u8; 32]>)> {
        use elliptic_curve::sec1::ToSec1Point;
        let eph = <p256::SecretKey as elliptic_curve::Generate>::generate_from_rng(&mut rng());
        let point = eph.public_key().as_affine().to_sec1_point(false);
        let v: [u8; 65] = point
            .as_bytes()
            .try_into()
            .map_err(|_| Error::internal("P-256 point length"))?;
        let z = Self::ecdh(&eph, peer_point)
            .map_err(|_| Error::malformed_key("recipient key is not a valid P-256 point"))?;
        Ok((v, z))
    }

    fn rsa_encrypter(key: &PublicKey) -> Result<rsa::RsaPublicKey> {
        use rsa::pkcs8::DecodePublicKey;
        rsa::RsaPublicKey::from_public_key_der(key.spki_der())
            .map_err(|_| Error::malformed_key("RSA public key"))
    }

    fn rsa_oaep_encrypt(key: &rsa::RsaPublicKey, pt: &[u8]) -> Result<Vec<u8>> {
        key.encrypt(&mut rng(), rsa::Oaep::<sha2::Sha256>::new(), pt)
            .map_err(|_| Error::new(ErrorKind::InputTooLarge, "RSA-OAEP plaintext too long"))
    }

    fn rsa_decrypter(_key: &PrivateKey) -> Result<RsaRefused> {
        Err(Error::new(
            ErrorKind::UnsupportedAlgorithm,
            "RSA-OAEP decryption is not available on the portable backend: the only pure-Rust RSA \
             implementation has an open timing advisory (RUSTSEC-2023-0071); use the native backend",
        ))
    }

    fn rsa_oaep_decrypt(_key: &RsaRefused, _ct: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        Err(Error::new(
            ErrorKind::UnsupportedAlgorithm,
            "RSA-OAEP decryption is not available on the portable backend",
        ))
    }
}
