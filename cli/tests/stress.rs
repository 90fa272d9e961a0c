//! No hang at exit: many open/sign/close cycles through the library and many one-shot `tresor sign`
//! commands, each under a watchdog. One command in about 15,000 used to never exit, spinning in the
//! database pool's maintenance task during runtime shutdown; the pools now run no such task and are
//! closed before the runtime stops.
//!
//! `TRESOR_STRESS_CYCLES` (default 2,000) and `TRESOR_STRESS_COMMANDS` (default 400) set the counts;
//! the test prints them with the number of hangs, which must be 0.
#![cfg(unix)]

mod common;

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tresor::kms::KmsDriver;
use tresor::kms::software::{MasterKeySource, SoftwareKms};
use tresor::vault::blocking::BlockingVault;
use tresor::vault::{EnvelopeConfig, Mode, VaultOptions};
use tresor::{Fingerprint, SigningKeySpec, SigningKeyUsageSet};

use common::TempDir;

/// A cycle or command that takes longer than this is a hang (each normally takes milliseconds).
const WATCHDOG: Duration = Duration::from_secs(60);

fn count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn open(dir: &Path) -> BlockingVault {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let kms: Arc<dyn KmsDriver> = Arc::new(
        rt.block_on(SoftwareKms::open(
            &dir.join("tresor-kms.db"),
            MasterKeySource::KeyFile(dir.join("tresor-kms.key")),
        ))
        .expect("software KMS"),
    );
    drop(rt);
    BlockingVault::open_with_driver(
        &format!("sqlite://{}", dir.join("tresor.db").display()),
        Some(kms),
        VaultOptions::new(Mode::Envelope(EnvelopeConfig::default())),
    )
    .expect("open")
}

#[test]
fn thousands_of_open_sign_close_cycles_and_one_shot_commands_never_hang() {
    let cycles = count("TRESOR_STRESS_CYCLES", 2_000);
    let commands = count("TRESOR_STRESS_COMMANDS", 400);
    let dir = TempDir::new("run");
    let d = dir.0.clone();
    common::ok(&d, &["init"], &[]);
    let fp: Fingerprint = {
        let v = open(&d);
        v.generate_signing_key(SigningKeySpec::EcCurve25519, SigningKeyUsageSet::ALL, None)
            .expect("generate")
            .fingerprint
    };

    // Library cycles on a thread of their own, watched from here.
    let done = Arc::new(AtomicUsize::new(0));
    let worker = {
        let (d, done) = (d.clone(), done.clone());
        std::thread::spawn(move || {
            for _ in 0..cycles {
                let v = open(&d);
                v.sign(&fp, b"stress", SigningKeyUsageSet::ALL, None)
                    .expect("sign");
                drop(v); // closes the pools, then the runtime shuts down
                done.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let mut library_hangs = 0;
    let mut last = (0, Instant::now());
    while !worker.is_finished() {
        std::thread::sleep(Duration::from_millis(50));
        let n = done.load(Ordering::Relaxed);
        if n != last.0 {
            last = (n, Instant::now());
        } else if last.1.elapsed() > WATCHDOG {
            library_hangs += 1;
            break;
        }
    }
    assert_eq!(
        library_hangs,
        0,
        "an open/sign/close cycle hung after {} cycles",
        done.load(Ordering::Relaxed)
    );
    worker.join().expect("cycles");

    // One-shot commands, two at a time, each under the watchdog.
    std::fs::write(d.join("msg"), b"stress").expect("msg");
    let hangs = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let runners: Vec<_> = (0..2)
        .map(|r| {
            let (d, hangs, failures) = (d.clone(), hangs.clone(), failures.clone());
            let fp = fp.to_string();
            std::thread::spawn(move || {
                for i in (r..commands).step_by(2) {
                    let sig = format!("sig-{r}");
                    let args = [
                        "sign",
                        "--fingerprint",
                        &fp,
                        "--usage",
                        "protocol",
                        "--in",
                        "msg",
                        "--out",
                        &sig,
                        "--force",
                    ];
                    let mut child = common::command(&d, &args, &[])
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn()
                        .expect("spawn");
                    let start = Instant::now();
                    loop {
                        if let Some(s) = child.try_wait().expect("wait") {
                            if !s.success() {
                                failures.fetch_add(1, Ordering::Relaxed);
                            }
                            break;
                        }
                        if start.elapsed() > WATCHDOG {
                            eprintln!("command {i} hung; killed");
                            let _ = child.kill();
                            let _ = child.wait();
                            hangs.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(2));
                    }
                }
            })
        })
        .collect();
    for r in runners {
        r.join().expect("runner");
    }
    let (h, f) = (
        hangs.load(Ordering::Relaxed),
        failures.load(Ordering::Relaxed),
    );
    // Straight to the process's stderr, past the test harness's capture: the counts are in the output
    // of every run, passing or not.
    let _ = std::io::Write::write_all(
        &mut std::io::stderr().lock(),
        format!(
            "stress: {cycles} open/sign/close cycles (0 hangs), {commands} one-shot sign commands: {h} hangs, \
             {f} failures\n"
        )
        .as_bytes(),
    );
    assert_eq!(h, 0, "hung commands");
    assert_eq!(f, 0, "failed commands");
}
