//! The `tresor kms` commands, run as an operator runs them, in temporary directories: registering keys
//! made in the (software) KMS in external mode, signing with them, rotating node keys to them, refusing
//! the other modes, and the permissions table.

mod common;

use std::path::Path;

use serde_json::Value;
use tresor::kms::KmsDriver;
use tresor::kms::software::{MasterKeySource, SoftwareKms};
use tresor::{EncryptionKeySpec, SigningKeySpec};

use common::TempDir;
use common::plain::{json, ok};

/// Run and expect exit code 2 with one line on stderr, tresor's error, containing every `what`.
fn fails(dir: &Path, args: &[&str], env: &[(&str, &str)], what: &[&str]) -> String {
    let err = common::fails(dir, args, env, 2, what);
    assert!(err.starts_with("tresor: "), "{err}");
    err
}

/// What a key is made of in the software KMS that `tresor init` created.
enum Make {
    Signing(SigningKeySpec),
    Encryption(EncryptionKeySpec),
}

/// Create a key in the software KMS of `dir` through the library (as an operator would with the
/// provider's own tools); returns its KMS key id and Canton fingerprint.
fn make_key(dir: &Path, what: Make) -> (String, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let kms = SoftwareKms::open(
            &dir.join("tresor-kms.db"),
            MasterKeySource::KeyFile(dir.join("tresor-kms.key")),
        )
        .await
        .expect("open the software KMS");
        let id = match what {
            Make::Signing(s) => kms.generate_signing_key_pair(s, Some("made-outside")).await,
            Make::Encryption(s) => kms.generate_encryption_key_pair(s, None).await,
        }
        .expect("generate");
        let pk = kms.get_public_key(&id).await.expect("public key");
        (id.as_str().to_string(), pk.key.fingerprint().to_string())
    })
}

fn usages(v: &Value) -> Vec<String> {
    v["usage"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|u| u.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn register_sign_and_rotate_in_external_mode() {
    let t = TempDir::new("external");
    let d = &t.0;
    ok(d, &["init", "--mode", "external", "--json"]);

    // A signing key made in the KMS, registered with its usage.
    let (sid, sfp) = make_key(d, Make::Signing(SigningKeySpec::EcP256));
    let k = json(
        d,
        &[
            "kms",
            "register-signing-key",
            "--kms-key-id",
            &sid,
            "--usage",
            "protocol",
            "--name",
            "node-signing",
            "--json",
        ],
    );
    assert_eq!(k["fingerprint"], sfp.as_str());
    assert_eq!(k["kms_key_id"], sid.as_str());
    assert_eq!(k["storage"], "external");
    assert_eq!(k["purpose"], "signing");
    assert_eq!(k["key_spec"], "ec-p-256");
    assert_eq!(k["name"], "node-signing");
    assert_eq!(usages(&k), ["protocol"]);

    // Sign with the registered key; the signature verifies with the same key.
    std::fs::write(d.join("msg"), b"a topology transaction").expect("write");
    ok(
        d,
        &[
            "sign",
            "--fingerprint",
            &sfp,
            "--usage",
            "protocol",
            "--in",
            "msg",
            "--out",
            "msg.sig",
        ],
    );
    ok(
        d,
        &[
            "verify",
            "--fingerprint",
            &sfp,
            "--in",
            "msg",
            "--sig",
            "msg.sig",
        ],
    );
    // Its usage is what it was registered with.
    fails(
        d,
        &[
            "sign",
            "--fingerprint",
            &sfp,
            "--usage",
            "namespace",
            "--in",
            "msg",
            "--out",
            "msg2.sig",
        ],
        &[],
        &[],
    );

    // Registering the same key twice is refused.
    fails(
        d,
        &[
            "kms",
            "register-signing-key",
            "--kms-key-id",
            &sid,
            "--usage",
            "protocol",
        ],
        &[],
        &[&sid],
    );

    // An encryption key.
    let (eid, efp) = make_key(d, Make::Encryption(EncryptionKeySpec::Rsa2048));
    let e = json(
        d,
        &[
            "kms",
            "register-encryption-key",
            "--kms-key-id",
            &eid,
            "--json",
        ],
    );
    assert_eq!(e["fingerprint"], efp.as_str());
    assert_eq!(e["purpose"], "encryption");
    assert_eq!(e["key_spec"], "rsa-2048");
    assert!(e["usage"].is_null());

    // A signing key registered as an encryption key (and the reverse) is refused.
    let (other, _) = make_key(d, Make::Signing(SigningKeySpec::EcP384));
    fails(
        d,
        &["kms", "register-encryption-key", "--kms-key-id", &other],
        &[],
        &[&other],
    );
    let (other_enc, _) = make_key(d, Make::Encryption(EncryptionKeySpec::EcP256));
    fails(
        d,
        &[
            "kms",
            "register-signing-key",
            "--kms-key-id",
            &other_enc,
            "--usage",
            "protocol",
        ],
        &[],
        &[&other_enc],
    );
    // An unknown KMS key.
    fails(
        d,
        &[
            "kms",
            "register-signing-key",
            "--kms-key-id",
            "no-such-key",
            "--usage",
            "protocol",
        ],
        &[],
        &["no-such-key"],
    );

    // Rotate the signing key to a new KMS key: same usage, old row kept.
    let (nid, nfp) = make_key(d, Make::Signing(SigningKeySpec::EcP256));
    let r = json(
        d,
        &[
            "kms",
            "rotate-node-key",
            "--fingerprint",
            &sfp,
            "--new-kms-key-id",
            &nid,
            "--name",
            "node-signing-2",
            "--json",
        ],
    );
    assert_eq!(r["old"]["fingerprint"], sfp.as_str());
    assert_eq!(r["new"]["fingerprint"], nfp.as_str());
    assert_eq!(r["new"]["kms_key_id"], nid.as_str());
    assert_eq!(r["new"]["name"], "node-signing-2");
    assert_eq!(usages(&r["new"]), usages(&r["old"]));
    let list = json(d, &["key", "list", "--json"]);
    let fps: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|k| k["fingerprint"].as_str())
        .collect();
    assert!(
        fps.contains(&sfp.as_str()) && fps.contains(&nfp.as_str()),
        "{list}"
    );
    // The new key signs.
    ok(
        d,
        &[
            "sign",
            "--fingerprint",
            &nfp,
            "--usage",
            "protocol",
            "--in",
            "msg",
            "--out",
            "msg3.sig",
        ],
    );

    // Rotate the encryption key.
    let (neid, nefp) = make_key(d, Make::Encryption(EncryptionKeySpec::Rsa2048));
    let r = json(
        d,
        &[
            "kms",
            "rotate-node-key",
            "--fingerprint",
            &efp,
            "--new-kms-key-id",
            &neid,
            "--json",
        ],
    );
    assert_eq!(r["new"]["fingerprint"], nefp.as_str());
    assert_eq!(r["new"]["purpose"], "encryption");

    // Rotating a signing key to an encryption key is refused.
    let (wrong, _) = make_key(d, Make::Encryption(EncryptionKeySpec::Rsa2048));
    fails(
        d,
        &[
            "kms",
            "rotate-node-key",
            "--fingerprint",
            &nfp,
            "--new-kms-key-id",
            &wrong,
        ],
        &[],
        &[&wrong],
    );

    // Namespace keys are not node keys.
    let (nsid, nsfp) = make_key(d, Make::Signing(SigningKeySpec::EcP256));
    json(
        d,
        &[
            "kms",
            "register-signing-key",
            "--kms-key-id",
            &nsid,
            "--usage",
            "namespace",
            "--json",
        ],
    );
    let (nsid2, _) = make_key(d, Make::Signing(SigningKeySpec::EcP256));
    fails(
        d,
        &[
            "kms",
            "rotate-node-key",
            "--fingerprint",
            &nsfp,
            "--new-kms-key-id",
            &nsid2,
        ],
        &[],
        &["namespace key"],
    );

    // Text output names the key.
    let (tid, tfp) = make_key(d, Make::Signing(SigningKeySpec::EcP256));
    let text = ok(
        d,
        &[
            "kms",
            "register-signing-key",
            "--kms-key-id",
            &tid,
            "--usage",
            "sequencer-auth,protocol",
        ],
    );
    assert!(text.contains(&tfp) && text.contains(&tid), "{text}");
}

#[test]
fn other_modes_are_refused() {
    let t = TempDir::new("envelope");
    let d = &t.0;
    ok(d, &["init", "--json"]);
    fails(
        d,
        &[
            "kms",
            "register-signing-key",
            "--kms-key-id",
            "k1",
            "--usage",
            "protocol",
        ],
        &[],
        &["register-signing-key", "needs external mode", "envelope"],
    );
    fails(
        d,
        &["kms", "register-encryption-key", "--kms-key-id", "k1"],
        &[],
        &["needs external mode"],
    );
    fails(
        d,
        &[
            "kms",
            "rotate-node-key",
            "--fingerprint",
            "1220aa",
            "--new-kms-key-id",
            "k1",
        ],
        &[],
        &["rotate-node-key", "needs external mode"],
    );
}

#[test]
fn drivers_not_compiled_in_are_named() {
    let t = TempDir::new("features");
    let d = &t.0;
    ok(d, &["init", "--mode", "external", "--json"]);
    for (ty, compiled) in [
        ("aws", cfg!(feature = "aws")),
        ("gcp", cfg!(feature = "gcp")),
        ("pkcs11", cfg!(feature = "pkcs11")),
    ] {
        if compiled {
            continue;
        }
        let feature = format!("--features {ty}");
        fails(
            d,
            &["key", "list"],
            &[("TRESOR_KMS_TYPE", ty)],
            &[&format!("'{ty}'"), "cargo", &feature],
        );
    }
}

const AWS_ENVELOPE: [&str; 5] = [
    "kms:CreateKey",
    "kms:TagResource",
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:DescribeKey",
];
// External mode: Canton's list plus kms:Encrypt (the integrity records' key is wrapped in the KMS).
const AWS_EXTERNAL: [&str; 7] = [
    "kms:CreateKey",
    "kms:TagResource",
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:Sign",
    "kms:DescribeKey",
    "kms:GetPublicKey",
];
const GCP_ENVELOPE: [&str; 4] = [
    "cloudkms.cryptoKeyVersions.create",
    "cloudkms.cryptoKeyVersions.useToEncrypt",
    "cloudkms.cryptoKeyVersions.useToDecrypt",
    "cloudkms.cryptoKeys.get",
];
const GCP_EXTERNAL: [&str; 6] = [
    "cloudkms.cryptoKeyVersions.create",
    "cloudkms.cryptoKeyVersions.useToEncrypt",
    "cloudkms.cryptoKeyVersions.useToDecrypt",
    "cloudkms.cryptoKeyVersions.useToSign",
    "cloudkms.cryptoKeyVersions.get",
    "cloudkms.cryptoKeyVersions.viewPublicKey",
];

#[test]
fn permissions_match_the_operator_documentation() {
    let t = TempDir::new("permissions");
    let d = &t.0;
    let cases: [(&str, &str, &[&str]); 4] = [
        ("envelope", "aws", &AWS_ENVELOPE),
        ("external", "aws", &AWS_EXTERNAL),
        ("envelope", "gcp", &GCP_ENVELOPE),
        ("external", "gcp", &GCP_EXTERNAL),
    ];
    for (mode, provider, want) in cases {
        let v = json(
            d,
            &[
                "kms",
                "permissions",
                "--mode",
                mode,
                "--provider",
                provider,
                "--json",
            ],
        );
        assert_eq!(v["mode"], mode);
        let providers = v["providers"].as_array().expect("providers");
        assert_eq!(providers.len(), 1);
        assert_eq!(providers[0]["provider"], provider);
        let got: Vec<&str> = providers[0]["permissions"]
            .as_array()
            .expect("permissions")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(got, want, "{mode} {provider}");
        let not_needed: Vec<&str> = providers[0]["not_needed_for_cross_account_keys"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let expect_not_needed: &[&str] = if provider == "aws" {
            &["kms:CreateKey", "kms:TagResource"]
        } else {
            &["cloudkms.cryptoKeyVersions.create"]
        };
        assert_eq!(not_needed, expect_not_needed);
        assert!(
            v["cross_account_note"]
                .as_str()
                .is_some_and(|n| n.contains("across accounts or projects")),
            "{v}"
        );

        let text = ok(
            d,
            &["kms", "permissions", "--mode", mode, "--provider", provider],
        );
        for p in want {
            assert!(text.lines().any(|l| l.trim() == *p), "{p} in {text}");
        }
        let listed = text
            .lines()
            .filter(|l| l.starts_with("  ") && !l.trim().is_empty())
            .count();
        assert_eq!(listed, want.len(), "{text}");
        assert!(text.contains("kms:CreateKey, kms:TagResource and cloudkms.cryptoKeyVersions.create are not needed"), "{text}");
    }

    // Without --mode and without a config: a clear error.
    fails(
        d,
        &["kms", "permissions", "--provider", "aws"],
        &[],
        &["--mode"],
    );
    // The configured mode; with the software KMS both providers are listed.
    ok(d, &["init", "--mode", "external", "--json"]);
    let v = json(d, &["kms", "permissions", "--json"]);
    assert_eq!(v["mode"], "external");
    let names: Vec<&str> = v["providers"]
        .as_array()
        .expect("providers")
        .iter()
        .filter_map(|p| p["provider"].as_str())
        .collect();
    assert_eq!(names, ["aws", "gcp"]);
}
