//! `tresor` against the cloud KMS services, end to end through the command line, as an operator runs it:
//! external mode (keys generated, used and registered in the KMS) and envelope mode (the wrapper key
//! rotated, old wrapper keys listed and retired in the KMS, a key in use refused).
//!
//! * AWS (built with `--features aws`): local-kms at `TRESOR_TEST_AWS_ENDPOINT` (`scripts/test.sh kms-aws`),
//!   with the AWS variables for credentials and region.
//! * GCP (built with `--features gcp`): tresor's GCP KMS API test server at `TRESOR_TEST_GCP_ENDPOINT`
//!   (`scripts/test.sh kms-gcp`; not Google's service).
//!
//! A provider compiled in without its endpoint fails, unless `TRESOR_SKIP_AWS=1` / `TRESOR_SKIP_GCP=1`.
#![cfg(any(feature = "aws", feature = "gcp"))]

mod common;

use std::path::Path;
use std::sync::Arc;

use tresor::kms::{KmsDriver, KmsKeyId};
use tresor::{ErrorKind, SigningKeySpec};

use common::TempDir;
use common::plain::{json, ok};

/// Run, expect exit code 2 and stderr containing every `what` (the number of lines is not checked).
fn fails(dir: &Path, args: &[&str], what: &[&str]) -> String {
    common::failure(dir, args, &[], 2, false, what).1
}

/// A provider under test: its `[kms]` block and a driver straight to the service (to look at keys).
struct Provider {
    name: &'static str,
    kms_block: String,
    driver: Arc<dyn KmsDriver>,
    ed25519: bool,
}

fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}-{nanos}", std::process::id())
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[cfg(feature = "aws")]
fn aws(rt: &tokio::runtime::Runtime) -> Option<Provider> {
    let ep = match std::env::var("TRESOR_TEST_AWS_ENDPOINT") {
        Ok(e) if !e.is_empty() => e,
        _ if std::env::var("TRESOR_SKIP_AWS").as_deref() == Ok("1") => {
            eprintln!("skipped: AWS: TRESOR_SKIP_AWS=1 and no TRESOR_TEST_AWS_ENDPOINT");
            return None;
        }
        _ => panic!(
            "TRESOR_TEST_AWS_ENDPOINT is not set: run ./scripts/test.sh kms-aws (starts local-kms), or set \
             TRESOR_SKIP_AWS=1"
        ),
    };
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".to_string());
    let kms = rt
        .block_on(tresor::kms::aws::AwsKms::new(tresor::kms::aws::AwsConfig {
            region: region.clone(),
            endpoint_override: Some(ep.clone()),
            ..Default::default()
        }))
        .expect("AWS driver");
    Some(Provider {
        name: "aws",
        kms_block: format!(
            "[kms]\ntype = \"aws\"\nregion = \"{region}\"\nendpoint-override = \"{ep}\"\naudit-logging = true\n"
        ),
        driver: Arc::new(kms),
        // An endpoint override turns Ed25519 off unless probed; local-kms has none (its pinned gap).
        ed25519: false,
    })
}

#[cfg(feature = "gcp")]
fn gcp(rt: &tokio::runtime::Runtime) -> Option<Provider> {
    let ep = match std::env::var("TRESOR_TEST_GCP_ENDPOINT") {
        Ok(e) if !e.is_empty() => e,
        _ if std::env::var("TRESOR_SKIP_GCP").as_deref() == Ok("1") => {
            eprintln!("skipped: GCP: TRESOR_SKIP_GCP=1 and no TRESOR_TEST_GCP_ENDPOINT");
            return None;
        }
        _ => panic!(
            "TRESOR_TEST_GCP_ENDPOINT is not set: run ./scripts/test.sh kms-gcp (starts tresor's GCP KMS API \
             test server), or set TRESOR_SKIP_GCP=1"
        ),
    };
    let ring = format!("cli-{}", unique());
    let kms = rt
        .block_on(tresor::kms::gcp::GcpKms::connect(
            tresor::kms::gcp::GcpConfig {
                project_id: "tresor-cli".to_string(),
                location_id: "global".to_string(),
                key_ring_id: ring.clone(),
                endpoint_override: Some(ep.clone()),
                audit_logging: false,
            },
        ))
        .expect("GCP driver");
    Some(Provider {
        name: "gcp",
        kms_block: format!(
            "[kms]\ntype = \"gcp\"\nproject-id = \"tresor-cli\"\nlocation-id = \"global\"\nkey-ring-id = \"{ring}\"\n\
             endpoint-override = \"{ep}\"\naudit-logging = true\n"
        ),
        driver: Arc::new(kms),
        ed25519: true,
    })
}

fn providers(rt: &tokio::runtime::Runtime) -> Vec<Provider> {
    let mut v = Vec::new();
    #[cfg(feature = "aws")]
    v.extend(aws(rt));
    #[cfg(feature = "gcp")]
    v.extend(gcp(rt));
    let _ = rt;
    v
}

/// Create the store with `tresor init` (external mode, or clear mode that the first envelope-mode open
/// migrates), then point the configuration at the provider.
fn write_config(dir: &Path, p: &Provider, external: bool) {
    // An external store is bound to its KMS (its rows' integrity key is wrapped by a key of that KMS), so
    // it is created on the provider itself; a clear store is made first and then switched to envelope
    // encryption on the provider at its first open.
    if !external {
        ok(dir, &["init", "--mode", "clear", "--json"]);
    }
    let crypto = if external {
        "[crypto]\nprovider = \"kms\"\n"
    } else {
        "[crypto]\nprovider = \"jce\"\n\n[private-key-store.encryption]\ntype = \"kms\"\n"
    };
    std::fs::write(
        dir.join("tresor.toml"),
        format!(
            "[store]\nurl = \"sqlite://tresor.db\"\n\n{crypto}\n{}",
            p.kms_block
        ),
    )
    .expect("write tresor.toml");
    if external {
        ok(dir, &["init", "--use-config", "--json"]);
    }
}

fn sign_and_verify(d: &Path, fp: &str, usage: &str, tag: &str) {
    let msg = format!("msg-{tag}");
    let sig = format!("msg-{tag}.sig");
    std::fs::write(d.join(&msg), format!("a transaction for {tag}")).expect("write");
    ok(
        d,
        &[
            "sign",
            "--fingerprint",
            fp,
            "--usage",
            usage,
            "--in",
            &msg,
            "--out",
            &sig,
        ],
    );
    ok(
        d,
        &["verify", "--fingerprint", fp, "--in", &msg, "--sig", &sig],
    );
}

#[test]
fn external_mode_end_to_end() {
    let rt = rt();
    for p in providers(&rt) {
        eprintln!("[{}] external mode through the CLI", p.name);
        let t = TempDir::new(&format!("external-{}", p.name));
        let d = &t.0;
        write_config(d, &p, true);

        // A signing key generated in the KMS, used by fingerprint.
        let k = json(
            d,
            &[
                "key",
                "generate",
                "--purpose",
                "signing",
                "--spec",
                "ec-p-256",
                "--usage",
                "protocol",
                "--name",
                "node-signing",
                "--json",
            ],
        );
        assert_eq!(k["storage"], "external", "{k}");
        let fp = k["fingerprint"].as_str().expect("fingerprint").to_string();
        let kms_id = k["kms_key_id"].as_str().expect("kms key id").to_string();
        rt.block_on(
            p.driver
                .key_exists_and_is_active(&KmsKeyId::new(kms_id.clone()).expect("id")),
        )
        .unwrap_or_else(|e| panic!("[{}] the key is in the KMS: {e}", p.name));
        sign_and_verify(d, &fp, "protocol", "p256");

        // An encryption key: encrypted locally with the public key, decrypted in the KMS.
        let e = json(
            d,
            &[
                "key",
                "generate",
                "--purpose",
                "encryption",
                "--spec",
                "rsa-2048",
                "--json",
            ],
        );
        assert_eq!(e["storage"], "external");
        let efp = e["fingerprint"].as_str().expect("fingerprint").to_string();
        std::fs::write(d.join("secret"), b"a data key for the participant").expect("write");
        ok(
            d,
            &[
                "encrypt",
                "--fingerprint",
                &efp,
                "--in",
                "secret",
                "--out",
                "secret.enc",
            ],
        );
        ok(
            d,
            &[
                "decrypt",
                "--fingerprint",
                &efp,
                "--in",
                "secret.enc",
                "--out",
                "secret.dec",
            ],
        );
        assert_eq!(
            std::fs::read(d.join("secret.dec")).expect("read"),
            b"a data key for the participant"
        );

        // Ed25519 (a namespace key in the cloud KMS): GCP has it; local-kms does not (a named gap).
        let args = [
            "key",
            "generate",
            "--purpose",
            "signing",
            "--spec",
            "ec-curve-25519",
            "--usage",
            "namespace",
            "--json",
        ];
        if p.ed25519 {
            let n = json(d, &args);
            assert_eq!(n["key_spec"], "ec-curve-25519");
            sign_and_verify(
                d,
                n["fingerprint"].as_str().expect("fingerprint"),
                "namespace",
                "ed25519",
            );
        } else {
            let err = fails(d, &args, &[]);
            eprintln!(
                "gap [{}] Ed25519 key generation through the CLI: refused as the service has no Ed25519 ({})",
                p.name,
                err.trim()
            );
        }

        // A key made in the KMS beforehand, registered by the id the provider gives it.
        let made = rt
            .block_on(
                p.driver
                    .generate_signing_key_pair(SigningKeySpec::EcP384, Some("made-outside")),
            )
            .expect("generate outside tresor");
        let pk = rt
            .block_on(p.driver.get_public_key(&made))
            .expect("public key");
        let r = json(
            d,
            &[
                "kms",
                "register-signing-key",
                "--kms-key-id",
                made.as_str(),
                "--usage",
                "sequencer-auth",
                "--json",
            ],
        );
        assert_eq!(r["fingerprint"], pk.key.fingerprint().to_string().as_str());
        sign_and_verify(
            d,
            r["fingerprint"].as_str().expect("fingerprint"),
            "sequencer-auth",
            "registered",
        );

        let list = json(d, &["key", "list", "--json"]);
        let n = list.as_array().expect("array").len();
        assert_eq!(n, if p.ed25519 { 4 } else { 3 }, "{list}");
        assert!(
            list.as_array()
                .expect("array")
                .iter()
                .all(|k| k["storage"] == "external"),
            "{list}"
        );
        // Every KMS call of the commands above is in the audit log (never a secret).
        let audit = std::fs::read_to_string(d.join("tresor-kms-audit.log")).expect("audit log");
        assert!(audit.contains("Sending request"), "{audit}");
        assert!(!audit.contains("a data key for the participant"));
    }
}

#[test]
fn envelope_mode_wrapper_keys_rotated_and_retired() {
    let rt = rt();
    for p in providers(&rt) {
        eprintln!(
            "[{}] envelope mode and wrapper-key retirement through the CLI",
            p.name
        );
        let t = TempDir::new(&format!("envelope-{}", p.name));
        let d = &t.0;
        write_config(d, &p, false);
        let k = json(
            d,
            &[
                "key",
                "generate",
                "--purpose",
                "signing",
                "--spec",
                "ec-p-256",
                "--usage",
                "protocol",
                "--json",
            ],
        );
        assert_eq!(k["storage"], "sealed", "{k}");
        let fp = k["fingerprint"].as_str().expect("fingerprint").to_string();
        let w1 = json(d, &["wrapper-key", "show", "--json"])["wrapper_key_id"]
            .as_str()
            .expect("wrapper key")
            .to_string();
        let exists = |id: &str| {
            rt.block_on(
                p.driver
                    .key_exists_and_is_active(&KmsKeyId::new(id).expect("id")),
            )
        };
        exists(&w1).expect("the first wrapper key is active");

        // Rotate and disable the old key once the new one is in use.
        let r = json(
            d,
            &["wrapper-key", "rotate", "--retire-old", "disable", "--json"],
        );
        assert_eq!(r["old_wrapper_key_id"], w1.as_str());
        assert_eq!(r["old_wrapper_key"], "disabled");
        let w2 = r["new_wrapper_key_id"].as_str().expect("new").to_string();
        let e = exists(&w1).expect_err("the old wrapper key is disabled in the KMS");
        assert_eq!(e.kind(), ErrorKind::KmsKeyDisabled, "[{}] {e}", p.name);
        exists(&w2).expect("the new wrapper key is active");
        sign_and_verify(d, &fp, "protocol", "after-rotation");

        let list = json(d, &["wrapper-key", "list", "--json"]);
        let states: Vec<(String, String)> = list
            .as_array()
            .expect("array")
            .iter()
            .map(|k| {
                (
                    k["kms_key_id"].as_str().unwrap_or_default().to_string(),
                    k["state"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        assert_eq!(
            states,
            [
                (w2.clone(), "in-use".to_string()),
                (w1.clone(), "disabled".to_string())
            ]
        );
        let text = ok(d, &["wrapper-key", "list"]);
        assert!(text.contains(&w1) && text.contains("disabled"), "{text}");

        // The key in use is never retired; an unknown key is not an old wrapper key.
        fails(d, &["wrapper-key", "retire", &w2], &[&w2, "in use"]);
        exists(&w2).expect("still active");
        fails(
            d,
            &["wrapper-key", "retire", "no-such-wrapper-key"],
            &["not an old wrapper key"],
        );

        // Rotate again, keep the old one, then delete it with `retire --delete`.
        let r = json(d, &["wrapper-key", "rotate", "--json"]);
        assert_eq!(r["old_wrapper_key"], "kept");
        exists(&w2).expect("kept");
        let x = json(d, &["wrapper-key", "retire", &w2, "--delete", "--json"]);
        assert_eq!(x["state"], "deleted");
        let e = exists(&w2).expect_err("deleted (or its deletion scheduled)");
        assert!(!e.is_retryable(), "{e}");
        sign_and_verify(d, &fp, "protocol", "after-retirement");
        // The disabled one can still be deleted.
        let x = json(d, &["wrapper-key", "retire", &w1, "--delete", "--json"]);
        assert_eq!(x["state"], "deleted");
    }
}
