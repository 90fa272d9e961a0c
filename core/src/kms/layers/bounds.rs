//! Canton's size bounds, checked once for every driver ([`Bounded`]); [`layered`](super::layered)
//! always puts this layer right above the driver.
//!
//! | operation | before the call (error [`ErrorKind::InputTooLarge`], or [`ErrorKind::InvalidArgument`] for names) | after the call (error [`ErrorKind::KmsBoundsViolated`]) |
//! |---|---|---|
//! | `generate_*` | name ≤ [`MAX_KEY_NAME_LEN`] characters | returned key id ≤ [`MAX_KEY_ID_LEN`] characters |
//! | `sign` | message ≤ [`MAX_SIGN_INPUT`] bytes | – |
//! | `encrypt_symmetric` | plaintext ≤ [`MAX_SYMMETRIC_PLAINTEXT`] bytes | ciphertext ≤ [`MAX_SYMMETRIC_CIPHERTEXT`] bytes |
//! | `decrypt_symmetric` | ciphertext ≤ [`MAX_SYMMETRIC_CIPHERTEXT`] bytes | plaintext ≤ [`MAX_SYMMETRIC_PLAINTEXT`] bytes |
//! | `decrypt_asymmetric` | ciphertext ≤ [`MAX_ASYMMETRIC_CIPHERTEXT`] bytes | RSA-OAEP-SHA256: plaintext ≤ [`MAX_ASYMMETRIC_PLAINTEXT`] bytes |
//! | `get_public_key`, `key_exists_and_is_active`, `delete_key` | – | – |
//!
//! A refused input never reaches the driver. All these errors are non-retryable. The plaintext of an
//! ECIES decryption has no bound of its own (the ciphertext bound limits it): 190 bytes is what RSA-2048
//! OAEP-SHA256 can carry, not a bound on ECIES.
//!
//! Drivers do not check these bounds themselves: called directly, a driver handles out-of-bounds input
//! without panicking, but only a driver behind this layer answers with Canton's errors.

use std::sync::Arc;

use super::{Layer, Layered, Next, Outcome, Request};
use crate::error::{Error, ErrorKind, Result};
use crate::kms::{
    KmsDriver, MAX_ASYMMETRIC_CIPHERTEXT, MAX_ASYMMETRIC_PLAINTEXT, MAX_KEY_ID_LEN,
    MAX_KEY_NAME_LEN, MAX_SIGN_INPUT, MAX_SYMMETRIC_CIPHERTEXT, MAX_SYMMETRIC_PLAINTEXT,
};
use crate::scheme::EncryptionAlgorithmSpec;

/// Check a key name against Canton's bound ([`ErrorKind::InvalidArgument`]).
pub fn check_key_name(name: Option<&str>) -> Result<()> {
    match name {
        Some(n) if n.chars().count() > MAX_KEY_NAME_LEN => Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "a key name is at most {MAX_KEY_NAME_LEN} characters, got {}",
                n.chars().count()
            ),
        )),
        _ => Ok(()),
    }
}

/// Check an input against a bound, naming the operation ([`ErrorKind::InputTooLarge`]).
pub fn check_input(what: &str, len: usize, max: usize) -> Result<()> {
    if len > max {
        Err(Error::new(
            ErrorKind::InputTooLarge,
            format!("{what} takes at most {max} bytes, got {len}"),
        ))
    } else {
        Ok(())
    }
}

/// Check a driver's result against a bound (a violation is a non-retryable
/// [`ErrorKind::KmsBoundsViolated`]).
pub fn check_result(what: &str, len: usize, max: usize) -> Result<()> {
    if len > max {
        Err(Error::new(
            ErrorKind::KmsBoundsViolated,
            format!("{what} returned {len} bytes, more than Canton's bound of {max}"),
        ))
    } else {
        Ok(())
    }
}

/// Check a request before it goes to the driver (see the module docs).
pub fn check_request(req: &Request<'_>) -> Result<()> {
    let op = req.operation();
    match *req {
        Request::GenerateSigningKeyPair { name, .. }
        | Request::GenerateEncryptionKeyPair { name, .. }
        | Request::GenerateSymmetricKey { name } => check_key_name(name),
        Request::Sign { len, .. } => check_input(op, len, MAX_SIGN_INPUT),
        Request::DecryptAsymmetric { len, .. } => check_input(op, len, MAX_ASYMMETRIC_CIPHERTEXT),
        Request::EncryptSymmetric { len, .. } => check_input(op, len, MAX_SYMMETRIC_PLAINTEXT),
        Request::DecryptSymmetric { len, .. } => check_input(op, len, MAX_SYMMETRIC_CIPHERTEXT),
        Request::GetPublicKey { .. }
        | Request::KeyExistsAndIsActive { .. }
        | Request::DeleteKey { .. }
        | Request::DisableKey { .. } => Ok(()),
    }
}

/// Check what the driver returned for `req` (see the module docs).
pub fn check_outcome<T: Outcome>(req: &Request<'_>, out: &T) -> Result<()> {
    let op = req.operation();
    let len = out.byte_len().unwrap_or(0);
    match *req {
        Request::GenerateSigningKeyPair { .. }
        | Request::GenerateEncryptionKeyPair { .. }
        | Request::GenerateSymmetricKey { .. } => match out.key_id() {
            Some(id) if id.as_str().chars().count() > MAX_KEY_ID_LEN => Err(Error::new(
                ErrorKind::KmsBoundsViolated,
                format!(
                    "{op} returned a key id of {} characters, more than Canton's bound of \
                     {MAX_KEY_ID_LEN}",
                    id.as_str().chars().count()
                ),
            )),
            _ => Ok(()),
        },
        Request::EncryptSymmetric { .. } => check_result(op, len, MAX_SYMMETRIC_CIPHERTEXT),
        Request::DecryptSymmetric { .. } => check_result(op, len, MAX_SYMMETRIC_PLAINTEXT),
        Request::DecryptAsymmetric {
            algo: EncryptionAlgorithmSpec::RsaOaepSha256,
            ..
        } => check_result(op, len, MAX_ASYMMETRIC_PLAINTEXT),
        Request::DecryptAsymmetric { .. }
        | Request::Sign { .. }
        | Request::GetPublicKey { .. }
        | Request::KeyExistsAndIsActive { .. }
        | Request::DeleteKey { .. }
        | Request::DisableKey { .. } => Ok(()),
    }
}

/// The bounds layer's behaviour (see the module docs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BoundsLayer;

impl Layer for BoundsLayer {
    async fn call<'a, T: Outcome>(&'a self, req: &'a Request<'a>, next: Next<'a, T>) -> Result<T> {
        check_request(req)?;
        let out = next().await?;
        check_outcome(req, &out)?;
        Ok(out)
    }
}

/// The bounds layer around a driver.
pub type Bounded = Layered<BoundsLayer>;

impl Layered<BoundsLayer> {
    /// Wrap `inner`.
    pub fn new(inner: Arc<dyn KmsDriver>) -> Self {
        Self::wrap(inner, BoundsLayer)
    }
}
