//! `tresor demo`: the main job from a fresh clone, with no cloud account. In a temporary directory (or
//! `--dir`), create a key store with envelope encryption under a software-KMS wrapper key, generate the
//! keys a Canton participant uses, sign and verify, encrypt and decrypt, rotate the wrapper key and the
//! data key, re-open the store (one KMS call), and print fingerprints, timings and KMS call counts.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{Value, json};
use tresor::kms::software::{SoftwareKms, create_key_file};
use tresor::vault::{Storage, Vault};
use tresor::{
    Encrypter, EncryptionKeySpec, Fingerprint, SigningKeySpec, SigningKeyUsageSet, Verifier,
};

use crate::node::{context, runtime};
use crate::ui::{Ui, out, table};
use crate::{EXIT_ERROR, EXIT_INTERNAL, Failure};

#[derive(Args, Debug)]
pub(crate) struct DemoArgs {
    /// How many times to repeat each timed operation.
    #[arg(long, default_value_t = 200)]
    iterations: u32,
    /// Work in this directory and keep the store, the KMS and its key file there (default: a temporary
    /// directory, removed afterwards).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

const STORE: &str = "tresor.db";
const KMS: &str = "tresor-kms.db";
const KEY_FILE: &str = "tresor-kms.key";

pub(crate) fn demo(a: DemoArgs, ui: Ui) -> Result<(), Failure> {
    let (dir, temporary) = match &a.dir {
        Some(d) => (crate::config::absolute(d), false),
        None => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            (
                std::env::temp_dir().join(format!("tresor-demo-{}-{nanos}", std::process::id())),
                true,
            )
        }
    };
    for f in [STORE, KMS, KEY_FILE] {
        if dir.join(f).exists() {
            return Err(Failure::new(
                EXIT_ERROR,
                format!(
                    "'{}' already exists: the demo needs a directory without {STORE}, {KMS} and {KEY_FILE}",
                    dir.join(f).display()
                ),
            ));
        }
    }
    std::fs::create_dir_all(&dir).map_err(|e| {
        Failure::new(
            EXIT_ERROR,
            format!("cannot create directory '{}': {e}", dir.display()),
        )
    })?;
    let rt = runtime()?;
    let result = rt.block_on(run(&dir, a.iterations.max(1), temporary, ui));
    drop(rt);
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn us(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{:.1} µs", d.as_secs_f64() * 1e6)
    } else {
        ms(d)
    }
}

fn calls(n: u64) -> String {
    if n == 1 {
        "1 KMS call".to_string()
    } else {
        format!("{n} KMS calls")
    }
}

/// Open the demo's envelope store on the software KMS, through the same configuration path as every
/// other command (`tresor::config::open`).
async fn open_vault(dir: &Path) -> Result<(Arc<SoftwareKms>, Vault), Failure> {
    let text = format!(
        "[store]\nurl = {store}\n[private-key-store.encryption]\ntype = \"kms\"\n\
         [kms]\ntype = \"software\"\npath = {kms}\nkey-file = {key}\n",
        store = tresor::util::quote(&format!("sqlite://{STORE}")),
        kms = tresor::util::quote(KMS),
        key = tresor::util::quote(KEY_FILE),
    );
    let cfg = tresor::config::Config::from_toml_str(&text, dir, "<demo configuration>")
        .map_err(context("the demo configuration"))?;
    let opened = tresor::config::open(&cfg, tresor::config::OpenOptions::new().create(true))
        .await
        .map_err(context("opening the vault"))?;
    let kms = opened
        .software_kms
        .ok_or_else(|| Failure::new(EXIT_INTERNAL, "the demo store has no software KMS"))?;
    Ok((kms, opened.vault))
}

struct DemoKey {
    role: &'static str,
    fingerprint: Fingerprint,
    spec: &'static str,
    usage: Option<SigningKeyUsageSet>,
    generate: Duration,
    first_use: Duration,
    op: Duration,
    peer_op: Duration,
}

async fn run(dir: &Path, n: u32, temporary: bool, ui: Ui) -> Result<(), Failure> {
    let msg = b"canton topology transaction";
    let session_key = [0x5au8; 16];

    // 1. A store with envelope encryption on the software KMS.
    let t = Instant::now();
    create_key_file(&dir.join(KEY_FILE)).map_err(context("creating the KMS key file"))?;
    // The store and the KMS are private files, as `tresor init` makes them (SQLite gives its -wal and
    // -shm files the same mode).
    crate::files::create_private_file(&dir.join(STORE), "key store")?;
    crate::files::create_private_file(&dir.join(KMS), "software KMS")?;
    let (kms, vault) = open_vault(dir).await?;
    let t_create = t.elapsed();
    let create_calls = kms.total_calls();
    let wrapper = vault.wrapper_key_id().await?;

    // 2. The keys of a Canton participant.
    let signing = [
        (
            "namespace",
            SigningKeySpec::EcCurve25519,
            SigningKeyUsageSet::NAMESPACE_ONLY,
        ),
        (
            "protocol signing",
            SigningKeySpec::EcP256,
            SigningKeyUsageSet::PROTOCOL_ONLY,
        ),
        (
            "sequencer auth",
            SigningKeySpec::EcCurve25519,
            SigningKeyUsageSet::SEQUENCER_AUTHENTICATION_ONLY,
        ),
    ];
    let mut keys = Vec::new();
    let mut public_keys = Vec::new();
    for (role, spec, usage) in signing {
        let t = Instant::now();
        let info = vault.generate_signing_key(spec, usage, Some(role)).await?;
        let generate = t.elapsed();
        let fp = info.fingerprint;
        let t = Instant::now();
        let sig = vault.sign(&fp, msg, usage, None).await?;
        let first_use = t.elapsed();
        let verifier = Verifier::new(info.public_key.clone())?;
        let algo = spec.default_algorithm();
        verifier.verify(algo, msg, &sig)?;
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(vault.sign(&fp, msg, usage, None).await?);
        }
        let op = t.elapsed() / n;
        let t = Instant::now();
        for _ in 0..n {
            verifier.verify(algo, msg, &sig)?;
        }
        let peer_op = t.elapsed() / n;
        public_keys.push((fp, info.public_key.clone(), Some((usage, algo))));
        keys.push(DemoKey {
            role,
            fingerprint: fp,
            spec: spec.as_str(),
            usage: Some(usage),
            generate,
            first_use,
            op,
            peer_op,
        });
    }
    let t = Instant::now();
    let info = vault
        .generate_encryption_key(EncryptionKeySpec::EcP256, Some("encryption"))
        .await?;
    let generate = t.elapsed();
    let enc_fp = info.fingerprint;
    let encrypter = Encrypter::new(info.public_key.clone())?;
    let algo = EncryptionKeySpec::EcP256.default_algorithm();
    let ct = encrypter.encrypt(algo, &session_key)?;
    let t = Instant::now();
    let pt = vault.decrypt(&enc_fp, &ct, None).await?;
    let first_use = t.elapsed();
    if pt.as_slice() != session_key {
        return Err(Failure::new(
            EXIT_INTERNAL,
            "ECIES round trip returned different bytes",
        ));
    }
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(vault.decrypt(&enc_fp, &ct, None).await?);
    }
    let op = t.elapsed() / n;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(encrypter.encrypt(algo, &session_key)?);
    }
    let peer_op = t.elapsed() / n;
    public_keys.push((enc_fp, info.public_key.clone(), None));
    keys.push(DemoKey {
        role: "encryption",
        fingerprint: enc_fp,
        spec: "ec-p-256",
        usage: None,
        generate,
        first_use,
        op,
        peer_op,
    });

    // 3. Rotate the wrapper key, then the data key.
    let before = kms.total_calls();
    let t = Instant::now();
    let new_wrapper = vault.rotate_wrapper_key(None).await?;
    let t_wrap = t.elapsed();
    let wrap_calls = kms.total_calls() - before;
    let before = kms.total_calls();
    let t = Instant::now();
    let resealed = vault.rotate_data_key().await?;
    let t_data = t.elapsed();
    let data_calls = kms.total_calls() - before;
    vault.close().await;
    drop(vault);
    drop(kms);

    // 4. Re-open: one KMS call unwraps the data key, however many keys the store holds.
    let t = Instant::now();
    let (kms, vault) = open_vault(dir).await?;
    let t_reopen = t.elapsed();
    let open_calls = kms.total_calls();
    let listed = vault.list_keys().await?;
    let sealed = listed
        .iter()
        .filter(|k| k.storage == Storage::Sealed)
        .count();
    for (fp, pk, signing) in &public_keys {
        match signing {
            Some((usage, algo)) => {
                let sig = vault.sign(fp, msg, *usage, None).await?;
                Verifier::new(pk.clone())?.verify(*algo, msg, &sig)?;
            }
            None => {
                let ct = Encrypter::new(pk.clone())?.encrypt(algo, &session_key)?;
                if vault.decrypt(fp, &ct, None).await?.as_slice() != session_key {
                    return Err(Failure::new(
                        EXIT_INTERNAL,
                        "decryption after re-opening returned different bytes",
                    ));
                }
            }
        }
    }
    let after_calls = kms.total_calls();

    if ui.json {
        ui.print_json(&json!({
            "version": tresor::VERSION,
            "backend": <tresor::DefaultBackend as tresor::primitives::Backend>::NAME,
            "directory": dir.display().to_string(),
            "directory_removed": temporary,
            "iterations": n,
            "store": {"created_ms": t_create.as_secs_f64() * 1e3, "kms_calls": create_calls, "wrapper_key_id": wrapper.as_str()},
            "keys": keys.iter().map(|k| json!({
                "role": k.role,
                "fingerprint": k.fingerprint.to_string(),
                "key_spec": k.spec,
                "usage": k.usage.map(|u| u.to_string()),
                "generate_us": k.generate.as_secs_f64() * 1e6,
                "first_use_us": k.first_use.as_secs_f64() * 1e6,
                "node_op_us": k.op.as_secs_f64() * 1e6,
                "peer_op_us": k.peer_op.as_secs_f64() * 1e6,
            })).collect::<Vec<Value>>(),
            "wrapper_key_rotation": {"ms": t_wrap.as_secs_f64() * 1e3, "kms_calls": wrap_calls, "new_wrapper_key_id": new_wrapper.as_str()},
            "data_key_rotation": {"ms": t_data.as_secs_f64() * 1e3, "kms_calls": data_calls, "resealed_keys": resealed},
            "reopen": {"ms": t_reopen.as_secs_f64() * 1e3, "kms_calls": open_calls, "keys": listed.len(), "sealed": sealed, "kms_calls_after_using_every_key": after_calls},
        }));
        return Ok(());
    }

    let backend = <tresor::DefaultBackend as tresor::primitives::Backend>::NAME;
    let mut s = format!(
        "tresor {} demo: a Canton participant's keys in an envelope-encrypted store on the software KMS\n\
         crypto backend: {backend}; directory: {}{}\n\n",
        tresor::VERSION,
        dir.display(),
        if temporary {
            " (removed afterwards)"
        } else {
            ""
        }
    );
    s.push_str(&format!(
        "store created      {STORE} with a data key wrapped by KMS key {wrapper}: {} ({})\n\n",
        ms(t_create),
        calls(create_calls)
    ));
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|k| {
            vec![
                k.role.to_string(),
                k.spec.to_string(),
                k.usage.map_or_else(|| "-".into(), |u| u.to_string()),
                k.fingerprint.to_string(),
                ms(k.generate),
                us(k.first_use),
                us(k.op),
                us(k.peer_op),
            ]
        })
        .collect();
    s.push_str(&table(
        &[
            "key",
            "spec",
            "usage",
            "fingerprint",
            "generate",
            "first use",
            "sign/decrypt",
            "verify/encrypt",
        ],
        &rows,
    ));
    s.push_str(&format!(
        "(first use opens the sealed key; sign/decrypt by fingerprint then uses the key cache; verify/encrypt \
         is what a peer does with the public key; mean of {n})\n\n"
    ));
    s.push_str(&format!(
        "wrapper key rotated  {wrapper} -> {new_wrapper}: {} ({}, no key row rewritten)\n",
        ms(t_wrap),
        calls(wrap_calls)
    ));
    s.push_str(&format!(
        "data key rotated     {resealed} keys re-sealed in one transaction: {} ({})\n",
        ms(t_data),
        calls(data_calls)
    ));
    s.push_str(&format!(
        "store re-opened      {} keys, {sealed} sealed: {} ({} to unwrap the data key)\n",
        listed.len(),
        ms(t_reopen),
        calls(open_calls)
    ));
    s.push_str(&format!(
        "\nAfter re-opening, every key signed or decrypted again and the results verified with the public keys \
         from before ({} in all).\n",
        calls(after_calls)
    ));
    vault.close().await;
    out(&s);
    Ok(())
}
