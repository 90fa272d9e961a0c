//! The Rust side of the C-API benchmark (`benchmarks/c_api.sh`): the operations `benchmarks/c/bench_c.c`
//! measures through libtresor's C functions, here through the Rust API, measured the same way (same
//! message, same iteration counts, median of 9 batches). Prints `<name> <ns per op>` lines.
#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::time::Instant;

use tresor::vault::blocking::BlockingVault;
use tresor::vault::{Mode, VaultOptions};
use tresor::{
    KeyType, PrivateKey, Signer, SigningKeySpec, SigningKeyUsage, SigningKeyUsageSet, Verifier,
};

const MSG: &[u8; 32] = b"benchmark message, 32 bytes long";
const BATCHES: usize = 9;

fn measure(name: &str, iters: u64, mut op: impl FnMut()) {
    for _ in 0..iters / 4 {
        op();
    }
    let mut per = [0f64; BATCHES];
    for p in &mut per {
        let t0 = Instant::now();
        for _ in 0..iters {
            op();
        }
        *p = t0.elapsed().as_nanos() as f64 / iters as f64;
    }
    per.sort_by(f64::total_cmp);
    println!("{name} {:.1}", per[BATCHES / 2]);
}

fn main() -> Result<(), tresor::Error> {
    let mut args = std::env::args().skip(1);
    let scale: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let dir = args.next().unwrap_or_else(|| ".".into());
    let usage = SigningKeyUsageSet::new(&[SigningKeyUsage::Protocol])?;
    for (kt, spec, name, iters) in [
        (
            KeyType::Ed25519,
            SigningKeySpec::EcCurve25519,
            "ed25519",
            2000u64,
        ),
        (KeyType::EcP256, SigningKeySpec::EcP256, "p256", 1000),
    ] {
        let sk = PrivateKey::generate(kt)?;
        let signer = Signer::new(sk.clone())?;
        let verifier = Verifier::new(sk.public_key().clone())?;
        let algo = spec.default_algorithm();
        let sig = signer.sign(algo, MSG)?;
        let url = format!("sqlite://{dir}/bench-rust-{name}.db");
        let vault = BlockingVault::open_with_driver(&url, None, VaultOptions::new(Mode::Clear))?;
        let fp = vault.generate_signing_key(spec, usage, None)?.fingerprint;
        let n = iters * scale;
        measure(&format!("{name}_verify"), n, || {
            verifier
                .verify(algo, black_box(MSG), black_box(&sig))
                .expect("verifies");
        });
        measure(&format!("{name}_sign"), n, || {
            black_box(signer.sign(algo, black_box(MSG)).expect("signs"));
        });
        measure(&format!("{name}_vault_sign"), n, || {
            black_box(vault.sign(&fp, black_box(MSG), usage, None).expect("signs"));
        });
    }
    Ok(())
}
