//! The command line as people script it: `--json` on every command that reports something, keys named
//! by a unique fingerprint prefix or by name, Canton's list filters, key names without control
//! characters, and `key import` of PKCS#8 keys.

mod common;

use serde_json::Value;

use common::plain::{fails, json, ok};
use common::{TempDir, failure, run};

fn s(v: &Value) -> String {
    v.as_str().expect("a string").to_string()
}

#[test]
fn json_wherever_the_readme_promises_it() {
    let t = TempDir::new("json");
    let d = &t.0;
    // keygen and fingerprint
    let k = json(
        d,
        &[
            "keygen",
            "--spec",
            "ec-p-256",
            "--out",
            "k.pem",
            "--public-out",
            "k.pub",
            "--json",
        ],
    );
    let fp = s(&k["fingerprint"]);
    assert!(fp.starts_with("1220") && fp.len() == 68);
    assert_eq!(k["key_spec"], "ec-p-256");
    assert_eq!(k["private_key_file"], "k.pem");
    assert_eq!(k["public_key_file"], "k.pub");
    let f = json(d, &["fingerprint", "k.pub", "--json"]);
    assert_eq!(f["fingerprint"], fp.as_str());
    assert_eq!(f["key_spec"], "ec-p-256");
    // sign, verify (valid and invalid), encrypt, decrypt
    std::fs::write(d.join("m"), b"a message").expect("write");
    let sg = json(
        d,
        &[
            "sign",
            "--key",
            "k.pem",
            "--algo",
            "ec-dsa-sha-256",
            "--in",
            "m",
            "--out",
            "s",
            "--json",
        ],
    );
    assert_eq!(sg["fingerprint"], fp.as_str());
    assert_eq!(sg["algorithm"], "ec-dsa-sha-256");
    assert_eq!(sg["out"], "s");
    let v = json(
        d,
        &[
            "verify",
            "--key",
            "k.pub",
            "--algo",
            "ec-dsa-sha-256",
            "--in",
            "m",
            "--sig",
            "s",
            "--json",
        ],
    );
    assert_eq!(v["valid"], true);
    assert_eq!(v["fingerprint"], fp.as_str());
    std::fs::write(d.join("m2"), b"another message").expect("write");
    let (stdout, _) = failure(
        d,
        &[
            "verify",
            "--key",
            "k.pub",
            "--algo",
            "ec-dsa-sha-256",
            "--in",
            "m2",
            "--sig",
            "s",
            "--json",
        ],
        &[],
        1,
        true,
        &["signature invalid"],
    );
    let inv: Value = serde_json::from_str(&stdout).expect("JSON for an invalid signature");
    assert_eq!(inv["valid"], false);
    assert_eq!(inv["error"], "invalid_signature");
    let e = json(
        d,
        &[
            "encrypt",
            "--key",
            "k.pub",
            "--algo",
            "ecies-hkdf-hmac-sha-256-aes-128-cbc",
            "--in",
            "m",
            "--out",
            "c",
            "--json",
        ],
    );
    assert_eq!(e["bytes"], std::fs::metadata(d.join("c")).expect("c").len());
    let dc = json(
        d,
        &[
            "decrypt",
            "--key",
            "k.pem",
            "--algo",
            "ecies-hkdf-hmac-sha-256-aes-128-cbc",
            "--in",
            "c",
            "--out",
            "p",
            "--json",
        ],
    );
    assert_eq!(dc["bytes"], 9);
    // --json with the result on standard output would mix the two: refused.
    fails(
        d,
        &[
            "sign",
            "--key",
            "k.pem",
            "--algo",
            "ec-dsa-sha-256",
            "--in",
            "m",
            "--out",
            "-",
            "--json",
        ],
        2,
        &["--json", "--out <file>"],
    );
    fails(
        d,
        &["keygen", "--spec", "ec-p-256", "--out", "-", "--json"],
        2,
        &["--json"],
    );

    // The store: key public (to stdout and to a file), verify by fingerprint.
    ok(d, &["init"]);
    let g = json(
        d,
        &[
            "key",
            "generate",
            "--purpose",
            "signing",
            "--spec",
            "ec-curve-25519",
            "--usage",
            "protocol",
            "--name",
            "proto",
            "--json",
        ],
    );
    let sfp = s(&g["fingerprint"]);
    for (format, check) in [
        (
            "pem",
            Box::new(|v: &Value| v.as_str().is_some_and(|p| p.contains("BEGIN PUBLIC KEY")))
                as Box<dyn Fn(&Value) -> bool>,
        ),
        (
            "der",
            Box::new(|v: &Value| v.as_str().is_some_and(|b| b.starts_with("MC"))),
        ),
        ("jwk", Box::new(|v: &Value| v["kty"] == "OKP")),
    ] {
        let p = json(d, &["key", "public", &sfp, "--format", format, "--json"]);
        assert_eq!(p["fingerprint"], sfp.as_str());
        assert_eq!(p["format"], format);
        assert!(check(&p["public_key"]), "{format}: {p}");
    }
    let p = json(
        d,
        &["key", "public", "proto", "--out", "proto.pub", "--json"],
    );
    assert_eq!(p["file"], "proto.pub");
    assert_eq!(
        s(&json(d, &["fingerprint", "proto.pub", "--json"])["fingerprint"]),
        sfp
    );
    json(
        d,
        &[
            "sign",
            "--fingerprint",
            &sfp,
            "--usage",
            "protocol",
            "--in",
            "m",
            "--out",
            "ss",
            "--json",
        ],
    );
    let v = json(
        d,
        &[
            "verify",
            "--fingerprint",
            &sfp,
            "--in",
            "m",
            "--sig",
            "ss",
            "--json",
        ],
    );
    assert_eq!(v["valid"], true);
    assert_eq!(v["algorithm"], "ed-25519");
}

#[test]
fn keys_by_prefix_or_name_and_list_filters() {
    let t = TempDir::new("select");
    let d = &t.0;
    ok(d, &["init"]);
    let mut fps = Vec::new();
    for (name, purpose, usage) in [
        ("namespace", "signing", Some("namespace")),
        ("protocol", "signing", Some("protocol")),
        ("seq-auth", "signing", Some("sequencer-auth,protocol")),
        ("encryption", "encryption", None),
    ] {
        let spec = if purpose == "signing" {
            "ec-curve-25519"
        } else {
            "ec-p-256"
        };
        let mut args = vec![
            "key",
            "generate",
            "--purpose",
            purpose,
            "--spec",
            spec,
            "--name",
            name,
            "--json",
        ];
        if let Some(u) = usage {
            args.extend(["--usage", u]);
        }
        fps.push(s(&json(d, &args)["fingerprint"]));
    }
    let unique = |i: usize| -> String {
        (5..68)
            .map(|n| fps[i][..n].to_string())
            .find(|p| fps.iter().filter(|f| f.starts_with(p.as_str())).count() == 1)
            .expect("unique prefix")
    };
    // By name and by prefix, in key show, sign, verify and key delete.
    assert_eq!(
        s(&json(d, &["key", "show", "protocol", "--json"])["fingerprint"]),
        fps[1]
    );
    let p1 = unique(1);
    assert_eq!(
        s(&json(d, &["key", "show", &p1, "--json"])["fingerprint"]),
        fps[1]
    );
    std::fs::write(d.join("m"), b"m").expect("write");
    ok(
        d,
        &[
            "sign",
            "--fingerprint",
            "protocol",
            "--usage",
            "protocol",
            "--in",
            "m",
            "--out",
            "sig",
        ],
    );
    ok(
        d,
        &["verify", "--fingerprint", &p1, "--in", "m", "--sig", "sig"],
    );
    // Ambiguous: the candidates are listed (with their names).
    let err = fails(
        d,
        &["key", "show", "1220"],
        2,
        &["ambiguous", "fits 4 keys", "invalid_argument"],
    );
    for f in &fps {
        assert!(err.contains(f.as_str()), "{err}");
    }
    assert!(err.contains("'seq-auth'"), "{err}");
    fails(
        d,
        &["key", "show", "nothing-like-this"],
        2,
        &["'nothing-like-this'", "key_not_found"],
    );

    // Canton's keys.secret.list filters.
    let list = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["key", "list", "--json"];
        args.extend_from_slice(extra);
        json(d, &args)
            .as_array()
            .expect("array")
            .iter()
            .map(|k| s(&k["fingerprint"]))
            .collect()
    };
    assert_eq!(list(&[]).len(), 4);
    assert_eq!(list(&["--purpose", "encryption"]), vec![fps[3].clone()]);
    assert_eq!(list(&["--purpose", "signing,encryption"]).len(), 4);
    assert_eq!(
        list(&["--usage", "protocol"]),
        vec![fps[1].clone(), fps[2].clone()]
    );
    assert_eq!(
        list(&["--usage", "namespace,sequencer-auth"]),
        vec![fps[0].clone(), fps[2].clone()]
    );
    assert_eq!(
        list(&["--name", "o"]),
        vec![fps[1].clone(), fps[3].clone()],
        "names containing 'o'"
    );
    assert_eq!(
        list(&["--name", "o", "--purpose", "signing"]),
        vec![fps[1].clone()]
    );
    assert_eq!(list(&["--fingerprint", &unique(2)]), vec![fps[2].clone()]);
    assert!(list(&["--name", "none-such"]).is_empty());
    let table = ok(d, &["key", "list", "--usage", "namespace"]);
    assert!(
        table.contains(&fps[0]) && !table.contains(&fps[1]),
        "{table}"
    );
    assert!(ok(d, &["key", "list", "--name", "zzz"]).contains("no keys match"));
    fails(
        d,
        &["key", "list", "--purpose", "verifying"],
        2,
        &["--purpose", "signing, encryption"],
    );
    fails(
        d,
        &["key", "list", "--usage", "root"],
        2,
        &["--usage", "namespace"],
    );
    fails(d, &["key", "list", "--fingerprint", "12zz"], 2, &["hex"]);

    ok(d, &["key", "delete", "encryption", "--yes"]);
    assert_eq!(list(&[]).len(), 3);
}

#[test]
fn key_names_with_control_characters_are_refused() {
    let t = TempDir::new("names");
    let d = &t.0;
    ok(d, &["init"]);
    for bad in ["two\nlines", "bell\u{7}", "esc\u{1b}[2J"] {
        fails(
            d,
            &[
                "key",
                "generate",
                "--purpose",
                "encryption",
                "--spec",
                "ec-p-256",
                "--name",
                bad,
            ],
            2,
            &["control characters", "invalid_argument"],
        );
    }
    assert!(ok(d, &["key", "list"]).contains("no keys in the store"));
    json(
        d,
        &[
            "key",
            "generate",
            "--purpose",
            "encryption",
            "--spec",
            "ec-p-256",
            "--name",
            "prod node 1 – ключ",
            "--json",
        ],
    );
}

#[test]
fn key_import_takes_pkcs8_pem_and_der() {
    let t = TempDir::new("import");
    let d = &t.0;
    ok(d, &["init"]);
    // A PEM Ed25519 key (signing only): no password is asked, the usage is needed.
    let ed = json(
        d,
        &[
            "keygen",
            "--spec",
            "ec-curve-25519",
            "--out",
            "ed.pem",
            "--json",
        ],
    );
    fails(d, &["key", "import", "ed.pem"], 2, &["--usage"]);
    let imp = json(
        d,
        &[
            "key",
            "import",
            "ed.pem",
            "--usage",
            "namespace",
            "--name",
            "root",
            "--json",
        ],
    );
    assert_eq!(imp["imported"]["fingerprint"], ed["fingerprint"]);
    assert_eq!(imp["imported"]["purpose"], "signing");
    assert_eq!(imp["imported"]["storage"], "sealed");
    assert_eq!(imp["imported"]["name"], "root");
    // A DER P-256 key: signing or encryption, so --purpose is needed.
    let p = json(
        d,
        &["keygen", "--spec", "ec-p-256", "--out", "p.pem", "--json"],
    );
    let pem = std::fs::read_to_string(d.join("p.pem")).expect("pem");
    let key = tresor::PrivateKey::from_der_or_pem(pem.as_bytes()).expect("parse");
    std::fs::write(d.join("p.der"), key.pkcs8_der()).expect("write");
    fails(
        d,
        &["key", "import", "p.der"],
        2,
        &["--purpose signing", "--purpose encryption"],
    );
    fails(
        d,
        &[
            "key",
            "import",
            "p.der",
            "--purpose",
            "encryption",
            "--usage",
            "protocol",
        ],
        2,
        &["--usage applies to signing keys"],
    );
    let imp = json(
        d,
        &[
            "key",
            "import",
            "p.der",
            "--purpose",
            "encryption",
            "--json",
        ],
    );
    assert_eq!(imp["imported"]["fingerprint"], p["fingerprint"]);
    assert_eq!(imp["imported"]["purpose"], "encryption");
    // An RSA key decrypts only.
    let r = json(
        d,
        &["keygen", "--spec", "rsa-2048", "--out", "r.pem", "--json"],
    );
    let imp = json(d, &["key", "import", "r.pem", "--json"]);
    assert_eq!(imp["imported"]["fingerprint"], r["fingerprint"]);
    // The imported key works.
    std::fs::write(d.join("m"), b"m").expect("write");
    ok(
        d,
        &[
            "sign",
            "--fingerprint",
            "root",
            "--usage",
            "namespace",
            "--in",
            "m",
            "--out",
            "sig",
        ],
    );
    // Garbage and encrypted PKCS#8 are named.
    std::fs::write(d.join("junk"), b"\x30\x03\x02\x01\x00").expect("write");
    fails(
        d,
        &["key", "import", "junk"],
        2,
        &["neither a tresor key export nor a PKCS#8"],
    );
    std::fs::write(
        d.join("enc.pem"),
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n",
    )
    .expect("write");
    fails(
        d,
        &["key", "import", "enc.pem"],
        2,
        &["encrypted PKCS#8", "openssl pkcs8"],
    );
    // An export file still asks for its password (none available here: no terminal).
    let out = run(
        d,
        &["key", "export", "root", "--out", "root.export"],
        &[("TRESOR_EXPORT_PASSWORD", "a long enough password")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    fails(
        d,
        &["key", "import", "root.export"],
        2,
        &["no export password"],
    );
}
