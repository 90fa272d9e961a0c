//! The shared test vectors (`tests/vectors/*.json`, schema in `tests/vectors/README.md`), run through
//! the core's public API: the Rust runner of the contract every face of tresor runs.
//!
//! The runner is `rust` on the native backend and `rust-portable` on the portable one (the
//! `rust-portable` step). A file whose operation this runner does not implement fails, unless the
//! file's `not_run_by` names the runner with a reason (which is printed).
#![cfg(feature = "vault")]

use std::path::PathBuf;

use serde_json::Value;
use tresor::keys::canton_hash;
use tresor::primitives::{AesGcmKey, ecdsa_der_to_raw, ecdsa_raw_to_der, hkdf_sha256, hmac_sha256};
use tresor::util::{hex, unhex};
use tresor::vault::export::open_export;
use tresor::{
    EncryptionAlgorithmSpec, EncryptionKeySpec, Error, KeyPair, KeyType, PreparedPublicKey,
    PrivateKey, PublicKey, SigningAlgorithmSpec, SigningKeySpec, SigningKeyUsageSet,
};

const RUNNER: &str = if cfg!(feature = "native") {
    "rust"
} else {
    "rust-portable"
};

fn dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors"))
}

fn bin(v: &Value, field: &str) -> Vec<u8> {
    let s = v[field]
        .as_str()
        .unwrap_or_else(|| panic!("field '{field}' is not a string"));
    unhex(s, field).unwrap_or_else(|e| panic!("field '{field}': {e}"))
}

fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("field '{field}' is not a string"))
}

fn num(v: &Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("field '{field}' is not a number"))
}

fn size_spec(v: &Value) -> SigningKeySpec {
    match num(v, "size") {
        48 => SigningKeySpec::EcP384,
        _ => SigningKeySpec::EcP256,
    }
}

/// Run one case; the output object on success.
fn run(op: &str, algorithm: &str, input: &Value) -> Result<Value, Error> {
    use serde_json::json;
    Ok(match op {
        "verify" => {
            let algo: SigningAlgorithmSpec = algorithm.parse()?;
            let pk = PublicKey::from_spki_der(&bin(input, "public_key"))?;
            PreparedPublicKey::new(pk).verify(
                Some(algo),
                &bin(input, "msg"),
                &bin(input, "sig"),
            )?;
            json!({})
        }
        "sign" => {
            let algo: SigningAlgorithmSpec = algorithm.parse()?;
            let kp = KeyPair::new(PrivateKey::from_pkcs8_der(&bin(input, "private_key"))?);
            json!({"sig": hex(&kp.sign(Some(algo), &bin(input, "msg"))?)})
        }
        "fingerprint" => {
            let pk = PublicKey::from_spki_der(&bin(input, "public_key"))?;
            json!({"fingerprint": pk.fingerprint().to_string()})
        }
        "public-key-parse" => {
            let key = text(input, "key");
            let pk = match text(input, "format") {
                "der" => PublicKey::from_spki_der(&unhex(key, "key")?)?,
                "pem" => PublicKey::from_pem(key)?,
                "jwk" => PublicKey::from_jwk(key)?,
                "raw" => {
                    let kt: KeyType = text(input, "key_type").parse()?;
                    PublicKey::from_raw(kt, &unhex(key, "key")?)?
                }
                other => panic!("unknown public key format '{other}'"),
            };
            json!({"public_key": hex(pk.spki_der()), "fingerprint": pk.fingerprint().to_string()})
        }
        "canton-hash" => {
            let purpose = u32::try_from(num(input, "purpose")).expect("u32 purpose");
            json!({"hash": hex(&canton_hash(purpose, &bin(input, "content")))})
        }
        "aes-128-gcm-decrypt" => {
            let key = AesGcmKey::aes128(&bin(input, "key"))?;
            json!({"plaintext": hex(&key.decrypt(&bin(input, "ciphertext"), &[])?)})
        }
        "hmac-sha-256" => {
            json!({"tag": hex(&hmac_sha256(&bin(input, "key"), &bin(input, "msg")))})
        }
        "hkdf-sha-256" => {
            let len = usize::try_from(num(input, "length")).expect("usize length");
            let okm = hkdf_sha256(
                &bin(input, "salt"),
                &bin(input, "ikm"),
                &bin(input, "info"),
                len,
            )?;
            json!({"okm": hex(&okm)})
        }
        "decrypt" => {
            let algo: EncryptionAlgorithmSpec = algorithm.parse()?;
            let kp = KeyPair::new(PrivateKey::from_pkcs8_der(&bin(input, "private_key"))?);
            json!({"plaintext": hex(&kp.decrypt(Some(algo), &bin(input, "ciphertext"))?)})
        }
        "ecdsa-der-to-raw" => {
            json!({"raw": hex(&ecdsa_der_to_raw(size_spec(input), &bin(input, "der"))?)})
        }
        "ecdsa-raw-to-der" => {
            json!({"der": hex(&ecdsa_raw_to_der(size_spec(input), &bin(input, "raw"))?)})
        }
        "key-usage" => {
            json!({"canonical": SigningKeyUsageSet::parse_list(text(input, "usages"))?.to_string()})
        }
        "scheme-name" => {
            let name = text(input, "name");
            let canonical = match text(input, "kind") {
                "signing-key-spec" => name.parse::<SigningKeySpec>()?.as_str(),
                "signing-algorithm" => name.parse::<SigningAlgorithmSpec>()?.as_str(),
                "encryption-key-spec" => name.parse::<EncryptionKeySpec>()?.as_str(),
                "encryption-algorithm" => name.parse::<EncryptionAlgorithmSpec>()?.as_str(),
                "key-spec" => match name.parse::<KeyType>()? {
                    KeyType::Ed25519 => "ec-curve-25519",
                    KeyType::EcP256 => "ec-p-256",
                    KeyType::EcP384 => "ec-p-384",
                    KeyType::EcSecp256k1 => "ec-secp-256k-1",
                    KeyType::Rsa2048 => "rsa-2048",
                },
                other => panic!("unknown scheme kind '{other}'"),
            };
            json!({"canonical": canonical})
        }
        "sealed-export-open" => {
            let k = open_export(text(input, "file"), text(input, "password").as_bytes())?;
            let spec = k.key.key_type().require(k.purpose)?;
            json!({
                "fingerprint": k.key.public_key().fingerprint().to_string(),
                "purpose": k.purpose.as_str(),
                "usage": k.usage.map(|u| u.to_string()),
                "key_spec": spec.as_str(),
                "name": k.name,
            })
        }
        other => unreachable!("operation '{other}' was checked before"),
    })
}

const OPERATIONS: &[&str] = &[
    "verify",
    "sign",
    "fingerprint",
    "public-key-parse",
    "canton-hash",
    "aes-128-gcm-decrypt",
    "hmac-sha-256",
    "hkdf-sha-256",
    "decrypt",
    "ecdsa-der-to-raw",
    "ecdsa-raw-to-der",
    "key-usage",
    "scheme-name",
    "sealed-export-open",
];

#[test]
fn shared_vectors() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("tests/vectors")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "the vector files are missing");
    let (mut cases, mut skipped_files) = (0usize, 0usize);
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        let v: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("read"))
            .unwrap_or_else(|e| panic!("{name}: not JSON ({e})"));
        assert_eq!(v["schema"], "tresor-vectors/1", "{name}: schema");
        let op = text(&v, "operation");
        let algorithm = text(&v, "algorithm");
        if let Some(why) = v["not_run_by"][RUNNER].as_str() {
            eprintln!("vectors: {name}: not run by {RUNNER}: {why}");
            skipped_files += 1;
            continue;
        }
        assert!(
            OPERATIONS.contains(&op),
            "{name}: operation '{op}' is not run by {RUNNER} and the file does not say why"
        );
        for case in v["tests"].as_array().expect("tests") {
            let id = text(case, "id");
            let expect = text(case, "expect");
            let result = std::panic::catch_unwind(|| run(op, algorithm, &case["input"]));
            cases += 1;
            let problem = match (expect, result) {
                (_, Err(_)) => Some("panicked".to_string()),
                ("valid", Ok(Ok(out))) => (out != case["output"])
                    .then(|| format!("output {out} differs from {}", case["output"])),
                ("valid", Ok(Err(e))) => Some(format!("expected valid, got {}: {e}", e.kind())),
                (_, Ok(Ok(_))) => Some(format!("expected {expect}, the operation succeeded")),
                (_, Ok(Err(e))) => (e.kind().name() != text(case, "error_kind")).then(|| {
                    format!(
                        "expected {expect} {}, got {}: {e}",
                        text(case, "error_kind"),
                        e.kind()
                    )
                }),
            };
            if let Some(p) = problem {
                failures.push(format!("{name} {id}: {p}"));
            }
        }
    }
    eprintln!(
        "vectors: {RUNNER}: {} files, {cases} cases run, {skipped_files} files not run (reasons above), {} failures",
        files.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
