//! Opening the store and the vault as a [`Config`] says.

use std::path::PathBuf;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::{Config, KmsSettings, KmsType, invalid, sqlite_path};
use crate::audit::AuditLog;
use crate::error::{Error, ErrorKind, Result};
use crate::kms::registry::{KmsConfig, SoftwareConfig};
use crate::kms::software::{MasterKeySource, SoftwareKms};
use crate::kms::{KmsDriver, LayerConfig};
use crate::store::Store;
use crate::util::redact_url;
use crate::vault::{Mode, ProgressFn, Vault, VaultOptions};

/// Options of [`open`] (a builder: `OpenOptions::new().create(true)`).
#[derive(Default, Clone)]
#[non_exhaustive]
pub struct OpenOptions {
    create: bool,
    audit_log_file: Option<PathBuf>,
    kms_passphrase: Option<Zeroizing<String>>,
    progress: Option<ProgressFn>,
    max_retries: Option<u32>,
    driver: Option<Arc<dyn KmsDriver>>,
}

impl OpenOptions {
    /// The defaults: missing files are errors, the audit log where the configuration says, no
    /// passphrase, no progress callback, Canton's retry policy, the KMS the configuration names.
    pub fn new() -> Self {
        Self::default()
    }

    /// Create the store file and the software KMS file when missing (what `tresor init` does);
    /// otherwise a missing file is an error naming it.
    pub fn create(mut self, create: bool) -> Self {
        self.create = create;
        self
    }

    /// Where the KMS audit log goes (overrides `KMS_LOG_FILE_NAME` and the default next to the config
    /// file).
    pub fn audit_log_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.audit_log_file = Some(path.into());
        self
    }

    /// The software KMS passphrase when the configuration does not say where to find it (no key file,
    /// passphrase file or `TRESOR_KMS_PASSPHRASE`; see [`Config::needs_kms_passphrase`]). Ignored
    /// otherwise.
    pub fn kms_passphrase(mut self, passphrase: Zeroizing<String>) -> Self {
        self.kms_passphrase = Some(passphrase);
        self
    }

    /// A progress callback for long start-up migrations.
    pub fn progress(mut self, progress: ProgressFn) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Give up on a transiently failing KMS after `n` retries (default: Canton's, without limit). The
    /// CLI uses 10.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = Some(n);
        self
    }

    /// A KMS driver supplied by the program (e.g. one written in C, or a Canton driver's backend). The
    /// configuration's `kms` block must then be absent or `type = "driver"`; the driver is used as the
    /// KMS (wrapper key in envelope mode, key holder in external mode), with the driver layers (retry,
    /// rate limits, bounds, health tracking, and the audit log with `audit-logging = true`).
    pub fn driver(mut self, driver: Arc<dyn KmsDriver>) -> Self {
        self.driver = Some(driver);
        self
    }
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

/// What the KMS of the vault will be.
enum Plan<'a> {
    /// Clear mode: no KMS.
    None,
    /// The caller's driver.
    Caller(Arc<dyn KmsDriver>),
    /// A cloud or HSM driver built from the configuration.
    Registry(&'a KmsConfig, &'a KmsSettings),
    /// The software KMS, with its master key.
    Software(&'a SoftwareConfig, MasterKeySource),
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
        (Some(_), Some(kms)) if !matches!(kms.kind(), KmsType::Driver(_)) => {
            return Err(invalid(format!(
                "{}: the configuration sets KMS type '{}', but the program passed its own KMS driver \
                 (a driver from the program); remove the kms block or set type = \"driver\"",
                kms.origin(),
                kms.kind().as_str()
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
        (_, None, Some(kms)) => match (kms.config(), kms.software()) {
            (_, Some(soft)) => {
                if !create && !soft.path.exists() {
                    return Err(Error::new(
                        ErrorKind::Io,
                        format!(
                            "the software KMS file '{}' does not exist (check [kms] path; a new KMS file is \
                             made only when opening with create set)",
                            soft.path.display()
                        ),
                    ));
                }
                Plan::Software(soft, soft.master.resolve(kms_passphrase)?)
            }
            (Some(c), None) => Plan::Registry(c, kms),
            (None, None) => return Err(Error::internal("no driver for the configured KMS type")),
        },
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
                "the key store '{}' does not exist (check [store] url; a new store is made only when opening with create set)",
                p.display()
            ),
        ));
    }

    let mut software_kms = None;
    let (mut kms, layered_always): (Option<Arc<dyn KmsDriver>>, bool) = match plan {
        Plan::None => (None, false),
        Plan::Caller(d) => (Some(d), true),
        Plan::Registry(rc, kms) => {
            let what = format!("{} KMS ({})", kms.kind().as_str(), kms.origin());
            let d = crate::kms::registry::build(rc)
                .await
                .map_err(context(&what))?;
            (Some(d), true)
        }
        Plan::Software(soft, master) => {
            let what = format!(
                "software KMS '{}' (master key: {})",
                soft.path.display(),
                soft.master.describe()
            );
            let soft = Arc::new(
                SoftwareKms::open(&soft.path, master)
                    .await
                    .map_err(context(&what))?,
            );
            software_kms = Some(soft.clone());
            (Some(soft as Arc<dyn KmsDriver>), false)
        }
    };
    let store = match Store::open_with(&url, create).await {
        Ok(s) => s,
        Err(e) => {
            if let Some(d) = &kms {
                d.close().await;
            }
            return Err(context(&format!("key store {}", redact_url(&url)))(e));
        }
    };
    let audit_logging = cfg.kms.as_ref().is_some_and(KmsSettings::audit_logging);
    let audit = if audit_logging && kms.is_some() {
        let opened = cfg
            .audit_log_config(audit_log_file.as_deref())
            .and_then(|audit| {
                let what = format!("KMS audit log '{}'", audit.path.display());
                AuditLog::open(audit).map_err(context(&what))
            });
        match opened {
            Ok(log) => Some(Arc::new(log)),
            Err(e) => {
                store.close().await;
                if let Some(d) = &kms {
                    d.close().await;
                }
                return Err(e);
            }
        }
    } else {
        None
    };
    if let Some(d) = kms.as_mut() {
        // The local software KMS needs no retry, rate limits or health tracking; every driver gets
        // Canton's bounds (the bounds layer is the one place they are checked).
        let mut layers = if audit.is_some() || layered_always {
            LayerConfig::defaults_for(d.as_ref())
        } else {
            LayerConfig::minimal()
        };
        if let Some(log) = &audit {
            layers = layers.with_audit(log.clone());
        }
        if let (Some(r), Some(n)) = (layers.retry.as_mut(), max_retries) {
            r.failures.max_retries = Some(n);
        }
        *d = crate::kms::layered(d.clone(), layers);
    }
    let mut options = VaultOptions::new(mode)
        .role(cfg.role())
        .cache(cfg.cache)
        .audit_key_use(cfg.audit_key_use);
    if let Some(p) = progress {
        options = options.progress(p);
    }
    if let Some(log) = audit {
        options = options.audit_log(log);
    }
    // A failure closes what was opened (connections, checkpointed files) before it is returned.
    let vault = match Vault::open_store(store.clone(), kms.clone(), options).await {
        Ok(v) => v,
        Err(e) => {
            store.close().await;
            if let Some(d) = &kms {
                d.close().await;
            }
            return Err(context("opening the key store")(e));
        }
    };
    Ok(Opened {
        vault,
        software_kms,
    })
}

impl crate::vault::blocking::BlockingVault {
    /// Open the vault a configuration describes, exactly as [`open`] does (the same KMS driver with the
    /// same retry, rate-limit, bounds, health and audit layers), on a runtime of its own. This is what
    /// every binding calls.
    pub fn open(config: &Config, options: OpenOptions) -> Result<Self> {
        let rt = crate::vault::blocking::runtime()?;
        let opened = rt.block_on(open(config, options))?;
        Ok(Self::from_runtime(rt, opened.vault))
    }
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
            .block_on(open(&cfg, OpenOptions::new().create(true)))
            .expect("creates");
        assert!(opened.software_kms.is_some());
        assert_eq!(
            rt.block_on(opened.vault.list_keys()).expect("list").len(),
            0
        );
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
            .block_on(open(&cfg, OpenOptions::new().create(true)))
            .expect_err("no passphrase");
        assert!(
            e.message().contains("pass the passphrase when opening"),
            "{e}"
        );
        let opened = rt
            .block_on(open(
                &cfg,
                OpenOptions::new()
                    .create(true)
                    .kms_passphrase(Zeroizing::new("typed".into())),
            ))
            .expect("opens");
        let soft = opened.software_kms.clone().expect("software KMS");
        drop(opened);
        // A driver from the program conflicts with a [kms] block of another type.
        let e = rt
            .block_on(open(&cfg, OpenOptions::new().driver(soft.clone())))
            .expect_err("conflict");
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(
            e.message().contains("'software'") && e.message().contains("a driver from the program"),
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
                OpenOptions::new().driver(soft).audit_log_file(log.clone()),
            ))
            .expect("opens with the program's driver");
        assert!(opened.software_kms.is_none());
        assert!(log.exists(), "audit-logging = true layers the driver");
        let dbg = format!(
            "{:?}",
            OpenOptions::new().kms_passphrase(Zeroizing::new("secret".into()))
        );
        assert!(!dbg.contains("secret"), "{dbg}");
        let _ = std::fs::remove_dir_all(&d);
    }

    /// The two readers of a KMS configuration are one: a software KMS created through the TOML path
    /// opens through a driver's config text, and the reverse, with a multi-line passphrase file (the
    /// driver path used to read the whole file and fail with wrong_password).
    #[test]
    fn a_kms_created_through_one_path_opens_through_the_other() {
        let d = tmp("twopaths");
        std::fs::write(d.join("pw"), "correct horse battery staple\nsecond line\n").expect("write");
        let toml = Config::from_toml_str(
            "[store]\nurl = \"sqlite://t.db\"\n[private-key-store.encryption]\ntype = \"kms\"\n\
             [kms]\ntype = \"software\"\npath = \"k.db\"\npassphrase-file = \"pw\"\n",
            &d,
            "<config string>",
        )
        .expect("parses");
        let rt = rt();
        let opened = rt
            .block_on(open(&toml, OpenOptions::new().create(true)))
            .expect("created through the TOML path");
        let wrapper = rt
            .block_on(opened.vault.wrapper_key_id())
            .expect("wrapper key");
        rt.block_on(opened.vault.close());
        let text = format!(
            "type = software\npath = {}\npassphrase-file = {}\n",
            crate::util::quote(&d.join("k.db").display().to_string()),
            crate::util::quote(&d.join("pw").display().to_string())
        );
        let cfg = crate::kms::registry::KmsConfig::from_config_text(&text).expect("reads");
        let driver = rt
            .block_on(crate::kms::registry::build(&cfg))
            .expect("the same KMS opens through the driver-config path");
        rt.block_on(driver.key_exists_and_is_active(&wrapper))
            .expect("and holds the wrapper key");
        // The other way: a KMS made through the driver-config path opens through a tresor.toml.
        let text2 = format!(
            "type = software\npath = {}\npassphrase-file = {}\n",
            crate::util::quote(&d.join("k2.db").display().to_string()),
            crate::util::quote(&d.join("pw").display().to_string())
        );
        let cfg2 = crate::kms::registry::KmsConfig::from_config_text(&text2).expect("reads");
        let id = rt.block_on(async {
            let d2 = crate::kms::registry::build(&cfg2).await.expect("creates");
            d2.generate_symmetric_key(Some("made-by-the-driver-path"))
                .await
                .expect("key")
        });
        let toml2 = Config::from_toml_str(
            "[store]\nurl = \"sqlite://t2.db\"\n[private-key-store.encryption]\ntype = \"kms\"\n\
             wrapper-key-id = \"WRAPPER\"\n[kms]\ntype = \"software\"\npath = \"k2.db\"\npassphrase-file = \"pw\"\n"
                .replace("WRAPPER", id.as_str())
                .as_str(),
            &d,
            "<config string>",
        )
        .expect("parses");
        let opened = rt
            .block_on(open(&toml2, OpenOptions::new().create(true)))
            .expect("the driver path's KMS opens through the TOML path");
        assert_eq!(
            rt.block_on(opened.vault.wrapper_key_id()).expect("wrapper"),
            id
        );
        let _ = std::fs::remove_dir_all(&d);
    }
}
