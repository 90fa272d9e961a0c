//! Peak memory of `sign` and `encrypt` on a large file: a small multiple of the input (the input is
//! held once, encryption works in that buffer). Measured as the child's maximum resident set size by
//! GNU time (`/usr/bin/time -f %M`), else by Python's `resource.getrusage(RUSAGE_CHILDREN)`.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::TempDir;

const MIB: u64 = 1024 * 1024;
/// The input: large enough that a copy more or less shows plainly over the program's own size.
const INPUT: u64 = 64 * MIB;

/// How the peak RSS of a child is measured here.
enum Meter {
    GnuTime,
    Python,
}

fn meter() -> Option<Meter> {
    let gnu = Command::new("/usr/bin/time")
        .args(["-f", "%M", "true"])
        .stderr(Stdio::piped())
        .output()
        .is_ok_and(|o| o.status.success());
    if gnu {
        return Some(Meter::GnuTime);
    }
    let py = Command::new("python3")
        .args(["-c", "import resource"])
        .output()
        .is_ok_and(|o| o.status.success());
    py.then_some(Meter::Python)
}

/// Run tresor with `args` in `dir`; its peak resident set size in bytes.
fn peak_rss(meter: &Meter, dir: &Path, args: &[&str]) -> u64 {
    let tresor = env!("CARGO_BIN_EXE_tresor");
    let mut c = match meter {
        Meter::GnuTime => {
            let mut c = Command::new("/usr/bin/time");
            c.args(["-f", "maxrss-kib=%M", tresor]);
            c
        }
        Meter::Python => {
            let mut c = Command::new("python3");
            c.args([
                "-c",
                "import resource, subprocess, sys\n\
                 r = subprocess.run(sys.argv[1:])\n\
                 sys.stderr.write('maxrss-kib=%d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n\
                 sys.exit(r.returncode)",
                tresor,
            ]);
            c
        }
    };
    c.args(args).current_dir(dir).stdin(Stdio::null());
    common::clear_env(&mut c);
    let out = c.output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {err}");
    let kib: u64 = err
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("maxrss-kib="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no maxrss in {err}"));
    kib * 1024
}

fn json_fp(dir: &Path, args: &[&str]) -> String {
    common::json(dir, args, &[])["fingerprint"]
        .as_str()
        .expect("fp")
        .to_string()
}

#[test]
fn sign_and_encrypt_hold_a_large_input_about_once() {
    let Some(meter) = meter() else {
        eprintln!(
            "skipped: neither GNU time (/usr/bin/time) nor python3 is here to measure peak memory"
        );
        return;
    };
    let t = TempDir::new("rss");
    let d = &t.0;
    // A 64 MiB input that does not compress into shared pages.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let big: Vec<u8> = (0..INPUT)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(d.join("big"), &big).expect("write");
    drop(big);
    let run = |args: &[&str]| common::ok(d, args, &[]);
    run(&[
        "keygen",
        "--spec",
        "ec-p-256",
        "--out",
        "k.pem",
        "--public-out",
        "k.pub",
    ]);
    run(&["init"]);
    let sfp = json_fp(
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
            "--json",
        ],
    );
    let efp = json_fp(
        d,
        &[
            "key",
            "generate",
            "--purpose",
            "encryption",
            "--spec",
            "ec-p-256",
            "--json",
        ],
    );
    let small = peak_rss(&meter, d, &["fingerprint", "k.pub"]);
    // The program's own size plus the input once and a half: before, ECIES held three copies.
    let bound = INPUT + INPUT / 2 + 40 * MIB;
    let cases: [(&str, Vec<&str>); 5] = [
        (
            "sign --key",
            vec![
                "sign",
                "--key",
                "k.pem",
                "--algo",
                "ec-dsa-sha-256",
                "--in",
                "big",
                "--out",
                "s1",
            ],
        ),
        (
            "encrypt --key (ECIES-CBC)",
            vec![
                "encrypt",
                "--key",
                "k.pub",
                "--algo",
                "ecies-hkdf-hmac-sha-256-aes-128-cbc",
                "--in",
                "big",
                "--out",
                "c1",
            ],
        ),
        (
            "encrypt --key (legacy ECIES-GCM)",
            vec![
                "encrypt",
                "--key",
                "k.pub",
                "--algo",
                "ecies-hkdf-hmac-sha-256-aes-128-gcm",
                "--in",
                "big",
                "--out",
                "c2",
            ],
        ),
        (
            "sign --fingerprint",
            vec![
                "sign",
                "--fingerprint",
                &sfp,
                "--usage",
                "protocol",
                "--in",
                "big",
                "--out",
                "s2",
            ],
        ),
        (
            "encrypt --fingerprint",
            vec![
                "encrypt",
                "--fingerprint",
                &efp,
                "--in",
                "big",
                "--out",
                "c3",
            ],
        ),
    ];
    let mut report = format!(
        "input {} MiB; a small command {} MiB; bound {} MiB\n",
        INPUT / MIB,
        small / MIB,
        bound / MIB
    );
    let mut over = Vec::new();
    for (what, args) in &cases {
        let rss = peak_rss(&meter, d, args);
        report.push_str(&format!("{what}: peak RSS {} MiB\n", rss / MIB));
        if rss > bound {
            over.push(*what);
        }
    }
    eprintln!("{report}");
    assert!(over.is_empty(), "over the bound: {over:?}\n{report}");
    // And the results are right.
    run(&[
        "decrypt",
        "--key",
        "k.pem",
        "--algo",
        "ecies-hkdf-hmac-sha-256-aes-128-cbc",
        "--in",
        "c1",
        "--out",
        "p1",
    ]);
    run(&[
        "decrypt",
        "--fingerprint",
        &efp,
        "--in",
        "c3",
        "--out",
        "p3",
    ]);
    let big = std::fs::read(d.join("big")).expect("read");
    assert!(std::fs::read(d.join("p1")).expect("p1") == big);
    assert!(std::fs::read(d.join("p3")).expect("p3") == big);
    run(&[
        "verify",
        "--fingerprint",
        &sfp,
        "--in",
        "big",
        "--sig",
        "s2",
    ]);
}
