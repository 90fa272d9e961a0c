//! The one KMS configuration model: Canton's `crypto.kms` block, read and written the same way
//! everywhere — from `tresor.toml`'s `[kms]` table, from the `crypto.kms` block of a Canton HOCON file,
//! and from a KMS driver's `config = { … }` text (what tresor's Canton driver jar receives).
//!
//! All three become the same configuration tree and are read by one reader into [`KmsConfig`]; the
//! writer ([`KmsConfig::to_config_text`]) is Canton's `configWriter(confidential)`, the reader
//! ([`KmsConfig::from_config_text`]) its `configReader`, and [`build`] its `create`. Field names are
//! Canton's (`type = aws, region = …, multi-region-key = …, audit-logging = …`, …).
//!
//! The model is the same in every build; a driver that is not compiled in (cargo features `aws`,
//! `gcp`, `pkcs11`) is reported by [`build`] with one error naming the feature ([`not_compiled_in`]).
//!
//! With `confidential = true` the writer leaves secrets out: a literal software KMS passphrase is
//! written as [`MASK`] (as Canton's test driver factory masks `password`). Where a secret is *kept* (a
//! key file, a passphrase file, an environment variable name, a PKCS#11 PIN file) only its location is
//! written, which is not a secret.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use zeroize::Zeroizing;

use super::KmsDriver;
use super::software::{MasterKeySource, SoftwareKms};
use crate::conf::{Node, Obj, Value};
use crate::error::{Error, ErrorKind, Result};
use crate::util::quote;

/// What the confidential writer puts in place of a secret.
pub const MASK: &str = "***";

/// The KMS types tresor has drivers for (Canton's `type`).
pub const KMS_TYPES: &[&str] = &["software", "aws", "gcp", "pkcs11"];

/// The default number of logged-in PKCS#11 sessions.
pub const DEFAULT_SESSION_POOL_SIZE: usize = 4;

/// Where the software KMS master key comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum SoftwareMaster {
    /// `key-file`: 32 random bytes, raw or hex.
    KeyFile(PathBuf),
    /// `passphrase-file`: a file whose first line is the passphrase.
    PassphraseFile(PathBuf),
    /// `passphrase-env`: the name of an environment variable holding the passphrase.
    PassphraseEnv(String),
    /// `passphrase`: the passphrase itself (a secret: masked by the confidential writer).
    Passphrase(Zeroizing<String>),
    /// None of the above: the program supplies the passphrase when it opens the KMS (the CLI asks on
    /// the terminal).
    Supplied,
}

impl core::fmt::Debug for SoftwareMaster {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::KeyFile(p) => f.debug_tuple("KeyFile").field(p).finish(),
            Self::PassphraseFile(p) => f.debug_tuple("PassphraseFile").field(p).finish(),
            Self::PassphraseEnv(v) => f.debug_tuple("PassphraseEnv").field(v).finish(),
            Self::Passphrase(_) => f.write_str("Passphrase(***)"),
            Self::Supplied => f.write_str("Supplied"),
        }
    }
}

impl SoftwareMaster {
    /// A description without the secret: `key file /etc/tresor/kms.key`, `passphrase from $VAR`, …
    pub fn describe(&self) -> String {
        match self {
            Self::KeyFile(p) => format!("key file {}", p.display()),
            Self::PassphraseFile(p) => format!("passphrase file {}", p.display()),
            Self::PassphraseEnv(v) => format!("passphrase from {v}"),
            Self::Passphrase(_) => "passphrase in the configuration".to_string(),
            Self::Supplied => {
                "passphrase supplied when opening (e.g. asked on the terminal)".to_string()
            }
        }
    }

    /// The master key source, reading a passphrase file or variable now. `supplied` is the program's
    /// passphrase for [`SoftwareMaster::Supplied`] (ignored otherwise).
    pub fn resolve(&self, supplied: Option<Zeroizing<String>>) -> Result<MasterKeySource> {
        match self {
            Self::KeyFile(p) => Ok(MasterKeySource::KeyFile(p.clone())),
            Self::PassphraseFile(p) => Ok(MasterKeySource::Passphrase(passphrase_from_file(p)?)),
            Self::PassphraseEnv(v) => match std::env::var(v) {
                Ok(p) if !p.trim().is_empty() => Ok(MasterKeySource::Passphrase(Zeroizing::new(p))),
                _ => Err(bad(format!(
                    "the environment variable {v} (the software KMS passphrase) is not set"
                ))),
            },
            Self::Passphrase(p) if p.as_str() == MASK => Err(bad(
                "the software KMS passphrase is masked ('***'); a confidential configuration cannot be \
                 used to open the KMS",
            )),
            Self::Passphrase(p) if p.is_empty() => Err(bad("the software KMS passphrase is empty")),
            Self::Passphrase(p) => Ok(MasterKeySource::Passphrase(p.clone())),
            Self::Supplied => match supplied {
                Some(p) if !p.is_empty() => Ok(MasterKeySource::Passphrase(p)),
                Some(_) => Err(bad("the software KMS passphrase is empty")),
                None => Err(bad(
                    "the software KMS needs its master key: set key-file, passphrase-file, passphrase-env \
                     or passphrase in the KMS configuration (or TRESOR_KMS_KEY_FILE or \
                     TRESOR_KMS_PASSPHRASE), or pass the passphrase when opening",
                )),
            },
        }
    }
}

/// Read a passphrase file: its first line, without the line ending (the rest of the file is ignored).
pub fn passphrase_from_file(path: &Path) -> Result<Zeroizing<String>> {
    let io = |e: std::io::Error| {
        Error::new(
            ErrorKind::Io,
            format!("cannot read the passphrase file '{}': {e}", path.display()),
        )
    };
    if std::fs::metadata(path).map_err(io)?.is_dir() {
        return Err(Error::new(
            ErrorKind::Io,
            format!("the passphrase file '{}' is a directory", path.display()),
        ));
    }
    let bytes = Zeroizing::new(std::fs::read(path).map_err(io)?);
    let text = core::str::from_utf8(&bytes).map_err(|_| {
        bad(format!(
            "the passphrase file '{}' is not UTF-8 text",
            path.display()
        ))
    })?;
    let first = text.split('\n').next().unwrap_or("");
    let pw = Zeroizing::new(first.strip_suffix('\r').unwrap_or(first).to_string());
    if pw.is_empty() {
        return Err(bad(format!(
            "the passphrase file '{}' is empty (its first line is the passphrase)",
            path.display()
        )));
    }
    Ok(pw)
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

/// Configuration of the AWS KMS driver (`type = aws`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsConfig {
    /// `region`, e.g. `us-east-1`.
    pub region: String,
    /// `multi-region-key`: create multi-region keys (replication is the operator's job).
    pub multi_region_key: bool,
    /// `endpoint-override`: another endpoint than AWS's (an emulator or a VPC endpoint).
    pub endpoint_override: Option<String>,
    /// `custom-tags`: tags added to every key the driver creates.
    pub custom_tags: BTreeMap<String, String>,
    /// `audit-logging`.
    pub audit_logging: bool,
}

/// Configuration of the GCP Cloud KMS driver (`type = gcp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcpConfig {
    /// `location-id`, e.g. `us-east1` or `global`.
    pub location_id: String,
    /// `project-id`.
    pub project_id: String,
    /// `key-ring-id`.
    pub key_ring_id: String,
    /// `endpoint-override`: a REST base URL (a test server); anonymous credentials are then used.
    pub endpoint_override: Option<String>,
    /// `audit-logging`.
    pub audit_logging: bool,
}

/// Where the PKCS#11 user PIN is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinSource {
    /// `pin-env`: the name of an environment variable holding the PIN.
    Env(String),
    /// `pin-file`: a file holding the PIN; surrounding whitespace is ignored.
    File(PathBuf),
}

/// Configuration of the PKCS#11 driver (`type = pkcs11`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkcs11Config {
    /// `module-path`: the PKCS#11 module (`.so`).
    pub module_path: PathBuf,
    /// `token-label`: the token to use (slot ids can change; labels do not).
    pub token_label: String,
    /// `pin-env` or `pin-file`.
    pub pin: PinSource,
    /// `session-pool-size`: logged-in sessions kept open (at least 1).
    pub session_pool_size: usize,
    /// `audit-logging`.
    pub audit_logging: bool,
}

impl Pkcs11Config {
    /// A configuration with the default pool size and audit logging off.
    pub fn new(
        module_path: impl Into<PathBuf>,
        token_label: impl Into<String>,
        pin: PinSource,
    ) -> Self {
        Self {
            module_path: module_path.into(),
            token_label: token_label.into(),
            pin,
            session_pool_size: DEFAULT_SESSION_POOL_SIZE,
            audit_logging: false,
        }
    }
}

/// The configuration of one KMS driver (Canton's `crypto.kms` block).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KmsConfig {
    /// `type = software`.
    Software(SoftwareConfig),
    /// `type = aws`.
    Aws(AwsConfig),
    /// `type = gcp`.
    Gcp(GcpConfig),
    /// `type = pkcs11`.
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

/// The one error for a KMS type whose driver is not compiled into this build (it names the cargo
/// feature), or for a type tresor has no driver for.
pub fn not_compiled_in(kms_type: &str) -> Error {
    match feature_for(kms_type) {
        Some(feature) => Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "KMS type '{kms_type}': the {kms_type} driver is not built into this version of tresor; it \
                 needs the cargo feature '{feature}' of the tresor crate"
            ),
        ),
        None => Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "unknown KMS type '{kms_type}'; known: {}",
                KMS_TYPES.join(", ")
            ),
        ),
    }
}

fn bad(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, message.into())
}

/// What a `kms` block holds: a configuration tresor can build, or Canton's `type = driver` (a plug-in
/// the program supplies; `name` as given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KmsBlock {
    Config(KmsConfig),
    Driver(Option<String>),
}

impl KmsConfig {
    /// Canton's `type` of this configuration.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Software(_) => "software",
            Self::Aws(_) => "aws",
            Self::Gcp(_) => "gcp",
            Self::Pkcs11(_) => "pkcs11",
        }
    }

    /// Canton's `audit-logging`.
    pub fn audit_logging(&self) -> bool {
        match self {
            Self::Software(c) => c.audit_logging,
            Self::Aws(c) => c.audit_logging,
            Self::Gcp(c) => c.audit_logging,
            Self::Pkcs11(c) => c.audit_logging,
        }
    }

    /// Read a `kms` block of a configuration tree (the one reader every path uses). Relative paths are
    /// resolved against `base` when given, kept as written otherwise.
    pub(crate) fn read(obj: &Obj<'_>, base: Option<&Path>) -> Result<KmsBlock> {
        let (ty, line) = obj.string("type")?.ok_or_else(|| {
            obj.err(
                obj.node.line,
                format!(
                    "{} needs a 'type' ({}; driver is Canton's type for plug-ins)",
                    obj.name,
                    KMS_TYPES.join(", ")
                ),
            )
        })?;
        let ty = ty.to_ascii_lowercase();
        let path = |key: &str| -> Result<Option<PathBuf>> {
            Ok(obj.string(key)?.map(|(s, _)| match base {
                Some(b) => b.join(s),
                None => PathBuf::from(s),
            }))
        };
        let text = |key: &str| -> Result<Option<String>> { Ok(obj.string(key)?.map(|(s, _)| s)) };
        let need = |key: &str| -> Result<String> {
            text(key)?.ok_or_else(|| {
                obj.err(
                    obj.node.line,
                    format!("{} of type '{ty}' needs '{key}'", obj.name),
                )
            })
        };
        let audit_logging = obj.boolean("audit-logging")?.unwrap_or(false);
        let config = match ty.as_str() {
            "driver" => {
                // The other keys belong to the program's driver, which reads its own configuration.
                return Ok(KmsBlock::Driver(text("name")?));
            }
            "software" => {
                obj.check_keys(&[
                    "type",
                    "path",
                    "key-file",
                    "passphrase-file",
                    "passphrase-env",
                    "passphrase",
                    "audit-logging",
                ])?;
                let mut sources = Vec::new();
                if let Some(p) = path("key-file")? {
                    sources.push(("key-file", SoftwareMaster::KeyFile(p)));
                }
                if let Some(p) = path("passphrase-file")? {
                    sources.push(("passphrase-file", SoftwareMaster::PassphraseFile(p)));
                }
                if let Some(v) = text("passphrase-env")? {
                    sources.push(("passphrase-env", SoftwareMaster::PassphraseEnv(v)));
                }
                if let Some(p) = text("passphrase")? {
                    sources.push(("passphrase", SoftwareMaster::Passphrase(Zeroizing::new(p))));
                }
                if sources.len() > 1 {
                    let names: Vec<&str> = sources.iter().map(|(n, _)| *n).collect();
                    let line = obj.get(names[1]).map_or(obj.node.line, |n| n.line);
                    return Err(obj.err(
                        line,
                        format!("{} sets both {}; use one", obj.name, names.join(" and ")),
                    ));
                }
                let master = sources.pop().map_or(SoftwareMaster::Supplied, |(_, m)| m);
                KmsConfig::Software(SoftwareConfig {
                    path: path("path")?.unwrap_or_else(|| match base {
                        Some(b) => b.join("tresor-kms.db"),
                        None => PathBuf::from("tresor-kms.db"),
                    }),
                    master,
                    audit_logging,
                })
            }
            "aws" => {
                // Canton's `retries` and `disable-ssl-verification` are accepted and not used: tresor's
                // retry layer follows Canton's defaults, and TLS verification is always on.
                obj.check_keys(&[
                    "type",
                    "region",
                    "multi-region-key",
                    "endpoint-override",
                    "custom-tags",
                    "audit-logging",
                    "retries",
                    "disable-ssl-verification",
                ])?;
                KmsConfig::Aws(AwsConfig {
                    region: need("region")?,
                    multi_region_key: obj.boolean("multi-region-key")?.unwrap_or(false),
                    endpoint_override: text("endpoint-override")?,
                    custom_tags: custom_tags(obj)?,
                    audit_logging,
                })
            }
            "gcp" => {
                obj.check_keys(&[
                    "type",
                    "location-id",
                    "project-id",
                    "key-ring-id",
                    "endpoint-override",
                    "audit-logging",
                    "retries",
                ])?;
                KmsConfig::Gcp(GcpConfig {
                    location_id: need("location-id")?,
                    project_id: need("project-id")?,
                    key_ring_id: need("key-ring-id")?,
                    endpoint_override: text("endpoint-override")?,
                    audit_logging,
                })
            }
            "pkcs11" => {
                obj.check_keys(&[
                    "type",
                    "module-path",
                    "token-label",
                    "pin-file",
                    "pin-env",
                    "session-pool-size",
                    "audit-logging",
                    "retries",
                ])?;
                let pin = match (text("pin-env")?, path("pin-file")?) {
                    (Some(v), None) => PinSource::Env(v),
                    (None, Some(p)) => PinSource::File(p),
                    (Some(_), Some(_)) => {
                        let line = obj.get("pin-env").map_or(obj.node.line, |n| n.line);
                        return Err(obj.err(
                            line,
                            format!("{} sets both pin-file and pin-env; use one", obj.name),
                        ));
                    }
                    (None, None) => {
                        return Err(obj.err(
                            obj.node.line,
                            format!(
                                "{} of type 'pkcs11' needs one of 'pin-file', 'pin-env'",
                                obj.name
                            ),
                        ));
                    }
                };
                let module_path = path("module-path")?.ok_or_else(|| {
                    obj.err(
                        obj.node.line,
                        format!("{} of type 'pkcs11' needs 'module-path'", obj.name),
                    )
                })?;
                let mut c = Pkcs11Config::new(module_path, need("token-label")?, pin);
                if let Some(n) = obj.number("session-pool-size")? {
                    if n == 0 {
                        let line = obj
                            .get("session-pool-size")
                            .map_or(obj.node.line, |n| n.line);
                        return Err(obj.err(line, "session-pool-size must be at least 1"));
                    }
                    c.session_pool_size = usize::try_from(n).unwrap_or(usize::MAX);
                }
                c.audit_logging = audit_logging;
                KmsConfig::Pkcs11(c)
            }
            other => {
                return Err(obj.err(
                    line,
                    format!(
                        "unknown KMS type '{other}' in {}; accepted: {}, driver",
                        obj.name,
                        KMS_TYPES.join(", ")
                    ),
                ));
            }
        };
        Ok(KmsBlock::Config(config))
    }

    /// The configuration as HOCON `key = value` lines with Canton's names, `type` first. With
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
                    SoftwareMaster::Supplied => {}
                }
                w.bool("audit-logging", c.audit_logging);
            }
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
            Self::Gcp(c) => {
                w.string("location-id", &c.location_id);
                w.string("project-id", &c.project_id);
                w.string("key-ring-id", &c.key_ring_id);
                if let Some(e) = &c.endpoint_override {
                    w.string("endpoint-override", e);
                }
                w.bool("audit-logging", c.audit_logging);
            }
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

    /// Read a KMS configuration from HOCON text: what [`to_config_text`](Self::to_config_text) writes,
    /// a driver's `config = { … }` block as Canton renders it (HOCON or JSON), or the same keys written
    /// by hand. Relative paths are kept as written (they are relative to the working directory).
    /// Unknown keys, missing required keys and bad values are errors naming the line.
    pub fn from_config_text(text: &str) -> Result<Self> {
        let root = crate::conf::hocon::parse(text).map_err(|e| {
            Error::new(
                ErrorKind::MalformedData,
                format!("KMS configuration:{}: {}", e.line, e.message),
            )
        })?;
        let obj = Obj {
            node: &root,
            origin: "KMS configuration",
            name: "the KMS configuration".to_string(),
        };
        match Self::read(&obj, None)? {
            KmsBlock::Config(c) => Ok(c),
            KmsBlock::Driver(_) => Err(bad(
                "the KMS configuration has type 'driver': a driver's configuration names a KMS tresor \
                 builds (software, aws, gcp, pkcs11)",
            )),
        }
    }
}

/// `custom-tags`: an object of names to string values (`custom-tags { team = ops }` or dotted keys).
fn custom_tags(obj: &Obj<'_>) -> Result<BTreeMap<String, String>> {
    let Some(node) = obj.get("custom-tags") else {
        return Ok(BTreeMap::new());
    };
    let Value::Object(fields) = &node.value else {
        return Err(obj.err(
            node.line,
            format!(
                "'custom-tags' in {} must be an object of tag names to values",
                obj.name
            ),
        ));
    };
    fields
        .iter()
        .map(|(k, v): &(String, Node)| match &v.value {
            Value::Str(s) | Value::Num(s) => Ok((k.clone(), s.clone())),
            Value::Bool(b) => Ok((k.clone(), b.to_string())),
            other => Err(obj.err(
                v.line,
                format!("custom tag '{k}' must be a string, not {}", other.kind()),
            )),
        })
        .collect()
}

/// Open the software KMS `c` describes; `supplied` is the program's passphrase when the
/// configuration does not say where the master key is.
pub(crate) async fn open_software(
    c: &SoftwareConfig,
    supplied: Option<Zeroizing<String>>,
) -> Result<SoftwareKms> {
    SoftwareKms::open(&c.path, c.master.resolve(supplied)?).await
}

/// Create the driver `config` describes (Canton's `DriverFactory.create`). The driver is returned
/// without layers; wrap it with [`layered`](super::layered) for retry, rate limits, audit and health.
/// A driver that is not compiled into this build is [`not_compiled_in`].
pub async fn build(config: &KmsConfig) -> Result<Arc<dyn KmsDriver>> {
    match config {
        KmsConfig::Software(c) => Ok(Arc::new(open_software(c, None).await?)),
        #[cfg(feature = "aws")]
        KmsConfig::Aws(c) => Ok(Arc::new(super::aws::AwsKms::new(c.clone()).await?)),
        #[cfg(feature = "gcp")]
        KmsConfig::Gcp(c) => Ok(Arc::new(super::gcp::GcpKms::connect(c.clone()).await?)),
        #[cfg(feature = "pkcs11")]
        KmsConfig::Pkcs11(c) => Ok(Arc::new(super::pkcs11::Pkcs11Kms::open(c.clone()).await?)),
        #[allow(unreachable_patterns)]
        other => Err(not_compiled_in(other.type_name())),
    }
}

// --- writing --------------------------------------------------------------------------------------

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
    fn path(&mut self, key: &str, value: &Path) {
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
        let mut c = Pkcs11Config::new(
            "/usr/lib/softhsm/libsofthsm2.so",
            "tresor",
            PinSource::File("/run/secrets/pin".into()),
        );
        c.session_pool_size = 7;
        vec![
            software(SoftwareMaster::KeyFile("/etc/tresor/kms.key".into())),
            software(SoftwareMaster::PassphraseFile("pass.txt".into())),
            software(SoftwareMaster::PassphraseEnv(
                "TRESOR_KMS_PASSPHRASE".into(),
            )),
            software(SoftwareMaster::Passphrase(Zeroizing::new(
                "s3cret \"quoted\" \\ pass#word".into(),
            ))),
            software(SoftwareMaster::Supplied),
            KmsConfig::Aws(AwsConfig {
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
            }),
            KmsConfig::Gcp(GcpConfig {
                location_id: "us-east1".into(),
                project_id: "gcp-kms-testing".into(),
                key_ring_id: "canton-test-keys-2023".into(),
                endpoint_override: None,
                audit_logging: false,
            }),
            KmsConfig::Pkcs11(c),
            KmsConfig::Pkcs11(Pkcs11Config::new(
                "/opt/hsm.so",
                "label",
                PinSource::Env("HSM_PIN".into()),
            )),
        ]
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
    fn json_as_canton_renders_a_config_block_reads_too() {
        let c = KmsConfig::from_config_text(
            r#"{"type":"aws","region":"eu-west-1","custom-tags":{"team":"ops","cost.center":"42"},"audit-logging":true}"#,
        )
        .expect("JSON is HOCON");
        let KmsConfig::Aws(a) = c else {
            panic!("not AWS: {c:?}");
        };
        assert_eq!(a.region, "eu-west-1");
        assert_eq!(
            a.custom_tags.get("cost.center").map(String::as_str),
            Some("42")
        );
        assert!(a.audit_logging);
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
        let e = KmsConfig::from_config_text("type = aws\n").expect_err("must fail");
        assert!(e.message().contains("'region'"), "{e}");
        let e = KmsConfig::from_config_text("path = x\n").expect_err("must fail");
        assert!(e.message().contains("'type'"), "{e}");
        let e = KmsConfig::from_config_text("type = software\nkey-file = a\npassphrase-file = b\n")
            .expect_err("two master keys");
        assert!(e.message().contains("key-file and passphrase-file"), "{e}");
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
    fn a_driver_that_is_not_compiled_in_has_one_error() {
        for (ty, feature) in [("aws", "aws"), ("gcp", "gcp"), ("pkcs11", "pkcs11")] {
            assert_eq!(feature_for(ty), Some(feature));
            let e = not_compiled_in(ty);
            assert!(
                e.message().contains(&format!("cargo feature '{feature}'")),
                "{e}"
            );
        }
        assert!(is_compiled_in("software"));
        assert!(KmsConfig::from_config_text("type = hsm9000\n").is_err());
        if !is_compiled_in("aws") {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let c = KmsConfig::from_config_text("type = aws\nregion = us-east-1\n").expect("reads");
            let e = rt.block_on(build(&c)).err().expect("not compiled in");
            assert_eq!(e.message(), not_compiled_in("aws").message());
        }
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

    /// A passphrase file is read the same way by every path: its first line (it used to be the whole
    /// file on the driver-config path, which then failed on a KMS the TOML path had created).
    #[test]
    fn a_multi_line_passphrase_file_is_its_first_line() {
        let dir = std::env::temp_dir().join(format!(
            "tresor-registry-pw-{}-{}",
            std::process::id(),
            crate::util::now_ms()
        ));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let f = dir.join("pw");
        std::fs::write(&f, "correct horse\r\nsecond line, not part of it\n").expect("write");
        let got = SoftwareMaster::PassphraseFile(f.clone())
            .resolve(None)
            .expect("reads");
        let MasterKeySource::Passphrase(p) = got else {
            panic!("not a passphrase");
        };
        assert_eq!(p.as_str(), "correct horse");
        std::fs::write(&f, "\nsecond\n").expect("write");
        let e = passphrase_from_file(&f).expect_err("empty first line");
        assert!(e.message().contains("is empty"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
