//! `tresor config show`.

use super::*;
use clap::Subcommand;
use serde_json::json;

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
        .map_or_else(|| "-".to_string(), tresor::util::redact_url);
    let kms_desc = cfg.kms().map(|k| {
        if k.unsupported().is_some() {
            format!(
                "{} (set at {}; not built into this version)",
                k.kind().as_str(),
                k.origin()
            )
        } else if let Some(soft) = k.software() {
            format!("software, {}", soft.path.display())
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
            "every KMS call and key operation{} is logged to {} (hash-chained; check it with 'tresor audit verify')",
            if cfg.audit_key_use() {
                ", sign and decrypt"
            } else {
                ""
            },
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
                "path": k.software().map(|s| s.path.display().to_string()),
                "master_key": k.software().map(|_| master_source_desc(k)),
                "driver_config": (k.kind() != KmsType::Software && k.unsupported().is_none())
                    .then(|| driver_desc(k)),
                "audit_logging": k.audit_logging(),
                "audit_log_file": audit_file.as_ref().and_then(|r| r.as_ref().ok()).map(|p| p.display().to_string()),
                "audit_logging_note": audit_note,
            })),
            "audit": {"key_use": cfg.audit_key_use()},
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
        if k.unsupported().is_none() && k.kind() == KmsType::Software {
            items.push(("kms master key", master_source_desc(k)));
        }
        items.push((
            "kms audit-logging",
            format!("{} ({audit_note})", k.audit_logging()),
        ));
    }
    items.push(("audit.key-use", cfg.audit_key_use().to_string()));
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
