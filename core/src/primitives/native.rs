//! The native backend: aws-lc-rs (assembly-optimised, constant-time) for ECDSA, ECDH, AES-GCM, AES-CBC,
//! RSA-OAEP and Ed25519 signing; ed25519-dalek for Ed25519 verification.

use aws_lc_rs::{aead, agreement, cipher, rand, rsa as lc_rsa, signature as lc_sig};
use zeroize::Zeroizing;

use super::{Backend, Ed25519Rule, portable::ed25519_verify, sealed};
use crate::error::{Error, ErrorKind, Result};
use crate::keys::{KeyType, PrivateKey, PublicKey};

/// The native backend (aws-lc-rs + ed25519-dalek). See the module docs of [`crate::primitives`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Native;

impl sealed::Sealed for Native {}

#[doc(hidden)]
pub enum NativeSigner {
    Ed25519(lc_sig::Ed25519KeyPair),
    Ecdsa(lc_sig::EcdsaKeyPair),
}

#[doc(hidden)]
pub enum NativeVerifier {
    Ed25519(ed25519_dalek::VerifyingKey),
    Ecdsa(lc_sig::ParsedPublicKey),
}

super::opaque_debug!(NativeSigner, NativeVerifier);

fn ecdsa_signing_alg(kt: KeyType) -> Result<&'static lc_sig::EcdsaSigningAlgorithm> {
    match kt {
        KeyType::EcP256 => Ok(&lc_sig::ECDSA_P256_SHA256_ASN1_SIGNING),
        KeyType::EcP384 => Ok(&lc_sig::ECDSA_P384_SHA384_ASN1_SIGNING),
        KeyType::EcSecp256k1 => Ok(&lc_sig::ECDSA_P256K1_SHA256_ASN1_SIGNING),
        other => Err(Error::new(
            ErrorKind::IncompatibleKey,
            format!("a {other} key is not an ECDSA key"),
        )),
    }
}

fn ecdsa_verify_alg(kt: KeyType) -> Result<&'static lc_sig::EcdsaVerificationAlgorithm> {
    match kt {
        KeyType::EcP256 => Ok(&lc_sig::ECDSA_P256_SHA256_ASN1),
        KeyType::EcP384 => Ok(&lc_sig::ECDSA_P384_SHA384_ASN1),
        KeyType::EcSecp256k1 => Ok(&lc_sig::ECDSA_P256K1_SHA256_ASN1),
        other => Err(Error::new(
            ErrorKind::IncompatibleKey,
            format!("a {other} key is not an ECDSA key"),
        )),
    }
}

fn lc_internal(what: &str) -> Error {
    Error::internal(format!("aws-lc-rs: {what} failed"))
}

impl Backend for Native {
    const NAME: &'static str = "native";
    type Signer = NativeSigner;
    type Verifier = NativeVerifier;
    type AesGcmKey = aead::LessSafeKey;
    type EcdhKey = agreement::PrivateKey;
    type RsaEncrypter = lc_rsa::OaepPublicEncryptingKey;
    type RsaDecrypter = lc_rsa::OaepPrivateDecryptingKey;

    fn generate(key_type: KeyType) -> Result<PrivateKey> {
        match key_type {
            KeyType::Ed25519 => {
                let mut seed = Zeroizing::new([0u8; 32]);
                super::random_bytes(seed.as_mut())?;
                Ok(PrivateKey::ed25519_from_seed(&seed))
            }
            KeyType::EcP256 | KeyType::EcP384 | KeyType::EcSecp256k1 => {
                let doc = lc_sig::EcdsaKeyPair::generate_pkcs8(
                    ecdsa_signing_alg(key_type)?,
                    &rand::SystemRandom::new(),
                )
                .map_err(|_| lc_internal("EC key generation"))?;
                PrivateKey::from_pkcs8_der(doc.as_ref())
            }
            KeyType::Rsa2048 => {
                use aws_lc_rs::encoding::AsDer;
                let key = lc_rsa::PrivateDecryptingKey::generate(lc_rsa::KeySize::Rsa2048)
                    .map_err(|_| lc_internal("RSA key generation"))?;
                let der = key.as_der().map_err(|_| lc_internal("RSA key encoding"))?;
                let der = Zeroizing::new(der.as_ref().to_vec());
                PrivateKey::from_pkcs8_der(&der)
            }
        }
    }

    fn signer(key: &PrivateKey) -> Result<NativeSigner> {
        match key.key_type() {
            KeyType::Ed25519 => lc_sig::Ed25519KeyPair::from_seed_unchecked(key.secret_bytes())
                .map(NativeSigner::Ed25519)
                .map_err(|_| Error::malformed_key("Ed25519 seed rejected")),
            kt => lc_sig::EcdsaKeyPair::from_pkcs8(ecdsa_signing_alg(kt)?, key.pkcs8_der())
                .map(NativeSigner::Ecdsa)
                .map_err(|_| Error::malformed_key(format!("{kt} private key rejected by aws-lc"))),
        }
    }

    fn sign(signer: &NativeSigner, msg: &[u8]) -> Result<Vec<u8>> {
        match signer {
            NativeSigner::Ed25519(k) => Ok(k.sign(msg).as_ref().to_vec()),
            NativeSigner::Ecdsa(k) => k
                .sign(&rand::SystemRandom::new(), msg)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| lc_internal("ECDSA signing")),
        }
    }

    fn verifier(key: &PublicKey) -> Result<NativeVerifier> {
        match key.key_type() {
            KeyType::Ed25519 => {
                let bytes: &[u8; 32] = key
                    .raw_fixed()
                    .try_into()
                    .map_err(|_| Error::malformed_key("Ed25519 key length"))?;
                ed25519_dalek::VerifyingKey::from_bytes(bytes)
                    .map(NativeVerifier::Ed25519)
                    .map_err(|_| Error::malformed_key("Ed25519 public key is not a valid point"))
            }
            kt => lc_sig::ParsedPublicKey::new(ecdsa_verify_alg(kt)?, key.raw_fixed())
                .map(NativeVerifier::Ecdsa)
                .map_err(|_| Error::malformed_key(format!("{kt} public key rejected by aws-lc"))),
        }
    }

    fn verify(verifier: &NativeVerifier, msg: &[u8], sig: &[u8], rule: Ed25519Rule) -> Result<()> {
        match verifier {
            NativeVerifier::Ed25519(k) => ed25519_verify(k, msg, sig, rule),
            NativeVerifier::Ecdsa(k) => k
                .verify_sig(msg, sig)
                .map_err(|_| Error::invalid_signature()),
        }
    }

    fn aes_gcm_key(key: &[u8]) -> Result<aead::LessSafeKey> {
        let alg = if key.len() == 16 {
            &aead::AES_128_GCM
        } else {
            &aead::AES_256_GCM
        };
        aead::UnboundKey::new(alg, key)
            .map(aead::LessSafeKey::new)
            .map_err(|_| Error::malformed_key("AES-GCM key length"))
    }

    fn aes_gcm_seal(
        key: &aead::LessSafeKey,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
    ) -> Result<[u8; 16]> {
        let tag = key
            .seal_in_place_separate_tag(
                aead::Nonce::assume_unique_for_key(*nonce),
                aead::Aad::from(aad),
                buf,
            )
            .map_err(|_| lc_internal("AES-GCM seal"))?;
        tag.as_ref()
            .try_into()
            .map_err(|_| lc_internal("AES-GCM tag length"))
    }

    fn aes_gcm_open(
        key: &aead::LessSafeKey,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut Zeroizing<Vec<u8>>,
    ) -> Result<()> {
        let n = key
            .open_in_place(
                aead::Nonce::assume_unique_for_key(*nonce),
                aead::Aad::from(aad),
                buf.as_mut_slice(),
            )
            .map_err(|_| Error::decryption_failed())?
            .len();
        buf.truncate(n);
        Ok(())
    }

    fn aes128_cbc_encrypt_in_place(
        key: &[u8; 16],
        iv: &[u8; 16],
        buf: &mut [u8],
        msg_len: usize,
    ) -> Result<()> {
        let pad = buf.len().saturating_sub(msg_len);
        if !(1..=16).contains(&pad) || !buf.len().is_multiple_of(16) {
            return Err(Error::internal("AES-CBC buffer is not the padded length"));
        }
        // PKCS#7: `pad` bytes of value `pad`.
        buf[msg_len..].fill(pad as u8);
        let k = cipher::UnboundCipherKey::new(&cipher::AES_128, key)
            .map_err(|_| lc_internal("AES key"))?;
        let enc = cipher::EncryptingKey::cbc(k).map_err(|_| lc_internal("AES-CBC key"))?;
        enc.less_safe_encrypt(buf, cipher::EncryptionContext::Iv128((*iv).into()))
            .map_err(|_| lc_internal("AES-CBC encrypt"))?;
        Ok(())
    }

    fn aes128_cbc_decrypt(key: &[u8; 16], iv: &[u8; 16], ct: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let k = cipher::UnboundCipherKey::new(&cipher::AES_128, key)
            .map_err(|_| lc_internal("AES key"))?;
        let dec = cipher::PaddedBlockDecryptingKey::cbc_pkcs7(k)
            .map_err(|_| lc_internal("AES-CBC key"))?;
        let mut buf = Zeroizing::new(ct.to_vec());
        let len = dec
            .decrypt(&mut buf, cipher::DecryptionContext::Iv128((*iv).into()))
            .map_err(|_| Error::decryption_failed())?
            .len();
        buf.truncate(len);
        Ok(buf)
    }

    fn ecdh_key(key: &PrivateKey) -> Result<agreement::PrivateKey> {
        agreement::PrivateKey::from_private_key(&agreement::ECDH_P256, key.secret_bytes())
            .map_err(|_| Error::malformed_key("P-256 private key rejected by aws-lc"))
    }

    fn ecdh(key: &agreement::PrivateKey, peer_point: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
        let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, peer_point);
        agreement::agree(key, peer, Error::decryption_failed(), |z| {
            let mut out = Zeroizing::new([0u8; 32]);
            out.copy_from_slice(z);
            Ok(out)
        })
    }

    fn ecdh_ephemeral(peer_point: &[u8]) -> Result<([u8; 65], Zeroizing<[u8; 32]>)> {
        let eph = agreement::PrivateKey::generate(&agreement::ECDH_P256)
            .map_err(|_| lc_internal("ECDH keygen"))?;
        let pubkey = eph
            .compute_public_key()
            .map_err(|_| lc_internal("ECDH public key"))?;
        let v: [u8; 65] = pubkey
            .as_ref()
            .try_into()
            .map_err(|_| lc_internal("ECDH point length"))?;
        let z = Self::ecdh(&eph, peer_point)
            .map_err(|_| Error::malformed_key("recipient key is not a valid P-256 point"))?;
        Ok((v, z))
    }

    fn rsa_encrypter(key: &PublicKey) -> Result<lc_rsa::OaepPublicEncryptingKey> {
        let pk = lc_rsa::PublicEncryptingKey::from_der(key.spki_der())
            .map_err(|_| Error::malformed_key("RSA public key rejected by aws-lc"))?;
        lc_rsa::OaepPublicEncryptingKey::new(pk).map_err(|_| lc_internal("RSA-OAEP key"))
    }

    fn rsa_oaep_encrypt(key: &lc_rsa::OaepPublicEncryptingKey, pt: &[u8]) -> Result<Vec<u8>> {
        let mut out = vec![0u8; key.ciphertext_size()];
        let n = key
            .encrypt(&lc_rsa::OAEP_SHA256_MGF1SHA256, pt, &mut out, None)
            .map_err(|_| lc_internal("RSA-OAEP encrypt"))?
            .len();
        out.truncate(n);
        Ok(out)
    }

    fn rsa_decrypter(key: &PrivateKey) -> Result<lc_rsa::OaepPrivateDecryptingKey> {
        let sk = lc_rsa::PrivateDecryptingKey::from_pkcs8(key.pkcs8_der())
            .map_err(|_| Error::malformed_key("RSA private key rejected by aws-lc"))?;
        lc_rsa::OaepPrivateDecryptingKey::new(sk).map_err(|_| lc_internal("RSA-OAEP key"))
    }

    fn rsa_oaep_decrypt(
        key: &lc_rsa::OaepPrivateDecryptingKey,
        ct: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let mut out = Zeroizing::new(vec![0u8; key.min_output_size()]);
        let n = key
            .decrypt(&lc_rsa::OAEP_SHA256_MGF1SHA256, ct, &mut out, None)
            .map_err(|_| Error::decryption_failed())?
            .len();
        out.truncate(n);
        Ok(out)
    }
}
