//! The store commands of the `tresor` binary, run as an operator runs them, in temporary directories:
//! init, key management, vault-mode sign/decrypt, wrapper and data key rotation, export/import,
//! configuration through files, environment variables and Canton HOCON blocks, and bad input.

mod common;

use std::path::Path;

use serde_json::Value;

use common::{TempDir, json, ok};

/// Run and expect a failure with exit code `code` and one line on stderr, tresor's own error (no
/// panic, no backtrace), containing every `what`.
fn fails(dir: &Path, args: &[&str], env: &[(&str, &str)], code: i32, what: &[&str]) -> String {
    let err = common::fails(dir, args, env, code, what);
    common::assert_tresor_error(&err);
    err
}

fn generate(dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["key", "generate", "--json"];
    args.extend_from_slice(extra);
    json(dir, &args, &[])
}

fn fp_of(v: &Value) -> String {
    v["fingerprint"].as_str().expect("fingerprint").to_string()
}

/// Write a secret file readable by its owner only (tresor refuses others).
fn write_secret(p: &Path, contents: &str) {
    std::fs::write(p, contents).expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
}

#[cfg(unix)]
fn mode_of(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).expect("stat").permissions().mode() & 0o777
}

#[test]
fn operator_lifecycle() {
    let t = TempDir::new("lifecycle");
    let d = &t.0;

    // init: config, store, software KMS and its key file; never overwrites the config.
    let out = ok(d, &["init"], &[]);
    for f in [
        "tresor.toml",
        "tresor.db",
        "tresor-kms.db",
        "tresor-kms.key",
    ] {
        assert!(d.join(f).exists(), "{f} missing");
        assert!(out.contains(f), "init must say it created {f}: {out}");
    }
    #[cfg(unix)]
    assert_eq!(mode_of(&d.join("tresor-kms.key")), 0o600);
    let config = std::fs::read_to_string(d.join("tresor.toml")).expect("config");
    assert!(config.contains("type = \"kms\""), "{config}");
    assert!(config.contains("audit-logging = true"), "{config}");
    assert!(config.contains("type = \"software\""), "{config}");
    fails(d, &["init"], &[], 2, &["already exists", "--force"]);
    assert_eq!(
        std::fs::read_to_string(d.join("tresor.toml")).expect("config"),
        config
    );

    // generate one key of every purpose and spec
    let ns = generate(
        d,
        &[
            "--purpose",
            "signing",
            "--spec",
            "ec-curve-25519",
            "--usage",
            "namespace",
            "--name",
            "namespace",
        ],
    );
    assert_eq!(ns["storage"], "sealed");
    assert_eq!(ns["usage"], serde_json::json!(["namespace"]));
    let proto = generate(
        d,
        &[
            "--purpose",
            "signing",
            "--spec",
            "ec-p-256",
            "--usage",
            "protocol",
        ],
    );
    let seq = generate(
        d,
        &[
            "--purpose",
            "signing",
            "--spec",
            "ec-p-384",
            "--usage",
            "sequencer-auth",
        ],
    );
    let k1 = generate(
        d,
        &[
            "--purpose",
            "signing",
            "--spec",
            "ec-secp-256k-1",
            "--usage",
            "protocol,proof-of-ownership",
        ],
    );
    assert_eq!(
        k1["usage"],
        serde_json::json!(["protocol", "proof-of-ownership"])
    );
    let enc = generate(
        d,
        &[
            "--purpose",
            "encryption",
            "--spec",
            "ec-p-256",
            "--name",
            "encryption",
        ],
    );
    assert_eq!(enc["usage"], Value::Null);
    let rsa = generate(d, &["--purpose", "encryption", "--spec", "rsa-2048"]);
    let (ns_fp, proto_fp, enc_fp, rsa_fp) = (fp_of(&ns), fp_of(&proto), fp_of(&enc), fp_of(&rsa));
    fails(
        d,
        &[
            "key",
            "generate",
            "--purpose",
            "signing",
            "--spec",
            "ec-p-256",
        ],
        &[],
        2,
        &[
            "needs --usage",
            "namespace, sequencer-auth, protocol, proof-of-ownership",
        ],
    );
    fails(
        d,
        &[
            "key",
            "generate",
            "--purpose",
            "signing",
            "--spec",
            "ec-p-256",
            "--usage",
            "everything",
        ],
        &[],
        2,
        &["unknown signing key usage 'everything'"],
    );
    fails(
        d,
        &[
            "key",
            "generate",
            "--purpose",
            "encryption",
            "--spec",
            "ec-curve-25519",
        ],
        &[],
        2,
        &["unknown encryption key spec"],
    );
    fails(
        d,
        &[
            "key",
            "generate",
            "--purpose",
            "encryption",
            "--spec",
            "rsa-2048",
            "--usage",
            "protocol",
        ],
        &[],
        2,
        &["signing keys only"],
    );

    // list: a table, and JSON for scripts
    let table = ok(d, &["key", "list"], &[]);
    assert!(table.starts_with("FINGERPRINT"), "{table}");
    for v in [&ns, &proto, &seq, &k1, &enc, &rsa] {
        assert!(table.contains(&fp_of(v)), "{table}");
    }
    let list = json(d, &["key", "list", "--json"], &[]);
    let arr = list.as_array().expect("array");
    assert_eq!(arr.len(), 6);
    for k in arr {
        for field in [
            "fingerprint",
            "name",
            "purpose",
            "usage",
            "key_spec",
            "storage",
            "kms_key_id",
            "created_at",
        ] {
            assert!(k.get(field).is_some(), "{field} missing in {k}");
        }
        assert_eq!(k["storage"], "sealed");
        let ts = k["created_at"].as_str().expect("created_at");
        assert!(
            ts.len() == 24 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T',
            "{ts}"
        );
    }
    assert_eq!(arr[0]["name"], "namespace");
    assert_eq!(arr[0]["key_spec"], "ec-curve-25519");
    assert_eq!(arr[5]["key_spec"], "rsa-2048");
    // the global flag works before the command too
    assert_eq!(json(d, &["--json", "key", "list"], &[]), list);

    // show and public
    let show = json(d, &["key", "show", &ns_fp, "--json"], &[]);
    assert!(
        show["public_key_pem"]
            .as_str()
            .expect("pem")
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    assert!(ok(d, &["key", "show", &ns_fp], &[]).contains("sealed (envelope encryption)"));
    ok(d, &["key", "public", &ns_fp, "--out", "ns.pem"], &[]);
    assert_eq!(ok(d, &["fingerprint", "ns.pem"], &[]).trim(), ns_fp);
    ok(
        d,
        &[
            "key",
            "public",
            &proto_fp,
            "--out",
            "proto.der",
            "--format",
            "der",
        ],
        &[],
    );
    assert_eq!(ok(d, &["fingerprint", "proto.der"], &[]).trim(), proto_fp);
    let jwk: Value =
        serde_json::from_str(&ok(d, &["key", "public", &ns_fp, "--format", "jwk"], &[]))
            .expect("jwk");
    assert_eq!(jwk["crv"], "Ed25519");
    ok(d, &["key", "public", &enc_fp, "--out", "enc.pem"], &[]);
    ok(d, &["key", "public", &rsa_fp, "--out", "rsa.pem"], &[]);

    // sign with a key in the store, verify offline with the exported public key
    std::fs::write(d.join("msg"), b"topology transaction").expect("write");
    ok(
        d,
        &[
            "sign",
            "--fingerprint",
            &ns_fp,
            "--usage",
            "namespace",
            "--in",
            "msg",
            "--out",
            "ns.sig",
        ],
        &[],
    );
    ok(
        d,
        &[
            "verify", "--key", "ns.pem", "--algo", "ed-25519", "--in", "msg", "--sig", "ns.sig",
        ],
        &[],
    );
    ok(
        d,
        &[
            "verify",
            "--fingerprint",
            &ns_fp,
            "--in",
            "msg",
            "--sig",
            "ns.sig",
        ],
        &[],
    );
    ok(
        d,
        &[
            "sign",
            "--fingerprint",
            &proto_fp,
            "--usage",
            "protocol",
            "--algo",
            "ec-dsa-sha-256",
            "--in",
            "msg",
            "--out",
            "p.sig",
        ],
        &[],
    );
    ok(d, &["key", "public", &proto_fp, "--out", "proto.pem"], &[]);
    ok(
        d,
        &[
            "verify",
            "--key",
            "proto.pem",
            "--algo",
            "ec-dsa-sha-256",
            "--in",
            "msg",
            "--sig",
            "p.sig",
        ],
        &[],
    );
    std::fs::write(d.join("msg2"), b"another message").expect("write");
    fails(
        d,
        &[
            "verify",
            "--fingerprint",
            &ns_fp,
            "--in",
            "msg2",
            "--sig",
            "ns.sig",
        ],
        &[],
        1,
        &["signature invalid"],
    );
    fails(
        d,
        &[
            "sign",
            "--fingerprint",
            &ns_fp,
            "--usage",
            "protocol",
            "--in",
            "msg",
            "--out",
            "x.sig",
        ],
        &[],
        2,
        &["does not allow protocol", "usage_not_allowed"],
    );
    fails(
        d,
        &[
            "sign",
            "--fingerprint",
            &ns_fp,
            "--in",
            "msg",
            "--out",
            "x.sig",
        ],
        &[],
        2,
        &["needs --usage"],
    );
    fails(
        d,
        &[
            "sign",
            "--fingerprint",
            &enc_fp,
            "--usage",
            "protocol",
            "--in",
            "msg",
            "--out",
            "x.sig",
        ],
        &[],
        2,
        &["is an encryption key"],
    );
    let unknown = format!("1220{}", "ab".repeat(32));
    fails(
        d,
        &[
            "sign",
            "--fingerprint",
            &unknown,
            "--usage",
            "protocol",
            "--in",
            "msg",
            "--out",
            "x.sig",
        ],
        &[],
        2,
        &["no key with fingerprint", "key_not_found"],
    );
    fails(
        d,
        &["key", "show", "12ab"],
        &[],
        2,
        &["'12ab'", "key_not_found"],
    );
    fails(d, &["key", "show", &unknown], &[], 2, &["key_not_found"]);
    fails(
        d,
        &[
            "sign",
            "--key",
            "k.pem",
            "--fingerprint",
            &ns_fp,
            "--in",
            "msg",
            "--out",
            "x.sig",
        ],
        &[],
        2,
        &["not both"],
    );
    fails(
        d,
        &["sign", "--in", "msg", "--out", "x.sig"],
        &[],
        2,
        &["--key", "--fingerprint"],
    );
    fails(
        d,
        &["sign", "--key", "k.pem", "--in", "msg", "--out", "x.sig"],
        &[],
        2,
        &["needs --algo"],
    );
    assert!(!d.join("x.sig").exists());

    // decrypt with a key in the store what was encrypted offline to its public key
    std::fs::write(d.join("secret"), b"session key bytes").expect("write");
    ok(
        d,
        &[
            "encrypt",
            "--key",
            "enc.pem",
            "--algo",
            "ecies-hkdf-hmac-sha-256-aes-128-cbc",
            "--in",
            "secret",
            "--out",
            "c1",
        ],
        &[],
    );
    ok(
        d,
        &[
            "decrypt",
            "--fingerprint",
            &enc_fp,
            "--in",
            "c1",
            "--out",
            "p1",
        ],
        &[],
    );
    assert_eq!(
        std::fs::read(d.join("p1")).expect("read"),
        b"session key bytes"
    );
    #[cfg(unix)]
    assert_eq!(mode_of(&d.join("p1")), 0o600);
    ok(
        d,
        &[
            "encrypt",
            "--key",
            "rsa.pem",
            "--algo",
            "rsa-oaep-sha-256",
            "--in",
            "secret",
            "--out",
            "c2",
        ],
        &[],
    );
    ok(
        d,
        &[
            "decrypt",
            "--fingerprint",
            &rsa_fp,
            "--in",
            "c2",
            "--out",
            "p2",
        ],
        &[],
    );
    assert_eq!(
        std::fs::read(d.join("p2")).expect("read"),
        b"session key bytes"
    );
    ok(
        d,
        &[
            "encrypt",
            "--fingerprint",
            &enc_fp,
            "--in",
            "secret",
            "--out",
            "c3",
        ],
        &[],
    );
    ok(
        d,
        &[
            "decrypt",
            "--fingerprint",
            &enc_fp,
            "--in",
            "c3",
            "--out",
            "p3",
        ],
        &[],
    );
    assert_eq!(
        std::fs::read(d.join("p3")).expect("read"),
        b"session key bytes"
    );
    let mut c = std::fs::read(d.join("c1")).expect("read");
    let last = c.len() - 1;
    c[last] ^= 1;
    std::fs::write(d.join("c1"), &c).expect("write");
    fails(
        d,
        &[
            "decrypt",
            "--fingerprint",
            &enc_fp,
            "--in",
            "c1",
            "--out",
            "p4",
        ],
        &[],
        2,
        &["decryption failed"],
    );
    assert!(!d.join("p4").exists());

    // wrapper key and data key rotation
    let w1 = ok(d, &["wrapper-key", "show"], &[]).trim().to_string();
    assert!(!w1.is_empty());
    let shown = json(d, &["wrapper-key", "show", "--json"], &[]);
    assert_eq!(shown["wrapper_key_id"], w1.as_str());
    assert_eq!(shown["mode"], "envelope");
    let rotated = json(d, &["wrapper-key", "rotate", "--json"], &[]);
    let w2 = rotated["new_wrapper_key_id"]
        .as_str()
        .expect("new id")
        .to_string();
    assert_ne!(w1, w2);
    assert_eq!(rotated["old_wrapper_key_id"], w1.as_str());
    assert_eq!(
        rotated["kms_calls"], 3,
        "decrypt under the old key, generate, encrypt under the new"
    );
    assert_eq!(ok(d, &["wrapper-key", "show"], &[]).trim(), w2);
    fails(
        d,
        &["wrapper-key", "rotate", "--new-key-id", &w2],
        &[],
        2,
        &["already in use"],
    );
    let dk = json(d, &["data-key", "rotate", "--json"], &[]);
    assert_eq!(dk["resealed_keys"], 6);
    assert_eq!(dk["kms_calls"], 1);
    assert!(ok(d, &["data-key", "rotate"], &[]).contains("6 keys re-sealed"));
    // every key still works after the rotations
    ok(
        d,
        &[
            "sign",
            "--fingerprint",
            &ns_fp,
            "--usage",
            "namespace",
            "--in",
            "msg",
            "--out",
            "ns2.sig",
        ],
        &[],
    );
    ok(
        d,
        &[
            "verify", "--key", "ns.pem", "--algo", "ed-25519", "--in", "msg", "--sig", "ns2.sig",
        ],
        &[],
    );
    ok(
        d,
        &[
            "decrypt",
            "--fingerprint",
            &rsa_fp,
            "--in",
            "c2",
            "--out",
            "p5",
        ],
        &[],
    );

    // rotate a node key: a new key with the same spec and usage; the old one is kept
    let r = json(d, &["key", "rotate", &proto_fp, "--json"], &[]);
    assert_eq!(r["old"]["fingerprint"], proto_fp.as_str());
    assert_ne!(r["new"]["fingerprint"], proto_fp.as_str());
    assert_eq!(r["new"]["usage"], serde_json::json!(["protocol"]));
    assert_eq!(r["new"]["key_spec"], "ec-p-256");
    assert_eq!(
        json(d, &["key", "list", "--json"], &[])
            .as_array()
            .map(Vec::len),
        Some(7)
    );

    // export (password from the environment) and delete from the node, import with a password file
    let pw = [("TRESOR_EXPORT_PASSWORD", "correct horse battery staple")];
    fails(
        d,
        &["key", "export", &ns_fp, "--out", "ns.export"],
        &[],
        2,
        &[
            "no export password",
            "TRESOR_EXPORT_PASSWORD",
            "--password-file",
        ],
    );
    let e = json(
        d,
        &[
            "key",
            "export",
            &ns_fp,
            "--out",
            "ns.export",
            "--delete",
            "--json",
        ],
        &pw,
    );
    assert_eq!(e["deleted"], true);
    #[cfg(unix)]
    assert_eq!(mode_of(&d.join("ns.export")), 0o600);
    let export_text = std::fs::read_to_string(d.join("ns.export")).expect("export");
    assert!(export_text.contains("tresor-key-export/1") && !export_text.contains("PRIVATE KEY"));
    fails(d, &["key", "show", &ns_fp], &[], 2, &["key_not_found"]);
    fails(
        d,
        &["key", "export", &ns_fp, "--out", "ns.export"],
        &pw,
        2,
        &["already exists"],
    );
    write_secret(&d.join("wrong.pw"), "not the password\n");
    fails(
        d,
        &["key", "import", "ns.export", "--password-file", "wrong.pw"],
        &[],
        3,
        &["ns.export", "wrong password", "error 302"],
    );
    write_secret(&d.join("right.pw"), "correct horse battery staple\n");
    let imported = json(
        d,
        &[
            "key",
            "import",
            "ns.export",
            "--password-file",
            "right.pw",
            "--name",
            "namespace-restored",
            "--json",
        ],
        &[],
    );
    assert_eq!(imported["imported"]["fingerprint"], ns_fp.as_str());
    assert_eq!(imported["imported"]["name"], "namespace-restored");
    assert_eq!(
        imported["imported"]["usage"],
        serde_json::json!(["namespace"])
    );
    assert_eq!(imported["imported"]["storage"], "sealed");
    ok(
        d,
        &[
            "sign",
            "--fingerprint",
            &ns_fp,
            "--usage",
            "namespace",
            "--in",
            "msg",
            "--out",
            "ns3.sig",
        ],
        &[],
    );
    ok(
        d,
        &[
            "verify", "--key", "ns.pem", "--algo", "ed-25519", "--in", "msg", "--sig", "ns3.sig",
        ],
        &[],
    );

    // delete: confirmation needed, --yes for scripts
    fails(
        d,
        &["key", "delete", &rsa_fp],
        &[],
        2,
        &["pass --yes", "not a terminal"],
    );
    assert!(ok(d, &["key", "delete", &rsa_fp, "--yes"], &[]).contains(&rsa_fp));
    fails(
        d,
        &["key", "delete", &rsa_fp, "--yes"],
        &[],
        2,
        &["key_not_found"],
    );
    assert_eq!(
        json(d, &["key", "list", "--json"], &[])
            .as_array()
            .map(Vec::len),
        Some(6)
    );
    // nothing secret on any output
    let show = ok(d, &["key", "show", &ns_fp], &[]);
    assert!(!show.contains("PRIVATE"));
}

#[test]
fn environment_overrides_and_mode_migration() {
    let t = TempDir::new("env");
    let d = &t.0;
    let other = d.join("elsewhere");
    std::fs::create_dir_all(&other).expect("mkdir");
    ok(d, &["init", "--mode", "clear"], &[]);
    let k = generate(
        d,
        &[
            "--purpose",
            "signing",
            "--spec",
            "ec-p-256",
            "--usage",
            "protocol",
        ],
    );
    assert_eq!(k["storage"], "clear");
    assert_eq!(
        json(d, &["wrapper-key", "show", "--json"], &[])["wrapper_key_id"],
        Value::Null
    );
    fails(
        d,
        &["wrapper-key", "rotate"],
        &[],
        2,
        &["needs envelope mode"],
    );

    // TRESOR_ENCRYPTION_TYPE=kms: the store is migrated to envelope encryption at open
    let kms = [("TRESOR_ENCRYPTION_TYPE", "kms")];
    let list = json(d, &["key", "list", "--json"], &kms);
    assert_eq!(list[0]["storage"], "sealed");
    let shown = json(d, &["config", "show", "--json"], &kms);
    assert_eq!(shown["mode"], "envelope");
    assert_eq!(
        shown["environment"],
        serde_json::json!(["TRESOR_ENCRYPTION_TYPE"])
    );
    assert_eq!(shown["kms"]["audit_logging"], true);
    // the file still says clear: the envelope store is refused, with what to do
    fails(
        d,
        &["key", "list"],
        &[],
        2,
        &["envelope-encrypted", "reverted = true", "wrong_mode"],
    );
    // reverted = true brings it back to clear
    let back = json(
        d,
        &["key", "list", "--json"],
        &[
            ("TRESOR_ENCRYPTION_TYPE", "kms"),
            ("TRESOR_REVERTED", "true"),
        ],
    );
    assert_eq!(back[0]["storage"], "clear");
    assert_eq!(
        json(d, &["key", "list", "--json"], &[])[0]["storage"],
        "clear"
    );

    // TRESOR_CONFIG from another directory; TRESOR_STORE_URL relative to the current directory
    let cfg = d.join("tresor.toml");
    let cfg = cfg.to_str().expect("utf-8 path");
    assert_eq!(
        json(
            &other,
            &["key", "list", "--json"],
            &[("TRESOR_CONFIG", cfg)]
        )
        .as_array()
        .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        json(
            &other,
            &["key", "list", "--json"],
            &[("TRESOR_STORE_URL", "sqlite://../tresor.db")]
        )
        .as_array()
        .map(Vec::len),
        Some(1)
    );
    fails(
        &other,
        &["key", "list"],
        &[],
        2,
        &["no configuration", "tresor init"],
    );
    fails(
        &other,
        &["key", "list"],
        &[("TRESOR_STORE_URL", "sqlite://nothing-here.db")],
        2,
        &["nothing-here.db", "does not exist"],
    );
    assert!(!other.join("nothing-here.db").exists());
    fails(
        d,
        &["key", "list"],
        &[("TRESOR_REVERTED", "maybe")],
        2,
        &["TRESOR_REVERTED", "'maybe'"],
    );
    fails(
        d,
        &["key", "list"],
        &[("TRESOR_KMS_TYPE", "vault")],
        2,
        &["TRESOR_KMS_TYPE", "'vault'"],
    );
    fails(
        d,
        &["key", "list"],
        &[
            ("TRESOR_ENCRYPTION_TYPE", "kms"),
            ("TRESOR_KMS_TYPE", "aws"),
        ],
        2,
        &["not built into this version"],
    );
    // a passphrase for a KMS made with a key file is a configuration error naming both kinds (exit 2)
    fails(
        d,
        &["key", "list"],
        &[
            ("TRESOR_ENCRYPTION_TYPE", "kms"),
            ("TRESOR_KMS_PASSPHRASE", "guess"),
        ],
        2,
        &[
            "created with a key file",
            "opened with a passphrase",
            "TRESOR_KMS_PASSPHRASE",
        ],
    );
    // a wrong KMS master key of the right kind is exit code 3
    std::fs::write(d.join("other.key"), "00".repeat(32)).expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(d.join("other.key"), std::fs::Permissions::from_mode(0o600))
            .expect("chmod");
    }
    fails(
        d,
        &["key", "list"],
        &[
            ("TRESOR_ENCRYPTION_TYPE", "kms"),
            ("TRESOR_KMS_KEY_FILE", "other.key"),
        ],
        3,
        &["master key is wrong"],
    );
}

#[test]
fn canton_hocon_crypto_blocks() {
    let t = TempDir::new("canton");
    let d = &t.0;
    ok(d, &["init"], &[]);
    std::fs::write(
        d.join("canton.conf"),
        r#"# crypto blocks as in Canton's operator docs, with tresor's software KMS for participant1
canton {
  participants {
    participant1 {
      crypto {
        provider = jce
        kms {
          type = software
          path = "tresor-kms.db"
          key-file = tresor-kms.key   // relative to this file
          audit-logging = true
        }
        private-key-store.encryption.type = kms
      }
    }
  }
}
canton.participants.participant2.crypto.kms {
  type = aws
  region = us-east-1
  multi-region-key = false # optional, default is false
  audit-logging = false    # optional, default is false
}
canton.participants.participant2.crypto.private-key-store.encryption.type = kms
canton.sequencers.sequencer1.crypto.kms {
  type = gcp
  location-id = us-east1
  project-id = gcp-kms-testing
  key-ring-id = canton-test-keys-2023
}
canton.mediators.mediator1.crypto.provider = kms
canton.mediators.mediator1.crypto.kms {
  type = driver
  name = "aws-kms"
  config = {
    region = us-east-1
  }
}
"#,
    )
    .expect("write");
    let canton = |node: &'static str| -> Vec<&'static str> {
        vec!["--canton-config", "canton.conf", "--node", node]
    };
    let mut args = canton("participant1");
    args.extend([
        "key",
        "generate",
        "--purpose",
        "signing",
        "--spec",
        "ec-curve-25519",
        "--usage",
        "namespace",
        "--json",
    ]);
    let k = json(d, &args, &[]);
    assert_eq!(k["storage"], "sealed");
    let mut args = canton("participant1");
    args.extend(["config", "show", "--json"]);
    let shown = json(d, &args, &[]);
    assert_eq!(shown["canton_config"]["node"], "participant1");
    assert_eq!(shown["mode"], "envelope");
    assert_eq!(shown["kms"]["type"], "software");
    for (node, line, what) in [
        (
            "participant2",
            19,
            "the aws driver is not built into this version",
        ),
        (
            "sequencer1",
            26,
            "the gcp driver is not built into this version",
        ),
        ("mediator1", 33, "'aws-kms'"),
    ] {
        let mut args = canton(node);
        args.extend(["key", "list"]);
        fails(d, &args, &[], 2, &[&format!("canton.conf:{line}:"), what]);
    }
    let mut args = canton("participant9");
    args.extend(["key", "list"]);
    fails(
        d,
        &args,
        &[],
        2,
        &["no node 'participant9'", "participant1, participant2"],
    );
    fails(
        d,
        &["key", "list", "--canton-config", "canton.conf"],
        &[],
        2,
        &["needs --node"],
    );

    // unsupported HOCON names the file and line
    std::fs::write(
        d.join("bad.conf"),
        "canton.participants.p1.crypto {
  provider = jce
  kms.type = ${KMS_TYPE}
}
",
    )
    .expect("write");
    fails(
        d,
        &["key", "list", "--canton-config", "bad.conf", "--node", "p1"],
        &[],
        2,
        &["bad.conf:3:", "substitutions"],
    );
    std::fs::write(
        d.join("bad2.conf"),
        "canton.participants.p1.crypto.private-key-store.encryption {
  type = kms
  wrapper-key-id = arn:aws:kms:us-east-1:1:key/x
}
",
    )
    .expect("write");
    fails(
        d,
        &[
            "key",
            "list",
            "--canton-config",
            "bad2.conf",
            "--node",
            "p1",
        ],
        &[],
        2,
        &["bad2.conf:3:", "double quotes"],
    );
    std::fs::write(
        d.join("bad3.conf"),
        "canton.participants.p1.crypto.private-key-store.encryption {
  type = aes
}
",
    )
    .expect("write");
    fails(
        d,
        &[
            "key",
            "list",
            "--canton-config",
            "bad3.conf",
            "--node",
            "p1",
        ],
        &[],
        2,
        &["bad3.conf:2:", "encryption type 'aes'"],
    );
}

#[test]
fn external_mode_keeps_keys_in_the_kms() {
    let t = TempDir::new("external");
    let d = &t.0;
    ok(d, &["init", "--mode", "external", "--json"], &[]);
    let k = generate(
        d,
        &[
            "--purpose",
            "signing",
            "--spec",
            "ec-p-256",
            "--usage",
            "protocol",
        ],
    );
    assert_eq!(k["storage"], "external");
    assert!(k["kms_key_id"].as_str().is_some_and(|s| !s.is_empty()));
    let fp = fp_of(&k);
    std::fs::write(d.join("m"), b"m").expect("write");
    ok(
        d,
        &[
            "sign",
            "--fingerprint",
            &fp,
            "--usage",
            "protocol",
            "--in",
            "m",
            "--out",
            "s",
        ],
        &[],
    );
    ok(d, &["key", "public", &fp, "--out", "p.pem"], &[]);
    ok(
        d,
        &[
            "verify",
            "--key",
            "p.pem",
            "--algo",
            "ec-dsa-sha-256",
            "--in",
            "m",
            "--sig",
            "s",
        ],
        &[],
    );
    fails(
        d,
        &["key", "export", &fp, "--out", "x"],
        &[("TRESOR_EXPORT_PASSWORD", "a long enough password")],
        2,
        &["cannot leave", "wrong_mode"],
    );
    assert!(!d.join("x").exists());
}

#[test]
fn bad_config_files_name_file_and_line() {
    let t = TempDir::new("badcfg");
    let d = &t.0;
    ok(d, &["init"], &[]);
    let good = std::fs::read_to_string(d.join("tresor.toml")).expect("read");
    let cases = [
        (
            good.replace("key-file =", "key-flie ="),
            "unknown key 'key-flie' in [kms]",
        ),
        (
            good.replace("type = \"software\"", "type = \"hsm\""),
            "unknown KMS type 'hsm'",
        ),
        (
            good.replace("role = \"active\"", "role = \"primary\""),
            "unknown role 'primary'",
        ),
        (
            good.replace("max-entries = 1024", "max-entries = -1"),
            "whole number",
        ),
        (good.replace("[cache]", "[cache"), ""),
    ];
    for (text, what) in cases {
        std::fs::write(d.join("bad.toml"), &text).expect("write");
        let line = text
            .lines()
            .position(|l| {
                l.contains("key-flie")
                    || l.contains("hsm")
                    || l.contains("primary")
                    || l.contains("-1")
                    || l == "[cache"
            })
            .expect("changed line")
            + 1;
        fails(
            d,
            &["--config", "bad.toml", "key", "list"],
            &[],
            2,
            &[&format!("bad.toml:{line}:"), what],
        );
    }
    fails(
        d,
        &["--config", "missing.toml", "key", "list"],
        &[],
        2,
        &["missing.toml"],
    );
}

#[test]
fn demo_runs_end_to_end() {
    let t = TempDir::new("demo");
    let d = &t.0;
    let out = ok(d, &["demo", "--iterations", "2", "--dir", "work"], &[]);
    for what in [
        "namespace",
        "protocol signing",
        "sequencer auth",
        "encryption",
        "wrapper key rotated",
        "data key rotated",
        "(1 KMS call to unwrap the data key)",
    ] {
        assert!(out.contains(what), "missing '{what}' in {out}");
    }
    assert!(
        d.join("work").join("tresor.db").exists(),
        "--dir keeps the store"
    );
    fails(d, &["demo", "--dir", "work"], &[], 2, &["already exists"]);
    let v = json(d, &["demo", "--iterations", "1", "--json"], &[]);
    assert_eq!(v["reopen"]["kms_calls"], 1);
    assert_eq!(v["reopen"]["sealed"], 4);
    assert_eq!(v["data_key_rotation"]["resealed_keys"], 4);
    assert_eq!(v["keys"].as_array().map(Vec::len), Some(4));
    let dir = v["directory"].as_str().expect("dir");
    assert!(
        !Path::new(dir).exists(),
        "the temporary directory is removed"
    );
}
