//! Hazardous materials: operations that take secret key material out of tresor's protection.
//!
//! Everything here is deliberate and visible in review (`use tresor::hazmat`), and what touches a
//! vault leaves a trace in its audit log first (Tink quarantines cleartext keyset access the same way).
//! Prefer [`Vault::export_sealed`](crate::vault::Vault::export_sealed), which never shows the key.

use crate::error::Result;
use crate::keys::{Fingerprint, PrivateKey};
use crate::vault::Vault;
use crate::vault::blocking::BlockingVault;

/// The private key `fp` of `vault`, in clear (clear and envelope modes; keys in a KMS never leave it:
/// [`ErrorKind::WrongMode`](crate::ErrorKind::WrongMode)).
///
/// When the vault has an audit log (`audit-logging = true`), an event naming the key is written
/// *before* the key is returned; if it cannot be written, the key is not returned. The event holds the
/// fingerprint, spec and usage, never key material.
pub async fn export_private_key(vault: &Vault, fp: &Fingerprint) -> Result<PrivateKey> {
    let (info, key) = vault.private_key(fp).await?;
    vault.audit(&format!(
        "Key operation: cleartext export of private key {} ({} {}, usage {}) through tresor::hazmat",
        info.fingerprint,
        info.purpose(),
        info.spec,
        info.usage.map_or_else(|| "-".to_string(), |u| u.to_string()),
    ))?;
    Ok(key)
}

/// [`export_private_key`] for a [`BlockingVault`].
pub fn export_private_key_blocking(vault: &BlockingVault, fp: &Fingerprint) -> Result<PrivateKey> {
    vault.block_on(export_private_key(vault.vault(), fp))
}
