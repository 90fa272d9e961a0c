//! `tresor key …`.

use super::*;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};
use tresor::vault::KeyFilter;

#[derive(Subcommand, Debug)]
pub(crate) enum KeyCmd {
    /// Generate a key in the store (or in the KMS, in external mode).
    Generate(GenerateArgs),
    /// List the keys (a table, or a JSON array with --json), optionally filtered as Canton's
    /// keys.secret.list filters them.
    List(ListArgs),
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
    /// Import a key: a file written by `tresor key export` (asks for its password), or an unencrypted
    /// PKCS#8 private key in PEM or DER (as OpenSSL writes it).
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

/// What a key argument accepts (the help text of every KEY argument).
const KEY_HELP: &str =
    "The key: its fingerprint (68 hex characters, 1220…), a unique prefix of it, or its name";

#[derive(Args, Debug)]
pub(crate) struct FpArg {
    #[arg(value_name = "KEY", help = KEY_HELP)]
    fingerprint: String,
}

#[derive(Args, Debug)]
pub(crate) struct ListArgs {
    /// Only keys whose fingerprint starts with this.
    #[arg(long, value_name = "PREFIX")]
    fingerprint: Option<String>,
    /// Only keys whose name contains this.
    #[arg(long, value_name = "TEXT")]
    name: Option<String>,
    /// Only keys of these purposes (comma-separated: signing, encryption).
    #[arg(long, value_name = "PURPOSE[,PURPOSE]")]
    purpose: Option<String>,
    /// Only signing keys whose usage includes one of these (comma-separated: namespace,
    /// sequencer-auth, protocol, proof-of-ownership).
    #[arg(long, value_name = "USAGE[,USAGE]")]
    usage: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PublicFormat {
    Pem,
    Der,
    Jwk,
}

#[derive(Args, Debug)]
pub(crate) struct PublicArgs {
    #[arg(value_name = "KEY", help = KEY_HELP)]
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
    #[arg(value_name = "KEY", help = KEY_HELP)]
    fingerprint: String,
    /// Do not ask for confirmation (needed when standard input is not a terminal).
    #[arg(long)]
    yes: bool,
}

#[derive(Args, Debug)]
pub(crate) struct ExportArgs {
    #[arg(value_name = "KEY", help = KEY_HELP)]
    fingerprint: String,
    /// The export file (created with mode 0600).
    #[arg(long)]
    out: PathBuf,
    /// Read the password from the first line of this file (mode 0600; else TRESOR_EXPORT_PASSWORD,
    /// else a prompt).
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
    /// Accept a password shorter than 12 characters.
    #[arg(long)]
    allow_short_password: bool,
    /// After the export file is written and read back, delete the key from the store.
    #[arg(long)]
    delete: bool,
    /// Replace an existing export file.
    #[arg(long)]
    force: bool,
}

#[derive(Args, Debug)]
pub(crate) struct ImportArgs {
    /// The file: a `tresor key export` file, or a PKCS#8 private key (PEM or DER).
    file: PathBuf,
    /// Name the imported key (default: the name recorded in an export file).
    #[arg(long)]
    name: Option<String>,
    /// An export file's password: the first line of this file (mode 0600; else TRESOR_EXPORT_PASSWORD,
    /// else a prompt).
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
    /// A PKCS#8 key: signing or encryption (needed only for P-256 keys, which can be either).
    #[arg(long, value_enum)]
    purpose: Option<PurposeArg>,
    /// A PKCS#8 signing key: what it may sign, comma-separated (namespace, sequencer-auth, protocol,
    /// proof-of-ownership).
    #[arg(long)]
    usage: Option<String>,
}

pub(crate) fn key_cmd(ctx: &Ctx, c: KeyCmd) -> Result<(), Failure> {
    match c {
        KeyCmd::Generate(a) => generate(ctx, a),
        KeyCmd::List(a) => list(ctx, a),
        KeyCmd::Show(a) => {
            let k = with_vault(ctx, async |o, _| find(&o.vault, &a.fingerprint).await)?;
            print_key(&ctx.ui, &k, true);
            Ok(())
        }
        KeyCmd::Public(a) => public(ctx, a),
        KeyCmd::Delete(a) => delete(ctx, a),
        KeyCmd::Rotate(a) => {
            let (old, new) = with_vault(ctx, async |o, _| {
                let old = find(&o.vault, &a.fingerprint).await?;
                let new = o.vault.rotate_node_key(&old.fingerprint).await?;
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

/// The filter of `key list` (Canton's `keys.secret.list` filters).
fn list_filter(a: &ListArgs) -> Result<KeyFilter, Failure> {
    let mut f = KeyFilter::new();
    if let Some(p) = &a.fingerprint {
        if !p.trim().bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(fail(format!(
                "--fingerprint '{}': a fingerprint prefix is hex digits",
                p.escape_debug()
            )));
        }
        f = f.fingerprint(p.trim());
    }
    if let Some(n) = &a.name {
        f = f.name(n.clone());
    }
    for p in a
        .purpose
        .iter()
        .flat_map(|p| p.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        f = f.purpose(p.parse::<Purpose>().map_err(|_| {
            fail(format!(
                "--purpose '{}': accepted: signing, encryption",
                p.escape_debug()
            ))
        })?);
    }
    for u in a
        .usage
        .iter()
        .flat_map(|u| u.split(','))
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        f = f.usage(u.parse::<tresor::SigningKeyUsage>().map_err(|_| {
            fail(format!(
                "--usage '{}': accepted: {USAGES}",
                u.escape_debug()
            ))
        })?);
    }
    Ok(f)
}

/// `key list`: every key that reads back and passes the filter; a damaged row is not listed but named
/// in the error that ends the command (exit 2), after the others were printed.
fn list(ctx: &Ctx, a: ListArgs) -> Result<(), Failure> {
    let filter = list_filter(&a)?;
    let (entries, url) = with_vault(ctx, async |o, _| {
        let keys = o.vault.list_keys_matching_lenient(&filter).await?;
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
            if filter == KeyFilter::new() {
                out(&format!("no keys in the store ({url})"));
            } else {
                out(&format!("no keys match ({url})"));
            }
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
    let to_stdout = a.out.as_os_str() == "-";
    if a.format == PublicFormat::Der && to_stdout && !ctx.ui.json && std::io::stdout().is_terminal()
    {
        return Err(fail(
            "DER is binary: pass --out <file> (or redirect standard output)",
        ));
    }
    files::check_output(&a.out, a.force, "output file")?;
    let info = with_vault(ctx, async |o, _| find(&o.vault, &a.fingerprint).await)?;
    let pk = &info.public_key;
    let format = match a.format {
        PublicFormat::Pem => "pem",
        PublicFormat::Der => "der",
        PublicFormat::Jwk => "jwk",
    };
    if ctx.ui.json && to_stdout {
        // The key inside the JSON: PEM text, DER as base64, the JWK as an object.
        use base64::Engine as _;
        let key = match a.format {
            PublicFormat::Pem => Value::String(pk.to_pem()),
            PublicFormat::Der => {
                Value::String(base64::engine::general_purpose::STANDARD.encode(pk.spki_der()))
            }
            PublicFormat::Jwk => serde_json::from_str(&pk.to_jwk()).unwrap_or(Value::Null),
        };
        ctx.ui.print_json(&json!({
            "fingerprint": info.fingerprint.to_string(),
            "format": format,
            "public_key": key,
        }));
        return Ok(());
    }
    let bytes = match a.format {
        PublicFormat::Pem => pk.to_pem().into_bytes(),
        PublicFormat::Der => pk.spki_der().to_vec(),
        PublicFormat::Jwk => format!("{}\n", pk.to_jwk()).into_bytes(),
    };
    files::write(&a.out, &bytes, FileMode::Public, a.force, "output file")?;
    if ctx.ui.json {
        ctx.ui.print_json(&json!({
            "fingerprint": info.fingerprint.to_string(),
            "format": format,
            "file": a.out.display().to_string(),
        }));
    }
    Ok(())
}

fn delete(ctx: &Ctx, a: DeleteArgs) -> Result<(), Failure> {
    // A damaged row (one that does not decode or fails its integrity check), given by its full
    // fingerprint, can be deleted too: it is described by its problem instead of its fields.
    let (fp, info) = with_vault(ctx, async |o, _| {
        let (fp, info) = match find(&o.vault, &a.fingerprint).await {
            Ok(info) => (info.fingerprint, Ok(info)),
            Err(f) => match a.fingerprint.trim().parse::<tresor::Fingerprint>() {
                Ok(fp) if f.message.contains("store_corrupted") => (fp, Err(f.message)),
                _ => return Err(f),
            },
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
        Ok((fp, info))
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
    files::check_output(&a.out, a.force, "export file")?;
    let regular_or_new = !matches!(std::fs::metadata(&a.out), Ok(m) if !m.is_file());
    if a.delete && (a.out.as_os_str() == "-" || !regular_or_new) {
        return Err(fail(
            "--delete needs --out <file>, a regular file (the export is read back before the key is deleted)",
        ));
    }
    let info = with_vault(ctx, async |o, _| {
        let info = find(&o.vault, &a.fingerprint).await?;
        let fp = info.fingerprint;
        let password =
            ui::export_password(a.password_file.as_deref(), true, a.allow_short_password)?;
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

/// What a file given to `key import` holds.
enum ImportFile {
    /// A `tresor key export` file (JSON).
    Export(String),
    /// An unencrypted PKCS#8 private key (PEM or DER).
    Pkcs8(tresor::PrivateKey),
}

fn import_file(path: &Path) -> Result<ImportFile, Failure> {
    let bytes = Zeroizing::new(files::read_nonempty(path, "key file")?);
    let text = core::str::from_utf8(&bytes).ok();
    if let Some(t) = text.filter(|t| t.trim_start().starts_with('{')) {
        return Ok(ImportFile::Export(t.to_string()));
    }
    if text.is_some_and(|t| t.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
        return Err(fail(format!(
            "key file '{}' is an encrypted PKCS#8 key; decrypt it first (openssl pkcs8 -in <file> -out <plain.pem>) \
             or import a `tresor key export` file",
            path.display()
        )));
    }
    tresor::PrivateKey::from_der_or_pem(&bytes)
        .map(ImportFile::Pkcs8)
        .map_err(|e| {
            fail(format!(
                "key file '{}' is neither a tresor key export nor a PKCS#8 private key (PEM or DER): {} (error {} {})",
                path.display(),
                e.message(),
                e.code(),
                e.kind()
            ))
        })
}

/// The purpose of an imported PKCS#8 key: `--purpose`, else the only one its type allows.
fn import_purpose(key: &tresor::PrivateKey, a: &ImportArgs) -> Result<Purpose, Failure> {
    let kt = key.key_type();
    let signing = kt.require(Purpose::Signing).is_ok();
    let encryption = kt.require(Purpose::Encryption).is_ok();
    match (a.purpose, signing, encryption) {
        (Some(PurposeArg::Signing), _, _) => Ok(Purpose::Signing),
        (Some(PurposeArg::Encryption), _, _) => Ok(Purpose::Encryption),
        (None, true, false) => Ok(Purpose::Signing),
        (None, false, true) => Ok(Purpose::Encryption),
        _ => Err(fail(format!(
            "a {kt} key can sign or decrypt: pass --purpose signing (with --usage) or --purpose encryption"
        ))),
    }
}

fn import(ctx: &Ctx, a: ImportArgs) -> Result<(), Failure> {
    let file = import_file(&a.file)?;
    let what = format!("key file '{}'", a.file.display());
    let info = match file {
        ImportFile::Export(text) => {
            if a.purpose.is_some() || a.usage.is_some() {
                return Err(fail(
                    "--purpose and --usage apply to PKCS#8 keys; an export file records them",
                ));
            }
            with_vault(ctx, async |o, _| {
                let password = ui::export_password(a.password_file.as_deref(), false, true)?;
                o.vault
                    .import_sealed(&text, password.as_bytes(), a.name.as_deref())
                    .await
                    .map_err(context(&what))
            })?
        }
        ImportFile::Pkcs8(key) => {
            if a.password_file.is_some() {
                return Err(fail(
                    "--password-file applies to tresor export files; this is an unencrypted PKCS#8 key",
                ));
            }
            let purpose = import_purpose(&key, &a)?;
            let usage = match (purpose, &a.usage) {
                (Purpose::Signing, Some(u)) => Some(parse_usage(u)?),
                (Purpose::Signing, None) => {
                    return Err(fail(format!(
                        "a signing key needs --usage: what it may sign, comma-separated: {USAGES}"
                    )));
                }
                (Purpose::Encryption, Some(_)) => {
                    return Err(fail(
                        "--usage applies to signing keys only (encryption keys have no usage)",
                    ));
                }
                (Purpose::Encryption, None) => None,
            };
            with_vault(ctx, async |o, _| {
                o.vault
                    .import_private_key(&key, purpose, usage, a.name.as_deref())
                    .await
                    .map_err(context(&what))
            })?
        }
    };
    if ctx.ui.json {
        ctx.ui.print_json(&json!({"imported": key_json(&info)}));
    } else {
        out(&format!("imported\n{}", key_pairs(&info)));
    }
    Ok(())
}
