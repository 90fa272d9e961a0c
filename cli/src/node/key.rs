//! `tresor key …`.

use super::*;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};

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

pub(crate) fn key_cmd(ctx: &Ctx, c: KeyCmd) -> Result<(), Failure> {
    match c {
        KeyCmd::Generate(a) => generate(ctx, a),
        KeyCmd::List => list(ctx),
        KeyCmd::Show(a) => {
            let fp = parse_fp(&a.fingerprint)?;
            let k = with_vault(ctx, async |o, _| {
                o.vault.key_info(&fp).await.map_err(Failure::from)
            })?;
            print_key(&ctx.ui, &k, true);
            Ok(())
        }
        KeyCmd::Public(a) => public(ctx, a),
        KeyCmd::Delete(a) => delete(ctx, a),
        KeyCmd::Rotate(a) => {
            let fp = parse_fp(&a.fingerprint)?;
            let (old, new) = with_vault(ctx, async |o, _| {
                let old = o.vault.key_info(&fp).await?;
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

/// `key list`: every key that reads back; a damaged row is not listed but named in the error that
/// ends the command (exit 2), after the others were printed.
fn list(ctx: &Ctx) -> Result<(), Failure> {
    let (entries, url) = with_vault(ctx, async |o, _| {
        let keys = o.vault.list_keys_lenient().await?;
        Ok((keys, o.vault.store_url().to_string()))
    })?;
    let mut keys = Vec::with_capacity(entries.len());
    let mut damaged = Vec::new();
    for e in entries {
        match e {
            Ok(k) => keys.push(k),
            Err(e) => damaged.push(e.to_string()),
        }
    }
    let result = if damaged.is_empty() {
        Ok(())
    } else {
        Err(fail(format!(
            "{} key row(s) not listed: {}; 'tresor store check' lists every problem",
            damaged.len(),
            damaged.join("; ")
        )))
    };
    if ctx.ui.json {
        ctx.ui
            .print_json(&Value::Array(keys.iter().map(key_json).collect()));
        return result;
    }
    if keys.is_empty() {
        if damaged.is_empty() {
            out(&format!("no keys in the store ({url})"));
        }
        return result;
    }
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|k| {
            vec![
                k.fingerprint.to_string(),
                k.name.clone().unwrap_or_else(|| "-".into()),
                k.purpose().as_str().into(),
                k.spec.as_str().to_string(),
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
    result
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
    // A damaged row (one that does not decode or fails its integrity check) can be deleted too: it is
    // described by its problem instead of its fields.
    let info = with_vault(ctx, async |o, _| {
        let info = match o.vault.key_info(&fp).await {
            Ok(info) => Ok(info),
            Err(e) if e.kind() == ErrorKind::StoreCorrupted => Err(e.message().to_string()),
            Err(e) => return Err(e.into()),
        };
        if !a.yes {
            let what = match &info {
                Ok(info) => format!(
                    "Delete key {} ({}{} {}{})? This cannot be undone.",
                    info.fingerprint,
                    info.name
                        .as_deref()
                        .map_or_else(String::new, |n| format!("'{n}', ")),
                    info.purpose(),
                    info.spec,
                    info.usage.map_or_else(String::new, |u| format!(", {u}")),
                ),
                Err(problem) => {
                    format!("Delete the damaged key row {fp} ({problem})? This cannot be undone.")
                }
            };
            let hint = format!("refusing to delete key {fp} without confirmation: pass --yes");
            if !ui::confirm(&what, &hint)? {
                return Err(fail(format!("key {fp} not deleted (not confirmed)")));
            }
        }
        o.vault.delete_key(&fp).await?;
        Ok(info)
    })?;
    match info {
        Ok(info) => {
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
        }
        Err(problem) => {
            if ctx.ui.json {
                ctx.ui.print_json(
                    &json!({"deleted": {"fingerprint": fp.to_string(), "damaged": problem}}),
                );
            } else {
                out(&format!("deleted the damaged key row {fp}"));
            }
        }
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
        let info = o.vault.key_info(&fp).await?;
        let password = ui::export_password(a.password_file.as_deref(), true)?;
        let sealed = o.vault.export_sealed(&fp, password.as_bytes()).await?;
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
            o.vault.delete_key(&fp).await?;
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
        o.vault
            .import_sealed(&text, password.as_bytes(), a.name.as_deref())
            .await
            .map_err(context(&what))
    })?;
    if ctx.ui.json {
        ctx.ui.print_json(&json!({"imported": key_json(&info)}));
    } else {
        out(&format!("imported\n{}", key_pairs(&info)));
    }
    Ok(())
}
