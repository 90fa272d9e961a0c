//! `tresor wrapper-key …` and `tresor data-key rotate`.

use super::*;
use clap::{Args, Subcommand};
use serde_json::json;
use tresor::vault::{RetireAction, WrapperKeyInfo};

#[derive(Subcommand, Debug)]
pub(crate) enum WrapperKeyCmd {
    /// Print the wrapper key id recorded in the store.
    Show,
    /// Rotate the wrapper key: re-wrap the store data key under a new KMS key (one KMS decrypt, one
    /// encrypt, one row updated). The old key is left in the KMS unless --retire-old says otherwise.
    Rotate(RotateWrapperArgs),
    /// List the wrapper key in use and the old ones rotations replaced, with what became of them.
    List,
    /// Retire an old wrapper key in the KMS: disable it (default) or delete it. A key the store still
    /// uses is refused.
    Retire(RetireWrapperArgs),
}

/// What to do with an old wrapper key in the KMS.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RetireHow {
    /// Disable it (it stays in the KMS; the provider's tools can enable it again).
    Disable,
    /// Delete it (AWS: deletion scheduled in 7 days; GCP: version destruction scheduled; software KMS
    /// and PKCS#11: deleted at once).
    Delete,
}

impl From<RetireHow> for RetireAction {
    fn from(h: RetireHow) -> Self {
        match h {
            RetireHow::Disable => RetireAction::Disable,
            RetireHow::Delete => RetireAction::Delete,
        }
    }
}

#[derive(Args, Debug)]
pub(crate) struct RotateWrapperArgs {
    /// An existing KMS key to rotate to (default: generate one).
    #[arg(long, value_name = "KMS_KEY_ID")]
    new_key_id: Option<String>,
    /// Once the new key is in use, disable or delete the old one in the KMS.
    #[arg(long, value_enum, value_name = "disable|delete")]
    retire_old: Option<RetireHow>,
}

#[derive(Args, Debug)]
pub(crate) struct RetireWrapperArgs {
    /// The old wrapper key (as `wrapper-key list` shows it).
    #[arg(value_name = "KMS_KEY_ID")]
    kms_key_id: String,
    /// Delete it instead of disabling it.
    #[arg(long)]
    delete: bool,
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
            let retire = a.retire_old;
            let (old, new, calls, pinned, retired) = with_vault(ctx, async |o, cfg| {
                let old = recorded_wrapper_key(&o.vault).await?;
                let before = kms_calls(o);
                let new = o.vault.rotate_wrapper_key(new_id.clone()).await?;
                let calls = kms_calls(o).zip(before).map(|(a, b)| a - b);
                // The new key is in use (committed): only now is the old one retired. A failure here
                // leaves the rotation done and is reported as such.
                let retired = match (retire, &old) {
                    (Some(how), Some(old_id)) => Some(
                        o.vault
                            .retire_wrapper_key(old_id, how.into())
                            .await
                            .map_err(|e| {
                                let f = Failure::from(e);
                                Failure::new(
                                    f.code,
                                    format!(
                                        "the wrapper key was rotated to {new} (the store uses it), but \
                                         retiring the old key {old_id} failed: {}; retry with \
                                         'tresor wrapper-key retire {old_id}'",
                                        f.message
                                    ),
                                )
                            })
                            .map(|()| how)?,
                    ),
                    _ => None,
                };
                Ok((
                    old,
                    new,
                    calls,
                    cfg.wrapper_key_origin().map(str::to_string),
                    retired,
                ))
            })?;
            let old_s = old.as_ref().map_or("-", KmsKeyId::as_str).to_string();
            let old_fate = match retired {
                Some(RetireHow::Disable) => "disabled",
                Some(RetireHow::Delete) => "deleted",
                None => "kept",
            };
            if ctx.ui.json {
                ctx.ui.print_json(&json!({
                    "old_wrapper_key_id": old.as_ref().map(KmsKeyId::as_str),
                    "new_wrapper_key_id": new.as_str(),
                    "kms_calls": calls,
                    "configured_wrapper_key_id_at": pinned,
                    "old_wrapper_key": old_fate,
                }));
            } else {
                let fate = match retired {
                    Some(RetireHow::Disable) => "the old wrapper key was disabled in the KMS",
                    Some(RetireHow::Delete) => {
                        "the old wrapper key was deleted in the KMS (or its deletion scheduled)"
                    }
                    None => {
                        "the old wrapper key stays in the KMS ('tresor wrapper-key retire' disables or deletes it)"
                    }
                };
                let mut s = format!(
                    "wrapper key rotated: {old_s} -> {new}\nthe data key was re-wrapped (no key row rewritten{}); {fate}\n",
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
        WrapperKeyCmd::List => list_wrapper_keys(ctx),
        WrapperKeyCmd::Retire(a) => retire_wrapper_key(ctx, a),
    }
}

fn wrapper_key_json(k: &WrapperKeyInfo) -> serde_json::Value {
    json!({
        "kms_key_id": k.kms_key_id.as_str(),
        "state": k.state.as_str(),
        "replaced_at": k.replaced_at_ms.map(rfc3339),
        "retired_at": k.retired_at_ms.map(rfc3339),
    })
}

fn list_wrapper_keys(ctx: &Ctx) -> Result<(), Failure> {
    let keys = with_vault(ctx, async |o, _| Ok(o.vault.wrapper_keys().await?))?;
    if ctx.ui.json {
        ctx.ui.print_json(&serde_json::Value::Array(
            keys.iter().map(wrapper_key_json).collect(),
        ));
        return Ok(());
    }
    if keys.is_empty() {
        out("no wrapper keys: the store is not envelope-encrypted and no rotation replaced one");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|k| {
            vec![
                k.kms_key_id.to_string(),
                k.state.to_string(),
                k.replaced_at_ms.map_or_else(|| "-".into(), rfc3339),
                k.retired_at_ms.map_or_else(|| "-".into(), rfc3339),
            ]
        })
        .collect();
    out(&table(
        &["KMS KEY ID", "STATE", "REPLACED", "RETIRED"],
        &rows,
    ));
    Ok(())
}

fn retire_wrapper_key(ctx: &Ctx, a: RetireWrapperArgs) -> Result<(), Failure> {
    let id = KmsKeyId::new(a.kms_key_id.trim().to_string()).map_err(context("KMS_KEY_ID"))?;
    let action = if a.delete {
        RetireAction::Delete
    } else {
        RetireAction::Disable
    };
    let info = with_vault(ctx, async |o, _| {
        o.vault.retire_wrapper_key(&id, action).await?;
        let keys = o.vault.wrapper_keys().await?;
        Ok(keys.into_iter().find(|k| k.kms_key_id == id))
    })?;
    let state = info.as_ref().map_or("-", |k| k.state.as_str());
    if ctx.ui.json {
        ctx.ui
            .print_json(&json!({"kms_key_id": id.as_str(), "state": state}));
    } else {
        out(&format!("wrapper key {id}: {state}"));
    }
    Ok(())
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
