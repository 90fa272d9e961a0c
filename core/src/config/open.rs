//! Opening the store and the vault as a [`Config`] says.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use zeroize::Zeroizing;

use super::{Config, KmsSettings, KmsType, PASSPHRASE_ENV, invalid, redact_url, sqlite_path};
use crate::audit::AuditLog;
use crate::error::{Error, ErrorKind, Result};
use crate::kms::registry::KmsConfig as RegistryConfig;
use crate::kms::software::{MasterKeySource, SoftwareKms};
use crate::kms::{KmsDriver, LayerConfig};
use crate::store::Store;
use crate::vault::{Mode, ProgressFn, Vault, VaultOptions};

/// Options of [`open`].
#[derive(Default)]
pub struct OpenOptions {
    /// Create the store file and the software KMS file when missing (`tresor init`); otherwise a
    /// missing file is an error naming it.
    pub create: bool,
    /// Where the KMS audit log goes (overrides `KMS_LOG_FILE_NAME` and the default next to the config
    /// file).
    pub audit_log_file: Option<PathBuf>,
    /// The software KMS passphrase when the config does not say where to find it (no key file,
    /// passphrase file or `TRESOR_KMS_PASSPHRASE`; see [`Config::needs_kms_passphrase`]). Ignored
    /// otherwise.
    pub kms_passphrase: Option<Zeroizing<String>>,
    /// A progress callback for long start-up migrations.
    pub progress: Option<ProgressFn>,
    /// Maximum retries of the retry layer for cloud, HSM and caller drivers (`None` = Canton's default,
    /// unlimited). The CLI passes `Some(10)`.
    pub max_retries: Option<u32>,
    /// A KMS driver supplied by the caller (e.g. a driver written in C). When set, the config's `[kms]`
    /// block must be absent or `type = "driver"`; the driver is used as the KMS (wrapper key in
    /// envelope mode, key holder in external mode). When `audit-logging = true` it gets the driver
    /// layers too (retry, rate limits, audit log, health tracking).
    pub driver: Option<Arc<dyn KmsDriver>>,
}

impl core::fmt::Debug for OpenOptions {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OpenOptions")
            .field("create", &self.create)
            .field("audit_log_file", &self.audit_log_file)
            .field(
                "kms_passphrase",
                &self.kms_passphrase.as_ref().map(|_| "***"),
            )
            .field("progress", &self.progress.as_ref().map(|_| "callback"))
            .field("max_retries", &self.max_retries)
            .field(
                "driver",
                &self.driver.as_ref().map(|d| d.provider().to_string()),
            )
            .finish()
    }
}

/// An open vault and, for the software KMS, its driver (for its call counters).
#[derive(Debug)]
pub struct Opened {
    /// The vault.
    pub vault: Vault,
    /// The software KMS, when the configuration uses it.
    pub software_kms: Option<Arc<SoftwareKms>>,
}

/// Prefix an error with what was being opened, keeping its kind; the error becomes the source.
pub(super) fn context(what: &str) -> impl FnOnce(Error) -> Error + '_ {
    move |e| Error::new(e.kind(), what).with_source(e)
}

/// Read the software KMS passphrase from a file: its first line, without the line ending.
fn passphrase_from_file(path: &Path) -> Result<Zeroizing<String>> {
    let io = |e: std::io::Error| {
        Error::new(
            ErrorKind::Io,
            format!("cannot read password file '{}': {e}", path.display()),
        )
    };
    if std::fs::metadata(path).map_err(io)?.is_dir() {
        return Err(Error::new(
            ErrorKind::Io,
            format!("password file '{}' is a directory", path.display()),
        ));
    }
    let bytes = Zeroizing::new(std::fs::read(path).map_err(io)?);
    let text = core::str::from_utf8(&bytes).map_err(|_| {
        invalid(format!(
            "password file '{}' is not UTF-8 text",
            path.display()
        ))
    })?;
    let first = text.split('\n').next().unwrap_or("");
    let pw = Zeroizing::new(first.strip_suffix('\r').unwrap_or(first).to_string());
    if pw.is_empty() {
        return Err(invalid(format!(
            "password file '{}' is empty",
            path.display()
        )));
    }
    Ok(pw)
}

/// Where the software KMS master key comes from: `TRESOR_KMS_PASSPHRASE` (when
/// [`Config::apply_env`] saw it), the key file, the passphrase file, or the caller's passphrase.
fn master_source(kms: &KmsSettings, given: Option<Zeroizing<String>>) -> Result<MasterKeySource> {
    if kms.passphrase_env {
        return match std::env::var(PASSPHRASE_ENV) {
            Ok(v) if !v.trim().is_empty() => Ok(MasterKeySource::Passphrase(Zeroizing::new(v))),
            _ => Err(invalid(format!(
                "the environment variable {PASSPHRASE_ENV} is no longer set (it was when the \
                 configuration was read)"
            ))),
        };
    }
    if let Some(f) = &kms.key_file {
        return Ok(MasterKeySource::KeyFile(f.clone()));
    }
    if let Some(f) = &kms.passphrase_file {
        return Ok(MasterKeySource::Passphrase(passphrase_from_file(f)?));
    }
    match given {
        Some(p) if !p.is_empty() => Ok(MasterKeySource::Passphrase(p)),
        Some(_) => Err(invalid("the software KMS passphrase is empty")),
        None => Err(invalid(
            "the software KMS needs its master key: set key-file or passphrase-file in [kms], or \
             TRESOR_KMS_KEY_FILE or TRESOR_KMS_PASSPHRASE (a program can pass it in \
             OpenOptions::kms_passphrase)",
        )),
    }
}

/// What the KMS of the vault will be.
enum Plan<'a> {
    /// Clear mode: no KMS.
    None,
    /// The caller's driver.
    Caller(Arc<dyn KmsDriver>),
    /// A cloud or HSM driver from the registry.
    Registry(RegistryConfig, &'a KmsSettings),
    /// The software KMS.
    Software(&'a KmsSettings, MasterKeySource),
}

/// Open the store and the vault as configured, running Canton's start-up logic (migrations between
/// modes). The KMS driver is the caller's ([`OpenOptions::driver`]) or built from the configuration:
/// the software KMS, or the registry's AWS, GCP and PKCS#11 drivers when those features are compiled
/// in. A cloud or HSM driver and a caller's driver always get the driver layers (retry, rate limits,
/// health tracking, and the audit log with `audit-logging = true`); the software KMS only with
/// `audit-logging = true`.
///
/// # Errors
///
/// Problems of the configuration itself are found before anything is opened and returned as they are,
/// with no [source](std::error::Error::source) (the mode, a KMS type that is not compiled in or has
/// no driver, missing fields, a caller's driver that conflicts with the `[kms]` block, a store or KMS
/// file that does not exist, the software KMS master key). A failure while opening the KMS, the audit
/// log, the store or the vault keeps the kind of the underlying error, is prefixed with what was being
/// opened, and carries that error as its source.
pub async fn open(cfg: &Config, opts: OpenOptions) -> Result<Opened> {
    let OpenOptions {
        create,
        audit_log_file,
        kms_passphrase,
        progress,
        max_retries,
        driver,
    } = opts;
    let mode = cfg.mode()?;
    match (&driver, &cfg.kms) {
        (Some(_), Some(kms)) if !matches!(kms.kind, KmsType::Driver(_)) => {
            return Err(invalid(format!(
                "{}: the configuration sets KMS type '{}', but the program passed its own KMS driver \
                 (OpenOptions::driver); remove the kms block or set type = \"driver\"",
                kms.origin,
                kms.kind.as_str()
            )));
        }
        (Some(_), _) => {}
        (None, kms) => {
            if let Some(e) = kms.as_ref().and_then(KmsSettings::unsupported) {
                return Err(e);
            }
        }
    }
    // Everything the configuration can get wrong is checked before anything is opened.
    let plan = match (&mode, driver, &cfg.kms) {
        (Mode::Clear, _, _) => Plan::None,
        (_, Some(d), _) => Plan::Caller(d),
        (_, None, Some(kms)) if kms.kind != KmsType::Software => match kms.registry_config()? {
            Some(rc) => Plan::Registry(rc, kms),
            None => return Err(Error::internal("no driver for the configured KMS type")),
        },
        (_, None, Some(kms)) => {
            if !create && !kms.path.exists() {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!(
                        "the software KMS file '{}' does not exist (check [kms] path, or run 'tresor init')",
                        kms.path.display()
                    ),
                ));
            }
            Plan::Software(kms, master_source(kms, kms_passphrase)?)
        }
        (_, None, None) => {
            return Err(invalid(format!(
                "{} mode needs a KMS: add a [kms] block (type = \"software\") or set TRESOR_KMS_TYPE",
                cfg.mode_name()
            )));
        }
    };
    let url = cfg
        .store_url
        .clone()
        .ok_or_else(|| invalid("the key store is not configured"))?;
    if let Some(p) = sqlite_path(&url)
        && !create
        && !p.exists()
    {
        return Err(Error::new(
            ErrorKind::Io,
            format!(
                "the key store '{}' does not exist (check [store] url, or run 'tresor init')",
                p.display()
            ),
        ));
    }

    let mut software_kms = None;
    let (mut kms, layered_always): (Option<Arc<dyn KmsDriver>>, bool) = match plan {
        Plan::None => (None, false),
        Plan::Caller(d) => (Some(d), true),
        Plan::Registry(rc, kms) => {
            let what = format!("{} KMS ({})", kms.kind.as_str(), kms.origin);
            let d = crate::kms::registry::build(&rc)
                .await
                .map_err(context(&what))?;
            (Some(d), true)
        }
        Plan::Software(kms, master) => {
            let what = format!("software KMS '{}'", kms.path.display());
            let soft = Arc::new(
                SoftwareKms::open(&kms.path, master)
                    .await
                    .map_err(context(&what))?,
            );
            software_kms = Some(soft.clone());
            (Some(soft as Arc<dyn KmsDriver>), false)
        }
    };
    let store = Store::open(&url)
        .await
        .map_err(context(&format!("key store {}", redact_url(&url))))?;
    let audit_logging = cfg.kms.as_ref().is_some_and(|k| k.audit_logging);
    if let Some(d) = kms.as_mut()
        && (audit_logging || layered_always)
    {
        let mut layers = LayerConfig::defaults_for(d.as_ref());
        if audit_logging {
            let audit = cfg.audit_log_config(audit_log_file.as_deref())?;
            let what = format!("KMS audit log '{}'", audit.path.display());
            layers = layers.with_audit(Arc::new(AuditLog::open(audit).map_err(context(&what))?));
        }
        if let (Some(r), Some(n)) = (layers.retry.as_mut(), max_retries) {
            r.failures.max_retries = Some(n);
        }
        *d = crate::kms::layered(d.clone(), layers);
    }
    let options = VaultOptions {
        mode,
        role: cfg.role(),
        cache: cfg.cache,
        progress,
    };
    let vault = Vault::open(store, kms, options)
        .await
        .map_err(context("opening the key store"))?;
    Ok(Opened {
        vault,
        software_kms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "tresor-core-config-open-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("mkdir");
        d
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn opens_envelope_store_and_names_missing_files() {
        let d = tmp("envelope");
        let cfg = Config::from_toml_str(
            "[store]\nurl = \"sqlite://t.db\"\n[private-key-store.encryption]\ntype = \"kms\"\n\
             [kms]\ntype = \"software\"\npath = \"k.db\"\npassphrase-file = \"pw\"\n",
            &d,
            "<config string>",
        )
        .expect("parses");
        std::fs::write(d.join("pw"), "correct horse\n").expect("write");
        let rt = rt();
        let e = rt
            .block_on(open(&cfg, OpenOptions::default()))
            .expect_err("no files yet");
        assert!(e.message().contains("k.db' does not exist"), "{e}");
        assert!(std::error::Error::source(&e).is_none());
        let opened = rt
            .block_on(open(
                &cfg,
                OpenOptions {
                    create: true,
                    ..OpenOptions::default()
                },
            ))
            .expect("creates");
        assert!(opened.software_kms.is_some());
        assert_eq!(rt.block_on(opened.vault.list()).expect("list").len(), 0);
        drop(opened);
        rt.block_on(open(&cfg, OpenOptions::default()))
            .expect("reopens");
        // A wrong passphrase is the KMS's error, prefixed and with its source.
        std::fs::write(d.join("pw"), "wrong\n").expect("write");
        let e = rt
            .block_on(open(&cfg, OpenOptions::default()))
            .expect_err("wrong passphrase");
        assert_eq!(e.kind(), ErrorKind::WrongPassword);
        assert!(e.to_string().starts_with("software KMS '"), "{e}");
        assert!(std::error::Error::source(&e).is_some());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn typed_passphrase_and_drivers() {
        let d = tmp("driver");
        let cfg = Config::from_toml_str(
            "[store]\nurl = \"sqlite://t.db\"\n[crypto]\nprovider = \"kms\"\n[kms]\ntype = \"software\"\n",
            &d,
            "<config string>",
        )
        .expect("parses");
        assert!(cfg.needs_kms_passphrase());
        let rt = rt();
        let e = rt
            .block_on(open(
                &cfg,
                OpenOptions {
                    create: true,
                    ..OpenOptions::default()
                },
            ))
            .expect_err("no passphrase");
        assert!(e.message().contains("OpenOptions::kms_passphrase"), "{e}");
        let opened = rt
            .block_on(open(
                &cfg,
                OpenOptions {
                    create: true,
                    kms_passphrase: Some(Zeroizing::new("typed".into())),
                    ..OpenOptions::default()
                },
            ))
            .expect("opens");
        let soft = opened.software_kms.clone().expect("software KMS");
        drop(opened);
        // A driver from the program conflicts with a [kms] block of another type.
        let e = rt
            .block_on(open(
                &cfg,
                OpenOptions {
                    driver: Some(soft.clone()),
                    ..OpenOptions::default()
                },
            ))
            .expect_err("conflict");
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(
            e.message().contains("'software'") && e.message().contains("OpenOptions::driver"),
            "{e}"
        );
        // type = "driver" without a driver is refused, with one it is used.
        let plug = Config::from_toml_str(
            "[store]\nurl = \"sqlite://t.db\"\n[crypto]\nprovider = \"kms\"\n\
             [kms]\ntype = \"driver\"\nname = \"c-kms\"\naudit-logging = true\n",
            &d,
            "<config string>",
        )
        .expect("parses");
        assert!(!plug.needs_kms_passphrase());
        let e = rt
            .block_on(open(&plug, OpenOptions::default()))
            .expect_err("no driver");
        assert!(e.message().contains("<config string>:6:"), "{e}");
        assert!(e.message().contains("'c-kms'"), "{e}");
        let log = d.join("audit.log");
        let opened = rt
            .block_on(open(
                &plug,
                OpenOptions {
                    driver: Some(soft),
                    audit_log_file: Some(log.clone()),
                    ..OpenOptions::default()
                },
            ))
            .expect("opens with the program's driver");
        assert!(opened.software_kms.is_none());
        assert!(log.exists(), "audit-logging = true layers the driver");
        let dbg = format!(
            "{:?}",
            OpenOptions {
                kms_passphrase: Some(Zeroizing::new("secret".into())),
                ..OpenOptions::default()
            }
        );
        assert!(!dbg.contains("secret"), "{dbg}");
        let _ = std::fs::remove_dir_all(&d);
    }
}
