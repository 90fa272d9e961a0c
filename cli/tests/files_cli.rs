//! Output to special files (FIFOs and character devices are written in place, never replaced) and
//! secret-file hygiene (secret files others can read are refused, short export passwords too, the
//! audit log and `demo --dir` files are private).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{TempDir, command, fails, ok};

#[cfg(unix)]
fn mode_of(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).expect("stat").permissions().mode() & 0o777
}

#[cfg(unix)]
fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[cfg(unix)]
fn is_fifo(p: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(p)
        .map(|m| m.file_type().is_fifo())
        .unwrap_or(false)
}

#[cfg(unix)]
fn is_char_device(p: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(p)
        .map(|m| m.file_type().is_char_device())
        .unwrap_or(false)
}

#[cfg(unix)]
fn mkfifo(p: &Path) {
    let st = Command::new("mkfifo").arg(p).status().expect("mkfifo");
    assert!(st.success(), "mkfifo failed");
}

/// Run tresor writing to the FIFO `fifo` while a thread reads it; returns what was read. This side
/// holds the FIFO open for reading and writing meanwhile, so no open blocks and nothing hangs even if
/// tresor replaced the FIFO instead of writing into it.
#[cfg(unix)]
fn through_fifo(dir: &Path, args: &[&str], fifo: &Path) -> Vec<u8> {
    use std::io::Read as _;
    let hold = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(fifo)
        .expect("open the FIFO");
    let (ready, opened) = std::sync::mpsc::channel();
    let path = fifo.to_path_buf();
    let reader = std::thread::spawn(move || {
        let mut f = std::fs::File::open(&path).expect("open the FIFO for reading");
        let _ = ready.send(());
        let mut got = Vec::new();
        f.read_to_end(&mut got).expect("read the FIFO");
        got
    });
    opened.recv().expect("reader ready");
    let out = command(dir, args, &[]).output().expect("run tresor");
    drop(hold);
    let got = reader.join().expect("reader");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    got
}

#[cfg(unix)]
#[test]
fn fifos_and_character_devices_are_written_in_place() {
    let t = TempDir::new("fifo");
    let d = &t.0;
    ok(
        d,
        &[
            "keygen",
            "--spec",
            "ec-curve-25519",
            "--out",
            "k.pem",
            "--public-out",
            "k.pub",
        ],
        &[],
    );
    std::fs::write(d.join("m"), b"a message").expect("write");
    let fifo = d.join("sig.fifo");
    mkfifo(&fifo);
    // With --force (the reported case) and without: the FIFO stays a FIFO and gets the signature.
    for force in [true, false] {
        let mut args = vec![
            "sign", "--key", "k.pem", "--algo", "ed-25519", "--in", "m", "--out", "sig.fifo",
        ];
        if force {
            args.push("--force");
        }
        let sig = through_fifo(d, &args, &fifo);
        assert_eq!(sig.len(), 64, "an Ed25519 signature went through the FIFO");
        assert!(is_fifo(&fifo), "the FIFO was replaced by a regular file");
        std::fs::write(d.join("s"), &sig).expect("write");
        ok(
            d,
            &[
                "verify", "--key", "k.pub", "--algo", "ed-25519", "--in", "m", "--sig", "s",
            ],
            &[],
        );
    }
    // A decrypted plaintext through a FIFO (the private-file path).
    ok(
        d,
        &[
            "keygen",
            "--spec",
            "ec-p-256",
            "--out",
            "e.pem",
            "--public-out",
            "e.pub",
        ],
        &[],
    );
    ok(
        d,
        &[
            "encrypt",
            "--key",
            "e.pub",
            "--algo",
            "ecies-hkdf-hmac-sha-256-aes-128-cbc",
            "--in",
            "m",
            "--out",
            "c",
        ],
        &[],
    );
    let pt = through_fifo(
        d,
        &[
            "decrypt",
            "--key",
            "e.pem",
            "--algo",
            "ecies-hkdf-hmac-sha-256-aes-128-cbc",
            "--in",
            "c",
            "--out",
            "sig.fifo",
            "--force",
        ],
        &fifo,
    );
    assert_eq!(pt, b"a message");
    assert!(is_fifo(&fifo));

    // A character device stays one. As root a regression would replace the system's /dev/null, so
    // root writes to a private null device made here instead; others write to /dev/null itself.
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let null = if root {
        let p = d.join("null");
        let made = Command::new("mknod")
            .arg(&p)
            .args(["c", "1", "3"])
            .status()
            .is_ok_and(|s| s.success());
        if !made {
            eprintln!(
                "skipped: running as root and mknod is not permitted here, so no private null device"
            );
            return;
        }
        p
    } else {
        PathBuf::from("/dev/null")
    };
    let null_s = null.to_str().expect("utf-8");
    for force in [true, false] {
        let mut args = vec![
            "sign", "--key", "k.pem", "--algo", "ed-25519", "--in", "m", "--out", null_s,
        ];
        if force {
            args.push("--force");
        }
        ok(d, &args, &[]);
        assert!(
            is_char_device(&null),
            "{null_s} is no longer a character device"
        );
    }
    ok(
        d,
        &["keygen", "--spec", "ec-p-256", "--out", null_s, "--force"],
        &[],
    );
    assert!(is_char_device(&null));
    // export --delete reads the file back before deleting the key: a FIFO or a device is refused.
    ok(d, &["init"], &[]);
    ok(
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
        ],
        &[],
    );
    for out in ["sig.fifo", null_s] {
        fails(
            d,
            &["key", "export", "ns", "--out", out, "--delete"],
            &[("TRESOR_EXPORT_PASSWORD", "a long enough password")],
            2,
            &["--delete needs --out <file>, a regular file"],
        );
    }
    assert!(is_fifo(&fifo) && is_char_device(&null));
    ok(d, &["key", "show", "ns"], &[]);
    // A directory is refused, a regular file still needs --force.
    fails(
        d,
        &[
            "sign", "--key", "k.pem", "--algo", "ed-25519", "--in", "m", "--out", ".",
        ],
        &[],
        2,
        &["is a directory"],
    );
    fails(
        d,
        &[
            "sign", "--key", "k.pem", "--algo", "ed-25519", "--in", "m", "--out", "s",
        ],
        &[],
        2,
        &["already exists", "--force"],
    );
}

#[cfg(unix)]
#[test]
fn secret_files_others_can_read_are_refused() {
    let t = TempDir::new("secrets");
    let d = &t.0;
    ok(d, &["init"], &[]);
    let key_file = d.join("tresor-kms.key");
    assert_eq!(mode_of(&key_file), 0o600);
    // The audit log is private too.
    ok(d, &["key", "list"], &[]);
    assert_eq!(mode_of(&d.join("tresor-kms-audit.log")), 0o600);

    for mode in [0o644, 0o640, 0o604] {
        chmod(&key_file, mode);
        fails(
            d,
            &["key", "list"],
            &[],
            2,
            &[
                "software KMS key file",
                "tresor-kms.key",
                "readable by",
                "chmod 600",
            ],
        );
    }
    chmod(&key_file, 0o400);
    ok(d, &["key", "list"], &[]);
    chmod(&key_file, 0o600);

    let fp = {
        let out = ok(
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
        );
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        v["fingerprint"].as_str().expect("fp").to_string()
    };
    // An export password file others can read is refused; 0600 is accepted.
    std::fs::write(d.join("pw"), "correct horse battery staple\n").expect("write");
    fails(
        d,
        &[
            "key",
            "export",
            &fp,
            "--out",
            "ns.export",
            "--password-file",
            "pw",
        ],
        &[],
        2,
        &["password file", "readable by", "chmod 600"],
    );
    assert!(!d.join("ns.export").exists());
    chmod(&d.join("pw"), 0o600);
    ok(
        d,
        &[
            "key",
            "export",
            &fp,
            "--out",
            "ns.export",
            "--password-file",
            "pw",
        ],
        &[],
    );
    assert_eq!(mode_of(&d.join("ns.export")), 0o600);

    // A short export password is refused unless explicitly allowed.
    std::fs::write(d.join("short"), "hunter2\n").expect("write");
    chmod(&d.join("short"), 0o600);
    fails(
        d,
        &[
            "key",
            "export",
            &fp,
            "--out",
            "short.export",
            "--password-file",
            "short",
        ],
        &[],
        2,
        &["7 characters", "at least 12", "--allow-short-password"],
    );
    fails(
        d,
        &["key", "export", &fp, "--out", "short.export"],
        &[("TRESOR_EXPORT_PASSWORD", "elevenchars")],
        2,
        &["11 characters", "at least 12"],
    );
    assert!(!d.join("short.export").exists());
    ok(
        d,
        &[
            "key",
            "export",
            &fp,
            "--out",
            "short.export",
            "--password-file",
            "short",
            "--allow-short-password",
        ],
        &[],
    );
    // Importing asks for no minimum: the file was sealed with what it was sealed with.
    ok(d, &["key", "delete", &fp, "--yes"], &[]);
    ok(
        d,
        &["key", "import", "short.export", "--password-file", "short"],
        &[],
    );
    // Twelve characters (not bytes) are enough.
    ok(
        d,
        &["key", "export", &fp, "--out", "twelve.export"],
        &[("TRESOR_EXPORT_PASSWORD", "ééééééééééé!")],
    );
}

#[cfg(unix)]
#[test]
fn demo_dir_files_are_private() {
    let t = TempDir::new("demo");
    let d = &t.0;
    ok(d, &["demo", "--iterations", "1", "--dir", "kept"], &[]);
    for f in ["tresor.db", "tresor-kms.db", "tresor-kms.key"] {
        let p = d.join("kept").join(f);
        assert!(p.exists(), "{f}");
        assert_eq!(mode_of(&p), 0o600, "{f}");
    }
    for entry in std::fs::read_dir(d.join("kept")).expect("ls").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with("-wal") || name.ends_with("-shm") {
            assert_eq!(mode_of(&entry.path()) & 0o077, 0, "{name}");
        }
    }
}
