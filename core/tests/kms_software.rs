//! The conformance suite against the software KMS driver (generation allowed, and predefined keys).
#![cfg(feature = "vault")]

#[path = "common/conformance.rs"]
mod conformance;

use std::sync::Arc;

use tresor::kms::KmsDriver;
use tresor::kms::software::{MasterKeySource, SoftwareKms};
use tresor::{EncryptionKeySpec, SigningKeySpec};

async fn driver(name: &str) -> (SoftwareKms, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("tresor-kms-conf-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let kms = SoftwareKms::open(
        &dir.join("kms.db"),
        MasterKeySource::Passphrase("conformance".to_string().into()),
    )
    .await
    .expect("open");
    (kms, dir)
}

#[tokio::test]
async fn software_driver_with_key_generation() {
    let (kms, dir) = driver("gen").await;
    let kms = Arc::new(kms);
    let s = conformance::run(
        kms.clone(),
        &conformance::Options {
            allow_key_generation: true,
            ..Default::default()
        },
    )
    .await;
    assert!(
        s.gaps.is_empty(),
        "the software driver has no gaps: {:?}",
        s.gaps
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn software_driver_with_predefined_keys() {
    let (kms, dir) = driver("predef").await;
    let kms = Arc::new(kms);
    let mut opts = conformance::Options::default();
    for spec in SigningKeySpec::ALL {
        opts.predefined_signing.push((
            *spec,
            kms.generate_signing_key_pair(*spec, None)
                .await
                .expect("gen"),
        ));
    }
    for spec in EncryptionKeySpec::ALL {
        opts.predefined_encryption.push((
            *spec,
            kms.generate_encryption_key_pair(*spec, None)
                .await
                .expect("gen"),
        ));
    }
    opts.predefined_symmetric = Some(kms.generate_symmetric_key(None).await.expect("gen"));
    let s = conformance::run(kms.clone(), &opts).await;
    assert!(s.passed >= 12, "{s:?}");
    let _ = std::fs::remove_dir_all(dir);
}
