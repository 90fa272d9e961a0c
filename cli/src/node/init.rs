//! `tresor init`.

use super::*;
use crate::config::InitMaster;
use crate::files::create_private_file;
use clap::Args;
use serde_json::json;

#[derive(Args, Debug)]
pub(crate) struct InitArgs {
    /// The key store file (default: tresor.db next to the config file).
    #[arg(long, value_name = "FILE")]
    db: Option<PathBuf>,
    /// Storage mode: envelope (keys sealed under a software-KMS wrapper key), clear, or external
    /// (keys generated and used inside the software KMS).
    #[arg(long, value_enum, default_value_t = InitMode::Envelope)]
    mode: InitMode,
    /// Protect the software KMS with a passphrase instead of a key file: TRESOR_KMS_PASSPHRASE, else
    /// asked twice on the terminal. (Setting TRESOR_KMS_PASSPHRASE alone does the same.)
    #[arg(long, conflicts_with = "kms_passphrase_file")]
    kms_passphrase: bool,
    /// Protect the software KMS with the passphrase on the first line of this file (mode 0600); the
    /// config names the file.
    #[arg(long, value_name = "FILE")]
    kms_passphrase_file: Option<PathBuf>,
    /// Do not write a config: create the key store and the software KMS that the existing config
    /// (--config, TRESOR_CONFIG or ./tresor.toml, with the TRESOR_* variables) names, e.g. one written
    /// by hand.
    #[arg(long, conflicts_with_all = ["db", "mode", "kms_passphrase", "kms_passphrase_file", "force"])]
    use_config: bool,
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

/// The master key source `init` creates the software KMS with (absolute paths).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Master {
    KeyFile(PathBuf),
    PassphraseFile(PathBuf),
    /// `TRESOR_KMS_PASSPHRASE`, or asked.
    Passphrase,
}

impl Master {
    fn describe(&self) -> String {
        match self {
            Self::KeyFile(p) => format!("the key file {}", p.display()),
            Self::PassphraseFile(p) => format!("the passphrase file {}", p.display()),
            Self::Passphrase => "a passphrase (TRESOR_KMS_PASSPHRASE or typed)".to_string(),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::KeyFile(_) => "key-file",
            Self::PassphraseFile(_) => "passphrase-file",
            Self::Passphrase => "passphrase",
        }
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Which master key the new KMS gets. The `TRESOR_KMS_*` master key variables override the config in
/// every later command (TRESOR_KMS_PASSPHRASE over TRESOR_KMS_PASSPHRASE_FILE over TRESOR_KMS_KEY_FILE),
/// so the KMS is created with the one they name; an option that contradicts them is an error.
fn choose_master(a: &InitArgs, dir: &Path) -> Result<Master, Failure> {
    let cwd = absolute(Path::new("."));
    let from_env = if env_var("TRESOR_KMS_PASSPHRASE").is_some() {
        Some(("TRESOR_KMS_PASSPHRASE", Master::Passphrase))
    } else if let Some(f) = env_var("TRESOR_KMS_PASSPHRASE_FILE") {
        Some((
            "TRESOR_KMS_PASSPHRASE_FILE",
            Master::PassphraseFile(cwd.join(f)),
        ))
    } else {
        env_var("TRESOR_KMS_KEY_FILE")
            .map(|f| ("TRESOR_KMS_KEY_FILE", Master::KeyFile(cwd.join(f))))
    };
    let from_option = if let Some(f) = &a.kms_passphrase_file {
        Some(("--kms-passphrase-file", Master::PassphraseFile(absolute(f))))
    } else if a.kms_passphrase {
        Some(("--kms-passphrase", Master::Passphrase))
    } else {
        None
    };
    match (from_option, from_env) {
        (Some((opt, m)), Some((var, e))) if m != e => Err(fail(format!(
            "{opt} gives the new software KMS {} as its master key, but {var} is set and would give every \
             later command {} instead; unset {var} or drop {opt}",
            m.describe(),
            e.describe()
        ))),
        (Some((_, m)), _) | (None, Some((_, m))) => Ok(m),
        (None, None) => Ok(Master::KeyFile(dir.join("tresor-kms.key"))),
    }
}

pub(crate) fn init(ctx: &Ctx, a: InitArgs) -> Result<(), Failure> {
    if ctx.sources.canton_config.is_some() || ctx.sources.node.is_some() {
        return Err(fail(
            "init writes a tresor config file; --canton-config and --node apply to the other commands",
        ));
    }
    if a.use_config {
        return init_from_config(ctx);
    }
    let (config_path, _) = ctx.sources.config_path();
    let config_path = absolute(&config_path);
    if config_path.exists() && !a.force {
        return Err(fail(format!(
            "config file '{}' already exists (pass --force to replace it, or --use-config to create the \
             store and KMS it names)",
            config_path.display()
        )));
    }
    let dir = config_path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&dir)
        .map_err(|e| fail(format!("cannot create directory '{}': {e}", dir.display())))?;
    let master = choose_master(&a, &dir)?;
    let db =
        a.db.as_deref()
            .map_or_else(|| dir.join("tresor.db"), absolute);
    let kms_path = dir.join("tresor-kms.db");
    if let Some(parent) = db.parent() {
        std::fs::create_dir_all(parent).map_err(|e| {
            fail(format!(
                "cannot create directory '{}': {e}",
                parent.display()
            ))
        })?;
    }

    // The passphrase of a new passphrase KMS, before anything is created.
    let uses_kms = a.mode != InitMode::Clear;
    let passphrase = match &master {
        Master::Passphrase if uses_kms => Some(ui::new_kms_passphrase()?),
        _ => None,
    };
    if let Master::PassphraseFile(p) = &master {
        if !p.exists() {
            return Err(fail(format!(
                "the passphrase file '{}' does not exist (write the passphrase on its first line, mode 0600)",
                p.display()
            )));
        }
        files::check_secret_file(p, "software KMS passphrase file")?;
    }

    let mut created: Vec<(PathBuf, &str)> = Vec::new();
    let mut kept: Vec<(PathBuf, &str)> = Vec::new();
    match &master {
        Master::KeyFile(key_file) if key_file.exists() => {
            kept.push((key_file.clone(), "software KMS master key"));
        }
        Master::KeyFile(key_file) => {
            tresor::kms::software::create_key_file(key_file).map_err(context("init"))?;
            created.push((key_file.clone(), "software KMS master key (mode 0600)"));
        }
        Master::PassphraseFile(p) => kept.push((p.clone(), "software KMS passphrase file")),
        Master::Passphrase => {}
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
        master: match &master {
            Master::KeyFile(p) => InitMaster::KeyFile(relative_to(p, &dir)),
            Master::PassphraseFile(p) => InitMaster::PassphraseFile(relative_to(p, &dir)),
            Master::Passphrase => InitMaster::Passphrase,
        },
    };
    let text = config::render(&choices);
    // Read the configuration exactly as the other commands will, from the text about to be written
    // (without environment overrides: init uses what it writes, and chose the master key the
    // TRESOR_KMS_* variables name).
    let cfg = Config::from_toml_str(&text, &dir, &config_path.display().to_string())
        .map_err(config_failure)?;

    let rt = runtime()?;
    let (wrapper, nkeys) = rt.block_on(async {
        let opened =
            open_with(&cfg, &ctx.ui, true, ctx.kms_log_file.as_deref(), passphrase).await?;
        let r = summary(&opened, a.mode == InitMode::Envelope).await;
        opened.vault.close().await;
        r
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
            "kms_master": master.kind(),
            "key_file": match &master { Master::KeyFile(p) => Some(p.display().to_string()), _ => None },
            "passphrase_file": match &master { Master::PassphraseFile(p) => Some(p.display().to_string()), _ => None },
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
        } else if *what == "software KMS" {
            format!("software KMS (master key: {})", master.describe())
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
    if master == Master::Passphrase {
        s.push_str(
            "\nThe software KMS is protected by a passphrase: every command needs it (TRESOR_KMS_PASSPHRASE, \
             or typed when asked).\n",
        );
    }
    s.push_str(
        "\nNext: tresor key generate --purpose signing --spec ec-curve-25519 --usage namespace --name namespace\n",
    );
    out(&s);
    Ok(())
}

/// The wrapper key (envelope mode) and the number of keys of a freshly opened vault.
async fn summary(opened: &Opened, envelope: bool) -> Result<(Option<KmsKeyId>, usize), Failure> {
    let wrapper = if envelope {
        envelope::recorded_wrapper_key(&opened.vault)
            .await
            .map_err(context("reading the wrapper key id"))?
    } else {
        None
    };
    let n = opened
        .vault
        .list_keys()
        .await
        .map_err(context("listing keys"))?
        .len();
    Ok((wrapper, n))
}

/// `init --use-config`: create the store and the software KMS the existing configuration names.
fn init_from_config(ctx: &Ctx) -> Result<(), Failure> {
    let cfg = config::load(&ctx.sources)?;
    let mut created: Vec<String> = Vec::new();
    let url = cfg.store_url().unwrap_or_default().to_string();
    let targets = [
        (
            url.strip_prefix("sqlite://").map(PathBuf::from),
            "key store",
        ),
        (
            cfg.kms()
                .and_then(|k| k.software())
                .map(|s| s.path.clone())
                .filter(|_| !matches!(cfg.mode(), Ok(Mode::Clear))),
            "software KMS",
        ),
    ];
    for (p, what) in targets {
        if let Some(p) = p {
            if let Some(parent) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| {
                    fail(format!(
                        "cannot create directory '{}': {e}",
                        parent.display()
                    ))
                })?;
            }
            if create_private_file(&p, what)? {
                created.push(p.display().to_string());
            }
        }
    }
    if let Some(SoftwareMaster::KeyFile(k)) = cfg
        .kms()
        .and_then(|k| k.software())
        .map(|s| &s.master)
        .filter(|_| !matches!(cfg.mode(), Ok(Mode::Clear)))
        && !k.exists()
    {
        tresor::kms::software::create_key_file(k).map_err(context("init"))?;
        created.push(k.display().to_string());
    }
    let passphrase = if cfg.needs_kms_passphrase() {
        Some(ui::new_kms_passphrase()?)
    } else {
        None
    };
    let rt = runtime()?;
    let (wrapper, nkeys) = rt.block_on(async {
        let opened =
            open_with(&cfg, &ctx.ui, true, ctx.kms_log_file.as_deref(), passphrase).await?;
        let envelope = matches!(cfg.mode(), Ok(Mode::Envelope(c)) if !c.reverted);
        let r = summary(&opened, envelope).await;
        opened.vault.close().await;
        r
    })?;
    if ctx.ui.json {
        ctx.ui.print_json(&json!({
            "config": cfg.file().map(|f| f.display().to_string()),
            "mode": cfg.mode_name(),
            "store_url": cfg.store_url(),
            "kms_master": cfg.kms().map(master_source_desc),
            "wrapper_key_id": wrapper.as_ref().map(KmsKeyId::as_str),
            "keys": nkeys,
            "created": created,
        }));
        return Ok(());
    }
    let mut s = format!(
        "opened the store the configuration{} names: {} mode, {nkeys} key{}\n",
        cfg.file()
            .map_or_else(String::new, |f| format!(" '{}'", f.display())),
        cfg.mode_name(),
        if nkeys == 1 { "" } else { "s" }
    );
    for c in &created {
        s.push_str(&format!("created {c}\n"));
    }
    if let Some(w) = wrapper {
        s.push_str(&format!("wrapper key: {w}\n"));
    }
    out(&s);
    Ok(())
}
