//! The PKCS#11 KMS driver: keys live in an HSM (or SoftHSM2) token, reached through a PKCS#11 module with
//! the `cryptoki` crate.
//!
//! * **Sessions.** The driver keeps a pool of logged-in read/write sessions ([`Pkcs11Config::session_pool_size`]).
//!   Each call takes a free session and runs its blocking PKCS#11 calls on `tokio::task::spawn_blocking`,
//!   so concurrent calls run in parallel instead of queueing on one session. A session that fails with a
//!   device or session error is dropped and a fresh one is opened on the next call.
//! * **Key ids.** A key is addressed by its `CKA_ID` in hex or by its `CKA_LABEL`. Generated keys get a
//!   random 16-byte `CKA_ID` (the returned id) and `CKA_LABEL` = the key name, or the id when unnamed.
//!   Key pairs are token objects; private and secret keys are `CKA_SENSITIVE` and not extractable.
//!   A P-256 private key with `CKA_SIGN` is a signing key; one without (`CKA_DERIVE`) is an ECIES key.
//! * **Signing.** ECDSA with `CKM_ECDSA` over a digest computed here (SHA-256 for P-256 and secp256k1,
//!   SHA-384 for P-384), the token's raw `r ‖ s` converted to DER; Ed25519 with `CKM_EDDSA`.
//! * **Encryption.** RSA-2048 with `CKM_RSA_PKCS_OAEP` (SHA-256, MGF1-SHA-256) when the token accepts
//!   those parameters; ECIES (`ecies-hkdf-hmac-sha-256-aes-128-cbc`) with `CKM_ECDH1_DERIVE` on the token
//!   (the shared secret is derived into a short-lived session object and read back) and the KDF, MAC
//!   and AES-CBC steps done here.
//! * **Symmetric.** AES-256 keys with `CKM_AES_GCM` (random 12-byte IV, 128-bit tag), wire `IV ‖ ct ‖ tag`.
//!
//! What the token can do is probed when the driver opens (mechanism list plus short-lived session-object
//! trials); the `supported_*` sets list only that, and [`Pkcs11Kms::gaps`] names what is missing.
//!
//! PKCS#11 login state belongs to the process, not the session: when another handle in the same process
//! is already logged in to the token, a second login is accepted by the module without checking the PIN.
//!
//! The code is split by concern: `session` (module context, token, session pool), `objects` (key lookup
//! and attributes, spec, public key), `encoding` (the DER of EC parameters, EC points and public keys,
//! with the `der` and `spki` crates), `mechanisms` (what the token can do, templates, key generation),
//! `sign`, `decrypt` (RSA-OAEP, ECIES over on-token ECDH), `symmetric` (AES-GCM) and `error` (PKCS#11
//! failures in tresor's error model).

mod decrypt;
mod encoding;
mod error;
mod mechanisms;
mod objects;
mod session;
mod sign;
mod symmetric;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use cryptoki::session::Session;
use cryptoki::types::AuthPin;
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use self::decrypt::decrypt_asym_on;
use self::error::{ck_err, kms_err, not_found};
use self::mechanisms::{
    Caps, generate_aes, generate_encryption, generate_signing, new_ck_id, probe,
};
use self::objects::{exists_on, find_key, key_spec, public_key};
use self::session::{Inner, context, find_slot};
use self::sign::sign_on;
use self::symmetric::{decrypt_sym_on, encrypt_sym_on};
use crate::error::{Error, ErrorKind, Result};
use crate::kms::{KmsDriver, KmsHealth, KmsKeyId, KmsKeySpec, KmsPublicKey};
use crate::scheme::{
    EncryptionAlgorithmSpec, EncryptionKeySpec, SigningAlgorithmSpec, SigningKeySpec,
};
use crate::util::hex;

pub use crate::kms::registry::{DEFAULT_SESSION_POOL_SIZE, PinSource, Pkcs11Config};

/// Read the user PIN from where the configuration says it is; surrounding whitespace is ignored.
fn read_pin(config: &Pkcs11Config) -> Result<AuthPin> {
    let pin = match &config.pin {
        PinSource::Env(name) => Zeroizing::new(std::env::var(name).map_err(|_| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("PKCS#11: the PIN environment variable {name} is not set"),
            )
        })?),
        PinSource::File(path) => Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("PKCS#11: cannot read the PIN file '{}'", path.display()),
            )
            .with_source(e)
        })?),
    };
    let trimmed = pin.trim();
    if trimmed.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            "PKCS#11: the PIN is empty",
        ));
    }
    Ok(AuthPin::from(trimmed.to_string()))
}

/// The PKCS#11 driver (see the module docs).
pub struct Pkcs11Kms {
    inner: Arc<Inner>,
    permits: Arc<Semaphore>,
    caps: Caps,
    pool_size: usize,
    audit: bool,
    library: String,
}

impl core::fmt::Debug for Pkcs11Kms {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pkcs11Kms")
            .field("token", &self.inner.token_label)
            .field("pool_size", &self.pool_size)
            .finish_non_exhaustive()
    }
}

impl Pkcs11Kms {
    /// Load the module, find the token by label, log in and open the session pool, then probe what the
    /// token can do. A refused PIN is [`ErrorKind::KmsPermissionDenied`].
    pub async fn open(config: Pkcs11Config) -> Result<Self> {
        let pin = read_pin(&config)?;
        let pool_size = config.session_pool_size.max(1);
        let audit = config.audit_logging;
        let (inner, caps, library) =
            tokio::task::spawn_blocking(move || -> Result<(Inner, Caps, String)> {
                let (ctx, object_lock) = context(&config.module_path)?;
                let slot = find_slot(&ctx, &config.token_label)?;
                let mechs = ctx
                    .get_mechanism_list(slot)
                    .map_err(|e| ck_err("listing mechanisms", e))?;
                let library = ctx
                    .get_library_info()
                    .map(|i| format!("{} {}", i.manufacturer_id().trim(), i.library_version()))
                    .unwrap_or_else(|_| "unknown".to_string());
                let inner = Inner {
                    ctx,
                    object_lock,
                    slot,
                    token_label: config.token_label.clone(),
                    pin,
                    sessions: Mutex::new(Vec::with_capacity(pool_size)),
                };
                let mut sessions = Vec::with_capacity(pool_size);
                for _ in 0..pool_size {
                    sessions.push(inner.open_session()?);
                }
                let caps = match sessions.first() {
                    Some(s) => inner.with_object_lock(true, || Ok(probe(s, &mechs)))?,
                    None => Caps::default(),
                };
                *inner
                    .sessions
                    .lock()
                    .map_err(|_| Error::internal("lock poisoned"))? = sessions;
                Ok((inner, caps, library))
            })
            .await
            .map_err(|_| Error::internal("the PKCS#11 open task failed"))??;
        let kms = Self {
            inner: Arc::new(inner),
            permits: Arc::new(Semaphore::new(pool_size)),
            caps,
            pool_size,
            audit,
            library,
        };
        if kms.supported_signing_key_specs().is_empty()
            || kms.supported_encryption_key_specs().is_empty()
        {
            return Err(kms_err(format!(
                "PKCS#11 token '{}' supports no signing or no encryption scheme tresor uses",
                kms.inner.token_label
            )));
        }
        Ok(kms)
    }

    /// What the token cannot do, as (scheme name, reason), found when the driver opened.
    pub fn gaps(&self) -> &[(String, String)] {
        &self.caps.gaps
    }

    /// The PKCS#11 library: its manufacturer and version as `C_GetInfo` reports them (e.g. `SoftHSM 2.6`).
    pub fn library(&self) -> &str {
        &self.library
    }

    /// The number of sessions in the pool.
    pub fn session_pool_size(&self) -> usize {
        self.pool_size
    }

    /// Run `f` on a free pooled session, on the blocking thread pool. Operations that create or destroy
    /// token objects (`generate_*`, `delete_key`) hold the module's object lock.
    async fn run<T, F>(&self, op: &'static str, key_id: Option<&KmsKeyId>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Session, &Caps) -> Result<T> + Send + 'static,
    {
        let start = Instant::now();
        let permit =
            self.permits.clone().acquire_owned().await.map_err(|_| {
                Error::new(ErrorKind::KmsUnavailable, "PKCS#11 session pool closed")
            })?;
        let inner = self.inner.clone();
        let caps = self.caps.clone();
        let exclusive = op.starts_with("generate") || op == "delete_key" || op == "disable_key";
        let r = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let s = inner.take()?;
            let r = inner.with_object_lock(exclusive, || f(&s, &caps));
            match &r {
                // A broken session is dropped (closed); the next call opens a fresh one.
                Err(e) if e.kind() == ErrorKind::KmsUnavailable => drop(s),
                _ => inner.give_back(s),
            }
            r
        })
        .await
        .unwrap_or_else(|_| Err(Error::internal("a PKCS#11 task panicked")));
        if self.audit {
            let outcome = match &r {
                Ok(_) => "ok".to_string(),
                Err(e) => format!("error {:?}", e.kind()),
            };
            eprintln!(
                "pkcs11 audit: token={} op={op} key={} outcome={outcome} duration_ms={}",
                self.inner.token_label,
                key_id.map(KmsKeyId::as_str).unwrap_or("-"),
                start.elapsed().as_millis()
            );
        }
        r
    }

    async fn generate_pair(&self, spec: KmsKeySpec, name: Option<&str>) -> Result<KmsKeyId> {
        let id = new_ck_id()?;
        let hex = hex(&id);
        let label = name.unwrap_or(&hex).as_bytes().to_vec();
        self.run("generate_key_pair", None, move |s, _| {
            match spec {
                KmsKeySpec::Signing(spec) => generate_signing(s, spec, &id, &label, true),
                KmsKeySpec::Encryption(spec) => {
                    generate_encryption(s, spec, &id, &label, true, 2048)
                }
                KmsKeySpec::Symmetric => Err(Error::internal("not a key pair")),
            }
            .map(|_| ())
        })
        .await?;
        KmsKeyId::new(hex)
    }
}

#[async_trait]
impl KmsDriver for Pkcs11Kms {
    fn provider(&self) -> &str {
        "pkcs11"
    }

    async fn health(&self) -> KmsHealth {
        let inner = self.inner.clone();
        let r = tokio::task::spawn_blocking(move || {
            inner
                .ctx
                .get_token_info(inner.slot)
                .map(|t| t.label().trim_end() == inner.token_label)
        })
        .await;
        match r {
            Ok(Ok(true)) => KmsHealth::Ok,
            Ok(Ok(false)) => KmsHealth::Failed("PKCS#11: the slot holds a different token".into()),
            Ok(Err(e)) => KmsHealth::Failed(format!("PKCS#11: token info unavailable: {e}")),
            Err(_) => KmsHealth::Failed("PKCS#11: the health task failed".into()),
        }
    }

    fn supported_signing_key_specs(&self) -> Vec<SigningKeySpec> {
        let c = &self.caps;
        [
            (c.ed25519, SigningKeySpec::EcCurve25519),
            (c.ecdsa_p256, SigningKeySpec::EcP256),
            (c.ecdsa_p384, SigningKeySpec::EcP384),
            (c.ecdsa_secp256k1, SigningKeySpec::EcSecp256k1),
        ]
        .into_iter()
        .filter_map(|(ok, s)| ok.then_some(s))
        .collect()
    }

    fn supported_signing_algo_specs(&self) -> Vec<SigningAlgorithmSpec> {
        let c = &self.caps;
        [
            (c.ed25519, SigningAlgorithmSpec::Ed25519),
            (
                c.ecdsa_p256 || c.ecdsa_secp256k1,
                SigningAlgorithmSpec::EcDsaSha256,
            ),
            (c.ecdsa_p384, SigningAlgorithmSpec::EcDsaSha384),
        ]
        .into_iter()
        .filter_map(|(ok, s)| ok.then_some(s))
        .collect()
    }

    fn supported_encryption_key_specs(&self) -> Vec<EncryptionKeySpec> {
        let c = &self.caps;
        [
            (c.ecies, EncryptionKeySpec::EcP256),
            (c.rsa_oaep_sha256, EncryptionKeySpec::Rsa2048),
        ]
        .into_iter()
        .filter_map(|(ok, s)| ok.then_some(s))
        .collect()
    }

    fn supported_encryption_algo_specs(&self) -> Vec<EncryptionAlgorithmSpec> {
        let c = &self.caps;
        [
            (
                c.ecies,
                EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Cbc,
            ),
            (c.rsa_oaep_sha256, EncryptionAlgorithmSpec::RsaOaepSha256),
        ]
        .into_iter()
        .filter_map(|(ok, s)| ok.then_some(s))
        .collect()
    }

    async fn generate_signing_key_pair(
        &self,
        spec: SigningKeySpec,
        name: Option<&str>,
    ) -> Result<KmsKeyId> {
        if !self.supported_signing_key_specs().contains(&spec) {
            return Err(kms_err(format!(
                "PKCS#11: this token cannot do {spec} signing"
            )));
        }
        self.generate_pair(KmsKeySpec::Signing(spec), name).await
    }

    async fn generate_encryption_key_pair(
        &self,
        spec: EncryptionKeySpec,
        name: Option<&str>,
    ) -> Result<KmsKeyId> {
        if !self.supported_encryption_key_specs().contains(&spec) {
            return Err(kms_err(format!(
                "PKCS#11: this token cannot do {spec} encryption"
            )));
        }
        self.generate_pair(KmsKeySpec::Encryption(spec), name).await
    }

    async fn generate_symmetric_key(&self, name: Option<&str>) -> Result<KmsKeyId> {
        if !self.caps.aes_gcm {
            return Err(kms_err("PKCS#11: this token cannot do AES-GCM"));
        }
        let id = new_ck_id()?;
        let hex = hex(&id);
        let label = name.unwrap_or(&hex).as_bytes().to_vec();
        self.run("generate_symmetric_key", None, move |s, _| {
            generate_aes(s, id, label)
        })
        .await?;
        KmsKeyId::new(hex)
    }

    async fn sign(
        &self,
        key_id: &KmsKeyId,
        data: &[u8],
        algo: SigningAlgorithmSpec,
    ) -> Result<Vec<u8>> {
        let (id, data) = (key_id.clone(), data.to_vec());
        self.run("sign", Some(key_id), move |s, _| {
            sign_on(s, &id, &data, algo)
        })
        .await
    }

    async fn decrypt_asymmetric(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
        algo: EncryptionAlgorithmSpec,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let (id, ct) = (key_id.clone(), ciphertext.to_vec());
        self.run("decrypt_asymmetric", Some(key_id), move |s, caps| {
            decrypt_asym_on(s, &id, &ct, algo, caps)
        })
        .await
    }

    async fn encrypt_symmetric(&self, key_id: &KmsKeyId, data: &[u8]) -> Result<Vec<u8>> {
        let (id, data) = (key_id.clone(), Zeroizing::new(data.to_vec()));
        self.run("encrypt_symmetric", Some(key_id), move |s, _| {
            encrypt_sym_on(s, &id, &data)
        })
        .await
    }

    async fn decrypt_symmetric(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let (id, ct) = (key_id.clone(), ciphertext.to_vec());
        self.run("decrypt_symmetric", Some(key_id), move |s, _| {
            decrypt_sym_on(s, &id, &ct)
        })
        .await
    }

    async fn get_public_key(&self, key_id: &KmsKeyId) -> Result<KmsPublicKey> {
        let id = key_id.clone();
        self.run("get_public_key", Some(key_id), move |s, _| {
            let k = find_key(s, &id)?;
            let spec = key_spec(s, &k, &id)?;
            let key = public_key(s, &k, spec, &id)?;
            Ok(KmsPublicKey { key, spec })
        })
        .await
    }

    async fn key_exists_and_is_active(&self, key_id: &KmsKeyId) -> Result<()> {
        let id = key_id.clone();
        self.run("key_exists_and_is_active", Some(key_id), move |s, _| {
            exists_on(s, &id)
        })
        .await
    }

    async fn delete_key(&self, key_id: &KmsKeyId) -> Result<()> {
        let id = key_id.clone();
        self.run("delete_key", Some(key_id), move |s, _| {
            let k = find_key(s, &id)?;
            if k.all.is_empty() {
                return Err(not_found(&id));
            }
            for h in k.all {
                s.destroy_object(h)
                    .map_err(|e| ck_err("destroying a key object", e))?;
            }
            Ok(())
        })
        .await
    }

    async fn disable_key(&self, key_id: &KmsKeyId) -> Result<()> {
        let id = key_id.clone();
        self.run("disable_key", Some(key_id), move |s, _| {
            objects::disable_on(s, &id)
        })
        .await
    }
}
