//! The commands that work on a node's key store: `init`, `config show`, `key …`, `wrapper-key …`,
//! `data-key rotate`, and `sign`/`verify`/`encrypt`/`decrypt --fingerprint`.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};
use tresor::audit::verify_audit_log;
use tresor::config::{Config, KmsSettings, KmsType, OpenOptions, Opened};
use tresor::kms::KmsKeyId;
use tresor::kms::software::create_key_file;
use tresor::vault::export::{open_export, seal_export};
use tresor::vault::{KeyInfo, Mode, Role, Storage};
use tresor::{
    EncryptionAlgorithmSpec, EncryptionKeySpec, ErrorKind, Fingerprint, SigningAlgorithmSpec,
    SigningKeySpec, SigningKeyUsage, SigningKeyUsageSet,
};

use crate::config::{self, InitChoices, InitMode, absolute, config_failure};
use crate::files::{self, Mode as FileMode};
use crate::ui::{self, Ui, out, pairs, rfc3339, table};
use crate::{EXIT_ERROR, EXIT_INVALID, Failure};

/// What every store command gets.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) sources: config::Sources,
    pub(crate) ui: Ui,
    /// `--kms-log-file-name`: where the KMS audit log goes (before `KMS_LOG_FILE_NAME` and the default).
    pub(crate) kms_log_file: Option<PathBuf>,
}

fn fail(message: impl Into<String>) -> Failure {
    Failure::new(EXIT_ERROR, message)
}

/// A tokio runtime for the async vault API.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            Failure::new(
                crate::EXIT_INTERNAL,
                format!("cannot start the async runtime: {e}"),
            )
        })
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
/// of the KMS, the store or the vault with its error code.
fn open_failure(e: tresor::Error) -> Failure {
    if std::error::Error::source(&e).is_none() {
        config::config_failure(e)
    } else {
        Failure::from(e)
    }
}

/// A description of where the software KMS master key comes from (no secret).
fn master_source_desc(kms: &KmsSettings) -> String {
    if kms.passphrase_from_env() {
        "passphrase from TRESOR_KMS_PASSPHRASE".to_string()
    } else if let Some(f) = kms.key_file() {
        format!("key file {}", f.display())
    } else if let Some(f) = kms.passphrase_file() {
        format!("passphrase file {}", f.display())
    } else {
        "passphrase asked on the terminal".to_string()
    }
}

/// A one-line description of a cloud or HSM driver's configuration (Canton's names, no secret).
fn driver_desc(kms: &KmsSettings) -> String {
    match kms.registry_config() {
        Ok(Some(rc)) => rc
            .to_config_text(true)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(", "),
        Ok(None) => format!("type = {}", kms.kind().as_str()),
        Err(e) => format!("type = {} ({})", kms.kind().as_str(), e),
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
    // Ask only when the KMS file is there to be opened (otherwise open names the missing file).
    let kms_passphrase = match cfg.kms() {
        Some(k) if cfg.needs_kms_passphrase() && (create || k.path().exists()) => {
            Some(ui::kms_passphrase()?)
        }
        _ => None,
    };
    let options = OpenOptions {
        create,
        audit_log_file: log_file.map(Path::to_path_buf),
        kms_passphrase,
        progress: ui.progress(),
        max_retries: Some(10),
        driver: None,
    };
    let opened = tresor::config::open(cfg, options).await;
    ui::close_progress_line();
    opened.map_err(open_failure)
}

/// Load the configuration and open the vault; the runtime runs `f` on it.
fn with_vault<T>(
    ctx: &Ctx,
    f: impl AsyncFnOnce(&Opened, &Config) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let cfg = config::load(&ctx.sources)?;
    let rt = runtime()?;
    rt.block_on(async {
        let opened = open(&cfg, &ctx.ui, false, ctx.kms_log_file.as_deref()).await?;
        let r = f(&opened, &cfg).await;
        ui::close_progress_line();
        r
    })
}

// --- small helpers -----------------------------------------------------------------------------

pub(crate) fn parse_fp(s: &str) -> Result<Fingerprint, Failure> {
    s.parse::<Fingerprint>().map_err(|e| {
        fail(format!(
            "fingerprint '{}': {} (error {} {})",
            s.escape_debug(),
            e.message(),
            e.code(),
            e.kind()
        ))
    })
}

fn usage_list(u: Option<SigningKeyUsageSet>) -> Value {
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
        "purpose": k.purpose.as_str(),
        "usage": usage_list(k.usage),
        "key_spec": k.key_spec,
        "storage": k.storage.as_str(),
        "kms_key_id": k.kms_key_id,
        "created_at": rfc3339(k.created_at),
    })
}

fn storage_desc(s: Storage) -> &'static str {
    match s {
        Storage::Clear => "clear (PKCS#8 in the store)",
        Storage::Sealed => "sealed (envelope encryption)",
        Storage::External => "external (in the KMS)",
    }
}

fn key_pairs(k: &KeyInfo) -> String {
    pairs(&[
        ("fingerprint", k.fingerprint.to_string()),
        ("name", k.name.clone().unwrap_or_else(|| "-".into())),
        ("purpose", k.purpose.as_str().into()),
        (
            "usage",
            k.usage.map_or_else(|| "-".into(), |u| u.to_string()),
        ),
        ("key spec", k.key_spec.clone()),
        ("storage", storage_desc(k.storage).into()),
        (
            "kms key id",
            k.kms_key_id.clone().unwrap_or_else(|| "-".into()),
        ),
        ("created at", rfc3339(k.created_at)),
    ])
}

fn print_key(ui: &Ui, k: &KeyInfo, with_public: bool) {
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

// --- init --------------------------------------------------------------------------------------

#[derive(Args, Debug)]
pub(crate) struct InitArgs {
    /// The key store file (default: tresor.db next to the config file).
    #[arg(long, value_name = "FILE")]
    db: Option<PathBuf>,
    /// Storage mode: envelope (keys sealed under a software-KMS wrapper key), clear, or external
    /// (keys generated and used inside the software KMS).
    #[arg(long, value_enum, default_value_t = InitMode::Envelope)]
    mode: InitMode,
    /// Replace an existing config file (the store, the KMS and its key file are kept and reused).
    #[arg(long)]
    force: bool,
}

/// `path` relative to `base` when it lies inside it, else absolute.
fn relative_to(path: &Path, base: &Path) -> String {
    match path.strip_prefix(base) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
        _ => path.display().to_string(),
    }
}

/// Create an empty private (0600) file unless it exists; true if it was created.
fn create_private_file(path: &Path, what: &str) -> Result<bool, Failure> {
    if path.exists() {
        return Ok(false);
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
        .map(|_| true)
        .map_err(|e| fail(format!("cannot create {what} '{}': {e}", path.display())))
}

pub(crate) fn init(ctx: &Ctx, a: InitArgs) -> Result<(), Failure> {
    if ctx.sources.canton_config.is_some() || ctx.sources.node.is_some() {
        return Err(fail(
            "init writes a tresor config file; --canton-config and --node apply to the other commands",
        ));
    }
    let (config_path, _) = ctx.sources.config_path();
    let config_path = absolute(&config_path);
    if config_path.exists() && !a.force {
        return Err(fail(format!(
            "config file '{}' already exists (pass --force to replace it)",
            config_path.display()
        )));
    }
    let dir = config_path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&dir)
        .map_err(|e| fail(format!("cannot create directory '{}': {e}", dir.display())))?;
    let db =
        a.db.as_deref()
            .map_or_else(|| dir.join("tresor.db"), absolute);
    let kms_path = dir.join("tresor-kms.db");
    let key_file = dir.join("tresor-kms.key");
    if let Some(parent) = db.parent() {
        std::fs::create_dir_all(parent).map_err(|e| {
            fail(format!(
                "cannot create directory '{}': {e}",
                parent.display()
            ))
        })?;
    }

    let mut created: Vec<(PathBuf, &str)> = Vec::new();
    let mut kept: Vec<(PathBuf, &str)> = Vec::new();
    if key_file.exists() {
        kept.push((key_file.clone(), "software KMS master key"));
    } else {
        create_key_file(&key_file).map_err(context("init"))?;
        created.push((key_file.clone(), "software KMS master key (mode 0600)"));
    }
    for (p, what) in [(&kms_path, "software KMS"), (&db, "key store")] {
        if create_private_file(p, what)? {
            created.push((p.clone(), what));
        } else {
            kept.push((p.clone(), what));
        }
    }

    let choices = InitChoices {
        store_url: format!("sqlite://{}", relative_to(&db, &dir)),
        mode: a.mode,
        kms_path: relative_to(&kms_path, &dir),
        key_file: relative_to(&key_file, &dir),
    };
    let text = config::render(&choices);
    // Read the configuration exactly as the other commands will, from the text about to be written
    // (without environment overrides: init uses what it writes).
    let cfg = Config::from_toml_str(&text, &dir, &config_path.display().to_string())
        .map_err(config_failure)?;

    let rt = runtime()?;
    let (wrapper, nkeys) = rt.block_on(async {
        let opened = open(&cfg, &ctx.ui, true, ctx.kms_log_file.as_deref()).await?;
        let wrapper = if matches!(a.mode, InitMode::Envelope) {
            opened
                .vault
                .wrapper_key_id()
                .await
                .map_err(context("reading the wrapper key id"))?
        } else {
            None
        };
        let n = opened
            .vault
            .list()
            .await
            .map_err(context("listing keys"))?
            .len();
        Ok::<_, Failure>((wrapper, n))
    })?;
    files::write(
        &config_path,
        text.as_bytes(),
        FileMode::Public,
        a.force,
        "config file",
    )?;
    created.insert(0, (config_path.clone(), "config"));

    let mode_desc = match a.mode {
        InitMode::Envelope => "envelope encryption on the software KMS",
        InitMode::Clear => "clear (keys as PKCS#8 in the store: development only)",
        InitMode::External => "external: keys generated and used inside the software KMS",
    };
    if ctx.ui.json {
        ctx.ui.print_json(&json!({
            "config": config_path.display().to_string(),
            "mode": match a.mode { InitMode::Envelope => "envelope", InitMode::Clear => "clear", InitMode::External => "external" },
            "store_url": cfg.store_url(),
            "kms_path": kms_path.display().to_string(),
            "key_file": key_file.display().to_string(),
            "audit_logging": true,
            "wrapper_key_id": wrapper.as_ref().map(KmsKeyId::as_str),
            "keys": nkeys,
            "created": created.iter().map(|(p, _)| p.display().to_string()).collect::<Vec<_>>(),
            "kept": kept.iter().map(|(p, _)| p.display().to_string()).collect::<Vec<_>>(),
        }));
        return Ok(());
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (p, what) in &created {
        let what = if *what == "config" {
            format!("config: {mode_desc}, KMS audit-logging = true")
        } else {
            (*what).to_string()
        };
        rows.push(vec!["created".into(), p.display().to_string(), what]);
    }
    for (p, what) in &kept {
        let what = if *what == "key store" {
            format!(
                "key store ({nkeys} key{})",
                if nkeys == 1 { "" } else { "s" }
            )
        } else {
            (*what).to_string()
        };
        rows.push(vec!["kept".into(), p.display().to_string(), what]);
    }
    let mut s = table(&["", "file", "what"], &rows);
    if let Some(w) = wrapper {
        s.push_str(&format!("\nwrapper key: {w} (in the software KMS)\n"));
    }
    s.push_str(
        "\nNext: tresor key generate --purpose signing --spec ec-curve-25519 --usage namespace --name namespace\n",
    );
    out(&s);
    Ok(())
}

// --- config show -------------------------------------------------------------------------------

#[derive(Subcommand, Debug)]
pub(crate) enum ConfigCmd {
    /// Print the effective configuration (file, Canton block and environment overrides applied).
    Show,
}

pub(crate) fn config_cmd(ctx: &Ctx, c: ConfigCmd) -> Result<(), Failure> {
    let ConfigCmd::Show = c;
    let cfg = config::load(&ctx.sources)?;
    let store = cfg
        .store_url()
        .map_or_else(|| "-".to_string(), tresor::config::redact_url);
    let kms_desc = cfg.kms().map(|k| {
        if k.unsupported().is_some() {
            format!(
                "{} (set at {}; not built into this version)",
                k.kind().as_str(),
                k.origin()
            )
        } else if k.kind() == &KmsType::Software {
            format!("software, {}", k.path().display())
        } else {
            driver_desc(k)
        }
    });
    let audit_file = match cfg.kms() {
        Some(k) if k.audit_logging() && k.unsupported().is_none() => Some(
            cfg.audit_log_config(ctx.kms_log_file.as_deref())
                .map(|a| a.path)
                .map_err(Failure::from),
        ),
        _ => None,
    };
    let audit_note = match &audit_file {
        Some(Ok(p)) => format!(
            "every KMS call is logged to {} (hash-chained; check it with 'tresor audit verify')",
            p.display()
        ),
        Some(Err(f)) => format!("the audit log is misconfigured: {}", f.message),
        None => "no audit log is written".to_string(),
    };
    let role = match cfg.role() {
        Role::Active => "active".to_string(),
        Role::Passive { timeout, .. } => {
            format!("passive (waits up to {} s)", timeout.as_secs())
        }
    };
    if ctx.ui.json {
        ctx.ui.print_json(&json!({
            "config_file": cfg.file().map(|f| f.display().to_string()),
            "canton_config": cfg.canton().map(|(f, n)| json!({"file": f.display().to_string(), "node": n})),
            "environment": cfg.env_applied(),
            "store_url": store,
            "mode": cfg.mode_name(),
            "crypto": {"provider": cfg.provider().as_str()},
            "private_key_store": {"encryption": {
                "type": if cfg.encryption() { "kms" } else { "none" },
                "wrapper_key_id": cfg.wrapper_key_id(),
                "reverted": cfg.reverted(),
            }},
            "kms": cfg.kms().map(|k| json!({
                "type": k.kind().as_str(),
                "supported": k.unsupported().is_none(),
                "path": k.path().display().to_string(),
                "master_key": (k.kind() == &KmsType::Software).then(|| master_source_desc(k)),
                "driver_config": (k.kind() != &KmsType::Software && k.unsupported().is_none())
                    .then(|| driver_desc(k)),
                "audit_logging": k.audit_logging(),
                "audit_log_file": audit_file.as_ref().and_then(|r| r.as_ref().ok()).map(|p| p.display().to_string()),
                "audit_logging_note": audit_note,
            })),
            "cache": {"max_entries": cfg.cache().max_entries, "idle_timeout_seconds": cfg.cache().idle_timeout.as_secs()},
            "storage": {"role": role},
        }));
        return Ok(());
    }
    let mut items = vec![
        (
            "config file",
            cfg.file()
                .map_or_else(|| "- (none)".into(), |f| f.display().to_string()),
        ),
        (
            "canton config",
            cfg.canton().map_or_else(
                || "-".into(),
                |(f, n)| format!("{} (node {n})", f.display()),
            ),
        ),
        (
            "environment",
            if cfg.env_applied().is_empty() {
                "-".into()
            } else {
                cfg.env_applied().join(", ")
            },
        ),
        ("store", store),
        ("mode", cfg.mode_name().into()),
        ("crypto.provider", cfg.provider().as_str().into()),
        (
            "encryption.type",
            if cfg.encryption() { "kms" } else { "none" }.into(),
        ),
        (
            "wrapper-key-id",
            cfg.wrapper_key_id().map_or_else(
                || "- (the one recorded in the store, or a new KMS key)".into(),
                str::to_string,
            ),
        ),
        ("reverted", cfg.reverted().to_string()),
        ("kms", kms_desc.unwrap_or_else(|| "- (none)".into())),
    ];
    if let Some(k) = cfg.kms() {
        if k.unsupported().is_none() && k.kind() == &KmsType::Software {
            items.push(("kms master key", master_source_desc(k)));
        }
        items.push((
            "kms audit-logging",
            format!("{} ({audit_note})", k.audit_logging()),
        ));
    }
    items.push((
        "cache",
        format!(
            "max {} keys, idle timeout {} s",
            cfg.cache().max_entries,
            cfg.cache().idle_timeout.as_secs()
        ),
    ));
    items.push(("storage.role", role));
    out(&pairs(&items));
    Ok(())
}

// --- key … -------------------------------------------------------------------------------------

#[derive(Subcommand, Debug)]
pub(crate) enum KeyCmd {
    /// Generate a key in the store (or in the KMS, in external mode).
    Generate(GenerateArgs),
    /// List the keys (a table, or a JSON array with --json).
    List,
    /// Show one key and its public key.
    Show(FpArg),
    /// Write a key's public key (PEM, DER or JWK).
    Public(PublicArgs),
    /// Delete a key from the store (asks for confirmation unless --yes).
    Delete(DeleteArgs),
    /// Rotate a node key: a new key with the same spec and usage, named after the old one with
    /// "-rotated-" and a timestamp; the old key is kept until deleted.
    Rotate(FpArg),
    /// Export a private key sealed under a password (Argon2id + AES-256-GCM), e.g. to keep a namespace
    /// root key offline.
    Export(ExportArgs),
    /// Import a key exported by `tresor key export`.
    Import(ImportArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PurposeArg {
    Signing,
    Encryption,
}

#[derive(Args, Debug)]
pub(crate) struct GenerateArgs {
    /// signing or encryption.
    #[arg(long, value_enum)]
    purpose: PurposeArg,
    /// Key spec: signing ec-curve-25519, ec-p-256, ec-p-384, ec-secp-256k-1; encryption ec-p-256, rsa-2048.
    #[arg(long)]
    spec: String,
    /// Signing keys: what the key may sign, comma-separated: namespace, sequencer-auth, protocol,
    /// proof-of-ownership.
    #[arg(long)]
    usage: Option<String>,
    /// A name (at most 300 characters).
    #[arg(long)]
    name: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct FpArg {
    /// The key's fingerprint (68 hex characters, 1220…).
    fingerprint: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PublicFormat {
    Pem,
    Der,
    Jwk,
}

#[derive(Args, Debug)]
pub(crate) struct PublicArgs {
    /// The key's fingerprint.
    fingerprint: String,
    /// Where to write it ('-' = standard output, the default).
    #[arg(long, default_value = "-")]
    out: PathBuf,
    /// pem (SubjectPublicKeyInfo, as OpenSSL writes), der, or jwk.
    #[arg(long, value_enum, default_value_t = PublicFormat::Pem)]
    format: PublicFormat,
    /// Replace an existing output file.
    #[arg(long)]
    force: bool,
}

#[derive(Args, Debug)]
pub(crate) struct DeleteArgs {
    /// The key's fingerprint.
    fingerprint: String,
    /// Do not ask for confirmation (needed when standard input is not a terminal).
    #[arg(long)]
    yes: bool,
}

#[derive(Args, Debug)]
pub(crate) struct ExportArgs {
    /// The key's fingerprint.
    fingerprint: String,
    /// The export file (created with mode 0600).
    #[arg(long)]
    out: PathBuf,
    /// Read the password from the first line of this file (else TRESOR_EXPORT_PASSWORD, else a prompt).
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
    /// After the export file is written and read back, delete the key from the store.
    #[arg(long)]
    delete: bool,
    /// Replace an existing export file.
    #[arg(long)]
    force: bool,
}

#[derive(Args, Debug)]
pub(crate) struct ImportArgs {
    /// The export file.
    file: PathBuf,
    /// Name the imported key (default: the name recorded in the file).
    #[arg(long)]
    name: Option<String>,
    /// Read the password from the first line of this file (else TRESOR_EXPORT_PASSWORD, else a prompt).
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
}

const USAGES: &str = "namespace, sequencer-auth, protocol, proof-of-ownership";

fn parse_usage(s: &str) -> Result<SigningKeyUsageSet, Failure> {
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

pub(crate) fn key_cmd(ctx: &Ctx, c: KeyCmd) -> Result<(), Failure> {
    match c {
        KeyCmd::Generate(a) => generate(ctx, a),
        KeyCmd::List => list(ctx),
        KeyCmd::Show(a) => {
            let fp = parse_fp(&a.fingerprint)?;
            let k = with_vault(ctx, async |o, _| {
                o.vault.info(&fp).await.map_err(Failure::from)
            })?;
            print_key(&ctx.ui, &k, true);
            Ok(())
        }
        KeyCmd::Public(a) => public(ctx, a),
        KeyCmd::Delete(a) => delete(ctx, a),
        KeyCmd::Rotate(a) => {
            let fp = parse_fp(&a.fingerprint)?;
            let (old, new) = with_vault(ctx, async |o, _| {
                let old = o.vault.info(&fp).await?;
                let new = o.vault.rotate_node_key(&fp).await?;
                Ok((old, new))
            })?;
            if ctx.ui.json {
                ctx.ui
                    .print_json(&json!({"old": key_json(&old), "new": key_json(&new)}));
            } else {
                out(&format!(
                    "rotated {} -> {}\n{}the old key is kept until you delete it: tresor key delete {}",
                    old.fingerprint,
                    new.fingerprint,
                    key_pairs(&new),
                    old.fingerprint
                ));
            }
            Ok(())
        }
        KeyCmd::Export(a) => export(ctx, a),
        KeyCmd::Import(a) => import(ctx, a),
    }
}

fn generate(ctx: &Ctx, a: GenerateArgs) -> Result<(), Failure> {
    let info = match a.purpose {
        PurposeArg::Signing => {
            let spec: SigningKeySpec = a.spec.parse()?;
            let usage = match &a.usage {
                Some(u) => parse_usage(u)?,
                None => {
                    return Err(fail(format!(
                        "a signing key needs --usage: what it may sign, comma-separated: {USAGES} \
                         (e.g. --usage namespace)"
                    )));
                }
            };
            with_vault(ctx, async |o, _| {
                o.vault
                    .generate_signing_key(spec, usage, a.name.as_deref())
                    .await
                    .map_err(Failure::from)
            })?
        }
        PurposeArg::Encryption => {
            if a.usage.is_some() {
                return Err(fail(
                    "--usage applies to signing keys only (encryption keys have no usage)",
                ));
            }
            let spec: EncryptionKeySpec = a.spec.parse()?;
            with_vault(ctx, async |o, _| {
                o.vault
                    .generate_encryption_key(spec, a.name.as_deref())
                    .await
                    .map_err(Failure::from)
            })?
        }
    };
    print_key(&ctx.ui, &info, false);
    Ok(())
}

fn list(ctx: &Ctx) -> Result<(), Failure> {
    let (keys, url) = with_vault(ctx, async |o, _| {
        let keys = o.vault.list().await?;
        Ok((keys, o.vault.store().display_url().to_string()))
    })?;
    if ctx.ui.json {
        ctx.ui
            .print_json(&Value::Array(keys.iter().map(key_json).collect()));
        return Ok(());
    }
    if keys.is_empty() {
        out(&format!("no keys in the store ({url})"));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|k| {
            vec![
                k.fingerprint.to_string(),
                k.name.clone().unwrap_or_else(|| "-".into()),
                k.purpose.as_str().into(),
                k.key_spec.clone(),
                k.usage.map_or_else(|| "-".into(), |u| u.to_string()),
                k.storage.as_str().into(),
                rfc3339(k.created_at),
            ]
        })
        .collect();
    out(&table(
        &[
            "FINGERPRINT",
            "NAME",
            "PURPOSE",
            "SPEC",
            "USAGE",
            "STORAGE",
            "CREATED",
        ],
        &rows,
    ));
    Ok(())
}

fn public(ctx: &Ctx, a: PublicArgs) -> Result<(), Failure> {
    use std::io::IsTerminal as _;
    let fp = parse_fp(&a.fingerprint)?;
    if a.format == PublicFormat::Der && a.out.as_os_str() == "-" && std::io::stdout().is_terminal()
    {
        return Err(fail(
            "DER is binary: pass --out <file> (or redirect standard output)",
        ));
    }
    let pk = with_vault(ctx, async |o, _| {
        o.vault.public_key(&fp).await.map_err(Failure::from)
    })?;
    let bytes = match a.format {
        PublicFormat::Pem => pk.to_pem().into_bytes(),
        PublicFormat::Der => pk.spki_der().to_vec(),
        PublicFormat::Jwk => format!("{}\n", pk.to_jwk()).into_bytes(),
    };
    files::write(&a.out, &bytes, FileMode::Public, a.force, "output file")
}

fn delete(ctx: &Ctx, a: DeleteArgs) -> Result<(), Failure> {
    let fp = parse_fp(&a.fingerprint)?;
    let info = with_vault(ctx, async |o, _| {
        let info = o.vault.info(&fp).await?;
        if !a.yes {
            let what = format!(
                "Delete key {} ({}{} {}{})? This cannot be undone.",
                info.fingerprint,
                info.name
                    .as_deref()
                    .map_or_else(String::new, |n| format!("'{n}', ")),
                info.purpose,
                info.key_spec,
                info.usage.map_or_else(String::new, |u| format!(", {u}")),
            );
            let hint = format!(
                "refusing to delete key {} without confirmation: pass --yes",
                info.fingerprint
            );
            if !ui::confirm(&what, &hint)? {
                return Err(fail(format!(
                    "key {} not deleted (not confirmed)",
                    info.fingerprint
                )));
            }
        }
        o.vault.delete(&fp).await?;
        Ok(info)
    })?;
    let note = if info.storage == Storage::External {
        " (the key itself stays in the KMS)"
    } else {
        ""
    };
    if ctx.ui.json {
        ctx.ui.print_json(&json!({"deleted": key_json(&info)}));
    } else {
        out(&format!("deleted {}{note}", info.fingerprint));
    }
    Ok(())
}

fn export(ctx: &Ctx, a: ExportArgs) -> Result<(), Failure> {
    let fp = parse_fp(&a.fingerprint)?;
    if !a.force && a.out.as_os_str() != "-" && a.out.exists() {
        return Err(fail(format!(
            "export file '{}' already exists (pass --force to replace it)",
            a.out.display()
        )));
    }
    if a.out.as_os_str() == "-" && a.delete {
        return Err(fail(
            "--delete needs --out <file> (the export is read back before the key is deleted)",
        ));
    }
    let info = with_vault(ctx, async |o, _| {
        let (info, key) = o.vault.export_private_key(&fp).await?;
        let password = ui::export_password(a.password_file.as_deref(), true)?;
        let sealed = seal_export(&info, &key, password.as_bytes())?;
        files::write(
            &a.out,
            sealed.as_bytes(),
            FileMode::Private,
            a.force,
            "export file",
        )?;
        if a.delete {
            let back = files::read(&a.out, "export file")?;
            if back != sealed.as_bytes() {
                return Err(fail(format!(
                    "export file '{}' does not read back as written; the key was not deleted",
                    a.out.display()
                )));
            }
            o.vault.delete(&fp).await?;
        }
        Ok(info)
    })?;
    if ctx.ui.json {
        ctx.ui.print_json(&json!({
            "exported": key_json(&info),
            "file": a.out.display().to_string(),
            "deleted": a.delete,
        }));
    } else if a.out.as_os_str() != "-" {
        let tail = if a.delete {
            "; the key was deleted from the store".to_string()
        } else {
            format!(
                "; to remove the key from the node: tresor key delete {} (or export with --delete)",
                info.fingerprint
            )
        };
        out(&format!(
            "exported {} to {} (password-sealed, Argon2id + AES-256-GCM){tail}",
            info.fingerprint,
            a.out.display()
        ));
    }
    Ok(())
}

fn import(ctx: &Ctx, a: ImportArgs) -> Result<(), Failure> {
    let text = files::read_nonempty(&a.file, "export file")?;
    let text = String::from_utf8(text)
        .map_err(|_| fail(format!("export file '{}' is not text", a.file.display())))?;
    let what = format!("export file '{}'", a.file.display());
    let info = with_vault(ctx, async |o, _| {
        let password = ui::export_password(a.password_file.as_deref(), false)?;
        let imported = open_export(&text, password.as_bytes()).map_err(context(&what))?;
        let name = a.name.clone().or(imported.name.clone());
        o.vault
            .import_private_key(
                &imported.key,
                imported.purpose,
                imported.usage,
                name.as_deref(),
            )
            .await
            .map_err(Failure::from)
    })?;
    if ctx.ui.json {
        ctx.ui.print_json(&json!({"imported": key_json(&info)}));
    } else {
        out(&format!("imported\n{}", key_pairs(&info)));
    }
    Ok(())
}

// --- wrapper-key, data-key ---------------------------------------------------------------------

#[derive(Subcommand, Debug)]
pub(crate) enum WrapperKeyCmd {
    /// Print the wrapper key id recorded in the store.
    Show,
    /// Rotate the wrapper key: re-wrap the store data key under a new KMS key (one KMS decrypt, one
    /// encrypt, one row updated). The old key is left in the KMS.
    Rotate(RotateWrapperArgs),
}

#[derive(Args, Debug)]
pub(crate) struct RotateWrapperArgs {
    /// An existing KMS key to rotate to (default: generate one).
    #[arg(long, value_name = "KMS_KEY_ID")]
    new_key_id: Option<String>,
}

#[derive(Subcommand, Debug)]
pub(crate) enum DataKeyCmd {
    /// Rotate the store data key: a fresh data key, every sealed key re-sealed under it in one
    /// transaction (one KMS call).
    Rotate,
}

fn kms_calls(o: &Opened) -> Option<u64> {
    o.software_kms.as_ref().map(|s| s.total_calls())
}

pub(crate) fn wrapper_key_cmd(ctx: &Ctx, c: WrapperKeyCmd) -> Result<(), Failure> {
    match c {
        WrapperKeyCmd::Show => {
            let (id, mode) = with_vault(ctx, async |o, _| {
                let id = o.vault.wrapper_key_id().await?;
                Ok((id, o.vault.mode_name()))
            })?;
            if ctx.ui.json {
                ctx.ui.print_json(&json!({
                    "wrapper_key_id": id.as_ref().map(KmsKeyId::as_str),
                    "mode": mode,
                }));
            } else {
                match id {
                    Some(id) => out(id.as_str()),
                    None => out(&format!(
                        "no wrapper key: the store is not envelope-encrypted (mode {mode})"
                    )),
                }
            }
            Ok(())
        }
        WrapperKeyCmd::Rotate(a) => {
            let new_id = match &a.new_key_id {
                Some(s) => {
                    Some(KmsKeyId::new(s.trim().to_string()).map_err(context("--new-key-id"))?)
                }
                None => None,
            };
            let (old, new, calls, pinned) = with_vault(ctx, async |o, cfg| {
                let old = o.vault.wrapper_key_id().await?;
                let before = kms_calls(o);
                let new = o.vault.rotate_wrapper_key(new_id.clone()).await?;
                let calls = kms_calls(o).zip(before).map(|(a, b)| a - b);
                Ok((
                    old,
                    new,
                    calls,
                    cfg.wrapper_key_origin().map(str::to_string),
                ))
            })?;
            let old_s = old.as_ref().map_or("-", KmsKeyId::as_str).to_string();
            if ctx.ui.json {
                ctx.ui.print_json(&json!({
                    "old_wrapper_key_id": old.as_ref().map(KmsKeyId::as_str),
                    "new_wrapper_key_id": new.as_str(),
                    "kms_calls": calls,
                    "configured_wrapper_key_id_at": pinned,
                }));
            } else {
                let mut s = format!(
                    "wrapper key rotated: {old_s} -> {new}\nthe data key was re-wrapped (no key row rewritten{}); the old wrapper key stays in the KMS\n",
                    calls.map_or_else(String::new, |c| format!(", {c} KMS calls"))
                );
                if let Some(at) = pinned {
                    s.push_str(&format!(
                        "note: wrapper-key-id is set at {at}; change it to {new} (or remove it) before the next command\n"
                    ));
                }
                out(&s);
            }
            Ok(())
        }
    }
}

pub(crate) fn data_key_cmd(ctx: &Ctx, c: DataKeyCmd) -> Result<(), Failure> {
    let DataKeyCmd::Rotate = c;
    let (n, calls) = with_vault(ctx, async |o, _| {
        let before = kms_calls(o);
        let n = o.vault.rotate_data_key().await?;
        Ok((n, kms_calls(o).zip(before).map(|(a, b)| a - b)))
    })?;
    if ctx.ui.json {
        ctx.ui
            .print_json(&json!({"resealed_keys": n, "kms_calls": calls}));
    } else {
        out(&format!(
            "data key rotated: {n} keys re-sealed in one transaction{}",
            calls.map_or_else(String::new, |c| format!(" ({c} KMS call)"))
        ));
    }
    Ok(())
}

// --- sign / verify / encrypt / decrypt with a key in the store ---------------------------------

/// `sign --fingerprint`.
pub(crate) fn sign(
    ctx: &Ctx,
    fp: &str,
    usage: Option<&str>,
    algo: Option<&str>,
    input: &Path,
    output: &Path,
    force: bool,
) -> Result<(), Failure> {
    let fp = parse_fp(fp)?;
    let usage = match usage {
        Some(u) => parse_usage(u)?,
        None => {
            return Err(fail(format!(
                "signing with a key in the store needs --usage ({USAGES}); the key's usage must allow it"
            )));
        }
    };
    let algo: Option<SigningAlgorithmSpec> = algo.map(str::parse).transpose()?;
    let msg = files::read(input, "input file")?;
    let sig = with_vault(ctx, async |o, _| {
        o.vault
            .sign(&fp, &msg, usage, algo)
            .await
            .map_err(Failure::from)
    })?;
    files::write(output, &sig, FileMode::Public, force, "signature file")
}

/// `verify --fingerprint`: exit 0 valid, 1 invalid.
pub(crate) fn verify(
    ctx: &Ctx,
    fp: &str,
    algo: Option<&str>,
    input: &Path,
    sig: &Path,
) -> Result<(), Failure> {
    let fp = parse_fp(fp)?;
    let algo: Option<SigningAlgorithmSpec> = algo.map(str::parse).transpose()?;
    let msg = files::read(input, "input file")?;
    let sig = files::read_nonempty(sig, "signature file")?;
    let r = with_vault(ctx, async |o, _| {
        Ok(o.vault.verify(&fp, &msg, &sig, algo).await)
    })?;
    match r {
        Ok(()) => {
            out("signature valid");
            Ok(())
        }
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::InvalidSignature | ErrorKind::MalformedSignature
            ) =>
        {
            Err(Failure::new(
                EXIT_INVALID,
                format!("signature invalid ({e})"),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// `encrypt --fingerprint`.
pub(crate) fn encrypt(
    ctx: &Ctx,
    fp: &str,
    algo: Option<&str>,
    input: &Path,
    output: &Path,
    force: bool,
) -> Result<(), Failure> {
    let fp = parse_fp(fp)?;
    let algo: Option<EncryptionAlgorithmSpec> = algo.map(str::parse).transpose()?;
    let pt = zeroize::Zeroizing::new(files::read(input, "input file")?);
    let ct = with_vault(ctx, async |o, _| {
        o.vault.encrypt(&fp, &pt, algo).await.map_err(Failure::from)
    })?;
    files::write(output, &ct, FileMode::Public, force, "output file")
}

/// `decrypt --fingerprint`.
pub(crate) fn decrypt(
    ctx: &Ctx,
    fp: &str,
    algo: Option<&str>,
    input: &Path,
    output: &Path,
    force: bool,
) -> Result<(), Failure> {
    let fp = parse_fp(fp)?;
    let algo: Option<EncryptionAlgorithmSpec> = algo.map(str::parse).transpose()?;
    let ct = files::read_nonempty(input, "ciphertext file")?;
    let pt = with_vault(ctx, async |o, _| {
        o.vault.decrypt(&fp, &ct, algo).await.map_err(Failure::from)
    })?;
    files::write(output, &pt, FileMode::Private, force, "output file")
}

// --- audit ---------------------------------------------------------------------------------------

/// `tresor audit …`.
#[derive(Subcommand, Debug)]
pub(crate) enum AuditCmd {
    /// Verify the hash chain of a KMS audit log (and its rolled files `<file>.<yyyy-MM-dd>`):
    /// exit 0 if intact, 2 naming the first edited, removed or reordered line.
    Verify {
        /// The audit log file.
        file: PathBuf,
    },
}

pub(crate) fn audit_cmd(ctx: &Ctx, c: AuditCmd) -> Result<(), Failure> {
    let AuditCmd::Verify { file } = c;
    let report = verify_audit_log(&file).map_err(context("verifying the audit log"))?;
    if ctx.ui.json {
        ctx.ui.print_json(&json!({
            "files": report.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
            "lines": report.lines,
            "intact": report.is_intact(),
            "problem": report.problem.as_ref().map(|p| json!({
                "file": p.file.display().to_string(),
                "line": p.line,
                "kind": p.kind.to_string(),
                "detail": p.detail,
            })),
        }));
    }
    match report.problem {
        None => {
            if !ctx.ui.json {
                out(&format!("ok: {} lines, chain intact\n", report.lines));
            }
            Ok(())
        }
        Some(p) => Err(fail(format!("audit log check failed: {p}"))),
    }
}

// --- kms … -------------------------------------------------------------------------------------

#[derive(Subcommand, Debug)]
pub(crate) enum KmsCmd {
    /// Print the KMS permissions (AWS IAM actions, GCP permissions) a node needs in a mode, as Canton's
    /// operator documentation lists them.
    Permissions(PermissionsArgs),
    /// Register a signing key that already exists in the KMS (external mode; Canton's
    /// register_kms_signing_key): its public key is fetched and stored with the given usage.
    RegisterSigningKey(RegisterSigningArgs),
    /// Register an encryption key that already exists in the KMS (external mode; Canton's
    /// register_kms_encryption_key).
    RegisterEncryptionKey(RegisterEncryptionArgs),
    /// Rotate a node key to a key made in the KMS beforehand (external mode; Canton's
    /// rotate_kms_node_key): the new key is registered with the old key's usage; the old key stays.
    RotateNodeKey(RotateNodeKeyArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PermissionsMode {
    /// Envelope encryption of the private key store (`private-key-store.encryption.type = kms`).
    Envelope,
    /// Keys generated and used in the KMS (`crypto.provider = kms`).
    External,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CloudProvider {
    Aws,
    Gcp,
}

#[derive(Args, Debug)]
pub(crate) struct PermissionsArgs {
    /// The mode (default: the configured one).
    #[arg(long, value_enum)]
    mode: Option<PermissionsMode>,
    /// The provider (default: the configured KMS type; both when it is neither aws nor gcp).
    #[arg(long, value_enum)]
    provider: Option<CloudProvider>,
}

#[derive(Args, Debug)]
pub(crate) struct RegisterSigningArgs {
    /// The KMS key id (AWS: key id, ARN or alias; GCP: key name or full resource name).
    #[arg(long, value_name = "KMS_KEY_ID")]
    kms_key_id: String,
    /// What the key may sign, comma-separated: namespace, sequencer-auth, protocol, proof-of-ownership.
    #[arg(long)]
    usage: String,
    /// A name for the key (at most 300 characters).
    #[arg(long)]
    name: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct RegisterEncryptionArgs {
    /// The KMS key id (AWS: key id, ARN or alias; GCP: key name or full resource name).
    #[arg(long, value_name = "KMS_KEY_ID")]
    kms_key_id: String,
    /// A name for the key (at most 300 characters).
    #[arg(long)]
    name: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct RotateNodeKeyArgs {
    /// The fingerprint of the key to rotate.
    #[arg(long)]
    fingerprint: String,
    /// The KMS key to rotate to (made in the KMS beforehand).
    #[arg(long, value_name = "KMS_KEY_ID")]
    new_kms_key_id: String,
    /// A name for the new key (at most 300 characters).
    #[arg(long)]
    name: Option<String>,
}

/// AWS IAM actions per mode (spec §8).
const AWS_ENVELOPE: &[&str] = &[
    "kms:CreateKey",
    "kms:TagResource",
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:DescribeKey",
];
const AWS_EXTERNAL: &[&str] = &[
    "kms:CreateKey",
    "kms:TagResource",
    "kms:Decrypt",
    "kms:Sign",
    "kms:DescribeKey",
    "kms:GetPublicKey",
];
/// GCP permissions per mode (spec §8).
const GCP_ENVELOPE: &[&str] = &[
    "cloudkms.cryptoKeyVersions.create",
    "cloudkms.cryptoKeyVersions.useToEncrypt",
    "cloudkms.cryptoKeyVersions.useToDecrypt",
    "cloudkms.cryptoKeys.get",
];
const GCP_EXTERNAL: &[&str] = &[
    "cloudkms.cryptoKeyVersions.create",
    "cloudkms.cryptoKeyVersions.useToDecrypt",
    "cloudkms.cryptoKeyVersions.useToSign",
    "cloudkms.cryptoKeyVersions.get",
    "cloudkms.cryptoKeyVersions.viewPublicKey",
];
/// What keys shared across accounts or projects do not need.
const CREATION_ONLY: &[&str] = &[
    "kms:CreateKey",
    "kms:TagResource",
    "cloudkms.cryptoKeyVersions.create",
];
const CROSS_ACCOUNT_NOTE: &str = "With keys shared across accounts or projects (given by ARN / resource \
     name), kms:CreateKey, kms:TagResource and cloudkms.cryptoKeyVersions.create are not needed.";
const CREDENTIALS_NOTE: &str = "Credentials come from the providers' standard chains \
     (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or a profile; GOOGLE_APPLICATION_CREDENTIALS or the \
     metadata service); their protection and rotation are the operator's job.";

/// The permissions `provider` needs in `mode` (spec §8).
pub(crate) fn permissions(
    mode: PermissionsMode,
    provider: CloudProvider,
) -> &'static [&'static str] {
    match (provider, mode) {
        (CloudProvider::Aws, PermissionsMode::Envelope) => AWS_ENVELOPE,
        (CloudProvider::Aws, PermissionsMode::External) => AWS_EXTERNAL,
        (CloudProvider::Gcp, PermissionsMode::Envelope) => GCP_ENVELOPE,
        (CloudProvider::Gcp, PermissionsMode::External) => GCP_EXTERNAL,
    }
}

pub(crate) fn kms_cmd(ctx: &Ctx, c: KmsCmd) -> Result<(), Failure> {
    match c {
        KmsCmd::Permissions(a) => kms_permissions(ctx, &a),
        KmsCmd::RegisterSigningKey(a) => {
            let usage = parse_usage(&a.usage)?;
            let id =
                KmsKeyId::new(a.kms_key_id.trim().to_string()).map_err(context("--kms-key-id"))?;
            let k = with_external_vault(ctx, "register-signing-key", async |o| {
                o.vault
                    .register_external_any(
                        &id,
                        tresor::store::Purpose::Signing,
                        Some(usage),
                        a.name.as_deref(),
                    )
                    .await
                    .map_err(context(&format!("registering KMS key {id}")))
            })?;
            print_key(&ctx.ui, &k, false);
            Ok(())
        }
        KmsCmd::RegisterEncryptionKey(a) => {
            let id =
                KmsKeyId::new(a.kms_key_id.trim().to_string()).map_err(context("--kms-key-id"))?;
            let k = with_external_vault(ctx, "register-encryption-key", async |o| {
                o.vault
                    .register_external_any(
                        &id,
                        tresor::store::Purpose::Encryption,
                        None,
                        a.name.as_deref(),
                    )
                    .await
                    .map_err(context(&format!("registering KMS key {id}")))
            })?;
            print_key(&ctx.ui, &k, false);
            Ok(())
        }
        KmsCmd::RotateNodeKey(a) => kms_rotate_node_key(ctx, &a),
    }
}

/// Open the vault for a command that needs external mode; refuse clearly in the other modes.
fn with_external_vault<T>(
    ctx: &Ctx,
    command: &str,
    f: impl AsyncFnOnce(&Opened) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let cfg = config::load(&ctx.sources)?;
    if !matches!(cfg.mode().map_err(config_failure)?, Mode::External) {
        return Err(fail(format!(
            "'tresor kms {command}' needs external mode (crypto.provider = kms: keys kept in the KMS); \
             this store is in {} mode",
            cfg.mode_name()
        )));
    }
    let rt = runtime()?;
    rt.block_on(async {
        let opened = open(&cfg, &ctx.ui, false, ctx.kms_log_file.as_deref()).await?;
        let r = f(&opened).await;
        ui::close_progress_line();
        r
    })
}

fn kms_rotate_node_key(ctx: &Ctx, a: &RotateNodeKeyArgs) -> Result<(), Failure> {
    let fp = parse_fp(&a.fingerprint)?;
    let id =
        KmsKeyId::new(a.new_kms_key_id.trim().to_string()).map_err(context("--new-kms-key-id"))?;
    let (old, new) = with_external_vault(ctx, "rotate-node-key", async |o| {
        let old = o.vault.info(&fp).await?;
        let new = match old.purpose {
            tresor::store::Purpose::Signing => {
                let usage = old.usage.ok_or_else(|| {
                    fail(format!("key {fp} is a signing key without a usage"))
                })?;
                let node_usage = usage.iter().any(|u| {
                    matches!(
                        u,
                        SigningKeyUsage::SequencerAuthentication | SigningKeyUsage::Protocol
                    )
                });
                if !node_usage {
                    return Err(fail(format!(
                        "key {fp} is a namespace key (usage {usage}): as in Canton, namespace keys are \
                         not rotated with rotate-node-key; register the new key with \
                         'tresor kms register-signing-key'"
                    )));
                }
                o.vault
                    .register_external_any(
                        &id,
                        tresor::store::Purpose::Signing,
                        Some(usage),
                        a.name.as_deref(),
                    )
                    .await
            }
            tresor::store::Purpose::Encryption => {
                o.vault
                    .register_external_any(
                        &id,
                        tresor::store::Purpose::Encryption,
                        None,
                        a.name.as_deref(),
                    )
                    .await
            }
        }
        .map_err(context(&format!("registering KMS key {id}")))?;
        Ok((old, new))
    })?;
    if ctx.ui.json {
        ctx.ui
            .print_json(&json!({"old": key_json(&old), "new": key_json(&new)}));
    } else {
        out(&format!(
            "rotated {} -> {}\n{}the old key is kept until you delete it: tresor key delete {}",
            old.fingerprint,
            new.fingerprint,
            key_pairs(&new),
            old.fingerprint
        ));
    }
    Ok(())
}

fn kms_permissions(ctx: &Ctx, a: &PermissionsArgs) -> Result<(), Failure> {
    // The mode and provider come from the arguments, else from the configuration.
    let cfg = if a.mode.is_none() || a.provider.is_none() {
        match config::load(&ctx.sources) {
            Ok(c) => Some(c),
            Err(e) if a.mode.is_none() => {
                return Err(fail(format!(
                    "give --mode envelope|external, or a readable config ({})",
                    e.message
                )));
            }
            Err(_) => None,
        }
    } else {
        None
    };
    let mode = match a.mode {
        Some(m) => m,
        None => match cfg
            .as_ref()
            .map(Config::mode)
            .transpose()
            .map_err(config_failure)?
        {
            Some(Mode::External) => PermissionsMode::External,
            Some(Mode::Envelope(_)) => PermissionsMode::Envelope,
            _ => {
                return Err(fail(
                    "the configured store uses no KMS (clear mode); give --mode envelope|external",
                ));
            }
        },
    };
    let providers: Vec<CloudProvider> = match a.provider {
        Some(p) => vec![p],
        None => match cfg.as_ref().and_then(Config::kms).map(KmsSettings::kind) {
            Some(KmsType::Aws) => vec![CloudProvider::Aws],
            Some(KmsType::Gcp) => vec![CloudProvider::Gcp],
            _ => vec![CloudProvider::Aws, CloudProvider::Gcp],
        },
    };
    let mode_name = match mode {
        PermissionsMode::Envelope => "envelope",
        PermissionsMode::External => "external",
    };
    if ctx.ui.json {
        let list: Vec<Value> = providers
            .iter()
            .map(|p| {
                let (name, kind) = match p {
                    CloudProvider::Aws => ("aws", "IAM actions"),
                    CloudProvider::Gcp => ("gcp", "permissions"),
                };
                let perms = permissions(mode, *p);
                json!({
                    "provider": name,
                    "kind": kind,
                    "permissions": perms,
                    "not_needed_for_cross_account_keys":
                        perms.iter().filter(|x| CREATION_ONLY.contains(x)).collect::<Vec<_>>(),
                })
            })
            .collect();
        ctx.ui.print_json(&json!({
            "mode": mode_name,
            "providers": list,
            "cross_account_note": CROSS_ACCOUNT_NOTE,
            "credentials_note": CREDENTIALS_NOTE,
        }));
        return Ok(());
    }
    let mut s =
        format!("KMS permissions for {mode_name} mode (Canton's operator documentation):\n");
    for p in &providers {
        s.push_str(match p {
            CloudProvider::Aws => "AWS IAM actions:\n",
            CloudProvider::Gcp => "GCP permissions:\n",
        });
        for perm in permissions(mode, *p) {
            s.push_str(&format!("  {perm}\n"));
        }
    }
    s.push_str(&format!(
        "note: {CROSS_ACCOUNT_NOTE}\nnote: {CREDENTIALS_NOTE}\n"
    ));
    out(&s);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_denied_keeps_the_driver_message() {
        let e = tresor::Error::new(
            ErrorKind::KmsPermissionDenied,
            "kms:Sign refused on key alias/node: AccessDeniedException",
        );
        let f = context("signing with key 1220ab")(e);
        assert_eq!(f.code, EXIT_ERROR);
        assert!(
            f.message.contains("signing with key 1220ab"),
            "{}",
            f.message
        );
        assert!(
            f.message.contains("kms:Sign refused on key alias/node"),
            "{}",
            f.message
        );
        assert!(f.message.contains("504"), "{}", f.message);
    }

    #[test]
    fn permissions_table() {
        use CloudProvider::{Aws, Gcp};
        use PermissionsMode::{Envelope, External};
        assert!(permissions(Envelope, Aws).contains(&"kms:Encrypt"));
        assert!(!permissions(External, Aws).contains(&"kms:Encrypt"));
        assert!(permissions(External, Aws).contains(&"kms:GetPublicKey"));
        assert!(permissions(Envelope, Gcp).contains(&"cloudkms.cryptoKeys.get"));
        assert!(permissions(External, Gcp).contains(&"cloudkms.cryptoKeyVersions.viewPublicKey"));
    }
}
