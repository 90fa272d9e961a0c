//! `tresor_status`: the error model's codes as a C enum, with static names and the last error message.

use std::ffi::c_char;

use tresor_core::ErrorKind;

use crate::ffi::{with_last_error, write_str_out};

/// The result of every fallible function: `TRESOR_STATUS_OK` (0) or the code of the error model
/// (grouped by hundreds: 1xx arguments, 2xx malformed or unsupported input, 3xx verification or
/// decryption failure, 4xx keys and store, 5xx KMS, 9xx internal). The codes never change.
///
/// On any status other than OK, `tresor_last_error_message` describes the failure (never with
/// secret material). Verification and decryption failures are deliberately opaque.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum tresor_status {
    /// Success.
    Ok = 0,
    /// An argument is out of range or inconsistent.
    InvalidArgument = 100,
    /// A required pointer argument is NULL.
    NullArgument = 101,
    /// An input exceeds a documented bound.
    InputTooLarge = 102,
    /// A spec or algorithm name is not one tresor knows (the message lists the accepted ones).
    UnknownScheme = 103,
    /// A signing-key usage set is empty or invalid.
    InvalidKeyUsage = 104,
    /// A caller buffer is too small; the size needed was written to the `out_n` argument.
    BufferTooSmall = 105,
    /// Key bytes do not parse or are not a valid key.
    MalformedKey = 200,
    /// A signature has the wrong length or is not DER.
    MalformedSignature = 201,
    /// A ciphertext is too short or structurally invalid.
    MalformedCiphertext = 202,
    /// The algorithm is known but not available here.
    UnsupportedAlgorithm = 203,
    /// The key's spec does not fit the requested algorithm.
    KeySpecMismatch = 204,
    /// Some other encoded input (config, export file, hex) does not parse.
    MalformedData = 205,
    /// The signature does not verify.
    InvalidSignature = 300,
    /// The ciphertext does not open under this key.
    DecryptionFailed = 301,
    /// No key with this fingerprint or id.
    KeyNotFound = 400,
    /// The key's usage does not allow the operation.
    UsageNotAllowed = 401,
    /// A key with this fingerprint or name already exists.
    KeyAlreadyExists = 402,
    /// The key store failed (I/O, database, schema).
    StoreError = 403,
    /// A stored row fails its integrity checks.
    StoreCorrupted = 404,
    /// The operation is not possible in the store's mode.
    WrongMode = 405,
    /// A password-sealed export does not open with this password.
    WrongPassword = 406,
    /// The KMS could not be reached or failed transiently (retryable).
    KmsUnavailable = 500,
    /// The KMS refused the request.
    KmsError = 501,
    /// The KMS has no such key.
    KmsKeyNotFound = 502,
    /// The KMS key exists but is not active.
    KmsKeyDisabled = 503,
    /// The credentials lack a permission; the message names the operation.
    KmsPermissionDenied = 504,
    /// The KMS or the client-side rate limiter throttled the request (retryable).
    KmsThrottled = 505,
    /// The KMS returned a result outside Canton's bounds.
    KmsBoundsViolated = 506,
    /// A bug in tresor: an invariant broke.
    Internal = 900,
    /// Reading or writing a file failed.
    Io = 901,
    /// A panic was caught at the C boundary; the operation did not complete.
    Panic = 902,
}

impl tresor_status {
    /// Every status, in code order.
    pub(crate) const ALL: &'static [tresor_status] = &[
        Self::Ok,
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

    /// The status of an error kind (same numeric code).
    pub(crate) fn from_kind(kind: ErrorKind) -> Self {
        Self::from_code(kind.code()).unwrap_or(Self::Internal)
    }

    /// The status with this numeric code, if any.
    pub(crate) fn from_code(code: u32) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| *s as u32 == code)
    }
}

/// The stable name of a status: `"ok"`, or the error kind's snake_case name (`"invalid_signature"`,
/// `"kms_unavailable"`, …), the same in every tresor binding. Unknown values give `"unknown"`.
/// The string is static: never free it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn tresor_status_name(status: u32) -> *const c_char {
    let name: &'static std::ffi::CStr = match status {
        0 => c"ok",
        code => match ErrorKind::from_code(code) {
            Some(k) => static_name(k),
            None => c"unknown",
        },
    };
    name.as_ptr()
}

fn static_name(k: ErrorKind) -> &'static std::ffi::CStr {
    match k {
        ErrorKind::InvalidArgument => c"invalid_argument",
        ErrorKind::NullArgument => c"null_argument",
        ErrorKind::InputTooLarge => c"input_too_large",
        ErrorKind::UnknownScheme => c"unknown_scheme",
        ErrorKind::InvalidKeyUsage => c"invalid_key_usage",
        ErrorKind::BufferTooSmall => c"buffer_too_small",
        ErrorKind::MalformedKey => c"malformed_key",
        ErrorKind::MalformedSignature => c"malformed_signature",
        ErrorKind::MalformedCiphertext => c"malformed_ciphertext",
        ErrorKind::UnsupportedAlgorithm => c"unsupported_algorithm",
        ErrorKind::KeySpecMismatch => c"key_spec_mismatch",
        ErrorKind::MalformedData => c"malformed_data",
        ErrorKind::InvalidSignature => c"invalid_signature",
        ErrorKind::DecryptionFailed => c"decryption_failed",
        ErrorKind::KeyNotFound => c"key_not_found",
        ErrorKind::UsageNotAllowed => c"usage_not_allowed",
        ErrorKind::KeyAlreadyExists => c"key_already_exists",
        ErrorKind::StoreError => c"store_error",
        ErrorKind::StoreCorrupted => c"store_corrupted",
        ErrorKind::WrongMode => c"wrong_mode",
        ErrorKind::WrongPassword => c"wrong_password",
        ErrorKind::KmsUnavailable => c"kms_unavailable",
        ErrorKind::KmsError => c"kms_error",
        ErrorKind::KmsKeyNotFound => c"kms_key_not_found",
        ErrorKind::KmsKeyDisabled => c"kms_key_disabled",
        ErrorKind::KmsPermissionDenied => c"kms_permission_denied",
        ErrorKind::KmsThrottled => c"kms_throttled",
        ErrorKind::KmsBoundsViolated => c"kms_bounds_violated",
        ErrorKind::Internal => c"internal",
        ErrorKind::Io => c"io",
        ErrorKind::Panic => c"panic",
        _ => c"unknown",
    }
}

/// Whether an operation that failed with `status` may succeed when retried unchanged
/// (`KMS_UNAVAILABLE` and `KMS_THROTTLED`). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn tresor_status_is_retryable(status: u32) -> bool {
    ErrorKind::from_code(status).is_some_and(ErrorKind::is_retryable)
}

/// Copy this thread's last error message (set by the last failed tresor call on this thread; never
/// secret) into `buf` as a NUL-terminated string, and its length (without the NUL) into `*out_n`.
/// With no earlier failure the message is empty. Successful calls do not clear it.
///
/// If `len` is too small, nothing is written to `buf`, `*out_n` gets the size needed including the
/// NUL, and the result is `TRESOR_STATUS_BUFFER_TOO_SMALL`. `out_n` may be NULL.
///
/// # Safety
/// `buf` is NULL or writable for `len` bytes; `out_n` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_last_error_message(
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> tresor_status {
    // Reading the message must not overwrite it, so failures here are reported by status only.
    let mut status = tresor_status::Ok;
    with_last_error(|m| {
        // SAFETY: the caller's contract, forwarded.
        if let Err(e) = unsafe { write_str_out(m.to_bytes(), buf, len, out_n) } {
            status = tresor_status::from_kind(e.kind());
        }
    });
    status
}

/// The library version (`"0.1.0"`), equal to the `TRESOR_VERSION` macro of the header it was built
/// with. Static: never free it.
#[unsafe(no_mangle)]
pub extern "C" fn tresor_version() -> *const c_char {
    crate::VERSION_C.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_kind_has_the_same_code_as_a_status() {
        for k in ErrorKind::ALL {
            let s = tresor_status::from_kind(*k);
            assert_eq!(s as u32, k.code(), "{k:?}");
            // SAFETY: a static NUL-terminated string.
            let name = unsafe { std::ffi::CStr::from_ptr(tresor_status_name(k.code())) };
            assert_eq!(name.to_str().ok(), Some(k.name()));
        }
        // Every status but OK is an error kind.
        assert_eq!(tresor_status::ALL.len(), ErrorKind::ALL.len() + 1);
    }

    #[test]
    fn unknown_status_values_are_named_unknown() {
        for code in [1u32, 99, 7000, u32::MAX] {
            // SAFETY: a static NUL-terminated string.
            let name = unsafe { std::ffi::CStr::from_ptr(tresor_status_name(code)) };
            assert_eq!(name.to_bytes(), b"unknown");
        }
    }
}
