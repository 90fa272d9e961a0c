//! `tresor-bench`: single-threaded cost per operation of tresor's two backends, for `benchmarks/run.sh`.
//!
//! ```text
//! tresor-bench [--quick] [--rounds N] [--budget-ms MS] [--warmup-ms MS] [--clock wall|cpu] [--only OP[,OP…]]
//! tresor-bench interop-make FILE    # P-256 key + tresor ECIES-CBC ciphertexts for the Python peer
//! tresor-bench interop-check FILE   # decrypt a peer-made ECIES-CBC ciphertext with both backends
//! ```
//!
//! The benchmark prints one JSON object per line and cell:
//! `{"impl":"tresor-native","op":"ed25519_sign","us":11.73,"samples":[11.70,11.76],"batch":128}`, where
//! `us` is the median over the rounds of the mean µs/op in that round. A cell the backend refuses by design
//! prints `{"impl":…,"op":…,"status":"refused","note":"…"}`. Progress goes to stderr.
//!
//! Method: per operation, every backend is first warmed up while the batch size grows until one batch
//! takes at least [`BATCH_TARGET`]; then the rounds run, alternating the backends (and their order) so
//! that a noisy moment hits both. A round repeats batches until its (wall-clock) time budget is spent and
//! divides the time it measured by the operations it ran: wall-clock time by default, or with `--clock cpu`
//! the CPU time of the measuring thread (from `/proc/thread-self/schedstat`, kept by the scheduler in ns;
//! it can lag by up to one scheduler tick), which leaves out the time other processes hold the CPU.
#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use tresor::primitives::{Backend, Native, Portable};
use tresor::{
    AesGcmKey, Decrypter, Encrypter, EncryptionAlgorithmSpec, ErrorKind, KeyType, PrivateKey,
    Signer, SigningAlgorithmSpec, Verifier,
};

/// A batch is sized so that timing it costs a negligible share of it.
const BATCH_TARGET: Duration = Duration::from_millis(1);
/// What is signed: Canton signs hashes, so a short message.
const MSG: [u8; 32] = [0x5a; 32];
/// What ECIES and RSA-OAEP encrypt: a 32-byte secret, like a wrapped symmetric key.
const SECRET: [u8; 32] = [0xa5; 32];
/// The AES-128-GCM key.
const AES_KEY: [u8; 16] = [0x42; 16];
/// The ECIES-CBC interoperability plaintext (not a multiple of 16 bytes, so padding is exercised).
const INTEROP_PLAINTEXT: &[u8] = b"tresor ECIES-CBC interoperability check, 54 bytes long";

type Res<T> = Result<T, String>;

trait Ctx<T> {
    fn ctx(self, what: &str) -> Res<T>;
}

impl<T> Ctx<T> for tresor::Result<T> {
    fn ctx(self, what: &str) -> Res<T> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

// --- Settings --------------------------------------------------------------------------------------

#[derive(Debug)]
struct Settings {
    rounds: usize,
    budget: Duration,
    warmup: Duration,
    cpu_clock: bool,
    only: Vec<String>,
}

impl Settings {
    const FULL: Settings = Settings {
        rounds: 5,
        budget: Duration::from_millis(500),
        warmup: Duration::from_millis(150),
        cpu_clock: false,
        only: Vec::new(),
    };
    const QUICK: Settings = Settings {
        rounds: 2,
        budget: Duration::from_millis(100),
        warmup: Duration::from_millis(30),
        cpu_clock: false,
        only: Vec::new(),
    };

    fn wants(&self, op: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| op.contains(o.as_str()))
    }
}

fn parse_settings(args: &[String]) -> Res<Settings> {
    let mut s = if args.iter().any(|a| a == "--quick") {
        Settings::QUICK
    } else {
        Settings::FULL
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let number = |name: &str, v: String| {
            v.parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{name} takes a positive integer, got '{v}'"))
        };
        match arg.as_str() {
            "--quick" | "--full" => {}
            "--rounds" => s.rounds = usize::try_from(number(arg, value(arg)?)?).unwrap_or(1),
            "--budget-ms" => s.budget = Duration::from_millis(number(arg, value(arg)?)?),
            "--warmup-ms" => s.warmup = Duration::from_millis(number(arg, value(arg)?)?),
            "--clock" => {
                s.cpu_clock = match value(arg)?.as_str() {
                    "wall" => false,
                    "cpu" if thread_cpu_ns().is_some() => true,
                    "cpu" => return Err("--clock cpu needs /proc/thread-self/schedstat".into()),
                    other => return Err(format!("--clock takes wall or cpu, got '{other}'")),
                }
            }
            "--only" => s.only.extend(
                value(arg)?
                    .split(',')
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned),
            ),
            other => return Err(format!("unknown argument '{other}' (see --help)")),
        }
    }
    Ok(s)
}

const HELP: &str = "\
tresor-bench: µs/op of tresor's native and portable backends, as JSON lines on stdout.

usage:
  tresor-bench [--quick|--full] [--rounds N] [--budget-ms MS] [--warmup-ms MS] [--clock wall|cpu]
               [--only OP[,OP...]]
  tresor-bench interop-make FILE    write a P-256 key and tresor ECIES-CBC ciphertexts (hex lines)
  tresor-bench interop-check FILE   decrypt the peer's ECIES-CBC ciphertext in FILE with both backends

defaults: --full = 5 rounds of 500 ms per cell after 150 ms warm-up; --quick = 2 rounds of 100 ms;
--clock wall. --clock cpu divides by this thread's CPU time instead (for a machine that is not idle).";

// --- Cells -----------------------------------------------------------------------------------------

/// One (backend, operation) measurement: a closure running the operation `n` times, or a refusal.
enum Cell {
    Run(Box<dyn FnMut(u64)>),
    Refused(String),
}

/// Wrap one operation into a closure that runs it `n` times (monomorphised, so the loop is tight).
fn looped<F: FnMut() + 'static>(mut op: F) -> Cell {
    Cell::Run(Box::new(move |n| {
        for _ in 0..n {
            op();
        }
    }))
}

/// The key pairs every backend uses (generated once, shared, so both backends do identical work).
struct Keys {
    ed25519: PrivateKey,
    p256: PrivateKey,
    p256_peer: PrivateKey,
    p384: PrivateKey,
    rsa: PrivateKey,
}

impl Keys {
    fn generate() -> Res<Self> {
        Ok(Self {
            ed25519: PrivateKey::generate(KeyType::Ed25519).ctx("Ed25519 key generation")?,
            p256: PrivateKey::generate(KeyType::EcP256).ctx("P-256 key generation")?,
            p256_peer: PrivateKey::generate(KeyType::EcP256).ctx("P-256 key generation")?,
            p384: PrivateKey::generate(KeyType::EcP384).ctx("P-384 key generation")?,
            rsa: PrivateKey::generate(KeyType::Rsa2048).ctx("RSA-2048 key generation")?,
        })
    }
}

fn sign_verify<B: Backend>(
    cells: &mut Vec<(&'static str, Cell)>,
    key: &PrivateKey,
    algo: SigningAlgorithmSpec,
    ids: (&'static str, &'static str),
) -> Res<()> {
    let signer = Signer::<B>::with_backend(key.clone()).ctx(ids.0)?;
    let verifier = Verifier::<B>::with_backend(key.public_key().clone()).ctx(ids.1)?;
    let sig = signer.sign(algo, &MSG).ctx(ids.0)?;
    verifier.verify(algo, &MSG, &sig).ctx(ids.1)?;
    cells.push((
        ids.0,
        looped(move || {
            let _ = black_box(signer.sign(algo, black_box(&MSG)));
        }),
    ));
    cells.push((
        ids.1,
        looped(move || {
            let _ = black_box(verifier.verify(algo, black_box(&MSG), black_box(&sig)));
        }),
    ));
    Ok(())
}

/// AES-128-GCM encryption of `len` bytes in Canton's format. With `fixed_iv` (a diagnostic row, comparable
/// to `openssl speed`, which re-uses one IV) the IV is the caller's instead of fresh OS randomness.
fn aes_gcm<B: Backend>(
    cells: &mut Vec<(&'static str, Cell)>,
    id: &'static str,
    len: usize,
    fixed_iv: bool,
) -> Res<()> {
    const IV: [u8; 12] = [0x24; 12];
    let key = AesGcmKey::<B>::with_backend(&AES_KEY).ctx(id)?;
    let pt = vec![0x17u8; len];
    let ct = key.encrypt(&pt, &[]).ctx(id)?;
    if key.decrypt(&ct, &[]).ctx(id)?.as_slice() != pt.as_slice() {
        return Err(format!("{id}: AES-GCM round trip mismatch"));
    }
    let cell = if fixed_iv {
        looped(move || {
            let _ = black_box(key.encrypt_with_iv(black_box(&IV), black_box(&pt), &[]));
        })
    } else {
        looped(move || {
            let _ = black_box(key.encrypt(black_box(&pt), &[]));
        })
    };
    cells.push((id, cell));
    Ok(())
}

/// Every cell of backend `B`, in report order. Each operation is checked once before it is timed.
fn cells<B: Backend>(keys: &Keys) -> Res<Vec<(&'static str, Cell)>> {
    use EncryptionAlgorithmSpec::{EciesHkdfHmacSha256Aes128Cbc as ECIES_CBC, RsaOaepSha256};
    let mut cells = Vec::new();

    sign_verify::<B>(
        &mut cells,
        &keys.ed25519,
        SigningAlgorithmSpec::Ed25519,
        ("ed25519_sign", "ed25519_verify"),
    )?;
    sign_verify::<B>(
        &mut cells,
        &keys.p256,
        SigningAlgorithmSpec::EcDsaSha256,
        ("ecdsa_p256_sign", "ecdsa_p256_verify"),
    )?;
    sign_verify::<B>(
        &mut cells,
        &keys.p384,
        SigningAlgorithmSpec::EcDsaSha384,
        ("ecdsa_p384_sign", "ecdsa_p384_verify"),
    )?;

    aes_gcm::<B>(&mut cells, "aes128gcm_enc_1k", 1024, false)?;
    aes_gcm::<B>(&mut cells, "aes128gcm_enc_64k", 65536, false)?;
    aes_gcm::<B>(&mut cells, "aes128gcm_enc_1k_fixed_iv", 1024, true)?;
    aes_gcm::<B>(&mut cells, "aes128gcm_enc_64k_fixed_iv", 65536, true)?;

    let enc = Encrypter::<B>::with_backend(keys.p256.public_key().clone()).ctx("ECIES")?;
    let dec = Decrypter::<B>::with_backend(keys.p256.clone()).ctx("ECIES")?;
    let ct = enc.encrypt(ECIES_CBC, &SECRET).ctx("ECIES encrypt")?;
    if dec.decrypt(ECIES_CBC, &ct).ctx("ECIES decrypt")?.as_slice() != SECRET {
        return Err("ECIES-CBC round trip mismatch".into());
    }
    cells.push((
        "ecies_cbc_enc",
        looped(move || {
            let _ = black_box(enc.encrypt(ECIES_CBC, black_box(&SECRET)));
        }),
    ));
    cells.push((
        "ecies_cbc_dec",
        looped(move || {
            let _ = black_box(dec.decrypt(ECIES_CBC, black_box(&ct)));
        }),
    ));

    // The primitive under ECIES, with a prepared key (the comparable of `openssl speed ecdhp256`).
    let ecdh_key = B::ecdh_key(&keys.p256).ctx("ECDH key")?;
    let peer = keys.p256_peer.public_key().raw();
    B::ecdh(&ecdh_key, &peer).ctx("ECDH")?;
    cells.push((
        "ecdh_p256",
        looped(move || {
            let _ = black_box(B::ecdh(&ecdh_key, black_box(&peer)));
        }),
    ));

    let rsa_enc = Encrypter::<B>::with_backend(keys.rsa.public_key().clone()).ctx("RSA")?;
    let rsa_ct = rsa_enc
        .encrypt(RsaOaepSha256, &SECRET)
        .ctx("RSA-OAEP encrypt")?;
    let rsa_dec = Decrypter::<B>::with_backend(keys.rsa.clone())
        .and_then(|d| d.decrypt(RsaOaepSha256, &rsa_ct).map(|pt| (d, pt)));
    cells.push(match rsa_dec {
        Ok((dec, pt)) if pt.as_slice() == SECRET => (
            "rsa2048_oaep_dec",
            looped(move || {
                let _ = black_box(dec.decrypt(RsaOaepSha256, black_box(&rsa_ct)));
            }),
        ),
        Ok(_) => return Err("RSA-OAEP round trip mismatch".into()),
        Err(e) if e.kind() == ErrorKind::UnsupportedAlgorithm => {
            ("rsa2048_oaep_dec", Cell::Refused(e.to_string()))
        }
        Err(e) => return Err(format!("RSA-OAEP decrypt: {e}")),
    });
    cells.push((
        "rsa2048_oaep_enc",
        looped(move || {
            let _ = black_box(rsa_enc.encrypt(RsaOaepSha256, black_box(&SECRET)));
        }),
    ));

    Ok(cells)
}

// --- Timing ----------------------------------------------------------------------------------------

/// Warm `run` up for about `warmup`, doubling the batch until one batch takes at least [`BATCH_TARGET`].
fn warm_up(run: &mut dyn FnMut(u64), warmup: Duration) -> u64 {
    let start = Instant::now();
    let mut batch = 1u64;
    loop {
        let t = Instant::now();
        run(batch);
        let took = t.elapsed();
        if took < BATCH_TARGET {
            batch = batch.saturating_mul(2);
        } else if start.elapsed() >= warmup {
            return batch;
        }
    }
}

/// CPU time of the calling thread in ns, as the scheduler accounts it (Linux).
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// One round: batches until `budget` (wall-clock) is spent; the mean µs/op, by wall-clock time or, with
/// `cpu_clock`, by the thread's CPU time over the round.
fn round(run: &mut dyn FnMut(u64), batch: u64, budget: Duration, cpu_clock: bool) -> f64 {
    let cpu_start = if cpu_clock { thread_cpu_ns() } else { None };
    let start = Instant::now();
    let mut iterations = 0u64;
    loop {
        run(batch);
        iterations += batch;
        let elapsed = start.elapsed();
        if elapsed >= budget {
            let cpu = cpu_start
                .zip(thread_cpu_ns())
                .map(|(a, b)| b.saturating_sub(a));
            let micros = match cpu {
                Some(ns) => ns as f64 / 1e3,
                None => elapsed.as_secs_f64() * 1e6,
            };
            return micros / iterations as f64;
        }
    }
}

fn median(samples: &[f64]) -> f64 {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn run_benchmarks(settings: &Settings) -> Res<()> {
    eprintln!(
        "tresor-bench: {} round(s) × {} ms per cell, warm-up {} ms, {} clock",
        settings.rounds,
        settings.budget.as_millis(),
        settings.warmup.as_millis(),
        if settings.cpu_clock {
            "thread CPU"
        } else {
            "wall"
        }
    );
    let keys = Keys::generate()?;
    let backends: [(&str, Vec<(&str, Cell)>); 2] = [
        (
            "tresor-native",
            cells::<Native>(&keys).map_err(|e| format!("native: {e}"))?,
        ),
        (
            "tresor-portable",
            cells::<Portable>(&keys).map_err(|e| format!("portable: {e}"))?,
        ),
    ];
    let ops: Vec<&str> = backends[0].1.iter().map(|(op, _)| *op).collect();
    // Move the cells out into per-operation groups: [(impl, cell)] for every op.
    let mut per_backend: Vec<_> = backends
        .into_iter()
        .map(|(name, cells)| (name, cells.into_iter()))
        .collect();

    for op in ops {
        let mut group: Vec<(&str, Cell)> = Vec::new();
        for (name, cells) in &mut per_backend {
            match cells.next() {
                Some((id, cell)) if id == op => group.push((*name, cell)),
                _ => return Err(format!("backends disagree on the operation list at {op}")),
            }
        }
        if !settings.wants(op) {
            continue;
        }
        eprintln!("  {op}");

        let mut batches = Vec::with_capacity(group.len());
        for (_, cell) in &mut group {
            batches.push(match cell {
                Cell::Run(run) => warm_up(run.as_mut(), settings.warmup),
                Cell::Refused(_) => 0,
            });
        }
        let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(settings.rounds); group.len()];
        for r in 0..settings.rounds {
            // Alternate which backend goes first, so neither always runs right after the other.
            let order: Vec<usize> = if r % 2 == 0 {
                (0..group.len()).collect()
            } else {
                (0..group.len()).rev().collect()
            };
            for i in order {
                if let Cell::Run(run) = &mut group[i].1 {
                    samples[i].push(round(
                        run.as_mut(),
                        batches[i],
                        settings.budget,
                        settings.cpu_clock,
                    ));
                }
            }
        }

        for (i, (name, cell)) in group.iter().enumerate() {
            match cell {
                Cell::Run(_) => {
                    let list: Vec<String> = samples[i].iter().map(|s| format!("{s:.4}")).collect();
                    println!(
                        "{{\"impl\":{},\"op\":{},\"us\":{:.4},\"samples\":[{}],\"batch\":{}}}",
                        json_str(name),
                        json_str(op),
                        median(&samples[i]),
                        list.join(","),
                        batches[i]
                    );
                }
                Cell::Refused(note) => println!(
                    "{{\"impl\":{},\"op\":{},\"status\":\"refused\",\"note\":{}}}",
                    json_str(name),
                    json_str(op),
                    json_str(note)
                ),
            }
        }
    }
    Ok(())
}

// --- Interoperability with the Python peer ---------------------------------------------------------

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Res<Vec<u8>> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return Err("odd-length or non-ASCII hex".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| format!("bad hex: {e}")))
        .collect()
}

/// The value of `name=…` in a file of `name=hex` lines.
fn field(text: &str, name: &str) -> Res<Vec<u8>> {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
        .ok_or_else(|| format!("no '{name}=' line"))
        .and_then(unhex)
}

fn interop_make(path: &str) -> Res<()> {
    use EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Cbc as ECIES_CBC;
    let key = PrivateKey::generate(KeyType::EcP256).ctx("P-256 key generation")?;
    let native = Encrypter::<Native>::with_backend(key.public_key().clone())
        .and_then(|e| e.encrypt(ECIES_CBC, INTEROP_PLAINTEXT))
        .ctx("native ECIES encrypt")?;
    let portable = Encrypter::<Portable>::with_backend(key.public_key().clone())
        .and_then(|e| e.encrypt(ECIES_CBC, INTEROP_PLAINTEXT))
        .ctx("portable ECIES encrypt")?;
    let text = format!(
        "pkcs8={}\nplaintext={}\nciphertext={}\nciphertext_portable={}\n",
        hex(key.pkcs8_der()),
        hex(INTEROP_PLAINTEXT),
        hex(&native),
        hex(&portable)
    );
    std::fs::write(path, text).map_err(|e| format!("cannot write {path}: {e}"))
}

fn interop_check(path: &str) -> Res<()> {
    use EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Cbc as ECIES_CBC;
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let key = PrivateKey::from_pkcs8_der(&field(&text, "pkcs8")?).ctx("pkcs8")?;
    let plaintext = field(&text, "plaintext")?;
    let ciphertext = field(&text, "ciphertext")?;
    let native = Decrypter::<Native>::with_backend(key.clone())
        .and_then(|d| d.decrypt(ECIES_CBC, &ciphertext))
        .ctx("native ECIES decrypt of the peer's ciphertext")?;
    let portable = Decrypter::<Portable>::with_backend(key)
        .and_then(|d| d.decrypt(ECIES_CBC, &ciphertext))
        .ctx("portable ECIES decrypt of the peer's ciphertext")?;
    if native.as_slice() != plaintext.as_slice() || portable.as_slice() != plaintext.as_slice() {
        return Err("the peer's ECIES-CBC ciphertext decrypts to a different plaintext".into());
    }
    eprintln!("interop: tresor (native and portable) decrypts the peer's ECIES-CBC ciphertext");
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("-h" | "--help") => {
            println!("{HELP}");
            Ok(())
        }
        Some("interop-make") => match args.get(1) {
            Some(path) => interop_make(path),
            None => Err("interop-make needs a FILE".into()),
        },
        Some("interop-check") => match args.get(1) {
            Some(path) => interop_check(path),
            None => Err("interop-check needs a FILE".into()),
        },
        _ => parse_settings(&args).and_then(|s| run_benchmarks(&s)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tresor-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
