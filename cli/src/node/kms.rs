//! `tresor kms …`: permissions, registering KMS keys, rotating node keys to them.

use super::*;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};

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
    /// The key to rotate: its fingerprint, a unique prefix of it, or its name.
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
/// External mode adds `kms:Encrypt` to Canton's list: tresor wraps the key of its rows' integrity
/// records under a symmetric KMS key (one encrypt when the store is made, one decrypt per start).
const AWS_EXTERNAL: &[&str] = &[
    "kms:CreateKey",
    "kms:TagResource",
    "kms:Encrypt",
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
    "cloudkms.cryptoKeyVersions.useToEncrypt",
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
                    .register_kms_key(&id, Purpose::Signing, None, Some(usage), a.name.as_deref())
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
                    .register_kms_key(&id, Purpose::Encryption, None, None, a.name.as_deref())
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
        opened.vault.close().await;
        r
    })
}

fn kms_rotate_node_key(ctx: &Ctx, a: &RotateNodeKeyArgs) -> Result<(), Failure> {
    let id =
        KmsKeyId::new(a.new_kms_key_id.trim().to_string()).map_err(context("--new-kms-key-id"))?;
    let (old, new) = with_external_vault(ctx, "rotate-node-key", async |o| {
        let old = find(&o.vault, &a.fingerprint).await?;
        let fp = old.fingerprint;
        let new = o
            .vault
            .rotate_kms_node_key(&fp, &id, a.name.as_deref())
            .await
            .map_err(|e| {
                let namespace = e.kind() == ErrorKind::UsageNotAllowed;
                let mut f = context(&format!("rotating key {fp} to KMS key {id}"))(e);
                if namespace {
                    f.message.push_str(
                        "; register the new namespace key with 'tresor kms register-signing-key'",
                    );
                }
                f
            })?;
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
        // The integrity records' key is wrapped under a symmetric KMS key in external mode too.
        assert!(permissions(External, Aws).contains(&"kms:Encrypt"));
        assert!(permissions(External, Aws).contains(&"kms:GetPublicKey"));
        assert!(permissions(Envelope, Gcp).contains(&"cloudkms.cryptoKeys.get"));
        assert!(permissions(External, Gcp).contains(&"cloudkms.cryptoKeyVersions.viewPublicKey"));
    }
}
