//! `sign`, `verify`, `encrypt` and `decrypt` with a key in the store (`--fingerprint`: a fingerprint, a
//! unique prefix of one, or a key name).

use super::*;
use crate::offline::{report_invalid, report_output, report_valid};

/// `sign --fingerprint`.
pub(crate) fn sign(
    ctx: &Ctx,
    key: &str,
    usage: Option<&str>,
    algo: Option<&str>,
    input: &Path,
    output: &Path,
    force: bool,
) -> Result<(), Failure> {
    let usage = match usage {
        Some(u) => parse_usage(u)?,
        None => {
            return Err(fail(format!(
                "signing with a key in the store needs --usage ({USAGES}); the key's usage must allow it"
            )));
        }
    };
    let algo: Option<SigningAlgorithmSpec> = algo.map(str::parse).transpose()?;
    files::check_output(output, force, "signature file")?;
    let msg = files::read(input, "input file")?;
    let (info, sig) = with_vault(ctx, async |o, _| {
        let info = find(&o.vault, key).await?;
        let sig = o.vault.sign(&info.fingerprint, &msg, usage, algo).await?;
        Ok((info, sig))
    })?;
    files::write_output(output, &sig, FileMode::Public, force, "signature file")?;
    let algorithm = info
        .signing_spec()
        .and_then(|s| s.algorithm(algo).ok())
        .map(|a| a.as_str());
    report_output(&ctx.ui, &info.fingerprint, algorithm, output, sig.len());
    Ok(())
}

/// `verify --fingerprint`: exit 0 valid, 1 invalid.
pub(crate) fn verify(
    ctx: &Ctx,
    key: &str,
    algo: Option<&str>,
    input: &Path,
    sig: &Path,
) -> Result<(), Failure> {
    let algo: Option<SigningAlgorithmSpec> = algo.map(str::parse).transpose()?;
    let msg = files::read(input, "input file")?;
    let sig = files::read_nonempty(sig, "signature file")?;
    let (info, r) = with_vault(ctx, async |o, _| {
        let info = find(&o.vault, key).await?;
        let r = o.vault.verify(&info.fingerprint, &msg, &sig, algo).await;
        Ok((info, r))
    })?;
    let algorithm = info
        .signing_spec()
        .and_then(|s| s.algorithm(algo).ok())
        .map(|a| a.as_str());
    match r {
        Ok(()) => {
            report_valid(&ctx.ui, &info.fingerprint, algorithm);
            Ok(())
        }
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::InvalidSignature | ErrorKind::MalformedSignature
            ) =>
        {
            Err(report_invalid(&ctx.ui, &info.fingerprint, algorithm, &e))
        }
        Err(e) => Err(e.into()),
    }
}

/// `encrypt --fingerprint`: the plaintext is encrypted in its own buffer (a large file is held once).
pub(crate) fn encrypt(
    ctx: &Ctx,
    key: &str,
    algo: Option<&str>,
    input: &Path,
    output: &Path,
    force: bool,
) -> Result<(), Failure> {
    let algo: Option<EncryptionAlgorithmSpec> = algo.map(str::parse).transpose()?;
    files::check_output(output, force, "output file")?;
    let mut buf = zeroize::Zeroizing::new(files::read_with_headroom(
        input,
        "input file",
        tresor::primitives::ENCRYPTION_OVERHEAD,
    )?);
    let info = with_vault(ctx, async |o, _| find(&o.vault, key).await)?;
    let spec = info.encryption_spec().ok_or_else(|| {
        Failure::from(tresor::Error::new(
            ErrorKind::IncompatibleKey,
            format!(
                "key {} is a signing key, not an encryption key",
                info.fingerprint
            ),
        ))
    })?;
    let algo = spec.algorithm(algo)?;
    let encrypter = tresor::Encrypter::new(info.public_key.clone())?;
    encrypter.encrypt_in_place(algo, &mut buf)?;
    files::write_output(output, &buf, FileMode::Public, force, "output file")?;
    report_output(
        &ctx.ui,
        &info.fingerprint,
        Some(algo.as_str()),
        output,
        buf.len(),
    );
    Ok(())
}

/// `decrypt --fingerprint`.
pub(crate) fn decrypt(
    ctx: &Ctx,
    key: &str,
    algo: Option<&str>,
    input: &Path,
    output: &Path,
    force: bool,
) -> Result<(), Failure> {
    let algo: Option<EncryptionAlgorithmSpec> = algo.map(str::parse).transpose()?;
    files::check_output(output, force, "output file")?;
    let ct = files::read_nonempty(input, "ciphertext file")?;
    let (info, pt) = with_vault(ctx, async |o, _| {
        let info = find(&o.vault, key).await?;
        let pt = o.vault.decrypt(&info.fingerprint, &ct, algo).await?;
        Ok((info, pt))
    })?;
    files::write_output(output, &pt, FileMode::Private, force, "output file")?;
    let algorithm = info
        .encryption_spec()
        .and_then(|s| s.algorithm(algo).ok())
        .map(|a| a.as_str());
    report_output(&ctx.ui, &info.fingerprint, algorithm, output, pt.len());
    Ok(())
}
