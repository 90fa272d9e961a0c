//! Key operations in the audit log, written by the vault verbs themselves (so every face of tresor gets
//! them), the audit chain's tip, key names, key selection by prefix or name, Canton's list filters, and
//! in-place encryption.
#![cfg(feature = "vault")]

use std::path::PathBuf;
use std::sync::Arc;

use tresor::audit::{AuditLog, AuditLogConfig, ChainTip, ProblemKind, verify_audit_log_expecting};
use tresor::kms::KmsDriver;
use tresor::kms::software::{MasterKeySource, SoftwareKms, create_key_file};
use tresor::primitives::ENCRYPTION_OVERHEAD;
use tresor::vault::{EnvelopeConfig, KeyFilter, Mode, Vault, VaultOptions};
use tresor::{
    Decrypter, Encrypter, EncryptionAlgorithmSpec, EncryptionKeySpec, ErrorKind, KeyType,
    PrivateKey, Purpose, SigningKeySpec, SigningKeyUsage, SigningKeyUsageSet as U,
};

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("tresor-records-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("mkdir");
        Self(p)
    }
    fn log(&self) -> PathBuf {
        self.0.join("audit.log")
    }
    fn text(&self) -> String {
        std::fs::read_to_string(self.log()).expect("audit log")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn kms(d: &Dir) -> Arc<SoftwareKms> {
    let key = d.0.join("kms.key");
    if !key.exists() {
        create_key_file(&key).expect("key file");
    }
    Arc::new(
        SoftwareKms::open(&d.0.join("kms.db"), MasterKeySource::KeyFile(key))
            .await
            .expect("software KMS"),
    )
}

/// A vault in `mode` over the software KMS, its audit log in `d`.
async fn open(d: &Dir, mode: Mode, key_use: bool) -> (Vault, Arc<SoftwareKms>) {
    let k = kms(d).await;
    let log = Arc::new(AuditLog::open(AuditLogConfig::new(d.log())).expect("audit log"));
    let driver: Arc<dyn KmsDriver> = k.clone();
    let v = Vault::open(
        &format!("sqlite://{}", d.0.join("tresor.db").display()),
        Some(driver),
        VaultOptions::new(mode)
            .audit_log(log)
            .audit_key_use(key_use),
    )
    .await
    .expect("open vault");
    (v, k)
}

fn envelope() -> Mode {
    Mode::Envelope(EnvelopeConfig::default())
}

fn lines_with<'a>(text: &'a str, what: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.contains(what)).collect()
}

#[tokio::test]
async fn every_key_operation_is_recorded_without_secrets() {
    let d = Dir::new("ops");
    let (v, _) = open(&d, envelope(), false).await;
    let ns = v
        .generate_signing_key(SigningKeySpec::EcCurve25519, U::NAMESPACE_ONLY, Some("ns"))
        .await
        .expect("generate");
    let proto = v
        .generate_signing_key(SigningKeySpec::EcP256, U::PROTOCOL_ONLY, Some("proto"))
        .await
        .expect("generate");
    let held = PrivateKey::generate(KeyType::EcP384).expect("key");
    let imported = v
        .import_private_key(
            &held,
            Purpose::Signing,
            Some(U::PROTOCOL_ONLY),
            Some("held"),
        )
        .await
        .expect("import");
    let rotated = v.rotate_node_key(&proto.fingerprint).await.expect("rotate");
    let password = b"a password nobody else knows";
    let export = v
        .export_sealed(&ns.fingerprint, password)
        .await
        .expect("export");
    v.delete_key(&ns.fingerprint).await.expect("delete");
    let back = v
        .import_sealed(&export, password, None)
        .await
        .expect("import sealed");
    assert_eq!(back.fingerprint, ns.fingerprint);
    // Signing and decrypting are not recorded unless configured.
    v.sign(&proto.fingerprint, b"m", U::PROTOCOL_ONLY, None)
        .await
        .expect("sign");

    let text = d.text();
    let ops = lines_with(&text, "Key operation: ");
    let expect = [
        format!(
            "Key operation: generate key {} (signing ec-curve-25519, usage namespace, name 'ns', sealed)",
            ns.fingerprint
        ),
        format!(
            "Key operation: generate key {} (signing ec-p-256",
            proto.fingerprint
        ),
        format!(
            "Key operation: import key {} (signing ec-p-384, usage protocol, name 'held', sealed)",
            imported.fingerprint
        ),
        format!(
            "Key operation: rotate key {} (signing ec-p-256, usage protocol, name 'proto', sealed) to new key {}",
            proto.fingerprint, rotated.fingerprint
        ),
        format!(
            "Key operation: export key {} (signing ec-curve-25519, usage namespace, name 'ns', sealed) sealed under a password",
            ns.fingerprint
        ),
        format!(
            "Key operation: delete key {} (signing ec-curve-25519",
            ns.fingerprint
        ),
        format!(
            "Key operation: import key {} (signing ec-curve-25519, usage namespace, name 'ns', sealed) from a password-sealed export",
            ns.fingerprint
        ),
    ];
    assert_eq!(ops.len(), expect.len(), "{text}");
    for (line, want) in ops.iter().zip(&expect) {
        assert!(
            line.contains(want.as_str()),
            "expected «{want}» in «{line}»"
        );
        assert!(line.contains(" INFO "), "{line}");
    }
    assert!(lines_with(&text, "Key use:").is_empty(), "{text}");
    // Never a secret: not the password, not the export, not key material.
    let pkcs8 = tresor::hazmat::export_private_key(&v, &imported.fingerprint)
        .await
        .expect("hazmat export");
    let text = d.text();
    assert!(!text.contains("a password nobody else knows"));
    assert!(!text.contains("PRIVATE KEY") && !text.contains("ciphertext"));
    let hex: String = pkcs8
        .pkcs8_der()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(!text.contains(&hex[hex.len() - 64..]));
    assert!(text.contains("cleartext export of private key"));
    // The chain is intact and its tip is the last line.
    let report = tresor::audit::verify_audit_log(&d.log()).expect("verify");
    assert!(report.is_intact(), "{:?}", report.problem);
    assert_eq!(report.tip.map(|t| t.seq), Some(report.lines));
    v.close().await;
}

#[tokio::test]
async fn register_and_rotate_kms_keys_are_recorded() {
    let d = Dir::new("register");
    let (v, k) = open(&d, Mode::External, false).await;
    let id = k
        .generate_signing_key_pair(SigningKeySpec::EcP256, Some("made outside"))
        .await
        .expect("kms key");
    let reg = v
        .register_kms_key(
            &id,
            Purpose::Signing,
            None,
            Some(U::PROTOCOL_ONLY),
            Some("r"),
        )
        .await
        .expect("register");
    let id2 = k
        .generate_signing_key_pair(SigningKeySpec::EcP256, None)
        .await
        .expect("kms key");
    let next = v
        .rotate_kms_node_key(&reg.fingerprint, &id2, None)
        .await
        .expect("rotate");
    let generated = v
        .generate_encryption_key(EncryptionKeySpec::EcP256, None)
        .await
        .expect("generate in the KMS");
    let text = d.text();
    let ops = lines_with(&text, "Key operation: ");
    assert_eq!(ops.len(), 3, "{text}");
    assert!(ops[0].contains(&format!("register KMS key {id} as key {} (signing ec-p-256, usage protocol, name 'r', external, KMS key {id})", reg.fingerprint)), "{}", ops[0]);
    assert!(
        ops[1].contains(&format!("rotate key {} (", reg.fingerprint))
            && ops[1].contains(&format!("to KMS key {id2}: key {}", next.fingerprint)),
        "{}",
        ops[1]
    );
    assert!(
        ops[2].contains(&format!(
            "generate key {} (encryption ec-p-256, external",
            generated.fingerprint
        )),
        "{}",
        ops[2]
    );
    v.close().await;
}

#[tokio::test]
async fn sign_and_decrypt_are_recorded_when_configured() {
    let d = Dir::new("use");
    let (v, _) = open(&d, envelope(), true).await;
    let s = v
        .generate_signing_key(SigningKeySpec::EcCurve25519, U::PROTOCOL_ONLY, None)
        .await
        .expect("generate");
    let e = v
        .generate_encryption_key(EncryptionKeySpec::EcP256, None)
        .await
        .expect("generate");
    v.sign(&s.fingerprint, b"message one", U::PROTOCOL_ONLY, None)
        .await
        .expect("sign (uncached)");
    v.sign(&s.fingerprint, b"message two", U::PROTOCOL_ONLY, None)
        .await
        .expect("sign (cached)");
    assert!(
        v.try_sign_cached(&s.fingerprint, b"m3", U::PROTOCOL_ONLY, None)
            .expect("cached")
            .is_ok()
    );
    // A refused use is not a use.
    assert_eq!(
        v.sign(&s.fingerprint, b"m", U::NAMESPACE_ONLY, None)
            .await
            .expect_err("usage")
            .kind(),
        ErrorKind::UsageNotAllowed
    );
    let ct = v
        .encrypt(&e.fingerprint, b"secret session key", None)
        .await
        .expect("encrypt");
    let pt = v.decrypt(&e.fingerprint, &ct, None).await.expect("decrypt");
    assert_eq!(pt.as_slice(), b"secret session key");
    let text = d.text();
    let uses = lines_with(&text, "Key use: ");
    assert_eq!(uses.len(), 4, "{text}");
    for u in &uses[..3] {
        assert!(
            u.contains(&format!(
                "Key use: sign with key {} for usage protocol",
                s.fingerprint
            )),
            "{u}"
        );
    }
    assert!(
        uses[3].contains(&format!("Key use: decrypt with key {}", e.fingerprint)),
        "{}",
        uses[3]
    );
    assert!(!text.contains("message one") && !text.contains("secret session key"));
    v.close().await;
}

#[tokio::test]
async fn an_operation_whose_record_cannot_be_written_does_not_happen() {
    let d = Dir::new("failclosed");
    let (v, _) = open(&d, envelope(), false).await;
    let kept = v
        .generate_signing_key(SigningKeySpec::EcP256, U::PROTOCOL_ONLY, Some("kept"))
        .await
        .expect("generate");
    // The log file becomes a directory: nothing can be written to it any more.
    std::fs::rename(d.log(), d.0.join("audit.log.moved")).expect("move");
    std::fs::create_dir(d.log()).expect("mkdir");
    let e = v
        .generate_signing_key(SigningKeySpec::EcP256, U::PROTOCOL_ONLY, Some("lost"))
        .await
        .expect_err("no record, no key");
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert!(v.delete_key(&kept.fingerprint).await.is_err());
    assert!(
        v.export_sealed(&kept.fingerprint, b"a long enough password")
            .await
            .is_err()
    );
    let keys = v.list_keys().await.expect("list");
    assert_eq!(
        keys.len(),
        1,
        "only the key made while the log was writable"
    );
    assert_eq!(keys[0].fingerprint, kept.fingerprint);
    v.close().await;
}

#[tokio::test]
async fn a_kept_tip_detects_a_truncated_or_rewritten_log() {
    let d = Dir::new("tip");
    let (v, _) = open(&d, envelope(), false).await;
    for i in 0..3 {
        v.generate_signing_key(
            SigningKeySpec::EcP256,
            U::PROTOCOL_ONLY,
            Some(&format!("k{i}")),
        )
        .await
        .expect("generate");
    }
    v.close().await;
    let report = verify_audit_log_expecting(&d.log(), None).expect("verify");
    let tip = report.tip.expect("tip");
    assert_eq!(tip.to_string().parse::<ChainTip>().expect("parse"), tip);
    let again = verify_audit_log_expecting(&d.log(), Some(&tip)).expect("verify");
    assert!(again.is_intact(), "{:?}", again.problem);

    // Cut the last two lines: the chain alone is intact, the tip is missing.
    let text = d.text();
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(d.log(), lines[..lines.len() - 2].join("\n") + "\n").expect("write");
    assert!(
        verify_audit_log_expecting(&d.log(), None)
            .expect("verify")
            .is_intact()
    );
    let cut = verify_audit_log_expecting(&d.log(), Some(&tip)).expect("verify");
    let p = cut.problem.expect("truncation found");
    assert_eq!(p.kind, ProblemKind::Truncated);
    assert!(p.detail.contains(&format!("seq={}", tip.seq)), "{p}");

    // The same number of lines, rewritten (a fresh chain of the same length): the tip's chain differs.
    let forged = {
        let other = Dir::new("tip-forged");
        let (w, _) = open(&other, envelope(), false).await;
        for i in 0..3 {
            w.generate_signing_key(
                SigningKeySpec::EcP256,
                U::PROTOCOL_ONLY,
                Some(&format!("f{i}")),
            )
            .await
            .expect("generate");
        }
        w.close().await;
        other.text()
    };
    std::fs::write(d.log(), &forged).expect("write");
    let r = verify_audit_log_expecting(&d.log(), Some(&tip)).expect("verify");
    if r.tip.is_some_and(|t| t.seq >= tip.seq) {
        assert_eq!(
            r.problem.expect("rewrite found").kind,
            ProblemKind::Rewritten
        );
    } else {
        assert_eq!(r.problem.expect("found").kind, ProblemKind::Truncated);
    }
    assert!("12:zz".parse::<ChainTip>().is_err());
    assert!(
        format!("0:{}", "ab".repeat(32))
            .parse::<ChainTip>()
            .is_err()
    );
}

#[tokio::test]
async fn names_with_control_characters_are_refused_everywhere() {
    let d = Dir::new("names");
    let (v, k) = open(&d, envelope(), false).await;
    for bad in [
        "two\nlines",
        "esc\u{1b}[31m",
        "tab\there",
        "del\u{7f}",
        "c1\u{85}",
    ] {
        let e = v
            .generate_signing_key(SigningKeySpec::EcP256, U::PROTOCOL_ONLY, Some(bad))
            .await
            .expect_err(bad);
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        assert!(e.message().contains("control characters"), "{e}");
        let key = PrivateKey::generate(KeyType::EcP256).expect("key");
        let e = v
            .import_private_key(&key, Purpose::Encryption, None, Some(bad))
            .await
            .expect_err(bad);
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        let e = tresor::vault::export::seal_private_key(
            &key,
            Purpose::Encryption,
            None,
            Some(bad),
            b"pw",
        )
        .expect_err(bad);
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    }
    // A name from an export file is checked too; --name can replace it.
    let key = PrivateKey::generate(KeyType::EcP256).expect("key");
    let mut sealed =
        tresor::vault::export::seal_private_key(&key, Purpose::Encryption, None, Some("ok"), b"pw")
            .expect("seal");
    assert!(v.import_sealed(&sealed, b"pw", Some("a\rb")).await.is_err());
    sealed = tresor::vault::export::seal_private_key(
        &key,
        Purpose::Encryption,
        None,
        Some("fine name é"),
        b"pw",
    )
    .expect("seal");
    v.import_sealed(&sealed, b"pw", None)
        .await
        .expect("a printable name is fine");
    assert!(v.list_keys().await.expect("list").len() == 1);
    drop(k);
    v.close().await;
}

#[tokio::test]
async fn keys_by_prefix_or_name_and_canton_list_filters() {
    let d = Dir::new("select");
    let (v, _) = open(&d, envelope(), false).await;
    let mut keys = Vec::new();
    for (i, usage) in [
        U::NAMESPACE_ONLY,
        U::PROTOCOL_ONLY,
        U::SEQUENCER_AUTHENTICATION_ONLY,
    ]
    .into_iter()
    .enumerate()
    {
        keys.push(
            v.generate_signing_key(
                SigningKeySpec::EcCurve25519,
                usage,
                Some(&format!("node-key-{i}")),
            )
            .await
            .expect("generate"),
        );
    }
    let enc = v
        .generate_encryption_key(EncryptionKeySpec::EcP256, Some("enc"))
        .await
        .expect("generate");
    // Full fingerprint, name, unique prefix (any case).
    let a = &keys[0];
    assert_eq!(
        v.find_key(&a.fingerprint.to_string())
            .await
            .expect("fp")
            .fingerprint,
        a.fingerprint
    );
    assert_eq!(
        v.find_key("node-key-1").await.expect("name").fingerprint,
        keys[1].fingerprint
    );
    let fps: Vec<String> = keys
        .iter()
        .chain([&enc])
        .map(|k| k.fingerprint.to_string())
        .collect();
    let unique = (5..68)
        .map(|n| &fps[0][..n])
        .find(|p| fps.iter().filter(|f| f.starts_with(p)).count() == 1)
        .expect("a unique prefix");
    assert_eq!(
        v.find_key(unique).await.expect("prefix").fingerprint,
        a.fingerprint
    );
    assert_eq!(
        v.find_key(&unique.to_ascii_uppercase())
            .await
            .expect("prefix")
            .fingerprint,
        a.fingerprint
    );
    // Ambiguous: every fingerprint starts with 1220; the error lists the candidates.
    let e = v.find_key("1220").await.expect_err("ambiguous");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains("fits 4 keys"), "{e}");
    for f in &fps {
        assert!(e.message().contains(f.as_str()), "{e}");
    }
    assert!(e.message().contains("'node-key-2'"), "{e}");
    let e = v.find_key("no-such-key").await.expect_err("none");
    assert_eq!(e.kind(), ErrorKind::KeyNotFound);
    let e = v.find_key("").await.expect_err("empty");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);

    // Filters: fingerprint prefix, name part, purpose, usage (any of).
    let all = v.list_keys_matching(&KeyFilter::new()).await.expect("list");
    assert_eq!(all.len(), 4);
    let by_name = v
        .list_keys_matching(&KeyFilter::new().name("node-key"))
        .await
        .expect("list");
    assert_eq!(by_name.len(), 3);
    let by_purpose = v
        .list_keys_matching(&KeyFilter::new().purpose(Purpose::Encryption))
        .await
        .expect("list");
    assert_eq!(by_purpose.len(), 1);
    assert_eq!(by_purpose[0].fingerprint, enc.fingerprint);
    let by_usage = v
        .list_keys_matching(
            &KeyFilter::new()
                .usage(SigningKeyUsage::Namespace)
                .usage(SigningKeyUsage::Protocol),
        )
        .await
        .expect("list");
    // Keys made within one millisecond are listed by fingerprint, so compare without the order.
    let mut got = by_usage.iter().map(|k| k.fingerprint).collect::<Vec<_>>();
    let mut want = vec![keys[0].fingerprint, keys[1].fingerprint];
    got.sort();
    want.sort();
    assert_eq!(got, want);
    let by_fp = v
        .list_keys_matching(&KeyFilter::new().fingerprint(unique.to_ascii_uppercase()))
        .await
        .expect("list");
    assert_eq!(by_fp.len(), 1);
    let none = v
        .list_keys_matching(
            &KeyFilter::new()
                .name("node-key")
                .purpose(Purpose::Encryption),
        )
        .await
        .expect("list");
    assert!(none.is_empty());
    v.close().await;
}

#[test]
fn encryption_in_place_matches_and_never_reallocates_with_headroom() {
    let key = PrivateKey::generate(KeyType::EcP256).expect("key");
    let rsa = PrivateKey::generate(KeyType::Rsa2048).expect("key");
    for (k, algo, sizes) in [
        (
            &key,
            EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Cbc,
            &[0usize, 1, 15, 16, 17, 4096, 1 << 20][..],
        ),
        (
            &key,
            EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Gcm,
            &[0, 1, 16, 4097][..],
        ),
        (
            &rsa,
            EncryptionAlgorithmSpec::RsaOaepSha256,
            &[0, 1, 190][..],
        ),
    ] {
        let enc = Encrypter::new(k.public_key().clone()).expect("encrypter");
        let dec = Decrypter::new(k.clone()).expect("decrypter");
        for &n in sizes {
            let pt: Vec<u8> = (0..n).map(|i| (i * 7 + 3) as u8).collect();
            let mut buf = Vec::with_capacity(n + ENCRYPTION_OVERHEAD);
            buf.extend_from_slice(&pt);
            let before = buf.as_ptr();
            enc.encrypt_in_place(algo, &mut buf)
                .expect("encrypt in place");
            if algo != EncryptionAlgorithmSpec::RsaOaepSha256 {
                assert_eq!(buf.as_ptr(), before, "{algo} {n}: the buffer moved");
            }
            assert!(buf.capacity() <= n + ENCRYPTION_OVERHEAD, "{algo} {n}");
            assert_eq!(
                dec.decrypt(algo, &buf).expect("decrypt").as_slice(),
                pt.as_slice(),
                "{algo} {n}"
            );
            // The borrowed form gives the same format.
            let ct = enc.encrypt(algo, &pt).expect("encrypt");
            assert_eq!(ct.len(), buf.len(), "{algo} {n}");
            assert_eq!(
                dec.decrypt(algo, &ct).expect("decrypt").as_slice(),
                pt.as_slice()
            );
        }
    }
    let mut too_big = vec![0u8; 191];
    let enc = Encrypter::new(rsa.public_key().clone()).expect("encrypter");
    assert_eq!(
        enc.encrypt_in_place(EncryptionAlgorithmSpec::RsaOaepSha256, &mut too_big)
            .expect_err("too big")
            .kind(),
        ErrorKind::InputTooLarge
    );
}
