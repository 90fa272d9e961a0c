//! One error type for the whole SDK, with stable numeric codes.
//!
//! Every failure is an [`Error`]: an [`ErrorKind`] (whose numeric [`code`](ErrorKind::code) never changes
//! once published), an optional log-safe detail, and an optional source. The codes are what the C status
//! enum, the Java exceptions, the Python exception hierarchy and the JS `TresorError` carry.
//!
//! The table of kinds exists once, in the `error_table!` invocation below: it generates [`ErrorKind`] with
//! its codes, names, default messages, [families](ErrorFamily) and retryability, and the class names the
//! bindings use. `tools/codegen` turns the same table into the C status enum, the Java, Python and
//! TypeScript tables and the README's error table, and CI fails when a generated file drifts.
//!
//! Codes are grouped by hundreds ([`ErrorFamily`]): 1xx arguments, 2xx malformed or unsupported input,
//! 3xx verification and decryption failures, 4xx keys, the store and files, 5xx the KMS, 9xx bugs.
//! Retired codes are listed in [`RETIRED_CODES`] and never reused.
//!
//! Crypto failures are deliberately opaque: a signature that does not verify and a ciphertext that does
//! not open each have one code and no detail, so an error never tells an attacker which check failed.
//! No secret (private key, plaintext, data key, password, credential) is ever put in a message.

use core::fmt;

/// The family of an [`ErrorKind`]: its hundreds digit. Each binding has one class per family (Java
/// `TresorException` subclasses, Python base classes) between the base class and the kind's own class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorFamily {
    /// 1xx: an argument is missing, out of range or inconsistent.
    Argument,
    /// 2xx: an input (key, signature, ciphertext, config, file) is malformed or not supported.
    Input,
    /// 3xx: a signature does not verify, a ciphertext or a password-sealed file does not open.
    Crypto,
    /// 4xx: keys, the key store and files.
    Store,
    /// 5xx: the KMS.
    Kms,
    /// 9xx: a bug in tresor.
    Internal,
}

impl ErrorFamily {
    /// Every family, in code order.
    pub const ALL: &'static [ErrorFamily] = &[
        Self::Argument,
        Self::Input,
        Self::Crypto,
        Self::Store,
        Self::Kms,
        Self::Internal,
    ];

    /// The hundreds digit of the family's codes.
    pub const fn hundreds(self) -> u32 {
        match self {
            Self::Argument => 1,
            Self::Input => 2,
            Self::Crypto => 3,
            Self::Store => 4,
            Self::Kms => 5,
            Self::Internal => 9,
        }
    }

    /// A stable `snake_case` name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Argument => "argument",
            Self::Input => "input",
            Self::Crypto => "crypto",
            Self::Store => "store",
            Self::Kms => "kms",
            Self::Internal => "internal",
        }
    }

    /// The family's class in the bindings (Java: `<class>Exception`; Python: `<class>Error`). The 9xx
    /// family is `Unexpected` (its kinds are `InternalError` and `PanicError`).
    pub const fn class(self) -> &'static str {
        match self {
            Self::Argument => "Argument",
            Self::Input => "Input",
            Self::Crypto => "Crypto",
            Self::Store => "Store",
            Self::Kms => "Kms",
            Self::Internal => "Unexpected",
        }
    }

    /// What the family covers (one line, for generated documentation).
    pub const fn description(self) -> &'static str {
        match self {
            Self::Argument => "an argument is missing, out of range or inconsistent",
            Self::Input => "an input is malformed or not supported",
            Self::Crypto => {
                "a signature does not verify, or a ciphertext or sealed file does not open"
            }
            Self::Store => "keys, the key store and files",
            Self::Kms => "the KMS",
            Self::Internal => "a bug in tresor",
        }
    }
}

/// Codes that were published once and are retired: never reused for another kind.
pub const RETIRED_CODES: &[(u32, &str)] =
    &[(406, "wrong_password (now 302)"), (901, "io (now 407)")];

/// Declares [`ErrorKind`] and everything derived from the table (see the module docs).
macro_rules! error_table {
    ($(
        $(#[doc = $doc:literal])+
        $variant:ident = $code:literal, $name:literal, $family:ident, retryable = $retryable:literal,
            class = $class:literal, message = $message:literal;
    )+) => {
        /// The kind of an [`Error`], with a stable numeric code (the table is in the README and in
        /// `core/src/error.rs`).
        #[non_exhaustive]
        #[repr(u32)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorKind {
            $( $(#[doc = $doc])+ $variant = $code, )+
        }

        impl ErrorKind {
            /// Every kind, in code order.
            pub const ALL: &'static [ErrorKind] = &[ $( Self::$variant, )+ ];

            /// The stable `snake_case` name, used by the bindings (the JS `kind`, Java `kind()`, Python
            /// `kind`) and in JSON output.
            pub const fn name(self) -> &'static str {
                match self { $( Self::$variant => $name, )+ }
            }

            /// The family (hundreds digit) of the code.
            pub const fn family(self) -> ErrorFamily {
                match self { $( Self::$variant => ErrorFamily::$family, )+ }
            }

            /// Whether an operation that failed with this kind may succeed when retried unchanged.
            pub const fn is_retryable(self) -> bool {
                match self { $( Self::$variant => $retryable, )+ }
            }

            /// The kind's exception class in the bindings: Python uses it as is (outcome exceptions
            /// are named like pyca's: `InvalidSignature`, `DecryptionFailed`), Java appends
            /// `Exception`.
            pub const fn class(self) -> &'static str {
                match self { $( Self::$variant => $class, )+ }
            }

            /// What a caller sees when there is no further detail.
            pub const fn default_message(self) -> &'static str {
                match self { $( Self::$variant => $message, )+ }
            }

            /// The documentation of the kind (the text of its doc comment), for generated tables.
            pub fn description(self) -> String {
                let lines: &[&str] = match self { $( Self::$variant => &[$($doc),+], )+ };
                lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ")
            }
        }
    };
}

error_table! {
    /// An argument is out of range or inconsistent (empty name, bad length, …).
    InvalidArgument = 100, "invalid_argument", Argument, retryable = false,
        class = "InvalidArgument", message = "invalid argument";
    /// A required argument is missing (a NULL pointer in C, `null` in Java).
    NullArgument = 101, "null_argument", Argument, retryable = false,
        class = "NullArgument", message = "a required argument is missing";
    /// An input exceeds a documented bound (e.g. a KMS sign input over 4 KiB).
    InputTooLarge = 102, "input_too_large", Argument, retryable = false,
        class = "InputTooLarge", message = "input too large";
    /// A spec or algorithm name is not one tresor knows; the message lists the accepted ones.
    UnknownScheme = 103, "unknown_scheme", Argument, retryable = false,
        class = "UnknownScheme", message = "unknown scheme";
    /// A signing-key usage set is empty or invalid (e.g. only proof-of-ownership).
    InvalidKeyUsage = 104, "invalid_key_usage", Argument, retryable = false,
        class = "InvalidKeyUsage", message = "invalid key usage";
    /// A caller-provided output buffer is too small (C API; the needed size is reported).
    BufferTooSmall = 105, "buffer_too_small", Argument, retryable = false,
        class = "BufferTooSmall", message = "output buffer too small";
    /// Key bytes do not parse (DER, PEM, JWK, raw) or are not a valid key.
    MalformedKey = 200, "malformed_key", Input, retryable = false,
        class = "MalformedKey", message = "malformed key";
    /// A signature has the wrong length or is not DER.
    MalformedSignature = 201, "malformed_signature", Input, retryable = false,
        class = "MalformedSignature", message = "malformed signature";
    /// A ciphertext is too short or structurally invalid for its format.
    MalformedCiphertext = 202, "malformed_ciphertext", Input, retryable = false,
        class = "MalformedCiphertext", message = "malformed ciphertext";
    /// The algorithm is known but not available here (this backend or build).
    UnsupportedAlgorithm = 203, "unsupported_algorithm", Input, retryable = false,
        class = "UnsupportedAlgorithm", message = "unsupported algorithm";
    /// The key cannot do this: its purpose, type or spec does not fit the operation or algorithm
    /// (signing with an encryption key, ECDSA-SHA384 with a P-256 key, …).
    IncompatibleKey = 204, "incompatible_key", Input, retryable = false,
        class = "IncompatibleKey", message = "the key cannot be used for this operation";
    /// Some other encoded input (configuration, export file, hex, base64, JSON) does not parse.
    MalformedData = 205, "malformed_data", Input, retryable = false,
        class = "MalformedData", message = "malformed data";
    /// The signature does not verify (opaque).
    InvalidSignature = 300, "invalid_signature", Crypto, retryable = false,
        class = "InvalidSignature", message = "invalid signature";
    /// The ciphertext does not open under this key (opaque).
    DecryptionFailed = 301, "decryption_failed", Crypto, retryable = false,
        class = "DecryptionFailed", message = "decryption failed";
    /// A password or master key does not open what it should: a password-sealed export, or a software
    /// KMS passphrase or key file.
    WrongPassword = 302, "wrong_password", Crypto, retryable = false,
        class = "WrongPassword", message = "wrong password";
    /// No key with this fingerprint in the store.
    KeyNotFound = 400, "key_not_found", Store, retryable = false,
        class = "KeyNotFound", message = "key not found";
    /// The key's usage does not allow the requested operation (Canton's signing-key usages).
    UsageNotAllowed = 401, "usage_not_allowed", Store, retryable = false,
        class = "UsageNotAllowed", message = "key usage does not allow this operation";
    /// A key with this fingerprint already exists.
    KeyAlreadyExists = 402, "key_already_exists", Store, retryable = false,
        class = "KeyAlreadyExists", message = "key already exists";
    /// The key store failed (database, schema, connection).
    StoreFailure = 403, "store_failure", Store, retryable = false,
        class = "StoreFailure", message = "key store failure";
    /// A stored row fails its integrity checks.
    StoreCorrupted = 404, "store_corrupted", Store, retryable = false,
        class = "StoreCorrupted", message = "key store row failed its integrity check";
    /// The operation is not possible in the store's mode (e.g. export in external mode).
    WrongMode = 405, "wrong_mode", Store, retryable = false,
        class = "WrongMode", message = "operation not possible in this store mode";
    /// Reading or writing a file failed.
    Io = 407, "io", Store, retryable = false,
        class = "IoFailure", message = "I/O error";
    /// The KMS could not be reached or answered with a transient failure.
    KmsUnavailable = 500, "kms_unavailable", Kms, retryable = true,
        class = "KmsUnavailable", message = "KMS unavailable";
    /// The KMS refused or failed the request (not retryable).
    KmsFailure = 501, "kms_failure", Kms, retryable = false,
        class = "KmsFailure", message = "KMS failure";
    /// The KMS has no such key.
    KmsKeyNotFound = 502, "kms_key_not_found", Kms, retryable = false,
        class = "KmsKeyNotFound", message = "KMS key not found";
    /// The KMS key exists but is not active (disabled, pending deletion, destroyed).
    KmsKeyDisabled = 503, "kms_key_disabled", Kms, retryable = false,
        class = "KmsKeyDisabled", message = "KMS key is not active";
    /// The credentials lack a permission; the message names the operation.
    KmsPermissionDenied = 504, "kms_permission_denied", Kms, retryable = false,
        class = "KmsPermissionDenied", message = "KMS permission denied";
    /// The KMS or the client-side rate limiter throttled the request.
    KmsThrottled = 505, "kms_throttled", Kms, retryable = true,
        class = "KmsThrottled", message = "KMS request throttled";
    /// The KMS returned a result outside Canton's bounds.
    KmsBoundsViolated = 506, "kms_bounds_violated", Kms, retryable = false,
        class = "KmsBoundsViolated", message = "KMS result outside Canton's bounds";
    /// A bug: an invariant broke.
    Internal = 900, "internal", Internal, retryable = false,
        class = "InternalError", message = "internal error";
    /// A panic was caught at a language boundary (C, JNI, Python); the operation did not complete.
    Panic = 902, "panic", Internal, retryable = false,
        class = "PanicError", message = "a panic was caught at the language boundary";
}

impl ErrorKind {
    /// The stable numeric code.
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The kind for a numeric code, if there is one.
    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.code() == code)
    }

    /// The kind for a `snake_case` name, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.name() == name)
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

    /// "This key cannot do that": the one error for a key whose purpose, type or spec does not fit the
    /// operation or algorithm, on every path.
    pub(crate) fn incompatible_key(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::IncompatibleKey, detail)
    }

    /// The same error with `what` (a log-safe description of what was being done) put in front of the
    /// message; the kind and the source are kept.
    pub fn context(self, what: impl fmt::Display) -> Self {
        let message = format!("{what}: {}", self.message());
        Self {
            kind: self.kind,
            detail: Some(message),
            source: self.source,
        }
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
    fn codes_are_unique_names_unique_and_round_trip() {
        let mut codes = std::collections::HashSet::new();
        let mut names = std::collections::HashSet::new();
        let mut classes = std::collections::HashSet::new();
        for k in ErrorKind::ALL {
            assert!(codes.insert(k.code()), "duplicate code {}", k.code());
            assert!(names.insert(k.name()), "duplicate name {}", k.name());
            assert!(classes.insert(k.class()), "duplicate class {}", k.class());
            assert_eq!(ErrorKind::from_code(k.code()), Some(*k));
            assert_eq!(ErrorKind::from_name(k.name()), Some(*k));
            assert!(!k.description().is_empty());
        }
        assert_eq!(ErrorKind::from_code(7), None);
        assert!(ErrorKind::ALL.windows(2).all(|w| w[0].code() < w[1].code()));
    }

    #[test]
    fn codes_are_grouped_by_family_and_retired_codes_stay_retired() {
        for k in ErrorKind::ALL {
            assert_eq!(k.code() / 100, k.family().hundreds(), "{k:?}");
            assert!(
                RETIRED_CODES.iter().all(|(c, _)| *c != k.code()),
                "{k:?} reuses a retired code"
            );
        }
        for f in ErrorFamily::ALL {
            assert!(ErrorKind::ALL.iter().any(|k| k.family() == *f), "{f:?}");
            // Family classes never collide with kind classes in any binding.
            let (java, py) = (
                format!("{}Exception", f.class()),
                format!("{}Error", f.class()),
            );
            for k in ErrorKind::ALL {
                let kj = format!("{}Exception", k.class().trim_end_matches("Error"));
                assert!(
                    kj != java && k.class() != py,
                    "{f:?} and {k:?} share a class name"
                );
            }
        }
        let retryable: Vec<_> = ErrorKind::ALL.iter().filter(|k| k.is_retryable()).collect();
        assert_eq!(
            retryable,
            [&ErrorKind::KmsUnavailable, &ErrorKind::KmsThrottled]
        );
    }

    #[test]
    fn opaque_crypto_errors_have_no_detail() {
        assert_eq!(Error::invalid_signature().to_string(), "invalid signature");
        assert_eq!(Error::decryption_failed().to_string(), "decryption failed");
    }

    #[test]
    fn context_keeps_kind_and_source() {
        let io = std::io::Error::other("disk on fire");
        let e = Error::from(io).context("reading 'x'");
        assert_eq!(e.kind(), ErrorKind::Io);
        assert_eq!(e.message(), "reading 'x': I/O error");
        assert!(std::error::Error::source(&e).is_some());
    }
}
