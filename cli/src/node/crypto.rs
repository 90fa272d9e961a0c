//! `sign`, `verify`, `encrypt` and `decrypt` with a key in the store (`--fingerprint`).

use super::*;

/// `sign --fingerprint`.
pub(crate) fn sign(
    ctx: &Ctx,
    fp: &str,
    usage: Option<&str>,
    algo: Option<&str>,
    input: &Path,
    output: &Path,
    force: bool,
) -> Result<(), Failure> {
    let fp = parse_fp(fp)?;
    let usage = match usage {
        Some(u) => parse_usage(u)?,
        None => {
            return Err(fail(format!(
                "signing with a key in the store needs --usage ({USAGES}); the key's usage must allow it"
            )));
        }
    };
    let algo: Option<SigningAlgorithmSpec> = algo.map(str::parse).transpose()?;
    let msg = files::read(input, "input file")?;
    let sig = with_vault(ctx, async |o, _| {
        o.vault
            .sign(&fp, &msg, usage, algo)
            .await
            .map_err(Failure::from)
    })?;
    files::write(output, &sig, FileMode::Public, force, "signature file")
}

/// `verify --fingerprint`: exit 0 valid, 1 invalid.
pub(crate) fn verify(
    ctx: &Ctx,
    fp: &str,
    algo: Option<&str>,
    input: &Path,
    sig: &Path,
) -> Result<(), Failure> {
    let fp = parse_fp(fp)?;
    let algo: Option<SigningAlgorithmSpec> = algo.map(str::parse).transpose()?;
    let msg = files::read(input, "input file")?;
    let sig = files::read_nonempty(sig, "signature file")?;
    let r = with_vault(ctx, async |o, _| {
        Ok(o.vault.verify(&fp, &msg, &sig, algo).await)
    })?;
    match r {
        Ok(()) => {
            out("signature valid");
            Ok(())
        }
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::InvalidSignature | ErrorKind::MalformedSignature
            ) =>
        {
            Err(Failure::new(
                EXIT_INVALID,
                format!("signature invalid ({e})"),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// `encrypt --fingerprint`.
pub(crate) fn encrypt(
    ctx: &Ctx,
    fp: &str,
    algo: Option<&str>,
    input: &Path,
    output: &Path,
    force: bool,
) -> Result<(), Failure> {
    let fp = parse_fp(fp)?;
    let algo: Option<EncryptionAlgorithmSpec> = algo.map(str::parse).transpose()?;
    let pt = zeroize::Zeroizing::new(files::read(input, "input file")?);
    let ct = with_vault(ctx, async |o, _| {
        o.vault.encrypt(&fp, &pt, algo).await.map_err(Failure::from)
    })?;
    files::write(output, &ct, FileMode::Public, force, "output file")
}

/// `decrypt --fingerprint`.
pub(crate) fn decrypt(
    ctx: &Ctx,
    fp: &str,
    algo: Option<&str>,
    input: &Path,
    output: &Path,
    force: bool,
) -> Result<(), Failure> {
    let fp = parse_fp(fp)?;
    let algo: Option<EncryptionAlgorithmSpec> = algo.map(str::parse).transpose()?;
    let ct = files::read_nonempty(input, "ciphertext file")?;
    let pt = with_vault(ctx, async |o, _| {
        o.vault.decrypt(&fp, &ct, algo).await.map_err(Failure::from)
    })?;
    files::write(output, &pt, FileMode::Private, force, "output file")
}
