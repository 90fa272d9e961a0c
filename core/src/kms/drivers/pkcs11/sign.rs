//! Signing: ECDSA with `CKM_ECDSA` over a digest computed here (the token returns raw `r ‖ s`,
//! converted to Canton's DER), Ed25519 with `CKM_EDDSA`.

use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::session::Session;

use super::error::{ck_err, kms_err, not_found};
use super::objects::{find_key, key_spec};
use crate::error::Result;
use crate::kms::{KmsKeyId, KmsKeySpec};
use crate::primitives::ecdsa_raw_to_der;
use crate::scheme::{SigningAlgorithmSpec, SigningKeySpec};

pub(super) fn sign_on(
    s: &Session,
    key_id: &KmsKeyId,
    data: &[u8],
    algo: SigningAlgorithmSpec,
) -> Result<Vec<u8>> {
    let k = find_key(s, key_id)?;
    let spec = match key_spec(s, &k, key_id)? {
        KmsKeySpec::Signing(spec) => spec,
        _ => {
            return Err(kms_err(format!(
                "PKCS#11 key {key_id} is not a signing key"
            )));
        }
    };
    let private = k.private.ok_or_else(|| not_found(key_id))?;
    let mismatch = || {
        kms_err(format!(
            "PKCS#11 key {key_id} ({spec}) cannot sign with {algo}"
        ))
    };
    match (spec, algo) {
        (SigningKeySpec::EcCurve25519, SigningAlgorithmSpec::Ed25519) => s
            .sign(
                &Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
                private,
                data,
            )
            .map_err(|e| ck_err("EdDSA sign", e)),
        (
            SigningKeySpec::EcP256 | SigningKeySpec::EcSecp256k1,
            SigningAlgorithmSpec::EcDsaSha256,
        ) => {
            use sha2::Digest;
            let digest = sha2::Sha256::digest(data);
            let raw = s
                .sign(&Mechanism::Ecdsa, private, &digest)
                .map_err(|e| ck_err("ECDSA sign", e))?;
            ecdsa_raw_to_der(spec, &raw)
        }
        (SigningKeySpec::EcP384, SigningAlgorithmSpec::EcDsaSha384) => {
            use sha2::Digest;
            let digest = sha2::Sha384::digest(data);
            let raw = s
                .sign(&Mechanism::Ecdsa, private, &digest)
                .map_err(|e| ck_err("ECDSA sign", e))?;
            ecdsa_raw_to_der(spec, &raw)
        }
        _ => Err(mismatch()),
    }
}
