//! The `tresor` binary as a user runs it: exit codes, one-line errors, file handling.

mod common;

use std::path::Path;
use std::process::Output;

use common::TempDir;

fn tresor(args: &[&str], dir: &Path) -> Output {
    common::run(dir, args, &[])
}

/// Exit code and stderr; asserts stderr is exactly one line with no panic or backtrace.
fn one_line_error(out: &Output) -> (i32, String) {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        err.lines().count(),
        1,
        "stderr must be one line, got: {err:?}"
    );
    common::assert_tresor_error(&err);
    (out.status.code().unwrap_or(-1), err)
}

#[test]
fn sign_verify_exit_codes() {
    let t = TempDir::new("verify");
    let d = &t.0;
    for (spec, algo) in [
        ("ec-curve-25519", "ed-25519"),
        ("ec-p-256", "ec-dsa-sha-256"),
        ("ec-p-384", "ec-dsa-sha-384"),
    ] {
        let out = tresor(
            &[
                "keygen",
                "--spec",
                spec,
                "--out",
                "k.pem",
                "--public-out",
                "p.pem",
                "--force",
            ],
            d,
        );
        assert!(out.status.success(), "{out:?}");
        let fp = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(fp.starts_with("1220") && fp.len() == 68, "{fp}");
        let out = tresor(&["fingerprint", "p.pem"], d);
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), fp);
        std::fs::write(d.join("m"), b"message").expect("write");
        let out = tresor(
            &[
                "sign", "--key", "k.pem", "--algo", algo, "--in", "m", "--out", "s", "--force",
            ],
            d,
        );
        assert!(out.status.success(), "{out:?}");
        let out = tresor(
            &[
                "verify", "--key", "p.pem", "--algo", algo, "--in", "m", "--sig", "s",
            ],
            d,
        );
        assert_eq!(out.status.code(), Some(0));
        std::fs::write(d.join("m"), b"messagf").expect("write");
        let out = tresor(
            &[
                "verify", "--key", "p.pem", "--algo", algo, "--in", "m", "--sig", "s",
            ],
            d,
        );
        assert_eq!(one_line_error(&out).0, 1);
        // garbage signature bytes are "invalid", not an error
        std::fs::write(d.join("s"), b"\x30\x02garbage").expect("write");
        let out = tresor(
            &[
                "verify", "--key", "p.pem", "--algo", algo, "--in", "m", "--sig", "s",
            ],
            d,
        );
        assert_eq!(one_line_error(&out).0, 1);
        // an unreadable key is an error
        let out = tresor(
            &[
                "verify",
                "--key",
                "missing.pem",
                "--algo",
                algo,
                "--in",
                "m",
                "--sig",
                "s",
            ],
            d,
        );
        let (code, err) = one_line_error(&out);
        assert_eq!(code, 2);
        assert!(err.contains("missing.pem"), "{err}");
    }
}

#[test]
fn bad_input_gives_one_line_and_exit_2() {
    let t = TempDir::new("bad");
    let d = &t.0;
    std::fs::write(d.join("empty"), b"").expect("write");
    std::fs::write(d.join("garbage"), b"\x00\x01not a key").expect("write");
    std::fs::write(d.join("m"), b"m").expect("write");
    assert!(
        tresor(
            &[
                "keygen",
                "--spec",
                "ec-p-384",
                "--out",
                "k384.pem",
                "--public-out",
                "p384.pem"
            ],
            d
        )
        .status
        .success()
    );
    assert!(
        tresor(
            &[
                "keygen",
                "--spec",
                "ec-p-256",
                "--out",
                "k256.pem",
                "--public-out",
                "p256.pem"
            ],
            d
        )
        .status
        .success()
    );
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["fingerprint", "empty"], "is empty"),
        (vec!["fingerprint", "garbage"], "malformed_key"),
        (
            vec!["keygen", "--spec", "ec-p-521", "--out", "x.pem"],
            "unknown key spec 'ec-p-521'; accepted:",
        ),
        (
            vec![
                "sign",
                "--key",
                "k384.pem",
                "--algo",
                "ec-dsa-sha-256",
                "--in",
                "m",
                "--out",
                "s",
            ],
            "incompatible_key",
        ),
        (
            vec![
                "sign", "--key", "k384.pem", "--algo", "ed-448", "--in", "m", "--out", "s",
            ],
            "accepted: ed-25519",
        ),
        (
            vec![
                "sign",
                "--key",
                "p384.pem",
                "--algo",
                "ec-dsa-sha-384",
                "--in",
                "m",
                "--out",
                "s",
            ],
            "a private key was expected",
        ),
        (
            vec![
                "encrypt",
                "--key",
                "p384.pem",
                "--algo",
                "ecies-hkdf-hmac-sha-256-aes-128-cbc",
                "--in",
                "m",
                "--out",
                "c",
            ],
            "cannot be used for encryption",
        ),
        (
            vec![
                "decrypt",
                "--key",
                "k256.pem",
                "--algo",
                "ecies-hkdf-hmac-sha-256-aes-128-cbc",
                "--in",
                "garbage",
                "--out",
                "o",
            ],
            "malformed_ciphertext",
        ),
        (
            vec![
                "decrypt",
                "--key",
                "k256.pem",
                "--algo",
                "ecies-hkdf-hmac-sha-256-aes-128-cbc",
                "--in",
                "empty",
                "--out",
                "o",
            ],
            "is empty",
        ),
        (vec!["keygen", "--out", "x.pem"], "--spec"),
        (vec!["frobnicate"], "frobnicate"),
    ];
    for (args, expect) in cases {
        let out = tresor(&args, d);
        let (code, err) = one_line_error(&out);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains(expect),
            "{args:?}: expected '{expect}' in {err}"
        );
    }
    // nothing was written by the failed commands
    for f in ["s", "c", "o", "x.pem"] {
        assert!(
            !d.join(f).exists(),
            "{f} must not exist after a failed command"
        );
    }
}

#[test]
fn tampered_ciphertext_fails_and_writes_nothing() {
    let t = TempDir::new("tamper");
    let d = &t.0;
    std::fs::write(d.join("m"), b"secret session key").expect("write");
    for (spec, algo) in [
        ("ec-p-256", "ecies-hkdf-hmac-sha-256-aes-128-cbc"),
        ("rsa-2048", "rsa-oaep-sha-256"),
    ] {
        assert!(
            tresor(
                &[
                    "keygen",
                    "--spec",
                    spec,
                    "--out",
                    "k.pem",
                    "--public-out",
                    "p.pem",
                    "--force"
                ],
                d
            )
            .status
            .success()
        );
        assert!(
            tresor(
                &[
                    "encrypt", "--key", "p.pem", "--algo", algo, "--in", "m", "--out", "c",
                    "--force"
                ],
                d
            )
            .status
            .success()
        );
        let out = tresor(
            &[
                "decrypt", "--key", "k.pem", "--algo", algo, "--in", "c", "--out", "o", "--force",
            ],
            d,
        );
        assert!(out.status.success(), "{out:?}");
        assert_eq!(
            std::fs::read(d.join("o")).expect("read"),
            b"secret session key"
        );
        std::fs::remove_file(d.join("o")).expect("rm");
        let mut c = std::fs::read(d.join("c")).expect("read");
        let n = c.len();
        c[n - 1] ^= 1;
        std::fs::write(d.join("c"), &c).expect("write");
        let out = tresor(
            &[
                "decrypt", "--key", "k.pem", "--algo", algo, "--in", "c", "--out", "o",
            ],
            d,
        );
        let (code, err) = one_line_error(&out);
        assert_eq!(code, 2);
        assert!(err.contains("decryption failed"), "{err}");
        assert!(!d.join("o").exists());
    }
}

#[test]
fn keygen_protects_private_keys() {
    let t = TempDir::new("keygen");
    let d = &t.0;
    assert!(
        tresor(&["keygen", "--spec", "ec-curve-25519", "--out", "k.pem"], d)
            .status
            .success()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.join("k.pem"))
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let before = std::fs::read(d.join("k.pem")).expect("read");
    let out = tresor(&["keygen", "--spec", "ec-curve-25519", "--out", "k.pem"], d);
    let (code, err) = one_line_error(&out);
    assert_eq!(code, 2);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(
        std::fs::read(d.join("k.pem")).expect("read"),
        before,
        "an existing key must not be replaced"
    );
}

#[test]
fn fingerprint_known_answer() {
    // RFC 8032 test 1 public key; fingerprint computed independently (Python hashlib) as
    // sha256(00 00 00 0c ‖ raw key) with the multihash prefix 1220.
    let t = TempDir::new("kat");
    let d = &t.0;
    let pem = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n";
    std::fs::write(d.join("p.pem"), pem).expect("write");
    let out = tresor(&["fingerprint", "p.pem"], d);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "1220035a791d845bbb8195615e7eccd7a57c2ec4075c2e88695f194bab4e0194a889"
    );
}
