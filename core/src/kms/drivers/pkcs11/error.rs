//! PKCS#11 failures in tresor's error model. Messages name the PKCS#11 function and return value, never
//! key or data bytes.

use cryptoki::error::{Error as CkError, RvError};

use crate::error::{Error, ErrorKind};
use crate::kms::KmsKeyId;

/// Map a PKCS#11 failure to tresor's error model. Never includes key or data bytes.
pub(super) fn ck_err(what: &str, e: CkError) -> Error {
    let kind = match &e {
        CkError::Pkcs11(rv, _) => match rv {
            RvError::PinIncorrect
            | RvError::PinInvalid
            | RvError::PinLenRange
            | RvError::PinExpired
            | RvError::PinLocked => {
                return Error::new(ErrorKind::KmsPermissionDenied, "login refused");
            }
            RvError::DeviceError
            | RvError::DeviceMemory
            | RvError::DeviceRemoved
            | RvError::TokenNotPresent
            | RvError::TokenNotRecognized
            | RvError::SessionClosed
            | RvError::SessionCount
            | RvError::SessionHandleInvalid
            | RvError::SessionParallelNotSupported
            | RvError::SessionReadOnly
            | RvError::SessionExists
            | RvError::SessionReadOnlyExists
            | RvError::SessionReadWriteSoExists
            | RvError::UserNotLoggedIn
            | RvError::CryptokiNotInitialized => ErrorKind::KmsUnavailable,
            RvError::ObjectHandleInvalid | RvError::KeyHandleInvalid => ErrorKind::KmsKeyNotFound,
            // The key's attributes forbid the operation: what a disabled key is on a token.
            RvError::KeyFunctionNotPermitted => ErrorKind::KmsKeyDisabled,
            _ => ErrorKind::KmsFailure,
        },
        CkError::LibraryLoading(_) => ErrorKind::KmsFailure,
        _ => ErrorKind::KmsFailure,
    };
    match &e {
        // The function and return value say it all; the crate's long description of the value is noise.
        CkError::Pkcs11(rv, f) => Error::new(kind, format!("PKCS#11 {what}: {f} returned {rv:?}")),
        _ => Error::new(kind, format!("PKCS#11 {what} failed")).with_source(e),
    }
}

pub(super) fn kms_err(detail: impl Into<String>) -> Error {
    Error::new(ErrorKind::KmsFailure, detail)
}

pub(super) fn not_found(key_id: &KmsKeyId) -> Error {
    Error::new(
        ErrorKind::KmsKeyNotFound,
        format!("PKCS#11 token has no key {key_id}"),
    )
}
