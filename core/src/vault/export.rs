//! Password-sealed export of one private key (Canton's `download_to`/`upload`, for keeping a namespace
//! root key offline), and its import.
//!
//! The file is one JSON object:
//! `{"format":"tresor-key-export/1", "fingerprint", "purpose", "usage", "key_spec", "name",
//!   "kdf":{"alg":"argon2id","m_kib","t","p","salt"}, "ciphertext"}` where `ciphertext` is
//! base64 of AES-256-GCM (`IV ‖ ct ‖ tag`) over the PKCS#8 key, under the Argon2id-derived key, with every
//! other field (canonically serialised) as associated data — so no metadata can be changed unnoticed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::envelope::private_from_row;
use super::{Active, KeyInfo, Vault, not_found};
use crate::error::{Error, ErrorKind, Result};
use crate::keys::{Fingerprint, PrivateKey, SigningKeyUsageSet};
use crate::primitives::{AesGcmKey, random_bytes};
use crate::scheme::{KeySpec, Purpose};

const FORMAT: &str = "tresor-key-export/1";
/// Argon2id cost: 64 MiB, 3 passes, 1 lane (OWASP's first recommendation is 19 MiB/2; an offline root
/// key deserves more).
const M_KIB: u32 = 64 * 1024;
const T: u32 = 3;
const P: u32 = 1;
/// Bounds accepted on import, so a crafted file cannot demand unbounded memory or time.
const MAX_M_KIB: u32 = 1024 * 1024;
const MAX_T: u32 = 16;
const MAX_P: u32 = 16;

/// What an export file holds, after it was opened.
#[derive(Debug)]
pub struct ImportedKey {
    /// The private key.
    pub key: PrivateKey,
    /// Signing or encryption.
    pub purpose: Purpose,
    /// Usage of a signing key.
    pub usage: Option<SigningKeyUsageSet>,
    /// Name recorded at export.
    pub name: Option<String>,
}

impl ImportedKey {
    /// The key's spec for its purpose.
    pub fn spec(&self) -> Result<KeySpec> {
        self.key.key_type().require(self.purpose)
    }
}

fn derive(password: &[u8], salt: &[u8], m: u32, t: u32, p: u32) -> Result<Zeroizing<[u8; 32]>> {
    if password.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            "the export password is empty",
        ));
    }
    let params = argon2::Params::new(m, t, p, Some(32)).map_err(|_| {
        Error::new(
            ErrorKind::MalformedData,
            "export file: invalid Argon2 parameters",
        )
    })?;
    let mut out = Zeroizing::new([0u8; 32]);
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(password, salt, out.as_mut())
        .map_err(|_| Error::internal("Argon2id failed"))?;
    Ok(out)
}

/// What the header of an export records about the key.
struct Meta<'a> {
    fingerprint: Fingerprint,
    purpose: Purpose,
    usage: Option<SigningKeyUsageSet>,
    key_spec: &'a str,
    name: Option<&'a str>,
}

fn header(meta: &Meta<'_>, salt: &[u8], m: u32, t: u32, p: u32) -> Value {
    json!({
        "format": FORMAT,
        "fingerprint": meta.fingerprint.to_string(),
        "purpose": meta.purpose.as_str(),
        "usage": meta.usage.map(|u| u.to_string()),
        "key_spec": meta.key_spec,
        "name": meta.name,
        "kdf": {"alg": "argon2id", "m_kib": m, "t": t, "p": p, "salt": B64.encode(salt)},
    })
}

/// Seal a vault's key (described by `info`) under `password`; returns the file contents.
pub(super) fn seal_export(info: &KeyInfo, key: &PrivateKey, password: &[u8]) -> Result<String> {
    seal(
        &Meta {
            fingerprint: info.fingerprint,
            purpose: info.purpose(),
            usage: info.usage,
            key_spec: info.spec.as_str(),
            name: info.name.as_deref(),
        },
        key,
        password,
    )
}

/// Seal a caller-held key under `password` in the same format [`Vault::export_sealed`] writes, e.g. to
/// hand a key made offline to a vault's [`Vault::import_sealed`]. `purpose` must fit the key's type and
/// a signing key needs a `usage` ([`ErrorKind::IncompatibleKey`] / [`ErrorKind::InvalidKeyUsage`]).
pub fn seal_private_key(
    key: &PrivateKey,
    purpose: Purpose,
    usage: Option<SigningKeyUsageSet>,
    name: Option<&str>,
    password: &[u8],
) -> Result<String> {
    let spec = key.key_type().require(purpose)?;
    let usage = match purpose {
        Purpose::Signing => Some(usage.ok_or_else(|| {
            Error::new(ErrorKind::InvalidKeyUsage, "a signing key needs a usage")
        })?),
        Purpose::Encryption => None,
    };
    super::select::check_name(name)?;
    seal(
        &Meta {
            fingerprint: key.public_key().fingerprint(),
            purpose,
            usage,
            key_spec: spec.as_str(),
            name,
        },
        key,
        password,
    )
}

fn seal(meta: &Meta<'_>, key: &PrivateKey, password: &[u8]) -> Result<String> {
    let mut salt = [0u8; 16];
    random_bytes(&mut salt)?;
    let kek = derive(password, &salt, M_KIB, T, P)?;
    let hdr = header(meta, &salt, M_KIB, T, P);
    let aad = hdr.to_string();
    let ct = AesGcmKey::new(kek.as_ref())?.encrypt(key.pkcs8_der(), aad.as_bytes())?;
    let mut obj = hdr;
    obj["ciphertext"] = Value::String(B64.encode(ct));
    Ok(format!("{obj:#}\n"))
}

/// Open an export file with `password`.
pub fn open_export(contents: &str, password: &[u8]) -> Result<ImportedKey> {
    let bad = |what: &str| Error::new(ErrorKind::MalformedData, format!("key export file: {what}"));
    let v: Value = serde_json::from_str(contents).map_err(|_| bad("not valid JSON"))?;
    if v.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(bad(&format!("unknown format (expected {FORMAT})")));
    }
    let s = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| bad(&format!("missing '{k}'")))
    };
    let fp: Fingerprint = s("fingerprint")?
        .parse()
        .map_err(|_| bad("bad fingerprint"))?;
    let purpose: Purpose = s("purpose")?.parse().map_err(|_| bad("bad purpose"))?;
    let usage = match v.get("usage") {
        Some(Value::String(u)) => Some(SigningKeyUsageSet::parse_list(u)?),
        Some(Value::Null) | None => None,
        _ => return Err(bad("bad usage")),
    };
    let name = match v.get("name") {
        Some(Value::String(n)) => Some(n.clone()),
        Some(Value::Null) | None => None,
        _ => return Err(bad("bad name")),
    };
    let key_spec = s("key_spec")?.to_string();
    let kdf = v.get("kdf").ok_or_else(|| bad("missing 'kdf'"))?;
    if kdf.get("alg").and_then(Value::as_str) != Some("argon2id") {
        return Err(bad("unsupported KDF (expected argon2id)"));
    }
    let num = |k: &str, max: u32| -> Result<u32> {
        kdf.get(k)
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n >= 1 && *n <= max)
            .ok_or_else(|| bad(&format!("KDF parameter '{k}' missing or out of range")))
    };
    let (m, t, p) = (num("m_kib", MAX_M_KIB)?, num("t", MAX_T)?, num("p", MAX_P)?);
    let salt = kdf
        .get("salt")
        .and_then(Value::as_str)
        .and_then(|x| B64.decode(x).ok())
        .filter(|x| x.len() >= 8)
        .ok_or_else(|| bad("bad salt"))?;
    let ct = B64
        .decode(s("ciphertext")?)
        .map_err(|_| bad("bad ciphertext encoding"))?;
    let mut hdr = v.clone();
    if let Some(o) = hdr.as_object_mut() {
        o.remove("ciphertext");
    }
    // The associated data is the header exactly as it was written: rebuild it in canonical form.
    let canonical = json!({
        "format": FORMAT,
        "fingerprint": fp.to_string(),
        "purpose": purpose.as_str(),
        "usage": usage.map(|u| u.to_string()),
        "key_spec": key_spec,
        "name": name,
        "kdf": {"alg": "argon2id", "m_kib": m, "t": t, "p": p, "salt": B64.encode(&salt)},
    });
    if canonical != hdr {
        return Err(bad("unexpected or non-canonical fields"));
    }
    let kek = derive(password, &salt, m, t, p)?;
    let pkcs8 = AesGcmKey::new(kek.as_ref())?
        .decrypt(&ct, canonical.to_string().as_bytes())
        .map_err(|_| {
            Error::new(
                ErrorKind::WrongPassword,
                "the key export does not open: wrong password or altered file",
            )
        })?;
    let key = PrivateKey::from_pkcs8_der(&pkcs8)?;
    if key.public_key().fingerprint() != fp {
        return Err(bad("the key does not match its recorded fingerprint"));
    }
    let spec_ok =
        key.key_type().require(purpose).ok().map(|s| s.as_str()) == Some(key_spec.as_str());
    if !spec_ok {
        return Err(bad("the key does not match its recorded spec"));
    }
    Ok(ImportedKey {
        key,
        purpose,
        usage,
        name,
    })
}

impl Vault {
    /// The private key of a key held in the store (clear or sealed), checked against its row. Refused
    /// for keys in the KMS. Internal: the only public ways out are [`Vault::export_sealed`] and the
    /// audited [`crate::hazmat::export_private_key`].
    pub(crate) async fn private_key(&self, fp: &Fingerprint) -> Result<(KeyInfo, PrivateKey)> {
        let row = self
            .inner
            .store
            .get(fp)
            .await?
            .ok_or_else(|| not_found(fp))?;
        if row.kms_key_id.is_some() || self.inner.mode == Active::External {
            return Err(Error::new(
                ErrorKind::WrongMode,
                format!(
                    "key {fp} lives in the KMS and cannot leave it: export is not possible in external mode"
                ),
            ));
        }
        // Opened with the store's current data key, following a rotation made by another instance.
        let pkcs8 = self.row_pkcs8(&row).await?;
        let key = private_from_row(&row, &pkcs8)?;
        Ok((KeyInfo::from_row(&row)?, key))
    }

    /// Export the key `fp` sealed under `password` (Canton's `download_to`, e.g. to keep a namespace
    /// root key offline): the text of a `tresor-key-export/1` file (see the module docs). Refused in
    /// external mode ([`ErrorKind::WrongMode`]).
    /// With an audit log the export is recorded before the file's text is returned.
    pub async fn export_sealed(&self, fp: &Fingerprint, password: &[u8]) -> Result<String> {
        let (info, key) = self.private_key(fp).await?;
        let sealed = seal_export(&info, &key, password)?;
        self.record(&format!(
            "export key {} sealed under a password",
            super::records::describe(&info)
        ))?;
        Ok(sealed)
    }

    /// Import a key exported by [`Vault::export_sealed`] (or `tresor key export`), opened with
    /// `password` ([`ErrorKind::WrongPassword`] when it does not open); `name` replaces the name
    /// recorded in the file.
    pub async fn import_sealed(
        &self,
        export: &str,
        password: &[u8],
        name: Option<&str>,
    ) -> Result<KeyInfo> {
        let imported = open_export(export, password)?;
        let name = name.or(imported.name.as_deref());
        self.import_recorded(
            &[super::ImportKey {
                key: &imported.key,
                purpose: imported.purpose,
                usage: imported.usage,
                name,
            }],
            |k| format!("import key {k} from a password-sealed export"),
        )
        .await?
        .pop()
        .ok_or_else(|| Error::internal("no key imported"))
    }
}
