//! `tresor init`.

use super::*;
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
        tresor::kms::software::create_key_file(&key_file).map_err(context("init"))?;
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
            envelope::recorded_wrapper_key(&opened.vault).await
        } else {
            Ok(None)
        };
        let n = opened.vault.list_keys().await.map(|k| k.len());
        opened.vault.close().await;
        let wrapper = wrapper.map_err(context("reading the wrapper key id"))?;
        let n = n.map_err(context("listing keys"))?;
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
