//! The AWS KMS driver against local-kms (`benchmarks/aws_kms.sh` starts it), signing (ECDSA P-256, a
//! 64-byte message) at 1, 8 and 64 concurrent requests:
//! * a bare aws-sdk-kms client `Sign` call (SDK defaults),
//! * tresor's `AwsKms` driver alone (no layers),
//! * `layered(AwsKms)` with the default layers (retry, rate limit, health), audit off,
//! * the same with the audit log on (a temporary file, flushed per line),
//! * the same without the client-side rate limiter,
//!
//! with p50/p99 latency and throughput, what the driver and the layers add at p50 and p99, and how
//! throughput grows with concurrency; then how many KMS requests each vault operation makes in each mode
//! (external mode: generate, sign, decrypt), counted by the fault proxy of the tests between the vault
//! and local-kms.
//!
//! usage: tresor-aws-kms-bench [--ops-per-worker N] [--min-ops N]
//! environment: TRESOR_TEST_AWS_ENDPOINT (e.g. http://127.0.0.1:54180), AWS_ACCESS_KEY_ID,
//! AWS_SECRET_ACCESS_KEY, AWS_REGION.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../../core/tests/common/faultproxy.rs"]
mod faultproxy;
mod kms_common;

use std::sync::Arc;

use aws_sdk_kms::config::{BehaviorVersion, Region};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, KeyUsageType, MessageType, SigningAlgorithmSpec as AwsAlgo};
use faultproxy::FaultProxy;
use kms_common::{arg, compare, op, print_overheads, vault_calls};
use tresor::SigningAlgorithmSpec;
use tresor::audit::{AuditLog, AuditLogConfig};
use tresor::kms::aws::{AwsConfig, AwsKms};
use tresor::kms::{KmsDriver, KmsKeyId, LayerConfig, layered};

fn region() -> String {
    std::env::var("AWS_REGION")
        .ok()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "us-east-1".to_string())
}

async fn bare_driver(endpoint: &str, audit: bool) -> Arc<dyn KmsDriver> {
    Arc::new(
        AwsKms::new(AwsConfig {
            region: region(),
            endpoint_override: Some(endpoint.to_string()),
            audit_logging: audit,
            ..Default::default()
        })
        .await
        .expect("aws driver"),
    )
}

async fn tresor_driver(
    endpoint: &str,
    audit: Option<Arc<AuditLog>>,
    rate_limit: bool,
) -> Arc<dyn KmsDriver> {
    let kms = bare_driver(endpoint, audit.is_some()).await;
    let mut cfg = LayerConfig::defaults_for(&*kms);
    if let Some(log) = audit {
        cfg = cfg.with_audit(log);
    }
    if !rate_limit {
        cfg.rate_limits = None;
    }
    layered(kms, cfg)
}

fn main() {
    let endpoint = std::env::var("TRESOR_TEST_AWS_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())
        .expect("TRESOR_TEST_AWS_ENDPOINT (run benchmarks/aws_kms.sh, which starts local-kms)");
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
            op(move || {
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
            })
        };
        let via = |d: Arc<dyn KmsDriver>| {
            let id = kms_id.clone();
            op(move || {
                let d = d.clone();
                let id = id.clone();
                async move {
                    d.sign(&id, &msg, SigningAlgorithmSpec::EcDsaSha256)
                        .await
                        .expect("tresor sign");
                }
            })
        };
        let log = Arc::new(
            AuditLog::open(AuditLogConfig::new(dir.join("kms-audit.log"))).expect("audit log"),
        );
        let contenders = [
            ("bare aws-sdk-kms", bare),
            ("tresor driver, no layers", via(bare_driver(&endpoint, false).await)),
            ("tresor layered", via(tresor_driver(&endpoint, None, true).await)),
            (
                "tresor layered + audit log",
                via(tresor_driver(&endpoint, Some(log), true).await),
            ),
            (
                "tresor layered, no rate limiter",
                via(tresor_driver(&endpoint, None, false).await),
            ),
        ];
        println!(
            "AWS KMS Sign (ECDSA P-256, 64-byte message) against local-kms at {endpoint}; \"layered\" = \
             default layers (retry, rate limit 300/s for crypto calls, health tracking)\n"
        );
        let results = compare(&contenders, per_worker, min_ops).await;
        print_overheads(
            &results,
            "bare aws-sdk-kms",
            &[
                "tresor driver, no layers",
                "tresor layered",
                "tresor layered + audit log",
                "tresor layered, no rate limiter",
            ],
        );
        println!("\nadded by tresor's layers alone (layered over the bare driver):");
        print_overheads(
            &results,
            "tresor driver, no layers",
            &[
                "tresor layered",
                "tresor layered + audit log",
                "tresor layered, no rate limiter",
            ],
        );

        let proxy = FaultProxy::start(&endpoint).await;
        vault_calls(
            proxy.url(),
            &proxy,
            |url| async move { tresor_driver(&url, None, true).await },
            &dir,
            "",
        )
        .await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}
