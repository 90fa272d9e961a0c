//! `io.tresor.PrivateKey` (the core's `KeyPair`) and `io.tresor.PublicKey` (`PreparedPublicKey`).

use jni::objects::{JByteArray, JClass, JObject, JString};
use jni::sys::jlong;
use jni::{EnvUnowned, jni_mangle};
use tresor::keys::KeyType;
use tresor::vault::export::open_export;
use tresor::{
    EncryptionAlgorithmSpec, KeyPair, PreparedPublicKey, PublicKey, SigningAlgorithmSpec,
};

use crate::boundary::{Result, Throw};
use crate::convert::{
    bytes, new_bytes, new_opt_string, new_string, opt_scheme, scheme, secret_bytes, string,
};
use crate::handle::{Tagged, free, get, into_handle};

impl Tagged for KeyPair {
    const TAG: u64 = 0x7472_6573_6f72_6a01;
    const NAME: &'static str = "PrivateKey";
}

impl Tagged for PreparedPublicKey {
    const TAG: u64 = 0x7472_6573_6f72_6a02;
    const NAME: &'static str = "PublicKey";
}

/// A key type's canonical name: the config string of its key spec (`ec-curve-25519`, `ec-p-256`,
/// `ec-p-384`, `ec-secp-256k-1`, `rsa-2048`), which `KeyType::from_str` reads back.
pub(crate) fn key_type_name(kt: KeyType) -> &'static str {
    match (kt.signing_spec(), kt.encryption_spec()) {
        (Some(s), _) => s.as_str(),
        (None, Some(e)) => e.as_str(),
        (None, None) => "unknown",
    }
}

// --- PrivateKey -----------------------------------------------------------------------------------

#[jni_mangle("io.tresor.internal.Native", "PrivateKey_generate")]
pub fn private_key_generate<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    key_type: JString<'l>,
) -> jlong {
    e.with_env(|env| -> Result<jlong> {
        let kt: KeyType = scheme(env, &key_type, "keyType")?;
        Ok(into_handle(KeyPair::generate(kt)?))
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "PrivateKey_fromDerOrPem")]
pub fn private_key_from_der_or_pem<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    encoded: JByteArray<'l>,
) -> jlong {
    e.with_env(|env| -> Result<jlong> {
        let b = secret_bytes(env, &encoded, "encoded")?;
        Ok(into_handle(KeyPair::from_der_or_pem(&b)?))
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "PrivateKey_free")]
pub fn private_key_free<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>, h: jlong) {
    e.with_env(|_env| -> Result<()> { free::<KeyPair>(h) })
        .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "PrivateKey_toDer")]
pub fn private_key_to_der<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>, h: jlong) -> JByteArray<'l> {
    e.with_env(|env| -> Result<JByteArray<'l>> {
        let kp = get::<KeyPair>(h)?;
        new_bytes(env, kp.private_key().pkcs8_der())
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "PrivateKey_toPem")]
pub fn private_key_to_pem<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>, h: jlong) -> JObject<'l> {
    e.with_env(|env| -> Result<JObject<'l>> {
        let kp = get::<KeyPair>(h)?;
        let pem = kp.private_key().to_pem()?;
        new_string(env, &pem)
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "PrivateKey_publicKey")]
pub fn private_key_public_key<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>, h: jlong) -> jlong {
    e.with_env(|_env| -> Result<jlong> {
        let kp = get::<KeyPair>(h)?;
        Ok(into_handle(PreparedPublicKey::new(kp.public_key().clone())))
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "PrivateKey_fingerprint")]
pub fn private_key_fingerprint<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>, h: jlong) -> JObject<'l> {
    e.with_env(|env| -> Result<JObject<'l>> {
        let kp = get::<KeyPair>(h)?;
        new_string(env, &kp.fingerprint().to_string())
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "PrivateKey_keyType")]
pub fn private_key_key_type<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>, h: jlong) -> JObject<'l> {
    e.with_env(|env| -> Result<JObject<'l>> {
        let kp = get::<KeyPair>(h)?;
        new_string(env, key_type_name(kp.key_type()))
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "PrivateKey_sign")]
pub fn private_key_sign<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    algo: JString<'l>,
    msg: JByteArray<'l>,
) -> JByteArray<'l> {
    e.with_env(|env| -> Result<JByteArray<'l>> {
        let kp = get::<KeyPair>(h)?;
        let algo: Option<SigningAlgorithmSpec> = opt_scheme(env, &algo)?;
        let msg = bytes(env, &msg, "message")?;
        let sig = kp.sign(algo, &msg)?;
        new_bytes(env, &sig)
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "PrivateKey_decrypt")]
pub fn private_key_decrypt<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    algo: JString<'l>,
    ciphertext: JByteArray<'l>,
) -> JByteArray<'l> {
    e.with_env(|env| -> Result<JByteArray<'l>> {
        let kp = get::<KeyPair>(h)?;
        let algo: Option<EncryptionAlgorithmSpec> = opt_scheme(env, &algo)?;
        let ct = bytes(env, &ciphertext, "ciphertext")?;
        let pt = kp.decrypt(algo, &ct)?;
        new_bytes(env, &pt)
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "PrivateKey_verify")]
pub fn private_key_verify<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    algo: JString<'l>,
    msg: JByteArray<'l>,
    sig: JByteArray<'l>,
) {
    e.with_env(|env| -> Result<()> {
        let kp = get::<KeyPair>(h)?;
        let algo: Option<SigningAlgorithmSpec> = opt_scheme(env, &algo)?;
        let msg = bytes(env, &msg, "message")?;
        let sig = bytes(env, &sig, "signature")?;
        Ok(kp.verify(algo, &msg, &sig)?)
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "PrivateKey_encrypt")]
pub fn private_key_encrypt<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    algo: JString<'l>,
    plaintext: JByteArray<'l>,
) -> JByteArray<'l> {
    e.with_env(|env| -> Result<JByteArray<'l>> {
        let kp = get::<KeyPair>(h)?;
        let algo: Option<EncryptionAlgorithmSpec> = opt_scheme(env, &algo)?;
        let pt = secret_bytes(env, &plaintext, "plaintext")?;
        let ct = kp.encrypt(algo, &pt)?;
        new_bytes(env, &ct)
    })
    .resolve::<Throw>()
}

/// Open a password-sealed export file (`tresor-key-export/1`): `[Long handle, String fingerprint, String
/// purpose, String usage or null, String keySpec, String name or null]`.
#[jni_mangle("io.tresor.internal.Native", "PrivateKey_openSealedExport")]
pub fn private_key_open_sealed_export<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    file: JString<'l>,
    password: JByteArray<'l>,
) -> JObject<'l> {
    e.with_env(|env| -> Result<JObject<'l>> {
        let text = string(env, &file, "file")?;
        let pw = secret_bytes(env, &password, "password")?;
        let imported = open_export(&text, &pw)?;
        let spec = imported.key.key_type().require(imported.purpose)?;
        let kp = KeyPair::new(imported.key);
        let fingerprint = kp.fingerprint().to_string();
        let usage = imported.usage.map(|u| u.to_string());
        let h = into_handle(kp);
        let out = jni::objects::JObjectArray::<JObject>::new(env, 6, JObject::null())?;
        let fill = |env: &mut jni::Env<'l>| -> Result<()> {
            let boxed = env.new_object(
                jni::jni_str!("java/lang/Long"),
                jni::jni_sig!("(J)V"),
                &[jni::JValue::Long(h)],
            )?;
            out.set_element(env, 0, &boxed)?;
            let v = new_string(env, &fingerprint)?;
            out.set_element(env, 1, &v)?;
            let v = new_string(env, imported.purpose.as_str())?;
            out.set_element(env, 2, &v)?;
            let v = new_opt_string(env, usage.as_deref())?;
            out.set_element(env, 3, &v)?;
            let v = new_string(env, spec.as_str())?;
            out.set_element(env, 4, &v)?;
            let v = new_opt_string(env, imported.name.as_deref())?;
            out.set_element(env, 5, &v)?;
            Ok(())
        };
        if let Err(err) = fill(env) {
            // The handle never reached Java: free it here.
            let _ = free::<KeyPair>(h);
            return Err(err);
        }
        Ok(out.into())
    })
    .resolve::<Throw>()
}

// --- PublicKey ------------------------------------------------------------------------------------

fn public_handle(key: PublicKey) -> jlong {
    into_handle(PreparedPublicKey::new(key))
}

#[jni_mangle("io.tresor.internal.Native", "PublicKey_fromDerOrPem")]
pub fn public_key_from_der_or_pem<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    encoded: JByteArray<'l>,
) -> jlong {
    e.with_env(|env| -> Result<jlong> {
        let b = bytes(env, &encoded, "encoded")?;
        Ok(public_handle(PublicKey::from_der_or_pem(&b)?))
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "PublicKey_fromDer")]
pub fn public_key_from_der<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    der: JByteArray<'l>,
) -> jlong {
    e.with_env(|env| -> Result<jlong> {
        let b = bytes(env, &der, "der")?;
        Ok(public_handle(PublicKey::from_spki_der(&b)?))
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "PublicKey_fromPem")]
pub fn public_key_from_pem<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>, pem: JString<'l>) -> jlong {
    e.with_env(|env| -> Result<jlong> {
        let s = string(env, &pem, "pem")?;
        Ok(public_handle(PublicKey::from_pem(&s)?))
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "PublicKey_fromJwk")]
pub fn public_key_from_jwk<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>, jwk: JString<'l>) -> jlong {
    e.with_env(|env| -> Result<jlong> {
        let s = string(env, &jwk, "jwk")?;
        Ok(public_handle(PublicKey::from_jwk(&s)?))
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "PublicKey_fromRaw")]
pub fn public_key_from_raw<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    key_type: JString<'l>,
    raw: JByteArray<'l>,
) -> jlong {
    e.with_env(|env| -> Result<jlong> {
        let kt: KeyType = scheme(env, &key_type, "keyType")?;
        let b = bytes(env, &raw, "raw")?;
        Ok(public_handle(PublicKey::from_raw(kt, &b)?))
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "PublicKey_free")]
pub fn public_key_free<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>, h: jlong) {
    e.with_env(|_env| -> Result<()> { free::<PreparedPublicKey>(h) })
        .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "PublicKey_toDer")]
pub fn public_key_to_der<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>, h: jlong) -> JByteArray<'l> {
    e.with_env(|env| -> Result<JByteArray<'l>> {
        let k = get::<PreparedPublicKey>(h)?;
        new_bytes(env, k.public_key().spki_der())
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "PublicKey_toPem")]
pub fn public_key_to_pem<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>, h: jlong) -> JObject<'l> {
    e.with_env(|env| -> Result<JObject<'l>> {
        let k = get::<PreparedPublicKey>(h)?;
        new_string(env, &k.public_key().to_pem())
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "PublicKey_toJwk")]
pub fn public_key_to_jwk<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>, h: jlong) -> JObject<'l> {
    e.with_env(|env| -> Result<JObject<'l>> {
        let k = get::<PreparedPublicKey>(h)?;
        new_string(env, &k.public_key().to_jwk())
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "PublicKey_toRaw")]
pub fn public_key_to_raw<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>, h: jlong) -> JByteArray<'l> {
    e.with_env(|env| -> Result<JByteArray<'l>> {
        let k = get::<PreparedPublicKey>(h)?;
        new_bytes(env, &k.public_key().raw())
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "PublicKey_fingerprint")]
pub fn public_key_fingerprint<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>, h: jlong) -> JObject<'l> {
    e.with_env(|env| -> Result<JObject<'l>> {
        let k = get::<PreparedPublicKey>(h)?;
        new_string(env, &k.fingerprint().to_string())
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "PublicKey_keyType")]
pub fn public_key_key_type<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>, h: jlong) -> JObject<'l> {
    e.with_env(|env| -> Result<JObject<'l>> {
        let k = get::<PreparedPublicKey>(h)?;
        new_string(env, key_type_name(k.key_type()))
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "PublicKey_verify")]
pub fn public_key_verify<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    algo: JString<'l>,
    msg: JByteArray<'l>,
    sig: JByteArray<'l>,
) {
    e.with_env(|env| -> Result<()> {
        let k = get::<PreparedPublicKey>(h)?;
        let algo: Option<SigningAlgorithmSpec> = opt_scheme(env, &algo)?;
        let msg = bytes(env, &msg, "message")?;
        let sig = bytes(env, &sig, "signature")?;
        Ok(k.verify(algo, &msg, &sig)?)
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "PublicKey_encrypt")]
pub fn public_key_encrypt<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    algo: JString<'l>,
    plaintext: JByteArray<'l>,
) -> JByteArray<'l> {
    e.with_env(|env| -> Result<JByteArray<'l>> {
        let k = get::<PreparedPublicKey>(h)?;
        let algo: Option<EncryptionAlgorithmSpec> = opt_scheme(env, &algo)?;
        let pt = secret_bytes(env, &plaintext, "plaintext")?;
        let ct = k.encrypt(algo, &pt)?;
        new_bytes(env, &ct)
    })
    .resolve::<Throw>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_type_names_parse_back() {
        for kt in [
            KeyType::Ed25519,
            KeyType::EcP256,
            KeyType::EcP384,
            KeyType::EcSecp256k1,
            KeyType::Rsa2048,
        ] {
            let name = key_type_name(kt);
            assert_eq!(name.parse::<KeyType>().expect(name), kt);
        }
    }
}
