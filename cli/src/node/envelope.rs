//! `tresor wrapper-key …` and `tresor data-key rotate`.

use super::*;
use clap::{Args, Subcommand};
use serde_json::json;

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

/// The wrapper key recorded in the store, or `None` when the vault is not envelope-encrypted.
pub(crate) async fn recorded_wrapper_key(
    v: &tresor::Vault,
) -> Result<Option<KmsKeyId>, tresor::Error> {
    match v.wrapper_key_id().await {
        Ok(id) => Ok(Some(id)),
        Err(e) if e.kind() == ErrorKind::WrongMode => Ok(None),
        Err(e) => Err(e),
    }
}

fn kms_calls(o: &Opened) -> Option<u64> {
    o.software_kms.as_ref().map(|s| s.total_calls())
}

pub(crate) fn wrapper_key_cmd(ctx: &Ctx, c: WrapperKeyCmd) -> Result<(), Failure> {
    match c {
        WrapperKeyCmd::Show => {
            let (id, mode) = with_vault(ctx, async |o, _| {
                let id = recorded_wrapper_key(&o.vault).await?;
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
                let old = recorded_wrapper_key(&o.vault).await?;
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
