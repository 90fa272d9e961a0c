//! The AWS KMS driver ([`AwsKms`]), with Canton's `AwsKms` semantics (spec/canton-compat.md §4).
//!
//! * Keys are made with `CreateKey{KeySpec, KeyUsage, Tags, Description, MultiRegion}`; the id kept is
//!   `KeyMetadata.KeyId`. Every operation also accepts a key ARN, an alias name (`alias/…`) or an alias ARN.
//! * Signing: EC-P256 → `ECC_NIST_P256`/`ECDSA_SHA_256`, EC-P384 → `ECC_NIST_P384`/`ECDSA_SHA_384`,
//!   secp256k1 → `ECC_SECG_P256K1`/`ECDSA_SHA_256`, Ed25519 → `ECC_NIST_EDWARDS25519`/`ED25519_SHA_512`
//!   (AWS added it in 2025; see [`AwsKms::with_ed25519`] and [`AwsKms::probe_ed25519`]). `Sign` is sent with
//!   `MessageType=RAW`; ECDSA signatures come back DER-encoded, Ed25519 as 64 raw bytes.
//! * Asymmetric decryption: RSA-2048 with `RSAES_OAEP_SHA_256`. AWS KMS has no EC encryption, so ECIES is
//!   not offered.
//! * Symmetric: `SYMMETRIC_DEFAULT` keys with `Encrypt`/`Decrypt`.
//! * Deletion is `ScheduleKeyDeletion{PendingWindowInDays = 7}`; [`KmsDriver::disable_key`] (a tresor
//!   extension) is `DisableKey`. Both take a key id or ARN, so aliases are resolved first (`DescribeKey`).
//!
//! Errors are classified as spec §4 describes: throttling → [`ErrorKind::KmsThrottled`]; internal errors,
//! timeouts, I/O and 5xx → [`ErrorKind::KmsUnavailable`] (both retryable); access denied →
//! [`ErrorKind::KmsPermissionDenied`] naming the IAM action; not found → [`ErrorKind::KmsKeyNotFound`];
//! disabled or invalid state → [`ErrorKind::KmsKeyDisabled`]; anything else → [`ErrorKind::KmsFailure`].
//! Messages carry the AWS error code, the service's message and the request id, never payload bytes.
//!
//! Credentials come from the AWS default provider chain (environment, profile, web identity, container
//! and instance metadata), as in Canton.
//!
//! **Idempotent key creation.** `CreateKey` has no idempotency token, so a create whose outcome is
//! unknown (the connection dropped or timed out after the request left, or the service answered 5xx)
//! may have made a key that the caller never learns about; a plain retry would then make a second one.
//! Every create therefore carries a fresh random tag [`REQUEST_ID_TAG`]` = <token>`. After an ambiguous
//! failure the driver looks for a key with that tag (`ListKeys` + `ListResourceTags`) and returns it if
//! the first request did go through. If the look-up itself cannot answer, the token is remembered with
//! the create's parameters (spec, usage, name) and the error is returned (it is retryable); the next
//! create with the same parameters — the retry layer's next attempt — takes that token over, looks again
//! first and reuses the token for its own `CreateKey`, so at most one key is made per logical create.
//! The look-up walks all keys, which is costly for large accounts, but it only runs after an ambiguous
//! failure. Throttling and 4xx answers are not ambiguous (the service refused the request). Keys whose
//! tags cannot be read are skipped, and a look-up the credentials may not make at all (no `kms:ListKeys`)
//! is given up: the create then goes ahead without it, as it would without this protection.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_kms::Client;
use aws_sdk_kms::config::{BehaviorVersion, Region};
use aws_sdk_kms::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_kms::operation::RequestId;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{
    EncryptionAlgorithmSpec as AwsEncAlgo, KeySpec, KeyState, KeyUsageType, MessageType,
    SigningAlgorithmSpec as AwsSignAlgo, Tag,
};
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind, Result};
use crate::keys::{KeyType, PublicKey};
use crate::kms::{KmsDriver, KmsHealth, KmsKeyId, KmsKeySpec, KmsPublicKey};
use crate::primitives::Verifier;
use crate::scheme::{
    EncryptionAlgorithmSpec, EncryptionKeySpec, SigningAlgorithmSpec, SigningKeySpec,
};

/// The tag every key made by this driver carries. Canton tags its keys `CreatedBy=Canton`; tresor tags
/// its own `CreatedBy=tresor`, so an operator can tell which tool made a key. It is applied after the
/// custom tags, so a custom `CreatedBy` tag cannot hide it (as in Canton).
pub const CREATED_BY_TAG: (&str, &str) = ("CreatedBy", "tresor");

/// How many days a deleted key stays pending deletion (Canton's choice, and AWS's minimum).
pub const PENDING_WINDOW_DAYS: i32 = 7;

/// The tag carrying each create's idempotency token (see the module docs).
pub const REQUEST_ID_TAG: &str = "tresor-request-id";

/// How many creates with an unknown outcome the driver remembers (the oldest is forgotten first).
const MAX_UNRESOLVED_CREATES: usize = 64;

/// A create whose outcome is not known yet: its parameters and the token its key would be tagged with.
#[derive(Debug, Clone, PartialEq, Eq)]
struct UnresolvedCreate {
    spec: KeySpec,
    usage: KeyUsageType,
    name: Option<String>,
    token: String,
}

pub use crate::kms::registry::AwsConfig;

/// The AWS KMS driver (see the module docs).
pub struct AwsKms {
    client: Client,
    config: AwsConfig,
    ed25519: bool,
    /// Creates that failed ambiguously and whose key could not be looked up yet (see the module docs).
    unresolved: std::sync::Mutex<Vec<UnresolvedCreate>>,
}

impl core::fmt::Debug for AwsKms {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AwsKms")
            .field("config", &self.config)
            .field("ed25519", &self.ed25519)
            .finish_non_exhaustive()
    }
}

/// Classify an SDK error (spec §4). `action` is the IAM action (`kms:Sign`, …).
fn classify<E>(action: &str, key: Option<&KmsKeyId>, err: SdkError<E>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = err.code().unwrap_or("").to_string();
    let msg = err.message().unwrap_or("").to_string();
    let request_id = err.request_id().map(str::to_string);
    let status = err.raw_response().map(|r| r.status().as_u16());
    let on_key = key.map(|k| format!(" on key {k}")).unwrap_or_default();
    let rid = request_id
        .map(|r| format!(" (AWS request id {r})"))
        .unwrap_or_default();
    let transport = |what: &str| {
        Error::new(
            ErrorKind::KmsUnavailable,
            format!(
                "aws {action}{on_key}: {what}: {}{rid}",
                DisplayErrorContext(&err)
            ),
        )
    };
    let kind = match &err {
        SdkError::TimeoutError(_) => return transport("timed out"),
        SdkError::DispatchFailure(_) => return transport("request not delivered"),
        SdkError::ResponseError(_) => return transport("unreadable response"),
        SdkError::ConstructionFailure(_) => {
            return Error::new(
                ErrorKind::KmsFailure,
                format!(
                    "aws {action}{on_key}: the request could not be built: {}",
                    DisplayErrorContext(&err)
                ),
            );
        }
        _ => kind_for(&code, status),
    };
    let detail = if msg.is_empty() {
        code.clone()
    } else {
        format!("{code}: {msg}")
    };
    let text = match kind {
        ErrorKind::KmsPermissionDenied => format!("{action} refused{on_key}: {detail}{rid}"),
        _ => format!("aws {action}{on_key} failed: {detail}{rid}"),
    };
    Error::new(kind, text)
}

/// Whether a failed request may still have been carried out by the service: the connection failed or
/// timed out, the response could not be read, or the service answered with a 5xx.
fn is_ambiguous<E>(err: &SdkError<E>) -> bool {
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(_) => err
            .raw_response()
            .is_some_and(|r| r.status().as_u16() >= 500),
        _ => false,
    }
}

/// A fresh idempotency token: 16 random bytes in hex.
fn new_request_token() -> Result<String> {
    let mut b = [0u8; 16];
    crate::primitives::random_bytes(&mut b)?;
    Ok(crate::util::hex(&b))
}

/// The error kind for an AWS error code and HTTP status.
fn kind_for(code: &str, status: Option<u16>) -> ErrorKind {
    match code {
        "ThrottlingException"
        | "Throttling"
        | "ThrottledException"
        | "LimitExceededException"
        | "LimitExceeded"
        | "RequestLimitExceeded"
        | "TooManyRequestsException"
        | "TooManyRequests"
        | "RequestThrottled"
        | "SlowDown" => ErrorKind::KmsThrottled,
        "KMSInternalException"
        | "InternalFailure"
        | "InternalError"
        | "ServiceUnavailable"
        | "ServiceUnavailableException"
        | "DependencyTimeoutException"
        | "KeyUnavailableException"
        | "RequestTimeout"
        | "RequestTimeoutException" => ErrorKind::KmsUnavailable,
        "AccessDeniedException"
        | "AccessDenied"
        | "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "InvalidSignatureException"
        | "IncompleteSignature"
        | "ExpiredTokenException"
        | "MissingAuthenticationToken" => ErrorKind::KmsPermissionDenied,
        "NotFoundException" => ErrorKind::KmsKeyNotFound,
        "DisabledException" | "KMSInvalidStateException" => ErrorKind::KmsKeyDisabled,
        _ => match status {
            Some(429) => ErrorKind::KmsThrottled,
            Some(s) if s >= 500 => ErrorKind::KmsUnavailable,
            _ => ErrorKind::KmsFailure,
        },
    }
}

fn unsupported(what: String) -> Error {
    Error::new(ErrorKind::UnsupportedAlgorithm, what)
}

fn bad_response(action: &str, key: &KmsKeyId, what: &str) -> Error {
    Error::new(
        ErrorKind::KmsFailure,
        format!("aws {action} on key {key}: {what}"),
    )
}

/// The AWS key spec for a signing key spec.
fn aws_signing_key_spec(spec: SigningKeySpec) -> KeySpec {
    match spec {
        SigningKeySpec::EcP256 => KeySpec::EccNistP256,
        SigningKeySpec::EcP384 => KeySpec::EccNistP384,
        SigningKeySpec::EcSecp256k1 => KeySpec::EccSecgP256K1,
        SigningKeySpec::EcCurve25519 => KeySpec::EccNistEdwards25519,
    }
}

/// The AWS signing algorithm for a Canton signing algorithm.
fn aws_signing_algo(algo: SigningAlgorithmSpec) -> AwsSignAlgo {
    match algo {
        SigningAlgorithmSpec::EcDsaSha256 => AwsSignAlgo::EcdsaSha256,
        SigningAlgorithmSpec::EcDsaSha384 => AwsSignAlgo::EcdsaSha384,
        SigningAlgorithmSpec::Ed25519 => AwsSignAlgo::Ed25519Sha512,
    }
}

/// The spec of a key from what AWS reports (key spec and usage).
fn spec_from_aws(key_spec: Option<&KeySpec>, usage: Option<&KeyUsageType>) -> Option<KmsKeySpec> {
    Some(match (usage?, key_spec?) {
        (KeyUsageType::SignVerify, KeySpec::EccNistP256) => {
            KmsKeySpec::Signing(SigningKeySpec::EcP256)
        }
        (KeyUsageType::SignVerify, KeySpec::EccNistP384) => {
            KmsKeySpec::Signing(SigningKeySpec::EcP384)
        }
        (KeyUsageType::SignVerify, KeySpec::EccSecgP256K1) => {
            KmsKeySpec::Signing(SigningKeySpec::EcSecp256k1)
        }
        (KeyUsageType::SignVerify, KeySpec::EccNistEdwards25519) => {
            KmsKeySpec::Signing(SigningKeySpec::EcCurve25519)
        }
        (KeyUsageType::EncryptDecrypt, KeySpec::Rsa2048) => {
            KmsKeySpec::Encryption(EncryptionKeySpec::Rsa2048)
        }
        (KeyUsageType::EncryptDecrypt, KeySpec::SymmetricDefault) => KmsKeySpec::Symmetric,
        _ => return None,
    })
}

/// Whether an id names an alias (`alias/…` or `arn:…:alias/…`), which some operations do not accept.
fn is_alias(id: &str) -> bool {
    id.starts_with("alias/") || (id.starts_with("arn:") && id.contains(":alias/"))
}

impl AwsKms {
    /// A driver for `config`, with credentials from the AWS default provider chain.
    ///
    /// Ed25519 is offered when talking to AWS itself (no endpoint override): AWS KMS has had
    /// `ECC_NIST_EDWARDS25519` since 2025. With an endpoint override it is off until
    /// [`AwsKms::probe_ed25519`] or [`AwsKms::with_ed25519`] turns it on, since emulators may lack it.
    pub async fn new(config: AwsConfig) -> Result<Self> {
        if config.region.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "the AWS KMS driver needs a region",
            ));
        }
        let shared = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(config.region.clone()))
            .load()
            .await;
        let mut builder = aws_sdk_kms::config::Builder::from(&shared);
        if let Some(url) = &config.endpoint_override {
            builder = builder.endpoint_url(url.clone());
        }
        // The SDK's own retries are off: tresor's retry layer (kms::retry) is the only one, so its
        // policies, the rate limiter and the audit log see every attempt.
        builder = builder.retry_config(aws_sdk_kms::config::retry::RetryConfig::disabled());
        let ed25519 = config.endpoint_override.is_none();
        Ok(Self {
            client: Client::from_conf(builder.build()),
            config,
            ed25519,
            unresolved: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// Offer Ed25519 (`ECC_NIST_EDWARDS25519`) or not.
    pub fn with_ed25519(mut self, on: bool) -> Self {
        self.ed25519 = on;
        self
    }

    /// Whether Ed25519 is offered.
    pub fn ed25519_enabled(&self) -> bool {
        self.ed25519
    }

    /// Find out whether the service can make and use Ed25519 keys: creates an `ECC_NIST_EDWARDS25519`
    /// key, signs with it, verifies the signature locally and schedules the key's deletion. Returns
    /// `Ok(false)` when the service refuses or the signature does not verify; transport failures are
    /// errors. Does not change what the driver offers (see [`AwsKms::with_ed25519`]).
    pub async fn probe_ed25519(&self) -> Result<bool> {
        let id = match self
            .create_key(
                KeySpec::EccNistEdwards25519,
                KeyUsageType::SignVerify,
                Some("tresor-ed25519-probe"),
            )
            .await
        {
            Ok(id) => id,
            Err(e) if e.is_retryable() => return Err(e),
            Err(_) => return Ok(false),
        };
        let works = async {
            let pk = self.get_public_key(&id).await?;
            let sig = self
                .sign(&id, b"tresor ed25519 probe", SigningAlgorithmSpec::Ed25519)
                .await?;
            Verifier::new(pk.key)?.verify(
                SigningAlgorithmSpec::Ed25519,
                b"tresor ed25519 probe",
                &sig,
            )
        }
        .await;
        let _ = self.delete_key(&id).await;
        match works {
            Ok(()) => Ok(true),
            Err(e) if e.is_retryable() => Err(e),
            Err(_) => Ok(false),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &AwsConfig {
        &self.config
    }

    /// The underlying SDK client, for administration the driver API does not cover (aliases, key
    /// state, tags).
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn unresolved(&self) -> std::sync::MutexGuard<'_, Vec<UnresolvedCreate>> {
        match self.unresolved.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Take over the token of an earlier create with the same parameters whose outcome is unknown.
    fn take_unresolved(
        &self,
        spec: &KeySpec,
        usage: &KeyUsageType,
        name: Option<&str>,
    ) -> Option<String> {
        let mut g = self.unresolved();
        let pos = g
            .iter()
            .position(|u| &u.spec == spec && &u.usage == usage && u.name.as_deref() == name)?;
        Some(g.remove(pos).token)
    }

    /// The key tagged [`REQUEST_ID_TAG`]` = token`, if any (walks `ListKeys`, asks `ListResourceTags`).
    async fn find_by_request_token(&self, token: &str) -> Result<Option<KmsKeyId>> {
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .client
                .list_keys()
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| classify("kms:ListKeys", None, e))?;
            for entry in page.keys() {
                let Some(id) = entry.key_id() else { continue };
                let tags = match self.client.list_resource_tags().key_id(id).send().await {
                    Ok(t) => t,
                    // A key gone meanwhile, or one whose tags the caller may not read (an AWS managed
                    // key, a key policy without kms:ListResourceTags): not the one being looked for.
                    Err(e) => {
                        let e = classify("kms:ListResourceTags", None, e);
                        if e.is_retryable() {
                            return Err(e);
                        }
                        continue;
                    }
                };
                let hit = tags
                    .tags()
                    .iter()
                    .any(|t| t.tag_key() == REQUEST_ID_TAG && t.tag_value() == token);
                if hit {
                    return KmsKeyId::new(id.to_string()).map(Some).map_err(|_| {
                        Error::new(
                            ErrorKind::KmsBoundsViolated,
                            "aws kms:ListKeys returned a key id outside Canton's bounds",
                        )
                    });
                }
            }
            match page.next_marker() {
                Some(m) if page.truncated() => marker = Some(m.to_string()),
                _ => return Ok(None),
            }
        }
    }

    async fn create_key(
        &self,
        spec: KeySpec,
        usage: KeyUsageType,
        name: Option<&str>,
    ) -> Result<KmsKeyId> {
        let remember = |token: String| {
            let mut g = self.unresolved();
            // Bounded: creates that are never retried must not make this grow without end.
            if g.len() >= MAX_UNRESOLVED_CREATES {
                g.remove(0);
            }
            g.push(UnresolvedCreate {
                spec: spec.clone(),
                usage: usage.clone(),
                name: name.map(str::to_string),
                token,
            });
        };
        // An earlier attempt of this create may have made the key: look first, and reuse its token.
        let token = match self.take_unresolved(&spec, &usage, name) {
            Some(token) => match self.find_by_request_token(&token).await {
                Ok(Some(id)) => return Ok(id),
                Ok(None) => token,
                Err(e) if e.is_retryable() => {
                    remember(token);
                    return Err(e);
                }
                // The look-up is refused (e.g. no kms:ListKeys permission): it cannot be done, so the
                // create goes ahead without it rather than failing for good.
                Err(_) => token,
            },
            None => new_request_token()?,
        };
        let mut tags: BTreeMap<&str, &str> = self
            .config
            .custom_tags
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        tags.insert(CREATED_BY_TAG.0, CREATED_BY_TAG.1);
        tags.insert(REQUEST_ID_TAG, &token);
        let mut req = self
            .client
            .create_key()
            .key_spec(spec.clone())
            .key_usage(usage.clone())
            .description(name.unwrap_or(""))
            .multi_region(self.config.multi_region_key);
        for (k, v) in tags {
            let tag = Tag::builder()
                .tag_key(k)
                .tag_value(v)
                .build()
                .map_err(|e| {
                    Error::new(ErrorKind::InvalidArgument, format!("AWS tag '{k}': {e}"))
                })?;
            req = req.tags(tag);
        }
        let out = match req.send().await {
            Ok(out) => out,
            Err(e) if is_ambiguous(&e) => {
                let err = classify("kms:CreateKey", None, e);
                return match self.find_by_request_token(&token).await {
                    Ok(Some(id)) => Ok(id),
                    // Not there (yet): a later attempt looks again before creating.
                    Ok(None) | Err(_) => {
                        remember(token);
                        Err(err)
                    }
                };
            }
            Err(e) => return Err(classify("kms:CreateKey", None, e)),
        };
        let id = out
            .key_metadata()
            .map(|m| m.key_id().to_string())
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::KmsFailure,
                    "aws kms:CreateKey returned no key id",
                )
            })?;
        KmsKeyId::new(id).map_err(|_| {
            Error::new(
                ErrorKind::KmsBoundsViolated,
                "aws kms:CreateKey returned a key id outside Canton's bounds",
            )
        })
    }

    /// The key id or ARN an alias names (`DescribeKey`); other ids as they are.
    async fn resolve_alias(&self, key_id: &KmsKeyId) -> Result<String> {
        if is_alias(key_id.as_str()) {
            Ok(self.describe(key_id).await?.key_id().to_string())
        } else {
            Ok(key_id.to_string())
        }
    }

    /// `DescribeKey`: the key's metadata.
    async fn describe(&self, key_id: &KmsKeyId) -> Result<aws_sdk_kms::types::KeyMetadata> {
        let out = self
            .client
            .describe_key()
            .key_id(key_id.as_str())
            .send()
            .await
            .map_err(|e| classify("kms:DescribeKey", Some(key_id), e))?;
        out.key_metadata
            .ok_or_else(|| bad_response("kms:DescribeKey", key_id, "no key metadata"))
    }

    /// The public key of a signing key; fails for an encryption or symmetric key.
    pub async fn get_public_signing_key(&self, key_id: &KmsKeyId) -> Result<KmsPublicKey> {
        let pk = self.get_public_key(key_id).await?;
        match pk.spec {
            KmsKeySpec::Signing(_) => Ok(pk),
            other => Err(Error::new(
                ErrorKind::KmsFailure,
                format!("aws key {key_id} is an {other} key, not a signing key"),
            )),
        }
    }

    /// The public key of an asymmetric encryption key; fails for a signing key.
    pub async fn get_public_encryption_key(&self, key_id: &KmsKeyId) -> Result<KmsPublicKey> {
        let pk = self.get_public_key(key_id).await?;
        match pk.spec {
            KmsKeySpec::Encryption(_) => Ok(pk),
            other => Err(Error::new(
                ErrorKind::KmsFailure,
                format!("aws key {key_id} is a {other} key, not an encryption key"),
            )),
        }
    }

    /// `kms:Decrypt` of `ciphertext` under `key_id` with `algo` (RSA-OAEP or the symmetric default).
    async fn kms_decrypt(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
        algo: AwsEncAlgo,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let out = self
            .client
            .decrypt()
            .key_id(key_id.as_str())
            .ciphertext_blob(Blob::new(ciphertext))
            .encryption_algorithm(algo)
            .send()
            .await
            .map_err(|e| classify("kms:Decrypt", Some(key_id), e))?;
        Ok(Zeroizing::new(
            out.plaintext
                .map(Blob::into_inner)
                .ok_or_else(|| bad_response("kms:Decrypt", key_id, "no plaintext returned"))?,
        ))
    }
}

#[async_trait]
impl KmsDriver for AwsKms {
    fn provider(&self) -> &str {
        "aws"
    }

    async fn health(&self) -> KmsHealth {
        match self.client.list_keys().limit(1).send().await {
            Ok(_) => KmsHealth::Ok,
            Err(e) => {
                let e = classify("kms:ListKeys", None, e);
                if e.is_retryable() {
                    KmsHealth::Degraded(e.to_string())
                } else {
                    KmsHealth::Failed(e.to_string())
                }
            }
        }
    }

    fn supported_signing_key_specs(&self) -> Vec<SigningKeySpec> {
        let mut v = vec![
            SigningKeySpec::EcP256,
            SigningKeySpec::EcP384,
            SigningKeySpec::EcSecp256k1,
        ];
        if self.ed25519 {
            v.push(SigningKeySpec::EcCurve25519);
        }
        v
    }

    fn supported_signing_algo_specs(&self) -> Vec<SigningAlgorithmSpec> {
        let mut v = vec![
            SigningAlgorithmSpec::EcDsaSha256,
            SigningAlgorithmSpec::EcDsaSha384,
        ];
        if self.ed25519 {
            v.push(SigningAlgorithmSpec::Ed25519);
        }
        v
    }

    fn supported_encryption_key_specs(&self) -> Vec<EncryptionKeySpec> {
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
        if spec == SigningKeySpec::EcCurve25519 && !self.ed25519 {
            return Err(unsupported(
                "the AWS KMS driver does not offer Ed25519 keys on this endpoint".to_string(),
            ));
        }
        self.create_key(aws_signing_key_spec(spec), KeyUsageType::SignVerify, name)
            .await
    }

    async fn generate_encryption_key_pair(
        &self,
        spec: EncryptionKeySpec,
        name: Option<&str>,
    ) -> Result<KmsKeyId> {
        match spec {
            EncryptionKeySpec::Rsa2048 => {
                self.create_key(KeySpec::Rsa2048, KeyUsageType::EncryptDecrypt, name)
                    .await
            }
            other => Err(unsupported(format!(
                "AWS KMS has no {other} encryption keys (no EC encryption)"
            ))),
        }
    }

    async fn generate_symmetric_key(&self, name: Option<&str>) -> Result<KmsKeyId> {
        self.create_key(
            KeySpec::SymmetricDefault,
            KeyUsageType::EncryptDecrypt,
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
        if algo == SigningAlgorithmSpec::Ed25519 && !self.ed25519 {
            return Err(unsupported(
                "the AWS KMS driver does not offer Ed25519 on this endpoint".to_string(),
            ));
        }
        let out = self
            .client
            .sign()
            .key_id(key_id.as_str())
            .message(Blob::new(data))
            .message_type(MessageType::Raw)
            .signing_algorithm(aws_signing_algo(algo))
            .send()
            .await
            .map_err(|e| classify("kms:Sign", Some(key_id), e))?;
        let sig = out
            .signature
            .map(Blob::into_inner)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad_response("kms:Sign", key_id, "no signature returned"))?;
        Ok(sig)
    }

    async fn decrypt_asymmetric(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
        algo: EncryptionAlgorithmSpec,
    ) -> Result<Zeroizing<Vec<u8>>> {
        if algo != EncryptionAlgorithmSpec::RsaOaepSha256 {
            return Err(unsupported(format!(
                "AWS KMS cannot decrypt {algo} (no EC encryption)"
            )));
        }
        self.kms_decrypt(key_id, ciphertext, AwsEncAlgo::RsaesOaepSha256)
            .await
    }

    async fn encrypt_symmetric(&self, key_id: &KmsKeyId, data: &[u8]) -> Result<Vec<u8>> {
        let out = self
            .client
            .encrypt()
            .key_id(key_id.as_str())
            .plaintext(Blob::new(data))
            .encryption_algorithm(AwsEncAlgo::SymmetricDefault)
            .send()
            .await
            .map_err(|e| classify("kms:Encrypt", Some(key_id), e))?;
        let ct = out
            .ciphertext_blob
            .map(Blob::into_inner)
            .ok_or_else(|| bad_response("kms:Encrypt", key_id, "no ciphertext returned"))?;
        Ok(ct)
    }

    async fn decrypt_symmetric(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        self.kms_decrypt(key_id, ciphertext, AwsEncAlgo::SymmetricDefault)
            .await
    }

    async fn get_public_key(&self, key_id: &KmsKeyId) -> Result<KmsPublicKey> {
        let out = self
            .client
            .get_public_key()
            .key_id(key_id.as_str())
            .send()
            .await
            .map_err(|e| classify("kms:GetPublicKey", Some(key_id), e))?;
        // Older services (and some emulators) report only the deprecated CustomerMasterKeySpec.
        #[allow(deprecated)]
        let legacy = out
            .customer_master_key_spec()
            .map(|s| KeySpec::from(s.as_str()));
        let key_spec = out.key_spec().or(legacy.as_ref());
        let spec = spec_from_aws(key_spec, out.key_usage()).ok_or_else(|| {
            bad_response(
                "kms:GetPublicKey",
                key_id,
                &format!(
                    "unsupported key (spec {:?}, usage {:?})",
                    key_spec.map(KeySpec::as_str),
                    out.key_usage().map(KeyUsageType::as_str)
                ),
            )
        })?;
        let der = out
            .public_key()
            .ok_or_else(|| bad_response("kms:GetPublicKey", key_id, "no public key returned"))?;
        let key = PublicKey::from_spki_der(der.as_ref())?;
        let expected = match spec {
            KmsKeySpec::Signing(s) => KeyType::from(s),
            KmsKeySpec::Encryption(s) => KeyType::from(s),
            KmsKeySpec::Symmetric => {
                return Err(bad_response(
                    "kms:GetPublicKey",
                    key_id,
                    "a symmetric key has no public key",
                ));
            }
        };
        if key.key_type() != expected {
            return Err(bad_response(
                "kms:GetPublicKey",
                key_id,
                &format!("the public key does not match the reported spec {spec}"),
            ));
        }
        Ok(KmsPublicKey { key, spec })
    }

    async fn key_exists_and_is_active(&self, key_id: &KmsKeyId) -> Result<()> {
        let meta = self.describe(key_id).await?;
        let state = meta.key_state();
        if meta.enabled() && matches!(state, None | Some(KeyState::Enabled)) {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::KmsKeyDisabled,
            format!(
                "aws key {key_id} is not active (state {})",
                state.map(KeyState::as_str).unwrap_or("disabled")
            ),
        ))
    }

    async fn disable_key(&self, key_id: &KmsKeyId) -> Result<()> {
        // DisableKey takes a key id or key ARN, not an alias: resolve aliases first.
        let target = self.resolve_alias(key_id).await?;
        self.client
            .disable_key()
            .key_id(target)
            .send()
            .await
            .map_err(|e| classify("kms:DisableKey", Some(key_id), e))?;
        Ok(())
    }

    async fn delete_key(&self, key_id: &KmsKeyId) -> Result<()> {
        // ScheduleKeyDeletion takes a key id or key ARN, not an alias: resolve aliases first.
        let target = self.resolve_alias(key_id).await?;
        self.client
            .schedule_key_deletion()
            .key_id(target)
            .pending_window_in_days(PENDING_WINDOW_DAYS)
            .send()
            .await
            .map_err(|e| classify("kms:ScheduleKeyDeletion", Some(key_id), e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_classified_per_spec() {
        for code in [
            "ThrottlingException",
            "LimitExceededException",
            "RequestLimitExceeded",
            "TooManyRequestsException",
        ] {
            assert_eq!(kind_for(code, Some(400)), ErrorKind::KmsThrottled, "{code}");
        }
        assert_eq!(
            kind_for("KMSInternalException", Some(500)),
            ErrorKind::KmsUnavailable
        );
        assert_eq!(
            kind_for("AccessDeniedException", Some(400)),
            ErrorKind::KmsPermissionDenied
        );
        assert_eq!(
            kind_for("NotFoundException", Some(400)),
            ErrorKind::KmsKeyNotFound
        );
        assert_eq!(
            kind_for("DisabledException", Some(400)),
            ErrorKind::KmsKeyDisabled
        );
        assert_eq!(
            kind_for("KMSInvalidStateException", Some(400)),
            ErrorKind::KmsKeyDisabled
        );
        assert_eq!(
            kind_for("ValidationException", Some(400)),
            ErrorKind::KmsFailure
        );
        assert_eq!(kind_for("Whatever", Some(503)), ErrorKind::KmsUnavailable);
        assert_eq!(kind_for("Whatever", Some(429)), ErrorKind::KmsThrottled);
        assert!(ErrorKind::KmsThrottled.is_retryable());
        assert!(ErrorKind::KmsUnavailable.is_retryable());
        assert!(!ErrorKind::KmsPermissionDenied.is_retryable());
    }

    #[test]
    fn aliases_are_recognised() {
        assert!(is_alias("alias/canton-kms-test-signing-key"));
        assert!(is_alias("arn:aws:kms:us-east-1:111122223333:alias/x"));
        assert!(!is_alias(
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        ));
        assert!(!is_alias("1234abcd-12ab-34cd-56ef-1234567890ab"));
    }
}
