//! Build a KMS driver from its configuration, and write or read that configuration as text.
//!
//! This is tresor's counterpart of Canton's `v1.DriverFactory`: [`KmsConfig`] is the `ConfigType`,
//! [`KmsConfig::to_config_text`] the `configWriter(confidential)`, [`KmsConfig::from_config_text`] the
//! `configReader` and [`build`] the `create`. Field names are Canton's (`crypto.kms { type = aws, region =
//! …, multi-region-key = …, audit-logging = … }` and so on), written as HOCON-style `key = value` lines.
//!
//! Each cloud or HSM variant exists only when its cargo feature is compiled in (`aws`, `gcp`, `pkcs11`).
//! Reading a configuration whose `type` names a driver that is not compiled in fails with an error that
//! names the feature ([`feature_for`], [`not_compiled_in`]).
//!
//! With `confidential = true` the writer leaves secrets out: a literal software KMS passphrase is
//! written as `***` (as Canton's test driver factory masks `password`). Where a secret is *kept* (a
//! key file, a passphrase file, an environment variable name, a PKCS#11 PIN file) only its location is
//! written, which is not a secret.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::KmsDriver;
use super::software::{MasterKeySource, SoftwareKms};
use crate::error::{Error, ErrorKind, Result};

#[cfg(feature = "aws")]
pub use super::aws::AwsConfig;
#[cfg(feature = "gcp")]
pub use super::gcp::GcpConfig;
#[cfg(feature = "pkcs11")]
pub use super::pkcs11::{PinSource, Pkcs11Config};

/// What the confidential writer puts in place of a secret.
pub const MASK: &str = "***";

/// Where the software KMS master key comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum SoftwareMaster {
    /// `key-file`: 32 random bytes, raw or hex.
    KeyFile(PathBuf),
    /// `passphrase-file`: a file holding the passphrase.
    PassphraseFile(PathBuf),
    /// `passphrase-env`: the name of an environment variable holding the passphrase.
    PassphraseEnv(String),
    /// `passphrase`: the passphrase itself (a secret: masked by the confidential writer).
    Passphrase(Zeroizing<String>),
}

impl core::fmt::Debug for SoftwareMaster {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::KeyFile(p) => f.debug_tuple("KeyFile").field(p).finish(),
            Self::PassphraseFile(p) => f.debug_tuple("PassphraseFile").field(p).finish(),
            Self::PassphraseEnv(v) => f.debug_tuple("PassphraseEnv").field(v).finish(),
            Self::Passphrase(_) => f.write_str("Passphrase(***)"),
        }
    }
}

/// Configuration of the software KMS (`type = software`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftwareConfig {
    /// `path`: the KMS file.
    pub path: PathBuf,
    /// The master key source.
    pub master: SoftwareMaster,
    /// `audit-logging`.
    pub audit_logging: bool,
}

/// The configuration of one KMS driver (Canton's `crypto.kms` block).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KmsConfig {
    /// `type = software`.
    Software(SoftwareConfig),
    /// `type = aws`.
    #[cfg(feature = "aws")]
    Aws(AwsConfig),
    /// `type = gcp`.
    #[cfg(feature = "gcp")]
    Gcp(GcpConfig),
    /// `type = pkcs11`.
    #[cfg(feature = "pkcs11")]
    Pkcs11(Pkcs11Config),
}

/// The cargo feature that compiles in the driver of KMS `type` (`aws`, `gcp`, `pkcs11`); `None` for
/// `software` (always present) and for unknown types.
pub fn feature_for(kms_type: &str) -> Option<&'static str> {
    match kms_type {
        "aws" => Some("aws"),
        "gcp" => Some("gcp"),
        "pkcs11" => Some("pkcs11"),
        _ => None,
    }
}

/// Whether the driver of KMS `type` is compiled into this build.
pub fn is_compiled_in(kms_type: &str) -> bool {
    kms_type == "software"
        || (kms_type == "aws" && cfg!(feature = "aws"))
        || (kms_type == "gcp" && cfg!(feature = "gcp"))
        || (kms_type == "pkcs11" && cfg!(feature = "pkcs11"))
}

/// The error for a KMS type whose driver is not compiled in (it names the cargo feature).
pub fn not_compiled_in(kms_type: &str) -> Error {
    match feature_for(kms_type) {
        Some(feature) => Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "the {kms_type} KMS driver is not compiled into this build; enable the cargo feature \
                 `{feature}` of the tresor crate"
            ),
        ),
        None => Error::new(
            ErrorKind::InvalidArgument,
            format!("unknown KMS type '{kms_type}'; known: software, aws, gcp, pkcs11"),
        ),
    }
}

impl KmsConfig {
    /// Canton's `type` of this configuration.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Software(_) => "software",
            #[cfg(feature = "aws")]
            Self::Aws(_) => "aws",
            #[cfg(feature = "gcp")]
            Self::Gcp(_) => "gcp",
            #[cfg(feature = "pkcs11")]
            Self::Pkcs11(_) => "pkcs11",
        }
    }

    /// Canton's `audit-logging`.
    pub fn audit_logging(&self) -> bool {
        match self {
            Self::Software(c) => c.audit_logging,
            #[cfg(feature = "aws")]
            Self::Aws(c) => c.audit_logging,
            #[cfg(feature = "gcp")]
            Self::Gcp(c) => c.audit_logging,
            #[cfg(feature = "pkcs11")]
            Self::Pkcs11(c) => c.audit_logging,
        }
    }

    /// The configuration as `key = value` lines with Canton's names, `type` first. With
    /// `confidential = true` every secret is left out (written as [`MASK`]).
    pub fn to_config_text(&self, confidential: bool) -> String {
        let mut w = Writer::default();
        w.bare("type", self.type_name());
        match self {
            Self::Software(c) => {
                w.path("path", &c.path);
                match &c.master {
                    SoftwareMaster::KeyFile(p) => w.path("key-file", p),
                    SoftwareMaster::PassphraseFile(p) => w.path("passphrase-file", p),
                    SoftwareMaster::PassphraseEnv(v) => w.string("passphrase-env", v),
                    SoftwareMaster::Passphrase(p) => {
                        w.string("passphrase", if confidential { MASK } else { p.as_str() })
                    }
                }
                w.bool("audit-logging", c.audit_logging);
            }
            #[cfg(feature = "aws")]
            Self::Aws(c) => {
                w.string("region", &c.region);
                w.bool("multi-region-key", c.multi_region_key);
                if let Some(e) = &c.endpoint_override {
                    w.string("endpoint-override", e);
                }
                for (k, v) in &c.custom_tags {
                    w.line(&format!("custom-tags.{}", quote(k)), &quote(v));
                }
                w.bool("audit-logging", c.audit_logging);
            }
            #[cfg(feature = "gcp")]
            Self::Gcp(c) => {
                w.string("location-id", &c.location_id);
                w.string("project-id", &c.project_id);
                w.string("key-ring-id", &c.key_ring_id);
                if let Some(e) = &c.endpoint_override {
                    w.string("endpoint-override", e);
                }
                w.bool("audit-logging", c.audit_logging);
            }
            #[cfg(feature = "pkcs11")]
            Self::Pkcs11(c) => {
                w.path("module-path", &c.module_path);
                w.string("token-label", &c.token_label);
                match &c.pin {
                    PinSource::Env(v) => w.string("pin-env", v),
                    PinSource::File(p) => w.path("pin-file", p),
                }
                w.bare("session-pool-size", &c.session_pool_size.to_string());
                w.bool("audit-logging", c.audit_logging);
            }
        }
        w.out
    }

    /// Read what [`to_config_text`](Self::to_config_text) wrote (or the same keys written by hand):
    /// `key = value` or `key: value` lines, `#` and `//` comments, quoted or bare values. Unknown keys,
    /// missing required keys, a masked secret and a `type` whose driver is not compiled in are errors.
    pub fn from_config_text(text: &str) -> Result<Self> {
        let mut fields = Fields::parse(text)?;
        let ty = fields
            .take("type")
            .ok_or_else(|| bad("the KMS configuration needs a 'type'"))?
            .to_ascii_lowercase();
        let cfg = match ty.as_str() {
            "software" => Self::Software(read_software(&mut fields)?),
            #[cfg(feature = "aws")]
            "aws" => Self::Aws(read_aws(&mut fields)?),
            #[cfg(feature = "gcp")]
            "gcp" => Self::Gcp(read_gcp(&mut fields)?),
            #[cfg(feature = "pkcs11")]
            "pkcs11" => Self::Pkcs11(read_pkcs11(&mut fields)?),
            other => return Err(not_compiled_in(other)),
        };
        fields.finish()?;
        Ok(cfg)
    }
}

/// Create the driver `config` describes (Canton's `DriverFactory.create`). The driver is returned
/// without layers; wrap it with [`layered`](super::layered) for retry, rate limits, audit and health.
pub async fn build(config: &KmsConfig) -> Result<Arc<dyn KmsDriver>> {
    match config {
        KmsConfig::Software(c) => {
            let master = match &c.master {
                SoftwareMaster::KeyFile(p) => MasterKeySource::KeyFile(p.clone()),
                SoftwareMaster::PassphraseFile(p) => {
                    let text = Zeroizing::new(std::fs::read_to_string(p).map_err(|e| {
                        Error::new(
                            ErrorKind::Io,
                            format!("cannot read the passphrase file '{}'", p.display()),
                        )
                        .with_source(e)
                    })?);
                    MasterKeySource::Passphrase(Zeroizing::new(
                        text.trim_end_matches(['\r', '\n']).to_string(),
                    ))
                }
                SoftwareMaster::PassphraseEnv(v) => {
                    MasterKeySource::Passphrase(Zeroizing::new(std::env::var(v).map_err(|_| {
                        Error::new(
                            ErrorKind::InvalidArgument,
                            format!("the passphrase environment variable {v} is not set"),
                        )
                    })?))
                }
                SoftwareMaster::Passphrase(p) => {
                    if p.as_str() == MASK {
                        return Err(bad(
                            "the software KMS passphrase is masked ('***'); a confidential \
                             configuration cannot be used to open the KMS",
                        ));
                    }
                    MasterKeySource::Passphrase(p.clone())
                }
            };
            Ok(Arc::new(SoftwareKms::open(&c.path, master).await?))
        }
        #[cfg(feature = "aws")]
        KmsConfig::Aws(c) => Ok(Arc::new(super::aws::AwsKms::new(c.clone()).await?)),
        #[cfg(feature = "gcp")]
        KmsConfig::Gcp(c) => Ok(Arc::new(super::gcp::GcpKms::connect(c.clone()).await?)),
        #[cfg(feature = "pkcs11")]
        KmsConfig::Pkcs11(c) => Ok(Arc::new(super::pkcs11::Pkcs11Kms::open(c.clone()).await?)),
    }
}

// --- reading --------------------------------------------------------------------------------------

fn bad(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, message.into())
}

fn read_software(f: &mut Fields) -> Result<SoftwareConfig> {
    let path = PathBuf::from(f.require("path")?);
    let mut sources = Vec::new();
    if let Some(p) = f.take("key-file") {
        sources.push(SoftwareMaster::KeyFile(PathBuf::from(p)));
    }
    if let Some(p) = f.take("passphrase-file") {
        sources.push(SoftwareMaster::PassphraseFile(PathBuf::from(p)));
    }
    if let Some(v) = f.take("passphrase-env") {
        sources.push(SoftwareMaster::PassphraseEnv(v));
    }
    if let Some(p) = f.take("passphrase") {
        sources.push(SoftwareMaster::Passphrase(Zeroizing::new(p)));
    }
    if sources.len() != 1 {
        return Err(bad(
            "a software KMS configuration needs exactly one of key-file, passphrase-file, \
             passphrase-env, passphrase",
        ));
    }
    let master = sources.remove(0);
    Ok(SoftwareConfig {
        path,
        master,
        audit_logging: f.boolean("audit-logging")?.unwrap_or(false),
    })
}

#[cfg(feature = "aws")]
fn read_aws(f: &mut Fields) -> Result<AwsConfig> {
    let region = f.require("region")?;
    let multi_region_key = f.boolean("multi-region-key")?.unwrap_or(false);
    let endpoint_override = f.take("endpoint-override");
    let audit_logging = f.boolean("audit-logging")?.unwrap_or(false);
    let custom_tags = f.take_prefixed("custom-tags");
    Ok(AwsConfig {
        region,
        multi_region_key,
        endpoint_override,
        custom_tags,
        audit_logging,
    })
}

#[cfg(feature = "gcp")]
fn read_gcp(f: &mut Fields) -> Result<GcpConfig> {
    Ok(GcpConfig {
        location_id: f.require("location-id")?,
        project_id: f.require("project-id")?,
        key_ring_id: f.require("key-ring-id")?,
        endpoint_override: f.take("endpoint-override"),
        audit_logging: f.boolean("audit-logging")?.unwrap_or(false),
    })
}

#[cfg(feature = "pkcs11")]
fn read_pkcs11(f: &mut Fields) -> Result<Pkcs11Config> {
    let module_path = f.require("module-path")?;
    let token_label = f.require("token-label")?;
    let pin = match (f.take("pin-env"), f.take("pin-file")) {
        (Some(v), None) => PinSource::Env(v),
        (None, Some(p)) => PinSource::File(PathBuf::from(p)),
        _ => {
            return Err(bad(
                "a pkcs11 KMS configuration needs exactly one of pin-env, pin-file",
            ));
        }
    };
    let mut cfg = Pkcs11Config::new(module_path, token_label, pin);
    if let Some(n) = f.take("session-pool-size") {
        cfg.session_pool_size = n
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| bad(format!("session-pool-size must be at least 1, got '{n}'")))?;
    }
    cfg.audit_logging = f.boolean("audit-logging")?.unwrap_or(false);
    Ok(cfg)
}

/// The parsed `key = value` pairs, consumed by the readers; whatever is left is an unknown key.
struct Fields {
    map: BTreeMap<String, String>,
}

impl Fields {
    fn parse(text: &str) -> Result<Self> {
        let mut map = BTreeMap::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("//") {
                continue;
            }
            let (key, rest) = split_key(line).ok_or_else(|| {
                bad(format!(
                    "line {}: expected 'key = value', got '{line}'",
                    n + 1
                ))
            })?;
            let value =
                parse_value(rest.trim()).map_err(|m| bad(format!("line {}: {m}", n + 1)))?;
            if map.insert(key.clone(), value).is_some() {
                return Err(bad(format!("line {}: '{key}' is set twice", n + 1)));
            }
        }
        Ok(Self { map })
    }

    fn take(&mut self, key: &str) -> Option<String> {
        self.map.remove(key)
    }

    fn require(&mut self, key: &str) -> Result<String> {
        self.take(key)
            .ok_or_else(|| bad(format!("the KMS configuration needs '{key}'")))
    }

    fn boolean(&mut self, key: &str) -> Result<Option<bool>> {
        match self.take(key) {
            None => Ok(None),
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" => Ok(Some(true)),
                "false" | "no" | "off" => Ok(Some(false)),
                _ => Err(bad(format!("'{key}' must be true or false, got '{v}'"))),
            },
        }
    }

    /// Every `prefix.<name>` key, by name (`<name>` unquoted).
    #[cfg_attr(not(feature = "aws"), allow(dead_code))]
    fn take_prefixed(&mut self, prefix: &str) -> BTreeMap<String, String> {
        let start = format!("{prefix}.");
        let keys: Vec<String> = self
            .map
            .keys()
            .filter(|k| k.starts_with(&start))
            .cloned()
            .collect();
        keys.into_iter()
            .filter_map(|k| {
                let v = self.map.remove(&k)?;
                Some((k[start.len()..].to_string(), v))
            })
            .collect()
    }

    fn finish(self) -> Result<()> {
        match self.map.keys().next() {
            None => Ok(()),
            Some(k) => Err(bad(format!("unknown key '{k}' in the KMS configuration"))),
        }
    }
}

/// Split `key = value` (or `key: value`); a key is bare segments or quoted segments joined by dots.
/// Quoted segments are returned unquoted, so `custom-tags."a.b"` gives `custom-tags.a.b`.
fn split_key(line: &str) -> Option<(String, &str)> {
    let mut key = String::new();
    let mut chars = line.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            '"' => {
                let (s, used) = parse_quoted(&line[i..]).ok()?;
                key.push_str(&s);
                while chars.peek().is_some_and(|&(j, _)| j < i + used) {
                    chars.next();
                }
            }
            '=' | ':' => {
                let k = key.trim().to_string();
                return (!k.is_empty()).then_some((k, &line[i + 1..]));
            }
            _ => {
                key.push(c);
                chars.next();
            }
        }
    }
    None
}

fn parse_value(v: &str) -> core::result::Result<String, String> {
    if v.starts_with('"') {
        let (s, used) = parse_quoted(v)?;
        let rest = v[used..].trim();
        if rest.is_empty() || rest.starts_with('#') || rest.starts_with("//") {
            Ok(s)
        } else {
            Err(format!("unexpected text after the quoted value: '{rest}'"))
        }
    } else {
        let end = v
            .find('#')
            .into_iter()
            .chain(v.find("//"))
            .min()
            .unwrap_or(v.len());
        Ok(v[..end].trim().to_string())
    }
}

/// Parse a JSON-style quoted string at the start of `s`; returns it and the bytes used.
fn parse_quoted(s: &str) -> core::result::Result<(String, usize), String> {
    let mut out = String::new();
    let mut it = s.char_indices().skip(1);
    while let Some((i, c)) = it.next() {
        match c {
            '"' => return Ok((out, i + 1)),
            '\\' => {
                let (_, e) = it.next().ok_or("unterminated escape")?;
                match e {
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    '/' => out.push('/'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'u' => {
                        let hex: String =
                            (0..4).filter_map(|_| it.next().map(|(_, h)| h)).collect();
                        let code = u32::from_str_radix(&hex, 16)
                            .map_err(|_| format!("bad \\u escape '{hex}'"))?;
                        out.push(char::from_u32(code).ok_or("bad \\u escape")?);
                    }
                    other => return Err(format!("unknown escape '\\{other}'")),
                }
            }
            c => out.push(c),
        }
    }
    Err("unterminated quoted string".to_string())
}

// --- writing --------------------------------------------------------------------------------------

/// A JSON-style quoted string (HOCON reads it as is).
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[derive(Default)]
struct Writer {
    out: String,
}

impl Writer {
    fn line(&mut self, key: &str, value: &str) {
        let _ = writeln!(self.out, "{key} = {value}");
    }
    fn bare(&mut self, key: &str, value: &str) {
        self.line(key, value);
    }
    fn string(&mut self, key: &str, value: &str) {
        self.line(key, &quote(value));
    }
    fn path(&mut self, key: &str, value: &std::path::Path) {
        self.string(key, &value.display().to_string());
    }
    fn bool(&mut self, key: &str, value: bool) {
        self.line(key, if value { "true" } else { "false" });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kms::KmsHealth;

    fn software(master: SoftwareMaster) -> KmsConfig {
        KmsConfig::Software(SoftwareConfig {
            path: PathBuf::from("/var/lib/tresor/kms \"one\".db"),
            master,
            audit_logging: true,
        })
    }

    fn samples() -> Vec<KmsConfig> {
        #[allow(unused_mut)]
        let mut v = vec![
            software(SoftwareMaster::KeyFile("/etc/tresor/kms.key".into())),
            software(SoftwareMaster::PassphraseFile("pass.txt".into())),
            software(SoftwareMaster::PassphraseEnv(
                "TRESOR_KMS_PASSPHRASE".into(),
            )),
            software(SoftwareMaster::Passphrase(Zeroizing::new(
                "s3cret \"quoted\" \\ pass#word".into(),
            ))),
        ];
        #[cfg(feature = "aws")]
        v.push(KmsConfig::Aws(AwsConfig {
            region: "us-east-1".into(),
            multi_region_key: true,
            endpoint_override: Some("http://127.0.0.1:4566".into()),
            custom_tags: [
                ("team".to_string(), "ops".to_string()),
                ("a.b=c".to_string(), "x \"y\"".to_string()),
            ]
            .into_iter()
            .collect(),
            audit_logging: true,
        }));
        #[cfg(feature = "gcp")]
        v.push(KmsConfig::Gcp(GcpConfig {
            location_id: "us-east1".into(),
            project_id: "gcp-kms-testing".into(),
            key_ring_id: "canton-test-keys-2023".into(),
            endpoint_override: None,
            audit_logging: false,
        }));
        #[cfg(feature = "pkcs11")]
        {
            let mut c = Pkcs11Config::new(
                "/usr/lib/softhsm/libsofthsm2.so",
                "tresor",
                PinSource::File("/run/secrets/pin".into()),
            );
            c.session_pool_size = 7;
            v.push(KmsConfig::Pkcs11(c));
            v.push(KmsConfig::Pkcs11(Pkcs11Config::new(
                "/opt/hsm.so",
                "label",
                PinSource::Env("HSM_PIN".into()),
            )));
        }
        v
    }

    #[test]
    fn driver_config_writing_and_reading() {
        for c in samples() {
            let text = c.to_config_text(false);
            let back = KmsConfig::from_config_text(&text).expect(&text);
            assert_eq!(back, c, "{text}");
        }
    }

    #[test]
    fn confidential_writer_leaves_secrets_out() {
        let secret = "s3cret \"quoted\" \\ pass#word";
        for c in samples() {
            let text = c.to_config_text(true);
            assert!(!text.contains("s3cret"), "{text}");
            assert!(!text.contains(&quote(secret)), "{text}");
        }
        let c = software(SoftwareMaster::Passphrase(Zeroizing::new(secret.into())));
        let text = c.to_config_text(true);
        assert!(text.contains("passphrase = \"***\""), "{text}");
        // The location of a secret is not a secret.
        let c = software(SoftwareMaster::PassphraseFile("pass.txt".into()));
        assert!(
            c.to_config_text(true)
                .contains("passphrase-file = \"pass.txt\"")
        );
        // Debug does not show the passphrase either.
        let c = software(SoftwareMaster::Passphrase(Zeroizing::new(secret.into())));
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn reader_rejects_unknown_and_missing() {
        let e = KmsConfig::from_config_text("type = software\npath = x\nkey-file = k\nkye = 1\n")
            .expect_err("must fail");
        assert!(e.message().contains("unknown key 'kye'"), "{e}");
        let e =
            KmsConfig::from_config_text("type = software\nkey-file = k\n").expect_err("must fail");
        assert!(e.message().contains("'path'"), "{e}");
        let e = KmsConfig::from_config_text("path = x\n").expect_err("must fail");
        assert!(e.message().contains("'type'"), "{e}");
        let ok = KmsConfig::from_config_text(
            "# comment\ntype: software\npath = kms.db # trailing\nkey-file = \"k\"\n",
        )
        .expect("must work");
        assert_eq!(
            ok,
            KmsConfig::Software(SoftwareConfig {
                path: "kms.db".into(),
                master: SoftwareMaster::KeyFile("k".into()),
                audit_logging: false,
            })
        );
    }

    #[test]
    fn missing_driver_names_the_feature() {
        for (ty, feature) in [("aws", "aws"), ("gcp", "gcp"), ("pkcs11", "pkcs11")] {
            assert_eq!(feature_for(ty), Some(feature));
            if !is_compiled_in(ty) {
                let e =
                    KmsConfig::from_config_text(&format!("type = {ty}\n")).expect_err("must fail");
                assert!(e.message().contains(&format!("`{feature}`")), "{e}");
            }
        }
        assert!(is_compiled_in("software"));
        assert!(KmsConfig::from_config_text("type = hsm9000\n").is_err());
    }

    #[test]
    fn build_software_is_healthy() {
        let dir = std::env::temp_dir().join(format!(
            "tresor-registry-{}-{}",
            std::process::id(),
            crate::util::now_ms()
        ));
        std::fs::create_dir_all(&dir).expect("must work");
        let key = dir.join("kms.key");
        crate::kms::software::create_key_file(&key).expect("must work");
        let cfg = KmsConfig::Software(SoftwareConfig {
            path: dir.join("kms.db"),
            master: SoftwareMaster::KeyFile(key),
            audit_logging: false,
        });
        let back = KmsConfig::from_config_text(&cfg.to_config_text(false)).expect("must work");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("must work");
        let health = rt.block_on(async {
            let d = build(&back).await.expect("must work");
            assert_eq!(d.provider(), "software");
            d.health().await
        });
        assert_eq!(health, KmsHealth::Ok);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn build_refuses_a_masked_passphrase() {
        let cfg = software(SoftwareMaster::Passphrase(Zeroizing::new("x".into())));
        let masked = KmsConfig::from_config_text(&cfg.to_config_text(true)).expect("must work");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("must work");
        let e = rt.block_on(build(&masked)).err().expect("masked");
        assert!(e.message().contains("masked"), "{e}");
    }
}
