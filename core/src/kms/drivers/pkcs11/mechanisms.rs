//! Mechanisms: what the token can do (probed when the driver opens), the key templates, and key
//! generation.

use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectHandle};
use cryptoki::session::Session;

use super::decrypt::ecdh_on_token;
use super::encoding::{OID_P256, curve_oid, ec_params, ec_point};
use super::error::{ck_err, kms_err};
use super::objects::attr_bytes;
use crate::error::Result;
use crate::primitives::random_bytes;
use crate::scheme::{EncryptionKeySpec, SigningKeySpec};

/// What the token was found able to do.
#[derive(Debug, Clone, Default)]
pub(super) struct Caps {
    pub(super) ecdsa_p256: bool,
    pub(super) ecdsa_p384: bool,
    pub(super) ecdsa_secp256k1: bool,
    pub(super) ed25519: bool,
    pub(super) ecies: bool,
    pub(super) rsa_oaep_sha256: bool,
    pub(super) aes_gcm: bool,
    pub(super) gaps: Vec<(String, String)>,
}

pub(super) fn new_ck_id() -> Result<Vec<u8>> {
    let mut id = vec![0u8; 16];
    random_bytes(&mut id)?;
    Ok(id)
}

/// Templates of a key pair: (public, private). `token` false makes session objects (probes).
fn pair_templates(
    id: &[u8],
    label: &[u8],
    token: bool,
    sign: bool,
) -> (Vec<Attribute>, Vec<Attribute>) {
    let public = vec![
        Attribute::Token(token),
        Attribute::Private(false),
        Attribute::Id(id.to_vec()),
        Attribute::Label(label.to_vec()),
    ];
    let private = vec![
        Attribute::Token(token),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Id(id.to_vec()),
        Attribute::Label(label.to_vec()),
        Attribute::Sign(sign),
    ];
    (public, private)
}

pub(super) fn generate_signing(
    s: &Session,
    spec: SigningKeySpec,
    id: &[u8],
    label: &[u8],
    token: bool,
) -> Result<(ObjectHandle, ObjectHandle)> {
    let (mut public, mut private) = pair_templates(id, label, token, true);
    public.push(Attribute::Verify(true));
    public.push(Attribute::EcParams(ec_params(curve_oid(spec))?));
    private.push(Attribute::Derive(false));
    let mech = if spec == SigningKeySpec::EcCurve25519 {
        Mechanism::EccEdwardsKeyPairGen
    } else {
        Mechanism::EccKeyPairGen
    };
    s.generate_key_pair(&mech, &public, &private)
        .map_err(|e| ck_err("generating a signing key pair", e))
}

pub(super) fn generate_encryption(
    s: &Session,
    spec: EncryptionKeySpec,
    id: &[u8],
    label: &[u8],
    token: bool,
    rsa_bits: u64,
) -> Result<(ObjectHandle, ObjectHandle)> {
    let (mut public, mut private) = pair_templates(id, label, token, false);
    let mech = match spec {
        EncryptionKeySpec::EcP256 => {
            public.push(Attribute::Verify(false));
            public.push(Attribute::EcParams(ec_params(OID_P256)?));
            private.push(Attribute::Derive(true));
            Mechanism::EccKeyPairGen
        }
        EncryptionKeySpec::Rsa2048 => {
            public.push(Attribute::Encrypt(true));
            public.push(Attribute::Verify(false));
            public.push(Attribute::ModulusBits(rsa_bits.into()));
            public.push(Attribute::PublicExponent(vec![0x01, 0x00, 0x01]));
            private.push(Attribute::Decrypt(true));
            Mechanism::RsaPkcsKeyPairGen
        }
    };
    s.generate_key_pair(&mech, &public, &private)
        .map_err(|e| ck_err("generating an encryption key pair", e))
}

pub(super) fn oaep_sha256() -> Mechanism<'static> {
    Mechanism::RsaPkcsOaep(PkcsOaepParams::new(
        MechanismType::SHA256,
        PkcsMgfType::MGF1_SHA256,
        PkcsOaepSource::empty(),
    ))
}

pub(super) fn probe(s: &Session, mechs: &[MechanismType]) -> Caps {
    let has = |m: MechanismType| mechs.contains(&m);
    let mut c = Caps::default();
    let gap = |c: &mut Caps, name: &str, why: String| c.gaps.push((name.to_string(), why));
    let id = b"tresor-probe".to_vec();
    let trial = |spec: SigningKeySpec| match generate_signing(s, spec, &id, &id, false) {
        Ok((a, b)) => {
            let _ = s.destroy_object(a);
            let _ = s.destroy_object(b);
            Ok(())
        }
        Err(e) => Err(e),
    };
    let ec = has(MechanismType::ECC_KEY_PAIR_GEN) && has(MechanismType::ECDSA);
    let ecdsa = |spec: SigningKeySpec| -> std::result::Result<(), String> {
        if !ec {
            return Err("the token lacks CKM_EC_KEY_PAIR_GEN or CKM_ECDSA".into());
        }
        trial(spec).map_err(|e| format!("the token cannot generate the curve ({e})"))
    };
    match ecdsa(SigningKeySpec::EcP256) {
        Ok(()) => c.ecdsa_p256 = true,
        Err(w) => gap(&mut c, "EC-P256 signing", w),
    }
    match ecdsa(SigningKeySpec::EcP384) {
        Ok(()) => c.ecdsa_p384 = true,
        Err(w) => gap(&mut c, "EC-P384 signing", w),
    }
    match ecdsa(SigningKeySpec::EcSecp256k1) {
        Ok(()) => c.ecdsa_secp256k1 = true,
        Err(w) => gap(&mut c, "EC-Secp256k1 signing", w),
    }
    if has(MechanismType::ECC_EDWARDS_KEY_PAIR_GEN) && has(MechanismType::EDDSA) {
        match trial(SigningKeySpec::EcCurve25519) {
            Ok(()) => c.ed25519 = true,
            Err(e) => gap(
                &mut c,
                "Ed25519",
                format!("the token cannot generate Ed25519 keys ({e})"),
            ),
        }
    } else {
        gap(
            &mut c,
            "Ed25519",
            "the token lacks CKM_EC_EDWARDS_KEY_PAIR_GEN or CKM_EDDSA".into(),
        );
    }
    // ECIES: derive with our own public point, and read the secret back.
    if has(MechanismType::ECC_KEY_PAIR_GEN) && has(MechanismType::ECDH1_DERIVE) {
        let r = generate_encryption(s, EncryptionKeySpec::EcP256, &id, &id, false, 0).and_then(
            |(public, private)| {
                let point = s
                    .get_attributes(public, &[AttributeType::EcPoint])
                    .map_err(|e| ck_err("reading the probe point", e))
                    .and_then(|a| {
                        attr_bytes(&a, AttributeType::EcPoint)
                            .and_then(|p| ec_point(p, 65))
                            .map(<[u8]>::to_vec)
                            .ok_or_else(|| kms_err("probe point malformed"))
                    });
                let r = point.and_then(|p| ecdh_on_token(s, private, &p).map(|_| ()));
                let _ = s.destroy_object(public);
                let _ = s.destroy_object(private);
                r
            },
        );
        match r {
            Ok(()) => c.ecies = true,
            Err(e) => gap(
                &mut c,
                "ECIES_HMAC256_AES128-CBC",
                format!("ECDH derive on the token failed ({e})"),
            ),
        }
    } else {
        gap(
            &mut c,
            "ECIES_HMAC256_AES128-CBC",
            "the token lacks CKM_ECDH1_DERIVE".into(),
        );
    }
    // RSA-OAEP with SHA-256 / MGF1-SHA-256 (a small session key is enough to test the parameters).
    if has(MechanismType::RSA_PKCS_KEY_PAIR_GEN) && has(MechanismType::RSA_PKCS_OAEP) {
        let r = generate_encryption(s, EncryptionKeySpec::Rsa2048, &id, &id, false, 1024).and_then(
            |(public, private)| {
                let r = s
                    .encrypt(&oaep_sha256(), public, b"probe")
                    .and_then(|ct| s.decrypt(&oaep_sha256(), private, &ct))
                    .map_err(|e| ck_err("OAEP-SHA256 trial", e));
                let _ = s.destroy_object(public);
                let _ = s.destroy_object(private);
                r
            },
        );
        match r {
            Ok(pt) if pt == b"probe" => c.rsa_oaep_sha256 = true,
            Ok(_) => gap(
                &mut c,
                "RSA-OAEP-SHA256",
                "the token's OAEP-SHA256 round trip returned the wrong plaintext".into(),
            ),
            Err(e) => gap(
                &mut c,
                "RSA-OAEP-SHA256",
                format!(
                    "the token refuses CKM_RSA_PKCS_OAEP with SHA-256/MGF1-SHA256 ({e}; SoftHSM2's OAEP is SHA-1 only)"
                ),
            ),
        }
    } else {
        gap(
            &mut c,
            "RSA-OAEP-SHA256",
            "the token lacks CKM_RSA_PKCS_KEY_PAIR_GEN or CKM_RSA_PKCS_OAEP".into(),
        );
    }
    if has(MechanismType::AES_KEY_GEN) && has(MechanismType::AES_GCM) {
        c.aes_gcm = true;
    } else {
        gap(
            &mut c,
            "AES-256-GCM",
            "the token lacks CKM_AES_KEY_GEN or CKM_AES_GCM".into(),
        );
    }
    c
}

/// Generate an AES-256 token key for AES-GCM.
pub(super) fn generate_aes(s: &Session, id: Vec<u8>, label: Vec<u8>) -> Result<()> {
    let template = [
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Id(id),
        Attribute::Label(label),
        Attribute::KeyType(KeyType::AES),
        Attribute::ValueLen(32u64.into()),
        Attribute::Encrypt(true),
        Attribute::Decrypt(true),
    ];
    s.generate_key(&Mechanism::AesKeyGen, &template)
        .map(|_| ())
        .map_err(|e| ck_err("generating an AES key", e))
}
