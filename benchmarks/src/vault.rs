//! The vault's performance figures, on a real SQLite file and the software KMS, with KMS calls counted by
//! the driver itself:
//! * signing through the vault in envelope mode with a warm cache, against the raw primitive (goal ≤ 1.05×);
//! * opening an envelope store of 10,000 keys (goal: exactly 1 KMS call, under 1 s);
//! * wrapper-key rotation on 10,000 keys (goal: 2 KMS calls);
//! * data-key rotation of 10,000 keys (goal: under 5 s).
//!
//! usage: tresor-vault-bench [--keys N] [--sign-iterations N]
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tresor::kms::KmsDriver;
use tresor::kms::software::{MasterKeySource, SoftwareKms, create_key_file};
use tresor::vault::blocking::BlockingVault;
use tresor::vault::{EnvelopeConfig, ImportKey, Mode, Vault, VaultOptions};
use tresor::{
    KeyType, PrivateKey, Purpose, Signer, SigningAlgorithmSpec, SigningKeySpec, SigningKeyUsageSet,
};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn kms(dir: &Path) -> Arc<SoftwareKms> {
    Arc::new(
        SoftwareKms::open(
            &dir.join("kms.db"),
            MasterKeySource::KeyFile(dir.join("kms.key")),
        )
        .await
        .expect("open software KMS"),
    )
}

fn envelope() -> VaultOptions {
    VaultOptions::new(Mode::Envelope(EnvelopeConfig::default()))
}

/// Median per-call time of `f` over `rounds` batches of `n` calls.
fn median_us(rounds: usize, n: usize, mut f: impl FnMut()) -> f64 {
    let mut samples: Vec<f64> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..n {
                f();
            }
            t.elapsed().as_secs_f64() * 1e6 / n as f64
        })
        .collect();
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[samples.len() / 2]
}

fn main() {
    let keys = arg("--keys", 10_000);
    let iterations = arg("--sign-iterations", 100_000);
    let dir = std::env::temp_dir().join(format!("tresor-vault-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    create_key_file(&dir.join("kms.key")).expect("key file");
    let url = format!("sqlite://{}", dir.join("tresor.db").display());
    println!(
        "tresor vault benchmark: SQLite file + software KMS; KMS calls counted by the driver\n"
    );

    // 1. Warm-cache signing through the vault against the raw primitive.
    let blocking = {
        let rt = tresor::runtime().expect("runtime");
        let k: Arc<dyn KmsDriver> = rt.block_on(kms(&dir));
        let v = rt
            .block_on(Vault::open(&url, Some(k), envelope()))
            .expect("vault");
        BlockingVault::from_runtime(rt, v)
    };
    let vault = blocking.vault().clone();
    let fps = blocking.block_on(async {
        let v = &vault;
        let mut fps = Vec::new();
        for spec in [SigningKeySpec::EcCurve25519, SigningKeySpec::EcP256] {
            let info = v
                .generate_signing_key(spec, SigningKeyUsageSet::PROTOCOL_ONLY, None)
                .await
                .expect("gen");
            v.sign(
                &info.fingerprint,
                b"warm",
                SigningKeyUsageSet::PROTOCOL_ONLY,
                None,
            )
            .await
            .expect("warm up");
            fps.push((spec, info.fingerprint));
        }
        fps
    });
    println!(
        "{:<44} {:>12} {:>12} {:>8}",
        "warm-cache signing (envelope mode)", "vault µs/op", "raw µs/op", "ratio"
    );
    for (spec, fp) in &fps {
        let algo: SigningAlgorithmSpec = spec.default_algorithm();
        let key = tresor::hazmat::export_private_key_blocking(&blocking, fp).expect("key");
        let raw = Signer::new(key).expect("signer");
        let msg = [7u8; 64];
        let usage = SigningKeyUsageSet::PROTOCOL_ONLY;
        let n = iterations / 10;
        let mut r_raw = Vec::new();
        let mut r_async = Vec::new();
        let mut r_block = Vec::new();
        for _ in 0..3 {
            r_raw.push(median_us(5, n, || {
                std::hint::black_box(raw.sign(algo, &msg).expect("sign"));
            }));
            r_async.push(median_us(5, n, || {
                std::hint::black_box(
                    blocking
                        .block_on(vault.sign(fp, &msg, usage, None))
                        .expect("sign"),
                );
            }));
            r_block.push(median_us(5, n, || {
                std::hint::black_box(blocking.sign(fp, &msg, usage, None).expect("sign"));
            }));
        }
        let med = |mut v: Vec<f64>| {
            v.sort_by(|a, b| a.total_cmp(b));
            v[v.len() / 2]
        };
        let (raw_us, async_us, block_us) = (med(r_raw), med(r_async), med(r_block));
        println!(
            "{:<44} {:>12.2} {:>12.2} {:>7.3}x",
            format!("{spec} via Vault::sign (awaited)"),
            async_us,
            raw_us,
            async_us / raw_us
        );
        println!(
            "{:<44} {:>12.2} {:>12.2} {:>7.3}x",
            format!("{spec} via BlockingVault::sign"),
            block_us,
            raw_us,
            block_us / raw_us
        );
    }
    drop(vault);
    drop(blocking);
    let rt = tresor::runtime().expect("runtime");

    // 2. A store of `keys` keys: inserted in clear in one transaction, then sealed by opening in envelope mode.
    let _ = std::fs::remove_file(dir.join("tresor.db"));
    let t = Instant::now();
    let generated: Vec<(PrivateKey, String)> = (0..keys)
        .map(|i| {
            (
                PrivateKey::generate(KeyType::Ed25519).expect("gen"),
                format!("key-{i}"),
            )
        })
        .collect();
    let sample = generated[keys / 2].0.public_key().fingerprint();
    rt.block_on(async {
        let batch: Vec<ImportKey<'_>> = generated
            .iter()
            .map(|(key, name)| ImportKey {
                key,
                purpose: Purpose::Signing,
                usage: Some(SigningKeyUsageSet::ALL),
                name: Some(name),
            })
            .collect();
        let v = Vault::open(&url, None, VaultOptions::new(Mode::Clear))
            .await
            .expect("clear store");
        v.import_private_keys(&batch).await.expect("import");
        v.close().await;
    });
    drop(generated);
    println!(
        "\n{keys} Ed25519 keys generated and stored in clear in {:.2} s",
        t.elapsed().as_secs_f64()
    );

    let report = |what: &str, d: Duration, calls: u64, goal: &str| {
        println!(
            "{what:<52} {:>9.3} s {:>4} KMS call(s)   goal: {goal}",
            d.as_secs_f64(),
            calls
        );
    };
    rt.block_on(async {
        let k = kms(&dir).await;
        let t = Instant::now();
        let v = Vault::open(&url, Some(k.clone()), envelope())
            .await
            .expect("open");
        report(
            &format!("migrate {keys} clear keys to envelope (first open)"),
            t.elapsed(),
            k.total_calls(),
            "one transaction",
        );
        drop(v);

        let k = kms(&dir).await;
        let t = Instant::now();
        let v = Vault::open(&url, Some(k.clone()), envelope())
            .await
            .expect("open");
        let open = t.elapsed();
        report(
            &format!("open an envelope store of {keys} keys"),
            open,
            k.total_calls(),
            "1 call, < 1 s",
        );
        v.sign(&sample, b"m", SigningKeyUsageSet::ALL, None)
            .await
            .expect("a sealed key signs");

        let new = k
            .generate_symmetric_key(Some("bench-wrapper"))
            .await
            .expect("gen");
        let before = k.total_calls();
        let t = Instant::now();
        v.rotate_wrapper_key(Some(new)).await.expect("rotate");
        report(
            &format!("wrapper-key rotation, {keys} keys (given new key)"),
            t.elapsed(),
            k.total_calls() - before,
            "2 calls",
        );
        let before = k.total_calls();
        let t = Instant::now();
        v.rotate_wrapper_key(None).await.expect("rotate");
        report(
            &format!("wrapper-key rotation, {keys} keys (new key generated)"),
            t.elapsed(),
            k.total_calls() - before,
            "2 calls + 1 to create the key",
        );

        let before = k.total_calls();
        let t = Instant::now();
        let n = v.rotate_data_key().await.expect("rotate");
        report(
            &format!("data-key rotation, {n} keys re-sealed"),
            t.elapsed(),
            k.total_calls() - before,
            "< 5 s",
        );
        v.clear_cache();
        v.sign(&sample, b"m", SigningKeyUsageSet::ALL, None)
            .await
            .expect("a re-sealed key signs");
    });
    let _ = std::fs::remove_dir_all(&dir);
}
