//! The offline commands: they work on files, with no key store.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;
use tresor::{
    Decrypter, Encrypter, EncryptionAlgorithmSpec, EncryptionKeySpec, ErrorKind, KeyType,
    PrivateKey, PublicKey, Signer, SigningAlgorithmSpec, SigningKeySpec, Verifier,
};

use serde_json::json;

use crate::files::{self, Mode};
use crate::node::{self, Ctx};
use crate::ui::Ui;
use crate::{EXIT_ERROR, EXIT_INVALID, Failure};

#[derive(Args, Debug)]
pub(crate) struct KeygenArgs {
    /// Key spec: ec-curve-25519, ec-p-256, ec-p-384, ec-secp-256k-1 or rsa-2048.
    #[arg(long)]
    spec: String,
    /// Where to write the private key (PKCS#8 PEM, created with mode 0600).
    #[arg(long)]
    out: PathBuf,
    /// Where to write the public key (SPKI PEM).
    #[arg(long)]
    public_out: Option<PathBuf>,
    /// Replace existing output files.
    #[arg(long)]
    force: bool,
}

#[derive(Args, Debug)]
pub(crate) struct FingerprintArgs {
    /// Public key file (PEM or DER SubjectPublicKeyInfo).
    key: PathBuf,
}

#[derive(Args, Debug)]
pub(crate) struct SignArgs {
    /// Private key file (PKCS#8, PEM or DER): offline signing.
    #[arg(long)]
    key: Option<PathBuf>,
    /// A signing key in the store (instead of --key): its fingerprint, a unique prefix of it, or its
    /// name.
    #[arg(long, value_name = "KEY")]
    fingerprint: Option<String>,
    /// With --fingerprint: the usage to sign for (namespace, sequencer-auth, protocol,
    /// proof-of-ownership); the key's usage must allow it.
    #[arg(long)]
    usage: Option<String>,
    /// Signing algorithm: ed-25519, ec-dsa-sha-256 or ec-dsa-sha-384 (required with --key; with
    /// --fingerprint the key spec's default).
    #[arg(long)]
    algo: Option<String>,
    /// The message to sign.
    #[arg(long = "in")]
    input: PathBuf,
    /// Where to write the signature (DER for ECDSA, raw 64 bytes for Ed25519).
    #[arg(long)]
    out: PathBuf,
    /// Replace an existing output file.
    #[arg(long)]
    force: bool,
}

#[derive(Args, Debug)]
pub(crate) struct VerifyArgs {
    /// Public key file (PEM or DER SubjectPublicKeyInfo).
    #[arg(long)]
    key: Option<PathBuf>,
    /// A signing key in the store (instead of --key): its fingerprint, a unique prefix of it, or its
    /// name.
    #[arg(long, value_name = "KEY")]
    fingerprint: Option<String>,
    /// Signing algorithm: ed-25519, ec-dsa-sha-256 or ec-dsa-sha-384 (required with --key).
    #[arg(long)]
    algo: Option<String>,
    /// The signed message.
    #[arg(long = "in")]
    input: PathBuf,
    /// The signature file (DER for ECDSA, raw 64 bytes for Ed25519).
    #[arg(long)]
    sig: PathBuf,
}

#[derive(Args, Debug)]
pub(crate) struct EncryptArgs {
    /// Public key file (P-256 for ECIES, RSA-2048 for OAEP).
    #[arg(long)]
    key: Option<PathBuf>,
    /// An encryption key in the store (instead of --key): its fingerprint, a unique prefix of it, or its
    /// name.
    #[arg(long, value_name = "KEY")]
    fingerprint: Option<String>,
    /// Encryption algorithm: ecies-hkdf-hmac-sha-256-aes-128-cbc, rsa-oaep-sha-256 (or the legacy
    /// ecies-hkdf-hmac-sha-256-aes-128-gcm). Required with --key.
    #[arg(long)]
    algo: Option<String>,
    /// The plaintext.
    #[arg(long = "in")]
    input: PathBuf,
    /// Where to write the ciphertext.
    #[arg(long)]
    out: PathBuf,
    /// Replace an existing output file.
    #[arg(long)]
    force: bool,
}

#[derive(Args, Debug)]
pub(crate) struct DecryptArgs {
    /// Private key file (PKCS#8, PEM or DER): offline decryption.
    #[arg(long)]
    key: Option<PathBuf>,
    /// An encryption key in the store (instead of --key): its fingerprint, a unique prefix of it, or its
    /// name.
    #[arg(long, value_name = "KEY")]
    fingerprint: Option<String>,
    /// Encryption algorithm the ciphertext was made with (required with --key; with --fingerprint the
    /// key spec's default).
    #[arg(long)]
    algo: Option<String>,
    /// The ciphertext.
    #[arg(long = "in")]
    input: PathBuf,
    /// Where to write the plaintext (created with mode 0600).
    #[arg(long)]
    out: PathBuf,
    /// Replace an existing output file.
    #[arg(long)]
    force: bool,
}

/// Which key a command uses: a file (offline) or a key in the store.
enum KeySource<'a> {
    File(&'a Path, &'a str),
    Store(&'a str),
}

fn key_source<'a>(
    cmd: &str,
    file_kind: &str,
    key: Option<&'a Path>,
    fingerprint: Option<&'a str>,
    algo: Option<&'a str>,
    accepted: &str,
) -> Result<KeySource<'a>, Failure> {
    match (key, fingerprint) {
        (Some(_), Some(_)) => Err(Failure::new(
            EXIT_ERROR,
            format!(
                "{cmd} takes either --key <{file_kind}> or --fingerprint <fingerprint>, not both"
            ),
        )),
        (None, None) => Err(Failure::new(
            EXIT_ERROR,
            format!(
                "{cmd} needs --key <{file_kind}> (offline) or --fingerprint <fingerprint> (a key in the store)"
            ),
        )),
        (Some(k), None) => match algo {
            Some(a) => Ok(KeySource::File(k, a)),
            None => Err(Failure::new(
                EXIT_ERROR,
                format!("{cmd} --key needs --algo (accepted: {accepted})"),
            )),
        },
        (None, Some(fp)) => Ok(KeySource::Store(fp)),
    }
}

/// Parse a key spec that may be a signing or an encryption spec.
fn parse_key_type(s: &str) -> Result<KeyType, Failure> {
    if let Ok(spec) = s.parse::<SigningKeySpec>() {
        return Ok(spec.into());
    }
    if let Ok(spec) = s.parse::<EncryptionKeySpec>() {
        return Ok(spec.into());
    }
    Err(Failure::new(
        EXIT_ERROR,
        format!(
            "unknown key spec '{}'; accepted: ec-curve-25519, ec-p-256, ec-p-384, ec-secp-256k-1, rsa-2048",
            s.escape_debug()
        ),
    ))
}

fn load_public(path: &std::path::Path) -> Result<PublicKey, Failure> {
    let bytes = files::read_nonempty(path, "public key file")?;
    PublicKey::from_der_or_pem(&bytes).map_err(|e| with_file(e, "public key file", path))
}

fn load_private(path: &std::path::Path) -> Result<PrivateKey, Failure> {
    let bytes = zeroize::Zeroizing::new(files::read_nonempty(path, "private key file")?);
    PrivateKey::from_der_or_pem(&bytes).map_err(|e| with_file(e, "private key file", path))
}

fn with_file(e: tresor::Error, what: &str, path: &std::path::Path) -> Failure {
    Failure::new(
        EXIT_ERROR,
        format!(
            "{what} '{}': {e} (error {} {})",
            path.display(),
            e.code(),
            e.kind()
        ),
    )
}

/// A key type's config string (`ec-p-256`, the name its specs share).
fn spec_name(kt: KeyType) -> &'static str {
    kt.signing_spec()
        .map(SigningKeySpec::as_str)
        .or_else(|| kt.encryption_spec().map(EncryptionKeySpec::as_str))
        .unwrap_or_else(|| kt.name())
}

/// `--json` prints a report on standard output, so the result itself must go to a file.
fn json_needs_file(ui: &Ui, out: &Path, what: &str) -> Result<(), Failure> {
    if ui.json && out.as_os_str() == "-" {
        return Err(Failure::new(
            EXIT_ERROR,
            format!(
                "--json prints a report on standard output: write the {what} to a file (--out <file>)"
            ),
        ));
    }
    Ok(())
}

/// What `sign`, `encrypt` and `decrypt` report with `--json` (nothing without it).
pub(crate) fn report_output(
    ui: &Ui,
    key: &tresor::Fingerprint,
    algorithm: Option<&str>,
    out: &Path,
    bytes: usize,
) {
    if ui.json {
        ui.print_json(&json!({
            "fingerprint": key.to_string(),
            "algorithm": algorithm,
            "out": out.display().to_string(),
            "bytes": bytes,
        }));
    }
}

/// A valid signature: `signature valid`, or `{"valid": true, …}` with `--json`.
pub(crate) fn report_valid(ui: &Ui, key: &tresor::Fingerprint, algorithm: Option<&str>) {
    if ui.json {
        ui.print_json(&json!({
            "valid": true,
            "fingerprint": key.to_string(),
            "algorithm": algorithm,
        }));
    } else {
        let _ = writeln!(std::io::stdout(), "signature valid");
    }
}

/// An invalid signature (exit 1): with `--json` also `{"valid": false, …}` on standard output.
pub(crate) fn report_invalid(
    ui: &Ui,
    key: &tresor::Fingerprint,
    algorithm: Option<&str>,
    e: &tresor::Error,
) -> Failure {
    if ui.json {
        ui.print_json(&json!({
            "valid": false,
            "fingerprint": key.to_string(),
            "algorithm": algorithm,
            "error": e.kind().to_string(),
        }));
    }
    Failure::new(EXIT_INVALID, format!("signature invalid ({e})"))
}

pub(crate) fn keygen(a: KeygenArgs, ui: Ui) -> Result<(), Failure> {
    let key_type = parse_key_type(&a.spec)?;
    json_needs_file(&ui, &a.out, "private key")?;
    for p in std::iter::once(&a.out).chain(a.public_out.as_ref()) {
        files::check_output(p, a.force, "output file")?;
    }
    let key = PrivateKey::generate(key_type)?;
    let pem = key.to_pem()?;
    files::write(
        &a.out,
        pem.as_bytes(),
        Mode::Private,
        a.force,
        "private key file",
    )?;
    if let Some(p) = &a.public_out {
        files::write(
            p,
            key.public_key().to_pem().as_bytes(),
            Mode::Public,
            a.force,
            "public key file",
        )?;
    }
    let fp = key.public_key().fingerprint();
    if ui.json {
        ui.print_json(&json!({
            "fingerprint": fp.to_string(),
            "key_spec": spec_name(key_type),
            "private_key_file": a.out.display().to_string(),
            "public_key_file": a.public_out.as_ref().map(|p| p.display().to_string()),
        }));
    } else if a.out.as_os_str() != "-" {
        let _ = writeln!(std::io::stdout(), "{fp}");
    }
    Ok(())
}

pub(crate) fn fingerprint(a: FingerprintArgs, ui: Ui) -> Result<(), Failure> {
    let key = load_public(&a.key)?;
    if ui.json {
        ui.print_json(&json!({
            "fingerprint": key.fingerprint().to_string(),
            "key_spec": spec_name(key.key_type()),
            "file": a.key.display().to_string(),
        }));
    } else {
        let _ = writeln!(std::io::stdout(), "{}", key.fingerprint());
    }
    Ok(())
}

pub(crate) fn sign(ctx: &Ctx, a: SignArgs) -> Result<(), Failure> {
    let src = key_source(
        "sign",
        "private-key-file",
        a.key.as_deref(),
        a.fingerprint.as_deref(),
        a.algo.as_deref(),
        &SigningAlgorithmSpec::accepted(),
    )?;
    json_needs_file(&ctx.ui, &a.out, "signature")?;
    let (key, algo) = match src {
        KeySource::Store(fp) => {
            return node::sign(
                ctx,
                fp,
                a.usage.as_deref(),
                a.algo.as_deref(),
                &a.input,
                &a.out,
                a.force,
            );
        }
        KeySource::File(k, algo) => (k, algo),
    };
    if a.usage.is_some() {
        return Err(Failure::new(
            EXIT_ERROR,
            "--usage applies with --fingerprint (a key in the store); a key file has no usage",
        ));
    }
    let algo: SigningAlgorithmSpec = algo.parse()?;
    files::check_output(&a.out, a.force, "signature file")?;
    let key = load_private(key)?;
    let fp = key.public_key().fingerprint();
    let signer = Signer::new(key)?;
    let msg = files::read(&a.input, "input file")?;
    let sig = signer.sign(algo, &msg)?;
    files::write_output(&a.out, &sig, Mode::Public, a.force, "signature file")?;
    report_output(&ctx.ui, &fp, Some(algo.as_str()), &a.out, sig.len());
    Ok(())
}

pub(crate) fn verify(ctx: &Ctx, a: VerifyArgs) -> Result<(), Failure> {
    let src = key_source(
        "verify",
        "public-key-file",
        a.key.as_deref(),
        a.fingerprint.as_deref(),
        a.algo.as_deref(),
        &SigningAlgorithmSpec::accepted(),
    )?;
    let (key, algo) = match src {
        KeySource::Store(fp) => return node::verify(ctx, fp, a.algo.as_deref(), &a.input, &a.sig),
        KeySource::File(k, algo) => (k, algo),
    };
    let algo: SigningAlgorithmSpec = algo.parse()?;
    let key = load_public(key)?;
    let fp = key.fingerprint();
    let verifier = Verifier::new(key)?;
    let msg = files::read(&a.input, "input file")?;
    let sig = files::read_nonempty(&a.sig, "signature file")?;
    match verifier.verify(algo, &msg, &sig) {
        Ok(()) => {
            report_valid(&ctx.ui, &fp, Some(algo.as_str()));
            Ok(())
        }
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::InvalidSignature | ErrorKind::MalformedSignature
            ) =>
        {
            Err(report_invalid(&ctx.ui, &fp, Some(algo.as_str()), &e))
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn encrypt(ctx: &Ctx, a: EncryptArgs) -> Result<(), Failure> {
    let src = key_source(
        "encrypt",
        "public-key-file",
        a.key.as_deref(),
        a.fingerprint.as_deref(),
        a.algo.as_deref(),
        &EncryptionAlgorithmSpec::accepted(),
    )?;
    json_needs_file(&ctx.ui, &a.out, "ciphertext")?;
    let (key, algo) = match src {
        KeySource::Store(fp) => {
            return node::encrypt(ctx, fp, a.algo.as_deref(), &a.input, &a.out, a.force);
        }
        KeySource::File(k, algo) => (k, algo),
    };
    let algo: EncryptionAlgorithmSpec = algo.parse()?;
    files::check_output(&a.out, a.force, "output file")?;
    let key = load_public(key)?;
    let fp = key.fingerprint();
    let encrypter = Encrypter::new(key)?;
    // Encrypted in its own buffer: a large file is held once.
    let mut buf = zeroize::Zeroizing::new(files::read_with_headroom(
        &a.input,
        "input file",
        tresor::primitives::ENCRYPTION_OVERHEAD,
    )?);
    encrypter.encrypt_in_place(algo, &mut buf)?;
    files::write_output(&a.out, &buf, Mode::Public, a.force, "output file")?;
    report_output(&ctx.ui, &fp, Some(algo.as_str()), &a.out, buf.len());
    Ok(())
}

pub(crate) fn decrypt(ctx: &Ctx, a: DecryptArgs) -> Result<(), Failure> {
    let src = key_source(
        "decrypt",
        "private-key-file",
        a.key.as_deref(),
        a.fingerprint.as_deref(),
        a.algo.as_deref(),
        &EncryptionAlgorithmSpec::accepted(),
    )?;
    json_needs_file(&ctx.ui, &a.out, "plaintext")?;
    let (key, algo) = match src {
        KeySource::Store(fp) => {
            return node::decrypt(ctx, fp, a.algo.as_deref(), &a.input, &a.out, a.force);
        }
        KeySource::File(k, algo) => (k, algo),
    };
    let algo: EncryptionAlgorithmSpec = algo.parse()?;
    files::check_output(&a.out, a.force, "output file")?;
    let key = load_private(key)?;
    let fp = key.public_key().fingerprint();
    let decrypter = Decrypter::new(key)?;
    let ct = files::read_nonempty(&a.input, "ciphertext file")?;
    let pt = decrypter.decrypt(algo, &ct)?;
    files::write_output(&a.out, &pt, Mode::Private, a.force, "output file")?;
    report_output(&ctx.ui, &fp, Some(algo.as_str()), &a.out, pt.len());
    Ok(())
}
