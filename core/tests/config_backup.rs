//! `tresor::config::backup` over real SQLite files and the software KMS: a copy taken while another
//! vault writes opens as a store of its own and every key in it signs; a non-empty directory and a
//! PostgreSQL store are refused.
#![cfg(feature = "config")]

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tresor::config::{BackupPart, Config, ConfigSources, OpenOptions, check_backup};
use tresor::vault::{Mode, VaultOptions};
use tresor::{BlockingVault, ErrorKind, SigningKeySpec, SigningKeyUsageSet as U};

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("tresor-backup-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("mkdir");
        Self(p)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn load(file: &Path) -> Config {
    Config::load(&ConfigSources::new().file(file).environment(false)).expect("config")
}

/// An envelope-mode store with a software KMS and a key file, in a `data/` directory the config names
/// with relative paths (so the copy's config must be rewritten to name the copies).
fn envelope_store(d: &Path) -> PathBuf {
    std::fs::create_dir_all(d.join("data")).expect("mkdir");
    let key = d.join("data/kms.key");
    std::fs::write(
        &key,
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
    )
    .expect("key file");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let cfg = d.join("tresor.toml");
    std::fs::write(
        &cfg,
        "[store]\nurl = \"sqlite://data/keys.db\"\n\
         [private-key-store.encryption]\ntype = \"kms\"\n\
         [kms]\ntype = \"software\"\npath = \"data/kms.db\"\nkey-file = \"data/kms.key\"\n",
    )
    .expect("config");
    cfg
}

fn mode_of(p: &Path) -> u32 {
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
}

/// Every signing key in `v` signs and its signature verifies; returns how many there are.
fn every_key_signs(v: &BlockingVault) -> usize {
    let keys = v.list_keys().expect("list");
    for k in &keys {
        let sig = v
            .sign(&k.fingerprint, b"backup", U::PROTOCOL_ONLY, None)
            .unwrap_or_else(|e| panic!("{} does not sign: {e}", k.fingerprint));
        v.verify(&k.fingerprint, b"backup", &sig, None)
            .expect("verifies");
    }
    keys.len()
}

#[test]
fn a_copy_taken_while_another_vault_writes_opens_and_every_key_signs() {
    let d = Dir::new("copy");
    let cfg_file = envelope_store(&d.0);
    let cfg = load(&cfg_file);
    let v = BlockingVault::open(&cfg, OpenOptions::new().create(true)).expect("creates");
    for i in 0..4 {
        let spec = if i % 2 == 0 {
            SigningKeySpec::EcCurve25519
        } else {
            SigningKeySpec::EcP256
        };
        v.generate_signing_key(spec, U::PROTOCOL_ONLY, Some(&format!("before-{i}")))
            .expect("key");
    }
    // A second vault on the same files writes (keys, a data-key rotation) while the backups run.
    let done = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (cfg, done, written) = (cfg.clone(), done.clone(), written.clone());
        std::thread::spawn(move || {
            let w = BlockingVault::open(&cfg, OpenOptions::new()).expect("second vault");
            let mut i = 0;
            while !done.load(Ordering::Relaxed) || i < 3 {
                if i % 4 == 3 {
                    w.rotate_data_key().expect("data key rotation");
                } else {
                    w.generate_signing_key(
                        SigningKeySpec::EcCurve25519,
                        U::PROTOCOL_ONLY,
                        Some(&format!("during-{i}")),
                    )
                    .expect("key while backing up");
                }
                written.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        })
    };
    let mut copies = Vec::new();
    for n in 0..3 {
        // Each backup starts after the writer has written once more, and runs while it writes on.
        while written.load(Ordering::Relaxed) <= n {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let dir = d.0.join(format!("backup-{n}"));
        let report = v.backup(&dir).expect("backup");
        assert_eq!(report.dir, dir);
        let parts: Vec<BackupPart> = report.files.iter().map(|f| f.part).collect();
        assert_eq!(
            parts,
            [
                BackupPart::Store,
                BackupPart::SoftwareKms,
                BackupPart::KmsKeyFile,
                BackupPart::Config
            ]
        );
        let names: Vec<String> = report
            .files
            .iter()
            .map(|f| {
                f.path
                    .strip_prefix(&dir)
                    .expect("inside")
                    .display()
                    .to_string()
            })
            .collect();
        assert_eq!(names, ["keys.db", "kms.db", "kms.key", "tresor.toml"]);
        assert!(report.notes.is_empty(), "{:?}", report.notes);
        assert_eq!(mode_of(&dir), 0o700);
        assert_eq!(mode_of(&dir.join("kms.key")), 0o600);
        copies.push(dir);
    }
    done.store(true, Ordering::Relaxed);
    writer.join().expect("writer");
    assert!(written.load(Ordering::Relaxed) >= 3);
    let live = every_key_signs(&v);
    drop(v);
    // Each copy is a store of its own: its config names the copies, not the live files.
    let mut restored = Vec::new();
    for dir in &copies {
        let copy_cfg = load(&dir.join("tresor.toml"));
        let url = copy_cfg.store_url().expect("url");
        assert_eq!(url, format!("sqlite://{}", dir.join("keys.db").display()));
        let c = BlockingVault::open(&copy_cfg, OpenOptions::new()).expect("the copy opens");
        let n = every_key_signs(&c);
        assert!(n >= 5, "{n} keys in {}", dir.display());
        assert!(
            c.list_keys()
                .expect("list")
                .iter()
                .any(|k| k.name.as_deref() == Some("before-3"))
        );
        restored.push(n);
    }
    eprintln!(
        "backup while writing: {} writes, {live} live keys, copies with {restored:?} keys that all sign",
        written.load(Ordering::Relaxed)
    );
}

#[test]
fn the_async_function_refuses_a_non_empty_directory_and_writes_nothing() {
    let d = Dir::new("nonempty");
    let cfg = load(&envelope_store(&d.0));
    let v = BlockingVault::open(&cfg, OpenOptions::new().create(true)).expect("creates");
    let dir = d.0.join("taken");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::write(dir.join("something"), "x").expect("write");
    let e = v
        .block_on(tresor::config::backup(&cfg, v.vault(), &dir))
        .expect_err("not empty");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains(&dir.display().to_string()), "{e}");
    assert!(e.message().contains("not empty"), "{e}");
    let left: Vec<_> = std::fs::read_dir(&dir)
        .expect("read")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left, ["something"]);
    // An empty existing directory is used as it is.
    let empty = d.0.join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    let report = v
        .block_on(tresor::config::backup(&cfg, v.vault(), &empty))
        .expect("an empty directory is fine");
    assert_eq!(report.files.len(), 4);
}

#[test]
fn a_postgresql_store_is_refused_with_wrong_mode() {
    let d = Dir::new("postgres");
    std::fs::write(
        d.0.join("tresor.toml"),
        "[store]\nurl = \"postgres://tresor:hunter2@127.0.0.1:1/keys\"\n",
    )
    .expect("config");
    let cfg = load(&d.0.join("tresor.toml"));
    let dir = d.0.join("copy");
    let e = check_backup(&cfg, &dir).expect_err("postgres");
    assert_eq!(e.kind(), ErrorKind::WrongMode);
    for word in ["not a SQLite file", "pg_dump -Fc", "WAL archiving"] {
        assert!(e.message().contains(word), "{e}");
    }
    assert!(!e.message().contains("hunter2"), "{e}");
    assert!(!dir.exists(), "nothing written");
}

#[test]
fn a_vault_not_opened_from_a_configuration_cannot_be_backed_up() {
    let d = Dir::new("noconfig");
    let url = format!("sqlite://{}?mode=rwc", d.0.join("t.db").display());
    let v =
        BlockingVault::open_with_driver(&url, None, VaultOptions::new(Mode::Clear)).expect("opens");
    let e = v.backup(&d.0.join("copy")).expect_err("no configuration");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(
        e.message().contains("not opened from a configuration"),
        "{e}"
    );
    assert!(!d.0.join("copy").exists());
}
