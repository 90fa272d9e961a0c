//! KMS audit logging for any [`KmsDriver`] (Canton's `audit-logging = true`, spec/canton-compat.md §4),
//! into the hash-chained [`AuditLog`].
//!
//! Every call through [`Audited`] writes, as Canton's AWS request/response logger does:
//! * `INFO Sending request [<id>]: <Request>(…)` before the call;
//! * `INFO Received response [<id>]: [-] - <Response>(…)` after a success (`[-]` stands where AWS logs
//!   `[Aws-Id: <request id>]`; the driver trait carries no provider request id);
//! * `WARN Request [<id>] failed. Response: <error>` after a failure.
//!
//! `<id>` is a random UUID per call. Secret or bulky bytes are never logged — the layer never sees them:
//! it describes each call from its [`Request`] and [`Outcome`], with Canton's placeholders
//! ([`crate::audit::PLAINTEXT_PLACEHOLDER`] and the others) where Canton's templates show data. Only key
//! ids, specs, algorithms and error messages (which never contain secret bytes) appear. `health` and the
//! `supported_*` sets make no KMS request and are not logged.
//!
//! If the request line cannot be written the call is not made (fail closed); if only the response line
//! cannot be written, the result is still returned.

use std::sync::Arc;

use super::{Layer, Layered, Next, Outcome, Request};
use crate::audit::{
    AuditLog, CIPHERTEXT_PLACEHOLDER, METADATA_PLACEHOLDER, PLAINTEXT_PLACEHOLDER,
    PUBLIC_KEY_PLACEHOLDER, SIGN_MESSAGE_PLACEHOLDER, SIGNATURE_PLACEHOLDER,
};
use crate::error::Result;
use crate::kms::{KmsDriver, KmsKeySpec};
use crate::util::hex;

/// A random (version 4) UUID for one request.
fn request_id() -> String {
    let mut b = [0u8; 16];
    if crate::primitives::random_bytes(&mut b).is_err() {
        b = i128::from(crate::util::now_ms()).to_le_bytes();
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn scheme(spec: KmsKeySpec) -> String {
    match spec {
        KmsKeySpec::Signing(s) => format!("{s:?}"),
        KmsKeySpec::Encryption(s) => format!("{s:?}"),
        KmsKeySpec::Symmetric => "SYMMETRIC_DEFAULT".into(),
    }
}

/// The `Sending request` text of `req`, in Canton's template.
pub fn describe_request(req: &Request<'_>) -> String {
    match req {
        Request::GenerateSigningKeyPair { spec, .. } => {
            format!("CreateKeyRequest(KeyPurpose=SIGN_VERIFY, KeyScheme={spec:?})")
        }
        Request::GenerateEncryptionKeyPair { spec, .. } => {
            format!("CreateKeyRequest(KeyPurpose=ENCRYPT_DECRYPT, KeyScheme={spec:?})")
        }
        Request::GenerateSymmetricKey { .. } => {
            "CreateKeyRequest(KeyPurpose=ENCRYPT_DECRYPT, KeyScheme=SYMMETRIC_DEFAULT)".into()
        }
        Request::Sign { key_id, algo, .. } => format!(
            "SignRequest(KeyId={key_id}, Message={SIGN_MESSAGE_PLACEHOLDER}, MessageType=RAW, \
             SigningAlgorithm={algo:?})"
        ),
        Request::DecryptAsymmetric { key_id, algo, .. } => format!(
            "DecryptRequest(CiphertextBlob={CIPHERTEXT_PLACEHOLDER}, KeyId={key_id}, \
             EncryptionAlgorithm={algo:?})"
        ),
        Request::EncryptSymmetric { key_id, .. } => format!(
            "EncryptRequest(Plaintext={PLAINTEXT_PLACEHOLDER}, KeyId={key_id}, \
             EncryptionAlgorithm=SYMMETRIC_DEFAULT)"
        ),
        Request::DecryptSymmetric { key_id, .. } => format!(
            "DecryptRequest(CiphertextBlob={CIPHERTEXT_PLACEHOLDER}, KeyId={key_id}, \
             EncryptionAlgorithm=SYMMETRIC_DEFAULT)"
        ),
        Request::GetPublicKey { key_id } => format!("GetPublicKeyRequest(KeyId={key_id})"),
        Request::KeyExistsAndIsActive { key_id } => {
            format!("RetrieveMetadataRequest(KeyId={key_id})")
        }
        Request::DeleteKey { key_id } => format!("DeleteKeyRequest(KeyId={key_id})"),
        Request::DisableKey { key_id } => format!("DisableKeyRequest(KeyId={key_id})"),
    }
}

/// The `Received response` text of a successful `req` that returned `out`, in Canton's template.
pub fn describe_response<T: Outcome>(req: &Request<'_>, out: &T) -> String {
    let new_id = || {
        out.key_id()
            .map_or_else(|| "-".to_string(), ToString::to_string)
    };
    match req {
        Request::GenerateSigningKeyPair { spec, .. } => format!(
            "CreateKeyResponse(KeyId={}, KeyPurpose=SIGN_VERIFY, KeyScheme={spec:?})",
            new_id()
        ),
        Request::GenerateEncryptionKeyPair { spec, .. } => format!(
            "CreateKeyResponse(KeyId={}, KeyPurpose=ENCRYPT_DECRYPT, KeyScheme={spec:?})",
            new_id()
        ),
        Request::GenerateSymmetricKey { .. } => format!(
            "CreateKeyResponse(KeyId={}, KeyPurpose=ENCRYPT_DECRYPT, KeyScheme=SYMMETRIC_DEFAULT)",
            new_id()
        ),
        Request::Sign { key_id, algo, .. } => format!(
            "SignResponse(KeyId={key_id}, Signature={SIGNATURE_PLACEHOLDER}, SigningAlgorithm={algo:?})"
        ),
        Request::DecryptAsymmetric { key_id, algo, .. } => format!(
            "DecryptResponse(KeyId={key_id}, Plaintext={PLAINTEXT_PLACEHOLDER}, EncryptionAlgorithm={algo:?})"
        ),
        Request::EncryptSymmetric { key_id, .. } => format!(
            "EncryptResponse(CiphertextBlob={CIPHERTEXT_PLACEHOLDER}, KeyId={key_id}, \
             EncryptionAlgorithm=SYMMETRIC_DEFAULT)"
        ),
        Request::DecryptSymmetric { key_id, .. } => format!(
            "DecryptResponse(KeyId={key_id}, Plaintext={PLAINTEXT_PLACEHOLDER}, \
             EncryptionAlgorithm=SYMMETRIC_DEFAULT)"
        ),
        Request::GetPublicKey { key_id } => format!(
            "GetPublicKeyResponse(KeyId={key_id}, PublicKey={PUBLIC_KEY_PLACEHOLDER}, KeyScheme={})",
            out.key_spec().map_or_else(|| "-".to_string(), scheme)
        ),
        Request::KeyExistsAndIsActive { key_id } => format!(
            "RetrieveMetadataResponse(KeyId={key_id}, Metadata=Metadata[KeyScheme: -, State: ENABLED, \
             {METADATA_PLACEHOLDER}])"
        ),
        Request::DeleteKey { key_id } => format!("DeleteKeyResponse(KeyId={key_id})"),
        Request::DisableKey { key_id } => format!("DisableKeyResponse(KeyId={key_id})"),
    }
}

/// The audit layer's behaviour (see the module docs).
#[derive(Debug, Clone)]
pub struct AuditLayer {
    log: Arc<AuditLog>,
}

impl AuditLayer {
    /// Log to `log`.
    pub fn new(log: Arc<AuditLog>) -> Self {
        Self { log }
    }

    /// The log.
    pub fn log(&self) -> &Arc<AuditLog> {
        &self.log
    }
}

impl Layer for AuditLayer {
    async fn call<'a, T: Outcome>(&'a self, req: &'a Request<'a>, next: Next<'a, T>) -> Result<T> {
        let id = request_id();
        self.log.info(&format!(
            "Sending request [{id}]: {}",
            describe_request(req)
        ))?;
        let r = next().await;
        let _ = match &r {
            Ok(v) => self.log.info(&format!(
                "Received response [{id}]: [-] - {}",
                describe_response(req, v)
            )),
            Err(e) => self.log.warn(&format!(
                "Request [{id}] failed. Response: {} (error {} {}, retryable={})",
                e.message(),
                e.code(),
                e.kind(),
                e.is_retryable()
            )),
        };
        r
    }
}

/// The audit layer around a driver.
pub type Audited = Layered<AuditLayer>;

impl Layered<AuditLayer> {
    /// Wrap `inner`, logging to `log`.
    pub fn new(inner: Arc<dyn KmsDriver>, log: Arc<AuditLog>) -> Self {
        Self::wrap(inner, AuditLayer::new(log))
    }

    /// The log.
    pub fn log(&self) -> &Arc<AuditLog> {
        self.layer().log()
    }
}
