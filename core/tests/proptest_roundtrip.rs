//! Property tests: every encode/decode pair of the crate round-trips, on random keys and inputs.
//!
//! Keys come from random seeds and scalars (`PrivateKey::from_raw_secret`); RSA keys, slow to generate,
//! come from a small pool made once per run. Case counts are kept small so that the whole file runs in a
//! few seconds in a debug build.

use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::sample::select;
use tresor::primitives::{
    AesGcmKey, Backend, Decrypter, Encrypter, Portable, Signer, Verifier, ecdsa_der_to_raw,
    ecdsa_raw_to_der,
};
use tresor::scheme::SymmetricKeyScheme;
use tresor::{
    EncryptionAlgorithmSpec, EncryptionKeySpec, ErrorKind, Fingerprint, KeyType, PrivateKey,
    PublicKey, SignatureFormat, SigningAlgorithmSpec, SigningKeySpec, SigningKeyUsage,
    SigningKeyUsageSet,
};

/// The throw-away RSA-2048 key of the fuzz targets (public, for tests only).
const RSA_TEST_KEY_PEM: &str = include_str!("../fuzz/src/rsa2048_test_key.pem");

/// RSA keys: the fixed test key, plus two generated once per run with the native backend.
fn rsa_keys() -> &'static [PrivateKey] {
    static KEYS: OnceLock<Vec<PrivateKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let fixed = PrivateKey::from_pem(RSA_TEST_KEY_PEM).expect("RSA test key");
        // The portable generator is very slow in a debug build; only the native one is used here.
        #[cfg(feature = "native")]
        let generated: Vec<PrivateKey> = (0..2)
            .map(|_| {
                <tresor::primitives::Native as Backend>::generate(KeyType::Rsa2048)
                    .expect("RSA generation")
            })
            .collect();
        #[cfg(not(feature = "native"))]
        let generated: Vec<PrivateKey> = Vec::new();
        std::iter::once(fixed).chain(generated).collect()
    })
}

const EC_TYPES: [(KeyType, usize); 4] = [
    (KeyType::Ed25519, 32),
    (KeyType::EcP256, 32),
    (KeyType::EcP384, 48),
    (KeyType::EcSecp256k1, 32),
];

/// A random Ed25519 or EC key (random seed or scalar; the rare invalid scalar is filtered out).
fn ec_key() -> impl Strategy<Value = PrivateKey> {
    select(&EC_TYPES[..]).prop_flat_map(|(kt, len)| {
        prop::collection::vec(any::<u8>(), len).prop_filter_map("scalar out of range", move |raw| {
            PrivateKey::from_raw_secret(kt, &raw).ok()
        })
    })
}

/// A random key of `key_type` (not RSA).
fn key_of(key_type: KeyType) -> impl Strategy<Value = PrivateKey> {
    let len = if key_type == KeyType::EcP384 { 48 } else { 32 };
    prop::collection::vec(any::<u8>(), len).prop_filter_map("scalar out of range", move |raw| {
        PrivateKey::from_raw_secret(key_type, &raw).ok()
    })
}

/// Any key: EC/Ed25519 from a random scalar, or one of the RSA keys.
fn any_key() -> impl Strategy<Value = PrivateKey> {
    prop_oneof![
        4 => ec_key(),
        1 => (0..rsa_keys().len()).prop_map(|i| rsa_keys()[i].clone()),
    ]
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..=max)
}

/// The SEC1 compressed form of an uncompressed point.
fn compress(uncompressed: &[u8]) -> Vec<u8> {
    let len = (uncompressed.len() - 1) / 2;
    let mut out = vec![0x02 | (uncompressed[uncompressed.len() - 1] & 1)];
    out.extend_from_slice(&uncompressed[1..=len]);
    out
}

fn check_public_encodings(public: &PublicKey) {
    let kt = public.key_type();
    assert_eq!(
        PublicKey::from_spki_der(public.spki_der()).as_ref().ok(),
        Some(public)
    );
    assert_eq!(
        PublicKey::from_der_or_pem(public.spki_der()).as_ref().ok(),
        Some(public)
    );
    let pem = public.to_pem();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    assert_eq!(PublicKey::from_pem(&pem).as_ref().ok(), Some(public));
    assert_eq!(
        PublicKey::from_der_or_pem(pem.as_bytes()).as_ref().ok(),
        Some(public)
    );
    let raw = public.raw();
    assert_eq!(PublicKey::from_raw(kt, &raw).as_ref().ok(), Some(public));
    if matches!(kt, KeyType::EcP256 | KeyType::EcP384 | KeyType::EcSecp256k1) {
        // Compressed points are accepted and canonicalised to the same key.
        assert_eq!(
            PublicKey::from_raw(kt, &compress(&raw)).as_ref().ok(),
            Some(public)
        );
    }
    assert_eq!(
        PublicKey::from_jwk(&public.to_jwk()).as_ref().ok(),
        Some(public)
    );
    let fp = public.fingerprint();
    assert_eq!(fp.to_string().parse::<Fingerprint>().ok(), Some(fp));
    assert_eq!(fp, Fingerprint::of_key_bytes(public.fingerprint_input()));
}

fn same_private(a: &PrivateKey, b: &PrivateKey) {
    assert_eq!(a.key_type(), b.key_type());
    assert_eq!(a.pkcs8_der(), b.pkcs8_der());
    assert_eq!(a.public_key(), b.public_key());
}

fn check_private_encodings(key: &PrivateKey) {
    let again = PrivateKey::from_pkcs8_der(key.pkcs8_der()).expect("PKCS#8 DER");
    same_private(&again, key);
    let again = PrivateKey::from_der_or_pem(key.pkcs8_der()).expect("PKCS#8 DER (DER-or-PEM)");
    same_private(&again, key);
    let pem = key.to_pem().expect("PEM");
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    same_private(&PrivateKey::from_pem(&pem).expect("private PEM"), key);
    same_private(
        &PrivateKey::from_der_or_pem(pem.as_bytes()).expect("private PEM (DER-or-PEM)"),
        key,
    );
    assert!(PublicKey::from_pem(&pem).is_err());
    assert!(PrivateKey::from_pem(&key.public_key().to_pem()).is_err());
    check_public_encodings(key.public_key());
}

fn sign_verify<S: Backend, V: Backend>(key: &PrivateKey, msg: &[u8]) {
    let algo = key
        .key_type()
        .signing_spec()
        .expect("signing key")
        .default_algorithm();
    let sig = Signer::<S>::with_backend(key.clone())
        .and_then(|s| s.sign(algo, msg))
        .expect("sign");
    let verifier = Verifier::<V>::with_backend(key.public_key().clone()).expect("verifier");
    verifier.verify(algo, msg, &sig).expect("verify");
    let mut other = msg.to_vec();
    other.push(0);
    assert_eq!(
        verifier.verify(algo, &other, &sig).err().map(|e| e.kind()),
        Some(ErrorKind::InvalidSignature)
    );
    if algo.signature_format() == SignatureFormat::Der {
        let spec = key.key_type().signing_spec().expect("signing key");
        let raw = ecdsa_der_to_raw(spec, &sig).expect("signature is strict DER");
        assert_eq!(ecdsa_raw_to_der(spec, &raw).ok(), Some(sig));
    } else {
        assert_eq!(sig.len(), 64);
    }
}

fn ecies<E: Backend, D: Backend>(key: &PrivateKey, algo: EncryptionAlgorithmSpec, pt: &[u8]) {
    let ct = Encrypter::<E>::with_backend(key.public_key().clone())
        .and_then(|e| e.encrypt(algo, pt))
        .expect("encrypt");
    let decrypter = Decrypter::<D>::with_backend(key.clone()).expect("decrypter");
    let opened = decrypter.decrypt(algo, &ct).expect("decrypt");
    assert_eq!(opened.as_slice(), pt);
    // A flipped bit in the authenticated part does not open.
    let mut bad = ct.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert_eq!(
        decrypter.decrypt(algo, &bad).err().map(|e| e.kind()),
        Some(ErrorKind::DecryptionFailed)
    );
}

fn aes_gcm<E: Backend, D: Backend>(key: &[u8], pt: &[u8], aad: &[u8]) {
    let ct = AesGcmKey::<E>::with_backend(key)
        .and_then(|k| k.encrypt(pt, aad))
        .expect("encrypt");
    assert_eq!(ct.len(), pt.len() + 28);
    let k = AesGcmKey::<D>::with_backend(key).expect("key");
    assert_eq!(k.decrypt(&ct, aad).expect("decrypt").as_slice(), pt);
    let mut other_aad = aad.to_vec();
    other_aad.push(1);
    assert_eq!(
        k.decrypt(&ct, &other_aad).err().map(|e| e.kind()),
        Some(ErrorKind::DecryptionFailed)
    );
}

/// Random upper/lower case and surrounding whitespace: what `FromStr` of the scheme enums must accept.
fn case_and_space(s: &'static str) -> impl Strategy<Value = String> {
    (
        prop::collection::vec(any::<bool>(), s.len()),
        select(&["", " ", "\t", "\n "][..]),
        select(&["", " ", "\r\n"][..]),
    )
        .prop_map(move |(upper, pre, post)| {
            let body: String = s
                .chars()
                .zip(upper)
                .map(|(c, u)| {
                    if u {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect();
            format!("{pre}{body}{post}")
        })
}

macro_rules! spec_round_trip {
    ($name:ident, $t:ty) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            #[test]
            fn $name((v, text) in select(<$t>::ALL).prop_flat_map(|v| {
                (Just(v), prop_oneof![case_and_space(v.as_str()), case_and_space(v.canton_name())])
            })) {
                prop_assert_eq!(text.parse::<$t>().ok(), Some(v));
                prop_assert_eq!(v.as_str().parse::<$t>().ok(), Some(v));
                prop_assert_eq!(v.to_string(), v.as_str());
                if let Some(n) = v.proto() {
                    prop_assert_eq!(<$t>::from_proto(n).ok(), Some(v));
                }
            }
        }
    };
}

spec_round_trip!(signing_key_spec_strings, SigningKeySpec);
spec_round_trip!(signing_algorithm_strings, SigningAlgorithmSpec);
spec_round_trip!(encryption_key_spec_strings, EncryptionKeySpec);
spec_round_trip!(encryption_algorithm_strings, EncryptionAlgorithmSpec);
spec_round_trip!(signature_format_strings, SignatureFormat);
spec_round_trip!(symmetric_scheme_strings, SymmetricKeyScheme);

/// Every name `SigningKeyUsage` accepts for each usage (in `SigningKeyUsage::ALL` order).
const USAGE_NAMES: [&[&str]; 4] = [
    &["namespace"],
    &["sequencer-auth", "sequencer-authentication"],
    &["protocol", "signing"],
    &["proof-of-ownership"],
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn key_encodings_round_trip(key in any_key()) {
        check_private_encodings(&key);
    }

    #[test]
    fn raw_secret_round_trip(
        (kt, raw) in select(&EC_TYPES[..]).prop_flat_map(|(kt, len)| {
            (Just(kt), prop::collection::vec(any::<u8>(), len))
        }),
        zeros in 0usize..4,
    ) {
        if let Ok(key) = PrivateKey::from_raw_secret(kt, &raw) {
            prop_assert_eq!(key.key_type(), kt);
            check_private_encodings(&key);
            if kt != KeyType::Ed25519 {
                // Leading zero bytes are accepted for EC scalars.
                let mut padded = vec![0u8; zeros];
                padded.extend_from_slice(&raw);
                same_private(&PrivateKey::from_raw_secret(kt, &padded).expect("padded scalar"), &key);
            }
        }
    }

    #[test]
    fn sign_verify_portable(key in ec_key(), msg in bytes(200)) {
        sign_verify::<Portable, Portable>(&key, &msg);
    }

    #[test]
    fn ecies_portable(key in key_of(KeyType::EcP256), pt in bytes(300), gcm in any::<bool>()) {
        let algo = if gcm {
            EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Gcm
        } else {
            EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Cbc
        };
        ecies::<Portable, Portable>(&key, algo, &pt);
    }
}

#[cfg(feature = "native")]
mod native {
    use super::*;
    use tresor::primitives::Native;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn sign_verify_across_backends(key in ec_key(), msg in bytes(200)) {
            sign_verify::<Native, Native>(&key, &msg);
            sign_verify::<Native, Portable>(&key, &msg);
            sign_verify::<Portable, Native>(&key, &msg);
            if key.key_type() == KeyType::Ed25519 {
                // Ed25519 is deterministic: both backends produce the same signature.
                let algo = SigningAlgorithmSpec::Ed25519;
                let native = Signer::<Native>::with_backend(key.clone()).and_then(|s| s.sign(algo, &msg));
                let portable = Signer::<Portable>::with_backend(key.clone()).and_then(|s| s.sign(algo, &msg));
                prop_assert_eq!(native.expect("native signs"), portable.expect("portable signs"));
            }
        }

        #[test]
        fn ecies_across_backends(
            key in key_of(KeyType::EcP256),
            pt in bytes(300),
            gcm in any::<bool>(),
        ) {
            let algo = if gcm {
                EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Gcm
            } else {
                EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Cbc
            };
            ecies::<Native, Native>(&key, algo, &pt);
            ecies::<Native, Portable>(&key, algo, &pt);
            ecies::<Portable, Native>(&key, algo, &pt);
        }

        #[test]
        fn rsa_oaep_round_trip(i in 0usize..3, pt in bytes(190)) {
            let key = &rsa_keys()[i % rsa_keys().len()];
            let algo = EncryptionAlgorithmSpec::RsaOaepSha256;
            let decrypter = Decrypter::<Native>::with_backend(key.clone()).expect("decrypter");
            for ct in [
                Encrypter::<Native>::with_backend(key.public_key().clone()).and_then(|e| e.encrypt(algo, &pt)),
                Encrypter::<Portable>::with_backend(key.public_key().clone()).and_then(|e| e.encrypt(algo, &pt)),
            ] {
                let ct = ct.expect("encrypt");
                prop_assert_eq!(ct.len(), 256);
                let opened = decrypter.decrypt(algo, &ct).expect("decrypt");
                prop_assert_eq!(opened.as_slice(), &pt[..]);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn aes_gcm_across_backends(
            key in prop_oneof![
                prop::collection::vec(any::<u8>(), 16),
                prop::collection::vec(any::<u8>(), 32),
            ],
            pt in bytes(300),
            aad in bytes(40),
        ) {
            aes_gcm::<Native, Native>(&key, &pt, &aad);
            aes_gcm::<Native, Portable>(&key, &pt, &aad);
            aes_gcm::<Portable, Native>(&key, &pt, &aad);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn aes_gcm_portable(
        key in prop_oneof![
            prop::collection::vec(any::<u8>(), 16),
            prop::collection::vec(any::<u8>(), 32),
        ],
        pt in bytes(300),
        aad in bytes(40),
    ) {
        aes_gcm::<Portable, Portable>(&key, &pt, &aad);
    }

    #[test]
    fn aes_gcm_with_iv_is_deterministic(
        key in prop::collection::vec(any::<u8>(), 16),
        iv in any::<[u8; 12]>(),
        pt in bytes(100),
    ) {
        let k = AesGcmKey::<Portable>::with_backend(&key).expect("key");
        let ct = k.encrypt_with_iv(&iv, &pt, &[]).expect("encrypt");
        prop_assert_eq!(&ct[..12], &iv[..]);
        let opened = k.decrypt(&ct, &[]).expect("decrypt");
        prop_assert_eq!(opened.as_slice(), &pt[..]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn fingerprint_text_round_trip(digest in any::<[u8; 32]>(), content in bytes(64)) {
        let mut b = vec![0x12, 0x20];
        b.extend_from_slice(&digest);
        let fp = Fingerprint::from_bytes(&b).expect("multihash");
        let text = fp.to_string();
        prop_assert_eq!(text.len(), 68);
        prop_assert!(text.starts_with("1220"));
        prop_assert_eq!(text.parse::<Fingerprint>().ok(), Some(fp));
        prop_assert_eq!(format!(" {text}\n").parse::<Fingerprint>().ok(), Some(fp));
        if text.bytes().any(|c| c.is_ascii_alphabetic()) {
            prop_assert!(text.to_uppercase().parse::<Fingerprint>().is_err(), "upper-case hex is refused");
        }
        let other = Fingerprint::of_key_bytes(&content);
        prop_assert_eq!(other.to_string().parse::<Fingerprint>().ok(), Some(other));
        prop_assert_eq!(Fingerprint::from_bytes(other.as_bytes()).ok(), Some(other));
    }

    #[test]
    fn ecdsa_raw_der_round_trip(
        spec in select(&[SigningKeySpec::EcP256, SigningKeySpec::EcP384, SigningKeySpec::EcSecp256k1][..]),
        r in any::<[u8; 48]>(),
        s in any::<[u8; 48]>(),
        r_zeros in 0usize..40,
        s_zeros in 0usize..40,
    ) {
        let n = if spec == SigningKeySpec::EcP384 { 48 } else { 32 };
        // Leading zero bytes make short integers, exercising the minimal-encoding rules.
        let mut raw = Vec::with_capacity(2 * n);
        for (v, zeros) in [(&r[..n], r_zeros.min(n)), (&s[..n], s_zeros.min(n))] {
            raw.extend(std::iter::repeat_n(0u8, zeros));
            raw.extend_from_slice(&v[zeros..]);
        }
        let zero = |v: &[u8]| v.iter().all(|b| *b == 0);
        match ecdsa_raw_to_der(spec, &raw) {
            Ok(der) => {
                prop_assert!(!zero(&raw[..n]) && !zero(&raw[n..]));
                prop_assert_eq!(ecdsa_der_to_raw(spec, &der).ok(), Some(raw.clone()));
                // The DER is what RustCrypto writes for the same (in-range) signature.
                let reference = match spec {
                    SigningKeySpec::EcP256 => p256::ecdsa::Signature::from_slice(&raw)
                        .ok()
                        .map(|s| s.to_der().as_bytes().to_vec()),
                    SigningKeySpec::EcP384 => p384::ecdsa::Signature::from_slice(&raw)
                        .ok()
                        .map(|s| s.to_der().as_bytes().to_vec()),
                    _ => k256::ecdsa::Signature::from_slice(&raw)
                        .ok()
                        .map(|s| s.to_der().as_bytes().to_vec()),
                };
                if let Some(reference) = reference {
                    prop_assert_eq!(reference, der);
                }
            }
            Err(e) => {
                prop_assert_eq!(e.kind(), ErrorKind::MalformedSignature);
                prop_assert!(zero(&raw[..n]) || zero(&raw[n..]));
            }
        }
        // A wrong length is refused.
        prop_assert!(ecdsa_raw_to_der(spec, &raw[1..]).is_err());
    }

    #[test]
    fn usage_set_display_parse(
        mask in 0u8..16,
        aliases in any::<[prop::sample::Index; 4]>(),
        order in any::<prop::sample::Index>(),
        upper in any::<bool>(),
        dup in any::<bool>(),
    ) {
        let usages: Vec<SigningKeyUsage> = SigningKeyUsage::ALL
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, u)| *u)
            .collect();
        let poo = SigningKeyUsage::ProofOfOwnership;
        let ns = SigningKeyUsage::Namespace;
        let valid = !(usages.is_empty() || usages == [poo] || usages == [ns, poo]);
        let set = SigningKeyUsageSet::new(&usages);
        prop_assert_eq!(set.is_ok(), valid);
        // The same set written with aliases, in another order, maybe upper-case, maybe with a duplicate.
        let mut names: Vec<String> = SigningKeyUsage::ALL
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(i, _)| {
                let name = aliases[i].get(USAGE_NAMES[i]);
                if upper { name.to_uppercase() } else { (*name).to_owned() }
            })
            .collect();
        if !names.is_empty() {
            let k = order.index(names.len());
            names.rotate_left(k);
            if dup {
                names.push(names[0].clone());
            }
        }
        let list = names.join(" , ");
        match &set {
            Ok(set) => {
                prop_assert_eq!(SigningKeyUsageSet::parse_list(&list).ok(), Some(*set));
                prop_assert_eq!(SigningKeyUsageSet::parse_list(&set.to_string()).ok(), Some(*set));
                prop_assert_eq!(set.to_string().parse::<SigningKeyUsageSet>().ok(), Some(*set));
                prop_assert_eq!(SigningKeyUsageSet::from_db_types(&set.db_types()).ok(), Some(*set));
                prop_assert_eq!(set.iter().collect::<Vec<_>>(), usages);
                for u in set.iter() {
                    prop_assert_eq!(u.as_str().parse::<SigningKeyUsage>().ok(), Some(u));
                    prop_assert_eq!(SigningKeyUsage::from_db_type(u.db_type()), Some(u));
                }
            }
            Err(e) => {
                prop_assert_eq!(e.kind(), ErrorKind::InvalidKeyUsage);
                prop_assert_eq!(
                    SigningKeyUsageSet::parse_list(&list).err().map(|e| e.kind()),
                    Some(ErrorKind::InvalidKeyUsage)
                );
            }
        }
    }
}
