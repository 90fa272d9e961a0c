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

pub(crate) fn backup(ctx: &Ctx, a: BackupArgs) -> Result<(), Failure> {
    let cfg = config::load(&ctx.sources)?;
    // Refused before the vault is opened: a PostgreSQL server is not contacted for a backup that
    // cannot be made.
    tresor::config::check_backup(&cfg, &a.dir)?;
    let report = with_vault(ctx, async |o, cfg| {
        tresor::config::backup(cfg, &o.vault, &a.dir)
            .await
            .map_err(context("backup"))
    })?;
    if ctx.ui.json {
        ctx.ui.print_json(&json!({
            "dir": report.dir.display().to_string(),
            "files": report.files.iter().map(|f| json!({"path": f.path.display().to_string(), "what": f.part.describe()})).collect::<Vec<_>>(),
            "notes": report.notes,
        }));
    } else {
        let mut s = format!("backup written to {}:\n", report.dir.display());
        for f in &report.files {
            s.push_str(&format!(
                "  {}  ({})\n",
                f.path.display(),
                f.part.describe()
            ));
        }
        for n in &report.notes {
            s.push_str(&format!("note: {n}\n"));
        }
        out(s.trim_end());
    }
    Ok(())
}
