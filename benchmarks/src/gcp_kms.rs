//! The GCP KMS driver against tresor's GCP KMS API test server (`tests/services/gcp-kms`, Python; not
//! Google's service; `benchmarks/gcp_kms.sh` starts it), signing (ECDSA P-256 by digest, a 64-byte
//! message) at 1, 8 and 64 concurrent requests:
//! * a bare google-cloud-kms-v1 client `AsymmetricSign` call (client defaults, anonymous credentials),
//! * tresor's `GcpKms` driver alone (no layers),
//! * `layered(GcpKms)` with the default layers (retry, rate limit, health), audit off,
//! * the same with the audit log on,
//! * the same without the client-side rate limiter (GCP's default: 100 crypto requests/s),
//!
//! with p50/p99 latency and throughput, what the driver and the layers add, and how throughput grows
//! with concurrency; then how many KMS requests each vault operation makes in each mode (external mode:
//! generate, sign, decrypt), counted by the fault proxy of the tests between the vault and the server.
//! The test server is a single Python process: its throughput is its own limit, not Cloud KMS's.
//!
//! usage: tresor-gcp-kms-bench [--ops-per-worker N] [--min-ops N]
//! environment: TRESOR_TEST_GCP_ENDPOINT (the server's base URL).
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../../core/tests/common/faultproxy.rs"]
mod faultproxy;
mod kms_common;

use std::sync::Arc;

use faultproxy::FaultProxy;
use google_cloud_kms_v1::client::KeyManagementService;
use google_cloud_kms_v1::model::{Digest, digest};
use kms_common::{arg, compare, op, print_overheads, vault_calls};
use tresor::audit::{AuditLog, AuditLogConfig};
use tresor::kms::gcp::{GcpConfig, GcpKms};
use tresor::kms::{KmsDriver, LayerConfig, layered};
use tresor::{SigningAlgorithmSpec, SigningKeySpec};

fn config(endpoint: &str, ring: &str, audit: bool) -> GcpConfig {
    GcpConfig {
        project_id: "tresor-bench".to_string(),
        location_id: "global".to_string(),
        key_ring_id: ring.to_string(),
        endpoint_override: Some(endpoint.to_string()),
        audit_logging: audit,
    }
}

async fn bare_driver(endpoint: &str, ring: &str, audit: bool) -> Arc<dyn KmsDriver> {
    Arc::new(
        GcpKms::connect(config(endpoint, ring, audit))
            .await
            .expect("gcp driver"),
    )
}

async fn tresor_driver(
    endpoint: &str,
    ring: &str,
    audit: Option<Arc<AuditLog>>,
    rate_limit: bool,
) -> Arc<dyn KmsDriver> {
    let kms = bare_driver(endpoint, ring, audit.is_some()).await;
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
    let endpoint = std::env::var("TRESOR_TEST_GCP_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())
        .expect(
            "TRESOR_TEST_GCP_ENDPOINT (run benchmarks/gcp_kms.sh, which starts the test server)",
        );
    let per_worker = arg("--ops-per-worker", 20);
    let min_ops = arg("--min-ops", 200);
    let dir = std::env::temp_dir().join(format!("tresor-gcp-kms-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let ring = format!("bench-{}", std::process::id());
    let rt = tokio::runtime::Runtime::new().expect("runtime");

    rt.block_on(async {
        let plain = bare_driver(&endpoint, &ring, false).await;
        let key = plain
            .generate_signing_key_pair(SigningKeySpec::EcP256, Some("tresor-gcp-kms-bench"))
            .await
            .expect("generate");
        let version = format!(
            "projects/tresor-bench/locations/global/keyRings/{ring}/cryptoKeys/{key}/cryptoKeyVersions/1"
        );
        let client = KeyManagementService::builder()
            .with_endpoint(endpoint.clone())
            .with_credentials(google_cloud_auth::credentials::anonymous::Builder::new().build())
            .build()
            .await
            .expect("google-cloud-kms-v1 client");
        let msg = [7u8; 64];
        let digest = tresor::primitives::sha256(&msg).to_vec();

        let bare = {
            let client = client.clone();
            let version = version.clone();
            op(move || {
                let client = client.clone();
                let version = version.clone();
                let d = digest.clone();
                async move {
                    client
                        .asymmetric_sign()
                        .set_name(version)
                        .set_digest(Digest::new().set_digest(digest::Digest::Sha256(d.into())))
                        .send()
                        .await
                        .expect("bare AsymmetricSign");
                }
            })
        };
        let via = |d: Arc<dyn KmsDriver>| {
            let id = key.clone();
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
            ("bare google-cloud-kms-v1", bare),
            ("tresor driver, no layers", via(plain.clone())),
            (
                "tresor layered",
                via(tresor_driver(&endpoint, &ring, None, true).await),
            ),
            (
                "tresor layered + audit log",
                via(tresor_driver(&endpoint, &ring, Some(log), true).await),
            ),
            (
                "tresor layered, no rate limiter",
                via(tresor_driver(&endpoint, &ring, None, false).await),
            ),
        ];
        println!(
            "GCP KMS AsymmetricSign (EC_SIGN_P256_SHA256 by digest, 64-byte message) against tresor's GCP KMS \
             API test server (not Google's service) at {endpoint}; \"layered\" = default layers (retry, rate \
             limit 100/s for crypto calls, health tracking)\n"
        );
        let results = compare(&contenders, per_worker, min_ops).await;
        print_overheads(
            &results,
            "bare google-cloud-kms-v1",
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

        let proxy = FaultProxy::start_gcp(&endpoint).await;
        let vault_ring = format!("{ring}-vault");
        vault_calls(
            proxy.url(),
            &proxy,
            |url| {
                let r = vault_ring.clone();
                async move { tresor_driver(&url, &r, None, true).await }
            },
            &dir,
            "",
        )
        .await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}
