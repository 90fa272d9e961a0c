//! The KMS audit log written by the store commands (`audit-logging = true`, as `tresor init` writes it)
//! and `tresor audit verify`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let p =
            std::env::temp_dir().join(format!("tresor-audit-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("mkdir");
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Run tresor in `dir` with no TRESOR_* or KMS_LOG_* variables but the given ones.
fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tresor"));
    c.args(args).current_dir(dir).stdin(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("TRESOR_") || k.starts_with("KMS_LOG_") {
            c.env_remove(k);
        }
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run tresor")
}

fn ok(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = run(dir, args, env);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

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
