//! `tresor demo`: the keys a Canton participant uses, exercised end to end in memory, with timings.

use std::io::Write as _;
use std::time::{Duration, Instant};

use clap::Args;
use tresor::{
    Decrypter, Encrypter, EncryptionAlgorithmSpec, KeyType, PrivateKey, Signer,
    SigningAlgorithmSpec, SigningKeyUsageSet, Verifier,
};

use crate::Failure;

#[derive(Args, Debug)]
pub(crate) struct DemoArgs {
    /// How many times to repeat each timed operation.
    #[arg(long, default_value_t = 200)]
    iterations: u32,
}

fn time<T>(n: u32, mut f: impl FnMut() -> tresor::Result<T>) -> tresor::Result<Duration> {
    let n = n.max(1);
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(f()?);
    }
    Ok(start.elapsed() / n)
}

fn us(d: Duration) -> String {
    format!("{:>9.1} µs", d.as_secs_f64() * 1e6)
}

pub(crate) fn demo(a: DemoArgs) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    let backend = <tresor::DefaultBackend as tresor::primitives::Backend>::NAME;
    let _ = writeln!(
        out,
        "tresor {} demo (crypto backend: {backend})\n",
        tresor::VERSION
    );

    // The signing keys of a participant: namespace root, protocol signing, sequencer authentication.
    let signing = [
        (
            "namespace",
            KeyType::Ed25519,
            SigningKeyUsageSet::NAMESPACE_ONLY,
        ),
        (
            "protocol signing",
            KeyType::EcP256,
            SigningKeyUsageSet::PROTOCOL_ONLY,
        ),
        (
            "sequencer auth",
            KeyType::Ed25519,
            SigningKeyUsageSet::SEQUENCER_AUTHENTICATION_ONLY,
        ),
    ];
    let msg = b"canton topology transaction";
    let _ = writeln!(
        out,
        "{:<18} {:<16} {:<16} {:<70} {:>12} {:>12}",
        "key", "spec", "usage", "fingerprint", "sign", "verify"
    );
    for (name, kt, usage) in signing {
        let key = PrivateKey::generate(kt)?;
        let spec = kt.require_signing()?;
        let algo: SigningAlgorithmSpec = spec.default_algorithm();
        let fp = key.public_key().fingerprint();
        let signer = Signer::new(key.clone())?;
        let verifier = Verifier::new(key.public_key().clone())?;
        let sig = signer.sign(algo, msg)?;
        verifier.verify(algo, msg, &sig)?;
        let t_sign = time(a.iterations, || signer.sign(algo, msg))?;
        let t_verify = time(a.iterations, || verifier.verify(algo, msg, &sig))?;
        let _ = writeln!(
            out,
            "{name:<18} {:<16} {:<16} {:<70} {} {}",
            spec.as_str(),
            usage.to_string(),
            fp.to_string(),
            us(t_sign),
            us(t_verify)
        );
    }

    // The encryption key: ECIES on P-256, Canton's default.
    let key = PrivateKey::generate(KeyType::EcP256)?;
    let algo = EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Cbc;
    let encrypter = Encrypter::new(key.public_key().clone())?;
    let decrypter = Decrypter::new(key.clone())?;
    let session_key = [0x5au8; 16];
    let ct = encrypter.encrypt(algo, &session_key)?;
    let pt = decrypter.decrypt(algo, &ct)?;
    if pt.as_slice() != session_key {
        return Err(Failure::new(
            crate::EXIT_INTERNAL,
            "ECIES round trip returned different bytes",
        ));
    }
    let t_enc = time(a.iterations, || encrypter.encrypt(algo, &session_key))?;
    let t_dec = time(a.iterations, || decrypter.decrypt(algo, &ct))?;
    let _ = writeln!(
        out,
        "\n{:<18} {:<16} {:<16} {:<70} {:>12} {:>12}",
        "key", "spec", "algorithm", "fingerprint", "encrypt", "decrypt"
    );
    let _ = writeln!(
        out,
        "{:<18} {:<16} {:<16} {:<70} {} {}",
        "encryption",
        "ec-p-256",
        "ecies-cbc",
        key.public_key().fingerprint().to_string(),
        us(t_enc),
        us(t_dec)
    );
    let _ = writeln!(
        out,
        "\nAll keys signed and verified, and a {}-byte ECIES ciphertext decrypted to the original.",
        ct.len()
    );
    Ok(())
}
