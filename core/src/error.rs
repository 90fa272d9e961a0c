//! One error type for the whole SDK, with stable numeric codes.
//!
//! Every failure is an [`Error`]: a [`ErrorKind`] (whose numeric [`code`](ErrorKind::code) never changes
//! once published), an optional log-safe detail, and an optional source. The codes are what the C status
//! enum, the Java exceptions, the Python exception hierarchy and the JS `TresorError` carry.
//!
//! Crypto failures are deliberately opaque: a signature that does not verify and a ciphertext that does
//! not open each have one code and no detail, so an error never tells an attacker which check failed.
//! No secret (private key, plaintext, data key, password, credential) is ever put in a message.
//!
//! # Code table
//!
//! Codes are grouped by hundreds. Retired codes are never reused.
//!
//! | code | kind | meaning |
//! |-----:|------|---------|
//! | 100 | `InvalidArgument` | an argument is out of range or inconsistent (empty name, bad length, …) |
//! | 101 | `NullArgument` | a required argument is missing (used by the C and JNI bridges) |
//! | 102 | `InputTooLarge` | an input exceeds a documented bound (e.g. KMS sign input > 4 KiB) |
//! | 103 | `UnknownScheme` | a spec or algorithm name is not one tresor knows; the message lists the accepted ones |
//! | 104 | `InvalidKeyUsage` | a signing-key usage set is empty or invalid (e.g. only proof-of-ownership) |
//! | 105 | `BufferTooSmall` | a caller-provided output buffer is too small (C API; the needed size is reported) |
//! | 200 | `MalformedKey` | key bytes do not parse (DER, PEM, JWK, raw) or are not a valid key |
//! | 201 | `MalformedSignature` | a signature has the wrong length or is not DER |
//! | 202 | `MalformedCiphertext` | a ciphertext is too short or structurally invalid for its format |
//! | 203 | `UnsupportedAlgorithm` | the algorithm is known but not available here (backend or key type) |
//! | 204 | `KeySpecMismatch` | the key's spec does not fit the requested algorithm |
//! | 205 | `MalformedData` | some other encoded input (hex, base64, JSON, config) does not parse |
//! | 300 | `InvalidSignature` | the signature does not verify (opaque) |
//! | 301 | `DecryptionFailed` | the ciphertext does not open under this key (opaque) |
//! | 400 | `KeyNotFound` | no key with this fingerprint or id |
//! | 401 | `UsageNotAllowed` | the key's usage does not allow the requested operation |
//! | 402 | `KeyAlreadyExists` | a key with this fingerprint or name already exists |
//! | 403 | `StoreError` | the key store failed (I/O, database, schema) |
//! | 404 | `StoreCorrupted` | a stored row fails its integrity checks |
//! | 405 | `WrongMode` | the operation is not possible in the store's mode (e.g. export in external mode) |
//! | 406 | `WrongPassword` | a password-sealed export does not open with this password |
//! | 500 | `KmsUnavailable` | the KMS could not be reached or answered with a retryable failure |
//! | 501 | `KmsError` | the KMS refused the request (non-retryable) |
//! | 502 | `KmsKeyNotFound` | the KMS has no such key |
//! | 503 | `KmsKeyDisabled` | the KMS key exists but is not active |
//! | 504 | `KmsPermissionDenied` | the credentials lack a permission; the message names the operation |
//! | 505 | `KmsThrottled` | the KMS or the client-side rate limiter throttled the request |
//! | 506 | `KmsBoundsViolated` | the KMS returned a result outside Canton's bounds |
//! | 900 | `Internal` | a bug: an invariant broke or a panic was caught at a boundary |
//! | 901 | `Io` | reading or writing a file failed |
//! | 902 | `Panic` | a panic was caught at a language boundary (C, JNI, Python); the operation did not complete |

use core::fmt;

/// The kind of an [`Error`], with a stable numeric code (see the module docs for the table).
#[non_exhaustive]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    InvalidArgument = 100,
    NullArgument = 101,
    InputTooLarge = 102,
    UnknownScheme = 103,
    InvalidKeyUsage = 104,
    BufferTooSmall = 105,
    MalformedKey = 200,
    MalformedSignature = 201,
    MalformedCiphertext = 202,
    UnsupportedAlgorithm = 203,
    KeySpecMismatch = 204,
    MalformedData = 205,
    InvalidSignature = 300,
    DecryptionFailed = 301,
    KeyNotFound = 400,
    UsageNotAllowed = 401,
    KeyAlreadyExists = 402,
    StoreError = 403,
    StoreCorrupted = 404,
    WrongMode = 405,
    WrongPassword = 406,
    KmsUnavailable = 500,
    KmsError = 501,
    KmsKeyNotFound = 502,
    KmsKeyDisabled = 503,
    KmsPermissionDenied = 504,
    KmsThrottled = 505,
    KmsBoundsViolated = 506,
    Internal = 900,
    Io = 901,
    Panic = 902,
}

impl ErrorKind {
    /// Every kind, in code order.
    pub const ALL: &'static [ErrorKind] = &[
        Self::InvalidArgument,
        Self::NullArgument,
        Self::InputTooLarge,
        Self::UnknownScheme,
        Self::InvalidKeyUsage,
        Self::BufferTooSmall,
        Self::MalformedKey,
        Self::MalformedSignature,
        Self::MalformedCiphertext,
        Self::UnsupportedAlgorithm,
        Self::KeySpecMismatch,
        Self::MalformedData,
        Self::InvalidSignature,
        Self::DecryptionFailed,
        Self::KeyNotFound,
        Self::UsageNotAllowed,
        Self::KeyAlreadyExists,
        Self::StoreError,
        Self::StoreCorrupted,
        Self::WrongMode,
        Self::WrongPassword,
        Self::KmsUnavailable,
        Self::KmsError,
        Self::KmsKeyNotFound,
        Self::KmsKeyDisabled,
        Self::KmsPermissionDenied,
        Self::KmsThrottled,
        Self::KmsBoundsViolated,
        Self::Internal,
        Self::Io,
        Self::Panic,
    ];

    /// The stable numeric code.
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The kind for a numeric code, if there is one.
    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.code() == code)
    }

    /// A stable `snake_case` name, used by the bindings and in JSON output.
    pub const fn name(self) -> &'static str {
        match self {
            Self::InvalidArgument => "invalid_argument",
            Self::NullArgument => "null_argument",
            Self::InputTooLarge => "input_too_large",
            Self::UnknownScheme => "unknown_scheme",
            Self::InvalidKeyUsage => "invalid_key_usage",
            Self::BufferTooSmall => "buffer_too_small",
            Self::MalformedKey => "malformed_key",
            Self::MalformedSignature => "malformed_signature",
            Self::MalformedCiphertext => "malformed_ciphertext",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::KeySpecMismatch => "key_spec_mismatch",
            Self::MalformedData => "malformed_data",
            Self::InvalidSignature => "invalid_signature",
            Self::DecryptionFailed => "decryption_failed",
            Self::KeyNotFound => "key_not_found",
            Self::UsageNotAllowed => "usage_not_allowed",
            Self::KeyAlreadyExists => "key_already_exists",
            Self::StoreError => "store_error",
            Self::StoreCorrupted => "store_corrupted",
            Self::WrongMode => "wrong_mode",
            Self::WrongPassword => "wrong_password",
            Self::KmsUnavailable => "kms_unavailable",
            Self::KmsError => "kms_error",
            Self::KmsKeyNotFound => "kms_key_not_found",
            Self::KmsKeyDisabled => "kms_key_disabled",
            Self::KmsPermissionDenied => "kms_permission_denied",
            Self::KmsThrottled => "kms_throttled",
            Self::KmsBoundsViolated => "kms_bounds_violated",
            Self::Internal => "internal",
            Self::Io => "io",
            Self::Panic => "panic",
        }
    }

    /// What a caller sees when there is no further detail.
    const fn default_message(self) -> &'static str {
        match self {
            Self::InvalidArgument => "invalid argument",
            Self::NullArgument => "a required argument is missing",
            Self::InputTooLarge => "input too large",
            Self::UnknownScheme => "unknown scheme",
            Self::InvalidKeyUsage => "invalid key usage",
            Self::BufferTooSmall => "output buffer too small",
            Self::MalformedKey => "malformed key",
            Self::MalformedSignature => "malformed signature",
            Self::MalformedCiphertext => "malformed ciphertext",
            Self::UnsupportedAlgorithm => "unsupported algorithm",
            Self::KeySpecMismatch => "key spec does not match the algorithm",
            Self::MalformedData => "malformed data",
            Self::InvalidSignature => "invalid signature",
            Self::DecryptionFailed => "decryption failed",
            Self::KeyNotFound => "key not found",
            Self::UsageNotAllowed => "key usage does not allow this operation",
            Self::KeyAlreadyExists => "key already exists",
            Self::StoreError => "key store error",
            Self::StoreCorrupted => "key store row failed its integrity check",
            Self::WrongMode => "operation not possible in this store mode",
            Self::WrongPassword => "wrong password",
            Self::KmsUnavailable => "KMS unavailable",
            Self::KmsError => "KMS error",
            Self::KmsKeyNotFound => "KMS key not found",
            Self::KmsKeyDisabled => "KMS key is not active",
            Self::KmsPermissionDenied => "KMS permission denied",
            Self::KmsThrottled => "KMS request throttled",
            Self::KmsBoundsViolated => "KMS result outside Canton's bounds",
            Self::Internal => "internal error",
            Self::Io => "I/O error",
            Self::Panic => "a panic was caught at the language boundary",
        }
    }

    /// Whether an operation that failed with this kind may succeed when retried unchanged.
    pub const fn is_retryable(self) -> bool {
        matches!(self, Self::KmsUnavailable | Self::KmsThrottled)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error type of every fallible tresor operation.
///
/// `Display` prints the detail (or a default message for the kind); it never contains secret bytes.
pub struct Error {
    kind: ErrorKind,
    detail: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// `Result` with tresor's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

impl Error {
    /// An error of `kind` with a log-safe detail message.
    ///
    /// The message must not contain secrets; callers in this crate only pass names, lengths and specs.
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: Some(detail.into()),
            source: None,
        }
    }

    /// An error of `kind` with no further detail (what opaque crypto failures use).
    pub const fn bare(kind: ErrorKind) -> Self {
        Self {
            kind,
            detail: None,
            source: None,
        }
    }

    /// Attach a source error (for transport errors; never for crypto failures).
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The kind of this error.
    pub const fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The stable numeric code of this error's kind.
    pub const fn code(&self) -> u32 {
        self.kind.code()
    }

    /// Whether retrying the same operation may succeed.
    pub const fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }

    /// The log-safe message (the detail, or the kind's default message).
    pub fn message(&self) -> &str {
        self.detail
            .as_deref()
            .unwrap_or(self.kind.default_message())
    }

    /// The opaque "signature does not verify" error.
    pub(crate) const fn invalid_signature() -> Self {
        Self::bare(ErrorKind::InvalidSignature)
    }

    /// The opaque "ciphertext does not open" error.
    pub(crate) const fn decryption_failed() -> Self {
        Self::bare(ErrorKind::DecryptionFailed)
    }

    pub(crate) fn malformed_key(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::MalformedKey, detail)
    }

    pub(crate) fn internal(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, detail)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("code", &self.kind.code())
            .field("message", &self.message())
            .field("source", &self.source)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::new(ErrorKind::Io, "I/O error").with_source(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for k in ErrorKind::ALL {
            assert!(seen.insert(k.code()), "duplicate code {}", k.code());
            assert_eq!(ErrorKind::from_code(k.code()), Some(*k));
        }
        assert_eq!(ErrorKind::from_code(7), None);
    }

    #[test]
    fn codes_are_grouped_by_hundreds() {
        use ErrorKind::*;
        for (k, group) in [
            (InvalidArgument, 1),
            (MalformedKey, 2),
            (InvalidSignature, 3),
            (KeyNotFound, 4),
            (KmsError, 5),
            (Internal, 9),
        ] {
            assert_eq!(k.code() / 100, group);
        }
    }

    #[test]
    fn opaque_crypto_errors_have_no_detail() {
        assert_eq!(Error::invalid_signature().to_string(), "invalid signature");
        assert_eq!(Error::decryption_failed().to_string(), "decryption failed");
    }
}
