//! Key stores in the format tresor wrote before integrity records (schema version 1, format version 1
//! rows, a data key of 32 bytes), written with SQL and the software KMS as that version wrote them, so
//! the upgrade at open can be tested on them. Include it next to `common/rows.rs` (`mod rows;`).
#![allow(dead_code, unreachable_pub)]

use tresor::kms::KmsDriver;
use tresor::primitives::AesGcmKey;
use tresor::{Fingerprint, PrivateKey, Purpose};

// The including test declares `mod rows` (common/rows.rs) beside this module.
use super::rows;

/// One key to write: the key, its purpose, and for signing keys the usage list as stored.
pub struct LegacyKey<'a> {
    pub key: &'a PrivateKey,
    pub purpose: Purpose,
    pub usage: Option<&'a str>,
    pub spec: &'a str,
}

const SCHEMA_V1: &[&str] = &[
    "CREATE TABLE tresor_schema (version BIGINT NOT NULL)",
    "CREATE TABLE tresor_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE tresor_data_keys (id BIGINT PRIMARY KEY, wrapper_key_id TEXT NOT NULL, \
     wrapped_key BLOB NOT NULL, created_at BIGINT NOT NULL, active SMALLINT NOT NULL)",
    "CREATE TABLE tresor_keys (fingerprint TEXT PRIMARY KEY, name TEXT, purpose SMALLINT NOT NULL, \
     usage TEXT, key_spec TEXT NOT NULL, format_version BIGINT NOT NULL, public_key BLOB NOT NULL, \
     data BLOB, data_key_id BIGINT REFERENCES tresor_data_keys(id), kms_key_id TEXT, \
     created_at BIGINT NOT NULL)",
    "CREATE INDEX tresor_keys_data_key ON tresor_keys(data_key_id)",
    "INSERT INTO tresor_schema (version) VALUES (1)",
];

fn aad_v1(fp: &Fingerprint, purpose: Purpose, data_key_id: i64) -> Vec<u8> {
    let mut a = b"tresor-key-row-v1\0".to_vec();
    a.extend_from_slice(fp.as_bytes());
    a.push(purpose as u8);
    a.extend_from_slice(&1i64.to_be_bytes());
    a.extend_from_slice(&data_key_id.to_be_bytes());
    a
}

/// Write a version-1 envelope store at `db_url` (a new SQLite file) holding `keys`, its data key
/// wrapped under a new wrapper key of `kms`. Returns the wrapper key id.
pub async fn write_envelope_store(
    db_url: &str,
    kms: &dyn KmsDriver,
    keys: &[LegacyKey<'_>],
) -> String {
    let url = if db_url.contains('?') {
        db_url.to_string()
    } else {
        format!("{db_url}?mode=rwc")
    };
    for stmt in SCHEMA_V1 {
        rows::exec(&url, stmt, &[]).await;
    }
    let wrapper = kms
        .generate_symmetric_key(Some("tresor-wrapper-key"))
        .await
        .expect("wrapper key");
    let mut raw = [0u8; 32];
    getrandom_fill(&mut raw);
    let wrapped = kms.encrypt_symmetric(&wrapper, &raw).await.expect("wrap");
    rows::exec(
        &url,
        "INSERT INTO tresor_data_keys (id, wrapper_key_id, wrapped_key, created_at, active) \
         VALUES (1, $1, $2, 0, 1)",
        &[
            rows::Param::Text(wrapper.as_str()),
            rows::Param::Blob(&wrapped),
        ],
    )
    .await;
    let dk = AesGcmKey::new(&raw).expect("data key");
    // Many rows in one statement each is slow over separate connections: batch them.
    let mut batch = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let fp = k.key.public_key().fingerprint();
        let sealed = dk
            .encrypt(k.key.pkcs8_der(), &aad_v1(&fp, k.purpose, 1))
            .expect("seal");
        batch.push((fp, sealed, i));
    }
    rows::exec_many(
        &url,
        "INSERT INTO tresor_keys (fingerprint, name, purpose, usage, key_spec, format_version, public_key, \
         data, data_key_id, kms_key_id, created_at) VALUES ($1, $2, $3, $4, $5, 1, $6, $7, 1, NULL, $8)",
        batch
            .iter()
            .map(|(fp, sealed, i)| {
                let k = &keys[*i];
                vec![
                    rows::Owned::Text(fp.to_string()),
                    rows::Owned::Text(format!("legacy-{i}")),
                    rows::Owned::Int(k.purpose as i64),
                    match k.usage {
                        Some(u) => rows::Owned::Text(u.to_string()),
                        None => rows::Owned::Null,
                    },
                    rows::Owned::Text(k.spec.to_string()),
                    rows::Owned::Blob(k.key.public_key().spki_der().to_vec()),
                    rows::Owned::Blob(sealed.clone()),
                    rows::Owned::Int(1_000 + *i as i64),
                ]
            })
            .collect(),
    )
    .await;
    wrapper.as_str().to_string()
}

fn getrandom_fill(buf: &mut [u8]) {
    tresor::primitives::random_bytes(buf).expect("random bytes");
}
