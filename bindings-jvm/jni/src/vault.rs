//! `io.tresor.Vault`: the core's `BlockingVault`, one call per verb.

use std::path::PathBuf;

use jni::objects::{JByteArray, JClass, JObject, JObjectArray, JString};
use jni::sys::{jboolean, jint, jlong};
use jni::{Env, EnvUnowned, JValue, jni_mangle, jni_sig, jni_str};
use tresor::config::{Config, ConfigSources, OpenOptions};
use tresor::keys::{Fingerprint, SigningKeyUsageSet};
use tresor::kms::{KmsHealth, KmsKeyId};
use tresor::{BlockingVault, KeyInfo, KeyPair, KeySpec, Purpose};
use zeroize::Zeroizing;

use crate::boundary::{Result, Throw};
use crate::convert::{
    bytes, new_bytes, new_opt_string, new_string, opt_scheme, opt_string, scheme, secret_bytes,
    string,
};
use crate::handle::{Tagged, free, get, into_handle};

impl Tagged for BlockingVault {
    const TAG: u64 = 0x7472_6573_6f72_6a04;
    const NAME: &'static str = "Vault";
}

/// The Java `Vault.Options`, flattened into arguments.
struct Options {
    create: bool,
    kms_passphrase: Option<Zeroizing<String>>,
    audit_log_file: Option<String>,
    max_retries: Option<u32>,
}

fn options(
    env: &Env<'_>,
    create: jboolean,
    kms_passphrase: &JByteArray<'_>,
    audit_log_file: &JString<'_>,
    max_retries: jint,
) -> Result<Options> {
    let kms_passphrase = if kms_passphrase.is_null_ref() {
        None
    } else {
        let b = secret_bytes(env, kms_passphrase, "kmsPassphrase")?;
        let s = String::from_utf8(b.to_vec()).map_err(|e| {
            let mut v = e.into_bytes();
            zeroize::Zeroize::zeroize(&mut v);
            tresor::Error::new(
                tresor::ErrorKind::InvalidArgument,
                "the KMS passphrase is not UTF-8",
            )
        })?;
        Some(Zeroizing::new(s))
    };
    Ok(Options {
        create,
        kms_passphrase,
        audit_log_file: opt_string(env, audit_log_file)?,
        max_retries: u32::try_from(max_retries).ok(),
    })
}

trait NullRef {
    fn is_null_ref(&self) -> bool;
}

impl NullRef for JByteArray<'_> {
    fn is_null_ref(&self) -> bool {
        jni::refs::Reference::is_null(self)
    }
}

fn open(cfg: &Config, o: Options) -> Result<jlong> {
    let mut opts = OpenOptions::new().create(o.create);
    if let Some(p) = o.kms_passphrase {
        opts = opts.kms_passphrase(p);
    }
    if let Some(f) = o.audit_log_file {
        opts = opts.audit_log_file(f);
    }
    if let Some(n) = o.max_retries {
        opts = opts.max_retries(n);
    }
    Ok(into_handle(BlockingVault::open(cfg, opts)?))
}

#[jni_mangle("io.tresor.internal.Native", "Vault_open")]
#[allow(clippy::too_many_arguments)]
pub fn vault_open<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    path: JString<'l>,
    create: jboolean,
    kms_passphrase: JByteArray<'l>,
    audit_log_file: JString<'l>,
    max_retries: jint,
) -> jlong {
    e.with_env(|env| -> Result<jlong> {
        let path = string(env, &path, "configFile")?;
        let o = options(env, create, &kms_passphrase, &audit_log_file, max_retries)?;
        let cfg = Config::load(&ConfigSources::new().file(path))?;
        open(&cfg, o)
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "Vault_openConfig")]
#[allow(clippy::too_many_arguments)]
pub fn vault_open_config<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    text: JString<'l>,
    base_dir: JString<'l>,
    create: jboolean,
    kms_passphrase: JByteArray<'l>,
    audit_log_file: JString<'l>,
    max_retries: jint,
) -> jlong {
    e.with_env(|env| -> Result<jlong> {
        let text = string(env, &text, "config")?;
        let base = PathBuf::from(string(env, &base_dir, "baseDir")?);
        let o = options(env, create, &kms_passphrase, &audit_log_file, max_retries)?;
        let cfg = Config::load(&ConfigSources::new().text(text, base).environment(false))?;
        open(&cfg, o)
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "Vault_openCanton")]
#[allow(clippy::too_many_arguments)]
pub fn vault_open_canton<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    canton_file: JString<'l>,
    node: JString<'l>,
    config_file: JString<'l>,
    create: jboolean,
    kms_passphrase: JByteArray<'l>,
    audit_log_file: JString<'l>,
    max_retries: jint,
) -> jlong {
    e.with_env(|env| -> Result<jlong> {
        let canton = string(env, &canton_file, "cantonConfig")?;
        let node = string(env, &node, "node")?;
        let file = opt_string(env, &config_file)?;
        let o = options(env, create, &kms_passphrase, &audit_log_file, max_retries)?;
        let mut sources = ConfigSources::new().canton(canton, node);
        if let Some(f) = file {
            sources = sources.file(f);
        }
        open(&Config::load(&sources)?, o)
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "Vault_free")]
pub fn vault_free<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>, h: jlong) {
    e.with_env(|_env| -> Result<()> { free::<BlockingVault>(h) })
        .resolve::<Throw>()
}

// --- conversions ----------------------------------------------------------------------------------

fn fingerprint(env: &Env<'_>, s: &JString<'_>) -> Result<Fingerprint> {
    scheme(env, s, "fingerprint")
}

fn usage(env: &Env<'_>, s: &JString<'_>) -> Result<SigningKeyUsageSet> {
    scheme(env, s, "usage")
}

fn opt_usage(env: &Env<'_>, s: &JString<'_>) -> Result<Option<SigningKeyUsageSet>> {
    opt_scheme(env, s)
}

fn kms_key_id(env: &Env<'_>, s: &JString<'_>, what: &str) -> Result<KmsKeyId> {
    Ok(KmsKeyId::new(string(env, s, what)?)?)
}

fn boxed_long<'l>(env: &mut Env<'l>, v: i64) -> Result<JObject<'l>> {
    Ok(env
        .call_static_method(
            jni_str!("java/lang/Long"),
            jni_str!("valueOf"),
            jni_sig!("(J)Ljava/lang/Long;"),
            &[JValue::Long(v)],
        )?
        .l()?)
}

/// A `KeyInfo` as `Object[]`: `[fingerprint, name|null, spec, purpose, usage|null, storage,
/// kmsKeyId|null, Long createdAt (ms), byte[] publicKeyDer]` (Java builds its record from it).
pub(crate) fn key_info<'l>(env: &mut Env<'l>, info: &KeyInfo) -> Result<JObject<'l>> {
    let out = JObjectArray::<JObject>::new(env, 9, JObject::null())?;
    env.with_local_frame(16, |env| -> Result<()> {
        let v = new_string(env, &info.fingerprint.to_string())?;
        out.set_element(env, 0, &v)?;
        let v = new_opt_string(env, info.name.as_deref())?;
        out.set_element(env, 1, &v)?;
        let v = new_string(env, info.spec.as_str())?;
        out.set_element(env, 2, &v)?;
        let v = new_string(env, info.purpose().as_str())?;
        out.set_element(env, 3, &v)?;
        let usage = info.usage.map(|u| u.to_string());
        let v = new_opt_string(env, usage.as_deref())?;
        out.set_element(env, 4, &v)?;
        let v = new_string(env, info.storage.as_str())?;
        out.set_element(env, 5, &v)?;
        let v = new_opt_string(env, info.kms_key_id.as_ref().map(KmsKeyId::as_str))?;
        out.set_element(env, 6, &v)?;
        let v = boxed_long(env, info.created_at)?;
        out.set_element(env, 7, &v)?;
        let v = new_bytes(env, info.public_key.spki_der())?;
        out.set_element(env, 8, &v)?;
        Ok(())
    })?;
    Ok(out.into())
}

macro_rules! vault_fn {
    ($name:literal, $rust:ident, ($($arg:ident : $ty:ty),*) -> $ret:ty, |$env:ident, $v:ident| $body:block) => {
        #[jni_mangle("io.tresor.internal.Native", $name)]
        #[allow(clippy::too_many_arguments)]
        pub fn $rust<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>, h: jlong $(, $arg: $ty)*) -> $ret {
            e.with_env(|$env| -> Result<$ret> {
                let $v = get::<BlockingVault>(h)?;
                $body
            })
            .resolve::<Throw>()
        }
    };
}

vault_fn!("Vault_generateSigningKey", vault_generate_signing_key,
    (spec: JString<'l>, usage_list: JString<'l>, name: JString<'l>) -> JObject<'l>, |env, v| {
    let spec = scheme(env, &spec, "spec")?;
    let u = usage(env, &usage_list)?;
    let name = opt_string(env, &name)?;
    let info = v.generate_signing_key(spec, u, name.as_deref())?;
    key_info(env, &info)
});

vault_fn!("Vault_generateEncryptionKey", vault_generate_encryption_key,
    (spec: JString<'l>, name: JString<'l>) -> JObject<'l>, |env, v| {
    let spec = scheme(env, &spec, "spec")?;
    let name = opt_string(env, &name)?;
    let info = v.generate_encryption_key(spec, name.as_deref())?;
    key_info(env, &info)
});

vault_fn!("Vault_listKeys", vault_list_keys, () -> JObject<'l>, |env, v| {
    let keys = v.list_keys()?;
    let out = JObjectArray::<JObject>::new(env, keys.len(), JObject::null())?;
    for (i, k) in keys.iter().enumerate() {
        env.with_local_frame(4, |env| -> Result<()> {
            let o = key_info(env, k)?;
            out.set_element(env, i, &o)?;
            Ok(())
        })?;
    }
    Ok(out.into())
});

vault_fn!("Vault_keyInfo", vault_key_info, (fp: JString<'l>) -> JObject<'l>, |env, v| {
    let fp = fingerprint(env, &fp)?;
    let info = v.key_info(&fp)?;
    key_info(env, &info)
});

vault_fn!("Vault_publicKey", vault_public_key, (fp: JString<'l>) -> jlong, |env, v| {
    let fp = fingerprint(env, &fp)?;
    Ok(into_handle(tresor::PreparedPublicKey::new(v.public_key(&fp)?)))
});

vault_fn!("Vault_sign", vault_sign,
    (fp: JString<'l>, msg: JByteArray<'l>, usage_list: JString<'l>, algo: JString<'l>) -> JByteArray<'l>,
    |env, v| {
    let fp = fingerprint(env, &fp)?;
    let msg = bytes(env, &msg, "message")?;
    let u = usage(env, &usage_list)?;
    let algo = opt_scheme(env, &algo)?;
    let sig = v.sign(&fp, &msg, u, algo)?;
    new_bytes(env, &sig)
});

vault_fn!("Vault_verify", vault_verify,
    (fp: JString<'l>, msg: JByteArray<'l>, sig: JByteArray<'l>, algo: JString<'l>) -> (), |env, v| {
    let fp = fingerprint(env, &fp)?;
    let msg = bytes(env, &msg, "message")?;
    let sig = bytes(env, &sig, "signature")?;
    let algo = opt_scheme(env, &algo)?;
    Ok(v.verify(&fp, &msg, &sig, algo)?)
});

vault_fn!("Vault_encrypt", vault_encrypt,
    (fp: JString<'l>, pt: JByteArray<'l>, algo: JString<'l>) -> JByteArray<'l>, |env, v| {
    let fp = fingerprint(env, &fp)?;
    let pt = secret_bytes(env, &pt, "plaintext")?;
    let algo = opt_scheme(env, &algo)?;
    let ct = v.encrypt(&fp, &pt, algo)?;
    new_bytes(env, &ct)
});

vault_fn!("Vault_decrypt", vault_decrypt,
    (fp: JString<'l>, ct: JByteArray<'l>, algo: JString<'l>) -> JByteArray<'l>, |env, v| {
    let fp = fingerprint(env, &fp)?;
    let ct = bytes(env, &ct, "ciphertext")?;
    let algo = opt_scheme(env, &algo)?;
    let pt = v.decrypt(&fp, &ct, algo)?;
    new_bytes(env, &pt)
});

vault_fn!("Vault_deleteKey", vault_delete_key, (fp: JString<'l>) -> (), |env, v| {
    let fp = fingerprint(env, &fp)?;
    Ok(v.delete_key(&fp)?)
});

vault_fn!("Vault_rotateNodeKey", vault_rotate_node_key, (fp: JString<'l>) -> JObject<'l>, |env, v| {
    let fp = fingerprint(env, &fp)?;
    let info = v.rotate_node_key(&fp)?;
    key_info(env, &info)
});

vault_fn!("Vault_rotateKmsNodeKey", vault_rotate_kms_node_key,
    (fp: JString<'l>, new_id: JString<'l>, name: JString<'l>) -> JObject<'l>, |env, v| {
    let fp = fingerprint(env, &fp)?;
    let id = kms_key_id(env, &new_id, "newKmsKeyId")?;
    let name = opt_string(env, &name)?;
    let info = v.rotate_kms_node_key(&fp, &id, name.as_deref())?;
    key_info(env, &info)
});

vault_fn!("Vault_wrapperKeyId", vault_wrapper_key_id, () -> JObject<'l>, |env, v| {
    let id = v.wrapper_key_id()?;
    new_string(env, id.as_str())
});

vault_fn!("Vault_rotateWrapperKey", vault_rotate_wrapper_key, (new_id: JString<'l>) -> JObject<'l>,
    |env, v| {
    let id = match opt_string(env, &new_id)? {
        Some(s) => Some(KmsKeyId::new(s)?),
        None => None,
    };
    let id = v.rotate_wrapper_key(id)?;
    new_string(env, id.as_str())
});

vault_fn!("Vault_rotateDataKey", vault_rotate_data_key, () -> jlong, |_env, v| {
    let n = v.rotate_data_key()?;
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
});

vault_fn!("Vault_registerKmsKey", vault_register_kms_key,
    (id: JString<'l>, purpose: JString<'l>, expected: JString<'l>, usage_list: JString<'l>, name: JString<'l>)
    -> JObject<'l>, |env, v| {
    let id = kms_key_id(env, &id, "kmsKeyId")?;
    let purpose: Purpose = scheme(env, &purpose, "purpose")?;
    let expected = match opt_string(env, &expected)? {
        Some(s) => Some(KeySpec::parse(purpose, &s)?),
        None => None,
    };
    let u = opt_usage(env, &usage_list)?;
    let name = opt_string(env, &name)?;
    let info = v.register_kms_key(&id, purpose, expected, u, name.as_deref())?;
    key_info(env, &info)
});

vault_fn!("Vault_importPrivateKey", vault_import_private_key,
    (key: jlong, purpose: JString<'l>, usage_list: JString<'l>, name: JString<'l>) -> JObject<'l>,
    |env, v| {
    let kp = get::<KeyPair>(key)?;
    let purpose: Purpose = scheme(env, &purpose, "purpose")?;
    let u = opt_usage(env, &usage_list)?;
    let name = opt_string(env, &name)?;
    let info = v.import_private_key(kp.private_key(), purpose, u, name.as_deref())?;
    key_info(env, &info)
});

vault_fn!("Vault_exportSealed", vault_export_sealed,
    (fp: JString<'l>, password: JByteArray<'l>) -> JObject<'l>, |env, v| {
    let fp = fingerprint(env, &fp)?;
    let pw = secret_bytes(env, &password, "password")?;
    let file = v.export_sealed(&fp, &pw)?;
    new_string(env, &file)
});

vault_fn!("Vault_importSealed", vault_import_sealed,
    (file: JString<'l>, password: JByteArray<'l>, name: JString<'l>) -> JObject<'l>, |env, v| {
    let text = string(env, &file, "export")?;
    let pw = secret_bytes(env, &password, "password")?;
    let name = opt_string(env, &name)?;
    let info = v.import_sealed(&text, &pw, name.as_deref())?;
    key_info(env, &info)
});

/// `[status, reason|null]`, status one of `ok`, `degraded`, `failed`, `fatal`.
pub(crate) fn health_pair(h: &KmsHealth) -> (&'static str, Option<&str>) {
    match h {
        KmsHealth::Ok => ("ok", None),
        KmsHealth::Degraded(r) => ("degraded", Some(r.as_str())),
        KmsHealth::Failed(r) => ("failed", Some(r.as_str())),
        KmsHealth::Fatal(r) => ("fatal", Some(r.as_str())),
    }
}

vault_fn!("Vault_health", vault_health, () -> JObject<'l>, |env, v| {
    let h = v.health();
    let (status, reason) = health_pair(&h);
    let out = JObjectArray::<JString>::new(env, 2, JString::null())?;
    let s = env.new_string(status)?;
    out.set_element(env, 0, &s)?;
    if let Some(r) = reason {
        let r = env.new_string(r)?;
        out.set_element(env, 1, &r)?;
    }
    Ok(out.into())
});

vault_fn!("Vault_mode", vault_mode, () -> JObject<'l>, |env, v| {
    new_string(env, v.vault().mode_name())
});

vault_fn!("Vault_storeUrl", vault_store_url, () -> JObject<'l>, |env, v| {
    new_string(env, v.vault().store_url())
});

vault_fn!("Vault_clearCache", vault_clear_cache, () -> (), |_env, v| {
    v.vault().clear_cache();
    Ok(())
});

/// `io.tresor.hazmat.Hazmat.exportPrivateKey`: the core's audited cleartext export.
#[jni_mangle("io.tresor.internal.Native", "Hazmat_exportPrivateKey")]
pub fn hazmat_export_private_key<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    fp: JString<'l>,
) -> jlong {
    e.with_env(|env| -> Result<jlong> {
        let v = get::<BlockingVault>(h)?;
        let fp = fingerprint(env, &fp)?;
        let key = tresor::hazmat::export_private_key_blocking(v, &fp)?;
        Ok(into_handle(KeyPair::new(key)))
    })
    .resolve::<Throw>()
}
