//! Crash safety: the `tresor` process is killed with SIGKILL at random moments while it upgrades a store
//! written before integrity records (the first runs open a version-1 store), rotates the data key,
//! rotates the wrapper key, or migrates the store between clear and envelope, on a store of 1,000 keys. After every kill the store is re-opened and every key must still sign or decrypt, with none lost
//! or duplicated, and the store must be wholly in one state (all rows sealed under the one data key in
//! one format version, or all clear).
//!
//! `TRESOR_CRASH_KILLS` (default 50) and `TRESOR_CRASH_SEED` make runs longer or reproducible.
#![cfg(unix)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tresor::Purpose;
use tresor::kms::KmsDriver;
use tresor::kms::software::{MasterKeySource, SoftwareKms};

mod common;
#[path = "../../core/tests/common/legacy.rs"]
mod legacy;
#[path = "../../core/tests/common/rows.rs"]
mod rows;
use tresor::vault::blocking::BlockingVault;
use tresor::vault::{EnvelopeConfig, Mode, VaultOptions};
use tresor::{Fingerprint, SigningKeyUsageSet};

use common::TempDir;

const SIGNING_KEYS: usize = 900;
const ENCRYPTION_KEYS: usize = 100;

/// xorshift64*, seeded from the clock unless TRESOR_CRASH_SEED is set (the seed is printed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn tresor(dir: &Path) -> Command {
    let mut c = common::command(dir, &[], &[]);
    c.stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

fn kms(dir: &Path) -> Arc<dyn KmsDriver> {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let k = rt
        .block_on(SoftwareKms::open(
            &dir.join("tresor-kms.db"),
            MasterKeySource::KeyFile(dir.join("tresor-kms.key")),
        ))
        .expect("open the software KMS");
    Arc::new(k)
}

fn store_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("tresor.db").display())
}

/// The store's state as found on disk: (has a data key, number of clear rows, number of rows).
fn state(dir: &Path) -> (usize, i64, i64) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let dks = rows::data_keys(&store_url(dir)).await.len();
        let (rows, clear) = rows::counts(&store_url(dir)).await;
        (dks, clear, rows)
    })
}

/// The integrity records of the sealed rows: (rows with one, rows without one).
fn records(dir: &Path) -> (usize, usize) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let n: Vec<(i64,)> = {
            sqlx::any::install_default_drivers();
            let mut c = <sqlx::AnyConnection as sqlx::Connection>::connect(&store_url(dir))
                .await
                .expect("connect");
            let has_column: (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM pragma_table_info('tresor_keys') WHERE name = 'rights'",
            )
            .fetch_one(&mut c)
            .await
            .expect("columns");
            if has_column.0 == 0 {
                sqlx::query_as("SELECT 0 FROM tresor_keys WHERE data_key_id IS NOT NULL")
                    .fetch_all(&mut c)
                    .await
                    .expect("rows")
            } else {
                sqlx::query_as(
                    "SELECT CASE WHEN rights IS NULL THEN 0 ELSE 1 END FROM tresor_keys \
                     WHERE data_key_id IS NOT NULL",
                )
                .fetch_all(&mut c)
                .await
                .expect("rows")
            }
        };
        let with = n.iter().filter(|r| r.0 == 1).count();
        (with, n.len() - with)
    })
}

/// Re-open the store in the mode it is in and check every key.
fn check(dir: &Path, expected: &BTreeSet<(Fingerprint, Purpose)>) -> &'static str {
    let (dks, clear, rows) = state(dir);
    assert!(dks <= 1, "more than one data key after a crash: {dks}");
    let mode = if dks == 1 {
        assert_eq!(
            clear, 0,
            "a store with a data key must have no clear rows (half-done migration)"
        );
        let (with, without) = records(dir);
        assert!(
            with == 0 || without == 0,
            "half-done upgrade: {with} rows with an integrity record, {without} without"
        );
        Mode::Envelope(EnvelopeConfig::default())
    } else {
        assert_eq!(clear, rows, "a store without a data key must be all clear");
        Mode::Clear
    };
    let name = if dks == 1 { "envelope" } else { "clear" };
    let v =
        // Passive: the check reads the store as the crash left it (an active open would finish the
        // upgrade of a version-1 store itself).
        BlockingVault::open_with_driver(
            &store_url(dir),
            Some(kms(dir)),
            VaultOptions::new(mode).role(tresor::vault::Role::Passive {
                poll: Duration::from_millis(10),
                timeout: Duration::from_secs(5),
            }),
        )
        .expect("re-open the vault");
    let found: BTreeSet<(Fingerprint, Purpose)> = v
        .list_keys()
        .expect("list")
        .into_iter()
        .map(|k| (k.fingerprint, k.purpose()))
        .collect();
    assert_eq!(found.len() as i64, rows, "duplicate rows");
    assert_eq!(&found, expected, "keys lost or added");
    for (fp, purpose) in expected {
        match purpose {
            Purpose::Signing => {
                let sig = v
                    .sign(fp, b"crash test", SigningKeyUsageSet::ALL, None)
                    .expect("sign");
                v.verify(fp, b"crash test", &sig, None).expect("verify");
            }
            Purpose::Encryption => {
                let ct = v.encrypt(fp, b"crash test", None).expect("encrypt");
                assert_eq!(
                    v.decrypt(fp, &ct, None).expect("decrypt").as_slice(),
                    b"crash test"
                );
            }
        }
    }
    name
}

#[test]
fn sigkill_during_rotation_and_migration_loses_nothing() {
    let target_kills: usize = std::env::var("TRESOR_CRASH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let seed: u64 = std::env::var("TRESOR_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        })
        | 1;
    eprintln!(
        "crash test: {target_kills} kills, seed {seed} (TRESOR_CRASH_SEED={seed} reproduces the schedule)"
    );
    let mut rng = Rng(seed);
    let dir = TempDir::new("store");
    let d = &dir.0;

    let out = tresor(d).arg("init").output().expect("tresor init");
    assert!(
        out.status.success(),
        "init: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // 1,000 keys in a store as tresor wrote it before integrity records (format 1 rows, a data key
    // without the version marker), on the KMS `tresor init` made: the first commands upgrade it.
    let mut expected = BTreeSet::new();
    {
        let keys: Vec<(tresor::PrivateKey, Purpose)> = (0..SIGNING_KEYS)
            .map(|_| (tresor::KeyType::Ed25519, Purpose::Signing))
            .chain((0..ENCRYPTION_KEYS).map(|_| (tresor::KeyType::EcP256, Purpose::Encryption)))
            .map(|(t, p)| (tresor::PrivateKey::generate(t).expect("key"), p))
            .collect();
        let legacy_keys: Vec<legacy::LegacyKey<'_>> = keys
            .iter()
            .map(|(k, p)| legacy::LegacyKey {
                key: k,
                purpose: *p,
                usage: (*p == Purpose::Signing).then_some("namespace,sequencer-auth,protocol"),
                spec: if *p == Purpose::Signing {
                    "ec-curve-25519"
                } else {
                    "ec-p-256"
                },
            })
            .collect();
        std::fs::remove_file(d.join("tresor.db")).expect("remove the new store");
        let k = kms(d);
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async {
            legacy::write_envelope_store(&store_url(d), k.as_ref(), &legacy_keys).await;
            // Closed: its new wrapper key is then in the KMS file, not only in its write-ahead log.
            k.close().await;
        });
        for (key, p) in &keys {
            expected.insert((key.public_key().fingerprint(), *p));
        }
    }
    let (with, without) = records(d);
    assert_eq!((with, without), (0, SIGNING_KEYS + ENCRYPTION_KEYS));
    // The version-1 files, to start the upgrade over when it completes before it was killed three times.
    let legacy_copy = d.join("legacy-copy");
    std::fs::create_dir_all(&legacy_copy).expect("mkdir");
    for f in ["tresor.db", "tresor-kms.db"] {
        std::fs::copy(d.join(f), legacy_copy.join(f)).expect("copy");
    }
    // How long the upgrade takes when not interrupted, measured on a copy: the first upgrade runs are
    // killed within that time.
    let upgrade_budget = {
        let probe = d.join("upgrade-probe");
        std::fs::create_dir_all(&probe).expect("mkdir");
        for f in [
            "tresor.toml",
            "tresor.db",
            "tresor-kms.db",
            "tresor-kms.key",
        ] {
            std::fs::copy(d.join(f), probe.join(f)).expect("copy");
        }
        let t = Instant::now();
        let out = tresor(&probe)
            .args(["key", "list", "--json"])
            .output()
            .expect("upgrade probe");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let took = t.elapsed();
        assert_eq!(records(&probe).1, 0, "the probe copy was upgraded");
        let _ = std::fs::remove_dir_all(&probe);
        took
    };
    assert_eq!(expected.len(), SIGNING_KEYS + ENCRYPTION_KEYS);

    // How long each operation takes when not interrupted, to spread the kills over its whole run.
    let mut budget = Duration::from_millis(200);
    let mut kills = 0usize;
    let mut completed = 0usize;
    let mut by_op = std::collections::BTreeMap::<&str, (usize, usize)>::new();
    let mut i = 0usize;
    let mut upgrade_kills = 0usize;
    while kills < target_kills {
        i += 1;
        assert!(
            i <= target_kills * 4,
            "too few kills landed: {kills} in {i} runs"
        );
        let (dks, _, _) = state(d);
        let legacy = records(d).1 > 0;
        let (op, mut cmd) = if legacy {
            ("upgrade at open", {
                let mut c = tresor(d);
                c.args(["key", "list", "--json"]);
                c
            })
        } else if dks == 1 {
            match rng.below(3) {
                0 => ("data-key rotate", {
                    let mut c = tresor(d);
                    c.args(["data-key", "rotate"]);
                    c
                }),
                1 => ("wrapper-key rotate", {
                    let mut c = tresor(d);
                    c.args(["wrapper-key", "rotate"]);
                    c
                }),
                _ => ("migrate envelope→clear", {
                    let mut c = tresor(d);
                    c.args(["key", "list", "--json"])
                        .env("TRESOR_REVERTED", "true");
                    c
                }),
            }
        } else {
            ("migrate clear→envelope", {
                let mut c = tresor(d);
                c.args(["key", "list", "--json"]);
                c
            })
        };
        let start = Instant::now();
        let mut child = cmd.spawn().expect("spawn tresor");
        // Most runs are killed somewhere in [0, typical duration); one in eight runs to completion, which
        // keeps the typical duration measured.
        let delay = if legacy && upgrade_kills < 3 {
            // The first upgrade runs are killed within the time an upgrade takes.
            Duration::from_micros(rng.below(upgrade_budget.as_micros() as u64))
        } else if rng.below(8) == 0 {
            Duration::from_secs(600)
        } else {
            Duration::from_micros(rng.below(budget.as_micros() as u64))
        };
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait") {
                break Some(s);
            }
            if start.elapsed() >= delay {
                break None;
            }
            std::thread::sleep(Duration::from_micros(200));
        };
        let entry = by_op.entry(op).or_default();
        match status {
            Some(s) => {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                assert!(
                    s.success(),
                    "iteration {i}: '{op}' failed without being killed: {err}"
                );
                budget = start.elapsed().max(Duration::from_millis(20));
                completed += 1;
                entry.1 += 1;
                if legacy && upgrade_kills < 3 {
                    // Upgraded before three kills landed in upgrades: back to the version-1 files.
                    for f in ["tresor.db", "tresor-kms.db"] {
                        for suffix in ["-wal", "-shm"] {
                            let _ = std::fs::remove_file(d.join(format!("{f}{suffix}")));
                        }
                        std::fs::copy(legacy_copy.join(f), d.join(f)).expect("restore");
                    }
                }
            }
            None => {
                child.kill().expect("SIGKILL");
                let _ = child.wait();
                kills += 1;
                entry.0 += 1;
                if legacy {
                    upgrade_kills += 1;
                }
            }
        }
        let mode = check(d, &expected);
        eprintln!(
            "crash test {i:>3}: {op:<24} {} after {:>6.1} ms -> store {mode}, all {} keys work",
            if status.is_some() {
                "completed"
            } else {
                "killed   "
            },
            start.elapsed().as_secs_f64() * 1e3,
            expected.len()
        );
    }
    assert_eq!(
        records(d).1,
        0,
        "the store was not upgraded by the end of the run"
    );
    let _ = std::io::Write::write_all(
        &mut std::io::stderr().lock(),
        format!(
            "crash test: {kills} kills, {completed} completed runs, 1000 keys that all work after each; \
             per operation (killed, completed): {by_op:?}\n"
        )
        .as_bytes(),
    );
}
