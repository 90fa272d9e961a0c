//! The KMS audit log written by the store commands (`audit-logging = true`, as `tresor init` writes it)
//! and `tresor audit verify`.

mod common;

use common::{TempDir, ok, run};

#[test]
fn store_commands_write_a_verifiable_audit_log() {
    let t = TempDir::new("verify");
    let d = &t.0;
    ok(d, &["init"], &[]);
    let log = d.join("tresor-kms-audit.log");
    assert!(log.exists(), "init writes the audit log next to the config");
    ok(
        d,
        &[
            "key",
            "generate",
            "--purpose",
            "signing",
            "--spec",
            "ec-p-256",
            "--usage",
            "namespace",
            "--name",
            "ns",
        ],
        &[],
    );
    ok(d, &["key", "list"], &[]);
    ok(d, &["wrapper-key", "rotate"], &[]);

    let text = std::fs::read_to_string(&log).expect("log");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 6, "{text}");
    assert!(text.contains("Sending request ["), "{text}");
    assert!(
        text.contains("EncryptRequest(Plaintext=** Redacted plaintext placeholder **"),
        "{text}"
    );
    assert!(text.contains("Received response ["), "{text}");

    let out = ok(d, &["audit", "verify", "tresor-kms-audit.log"], &[]);
    assert_eq!(
        out.lines().next(),
        Some(format!("ok: {} lines, chain intact", lines.len()).as_str()),
        "{out}"
    );
    let shown = ok(d, &["config", "show"], &[]);
    assert!(shown.contains("tresor-kms-audit.log"), "{shown}");
    assert!(!shown.contains("no audit log is written"), "{shown}");

    // Edit line 4 (as sed would: one substitution on that line).
    let edited: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i == 3 {
                l.replacen("INFO", "WARN", 1)
            } else {
                (*l).to_string()
            }
        })
        .collect();
    std::fs::write(&log, edited.join("\n") + "\n").expect("write");
    let out = run(d, &["audit", "verify", "tresor-kms-audit.log"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 4 of") && err.contains("edited"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn log_location_from_the_option_and_the_environment() {
    let t = TempDir::new("location");
    let d = &t.0;
    ok(d, &["init"], &[]);
    let by_option = d.join("by-option.log");
    let by_env = d.join("by-env.log");
    ok(
        d,
        &[
            "--kms-log-file-name",
            by_option.to_str().expect("utf-8"),
            "key",
            "list",
        ],
        &[],
    );
    assert!(by_option.exists());
    ok(
        d,
        &[
            "key",
            "generate",
            "--purpose",
            "encryption",
            "--spec",
            "ec-p-256",
            "--name",
            "e",
        ],
        &[("KMS_LOG_FILE_NAME", by_env.to_str().expect("utf-8"))],
    );
    assert!(by_env.exists());
    for f in [&by_option, &by_env] {
        ok(d, &["audit", "verify", f.to_str().expect("utf-8")], &[]);
    }
    // The option wins over the environment.
    let shown = ok(
        d,
        &["--kms-log-file-name", "x.log", "config", "show"],
        &[("KMS_LOG_FILE_NAME", "y.log")],
    );
    assert!(
        shown.contains("x.log") && !shown.contains("y.log"),
        "{shown}"
    );
    // An unsupported rolling pattern is a clear error.
    let out = run(
        d,
        &["key", "list"],
        &[("KMS_LOG_FILE_ROLLING_PATTERN", "yyyy-MM-dd-HH")],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("yyyy-MM-dd-HH") && err.contains("not supported"),
        "{err}"
    );
    // A missing file.
    let out = run(d, &["audit", "verify", "nope.log"], &[]);
    assert_eq!(out.status.code(), Some(2));
}

fn fp_of(out: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(out).expect("json");
    v["fingerprint"].as_str().expect("fingerprint").to_string()
}

#[test]
fn key_operations_are_recorded_and_a_kept_tip_detects_a_cut_log() {
    let t = TempDir::new("records");
    let d = &t.0;
    ok(d, &["init"], &[]);
    let pw = [("TRESOR_EXPORT_PASSWORD", "correct horse battery staple")];
    let ns = fp_of(&ok(
        d,
        &[
            "key",
            "generate",
            "--purpose",
            "signing",
            "--spec",
            "ec-curve-25519",
            "--usage",
            "namespace",
            "--name",
            "ns",
            "--json",
        ],
        &[],
    ));
    let proto = fp_of(&ok(
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
            "proto",
            "--json",
        ],
        &[],
    ));
    // Keep the namespace root key offline: export with --delete, then import it back.
    ok(
        d,
        &["key", "export", "ns", "--out", "ns.export", "--delete"],
        &pw,
    );
    ok(d, &["key", "import", "ns.export"], &pw);
    let rotated = ok(d, &["key", "rotate", "proto", "--json"], &[]);
    let v: serde_json::Value = serde_json::from_str(&rotated).expect("json");
    let new = v["new"]["fingerprint"].as_str().expect("fp").to_string();
    ok(d, &["key", "delete", &proto, "--yes"], &[]);
    std::fs::write(d.join("m"), b"a message").expect("write");
    ok(
        d,
        &[
            "sign",
            "--fingerprint",
            &new,
            "--usage",
            "protocol",
            "--in",
            "m",
            "--out",
            "s1",
        ],
        &[],
    );
    // Sign and decrypt by fingerprint are recorded when configured.
    ok(
        d,
        &[
            "sign",
            "--fingerprint",
            &new,
            "--usage",
            "protocol",
            "--in",
            "m",
            "--out",
            "s2",
        ],
        &[("TRESOR_AUDIT_KEY_USE", "true")],
    );

    let text = std::fs::read_to_string(d.join("tresor-kms-audit.log")).expect("log");
    let ops: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once("Key operation: ").map(|(_, r)| r))
        .collect();
    let expect = [
        format!("generate key {ns} (signing ec-curve-25519, usage namespace, name 'ns', sealed)"),
        format!("generate key {proto} (signing ec-p-256, usage protocol, name 'proto', sealed)"),
        format!(
            "export key {ns} (signing ec-curve-25519, usage namespace, name 'ns', sealed) sealed under a password"
        ),
        format!("delete key {ns} (signing ec-curve-25519"),
        format!(
            "import key {ns} (signing ec-curve-25519, usage namespace, name 'ns', sealed) from a password-sealed export"
        ),
        format!(
            "rotate key {proto} (signing ec-p-256, usage protocol, name 'proto', sealed) to new key {new}"
        ),
        format!("delete key {proto} (signing ec-p-256"),
    ];
    assert_eq!(ops.len(), expect.len(), "{text}");
    for (got, want) in ops.iter().zip(&expect) {
        assert!(
            got.starts_with(want.as_str()),
            "expected «{want}», got «{got}»"
        );
    }
    let uses: Vec<&str> = text.lines().filter(|l| l.contains("Key use: ")).collect();
    assert_eq!(uses.len(), 1, "only the configured sign: {text}");
    assert!(uses[0].contains(&format!("sign with key {new} for usage protocol")));
    assert!(!text.contains("correct horse") && !text.contains("a message"));

    // audit verify prints the last sequence number and the tip.
    let out = ok(d, &["audit", "verify", "tresor-kms-audit.log"], &[]);
    let n = text.lines().count();
    assert!(out.contains(&format!("last seq: {n}")), "{out}");
    let tip = out
        .lines()
        .find_map(|l| l.strip_prefix("tip: "))
        .expect("tip line")
        .to_string();
    assert!(
        tip.starts_with(&format!("{n}:")) && tip.len() == format!("{n}:").len() + 64,
        "{tip}"
    );
    let last_line = text.lines().last().expect("last");
    assert!(
        last_line.ends_with(&tip[tip.find(':').expect(":") + 1..]),
        "{last_line}"
    );
    let j = ok(
        d,
        &["audit", "verify", "tresor-kms-audit.log", "--json"],
        &[],
    );
    let j: serde_json::Value = serde_json::from_str(&j).expect("json");
    assert_eq!(j["last_seq"], n as u64);
    assert_eq!(j["tip"], tip.as_str());
    ok(
        d,
        &[
            "audit",
            "verify",
            "tresor-kms-audit.log",
            "--expect-tip",
            &tip,
        ],
        &[],
    );

    // Cut the last three lines: the chain alone cannot tell, the kept tip can.
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(
        d.join("tresor-kms-audit.log"),
        lines[..n - 3].join("\n") + "\n",
    )
    .expect("write");
    ok(d, &["audit", "verify", "tresor-kms-audit.log"], &[]);
    let out = run(
        d,
        &[
            "audit",
            "verify",
            "tresor-kms-audit.log",
            "--expect-tip",
            &tip,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("truncated") && err.contains(&format!("seq={n}")),
        "{err}"
    );
    assert!(err.contains("3 line(s) cut"), "{err}");
    // A malformed tip is a clear error.
    let out = run(
        d,
        &[
            "audit",
            "verify",
            "tresor-kms-audit.log",
            "--expect-tip",
            "7:beef",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("<seq>:<64 hex digits>"));
}
