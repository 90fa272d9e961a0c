//! What the CLI's integration tests share: temporary directories, and the `tresor` binary run in one
//! with a clean environment (no `TRESOR_*` or `KMS_LOG_*` variable of the test's own environment, only
//! those a test gives), then checked for success or for a failure with a given exit code.
//!
//! Each test file includes this module (`mod common;`) and is a crate of its own that uses only some
//! of these items; the others would be reported as dead code in that crate.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// A new, empty directory under the system's temporary directory, removed with its contents on drop.
/// Its name holds the test file's crate name, `name` and the process id, so that tests of one file
/// (distinct `name`s) and test binaries running in parallel do not share a directory.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "tresor-{}-{name}-{}",
            env!("CARGO_CRATE_NAME"),
            std::process::id()
        ));
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

/// Remove from `c`'s environment every `TRESOR_*` and `KMS_LOG_*` variable the test process has.
pub(crate) fn clear_env(c: &mut Command) {
    for (k, _) in std::env::vars() {
        if k.starts_with("TRESOR_") || k.starts_with("KMS_LOG_") {
            c.env_remove(k);
        }
    }
}

/// `tresor args` in `dir`, stdin null, with `RUST_BACKTRACE=1` (a panic shows where) and of the
/// `TRESOR_*` and `KMS_LOG_*` variables only those in `env`.
pub(crate) fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tresor"));
    c.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env("RUST_BACKTRACE", "1");
    clear_env(&mut c);
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// Run [`command`] to its end.
pub(crate) fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    command(dir, args, env).output().expect("run tresor")
}

/// Assert that `out`, of `tresor args`, succeeded; its stdout.
pub(crate) fn success(args: &[&str], out: Output) -> String {
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// `out`, the stdout of `tresor args`, parsed as JSON.
pub(crate) fn parse_json(args: &[&str], out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out}"))
}

/// Run and expect success; stdout.
pub(crate) fn ok(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    success(args, run(dir, args, env))
}

/// Run and expect success with JSON on stdout.
pub(crate) fn json(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Value {
    parse_json(args, &ok(dir, args, env))
}

/// Run and expect exit code `code` and stderr containing every `what`, on one line if `one_line`;
/// (stdout, stderr).
pub(crate) fn failure(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    code: i32,
    one_line: bool,
    what: &[&str],
) -> (String, String) {
    let out = run(dir, args, env);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    if one_line {
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err:?}");
    }
    for w in what {
        assert!(err.contains(w), "{args:?}: expected '{w}' in {err}");
    }
    (String::from_utf8_lossy(&out.stdout).to_string(), err)
}

/// Run and expect exit code `code` and one line on stderr containing every `what`; stderr.
pub(crate) fn fails(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    code: i32,
    what: &[&str],
) -> String {
    failure(dir, args, env, code, true, what).1
}

/// Assert that `err` (stderr) is tresor's own error message, not a panic or a backtrace.
pub(crate) fn assert_tresor_error(err: &str) {
    assert!(err.starts_with("tresor: "), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

/// The same for tests that give no variables.
pub(crate) mod plain {
    use std::path::Path;

    use serde_json::Value;

    pub(crate) fn ok(dir: &Path, args: &[&str]) -> String {
        super::ok(dir, args, &[])
    }

    pub(crate) fn json(dir: &Path, args: &[&str]) -> Value {
        super::json(dir, args, &[])
    }

    pub(crate) fn fails(dir: &Path, args: &[&str], code: i32, what: &[&str]) -> String {
        super::fails(dir, args, &[], code, what)
    }
}
