//! The GCP Cloud KMS driver, with the semantics of Canton's built-in `GcpKms` (spec/canton-compat.md §4).
//!
//! Client library: the official `google-cloud-kms-v1` crate (Google's Rust SDK), not the community
//! `google-cloud-kms` crate. Reasons:
//! * it is maintained by Google with the rest of the SDK and takes application-default credentials from
//!   `google-cloud-auth`, the same chain Canton relies on;
//! * it speaks REST/JSON over `reqwest`/`hyper` with serde models, so no protobuf code generated for the
//!   KMS service is compiled (tonic and prost still come along through `google-cloud-gax-internal`, for
//!   its status types), and it shares the rustls/hyper stack with the other SDKs;
//! * it accepts an endpoint override and anonymous credentials, which is all a test server needs
//!   (tresor's GCP KMS API test server, `tests/services/gcp-kms`, serves the REST API and accepts enums
//!   as integers, as this crate sends them);
//! * the community crate (0.6) pins an older gax/auth line and an old tonic, and pulls optional
//!   Ethereum signer dependencies into its feature graph.
//!
//! Canton talks gRPC to GCP; the REST API is the same service and the same resource names, so keys
//! are interchangeable. `endpoint_override` is therefore a REST base URL (e.g. `http://127.0.0.1:54190`),
//! not a gRPC authority.
//!
//! Behaviour, as Canton's:
//! * keys are created in `projects/{p}/locations/{l}/keyRings/{r}` with a random UUID as the crypto key
//!   id and protection level HSM; the key name is dropped (GCP labels cannot hold Canton's 300-character
//!   names);
//! * asymmetric operations, metadata and deletion use version `1` of the key; symmetric encrypt/decrypt
//!   use the crypto key (its primary version);
//! * key ids are the short crypto key id or the full resource name (`projects/…/cryptoKeys/{id}`, or a
//!   `…/cryptoKeyVersions/{n}` name to pin another version);
//! * ECDSA keys are signed by digest (SHA-256 / SHA-384 computed here, sent as `digest`), which works for
//!   HSM keys and for services that only accept digests; Ed25519 keys (`EC_SIGN_ED25519`, which Canton's
//!   own GCP integration does not generate) send `data` and return the raw 64-byte signature; every
//!   public key comes back as PEM and is returned as DER SubjectPublicKeyInfo;
//! * a new key is returned only once its version is `ENABLED`: GCP generates versions asynchronously
//!   (`PENDING_GENERATION`), so a create polls the version for at most [`GENERATION_WAIT`];
//! * `ENABLED` → usable, `PENDING_GENERATION` (a state, or a `FAILED_PRECONDITION` whose
//!   `PreconditionFailure` is `KEY_PENDING_GENERATION`) → retryable [`ErrorKind::KmsUnavailable`], any
//!   other state → non-retryable [`ErrorKind::KmsKeyDisabled`]; deletion is `DestroyCryptoKeyVersion` on
//!   version 1, [`KmsDriver::disable_key`] (a tresor extension) disables the key's enabled versions;
//! * a create whose answer is lost is not repeated under a new id: the next attempt sends the same
//!   crypto key id, and `ALREADY_EXISTS` for it means the key was made, so a retried create leaves one
//!   key.
//!
//! The SDK's own retries are turned off: retries belong to tresor's retry layer, which follows Canton's
//! policy and retries exactly what [`Error::is_retryable`] says.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use google_cloud_gax::error::rpc::{Code, StatusDetails};
use google_cloud_kms_v1::client::KeyManagementService;
use google_cloud_kms_v1::model::crypto_key::CryptoKeyPurpose;
use google_cloud_kms_v1::model::crypto_key_version::{
    CryptoKeyVersionAlgorithm, CryptoKeyVersionState,
};
use google_cloud_kms_v1::model::{
    CryptoKey, CryptoKeyVersion, CryptoKeyVersionTemplate, Digest, KeyRing, ProtectionLevel, digest,
};
use sha2::Digest as _;
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind, Result};
use crate::keys::PublicKey;
use crate::kms::{KmsDriver, KmsHealth, KmsKeyId, KmsKeySpec, KmsPublicKey};
use crate::primitives::random_bytes;
use crate::scheme::{
    EncryptionAlgorithmSpec, EncryptionKeySpec, SigningAlgorithmSpec, SigningKeySpec,
};

/// The version Canton uses for every asymmetric operation.
const CANTON_VERSION: &str = "1";

/// How long a create waits for the new key's version to leave `PENDING_GENERATION`.
pub const GENERATION_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// How many creates with an unknown outcome the driver remembers (the oldest is forgotten first).
const MAX_UNRESOLVED_CREATES: usize = 64;

pub use crate::kms::registry::GcpConfig;

/// What an asymmetric key version is, learnt once from GCP (a version's algorithm never changes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VersionKind {
    Signing(SigningKeySpec),
    Encryption(EncryptionKeySpec),
    Symmetric,
    Other,
}

/// The GCP Cloud KMS driver (see the module docs).
pub struct GcpKms {
    config: GcpConfig,
    client: KeyManagementService,
    key_ring: String,
    kinds: Mutex<HashMap<String, VersionKind>>,
    /// Creates with an unknown outcome: the key's purpose and algorithm, and the id it was made with.
    unresolved: Mutex<Vec<(String, String)>>,
}

impl core::fmt::Debug for GcpKms {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GcpKms")
            .field("key_ring", &self.key_ring)
            .field("endpoint_override", &self.config.endpoint_override)
            .finish_non_exhaustive()
    }
}

/// Resource names of a key: the crypto key and the version used for asymmetric operations.
struct Names {
    key: String,
    version: String,
    /// The key id named the version (`…/cryptoKeyVersions/{n}`).
    pinned: bool,
}

fn algorithm_kind(a: &CryptoKeyVersionAlgorithm) -> VersionKind {
    match a {
        CryptoKeyVersionAlgorithm::EcSignP256Sha256 => VersionKind::Signing(SigningKeySpec::EcP256),
        CryptoKeyVersionAlgorithm::EcSignP384Sha384 => VersionKind::Signing(SigningKeySpec::EcP384),
        CryptoKeyVersionAlgorithm::EcSignSecp256K1Sha256 => {
            VersionKind::Signing(SigningKeySpec::EcSecp256k1)
        }
        CryptoKeyVersionAlgorithm::EcSignEd25519 => {
            VersionKind::Signing(SigningKeySpec::EcCurve25519)
        }
        CryptoKeyVersionAlgorithm::RsaDecryptOaep2048Sha256 => {
            VersionKind::Encryption(EncryptionKeySpec::Rsa2048)
        }
        CryptoKeyVersionAlgorithm::GoogleSymmetricEncryption => VersionKind::Symmetric,
        _ => VersionKind::Other,
    }
}

fn signing_algorithm(spec: SigningKeySpec) -> CryptoKeyVersionAlgorithm {
    match spec {
        SigningKeySpec::EcCurve25519 => CryptoKeyVersionAlgorithm::EcSignEd25519,
        SigningKeySpec::EcP256 => CryptoKeyVersionAlgorithm::EcSignP256Sha256,
        SigningKeySpec::EcP384 => CryptoKeyVersionAlgorithm::EcSignP384Sha384,
        SigningKeySpec::EcSecp256k1 => CryptoKeyVersionAlgorithm::EcSignSecp256K1Sha256,
    }
}

/// The IAM permission an operation needs (named in permission errors, as the operator docs list them).
fn permission(op: &str) -> &'static str {
    match op {
        "create key" => "cloudkms.cryptoKeys.create",
        "create key ring" => "cloudkms.keyRings.create",
        "get key ring" => "cloudkms.keyRings.get",
        "sign" => "cloudkms.cryptoKeyVersions.useToSign",
        "decrypt asymmetric" | "decrypt symmetric" => "cloudkms.cryptoKeyVersions.useToDecrypt",
        "encrypt symmetric" => "cloudkms.cryptoKeyVersions.useToEncrypt",
        "get public key" => "cloudkms.cryptoKeyVersions.viewPublicKey",
        "get key version" => "cloudkms.cryptoKeyVersions.get",
        "destroy key version" => "cloudkms.cryptoKeyVersions.destroy",
        "disable key version" => "cloudkms.cryptoKeyVersions.update",
        "list key versions" => "cloudkms.cryptoKeyVersions.list",
        _ => "cloudkms",
    }
}

/// Whether a `FAILED_PRECONDITION` says the key version is still being generated: a
/// `google.rpc.PreconditionFailure` detail with a `KEY_PENDING_GENERATION` violation, or (for answers
/// without details) the state named in the message.
fn is_pending_generation(st: &google_cloud_gax::error::rpc::Status) -> bool {
    let by_detail = st.details.iter().any(|d| match d {
        StatusDetails::PreconditionFailure(pf) => pf
            .violations
            .iter()
            .any(|v| v.r#type == "KEY_PENDING_GENERATION"),
        _ => false,
    });
    by_detail || st.message.contains("PENDING_GENERATION")
}

/// Map an SDK error to tresor's error model (spec §4). Only the service's status message is quoted;
/// request payloads never appear in it.
fn classify(op: &str, target: &str, e: google_cloud_kms_v1::Error) -> Error {
    let kind = if let Some(st) = e.status() {
        let msg = st.message.as_str();
        match st.code {
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => {
                ErrorKind::KmsUnavailable
            }
            Code::ResourceExhausted => ErrorKind::KmsThrottled,
            Code::Internal
                if msg.contains("Internal error encountered")
                    || msg.contains("http2 exception") =>
            {
                ErrorKind::KmsUnavailable
            }
            Code::PermissionDenied | Code::Unauthenticated => ErrorKind::KmsPermissionDenied,
            Code::NotFound => ErrorKind::KmsKeyNotFound,
            // A version still being generated is usable soon: retryable, not disabled.
            Code::FailedPrecondition if is_pending_generation(st) => ErrorKind::KmsUnavailable,
            Code::FailedPrecondition => ErrorKind::KmsKeyDisabled,
            _ => ErrorKind::KmsFailure,
        }
    } else if let Some(http) = e.http_status_code() {
        match http {
            429 => ErrorKind::KmsThrottled,
            401 | 403 => ErrorKind::KmsPermissionDenied,
            404 => ErrorKind::KmsKeyNotFound,
            408 | 499 | 500..=599 => ErrorKind::KmsUnavailable,
            _ => ErrorKind::KmsFailure,
        }
    } else if e.is_timeout() || e.is_connect() || e.is_io() || e.is_transport() {
        ErrorKind::KmsUnavailable
    } else if e.is_authentication() {
        ErrorKind::KmsPermissionDenied
    } else {
        ErrorKind::KmsFailure
    };
    let detail = match e.status() {
        Some(st) => format!("{}: {}", st.code.name(), st.message),
        None => e.to_string(),
    };
    let text = if kind == ErrorKind::KmsPermissionDenied {
        format!(
            "GCP KMS: {} refused ({op} on {target}): {detail}",
            permission(op)
        )
    } else {
        format!("GCP KMS: {op} on {target} failed: {detail}")
    };
    Error::new(kind, text).with_source(e)
}

fn state_error(name: &str, state: &CryptoKeyVersionState) -> Error {
    match state {
        CryptoKeyVersionState::PendingGeneration => Error::new(
            ErrorKind::KmsUnavailable,
            format!("GCP KMS key version {name} is still being generated (PENDING_GENERATION)"),
        ),
        other => Error::new(
            ErrorKind::KmsKeyDisabled,
            format!("GCP KMS key version {name} is not enabled (state {other:?})"),
        ),
    }
}

/// A random crypto key id in the UUID v4 textual form (Canton uses `UUID.randomUUID`).
fn random_key_id() -> Result<String> {
    let mut b = [0u8; 16];
    random_bytes(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = crate::util::hex(&b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

fn wrong_kind(key_id: &KmsKeyId, want: &str) -> Error {
    Error::new(
        ErrorKind::KmsFailure,
        format!("GCP KMS key {key_id} is not a {want} key"),
    )
}

impl GcpKms {
    /// Build the client. No request is sent except the key ring check: when the key ring is missing it
    /// is created (a test server starts empty; in production the ring exists and only `get` is used). A
    /// failing check does not fail construction; [`KmsDriver::health`] reports it.
    pub async fn connect(config: GcpConfig) -> Result<Self> {
        for (what, v) in [
            ("project_id", &config.project_id),
            ("location_id", &config.location_id),
            ("key_ring_id", &config.key_ring_id),
        ] {
            if v.is_empty() || v.contains('/') {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("GCP KMS config: {what} must be non-empty and contain no '/'"),
                ));
            }
        }
        let mut builder = KeyManagementService::builder()
            .with_retry_policy(google_cloud_gax::retry_policy::NeverRetry);
        if let Some(ep) = &config.endpoint_override {
            builder = builder.with_endpoint(ep.clone()).with_credentials(
                google_cloud_auth::credentials::anonymous::Builder::new().build(),
            );
        }
        let client = builder.build().await.map_err(|e| {
            Error::new(
                ErrorKind::KmsUnavailable,
                "GCP KMS: cannot build the client (credentials or endpoint)",
            )
            .with_source(e)
        })?;
        let key_ring = format!(
            "projects/{}/locations/{}/keyRings/{}",
            config.project_id, config.location_id, config.key_ring_id
        );
        let kms = Self {
            config,
            client,
            key_ring,
            kinds: Mutex::new(HashMap::new()),
            unresolved: Mutex::new(Vec::new()),
        };
        let _ = kms.ensure_key_ring().await;
        Ok(kms)
    }

    /// The configuration.
    pub fn config(&self) -> &GcpConfig {
        &self.config
    }

    /// The key ring's resource name.
    pub fn key_ring_name(&self) -> &str {
        &self.key_ring
    }

    /// Create the key ring when it does not exist.
    pub async fn ensure_key_ring(&self) -> Result<()> {
        match self
            .client
            .get_key_ring()
            .set_name(self.key_ring.clone())
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.status().map(|s| s.code) == Some(Code::NotFound) => {
                let parent = format!(
                    "projects/{}/locations/{}",
                    self.config.project_id, self.config.location_id
                );
                match self
                    .client
                    .create_key_ring()
                    .set_parent(parent)
                    .set_key_ring_id(self.config.key_ring_id.clone())
                    .set_key_ring(KeyRing::new())
                    .send()
                    .await
                {
                    Ok(_) => Ok(()),
                    Err(e) if e.status().map(|s| s.code) == Some(Code::AlreadyExists) => Ok(()),
                    Err(e) => Err(classify("create key ring", &self.key_ring, e)),
                }
            }
            Err(e) => Err(classify("get key ring", &self.key_ring, e)),
        }
    }

    /// The resource names for a key id (short id or full resource name).
    fn names(&self, key_id: &KmsKeyId) -> Result<Names> {
        let id = key_id.as_str();
        if id.starts_with("projects/") {
            let parts: Vec<&str> = id.split('/').collect();
            let ok_key = parts.len() == 8
                && parts[2] == "locations"
                && parts[4] == "keyRings"
                && parts[6] == "cryptoKeys";
            let ok_version = parts.len() == 10
                && parts[2] == "locations"
                && parts[4] == "keyRings"
                && parts[6] == "cryptoKeys"
                && parts[8] == "cryptoKeyVersions";
            if (ok_key || ok_version) && parts.iter().all(|p| !p.is_empty()) {
                let key = parts[..8].join("/");
                let version = if ok_version {
                    id.to_string()
                } else {
                    format!("{key}/cryptoKeyVersions/{CANTON_VERSION}")
                };
                return Ok(Names {
                    key,
                    version,
                    pinned: ok_version,
                });
            }
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "GCP KMS key id {key_id} is not a crypto key resource name \
                     (projects/…/locations/…/keyRings/…/cryptoKeys/…)"
                ),
            ));
        }
        if id.contains('/') {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "GCP KMS key id {key_id} is neither a crypto key id nor a full resource name"
                ),
            ));
        }
        let key = format!("{}/cryptoKeys/{id}", self.key_ring);
        let version = format!("{key}/cryptoKeyVersions/{CANTON_VERSION}");
        Ok(Names {
            key,
            version,
            pinned: false,
        })
    }

    /// What the version is, after checking it is enabled (cached only for enabled versions' algorithms).
    async fn version_kind(&self, names: &Names) -> Result<VersionKind> {
        let v = self
            .client
            .get_crypto_key_version()
            .set_name(names.version.clone())
            .send()
            .await
            .map_err(|e| classify("get key version", &names.version, e))?;
        if v.state != CryptoKeyVersionState::Enabled {
            return Err(state_error(&names.version, &v.state));
        }
        let kind = algorithm_kind(&v.algorithm);
        if let Ok(mut m) = self.kinds.lock() {
            m.insert(names.version.clone(), kind);
        }
        Ok(kind)
    }

    async fn cached_kind(&self, names: &Names) -> Result<VersionKind> {
        let cached = self
            .kinds
            .lock()
            .ok()
            .and_then(|m| m.get(&names.version).copied());
        match cached {
            Some(k) => Ok(k),
            None => self.version_kind(names).await,
        }
    }

    /// Create a key with a random id, and wait until its first version is `ENABLED`. The key name is
    /// not kept: GCP labels cannot hold Canton's 300-character names (as in Canton).
    ///
    /// A create whose outcome is unknown (the answer was lost, or a 5xx) leaves its key id remembered
    /// with the key's purpose and algorithm; the next create with the same parameters (the retry
    /// layer's next attempt) uses that id again, and `ALREADY_EXISTS` for it means the first request
    /// went through: the key is returned, not made twice (see the module docs).
    async fn create(
        &self,
        purpose: CryptoKeyPurpose,
        algorithm: CryptoKeyVersionAlgorithm,
        _name: Option<&str>,
    ) -> Result<KmsKeyId> {
        let params = format!("{purpose:?}/{algorithm:?}");
        let reused = self.take_unresolved(&params);
        let id = match &reused {
            Some(id) => id.clone(),
            None => random_key_id()?,
        };
        let key = CryptoKey::new().set_purpose(purpose).set_version_template(
            CryptoKeyVersionTemplate::new()
                .set_algorithm(algorithm)
                .set_protection_level(ProtectionLevel::Hsm),
        );
        let send = || {
            self.client
                .create_crypto_key()
                .set_parent(self.key_ring.clone())
                .set_crypto_key_id(id.clone())
                .set_crypto_key(key.clone())
                .send()
        };
        let mut outcome = send().await;
        // The key ring is missing (a test server that was restarted): create it and try once more.
        if let Err(e) = &outcome
            && e.status().map(|s| s.code) == Some(Code::NotFound)
        {
            self.ensure_key_ring().await?;
            outcome = send().await;
        }
        match outcome {
            Ok(_) => {}
            // Only a remembered id can already exist: the earlier, lost request made the key.
            Err(e)
                if reused.is_some() && e.status().map(|s| s.code) == Some(Code::AlreadyExists) => {}
            Err(e) => {
                let ambiguous = !e.is_connect();
                let err = classify("create key", &self.key_ring, e);
                if ambiguous && err.kind() == ErrorKind::KmsUnavailable {
                    self.remember_unresolved(params, id);
                }
                return Err(err);
            }
        }
        let key_id = KmsKeyId::new(id)?;
        self.wait_until_enabled(&key_id).await?;
        Ok(key_id)
    }

    fn take_unresolved(&self, params: &str) -> Option<String> {
        let mut u = self.unresolved.lock().ok()?;
        let i = u.iter().position(|(p, _)| p == params)?;
        Some(u.remove(i).1)
    }

    fn remember_unresolved(&self, params: String, id: String) {
        if let Ok(mut u) = self.unresolved.lock() {
            if u.len() >= MAX_UNRESOLVED_CREATES {
                u.remove(0);
            }
            u.push((params, id));
        }
    }

    /// Wait until version 1 of a new key is `ENABLED` (GCP makes HSM keys asynchronously: a new
    /// version is `PENDING_GENERATION` for a while, and every use of it fails until then), polling
    /// with a growing delay for at most [`GENERATION_WAIT`]. Still pending then: a non-retryable
    /// error naming the key (it exists; retrying the create would make another one).
    async fn wait_until_enabled(&self, key_id: &KmsKeyId) -> Result<()> {
        let names = self.names(key_id)?;
        let deadline = tokio::time::Instant::now() + GENERATION_WAIT;
        let mut delay = std::time::Duration::from_millis(20);
        loop {
            let state = match self
                .client
                .get_crypto_key_version()
                .set_name(names.version.clone())
                .send()
                .await
            {
                Ok(v) => Some(v.state),
                Err(e) => {
                    let err = classify("get key version", &names.version, e);
                    if !err.is_retryable() {
                        return Err(err);
                    }
                    None
                }
            };
            match state {
                Some(CryptoKeyVersionState::Enabled) => return Ok(()),
                Some(CryptoKeyVersionState::PendingGeneration) | None => {}
                Some(other) => {
                    return Err(Error::new(
                        ErrorKind::KmsFailure,
                        format!(
                            "GCP KMS key {key_id} was created but its version is {other:?}, not ENABLED"
                        ),
                    ));
                }
            }
            if tokio::time::Instant::now() + delay > deadline {
                return Err(Error::new(
                    ErrorKind::KmsFailure,
                    format!(
                        "GCP KMS key {key_id} was created but is not ENABLED after {} s \
                         (PENDING_GENERATION); use it once it is, or delete it",
                        GENERATION_WAIT.as_secs()
                    ),
                ));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(std::time::Duration::from_millis(500));
        }
    }

    /// The version names a `disable_key` applies to: the pinned version, or every `ENABLED` version of
    /// the crypto key.
    async fn enabled_versions(&self, names: &Names) -> Result<Vec<String>> {
        if names.pinned {
            return Ok(vec![names.version.clone()]);
        }
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let page = self
                .client
                .list_crypto_key_versions()
                .set_parent(names.key.clone())
                .set_page_token(token.clone())
                .send()
                .await
                .map_err(|e| classify("list key versions", &names.key, e))?;
            out.extend(
                page.crypto_key_versions
                    .iter()
                    .filter(|v| v.state == CryptoKeyVersionState::Enabled)
                    .map(|v| v.name.clone()),
            );
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token.clone();
        }
        // Nothing enabled (disabled before, or destroyed): nothing to do.
        Ok(out)
    }
}

#[async_trait]
impl KmsDriver for GcpKms {
    fn provider(&self) -> &str {
        "gcp"
    }

    async fn health(&self) -> KmsHealth {
        match self
            .client
            .get_key_ring()
            .set_name(self.key_ring.clone())
            .send()
            .await
        {
            Ok(_) => KmsHealth::Ok,
            Err(e) => {
                let err = classify("get key ring", &self.key_ring, e);
                if err.is_retryable() {
                    KmsHealth::Degraded(err.to_string())
                } else {
                    KmsHealth::Failed(err.to_string())
                }
            }
        }
    }

    fn supported_signing_key_specs(&self) -> Vec<SigningKeySpec> {
        SigningKeySpec::ALL.to_vec()
    }

    fn supported_signing_algo_specs(&self) -> Vec<SigningAlgorithmSpec> {
        SigningAlgorithmSpec::ALL.to_vec()
    }

    fn supported_encryption_key_specs(&self) -> Vec<EncryptionKeySpec> {
        // GCP has no ECIES; Canton's GcpKms offers RSA-2048 OAEP-SHA256 only.
        vec![EncryptionKeySpec::Rsa2048]
    }

    fn supported_encryption_algo_specs(&self) -> Vec<EncryptionAlgorithmSpec> {
        vec![EncryptionAlgorithmSpec::RsaOaepSha256]
    }

    async fn generate_signing_key_pair(
        &self,
        spec: SigningKeySpec,
        name: Option<&str>,
    ) -> Result<KmsKeyId> {
        self.create(
            CryptoKeyPurpose::AsymmetricSign,
            signing_algorithm(spec),
            name,
        )
        .await
    }

    async fn generate_encryption_key_pair(
        &self,
        spec: EncryptionKeySpec,
        name: Option<&str>,
    ) -> Result<KmsKeyId> {
        match spec {
            EncryptionKeySpec::Rsa2048 => {
                self.create(
                    CryptoKeyPurpose::AsymmetricDecrypt,
                    CryptoKeyVersionAlgorithm::RsaDecryptOaep2048Sha256,
                    name,
                )
                .await
            }
            other => Err(Error::new(
                ErrorKind::UnsupportedAlgorithm,
                format!("GCP KMS cannot hold {other} encryption keys (only RSA-2048)"),
            )),
        }
    }

    async fn generate_symmetric_key(&self, name: Option<&str>) -> Result<KmsKeyId> {
        self.create(
            CryptoKeyPurpose::EncryptDecrypt,
            CryptoKeyVersionAlgorithm::GoogleSymmetricEncryption,
            name,
        )
        .await
    }

    async fn sign(
        &self,
        key_id: &KmsKeyId,
        data: &[u8],
        algo: SigningAlgorithmSpec,
    ) -> Result<Vec<u8>> {
        let names = self.names(key_id)?;
        let spec = match self.cached_kind(&names).await? {
            VersionKind::Signing(s) => s,
            _ => return Err(wrong_kind(key_id, "signing")),
        };
        algo.check_key_spec(spec)?;
        let req = self
            .client
            .asymmetric_sign()
            .set_name(names.version.clone());
        let req = match spec {
            SigningKeySpec::EcCurve25519 => req.set_data(data.to_vec()),
            SigningKeySpec::EcP256 | SigningKeySpec::EcSecp256k1 => {
                let d = sha2::Sha256::digest(data).to_vec();
                req.set_digest(Digest::new().set_digest(digest::Digest::Sha256(d.into())))
            }
            SigningKeySpec::EcP384 => {
                let d = sha2::Sha384::digest(data).to_vec();
                req.set_digest(Digest::new().set_digest(digest::Digest::Sha384(d.into())))
            }
        };
        let resp = req
            .send()
            .await
            .map_err(|e| classify("sign", &names.version, e))?;
        if resp.signature.is_empty() {
            return Err(Error::new(
                ErrorKind::KmsFailure,
                format!("GCP KMS returned an empty signature for {}", names.version),
            ));
        }
        Ok(resp.signature.to_vec())
    }

    async fn decrypt_asymmetric(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
        algo: EncryptionAlgorithmSpec,
    ) -> Result<Zeroizing<Vec<u8>>> {
        if algo != EncryptionAlgorithmSpec::RsaOaepSha256 {
            return Err(Error::new(
                ErrorKind::IncompatibleKey,
                format!("GCP KMS decrypts RSA-OAEP-SHA256 only, not {algo}"),
            ));
        }
        let names = self.names(key_id)?;
        if self.cached_kind(&names).await? != VersionKind::Encryption(EncryptionKeySpec::Rsa2048) {
            return Err(wrong_kind(key_id, "RSA-2048 decryption"));
        }
        let resp = self
            .client
            .asymmetric_decrypt()
            .set_name(names.version.clone())
            .set_ciphertext(ciphertext.to_vec())
            .send()
            .await
            .map_err(|e| classify("decrypt asymmetric", &names.version, e))?;
        let pt = Zeroizing::new(resp.plaintext.to_vec());
        Ok(pt)
    }

    async fn encrypt_symmetric(&self, key_id: &KmsKeyId, data: &[u8]) -> Result<Vec<u8>> {
        let names = self.names(key_id)?;
        let resp = self
            .client
            .encrypt()
            .set_name(names.key.clone())
            .set_plaintext(data.to_vec())
            .send()
            .await
            .map_err(|e| classify("encrypt symmetric", &names.key, e))?;
        let ct = resp.ciphertext.to_vec();
        Ok(ct)
    }

    async fn decrypt_symmetric(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let names = self.names(key_id)?;
        let resp = self
            .client
            .decrypt()
            .set_name(names.key.clone())
            .set_ciphertext(ciphertext.to_vec())
            .send()
            .await
            .map_err(|e| classify("decrypt symmetric", &names.key, e))?;
        let pt = Zeroizing::new(resp.plaintext.to_vec());
        Ok(pt)
    }

    async fn get_public_key(&self, key_id: &KmsKeyId) -> Result<KmsPublicKey> {
        let names = self.names(key_id)?;
        let resp = self
            .client
            .get_public_key()
            .set_name(names.version.clone())
            .send()
            .await
            .map_err(|e| classify("get public key", &names.version, e))?;
        let spec = match algorithm_kind(&resp.algorithm) {
            VersionKind::Signing(s) => KmsKeySpec::Signing(s),
            VersionKind::Encryption(s) => KmsKeySpec::Encryption(s),
            _ => {
                return Err(Error::new(
                    ErrorKind::KmsFailure,
                    format!(
                        "GCP KMS key {key_id} has algorithm {:?}, which has no Canton key spec",
                        resp.algorithm
                    ),
                ));
            }
        };
        let key = PublicKey::from_pem(&resp.pem).map_err(|e| {
            Error::new(
                ErrorKind::KmsFailure,
                format!("GCP KMS returned a public key for {key_id} that does not parse: {e}"),
            )
        })?;
        Ok(KmsPublicKey { key, spec })
    }

    async fn key_exists_and_is_active(&self, key_id: &KmsKeyId) -> Result<()> {
        let names = self.names(key_id)?;
        self.version_kind(&names).await.map(|_| ())
    }

    async fn disable_key(&self, key_id: &KmsKeyId) -> Result<()> {
        let names = self.names(key_id)?;
        for version in self.enabled_versions(&names).await? {
            self.client
                .update_crypto_key_version()
                .set_crypto_key_version(
                    CryptoKeyVersion::new()
                        .set_name(version.clone())
                        .set_state(CryptoKeyVersionState::Disabled),
                )
                .set_update_mask(google_cloud_wkt::FieldMask::default().set_paths(["state"]))
                .send()
                .await
                .map_err(|e| classify("disable key version", &version, e))?;
            if let Ok(mut m) = self.kinds.lock() {
                m.remove(&version);
            }
        }
        Ok(())
    }

    async fn delete_key(&self, key_id: &KmsKeyId) -> Result<()> {
        let names = self.names(key_id)?;
        self.client
            .destroy_crypto_key_version()
            .set_name(names.version.clone())
            .send()
            .await
            .map_err(|e| classify("destroy key version", &names.version, e))?;
        if let Ok(mut m) = self.kinds.lock() {
            m.remove(&names.version);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_key_ids_look_like_uuids() {
        let id = random_key_id().expect("id");
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes()[14], b'4');
        assert!(
            id.chars()
                .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }

    #[test]
    fn permissions_are_named() {
        assert_eq!(permission("sign"), "cloudkms.cryptoKeyVersions.useToSign");
        assert_eq!(
            permission("encrypt symmetric"),
            "cloudkms.cryptoKeyVersions.useToEncrypt"
        );
    }
}
