//! `tresor store check` and `tresor backup <dir>`.

use super::*;
use clap::{Args, Subcommand};

#[derive(Subcommand, Debug)]
pub(crate) enum StoreCmd {
    /// Check the whole store and list every problem (damaged rows, keys whose rights fail their
    /// integrity check, private keys that do not open, SQLite's own check); exit 2 when there is one.
    Check,
}

#[derive(Args, Debug)]
pub(crate) struct BackupArgs {
    /// The directory to write the copy to (created, mode 0700; it must be empty if it exists).
    dir: PathBuf,
}

pub(crate) fn store_cmd(ctx: &Ctx, c: StoreCmd) -> Result<(), Failure> {
    match c {
        StoreCmd::Check => check(ctx),
    }
}

fn check(ctx: &Ctx) -> Result<(), Failure> {
    let (problems, keys, url) = with_vault(ctx, async |o, _| {
        let problems = o.vault.check_store().await?;
        let keys = o.vault.list_keys_lenient().await?.len();
        Ok((problems, keys, o.vault.store_url().to_string()))
    })?;
    if ctx.ui.json {
        let list: Vec<Value> = problems
            .iter()
            .map(|p| json!({"fingerprint": p.fingerprint, "problem": p.problem}))
            .collect();
        ctx.ui.print_json(&json!({
            "store": url,
            "rows": keys,
            "problems": list,
        }));
    } else if problems.is_empty() {
        out(&format!(
            "store {url}: {keys} key rows checked, no problem found"
        ));
    } else {
        let rows: Vec<Vec<String>> = problems
            .iter()
            .map(|p| {
                vec![
                    p.fingerprint.clone().unwrap_or_else(|| "(store)".into()),
                    p.problem.clone(),
                ]
            })
            .collect();
        out(&table(&["ROW", "PROBLEM"], &rows));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(fail(format!(
            "store {url}: {} problem(s) found in {keys} key rows; 'tresor key delete <fingerprint>' removes \
             a damaged row",
            problems.len()
        )))
    }
}

/// A file name of `path`, for the copy in the backup directory.
fn file_name(path: &Path, what: &str) -> Result<PathBuf, Failure> {
    path.file_name()
        .map(PathBuf::from)
        .ok_or_else(|| fail(format!("{what} '{}' has no file name", path.display())))
}

pub(crate) fn backup(ctx: &Ctx, a: BackupArgs) -> Result<(), Failure> {
    let cfg = config::load(&ctx.sources)?;
    let url = cfg
        .store_url()
        .ok_or_else(|| fail("the key store is not configured"))?
        .to_string();
    let Some(store_path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(|p| PathBuf::from(p.split('?').next().unwrap_or("")))
        .filter(|p| !p.as_os_str().is_empty() && !p.to_string_lossy().starts_with(':'))
    else {
        return Err(fail(format!(
            "the key store {} is not a SQLite file: back it up with the database's own tools \
             (PostgreSQL: pg_dump -Fc, or a base backup with WAL archiving), and the KMS with the KMS's",
            tresor::util::redact_url(&url)
        )));
    };
    let dir = &a.dir;
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .map_err(|e| fail(format!("cannot read '{}': {e}", dir.display())))?
            .next()
            .is_none();
        if !empty {
            return Err(fail(format!(
                "backup directory '{}' is not empty: give a new or empty directory",
                dir.display()
            )));
        }
    } else {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt as _;
            b.mode(0o700);
        }
        b.create(dir)
            .map_err(|e| fail(format!("cannot create '{}': {e}", dir.display())))?;
    }
    let store_copy = dir.join(file_name(&store_path, "the key store")?);
    let software = cfg.kms().and_then(|k| k.software()).cloned();
    let kms_copy = match &software {
        Some(s) => Some((
            s.path.clone(),
            dir.join(file_name(&s.path, "the KMS file")?),
        )),
        None => None,
    };
    if kms_copy.as_ref().is_some_and(|(_, c)| *c == store_copy) {
        return Err(fail(
            "the key store and the KMS file have the same file name; back them up separately",
        ));
    }
    let mut written: Vec<(PathBuf, &str)> = Vec::new();
    with_vault(ctx, async |o, _| {
        o.vault
            .backup_store(&store_copy, async || match &kms_copy {
                Some((src, dest)) => tresor::vault::backup_sqlite_file(src, dest).await,
                None => Ok(()),
            })
            .await
            .map_err(context("backup"))
    })?;
    written.push((store_copy.clone(), "key store"));
    if let Some((_, dest)) = &kms_copy {
        written.push((dest.clone(), "software KMS"));
    }
    let mut notes = Vec::new();
    if let Some(s) = &software {
        match &s.master {
            tresor::kms::registry::SoftwareMaster::KeyFile(p) => {
                let dest = dir.join(file_name(p, "the KMS key file")?);
                let bytes = std::fs::read(p)
                    .map_err(|e| fail(format!("cannot read '{}': {e}", p.display())))?;
                let bytes = zeroize::Zeroizing::new(bytes);
                files::write(&dest, &bytes, FileMode::Private, false, "KMS key file copy")?;
                written.push((dest, "software KMS key file"));
            }
            _ => notes.push(
                "the software KMS passphrase is not part of the backup: keep it apart".to_string(),
            ),
        }
    } else if cfg.kms().is_some() {
        notes.push(
            "the KMS keys stay in the KMS: the copy needs the same KMS (and its wrapper key) to open"
                .to_string(),
        );
    }
    let (config_path, _) = ctx.sources.config_path();
    if config_path.is_file() {
        let dest = dir.join("tresor.toml");
        let text = std::fs::read(&config_path)
            .map_err(|e| fail(format!("cannot read '{}': {e}", config_path.display())))?;
        files::write(&dest, &text, FileMode::Public, false, "config copy")?;
        written.push((
            dest,
            "config (as it was; its paths are relative to its directory)",
        ));
    }
    if ctx.ui.json {
        ctx.ui.print_json(&json!({
            "dir": dir.display().to_string(),
            "files": written.iter().map(|(p, w)| json!({"path": p.display().to_string(), "what": w})).collect::<Vec<_>>(),
            "notes": notes,
        }));
    } else {
        let mut s = format!("backup written to {}:\n", dir.display());
        for (p, w) in &written {
            s.push_str(&format!("  {}  ({w})\n", p.display()));
        }
        for n in &notes {
            s.push_str(&format!("note: {n}\n"));
        }
        out(s.trim_end());
    }
    Ok(())
}
