//! `tresor init` makes either kind of software KMS (key file or passphrase), commands say clearly when
//! the configured kind is not the one the KMS was made with, and a hand-written configuration can be
//! initialised (`init --use-config`).

mod common;

use std::path::Path;

use serde_json::Value;

use common::{TempDir, fails, json, ok};

fn write_secret(p: &Path, contents: &str) {
    std::fs::write(p, contents).expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
}

const GEN: &[&str] = &[
    "key",
    "generate",
    "--purpose",
    "signing",
    "--spec",
    "ec-p-256",
    "--usage",
    "protocol",
    "--json",
];

#[test]
fn the_passphrase_variable_makes_init_create_a_passphrase_kms() {
    let t = TempDir::new("env");
    let d = &t.0;
    let pass = [("TRESOR_KMS_PASSPHRASE", "a long passphrase for the KMS")];
    let v = json(d, &["init", "--json"], &pass);
    assert_eq!(v["kms_master"], "passphrase");
    assert_eq!(v["key_file"], Value::Null);
    assert!(!d.join("tresor-kms.key").exists(), "no key file is made");
    let config = std::fs::read_to_string(d.join("tresor.toml")).expect("config");
    assert!(!config.contains("\nkey-file"), "{config}");
    assert!(config.contains("TRESOR_KMS_PASSPHRASE"), "{config}");
    // The same variable opens it (before: every command exited 3).
    let k = json(d, GEN, &pass);
    let listed = json(d, &["key", "list", "--json"], &pass);
    assert_eq!(listed[0]["fingerprint"], k["fingerprint"]);
    // Without it and without a terminal: what to set.
    fails(
        d,
        &["key", "list"],
        &[],
        2,
        &["needs its master key", "TRESOR_KMS_PASSPHRASE"],
    );
    // Another passphrase is a wrong password (exit 3).
    fails(
        d,
        &["key", "list"],
        &[("TRESOR_KMS_PASSPHRASE", "not the passphrase")],
        3,
        &["master key is wrong", "wrong_password"],
    );
    // A key file for a passphrase KMS: the kinds are named (exit 2, not a wrong password).
    write_secret(&d.join("k.key"), &"ab".repeat(32));
    fails(
        d,
        &["key", "list"],
        &[("TRESOR_KMS_KEY_FILE", "k.key")],
        2,
        &[
            "created with a passphrase",
            "opened with a key file",
            "k.key",
        ],
    );
}

#[test]
fn init_with_a_passphrase_file_or_a_prompt() {
    let t = TempDir::new("file");
    let d = &t.0;
    std::fs::write(d.join("pw"), "the KMS passphrase, first line\nignored\n").expect("write");
    // A passphrase file others can read is refused before anything is made.
    fails(
        d,
        &["init", "--kms-passphrase-file", "pw"],
        &[],
        2,
        &["'", "pw", "readable by", "chmod 600"],
    );
    assert!(!d.join("tresor.toml").exists() && !d.join("tresor-kms.db").exists());
    write_secret(&d.join("pw"), "the KMS passphrase, first line\nignored\n");
    let v = json(d, &["init", "--kms-passphrase-file", "pw", "--json"], &[]);
    assert_eq!(v["kms_master"], "passphrase-file");
    let config = std::fs::read_to_string(d.join("tresor.toml")).expect("config");
    assert!(config.contains("passphrase-file = \"pw\""), "{config}");
    assert!(!d.join("tresor-kms.key").exists());
    // Every command finds the passphrase through the config.
    let k = json(d, GEN, &[]);
    let shown = ok(d, &["config", "show"], &[]);
    assert!(shown.contains("passphrase file"), "{shown}");
    // The same passphrase from the variable opens it too; the kind is what counts.
    let listed = json(
        d,
        &["key", "list", "--json"],
        &[("TRESOR_KMS_PASSPHRASE", "the KMS passphrase, first line")],
    );
    assert_eq!(listed[0]["fingerprint"], k["fingerprint"]);

    // --kms-passphrase without the variable and without a terminal says how to give it.
    let t2 = TempDir::new("prompt");
    fails(
        &t2.0,
        &["init", "--kms-passphrase"],
        &[],
        2,
        &["TRESOR_KMS_PASSPHRASE", "--kms-passphrase-file", "terminal"],
    );
    assert!(!t2.0.join("tresor.toml").exists());
    let v = json(
        &t2.0,
        &["init", "--kms-passphrase", "--json"],
        &[("TRESOR_KMS_PASSPHRASE", "typed or from the environment")],
    );
    assert_eq!(v["kms_master"], "passphrase");
    // An option that the environment would override in every later command is refused.
    let t3 = TempDir::new("conflict");
    write_secret(&t3.0.join("pw"), "x\n");
    fails(
        &t3.0,
        &["init", "--kms-passphrase-file", "pw"],
        &[("TRESOR_KMS_PASSPHRASE", "something else")],
        2,
        &[
            "--kms-passphrase-file",
            "TRESOR_KMS_PASSPHRASE is set",
            "unset",
        ],
    );
    assert!(!t3.0.join("tresor.toml").exists());
    // The default is still a key file (mode 0600).
    let t4 = TempDir::new("default");
    let v = json(&t4.0, &["init", "--json"], &[]);
    assert_eq!(v["kms_master"], "key-file");
    assert!(t4.0.join("tresor-kms.key").exists());
}

#[test]
fn a_key_file_kms_opened_with_a_passphrase_names_both_kinds() {
    let t = TempDir::new("mismatch");
    let d = &t.0;
    ok(d, &["init"], &[]);
    fails(
        d,
        &["key", "list"],
        &[("TRESOR_KMS_PASSPHRASE", "some passphrase")],
        2,
        &[
            "created with a key file",
            "opened with a passphrase",
            "passphrase from TRESOR_KMS_PASSPHRASE",
            "invalid_argument",
        ],
    );
}

#[test]
fn a_hand_written_passphrase_config_is_initialised_with_use_config() {
    let t = TempDir::new("handwritten");
    let d = &t.0;
    std::fs::write(
        d.join("tresor.toml"),
        "[store]\nurl = \"sqlite://data/keys.db\"\n\n[private-key-store.encryption]\ntype = \"kms\"\n\n\
         [kms]\ntype = \"software\"\npath = \"data/kms.db\"\npassphrase-file = \"pw\"\naudit-logging = true\n",
    )
    .expect("write");
    write_secret(&d.join("pw"), "hand written passphrase\n");
    // Before: "run 'tresor init'", which then refused the existing config.
    fails(
        d,
        &["key", "list"],
        &[],
        2,
        &["does not exist", "tresor init --use-config"],
    );
    fails(d, &["init"], &[], 2, &["already exists", "--use-config"]);
    let v = json(d, &["init", "--use-config", "--json"], &[]);
    assert_eq!(v["mode"], "envelope");
    assert_eq!(v["created"].as_array().map(Vec::len), Some(2), "{v}");
    assert!(v["wrapper_key_id"].is_string(), "{v}");
    #[cfg(unix)]
    for f in ["data/keys.db", "data/kms.db"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.join(f))
            .expect("stat")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{f}");
    }
    // The config is untouched and works.
    let config = std::fs::read_to_string(d.join("tresor.toml")).expect("config");
    assert!(config.contains("passphrase-file = \"pw\"") && !config.contains("key-file"));
    json(d, GEN, &[]);
    assert_eq!(
        json(d, &["key", "list", "--json"], &[])
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    // Running it again keeps everything.
    let again = json(d, &["init", "--use-config", "--json"], &[]);
    assert_eq!(again["keys"], 1);
    assert_eq!(again["created"].as_array().map(Vec::len), Some(0));
    // A hand-written key-file config gets its key file made too.
    let t2 = TempDir::new("handwritten-key");
    std::fs::write(
        t2.0.join("tresor.toml"),
        "[store]\nurl = \"sqlite://k.db\"\n[crypto]\nprovider = \"kms\"\n[kms]\ntype = \"software\"\npath = \"kms.db\"\nkey-file = \"kms.key\"\n",
    )
    .expect("write");
    let v = json(&t2.0, &["init", "--use-config", "--json"], &[]);
    assert_eq!(v["mode"], "external");
    assert!(t2.0.join("kms.key").exists());
    json(&t2.0, GEN, &[]);
}
