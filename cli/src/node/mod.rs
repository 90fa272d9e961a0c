//! The commands that work on a node's key store: `init`, `config show`, `key …`, `wrapper-key …`,
//! `data-key rotate`, and `sign`/`verify`/`encrypt`/`decrypt --fingerprint`.

mod audit;
mod config_show;
mod crypto;
mod envelope;
mod init;
mod key;
mod kms;
mod store;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tresor::config::{Config, KmsSettings, KmsType, OpenOptions, Opened};
use tresor::kms::KmsKeyId;
use tresor::kms::registry::{KmsConfig, PinSource, SoftwareMaster};
use tresor::vault::{KeyInfo, Mode, Role, Storage};
use tresor::{
    EncryptionAlgorithmSpec, EncryptionKeySpec, ErrorKind, Purpose, SigningAlgorithmSpec,
    SigningKeySpec, SigningKeyUsageSet,
};
use zeroize::Zeroizing;

pub(crate) use audit::{AuditCmd, audit_cmd};
pub(crate) use config_show::{ConfigCmd, config_cmd};
pub(crate) use crypto::{decrypt, encrypt, sign, verify};
pub(crate) use envelope::{DataKeyCmd, WrapperKeyCmd, data_key_cmd, wrapper_key_cmd};
pub(crate) use init::{InitArgs, init};
pub(crate) use key::{KeyCmd, key_cmd};
pub(crate) use kms::{KmsCmd, kms_cmd};
pub(crate) use store::{BackupArgs, StoreCmd, backup, store_cmd};

use crate::config::{self, InitChoices, InitMode, absolute, config_failure};
use crate::files::{self, Mode as FileMode};
use crate::ui::{self, Ui, out, pairs, rfc3339, table};
use crate::{EXIT_ERROR, Failure};

/// What every store command gets.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) sources: config::Sources,
    pub(crate) ui: Ui,
    /// `--kms-log-file-name`: where the KMS audit log goes (before `KMS_LOG_FILE_NAME` and the default).
    pub(crate) kms_log_file: Option<PathBuf>,
}

pub(crate) fn fail(message: impl Into<String>) -> Failure {
    Failure::new(EXIT_ERROR, message)
}

/// The runtime every face of tresor uses for the async vault API.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tresor::runtime().map_err(Failure::from)
}

/// Prefix an error with what was being done, keeping its code.
pub(crate) fn context(what: &str) -> impl FnOnce(tresor::Error) -> Failure + '_ {
    move |e| {
        let f = Failure::from(e);
        Failure::new(f.code, format!("{what}: {}", f.message))
    }
}

// --- opening the store -------------------------------------------------------------------------

/// An error of `tresor::config::open`: a configuration problem (no source) as a config error, a failure
/// of the KMS, the store or the vault with its error code. A missing store or KMS file gets the CLI's
/// advice (the library's message cannot name a command).
fn open_failure(e: tresor::Error, cfg: &Config) -> Failure {
    let missing = e.kind() == ErrorKind::Io && e.message().contains("does not exist");
    let mut f = if std::error::Error::source(&e).is_none() {
        config::config_failure(e)
    } else {
        Failure::from(e)
    };
    if missing {
        if cfg.file().is_some_and(Path::exists) || cfg.canton().is_some() {
            f.message.push_str(
                " (run 'tresor init --use-config' to create the store and the software KMS this configuration \
                 names, or pass --config <file>)",
            );
        } else {
            f.message
                .push_str(" (run 'tresor init' to create a store, or pass --config <file>)");
        }
    }
    f
}

/// Refuse the secret files of the configuration that others can read (as ssh refuses such keys): the
/// software KMS key file or passphrase file, the PKCS#11 PIN file. Clear mode opens no KMS.
pub(crate) fn check_secret_files(cfg: &Config) -> Result<(), Failure> {
    let Some(k) = cfg.kms() else {
        return Ok(());
    };
    if matches!(cfg.mode(), Ok(Mode::Clear)) {
        return Ok(());
    }
    if let Some(s) = k.software() {
        match &s.master {
            SoftwareMaster::KeyFile(p) => files::check_secret_file(p, "software KMS key file")?,
            SoftwareMaster::PassphraseFile(p) => {
                files::check_secret_file(p, "software KMS passphrase file")?;
            }
            _ => {}
        }
    }
    if let Some(KmsConfig::Pkcs11(c)) = k.config()
        && let PinSource::File(p) = &c.pin
    {
        files::check_secret_file(p, "PKCS#11 PIN file")?;
    }
    Ok(())
}

/// A description of where the software KMS master key comes from (no secret).
pub(crate) fn master_source_desc(kms: &KmsSettings) -> String {
    match kms.software().map(|s| &s.master) {
        Some(SoftwareMaster::Supplied) | None => "passphrase asked on the terminal".to_string(),
        Some(m) => m.describe(),
    }
}

/// A one-line description of a cloud or HSM driver's configuration (Canton's names, no secret).
pub(crate) fn driver_desc(kms: &KmsSettings) -> String {
    match kms.config() {
        Some(c) => c
            .to_config_text(true)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(", "),
        None => format!("type = {}", kms.kind().as_str()),
    }
}

/// Open the store and the vault as configured (`tresor::config::open`), asking for the software KMS
/// passphrase on the terminal when the configuration does not say where it is. A command-line tool
/// gives up on an unreachable KMS after 10 retries (about a minute) instead of retrying forever.
pub(crate) async fn open(
    cfg: &Config,
    ui: &Ui,
    create: bool,
    log_file: Option<&Path>,
) -> Result<Opened, Failure> {
    open_with(cfg, ui, create, log_file, None).await
}

/// [`open`], with the software KMS passphrase given (`tresor init`) instead of asked.
pub(crate) async fn open_with(
    cfg: &Config,
    ui: &Ui,
    create: bool,
    log_file: Option<&Path>,
    passphrase: Option<Zeroizing<String>>,
) -> Result<Opened, Failure> {
    // A driver this build lacks: the library's error, with how to build the command with it.
    if let Some(k) = cfg.kms()
        && let Some(e) = k.unsupported()
        && let Some(feature) = tresor::kms::registry::feature_for(k.kind().as_str())
    {
        let mut f = config::config_failure(e);
        f.message.push_str(&format!(
            " (build the tresor command with it: cargo build -p tresor-cli --release --features {feature})"
        ));
        return Err(f);
    }
    check_secret_files(cfg)?;
    // Ask only when the KMS file is there to be opened (otherwise open names the missing file).
    let kms_passphrase = match cfg.kms() {
        _ if passphrase.is_some() => passphrase,
        Some(k)
            if cfg.needs_kms_passphrase()
                && (create || k.software().is_some_and(|s| s.path.exists())) =>
        {
            Some(ui::kms_passphrase()?)
        }
        _ => None,
    };
    let mut options = OpenOptions::new().create(create).max_retries(10);
    if let Some(f) = log_file {
        options = options.audit_log_file(f);
    }
    if let Some(p) = kms_passphrase {
        options = options.kms_passphrase(p);
    }
    if let Some(p) = ui.progress() {
        options = options.progress(p);
    }
    let opened = tresor::config::open(cfg, options).await;
    ui::close_progress_line();
    opened.map_err(|e| open_failure(e, cfg))
}

/// Load the configuration and open the vault; the runtime runs `f` on it.
pub(crate) fn with_vault<T>(
    ctx: &Ctx,
    f: impl AsyncFnOnce(&Opened, &Config) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let cfg = config::load(&ctx.sources)?;
    let rt = runtime()?;
    rt.block_on(async {
        let opened = open(&cfg, &ctx.ui, false, ctx.kms_log_file.as_deref()).await?;
        let r = f(&opened, &cfg).await;
        ui::close_progress_line();
        // Closed before the runtime shuts down: connections end here (the store's write-ahead log is
        // checkpointed into its file), not in the runtime's teardown.
        opened.vault.close().await;
        r
    })
}

pub(crate) const USAGES: &str = "namespace, sequencer-auth, protocol, proof-of-ownership";

pub(crate) fn parse_usage(s: &str) -> Result<SigningKeyUsageSet, Failure> {
    SigningKeyUsageSet::parse_list(s).map_err(|e| {
        fail(format!(
            "--usage '{}': {} (error {} {})",
            s.escape_debug(),
            e.message(),
            e.code(),
            e.kind()
        ))
    })
}

// --- small helpers -----------------------------------------------------------------------------

/// The key `selector` names in the vault: a fingerprint, a unique prefix of one, or a key name
/// ([`tresor::Vault::find_key`]).
pub(crate) async fn find(v: &tresor::Vault, selector: &str) -> Result<KeyInfo, Failure> {
    v.find_key(selector).await.map_err(Failure::from)
}

pub(crate) fn usage_list(u: Option<SigningKeyUsageSet>) -> Value {
    match u {
        Some(u) => Value::Array(u.iter().map(|x| Value::String(x.as_str().into())).collect()),
        None => Value::Null,
    }
}

/// A key as JSON (no secret).
pub(crate) fn key_json(k: &KeyInfo) -> Value {
    json!({
        "fingerprint": k.fingerprint.to_string(),
        "name": k.name,
        "purpose": k.purpose().as_str(),
        "usage": usage_list(k.usage),
        "key_spec": k.spec.as_str(),
        "storage": k.storage.as_str(),
        "kms_key_id": k.kms_key_id.as_ref().map(|i| i.as_str()),
        "created_at": rfc3339(k.created_at),
    })
}

pub(crate) fn storage_desc(s: Storage) -> &'static str {
    match s {
        Storage::Clear => "clear (PKCS#8 in the store)",
        Storage::Sealed => "sealed (envelope encryption)",
        Storage::External => "external (in the KMS)",
    }
}

pub(crate) fn key_pairs(k: &KeyInfo) -> String {
    pairs(&[
        ("fingerprint", k.fingerprint.to_string()),
        ("name", k.name.clone().unwrap_or_else(|| "-".into())),
        ("purpose", k.purpose().as_str().into()),
        (
            "usage",
            k.usage.map_or_else(|| "-".into(), |u| u.to_string()),
        ),
        ("key spec", k.spec.as_str().into()),
        ("storage", storage_desc(k.storage).into()),
        (
            "kms key id",
            k.kms_key_id
                .as_ref()
                .map_or_else(|| "-".into(), |i| i.as_str().to_string()),
        ),
        ("created at", rfc3339(k.created_at)),
    ])
}

pub(crate) fn print_key(ui: &Ui, k: &KeyInfo, with_public: bool) {
    if ui.json {
        let mut v = key_json(k);
        if with_public {
            v["public_key_pem"] = Value::String(k.public_key.to_pem());
        }
        ui.print_json(&v);
    } else {
        let mut s = key_pairs(k);
        if with_public {
            s.push_str(&k.public_key.to_pem());
        }
        out(&s);
    }
}
