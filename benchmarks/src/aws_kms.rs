//! Signing through the AWS KMS driver against an AWS KMS endpoint (moto; `benchmarks/aws_kms.sh` starts
//! it), at 1, 8 and 64 concurrent requests:
//! * a bare aws-sdk-kms client `Sign` call (SDK defaults),
//! * tresor's `layered(AwsKms)` sign with the default layers (retry, rate limit, health), audit off,
//! * the same with the audit log on (a temporary file, flushed per line),
//!
//! each with p50/p99 latency and throughput; then how many KMS requests each vault mode makes per
//! operation, counted by the fault proxy of the tests (`core/tests/common/faultproxy.rs`, no faults
//! injected) between the vault and the endpoint.
//!
//! usage: tresor-aws-kms-bench [--ops-per-worker N] [--min-ops N]
//! environment: TRESOR_TEST_AWS_ENDPOINT (e.g. http://127.0.0.1:54181), AWS_ACCESS_KEY_ID,
//! AWS_SECRET_ACCESS_KEY, AWS_REGION.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../../core/tests/common/faultproxy.rs"]
mod faultproxy;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_kms::config::{BehaviorVersion, Region};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, KeyUsageType, MessageType, SigningAlgorithmSpec as AwsAlgo};
use faultproxy::FaultProxy;
use tresor::audit::{AuditLog, AuditLogConfig};
use tresor::kms::aws::{AwsConfig, AwsKms};
use tresor::kms::{KmsDriver, KmsKeyId, LayerConfig, layered};
use tresor::vault::{EnvelopeConfig, Mode, Vault, VaultOptions};
use tresor::{SigningAlgorithmSpec, SigningKeySpec, SigningKeyUsageSet};

const CONCURRENCY: [usize; 3] = [1, 8, 64];

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn region() -> String {
    std::env::var("AWS_REGION")
        .ok()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "us-east-1".to_string())
}

/// Latency percentiles and throughput of one run.
#[derive(Debug, Clone, Copy)]
struct Stats {
    p50_ms: f64,
    p99_ms: f64,
    ops_per_s: f64,
}

/// Run `total` calls of `op` on `concurrency` tasks at once.
async fn measure<F, Fut>(concurrency: usize, total: usize, op: F) -> Stats
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

async fn tresor_driver(
    endpoint: &str,
    audit: Option<Arc<AuditLog>>,
    rate_limit: bool,
) -> Arc<dyn KmsDriver> {
    let kms: Arc<dyn KmsDriver> = Arc::new(
        AwsKms::new(AwsConfig {
            region: region(),
            endpoint_override: Some(endpoint.to_string()),
            audit_logging: audit.is_some(),
            ..Default::default()
        })
        .await
        .expect("aws driver"),
    );
    let mut cfg = LayerConfig::defaults_for(&*kms);
    if let Some(log) = audit {
        cfg = cfg.with_audit(log);
    }
    if !rate_limit {
        cfg.rate_limits = None;
    }
    layered(kms, cfg)
}

/// The KMS requests (per `X-Amz-Target`) the proxy saw since `before`, e.g. `2 (CreateKey 1, GetPublicKey 1)`.
fn delta(
    proxy: &FaultProxy,
    before: &std::collections::BTreeMap<String, usize>,
    per: usize,
) -> String {
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

async fn vault_calls(endpoint: &str, dir: &std::path::Path) {
    println!(
        "\nKMS requests per vault operation (counted by the proxy between the vault and the endpoint)"
    );
    println!(
        "{:<10} {:<34} {:<44} {:<30} {:<30}",
        "mode",
        "open",
        "generate signing key (EC-P256)",
        "first sign",
        "warm sign (per op, 50 ops)"
    );
    let mut reopened = Vec::new();
    let modes = [
        ("clear", Mode::Clear),
        ("envelope", Mode::Envelope(EnvelopeConfig::default())),
        ("external", Mode::External),
    ];
    for (label, mode) in modes {
        let proxy = FaultProxy::start(endpoint).await;
        let kms = tresor_driver(&proxy.url(), None, true).await;
        let url = format!(
            "sqlite://{}",
            dir.join(format!("vault-{label}.db")).display()
        );
        let c0 = proxy.counts();
        let vault =
            match Vault::open(&url, Some(kms.clone()), VaultOptions::new(mode.clone())).await {
                Ok(v) => v,
                Err(e) => {
                    println!("{label:<10} cannot open: {e}");
                    continue;
                }
            };
        let open = delta(&proxy, &c0, 1);
        let c1 = proxy.counts();
        let usage = SigningKeyUsageSet::PROTOCOL_ONLY;
        let info = vault
            .generate_signing_key(SigningKeySpec::EcP256, usage, None)
            .await
            .expect("generate");
        let generate = delta(&proxy, &c1, 1);
        let c2 = proxy.counts();
        vault
            .sign(&info.fingerprint, b"first", usage, None)
            .await
            .expect("sign");
        let first = delta(&proxy, &c2, 1);
        let c3 = proxy.counts();
        for _ in 0..50 {
            vault
                .sign(&info.fingerprint, b"warm", usage, None)
                .await
                .expect("sign");
        }
        let warm = delta(&proxy, &c3, 50);
        println!("{label:<10} {open:<34} {generate:<44} {first:<30} {warm:<30}");

        // A restart: open the same store again, then the first (cold) and a warm sign.
        drop(vault);
        let c4 = proxy.counts();
        let vault = Vault::open(&url, Some(kms), VaultOptions::new(mode))
            .await
            .expect("reopen");
        let open = delta(&proxy, &c4, 1);
        let c5 = proxy.counts();
        vault
            .sign(&info.fingerprint, b"cold", usage, None)
            .await
            .expect("sign");
        let cold = delta(&proxy, &c5, 1);
        let c6 = proxy.counts();
        vault
            .sign(&info.fingerprint, b"warm", usage, None)
            .await
            .expect("sign");
        let warm = delta(&proxy, &c6, 1);
        reopened.push(format!("{label:<10} {open:<34} {cold:<30} {warm:<30}"));
    }
    println!(
        "\nafter a restart (same store opened again)\n{:<10} {:<34} {:<30} {:<30}",
        "mode", "open", "first (cold) sign", "next sign"
    );
    for line in reopened {
        println!("{line}");
    }
}

fn main() {
    let endpoint = std::env::var("TRESOR_TEST_AWS_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())
        .expect("TRESOR_TEST_AWS_ENDPOINT (run benchmarks/aws_kms.sh, which starts moto)");
    let per_worker = arg("--ops-per-worker", 20);
    let min_ops = arg("--min-ops", 200);
    let dir = std::env::temp_dir().join(format!("tresor-aws-kms-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let rt = tokio::runtime::Runtime::new().expect("runtime");

    rt.block_on(async {
        let shared = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region()))
            .endpoint_url(endpoint.clone())
            .load()
            .await;
        let client = aws_sdk_kms::Client::new(&shared);
        let key = client
            .create_key()
            .key_spec(KeySpec::EccNistP256)
            .key_usage(KeyUsageType::SignVerify)
            .description("tresor-aws-kms-bench")
            .send()
            .await
            .expect("CreateKey")
            .key_metadata()
            .map(|m| m.key_id().to_string())
            .expect("key id");
        let kms_id = KmsKeyId::new(key.clone()).expect("key id");
        let msg = [7u8; 64];

        let bare = {
            let client = client.clone();
            let key = key.clone();
            move || {
                let client = client.clone();
                let key = key.clone();
                async move {
                    client
                        .sign()
                        .key_id(key)
                        .message(Blob::new(msg))
                        .message_type(MessageType::Raw)
                        .signing_algorithm(AwsAlgo::EcdsaSha256)
                        .send()
                        .await
                        .expect("bare Sign");
                }
            }
        };
        let via = |d: Arc<dyn KmsDriver>| {
            let id = kms_id.clone();
            move || {
                let d = d.clone();
                let id = id.clone();
                async move {
                    d.sign(&id, &msg, SigningAlgorithmSpec::EcDsaSha256)
                        .await
                        .expect("tresor sign");
                }
            }
        };
        let plain = via(tresor_driver(&endpoint, None, true).await);
        let unlimited = via(tresor_driver(&endpoint, None, false).await);
        let log = Arc::new(
            AuditLog::open(AuditLogConfig::new(dir.join("kms-audit.log"))).expect("audit log"),
        );
        let audited = via(tresor_driver(&endpoint, Some(log), true).await);

        println!(
            "AWS KMS Sign (ECDSA P-256, 64-byte message) against {endpoint}; tresor = layered(AwsKms), \
             default layers (retry, rate limit 300/s, health)\n"
        );
        println!(
            "{:<26} {:>5} {:>7} {:>10} {:>10} {:>10}",
            "client", "conc", "ops", "p50 ms", "p99 ms", "ops/s"
        );
        let mut results: Vec<(&str, usize, Stats)> = Vec::new();
        let runs: [(&str, usize); 4] = [
            ("bare aws-sdk-kms", 0),
            ("tresor (audit off)", 1),
            ("tresor (audit on)", 2),
            ("tresor (no rate limit)", 3),
        ];
        for &c in &CONCURRENCY {
            let total = (c * per_worker).max(min_ops);
            for (label, which) in runs {
                // A short warm-up at this concurrency (connections, caches), then the measured run.
                let stats = match which {
                    0 => {
                        measure(c, c * 2, bare.clone()).await;
                        measure(c, total, bare.clone()).await
                    }
                    1 => {
                        measure(c, c * 2, plain.clone()).await;
                        measure(c, total, plain.clone()).await
                    }
                    2 => {
                        measure(c, c * 2, audited.clone()).await;
                        measure(c, total, audited.clone()).await
                    }
                    _ => {
                        measure(c, c * 2, unlimited.clone()).await;
                        measure(c, total, unlimited.clone()).await
                    }
                };
                println!(
                    "{label:<26} {c:>5} {total:>7} {:>10.2} {:>10.2} {:>10.0}",
                    stats.p50_ms, stats.p99_ms, stats.ops_per_s
                );
                results.push((label, c, stats));
            }
        }
        let get = |label: &str, c: usize| {
            results
                .iter()
                .find(|(l, cc, _)| *l == label && *cc == c)
                .map(|(_, _, s)| *s)
                .expect("result")
        };
        println!();
        for &c in &CONCURRENCY {
            let b = get("bare aws-sdk-kms", c);
            let t = get("tresor (audit off)", c);
            let a = get("tresor (audit on)", c);
            let u = get("tresor (no rate limit)", c);
            println!(
                "concurrency {c:>2}: tresor adds {:.2} ms at p50 ({:.2} ms with audit on, {:.2} ms without \
                 the rate limiter)",
                t.p50_ms - b.p50_ms,
                a.p50_ms - b.p50_ms,
                u.p50_ms - b.p50_ms
            );
        }
        for (label, _) in runs {
            let one = get(label, 1).ops_per_s;
            let growth: Vec<String> = CONCURRENCY
                .iter()
                .map(|&c| format!("{c}: {:.1}x", get(label, c).ops_per_s / one))
                .collect();
            println!(
                "throughput growth, {label:<24} {}",
                growth.join("   ")
            );
        }

        vault_calls(&endpoint, &dir).await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}
