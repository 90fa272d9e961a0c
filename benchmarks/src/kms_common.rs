//! What the cloud-KMS benchmarks (`aws_kms.rs` on local-kms, `gcp_kms.rs` on tresor's GCP KMS API test
//! server) share: the concurrent runner with p50/p99 and throughput, the comparison tables, and the KMS
//! requests each vault operation makes, counted by the fault proxy of the tests (no fault injected).
#![allow(dead_code, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tresor::kms::KmsDriver;
use tresor::vault::{EnvelopeConfig, Mode, Vault, VaultOptions};
use tresor::{EncryptionKeySpec, SigningKeySpec, SigningKeyUsageSet};

use crate::faultproxy::FaultProxy;

/// The concurrency levels measured.
pub(crate) const CONCURRENCY: [usize; 3] = [1, 8, 64];

/// `--name N` from the command line, or `default`.
pub(crate) fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Latency percentiles and throughput of one run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stats {
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) ops_per_s: f64,
}

/// Run `total` calls of `op` on `concurrency` tasks at once.
pub(crate) async fn measure<F, Fut>(concurrency: usize, total: usize, op: F) -> Stats
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let next = next.clone();
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < total {
                let t = Instant::now();
                op().await;
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat: Vec<Duration> = Vec::with_capacity(total);
    for t in tasks {
        lat.extend(t.await.expect("worker"));
    }
    let wall = start.elapsed();
    lat.sort();
    let pick = |q: f64| {
        let i = ((lat.len() as f64 - 1.0) * q).round() as usize;
        lat.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    Stats {
        p50_ms: pick(0.50),
        p99_ms: pick(0.99),
        ops_per_s: lat.len() as f64 / wall.as_secs_f64(),
    }
}

/// One contender of a comparison: a label and the operation it runs.
pub(crate) type Op =
    Arc<dyn Fn() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Wrap an async closure as an [`Op`].
pub(crate) fn op<F, Fut>(f: F) -> Op
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Arc::new(move || Box::pin(f()))
}

/// Measure every contender at every concurrency (a short warm-up first, then `per_worker` calls per
/// task, at least `min_ops`), contenders interleaved at each level; print the table and return the
/// results by (label, concurrency).
pub(crate) async fn compare(
    contenders: &[(&'static str, Op)],
    per_worker: usize,
    min_ops: usize,
) -> BTreeMap<(&'static str, usize), Stats> {
    println!(
        "{:<34} {:>5} {:>7} {:>10} {:>10} {:>10}",
        "client", "conc", "ops", "p50 ms", "p99 ms", "ops/s"
    );
    let mut results = BTreeMap::new();
    for &c in &CONCURRENCY {
        let total = (c * per_worker).max(min_ops);
        for (label, f) in contenders {
            let f = f.clone();
            let run = move || {
                let f = f.clone();
                async move { f().await }
            };
            measure(c, c * 2, run.clone()).await;
            let stats = measure(c, total, run).await;
            println!(
                "{label:<34} {c:>5} {total:>7} {:>10.2} {:>10.2} {:>10.0}",
                stats.p50_ms, stats.p99_ms, stats.ops_per_s
            );
            results.insert((*label, c), stats);
        }
    }
    results
}

/// Print what each contender adds over `base` at p50 and p99, and how throughput grows with
/// concurrency.
pub(crate) fn print_overheads(
    results: &BTreeMap<(&'static str, usize), Stats>,
    base: &str,
    others: &[&str],
) {
    println!();
    for &c in &CONCURRENCY {
        let Some(b) = results.get(&(base, c)) else {
            continue;
        };
        let parts: Vec<String> = others
            .iter()
            .filter_map(|o| results.get(&(*o, c)).map(|s| (o, s)))
            .map(|(o, s)| {
                format!(
                    "{o}: p50 {:+.2} ms, p99 {:+.2} ms",
                    s.p50_ms - b.p50_ms,
                    s.p99_ms - b.p99_ms
                )
            })
            .collect();
        println!("concurrency {c:>2}, over {base}: {}", parts.join("; "));
    }
    let mut labels = vec![base];
    labels.extend_from_slice(others);
    for label in labels {
        let Some(one) = results.get(&(label, 1)) else {
            continue;
        };
        let growth: Vec<String> = CONCURRENCY
            .iter()
            .filter_map(|&c| results.get(&(label, c)).map(|s| (c, s)))
            .map(|(c, s)| {
                format!(
                    "{c}: {:.0} ops/s ({:.1}x)",
                    s.ops_per_s,
                    s.ops_per_s / one.ops_per_s
                )
            })
            .collect();
        println!("throughput, {label:<32} {}", growth.join("   "));
    }
}

/// The KMS requests the proxy saw since `before`, per call (`per` calls), e.g.
/// `2 (CreateKey 1, GetPublicKey 1)`.
pub(crate) fn delta(proxy: &FaultProxy, before: &BTreeMap<String, usize>, per: usize) -> String {
    let now = proxy.counts();
    let mut parts = Vec::new();
    let mut total = 0usize;
    for (target, n) in &now {
        let d = n - before.get(target).copied().unwrap_or(0);
        if d > 0 {
            total += d;
            let short = target.strip_prefix("TrentService.").unwrap_or(target);
            parts.push(format!("{short} {}", d as f64 / per as f64));
        }
    }
    let total = total as f64 / per as f64;
    if parts.is_empty() {
        "0".to_string()
    } else {
        format!("{total} ({})", parts.join(", "))
    }
}

/// How many KMS requests each vault operation makes, by mode, counted by `proxy` between the vault and
/// the service; `driver_for` makes the layered driver that talks to the proxy's URL.
pub(crate) async fn vault_calls<D, DFut>(
    proxy_url: String,
    proxy: &FaultProxy,
    driver_for: D,
    dir: &std::path::Path,
    has_symmetric_decrypt_note: &str,
) where
    D: Fn(String) -> DFut,
    DFut: Future<Output = Arc<dyn KmsDriver>>,
{
    println!(
        "\nKMS requests per vault operation (counted by a proxy between the vault and the service; \
         per call){has_symmetric_decrypt_note}"
    );
    let modes = [
        ("clear", Mode::Clear),
        ("envelope", Mode::Envelope(EnvelopeConfig::default())),
        ("external", Mode::External),
    ];
    let usage = SigningKeyUsageSet::PROTOCOL_ONLY;
    for (label, mode) in modes {
        let kms = driver_for(proxy_url.clone()).await;
        let path = dir.join(format!("vault-{label}.db"));
        let _ = std::fs::remove_file(&path);
        let url = format!("sqlite://{}", path.display());
        println!("\n[{label}]");
        let c0 = proxy.counts();
        let vault =
            match Vault::open(&url, Some(kms.clone()), VaultOptions::new(mode.clone())).await {
                Ok(v) => v,
                Err(e) => {
                    println!("  cannot open: {e}");
                    continue;
                }
            };
        println!("  {:<44} {}", "open (new store)", delta(proxy, &c0, 1));
        let c = proxy.counts();
        let info = vault
            .generate_signing_key(SigningKeySpec::EcP256, usage, None)
            .await
            .expect("generate");
        println!(
            "  {:<44} {}",
            "generate signing key (EC-P256)",
            delta(proxy, &c, 1)
        );
        let c = proxy.counts();
        vault
            .sign(&info.fingerprint, b"first", usage, None)
            .await
            .expect("sign");
        println!("  {:<44} {}", "first sign", delta(proxy, &c, 1));
        let c = proxy.counts();
        for _ in 0..20 {
            vault
                .sign(&info.fingerprint, b"warm", usage, None)
                .await
                .expect("sign");
        }
        println!(
            "  {:<44} {}",
            "sign (warm, mean of 20)",
            delta(proxy, &c, 20)
        );
        let c = proxy.counts();
        let enc = vault
            .generate_encryption_key(EncryptionKeySpec::Rsa2048, None)
            .await
            .expect("generate encryption key");
        println!(
            "  {:<44} {}",
            "generate encryption key (RSA-2048)",
            delta(proxy, &c, 1)
        );
        let ct = vault
            .encrypt(&enc.fingerprint, b"a 32-byte session key, in tests.", None)
            .await
            .expect("encrypt");
        let c = proxy.counts();
        for _ in 0..20 {
            let pt = vault
                .decrypt(&enc.fingerprint, &ct, None)
                .await
                .expect("decrypt");
            assert_eq!(pt.as_slice(), b"a 32-byte session key, in tests.");
        }
        println!(
            "  {:<44} {}",
            "decrypt (RSA-OAEP-SHA256, mean of 20)",
            delta(proxy, &c, 20)
        );
        vault.close().await;
        // A restart: the same store opened again, then the first (cold) sign.
        let c = proxy.counts();
        let kms = driver_for(proxy_url.clone()).await;
        let vault = Vault::open(&url, Some(kms), VaultOptions::new(mode))
            .await
            .expect("reopen");
        println!("  {:<44} {}", "open (existing store)", delta(proxy, &c, 1));
        let c = proxy.counts();
        vault
            .sign(&info.fingerprint, b"cold", usage, None)
            .await
            .expect("sign");
        println!(
            "  {:<44} {}",
            "first sign after reopening",
            delta(proxy, &c, 1)
        );
        vault.close().await;
    }
}
