//! Replays the fuzz corpus that lives in the repository through the fuzz targets' own checks.
//!
//! For every fuzz target, each file under `core/fuzz/seeds/<target>/` and `core/fuzz/crashers/<target>/`
//! is fed to `check_<target>` from `core/fuzz/src/checks.rs` (the very code the fuzz targets run). Here the
//! crate is built with its default features, so the checks also run the native backend and compare it with
//! the portable one. A crasher found by `scripts/fuzz.sh` thus becomes a regression test as soon as its file
//! is kept in `core/fuzz/crashers/<target>/`.
//!
//! The seeds are written by the ignored test `write_seeds`:
//! `cargo test -p tresor --test fuzz_regressions -- --ignored write_seeds`.

#[path = "../fuzz/src/checks.rs"]
pub mod checks;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `core/fuzz/<kind>/<target>/`, sorted (none if the directory does not exist).
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = fuzz_dir().join(kind).join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Run `check` on every seed and crasher of `target`; fail listing every input that panics.
fn replay(target: &str, check: fn(&[u8])) {
    let seeds = inputs("seeds", target);
    assert!(
        !seeds.is_empty(),
        "no seeds for {target} in {}",
        fuzz_dir().display()
    );
    let mut failures = Vec::new();
    for path in seeds.iter().chain(&inputs("crashers", target)) {
        let data = std::fs::read(path).expect("readable input file");
        if catch_unwind(AssertUnwindSafe(|| check(&data))).is_err() {
            failures.push(path.display().to_string());
        }
    }
    assert!(
        failures.is_empty(),
        "{target}: {} input(s) fail the checks:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

macro_rules! replay_tests {
    ($($target:ident => $check:ident),+ $(,)?) => {
        $(
            #[test]
            fn $target() {
                replay(stringify!($target), checks::$check);
            }
        )+
    };
}

replay_tests!(
    spki => check_spki,
    pkcs8 => check_pkcs8,
    pem => check_pem,
    jwk => check_jwk,
    ecdsa_der => check_ecdsa_der,
    ciphertext_ecies_cbc => check_ciphertext_ecies_cbc,
    ciphertext_ecies_gcm => check_ciphertext_ecies_gcm,
    ciphertext_aes_gcm => check_ciphertext_aes_gcm,
    ciphertext_rsa_oaep => check_ciphertext_rsa_oaep,
    signature_verify => check_signature_verify,
    scheme_strings => check_scheme_strings,
);

/// Every target has a check and a seed directory, and no stray directory names a target that does not exist.
#[test]
fn corpus_layout() {
    const TARGETS: [&str; 11] = [
        "spki",
        "pkcs8",
        "pem",
        "jwk",
        "ecdsa_der",
        "ciphertext_ecies_cbc",
        "ciphertext_ecies_gcm",
        "ciphertext_aes_gcm",
        "ciphertext_rsa_oaep",
        "signature_verify",
        "scheme_strings",
    ];
    for kind in ["seeds", "crashers"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind)) else {
            continue;
        };
        for e in entries {
            let path = e.expect("readable directory entry").path();
            if path.is_dir() {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                assert!(
                    TARGETS.contains(&name),
                    "{} does not name a fuzz target",
                    path.display()
                );
            }
        }
    }
}

/// Regenerate `core/fuzz/seeds/` from `checks::seeds()` (run on demand, it writes into the source tree).
#[test]
#[ignore = "writes core/fuzz/seeds; run explicitly to regenerate the seed corpus"]
fn write_seeds() {
    for (target, name, bytes) in checks::seeds() {
        let dir = fuzz_dir().join("seeds").join(target);
        std::fs::create_dir_all(&dir).expect("create seed directory");
        std::fs::write(dir.join(&name), &bytes).expect("write seed");
    }
}
