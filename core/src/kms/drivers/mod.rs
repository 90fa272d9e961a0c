//! The drivers: each implements [`KmsDriver`](super::KmsDriver) for one kind of KMS or HSM, and nothing
//! else — retry, rate limits, audit, health tracking and Canton's size bounds are layers
//! ([`super::layers`]).

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "gcp")]
pub mod gcp;
#[cfg(feature = "pkcs11")]
pub mod pkcs11;
pub mod software;
