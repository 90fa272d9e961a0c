//! The primitives (`io.tresor.Aes128Gcm`, `Hmac`, `Hkdf`, `CantonHash`, `EcdsaSignatures`) and the
//! scheme-name canonicalisation behind the Java enums' `parse`.

use jni::objects::{JByteArray, JClass, JObject, JString};
use jni::sys::{jint, jlong};
use jni::{EnvUnowned, jni_mangle};
use tresor::keys::{KeyType, SigningKeyUsageSet, canton_hash};
use tresor::primitives::{
    ecdsa_der_to_raw, ecdsa_raw_to_der, hkdf_sha256, hmac_sha256, hmac_sha256_verify,
};
use tresor::{
    AesGcmKey, EncryptionAlgorithmSpec, EncryptionKeySpec, Error, ErrorKind, SigningAlgorithmSpec,
    SigningKeySpec,
};

use crate::boundary::{Result, Throw};
use crate::convert::{bytes, new_bytes, new_string, scheme, secret_bytes, string};
use crate::handle::{Tagged, free, get, into_handle};
use crate::keys::key_type_name;

impl Tagged for AesGcmKey {
    const TAG: u64 = 0x7472_6573_6f72_6a03;
    const NAME: &'static str = "Aes128Gcm";
}

#[jni_mangle("io.tresor.internal.Native", "Aes128Gcm_new")]
pub fn aes128gcm_new<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>, key: JByteArray<'l>) -> jlong {
    e.with_env(|env| -> Result<jlong> {
        let raw = secret_bytes(env, &key, "key")?;
        Ok(into_handle(AesGcmKey::aes128(&raw)?))
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "Aes128Gcm_generate")]
pub fn aes128gcm_generate<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>) -> jlong {
    e.with_env(|_env| -> Result<jlong> { Ok(into_handle(AesGcmKey::generate_aes128()?)) })
        .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "Aes128Gcm_free")]
pub fn aes128gcm_free<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>, h: jlong) {
    e.with_env(|_env| -> Result<()> { free::<AesGcmKey>(h) })
        .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "Aes128Gcm_toBytes")]
pub fn aes128gcm_to_bytes<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>, h: jlong) -> JByteArray<'l> {
    e.with_env(|env| -> Result<JByteArray<'l>> {
        let k = get::<AesGcmKey>(h)?;
        new_bytes(env, k.as_bytes())
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "Aes128Gcm_encrypt")]
pub fn aes128gcm_encrypt<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    plaintext: JByteArray<'l>,
) -> JByteArray<'l> {
    e.with_env(|env| -> Result<JByteArray<'l>> {
        let k = get::<AesGcmKey>(h)?;
        let pt = secret_bytes(env, &plaintext, "plaintext")?;
        let ct = k.encrypt(&pt, &[])?;
        new_bytes(env, &ct)
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "Aes128Gcm_decrypt")]
pub fn aes128gcm_decrypt<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    ciphertext: JByteArray<'l>,
) -> JByteArray<'l> {
    e.with_env(|env| -> Result<JByteArray<'l>> {
        let k = get::<AesGcmKey>(h)?;
        let ct = bytes(env, &ciphertext, "ciphertext")?;
        let pt = k.decrypt(&ct, &[])?;
        new_bytes(env, &pt)
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "Hmac_sha256")]
pub fn hmac_sha256_native<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    key: JByteArray<'l>,
    data: JByteArray<'l>,
) -> JByteArray<'l> {
    e.with_env(|env| -> Result<JByteArray<'l>> {
        let key = secret_bytes(env, &key, "key")?;
        let data = bytes(env, &data, "data")?;
        new_bytes(env, &hmac_sha256(&key, &data))
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "Hmac_verifySha256")]
pub fn hmac_verify_sha256<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    key: JByteArray<'l>,
    data: JByteArray<'l>,
    tag: JByteArray<'l>,
) {
    e.with_env(|env| -> Result<()> {
        let key = secret_bytes(env, &key, "key")?;
        let data = bytes(env, &data, "data")?;
        let tag = bytes(env, &tag, "tag")?;
        Ok(hmac_sha256_verify(&key, &data, &tag)?)
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "Hkdf_sha256")]
pub fn hkdf_sha256_native<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    salt: JByteArray<'l>,
    ikm: JByteArray<'l>,
    info: JByteArray<'l>,
    length: jint,
) -> JByteArray<'l> {
    e.with_env(|env| -> Result<JByteArray<'l>> {
        let salt = bytes(env, &salt, "salt")?;
        let ikm = secret_bytes(env, &ikm, "ikm")?;
        let info = bytes(env, &info, "info")?;
        let len = usize::try_from(length).map_err(|_| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("length must not be negative, got {length}"),
            )
        })?;
        let okm = hkdf_sha256(&salt, &ikm, &info, len)?;
        new_bytes(env, &okm)
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "CantonHash_hash")]
pub fn canton_hash_native<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    purpose: jlong,
    content: JByteArray<'l>,
) -> JByteArray<'l> {
    e.with_env(|env| -> Result<JByteArray<'l>> {
        let purpose = u32::try_from(purpose).map_err(|_| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("a hash purpose is 0 to 4294967295, got {purpose}"),
            )
        })?;
        let content = bytes(env, &content, "content")?;
        new_bytes(env, &canton_hash(purpose, &content))
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "Ecdsa_derToRaw")]
pub fn ecdsa_der_to_raw_native<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    spec: JString<'l>,
    der: JByteArray<'l>,
) -> JByteArray<'l> {
    e.with_env(|env| -> Result<JByteArray<'l>> {
        let spec: SigningKeySpec = scheme(env, &spec, "spec")?;
        let der = bytes(env, &der, "der")?;
        new_bytes(env, &ecdsa_der_to_raw(spec, &der)?)
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "Ecdsa_rawToDer")]
pub fn ecdsa_raw_to_der_native<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    spec: JString<'l>,
    raw: JByteArray<'l>,
) -> JByteArray<'l> {
    e.with_env(|env| -> Result<JByteArray<'l>> {
        let spec: SigningKeySpec = scheme(env, &spec, "spec")?;
        let raw = bytes(env, &raw, "raw")?;
        new_bytes(env, &ecdsa_raw_to_der(spec, &raw)?)
    })
    .resolve::<Throw>()
}

/// The canonical name of a scheme (`kind`: `signing-key-spec`, `signing-algorithm`,
/// `encryption-key-spec`, `encryption-algorithm`, `key-spec` (a key type), `key-usage` (a set)).
#[jni_mangle("io.tresor.internal.Native", "Schemes_canonical")]
pub fn schemes_canonical<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    kind: JString<'l>,
    name: JString<'l>,
) -> JObject<'l> {
    e.with_env(|env| -> Result<JObject<'l>> {
        let kind = string(env, &kind, "kind")?;
        let name = string(env, &name, "name")?;
        let canonical: String = match kind.as_str() {
            "signing-key-spec" => name.parse::<SigningKeySpec>()?.as_str().to_string(),
            "signing-algorithm" => name.parse::<SigningAlgorithmSpec>()?.as_str().to_string(),
            "encryption-key-spec" => name.parse::<EncryptionKeySpec>()?.as_str().to_string(),
            "encryption-algorithm" => name
                .parse::<EncryptionAlgorithmSpec>()?
                .as_str()
                .to_string(),
            "key-spec" => key_type_name(name.parse::<KeyType>()?).to_string(),
            "key-usage" => name.parse::<SigningKeyUsageSet>()?.to_string(),
            other => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "unknown scheme kind '{}'; known: signing-key-spec, signing-algorithm, \
                         encryption-key-spec, encryption-algorithm, key-spec, key-usage",
                        other.escape_debug()
                    ),
                )
                .into());
            }
        };
        new_string(env, &canonical)
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "Library_version")]
pub fn library_version<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>) -> JObject<'l> {
    e.with_env(|env| -> Result<JObject<'l>> { new_string(env, tresor::VERSION) })
        .resolve::<Throw>()
}
