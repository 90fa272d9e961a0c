//! Wycheproof test vectors for every primitive tresor exposes, run through tresor's public API on both
//! backends.
//!
//! Each backend-dependent set (Ed25519, ECDSA, AES-GCM, RSA-OAEP, ECDH) runs once per backend; HMAC and
//! HKDF have one implementation shared by both backends and run once.
//!
//! Every vector of a set is accounted for: it is either *run* (and "valid" must succeed with the expected
//! output, "invalid" must fail, "acceptable" is recorded either way), or *not applicable* because
//! Canton's format or tresor's API cannot express it (a 64-bit GCM IV, a truncated HMAC tag, an OAEP
//! label, RSA decryption on the portable backend, ...). Not-applicable vectors are listed with their
//! tcId and reason and are still checked as far as the API allows. Each test ends by asserting that
//! run + not applicable equals the size of the set and that nothing failed unexpectedly.
//!
//! The per-set report is written straight to the process's stderr, so it shows with and without
//! `--nocapture`.
//!
//! The file needs both backends, so it is built when the native backend is (the default build).
#![cfg(feature = "native")]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};

use tresor::primitives::{
    AesGcmKey, Backend, Decrypter, Ed25519Rule, Encrypter, Native, Portable, Verifier, ecdh_p256,
    ecdsa_der_to_raw, ecdsa_raw_to_der, hkdf_sha256, hmac_sha256, hmac_sha256_verify,
};
use tresor::{
    EncryptionAlgorithmSpec, Error, ErrorKind, KeyType, PrivateKey, PublicKey,
    SigningAlgorithmSpec, SigningKeySpec,
};
use wycheproof::{HashFunction, TestResult};

// --- Bookkeeping ---------------------------------------------------------------------------------

/// What tresor did with one vector.
enum Outcome {
    /// The operation succeeded and produced the expected output.
    Accepted,
    /// The operation (or parsing one of its inputs) failed; the string says how.
    Rejected(String),
    /// The operation succeeded but produced the wrong output: always a failure.
    WrongOutput(String),
    /// tresor panicked: always a failure.
    Panicked(String),
}

fn rejected(stage: &str, e: &Error) -> Outcome {
    Outcome::Rejected(format!("{stage}: {}", e.kind().name()))
}

/// Run `f`, turning a panic inside tresor into [`Outcome::Panicked`].
fn guarded(f: impl FnOnce() -> Outcome) -> Outcome {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(o) => o,
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_owned());
            Outcome::Panicked(msg)
        }
    }
}

/// Counts and lists for one set on one backend.
struct Tally {
    set: &'static str,
    backend: String,
    total: usize,
    seen: BTreeSet<usize>,
    run: usize,
    valid_ok: usize,
    invalid_rejected: usize,
    invalid_reasons: BTreeMap<String, usize>,
    acceptable_accepted: Vec<usize>,
    acceptable_rejected: BTreeMap<String, Vec<usize>>,
    deviations: BTreeMap<String, Vec<usize>>,
    not_applicable: BTreeMap<String, Vec<usize>>,
    na_count: usize,
    notes: Vec<String>,
    failures: Vec<String>,
}

impl Tally {
    fn new(set: &'static str, backend: impl Into<String>, total: usize) -> Self {
        Self {
            set,
            backend: backend.into(),
            total,
            seen: BTreeSet::new(),
            run: 0,
            valid_ok: 0,
            invalid_rejected: 0,
            invalid_reasons: BTreeMap::new(),
            acceptable_accepted: Vec::new(),
            acceptable_rejected: BTreeMap::new(),
            deviations: BTreeMap::new(),
            not_applicable: BTreeMap::new(),
            na_count: 0,
            notes: Vec::new(),
            failures: Vec::new(),
        }
    }

    fn claim(&mut self, tc: usize) {
        if !self.seen.insert(tc) {
            self.failures
                .push(format!("tcId {tc}: accounted for twice (bug in this test)"));
        }
    }

    /// Record a vector that ran through tresor.
    fn record(&mut self, tc: usize, expected: TestResult, outcome: Outcome) {
        self.claim(tc);
        self.run += 1;
        match (expected, outcome) {
            (_, Outcome::Panicked(msg)) => self.fail(tc, format!("tresor panicked: {msg}")),
            (_, Outcome::WrongOutput(msg)) => self.fail(tc, format!("wrong output: {msg}")),
            (TestResult::Valid, Outcome::Accepted) => self.valid_ok += 1,
            (TestResult::Valid, Outcome::Rejected(why)) => {
                self.fail(tc, format!("valid vector rejected ({why})"));
            }
            (TestResult::Invalid, Outcome::Rejected(why)) => {
                self.invalid_rejected += 1;
                *self.invalid_reasons.entry(why).or_default() += 1;
            }
            (TestResult::Invalid, Outcome::Accepted) => self.fail(tc, "invalid vector accepted"),
            (TestResult::Acceptable, Outcome::Accepted) => self.acceptable_accepted.push(tc),
            (TestResult::Acceptable, Outcome::Rejected(why)) => {
                self.acceptable_rejected.entry(why).or_default().push(tc);
            }
        }
    }

    /// Record a valid vector that ran and was rejected for a documented, deliberate reason.
    fn deviation(&mut self, tc: usize, reason: impl Into<String>) {
        self.claim(tc);
        self.run += 1;
        self.deviations.entry(reason.into()).or_default().push(tc);
    }

    /// Record a vector tresor's API cannot apply.
    fn not_applicable(&mut self, tc: usize, reason: impl Into<String>) {
        self.claim(tc);
        self.na_count += 1;
        self.not_applicable
            .entry(reason.into())
            .or_default()
            .push(tc);
    }

    fn fail(&mut self, tc: usize, msg: impl AsRef<str>) {
        self.failures.push(format!("tcId {tc}: {}", msg.as_ref()));
    }

    fn note(&mut self, msg: impl Into<String>) {
        self.notes.push(msg.into());
    }

    /// Print the report and assert the set was fully accounted for without unexpected failures.
    fn finish(self) {
        let acceptable = self.acceptable_accepted.len()
            + self
                .acceptable_rejected
                .values()
                .map(Vec::len)
                .sum::<usize>();
        let deviations: usize = self.deviations.values().map(Vec::len).sum();
        let mut out = String::new();
        let _ = write!(
            out,
            "wycheproof {} [{}]: {} run, {} n/a (valid {} ok, invalid {} rejected, acceptable {}",
            self.set,
            self.backend,
            self.run,
            self.na_count,
            self.valid_ok,
            self.invalid_rejected,
            acceptable,
        );
        if acceptable > 0 {
            let _ = write!(
                out,
                ": {} accepted, {} rejected",
                self.acceptable_accepted.len(),
                acceptable - self.acceptable_accepted.len()
            );
        }
        if deviations > 0 {
            let _ = write!(out, "; {deviations} documented deviations");
        }
        out.push_str(")\n");
        if !self.invalid_reasons.is_empty() {
            let by: Vec<String> = self
                .invalid_reasons
                .iter()
                .map(|(why, n)| format!("{why} x{n}"))
                .collect();
            let _ = writeln!(out, "    invalid rejected by: {}", by.join(", "));
        }
        for n in &self.notes {
            let _ = writeln!(out, "    note: {n}");
        }
        for (reason, ids) in &self.not_applicable {
            let _ = writeln!(
                out,
                "    n/a x{}: {reason}: tcId {}",
                ids.len(),
                ranges(ids)
            );
        }
        for (reason, ids) in &self.deviations {
            let _ = writeln!(
                out,
                "    deviation x{}: {reason}: tcId {}",
                ids.len(),
                ranges(ids)
            );
        }
        if !self.acceptable_accepted.is_empty() {
            let _ = writeln!(
                out,
                "    acceptable, accepted x{}: tcId {}",
                self.acceptable_accepted.len(),
                ranges(&self.acceptable_accepted)
            );
        }
        for (why, ids) in &self.acceptable_rejected {
            let _ = writeln!(
                out,
                "    acceptable, rejected x{} ({why}): tcId {}",
                ids.len(),
                ranges(ids)
            );
        }
        for f in &self.failures {
            let _ = writeln!(out, "    FAILURE {f}");
        }
        // Straight to the stderr handle: the test harness captures print!/eprint!, not the handle.
        let _ = std::io::stderr().lock().write_all(out.as_bytes());

        assert_eq!(
            self.seen.len(),
            self.total,
            "{} [{}]: every vector must be accounted for",
            self.set,
            self.backend
        );
        assert_eq!(
            self.run + self.na_count,
            self.total,
            "{} [{}]: run + n/a must equal the set size",
            self.set,
            self.backend
        );
        assert!(
            self.failures.is_empty(),
            "{} [{}]: {} unexpected results:\n{}",
            self.set,
            self.backend,
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

/// `[1, 2, 3, 7, 9, 10]` → `"1-3, 7, 9-10"`.
fn ranges(ids: &[usize]) -> String {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < ids.len() {
        let start = ids[i];
        let mut end = start;
        while i + 1 < ids.len() && ids[i + 1] == end + 1 {
            i += 1;
            end = ids[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(", ")
}

// --- Ed25519 -------------------------------------------------------------------------------------

/// Whether a 32-byte Edwards point encoding decodes to a point of small order (a weak key or `R`).
fn small_order(encoding: &[u8]) -> bool {
    <&[u8; 32]>::try_from(encoding)
        .ok()
        .and_then(|b| ed25519_dalek::VerifyingKey::from_bytes(b).ok())
        .is_some_and(|p| p.is_weak())
}

fn ed25519<B: Backend>() {
    use wycheproof::eddsa::{TestName, TestSet};
    let set = TestSet::load(TestName::Ed25519).expect("the Ed25519 set loads");
    let mut t = Tally::new("ed25519", B::NAME, set.number_of_tests);
    let algo = SigningAlgorithmSpec::Ed25519;
    let mut rfc_valid_ok = 0;
    let mut rfc_invalid_rejected = 0;
    // Self-check of the small-order oracle: the identity (y = 1) is weak, the base point is not.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut base = [0x66u8; 32];
    base[0] = 0x58;
    assert!(small_order(&identity) && !small_order(&base));
    for g in &set.test_groups {
        let parsed = PublicKey::from_raw(KeyType::Ed25519, &g.key.pk);
        // The group gives the key raw and as SPKI; both must be the same key (or both refused).
        match (&parsed, PublicKey::from_spki_der(&g.der)) {
            (Ok(raw), Ok(spki)) if raw == &spki => {}
            (Err(_), Err(_)) => {}
            _ => t.failures.push(format!(
                "group key {}: raw and SPKI forms disagree",
                hex::encode(&*g.key.pk)
            )),
        }
        let verifiers = parsed.and_then(|pk| {
            let strict = Verifier::<B>::with_backend(pk.clone())?;
            let rfc = Verifier::<B>::with_backend(pk)?.with_ed25519_rule(Ed25519Rule::Rfc8032);
            Ok((strict, rfc))
        });
        for tc in &g.tests {
            let (strict, rfc) = match &verifiers {
                Ok((s, r)) => (
                    guarded(|| match s.verify(algo, &tc.msg, &tc.sig) {
                        Ok(()) => Outcome::Accepted,
                        Err(e) => rejected("verify (strict)", &e),
                    }),
                    guarded(|| match r.verify(algo, &tc.msg, &tc.sig) {
                        Ok(()) => Outcome::Accepted,
                        Err(e) => rejected("verify (rfc8032)", &e),
                    }),
                ),
                Err(e) => (
                    rejected("public key refused", e),
                    rejected("public key refused", e),
                ),
            };
            // The relaxed rule must still reject everything Wycheproof calls invalid and accept
            // everything it calls valid.
            match (tc.result, &rfc) {
                (TestResult::Valid, Outcome::Accepted) => rfc_valid_ok += 1,
                (TestResult::Invalid, Outcome::Rejected(_)) => rfc_invalid_rejected += 1,
                (TestResult::Acceptable, _) => {}
                (_, Outcome::Panicked(m)) => {
                    t.fail(tc.tc_id, format!("rfc8032 rule panicked: {m}"))
                }
                (_, Outcome::WrongOutput(m)) => t.fail(tc.tc_id, m.clone()),
                (r, _) => t.fail(
                    tc.tc_id,
                    format!("rfc8032 rule disagrees with expected {r:?}"),
                ),
            }
            let strict_rejected_valid =
                tc.result == TestResult::Valid && matches!(strict, Outcome::Rejected(_));
            if strict_rejected_valid {
                // Only a small-order public key or R is a legitimate reason for the strict rule to
                // refuse a signature RFC 8032 accepts.
                let weak_key = small_order(&g.key.pk);
                let weak_r = small_order(tc.sig.get(..32).unwrap_or_default());
                if matches!(rfc, Outcome::Accepted) && (weak_key || weak_r) {
                    let what = match (weak_key, weak_r) {
                        (true, true) => "public key and R",
                        (true, false) => "public key",
                        _ => "R",
                    };
                    t.deviation(
                        tc.tc_id,
                        format!(
                            "small-order {what}: refused by the strict rule (verify_strict), \
                             accepted by Ed25519Rule::Rfc8032"
                        ),
                    );
                    continue;
                }
            }
            t.record(tc.tc_id, tc.result, strict);
        }
    }
    t.note(format!(
        "Ed25519Rule::Rfc8032 also checked on every vector: valid {rfc_valid_ok} accepted, invalid \
         {rfc_invalid_rejected} rejected"
    ));
    t.finish();
}

#[test]
fn ed25519_native() {
    ed25519::<Native>();
}

#[test]
fn ed25519_portable() {
    ed25519::<Portable>();
}

// --- ECDSA ---------------------------------------------------------------------------------------

struct EcdsaSet {
    name: wycheproof::ecdsa::TestName,
    label: &'static str,
    key_type: KeyType,
    spec: SigningKeySpec,
    algo: SigningAlgorithmSpec,
    hash: HashFunction,
}

const P256_SHA256: EcdsaSet = EcdsaSet {
    name: wycheproof::ecdsa::TestName::EcdsaSecp256r1Sha256,
    label: "ecdsa_secp256r1_sha256",
    key_type: KeyType::EcP256,
    spec: SigningKeySpec::EcP256,
    algo: SigningAlgorithmSpec::EcDsaSha256,
    hash: HashFunction::Sha2_256,
};

const P384_SHA384: EcdsaSet = EcdsaSet {
    name: wycheproof::ecdsa::TestName::EcdsaSecp384r1Sha384,
    label: "ecdsa_secp384r1_sha384",
    key_type: KeyType::EcP384,
    spec: SigningKeySpec::EcP384,
    algo: SigningAlgorithmSpec::EcDsaSha384,
    hash: HashFunction::Sha2_384,
};

const K256_SHA256: EcdsaSet = EcdsaSet {
    name: wycheproof::ecdsa::TestName::EcdsaSecp256k1Sha256,
    label: "ecdsa_secp256k1_sha256",
    key_type: KeyType::EcSecp256k1,
    spec: SigningKeySpec::EcSecp256k1,
    algo: SigningAlgorithmSpec::EcDsaSha256,
    hash: HashFunction::Sha2_256,
};

fn ecdsa<B: Backend>(s: &EcdsaSet) {
    use wycheproof::ecdsa::{TestGroupTypeId, TestSet};
    let set = TestSet::load(s.name).expect("the ECDSA set loads");
    let mut t = Tally::new(s.label, B::NAME, set.number_of_tests);
    let field = if s.key_type == KeyType::EcP384 {
        48
    } else {
        32
    };
    let (mut der_round_trips, mut der_refused) = (0usize, 0usize);
    for g in &set.test_groups {
        assert_eq!(g.test_type, TestGroupTypeId::Ecdsa, "DER signature groups");
        assert_eq!(g.hash, s.hash, "{}: hash of the group", s.label);
        let parsed = PublicKey::from_spki_der(&g.der);
        // The group gives the key as SPKI and as an uncompressed point; both must be the same key.
        match (&parsed, PublicKey::from_raw(s.key_type, &g.key.key)) {
            (Ok(a), Ok(b)) if a == &b && a.key_type() == s.key_type => {}
            (Ok(_), Ok(_)) => t.failures.push(format!(
                "{}: SPKI and uncompressed point disagree",
                hex::encode(&*g.key.key)
            )),
            (Err(_), Err(_)) => {}
            _ => t.failures.push(format!(
                "{}: only one of SPKI / uncompressed point parses",
                hex::encode(&*g.key.key)
            )),
        }
        let verifier = parsed.and_then(Verifier::<B>::with_backend);
        for tc in &g.tests {
            let outcome = match &verifier {
                Ok(v) => guarded(|| match v.verify(s.algo, &tc.msg, &tc.sig) {
                    Ok(()) => Outcome::Accepted,
                    Err(e) => rejected("verify", &e),
                }),
                Err(e) => rejected("public key refused", e),
            };
            // DER <-> raw conversion: whatever the strict converter accepts must re-encode to the same
            // bytes, valid signatures must convert, and nothing the verifier accepts may be refused.
            match guarded(|| match ecdsa_der_to_raw(s.spec, &tc.sig) {
                Ok(raw) if raw.len() != 2 * field => {
                    Outcome::WrongOutput(format!("raw signature of {} bytes", raw.len()))
                }
                Ok(raw) => match ecdsa_raw_to_der(s.spec, &raw) {
                    Ok(der) if der == *tc.sig => Outcome::Accepted,
                    Ok(der) => Outcome::WrongOutput(format!(
                        "DER -> raw -> DER changed the bytes: {}",
                        hex::encode(der)
                    )),
                    Err(e) => Outcome::WrongOutput(format!(
                        "raw form of an accepted DER signature refused ({})",
                        e.kind().name()
                    )),
                },
                Err(e) => rejected("ecdsa_der_to_raw", &e),
            }) {
                Outcome::Accepted => der_round_trips += 1,
                Outcome::Rejected(why) => {
                    der_refused += 1;
                    if tc.result == TestResult::Valid || matches!(outcome, Outcome::Accepted) {
                        t.fail(
                            tc.tc_id,
                            format!("signature verifies but the DER converter refuses it ({why})"),
                        );
                    }
                }
                Outcome::WrongOutput(m) => t.fail(tc.tc_id, format!("DER round trip: {m}")),
                Outcome::Panicked(m) => t.fail(tc.tc_id, format!("DER conversion panicked: {m}")),
            }
            t.record(tc.tc_id, tc.result, outcome);
        }
    }
    t.note(format!(
        "ecdsa_der_to_raw/ecdsa_raw_to_der: {der_round_trips} signatures converted and re-encoded \
         byte-identically, {der_refused} refused as not strict DER or out of range (none of them \
         verifies)"
    ));
    t.finish();
}

#[test]
fn ecdsa_secp256r1_sha256_native() {
    ecdsa::<Native>(&P256_SHA256);
}

#[test]
fn ecdsa_secp256r1_sha256_portable() {
    ecdsa::<Portable>(&P256_SHA256);
}

#[test]
fn ecdsa_secp384r1_sha384_native() {
    ecdsa::<Native>(&P384_SHA384);
}

#[test]
fn ecdsa_secp384r1_sha384_portable() {
    ecdsa::<Portable>(&P384_SHA384);
}

#[test]
fn ecdsa_secp256k1_sha256_native() {
    ecdsa::<Native>(&K256_SHA256);
}

#[test]
fn ecdsa_secp256k1_sha256_portable() {
    ecdsa::<Portable>(&K256_SHA256);
}

// --- AES-GCM -------------------------------------------------------------------------------------

fn aes_gcm<B: Backend>() {
    use wycheproof::aead::{TestName, TestSet};
    let set = TestSet::load(TestName::AesGcm).expect("the AES-GCM set loads");
    let mut t = Tally::new("aes_gcm", B::NAME, set.number_of_tests);
    for g in &set.test_groups {
        for tc in &g.tests {
            if tc.nonce.len() != 12 {
                t.not_applicable(
                    tc.tc_id,
                    format!(
                        "{}-bit IV; Canton's AES-GCM format fixes a 96-bit IV",
                        tc.nonce.len() * 8
                    ),
                );
                continue;
            }
            if tc.tag.len() != 16 {
                t.not_applicable(
                    tc.tc_id,
                    format!(
                        "{}-bit tag; Canton's AES-GCM format fixes a 128-bit tag",
                        tc.tag.len() * 8
                    ),
                );
                continue;
            }
            if tc.key.len() != 16 && tc.key.len() != 32 {
                // Still check that such a key is refused cleanly.
                match AesGcmKey::<B>::with_backend(&tc.key) {
                    Err(e) if e.kind() == ErrorKind::MalformedKey => {}
                    Err(e) => t.fail(
                        tc.tc_id,
                        format!("{}-byte key refused with {}", tc.key.len(), e.kind().name()),
                    ),
                    Ok(_) => t.fail(tc.tc_id, format!("{}-byte key accepted", tc.key.len())),
                }
                t.not_applicable(
                    tc.tc_id,
                    format!(
                        "AES-{} key; AesGcmKey takes 128-bit (Canton) or 256-bit keys only \
                         (checked: refused with malformed_key)",
                        tc.key.len() * 8
                    ),
                );
                continue;
            }
            let iv: [u8; 12] = tc.nonce.as_slice().try_into().expect("checked length");
            let mut wire = Vec::with_capacity(12 + tc.ct.len() + 16);
            wire.extend_from_slice(&iv);
            wire.extend_from_slice(&tc.ct);
            wire.extend_from_slice(&tc.tag);
            let outcome = guarded(|| {
                let key = match AesGcmKey::<B>::with_backend(&tc.key) {
                    Ok(k) => k,
                    Err(e) => return rejected("key refused", &e),
                };
                let opened = match key.decrypt(&wire, &tc.aad) {
                    Ok(pt) => pt,
                    Err(e) if e.kind() == ErrorKind::DecryptionFailed => {
                        return rejected("decrypt", &e);
                    }
                    Err(e) => {
                        return Outcome::WrongOutput(format!(
                            "decrypt failed with {} instead of decryption_failed",
                            e.kind().name()
                        ));
                    }
                };
                if opened.as_slice() != tc.pt.as_slice() {
                    return Outcome::WrongOutput("decrypted plaintext differs".into());
                }
                // Encryption with the same IV must give exactly the vector's ciphertext and tag.
                match key.encrypt_with_iv(&iv, &tc.pt, &tc.aad) {
                    Ok(c) if c == wire => Outcome::Accepted,
                    Ok(_) if tc.result == TestResult::Invalid => {
                        // An invalid vector that opened is reported as accepted by `record`.
                        Outcome::Accepted
                    }
                    Ok(_) => {
                        Outcome::WrongOutput("encrypt_with_iv gives another ciphertext".into())
                    }
                    Err(e) => Outcome::WrongOutput(format!("encrypt failed: {}", e.kind().name())),
                }
            });
            t.record(tc.tc_id, tc.result, outcome);
        }
    }
    t.finish();
}

#[test]
fn aes_gcm_native() {
    aes_gcm::<Native>();
}

#[test]
fn aes_gcm_portable() {
    aes_gcm::<Portable>();
}

// --- RSA-OAEP ------------------------------------------------------------------------------------

fn rsa_oaep<B: Backend>() {
    use wycheproof::rsa_oaep::{TestName, TestSet};
    let set = TestSet::load(TestName::Rsa2048Sha256Mgf1Sha256).expect("the RSA-OAEP set loads");
    let mut t = Tally::new(
        "rsa_oaep_2048_sha256_mgf1sha256",
        B::NAME,
        set.number_of_tests,
    );
    let algo = EncryptionAlgorithmSpec::RsaOaepSha256;
    let portable = B::NAME == Portable::NAME;
    let mut encrypt_round_trips = 0usize;
    for g in &set.test_groups {
        assert_eq!(g.key_size, 2048);
        assert_eq!(g.hash, HashFunction::Sha2_256);
        assert_eq!(g.mgf, wycheproof::Mgf::Mgf1);
        assert_eq!(g.mgf_hash, HashFunction::Sha2_256);
        // Parsed once per group: RSA key parsing and validation is slow in debug builds.
        let key = PrivateKey::from_pkcs8_der(&g.pkcs8).expect("the group's PKCS#8 key parses");
        assert_eq!(key.key_type(), KeyType::Rsa2048);
        let decrypter = Decrypter::<B>::with_backend(key.clone());
        // The native decrypter checks what this backend encrypts.
        let reference =
            Decrypter::<Native>::with_backend(key.clone()).expect("native RSA decrypter");
        let encrypter =
            Encrypter::<B>::with_backend(key.public_key().clone()).expect("RSA encrypter");
        if portable {
            match &decrypter {
                Err(e) if e.kind() == ErrorKind::UnsupportedAlgorithm => {}
                Err(e) => t.failures.push(format!(
                    "portable RSA decrypter refused with {} instead of unsupported_algorithm",
                    e.kind().name()
                )),
                Ok(_) => t
                    .failures
                    .push("portable backend built an RSA-OAEP decrypter".to_owned()),
            }
        }
        for tc in &g.tests {
            let labelled = !tc.label.is_empty();
            if portable {
                // Decryption is refused by design. What can be checked on this backend is the refusal
                // itself and the encryption of the vector's plaintext (opened on native); a labelled
                // ciphertext must not open under the empty label on native either.
                let refusal = decrypter.as_ref().err().map(Error::kind);
                if refusal != Some(ErrorKind::UnsupportedAlgorithm) {
                    t.fail(
                        tc.tc_id,
                        "portable backend did not refuse RSA-OAEP decryption",
                    );
                }
                if labelled {
                    check_label_refused(&mut t, tc.tc_id, &reference, &tc.ct);
                } else if tc.result == TestResult::Valid {
                    check_rsa_encrypt(&mut t, tc.tc_id, &encrypter, &reference, &tc.pt);
                    encrypt_round_trips += 1;
                }
                let reason = if labelled {
                    "portable backend refuses RSA-OAEP decryption by design (RUSTSEC-2023-0071), and \
                     the vector uses a non-empty OAEP label (Canton uses the empty label) (checked: \
                     refusal is unsupported_algorithm; the ciphertext does not open under the empty \
                     label on native)"
                } else {
                    "portable backend refuses RSA-OAEP decryption by design (RUSTSEC-2023-0071) \
                     (checked: refusal is unsupported_algorithm; valid plaintexts encrypted on \
                     portable open on native)"
                };
                t.not_applicable(tc.tc_id, reason);
                continue;
            }
            if labelled {
                // tresor has no label parameter: Canton's rsa-oaep-sha-256 uses the empty label. The
                // ciphertext must therefore not open under the empty label.
                match &decrypter {
                    Ok(d) => check_label_refused(&mut t, tc.tc_id, d, &tc.ct),
                    Err(e) => t.fail(tc.tc_id, format!("decrypter: {}", e.kind().name())),
                }
                t.not_applicable(
                    tc.tc_id,
                    format!(
                        "non-empty OAEP label ({} bytes); Canton's rsa-oaep-sha-256 uses the empty \
                         label (checked: the ciphertext does not open under the empty label)",
                        tc.label.len()
                    ),
                );
                continue;
            }
            let outcome = guarded(|| {
                let d = match &decrypter {
                    Ok(d) => d,
                    Err(e) => return rejected("decrypter", e),
                };
                match d.decrypt(algo, &tc.ct) {
                    Ok(pt) if pt.as_slice() == tc.pt.as_slice() => Outcome::Accepted,
                    Ok(_) => Outcome::WrongOutput("decrypted plaintext differs".into()),
                    Err(e)
                        if matches!(
                            e.kind(),
                            ErrorKind::DecryptionFailed | ErrorKind::MalformedCiphertext
                        ) =>
                    {
                        rejected("decrypt", &e)
                    }
                    Err(e) => Outcome::WrongOutput(format!(
                        "decrypt failed with unexpected {}",
                        e.kind().name()
                    )),
                }
            });
            if tc.result == TestResult::Valid {
                check_rsa_encrypt(&mut t, tc.tc_id, &encrypter, &reference, &tc.pt);
                encrypt_round_trips += 1;
            }
            t.record(tc.tc_id, tc.result, outcome);
        }
    }
    t.note(format!(
        "encrypt direction: {encrypt_round_trips} valid empty-label plaintexts encrypted on this backend \
         and opened on native"
    ));
    t.finish();
}

/// A ciphertext made with a non-empty label must not open under Canton's empty label.
fn check_label_refused<B: Backend>(t: &mut Tally, tc: usize, dec: &Decrypter<B>, ct: &[u8]) {
    match dec.decrypt(EncryptionAlgorithmSpec::RsaOaepSha256, ct) {
        Err(e) if e.kind() == ErrorKind::DecryptionFailed => {}
        Err(e) => t.fail(
            tc,
            format!(
                "labelled ciphertext: {} instead of decryption_failed",
                e.kind().name()
            ),
        ),
        Ok(_) => t.fail(tc, "labelled ciphertext opened under the empty label"),
    }
}

fn check_rsa_encrypt<B: Backend>(
    t: &mut Tally,
    tc: usize,
    enc: &Encrypter<B>,
    dec: &Decrypter<Native>,
    pt: &[u8],
) {
    let algo = EncryptionAlgorithmSpec::RsaOaepSha256;
    match enc.encrypt(algo, pt).and_then(|c| dec.decrypt(algo, &c)) {
        Ok(back) if back.as_slice() == pt => {}
        Ok(_) => t.fail(tc, "encrypt -> decrypt changed the plaintext"),
        Err(e) => t.fail(
            tc,
            format!("encrypt -> decrypt failed: {}", e.kind().name()),
        ),
    }
}

#[test]
fn rsa_oaep_2048_sha256_native() {
    rsa_oaep::<Native>();
}

#[test]
fn rsa_oaep_2048_sha256_portable() {
    rsa_oaep::<Portable>();
}

// --- HKDF and HMAC (one implementation for both backends) ----------------------------------------

const SHARED: &str = "shared by native and portable: one RustCrypto implementation";

#[test]
fn hkdf_sha256_shared() {
    use wycheproof::hkdf::{TestName, TestSet};
    let set = TestSet::load(TestName::HkdfSha256).expect("the HKDF set loads");
    let mut t = Tally::new("hkdf_sha256", SHARED, set.number_of_tests);
    for g in &set.test_groups {
        for tc in &g.tests {
            let outcome = guarded(|| match hkdf_sha256(&tc.salt, &tc.ikm, &tc.info, tc.size) {
                Ok(okm) if okm.as_slice() == tc.okm.as_slice() => Outcome::Accepted,
                Ok(okm) if okm.len() != tc.size => {
                    Outcome::WrongOutput(format!("{} bytes for size {}", okm.len(), tc.size))
                }
                Ok(_) => Outcome::WrongOutput("output key material differs".into()),
                Err(e) => rejected(&format!("hkdf_sha256 size {}", tc.size), &e),
            });
            t.record(tc.tc_id, tc.result, outcome);
        }
    }
    t.finish();
}

#[test]
fn hmac_sha256_shared() {
    use wycheproof::mac::{TestName, TestSet};
    let set = TestSet::load(TestName::HmacSha256).expect("the HMAC set loads");
    let mut t = Tally::new("hmac_sha256", SHARED, set.number_of_tests);
    for g in &set.test_groups {
        for tc in &g.tests {
            let full = hmac_sha256(&tc.key, &tc.msg);
            if tc.tag.len() != 32 {
                // The API verifies full 256-bit tags only. Check the truncation against the full tag
                // and that the verifier refuses the short tag.
                let prefix_matches = full.get(..tc.tag.len()) == Some(tc.tag.as_slice());
                if prefix_matches != (tc.result == TestResult::Valid) {
                    t.fail(
                        tc.tc_id,
                        format!(
                            "truncated tag: prefix match = {prefix_matches}, expected {:?}",
                            tc.result
                        ),
                    );
                }
                if hmac_sha256_verify(&tc.key, &tc.msg, &tc.tag).is_ok() {
                    t.fail(tc.tc_id, "hmac_sha256_verify accepted a truncated tag");
                }
                t.not_applicable(
                    tc.tc_id,
                    format!(
                        "{}-bit truncated tag; hmac_sha256_verify takes the full 256-bit tag only \
                         (checked: prefix of hmac_sha256 matches iff valid; verify refuses the short tag)",
                        tc.tag.len() * 8
                    ),
                );
                continue;
            }
            let outcome = guarded(|| match hmac_sha256_verify(&tc.key, &tc.msg, &tc.tag) {
                Ok(()) if full.as_slice() == tc.tag.as_slice() => Outcome::Accepted,
                Ok(()) => {
                    Outcome::WrongOutput("verify accepted a tag hmac_sha256 does not give".into())
                }
                Err(e) if full.as_slice() == tc.tag.as_slice() => Outcome::WrongOutput(format!(
                    "verify refused the computed tag ({})",
                    e.kind().name()
                )),
                Err(e) => rejected("hmac_sha256_verify", &e),
            });
            t.record(tc.tc_id, tc.result, outcome);
        }
    }
    t.finish();
}

// --- ECDH ----------------------------------------------------------------------------------------

fn ecdh<B: Backend>(name: wycheproof::ecdh::TestName, label: &'static str) {
    use wycheproof::ecdh::{EcdhEncoding, TestSet};
    let set = TestSet::load(name).expect("the ECDH set loads");
    let mut t = Tally::new(label, B::NAME, set.number_of_tests);
    for g in &set.test_groups {
        assert_eq!(g.curve, wycheproof::EllipticCurve::Secp256r1);
        for tc in &g.tests {
            let outcome = guarded(|| {
                let peer = match g.encoding {
                    EcdhEncoding::Asn1 => PublicKey::from_spki_der(&tc.public_key),
                    EcdhEncoding::EcPoint => PublicKey::from_raw(KeyType::EcP256, &tc.public_key),
                };
                let peer = match peer {
                    Ok(p) => p,
                    Err(e) => return rejected("public key refused", &e),
                };
                let key = match PrivateKey::from_raw_secret(KeyType::EcP256, &tc.private_key) {
                    Ok(k) => k,
                    Err(e) => return rejected("private key refused", &e),
                };
                match ecdh_p256::<B>(&key, &peer) {
                    Ok(z) if z.as_slice() == tc.shared_secret.as_slice() => Outcome::Accepted,
                    Ok(z) => Outcome::WrongOutput(format!(
                        "shared secret {} differs",
                        hex::encode(z.as_slice())
                    )),
                    Err(e) => rejected("ecdh_p256", &e),
                }
            });
            t.record(tc.tc_id, tc.result, outcome);
        }
    }
    t.finish();
}

#[test]
fn ecdh_secp256r1_native() {
    ecdh::<Native>(wycheproof::ecdh::TestName::EcdhSecp256r1, "ecdh_secp256r1");
}

#[test]
fn ecdh_secp256r1_portable() {
    ecdh::<Portable>(wycheproof::ecdh::TestName::EcdhSecp256r1, "ecdh_secp256r1");
}

#[test]
fn ecdh_secp256r1_ecpoint_native() {
    ecdh::<Native>(
        wycheproof::ecdh::TestName::EcdhSecp256r1Ecpoint,
        "ecdh_secp256r1_ecpoint",
    );
}

#[test]
fn ecdh_secp256r1_ecpoint_portable() {
    ecdh::<Portable>(
        wycheproof::ecdh::TestName::EcdhSecp256r1Ecpoint,
        "ecdh_secp256r1_ecpoint",
    );
}
