//! The key store under load, faults and hostile files, through the `tresor` binary as operators run it:
//! committed changes are in the database file when a command exits; `tresor backup` takes a consistent
//! copy while 8 writers and a rotation loop run; writers never fail because another process rotates the
//! data key; a store file that is not one, or cannot be written, fails at once with what is wrong; one
//! damaged row does not take the store down.
//!
//! The concurrency test prints its counts (commands, failures, rotations, backups, keys that sign).
//! `TRESOR_STORE_WRITER_OPS` (default 6 per writer) makes it longer.
#![cfg(unix)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tresor::kms::KmsDriver;
use tresor::kms::software::{MasterKeySource, SoftwareKms};
use tresor::vault::blocking::BlockingVault;
use tresor::vault::{EnvelopeConfig, Mode, VaultOptions};
use tresor::{Fingerprint, Purpose, SigningKeyUsageSet};

mod common;
#[path = "../../core/tests/common/rows.rs"]
mod rows;

use common::TempDir;

/// `tresor args` in `dir` with stdout and stderr piped (for [`run_within`]).
fn tresor(dir: &Path, args: &[&str]) -> Command {
    let mut c = common::command(dir, args, &[]);
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

/// Run with a watchdog: `None` when the command did not exit within `limit` (it is killed).
fn run_within(mut c: Command, limit: Duration) -> Option<Output> {
    let mut child = c.spawn().expect("spawn tresor");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut b);
        b
    });
    let t_err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err, &mut b);
        b
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break Some(s);
        }
        if start.elapsed() >= limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = t_out.join().expect("reader");
    let stderr = t_err.join().expect("reader");
    status.map(|status| Output {
        status,
        stdout,
        stderr,
    })
}

const LIMIT: Duration = Duration::from_secs(120);

fn run(dir: &Path, args: &[&str]) -> Output {
    run_within(tresor(dir, args), LIMIT)
        .unwrap_or_else(|| panic!("{args:?} did not exit within {LIMIT:?}"))
}

fn ok(dir: &Path, args: &[&str]) -> String {
    common::success(args, run(dir, args))
}

fn json(dir: &Path, args: &[&str]) -> Value {
    common::parse_json(args, &ok(dir, args))
}

/// Expect exit 2 with one stderr line containing every `what`.
fn fails(out: &Output, what: &[&str]) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    for w in what {
        assert!(err.contains(w), "expected '{w}' in {err}");
    }
    err
}

fn generate(dir: &Path, spec: &str, usage: &str, name: &str) -> String {
    let v = json(
        dir,
        &[
            "key",
            "generate",
            "--purpose",
            "signing",
            "--spec",
            spec,
            "--usage",
            usage,
            "--name",
            name,
            "--json",
        ],
    );
    v["fingerprint"].as_str().expect("fingerprint").to_string()
}

fn db_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("tresor.db").display())
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Open the envelope store in `dir` (files as `tresor init` names them) through the library.
fn vault(dir: &Path) -> BlockingVault {
    let kms: Arc<dyn KmsDriver> = Arc::new(
        rt().block_on(SoftwareKms::open(
            &dir.join("tresor-kms.db"),
            MasterKeySource::KeyFile(dir.join("tresor-kms.key")),
        ))
        .expect("open the software KMS"),
    );
    BlockingVault::open_with_driver(
        &db_url(dir),
        Some(kms),
        VaultOptions::new(Mode::Envelope(EnvelopeConfig::default())),
    )
    .expect("open the vault")
}

/// Every key of the store in `dir` signs (or decrypts); returns how many did.
fn every_key_works(dir: &Path) -> usize {
    let v = vault(dir);
    let keys = v.list_keys().expect("list");
    for k in &keys {
        match k.purpose() {
            Purpose::Signing => {
                let sig = v
                    .sign(&k.fingerprint, b"m", SigningKeyUsageSet::ALL, None)
                    .unwrap_or_else(|e| panic!("{} does not sign: {e}", k.fingerprint));
                v.verify(&k.fingerprint, b"m", &sig, None).expect("verify");
            }
            Purpose::Encryption => {
                let ct = v.encrypt(&k.fingerprint, b"m", None).expect("encrypt");
                v.decrypt(&k.fingerprint, &ct, None).expect("decrypt");
            }
        }
    }
    keys.len()
}

/// The four files the README names, copied while nothing runs.
fn copy_four_files(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for f in [
        "tresor.toml",
        "tresor.db",
        "tresor-kms.db",
        "tresor-kms.key",
    ] {
        std::fs::copy(from.join(f), to.join(f)).unwrap_or_else(|e| panic!("copy {f}: {e}"));
    }
}

/// After a command exits its changes are in the database files themselves: a copy of the four files
/// (without the `-wal` logs) holds every key (they used to stay in `tresor.db-wal`, and the copy said
/// "no keys in the store" or "software KMS has no key").
#[test]
fn committed_changes_are_in_the_files_after_each_command() {
    let t = TempDir::new("checkpoint");
    let d = &t.0;
    ok(d, &["init"]);
    let fp = generate(d, "ec-curve-25519", "protocol", "p");
    for f in ["tresor.db-wal", "tresor-kms.db-wal"] {
        let len = std::fs::metadata(d.join(f)).map(|m| m.len()).unwrap_or(0);
        assert_eq!(len, 0, "{f} holds {len} bytes after the command exited");
    }
    ok(d, &["data-key", "rotate"]);
    ok(d, &["wrapper-key", "rotate"]);
    let copy = d.join("copy");
    copy_four_files(d, &copy);
    let listed = json(&copy, &["key", "list", "--json"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["fingerprint"], fp.as_str());
    assert_eq!(every_key_works(&copy), 1);
}

/// A file that is not a store fails at once, saying what is wrong, and nothing is created in it.
#[test]
fn bad_store_files_fail_fast_and_clearly() {
    let t = TempDir::new("badfiles");
    let d = &t.0;
    ok(d, &["init", "--mode", "clear"]);
    let db = d.join("tresor.db");
    let quick = Duration::from_secs(10);
    let check = |what: &[&str]| {
        let out = run_within(tresor(d, &["key", "list"]), quick)
            .expect("a bad store file must not hang the command");
        fails(&out, what);
    };
    // Not a database.
    std::fs::write(&db, b"this is a text file, not a key store\n").expect("write");
    check(&["not a SQLite database", "tresor.db"]);
    // Empty: not silently a new store.
    std::fs::write(&db, b"").expect("write");
    check(&["empty file", "tresor init"]);
    assert_eq!(
        std::fs::metadata(&db).expect("meta").len(),
        0,
        "nothing created"
    );
    // A SQLite database of something else.
    std::fs::remove_file(&db).expect("rm");
    rt().block_on(rows::exec(
        &format!("{}?mode=rwc", db_url(d)),
        "CREATE TABLE inventory (item TEXT)",
        &[],
    ));
    check(&["not a tresor key store"]);
    let out = run(d, &["key", "list"]);
    assert!(!out.status.success());
    // No tresor table appeared.
    let n = rt().block_on(async {
        sqlx::any::install_default_drivers();
        let mut c = <sqlx::AnyConnection as sqlx::Connection>::connect(&db_url(d))
            .await
            .expect("connect");
        let r: (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 'tresor%'",
        )
        .fetch_one(&mut c)
        .await
        .expect("count");
        r.0
    });
    assert_eq!(n, 0, "a read-only command created tresor tables");
    // A PostgreSQL store is not copied by `tresor backup`: it says what to use instead.
    let mut c = tresor(d, &["backup", "pg-copy"]);
    c.env("TRESOR_STORE_URL", "postgres://tresor@127.0.0.1:1/keys");
    let out = run_within(c, quick).expect("no hang");
    fails(&out, &["not a SQLite file", "pg_dump"]);
    assert!(!d.join("pg-copy").exists(), "nothing written");
}

/// Permission problems are named at once (as an unprivileged user: root writes anywhere): a store in a
/// directory the user cannot write to, and a stale read-only `-shm` file.
#[test]
fn unwritable_directory_and_stale_shm_are_named() {
    let t = TempDir::new("readonly");
    let d = &t.0;
    ok(d, &["init", "--mode", "clear"]);
    generate(d, "ec-curve-25519", "protocol", "p");
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let setpriv = Path::new("/usr/bin/setpriv");
    if !is_root || !setpriv.exists() {
        eprintln!(
            "skipped: this test switches to an unprivileged user with setpriv, which needs root \
             (root itself ignores file permissions)"
        );
        return;
    }
    use std::os::unix::fs::PermissionsExt as _;
    // The tree must be reachable by the unprivileged user.
    let mut p = d.as_path();
    while let Some(parent) = p.parent() {
        let mode = std::fs::metadata(p)
            .map(|m| m.permissions().mode())
            .unwrap_or(0);
        if mode & 0o001 == 0 {
            eprintln!("skipped: {} is not searchable by other users", p.display());
            return;
        }
        p = parent;
    }
    let as_nobody = |args: &[&str]| {
        let mut c = Command::new(setpriv);
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_tresor"))
            .args(args)
            .current_dir(d)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_remove("TRESOR_CONFIG");
        run_within(c, Duration::from_secs(10)).expect("must not hang")
    };
    let chown = |p: &Path| {
        let s = Command::new("chown")
            .arg("65534:65534")
            .arg(p)
            .status()
            .expect("chown");
        assert!(s.success());
    };
    for f in ["tresor.db", "tresor.toml"] {
        chown(&d.join(f));
    }
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let _ = std::fs::remove_file(d.join("tresor.db-wal"));
    let _ = std::fs::remove_file(d.join("tresor.db-shm"));
    let out = as_nobody(&["key", "list"]);
    fails(&out, &["directory", "not writable"]);
    // A stale -shm owned by someone else, read-only, in a writable directory.
    chown(d);
    std::fs::write(d.join("tresor.db-shm"), vec![0u8; 32768]).expect("shm");
    std::fs::set_permissions(
        d.join("tresor.db-shm"),
        std::fs::Permissions::from_mode(0o444),
    )
    .expect("chmod");
    // Reads still work through a read-only shared-memory file; the first write names it.
    let out = as_nobody(&[
        "key",
        "generate",
        "--purpose",
        "signing",
        "--spec",
        "ec-curve-25519",
        "--usage",
        "protocol",
    ]);
    fails(&out, &["tresor.db-shm", "read-only"]);
}

/// One damaged row (a name that is not UTF-8, a usage that does not parse) does not take the store
/// down: other keys work, `key list` lists them and names the damaged rows, `store check` lists every
/// problem, and `key delete` removes the damaged rows.
#[test]
fn one_bad_row_does_not_take_the_store_down() {
    let t = TempDir::new("badrows");
    let d = &t.0;
    ok(d, &["init"]);
    let a = generate(d, "ec-curve-25519", "protocol", "a");
    let b = generate(d, "ec-curve-25519", "protocol", "b");
    let c = generate(d, "ec-curve-25519", "protocol", "c");
    rt().block_on(async {
        rows::exec(
            &db_url(d),
            "UPDATE tresor_keys SET name = CAST(X'fffe41' AS TEXT) WHERE fingerprint = $1",
            &[rows::Param::Text(&a)],
        )
        .await;
        rows::exec(
            &db_url(d),
            "UPDATE tresor_keys SET usage = 'everything' WHERE fingerprint = $1",
            &[rows::Param::Text(&b)],
        )
        .await;
    });
    // The good key signs.
    std::fs::write(d.join("msg"), b"hello").expect("msg");
    ok(
        d,
        &[
            "sign",
            "--fingerprint",
            &c,
            "--usage",
            "protocol",
            "--in",
            "msg",
            "--out",
            "sig",
        ],
    );
    // `key list` prints the good key and names both damaged rows.
    let out = run(d, &["key", "list", "--json"]);
    let listed: Value = serde_json::from_slice(&out.stdout).expect("JSON of the good keys");
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    fails(&out, &[&a, &b, "bad name", "bad usage", "store check"]);
    // Using a damaged row names it.
    fails(
        &run(d, &["key", "show", &b]),
        &[&b, "bad usage", "store_corrupted"],
    );
    // `store check` lists every problem.
    let out = run(d, &["store", "check"]);
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(report.contains(&a) && report.contains(&b), "{report}");
    fails(&out, &["2 problem(s)"]);
    // Both damaged rows can be deleted; then the store is clean.
    ok(d, &["key", "delete", &a, "--yes"]);
    ok(d, &["key", "delete", &b, "--yes"]);
    let out = ok(d, &["store", "check"]);
    assert!(out.contains("no problem"), "{out}");
    assert_eq!(
        json(d, &["key", "list", "--json"]).as_array().map(Vec::len),
        Some(1)
    );
}

/// 8 processes generate, rotate and import keys while another rotates the data key in a loop and
/// `tresor backup` copies the store: no writer fails (they used to fail with `FOREIGN KEY constraint
/// failed`), every key signs, and every backup opens with every key signing.
#[test]
fn eight_writers_a_rotation_loop_and_backups() {
    let t = TempDir::new("writers");
    let d = t.0.clone();
    ok(&d, &["init"]);
    let ops: usize = std::env::var("TRESOR_STORE_WRITER_OPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    // Keys to import: exported (sealed under a password) and deleted before the run.
    std::fs::write(d.join("pw"), "correct horse battery staple\n").expect("pw");
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(d.join("pw"), std::fs::Permissions::from_mode(0o600))
            .expect("chmod");
    }
    let mut exports = Vec::new();
    for w in 0..8 {
        let fp = generate(&d, "ec-p-256", "protocol", &format!("export-{w}"));
        let file = format!("export-{w}.key");
        ok(
            &d,
            &[
                "key",
                "export",
                &fp,
                "--out",
                &file,
                "--password-file",
                "pw",
                "--delete",
            ],
        );
        exports.push(file);
    }
    let failures = Arc::new(AtomicUsize::new(0));
    let commands = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let first_failure = Arc::new(std::sync::Mutex::new(None::<String>));
    let record = {
        let (failures, commands, first) =
            (failures.clone(), commands.clone(), first_failure.clone());
        move |args: &[&str], out: &Output| {
            commands.fetch_add(1, Ordering::Relaxed);
            if !out.status.success() {
                failures.fetch_add(1, Ordering::Relaxed);
                let mut f = first.lock().expect("lock");
                if f.is_none() {
                    *f = Some(format!(
                        "{args:?}: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    ));
                }
            }
        }
    };
    let rotations = Arc::new(AtomicUsize::new(0));
    let rotator = {
        let (d, done, rotations, record) =
            (d.clone(), done.clone(), rotations.clone(), record.clone());
        std::thread::spawn(move || {
            let mut i = 0usize;
            while !done.load(Ordering::Relaxed) || i < 2 {
                let args: &[&str] = if i % 5 == 4 {
                    &["wrapper-key", "rotate"]
                } else {
                    &["data-key", "rotate"]
                };
                let out = run(&d, args);
                record(args, &out);
                rotations.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        })
    };
    let backups = {
        let (d, done) = (d.clone(), done.clone());
        std::thread::spawn(move || {
            let mut taken = Vec::new();
            let mut i = 0usize;
            while !done.load(Ordering::Relaxed) || taken.is_empty() {
                let dir = format!("backup-{i}");
                let out = run(&d, &["backup", &dir]);
                assert!(
                    out.status.success(),
                    "backup {i}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                taken.push(d.join(dir));
                i += 1;
                std::thread::sleep(Duration::from_millis(300));
            }
            taken
        })
    };
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (d, record, import) = (d.clone(), record.clone(), exports[w].clone());
            std::thread::spawn(move || {
                let mut last: Option<String> = None;
                for i in 0..ops {
                    let name = format!("w{w}-{i}");
                    let args: Vec<String> = match (i % 3, &last) {
                        (1, Some(fp)) => {
                            vec!["key".into(), "rotate".into(), fp.clone(), "--json".into()]
                        }
                        (2, _) if i == 2 => vec![
                            "key".into(),
                            "import".into(),
                            import.clone(),
                            "--password-file".into(),
                            "pw".into(),
                            "--json".into(),
                        ],
                        _ => vec![
                            "key".into(),
                            "generate".into(),
                            "--purpose".into(),
                            "signing".into(),
                            "--spec".into(),
                            "ec-curve-25519".into(),
                            "--usage".into(),
                            "protocol".into(),
                            "--name".into(),
                            name,
                            "--json".into(),
                        ],
                    };
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    let out = run(&d, &args);
                    record(&args, &out);
                    if out.status.success() {
                        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
                        let fp = v["fingerprint"]
                            .as_str()
                            .or_else(|| v["new"]["fingerprint"].as_str())
                            .or_else(|| v["imported"]["fingerprint"].as_str());
                        if let Some(fp) = fp {
                            last = Some(fp.to_string());
                        }
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.join().expect("writer");
    }
    done.store(true, Ordering::Relaxed);
    rotator.join().expect("rotator");
    let backups = backups.join().expect("backups");
    let keys = every_key_works(&d);
    let mut restored = Vec::new();
    for b in &backups {
        // Restore: the backup directory is a store of its own (its config's paths are relative).
        let listed = json(b, &["key", "list", "--json"]);
        let n = every_key_works(b);
        assert_eq!(listed.as_array().map(Vec::len), Some(n));
        restored.push(n);
    }
    let f = failures.load(Ordering::Relaxed);
    // Straight to the process's stderr, past the test harness's capture: the counts are in the output.
    let _ = std::io::Write::write_all(
        &mut std::io::stderr().lock(),
        format!(
            "store concurrency (SQLite): {} writer and rotation commands, {f} failures, {} rotations, \
             {keys} keys that all sign; {} backups restored with {restored:?} keys that all sign\n",
            commands.load(Ordering::Relaxed),
            rotations.load(Ordering::Relaxed),
            backups.len()
        )
        .as_bytes(),
    );
    assert_eq!(
        f,
        0,
        "first failure: {:?}",
        first_failure.lock().expect("lock").clone()
    );
    assert!(keys >= 8 * ops, "{keys} keys");
    let _: Fingerprint = rows_fp(&d);
}

/// Any fingerprint of the store (to check rows decode with the raw helper too).
fn rows_fp(d: &Path) -> Fingerprint {
    let r = rt().block_on(rows::rows(&db_url(d)));
    r[0].fingerprint.parse().expect("fingerprint")
}
