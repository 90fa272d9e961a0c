//! `tresor_status`: the error model's codes as a C enum, with static names and the last error message.

use std::ffi::c_char;

use tresor_core::ErrorKind;

use crate::ffi::{with_last_error, write_str_out};

pub use crate::status_generated::tresor_status;

impl tresor_status {
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
    let name = match tresor_status::from_code(status) {
        Some(s) => s.name(),
        None => c"unknown",
    };
    name.as_ptr()
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
    fn codes_0_to_999_agree_between_rust_and_c() {
        let mut known = 0;
        for code in 0u32..1000 {
            let kind = ErrorKind::from_code(code);
            let status = tresor_status::from_code(code);
            // SAFETY: a static NUL-terminated string.
            let name = unsafe { std::ffi::CStr::from_ptr(tresor_status_name(code)) };
            let name = name.to_str().expect("ASCII");
            match (code, kind, status) {
                (0, None, Some(s)) => {
                    assert_eq!(s, tresor_status::Ok);
                    assert_eq!(name, "ok");
                }
                (_, Some(k), Some(s)) => {
                    known += 1;
                    assert_eq!(s as u32, code);
                    assert_eq!(name, k.name(), "code {code}");
                    assert_eq!(tresor_status_is_retryable(code), k.is_retryable(), "{name}");
                }
                (_, None, None) => {
                    assert_eq!(name, "unknown", "code {code}");
                    assert!(!tresor_status_is_retryable(code));
                }
                (_, k, s) => panic!("code {code}: Rust says {k:?}, C says {s:?}"),
            }
        }
        assert_eq!(known, ErrorKind::ALL.len());
        // A retired code names nothing in either.
        for (code, _) in tresor_core::error::RETIRED_CODES {
            assert!(ErrorKind::from_code(*code).is_none());
            assert!(tresor_status::from_code(*code).is_none());
        }
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
