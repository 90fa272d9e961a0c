//! KMS drivers written in C: the versioned `tresor_kms_driver_v1` table of function pointers,
//! adapted to the core's `KmsDriver` trait so a C driver plugs into the vault (wrapper key in
//! envelope mode, key holder in external mode) with the same retry, audit and health layers as the
//! built-in drivers (and Canton's size bounds, which the bounds layer checks; this adapter only marshals).

use std::ffi::{CString, c_char, c_void};
use std::sync::Arc;

use async_trait::async_trait;
use tresor_core::kms::{KmsDriver, KmsHealth, KmsKeyId, KmsKeySpec, KmsPublicKey};
use tresor_core::{
    EncryptionAlgorithmSpec, EncryptionKeySpec, Error, ErrorKind, PublicKey, SigningAlgorithmSpec,
    SigningKeySpec,
};
use zeroize::Zeroizing;

use crate::ffi::{
    Handle, Result, Tagged, boundary, bytes_in, c_string, invalid, opt_str_in, str_in,
};
use crate::status::tresor_status;

/// The version number a `tresor_kms_driver_v1` table carries in its `version` field.
pub const TRESOR_KMS_DRIVER_VERSION_1: u32 = 1;

/// The health of a KMS, as a driver reports it and `tresor_vault_health` returns it.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum tresor_kms_health {
    /// Working.
    Ok = 0,
    /// Working with problems (slow, some failures); operations are still attempted.
    Degraded = 1,
    /// Not working; may recover.
    Failed = 2,
    /// Not working and will not recover without an operator.
    Fatal = 3,
}

/// What a public key returned by `get_public_key` is for.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum tresor_key_purpose {
    /// A signing key.
    Signing = 1,
    /// An encryption (decryption) key.
    Encryption = 2,
}

/// Where a driver callback puts its result (a key id, bytes, a public key, a health state, an error
/// message), through the `tresor_kms_result_set_*` functions. Valid only during the callback that
/// received it; tresor copies what is set.
#[derive(Debug)]
pub struct tresor_kms_result {
    _private: [u8; 0],
}

/// A driver callback's signature for operations on a key: `ctx`, the KMS key id, the result.
pub type tresor_kms_key_fn = Option<
    unsafe extern "C" fn(
        ctx: *mut c_void,
        key_id: *const c_char,
        result: *mut tresor_kms_result,
    ) -> u32,
>;

/// The signature of `generate_signing_key` and `generate_encryption_key`.
type GenerateFn = unsafe extern "C" fn(
    ctx: *mut c_void,
    spec: *const c_char,
    name: *const c_char,
    result: *mut tresor_kms_result,
) -> u32;

/// A table of functions implementing a KMS or HSM driver in C (version 1).
///
/// Zero-initialise the table, set `version` to `TRESOR_KMS_DRIVER_VERSION_1`, fill the fields, and pass
/// it to `tresor_vault_options_set_kms_driver`; tresor copies the table, so it may live on the stack.
/// `sign`, `decrypt_asymmetric`, `get_public_key`, `key_exists_and_is_active` and `delete_key` are
/// required; the others may be NULL (`health`: always OK; a NULL `generate_*` or `*_symmetric`
/// function makes that operation fail with `TRESOR_STATUS_UNSUPPORTED_ALGORITHM`, so envelope mode
/// needs the symmetric ones). `ctx` is passed to every function and must stay valid until `release`
/// is called (once, when the options and every vault using the driver are freed; `release` may be
/// NULL). A later version of the table gets a new type and version number; this one never changes.
///
/// Every function returns a `tresor_status` code as `uint32_t`: `TRESOR_STATUS_OK`, or an error —
/// preferably a KMS one: `KMS_UNAVAILABLE` and `KMS_THROTTLED` are retried by tresor's retry layer
/// (exponential backoff, Canton's defaults), `KMS_KEY_NOT_FOUND`, `KMS_KEY_DISABLED`,
/// `KMS_PERMISSION_DENIED` and `KMS_FAILURE` are not. An unknown code is reported as `KMS_FAILURE`. A
/// function may describe the failure with `tresor_kms_result_set_error_message` (no secrets).
///
/// Functions are called from tresor's worker threads, possibly several at once: they must be
/// thread-safe. They may block (they run on a blocking-task pool), and may call tresor's stateless
/// functions (keys, primitives), but not `tresor_vault_*` functions.
///
/// Specs and algorithms are tresor's canonical strings (`"ec-p-256"`, `"ec-dsa-sha-256"`, …).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct tresor_kms_driver_v1 {
    /// `TRESOR_KMS_DRIVER_VERSION_1`.
    pub version: u32,
    /// The driver's state, passed to every function.
    pub ctx: *mut c_void,
    /// The provider name, used in messages and audit lines (NULL = `"c-driver"`).
    pub name: *const c_char,
    /// Comma-separated signing key specs the driver supports (NULL = none).
    pub signing_key_specs: *const c_char,
    /// Comma-separated signing algorithm specs (NULL = none).
    pub signing_algorithms: *const c_char,
    /// Comma-separated encryption key specs (NULL = none).
    pub encryption_key_specs: *const c_char,
    /// Comma-separated encryption algorithm specs (NULL = none).
    pub encryption_algorithms: *const c_char,
    /// Report health with `tresor_kms_result_set_health` (NULL = always OK).
    pub health:
        Option<unsafe extern "C" fn(ctx: *mut c_void, result: *mut tresor_kms_result) -> u32>,
    /// Create a signing key pair of `spec`, optionally named (`name` may be NULL); set its id with
    /// `tresor_kms_result_set_key_id`.
    pub generate_signing_key: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            spec: *const c_char,
            name: *const c_char,
            result: *mut tresor_kms_result,
        ) -> u32,
    >,
    /// Create an encryption key pair of `spec`; set its id.
    pub generate_encryption_key: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            spec: *const c_char,
            name: *const c_char,
            result: *mut tresor_kms_result,
        ) -> u32,
    >,
    /// Create a symmetric (wrapper) key; set its id. NULL if the driver cannot.
    pub generate_symmetric_key: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            name: *const c_char,
            result: *mut tresor_kms_result,
        ) -> u32,
    >,
    /// Sign `data` (at most 4096 bytes) with `algorithm`; set the signature (DER for ECDSA, 64 bytes
    /// for Ed25519) with `tresor_kms_result_set_bytes`.
    pub sign: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            key_id: *const c_char,
            data: *const u8,
            data_len: usize,
            algorithm: *const c_char,
            result: *mut tresor_kms_result,
        ) -> u32,
    >,
    /// Decrypt `ciphertext` with `algorithm`; set the plaintext bytes.
    pub decrypt_asymmetric: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            key_id: *const c_char,
            ciphertext: *const u8,
            ciphertext_len: usize,
            algorithm: *const c_char,
            result: *mut tresor_kms_result,
        ) -> u32,
    >,
    /// Encrypt `data` under the symmetric key; set the ciphertext. NULL if the driver cannot.
    pub encrypt_symmetric: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            key_id: *const c_char,
            data: *const u8,
            data_len: usize,
            result: *mut tresor_kms_result,
        ) -> u32,
    >,
    /// Decrypt what `encrypt_symmetric` made; set the plaintext. NULL if the driver cannot.
    pub decrypt_symmetric: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            key_id: *const c_char,
            ciphertext: *const u8,
            ciphertext_len: usize,
            result: *mut tresor_kms_result,
        ) -> u32,
    >,
    /// Set the key's public key with `tresor_kms_result_set_public_key` (DER SubjectPublicKeyInfo).
    pub get_public_key: tresor_kms_key_fn,
    /// Return OK if the key exists and is usable, `KMS_KEY_NOT_FOUND` or `KMS_KEY_DISABLED` if not.
    pub key_exists_and_is_active: tresor_kms_key_fn,
    /// Delete (or schedule the deletion of) the key.
    pub delete_key: tresor_kms_key_fn,
    /// Called once when tresor no longer uses the driver (NULL = nothing to release).
    pub release: Option<unsafe extern "C" fn(ctx: *mut c_void)>,
}

/// What a callback set.
#[derive(Default)]
pub(crate) struct KmsResult {
    key_id: Option<String>,
    bytes: Option<Zeroizing<Vec<u8>>>,
    public_key: Option<(Vec<u8>, u32)>,
    health: Option<(u32, String)>,
    message: Option<String>,
}

impl Handle for KmsResult {
    const MAGIC: u64 = 0x7472_6573_6f72_0010;
    const NAME: &'static str = "tresor_kms_result";
}

/// Borrow the result object of a callback.
///
/// # Safety
/// `r` is NULL or the pointer tresor passed to the running callback.
unsafe fn result<'a>(r: *mut tresor_kms_result) -> Result<&'a mut KmsResult> {
    // SAFETY: forwarded contract; the callback has exclusive use of its result object.
    unsafe { Tagged::<KmsResult>::get_mut(r, "result") }
}

/// Set the KMS key id a `generate_*` function created (1 to 300 printable characters).
///
/// # Safety
/// `result` is the pointer passed to the running callback; `key_id` is a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_kms_result_set_key_id(
    result: *mut tresor_kms_result,
    key_id: *const c_char,
) -> tresor_status {
    boundary("tresor_kms_result_set_key_id", || {
        // SAFETY: the caller's contract.
        let (r, id) = unsafe { (self::result(result)?, str_in(key_id, "key_id")?) };
        r.key_id = Some(KmsKeyId::new(id)?.as_str().to_string());
        Ok(())
    })
}

/// Set the output bytes (signature, plaintext, ciphertext). tresor copies them (and wipes its copy of
/// plaintexts after use).
///
/// # Safety
/// `result` is the pointer passed to the running callback; `data` is readable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_kms_result_set_bytes(
    result: *mut tresor_kms_result,
    data: *const u8,
    len: usize,
) -> tresor_status {
    boundary("tresor_kms_result_set_bytes", || {
        // SAFETY: the caller's contract.
        let (r, data) = unsafe { (self::result(result)?, bytes_in(data, len, "data")?) };
        r.bytes = Some(Zeroizing::new(data.to_vec()));
        Ok(())
    })
}

/// Set the public key (DER SubjectPublicKeyInfo) and what it is for (`tresor_key_purpose`).
///
/// # Safety
/// `result` is the pointer passed to the running callback; `der` is readable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_kms_result_set_public_key(
    result: *mut tresor_kms_result,
    der: *const u8,
    len: usize,
    purpose: u32,
) -> tresor_status {
    boundary("tresor_kms_result_set_public_key", || {
        // SAFETY: the caller's contract.
        let (r, der) = unsafe { (self::result(result)?, bytes_in(der, len, "der")?) };
        if purpose != tresor_key_purpose::Signing as u32
            && purpose != tresor_key_purpose::Encryption as u32
        {
            return Err(invalid(format!(
                "purpose {purpose} is not a tresor_key_purpose (1 = signing, 2 = encryption)"
            )));
        }
        r.public_key = Some((der.to_vec(), purpose));
        Ok(())
    })
}

/// Set the health state (`tresor_kms_health`) and a detail (may be NULL) from `health`.
///
/// # Safety
/// `result` is the pointer passed to the running callback; `detail` is NULL or a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_kms_result_set_health(
    result: *mut tresor_kms_result,
    state: u32,
    detail: *const c_char,
) -> tresor_status {
    boundary("tresor_kms_result_set_health", || {
        // SAFETY: the caller's contract.
        let (r, detail) = unsafe { (self::result(result)?, opt_str_in(detail, "detail")?) };
        if state > tresor_kms_health::Fatal as u32 {
            return Err(invalid(format!(
                "state {state} is not a tresor_kms_health (0 to 3)"
            )));
        }
        r.health = Some((state, detail.unwrap_or("").to_string()));
        Ok(())
    })
}

/// Describe the failure the callback is about to return (shown in tresor's error message; never put
/// secrets in it).
///
/// # Safety
/// `result` is the pointer passed to the running callback; `message` is a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_kms_result_set_error_message(
    result: *mut tresor_kms_result,
    message: *const c_char,
) -> tresor_status {
    boundary("tresor_kms_result_set_error_message", || {
        // SAFETY: the caller's contract.
        let (r, message) = unsafe { (self::result(result)?, str_in(message, "message")?) };
        r.message = Some(message.to_string());
        Ok(())
    })
}

// --- the adapter ---------------------------------------------------------------------------------

/// The copied table and its `ctx`, released once.
struct Table {
    t: tresor_kms_driver_v1,
}

// SAFETY: the header requires a driver's functions and `ctx` to be usable from any thread, at once.
unsafe impl Send for Table {}
// SAFETY: as above.
unsafe impl Sync for Table {}

impl Drop for Table {
    fn drop(&mut self) {
        if let Some(release) = self.t.release {
            // SAFETY: `release` is the driver's, called once with its own `ctx`, as documented.
            unsafe { release(self.t.ctx) }
        }
    }
}

/// A C driver as a `KmsDriver`.
pub(crate) struct CDriver {
    table: Arc<Table>,
    name: String,
    signing_key_specs: Vec<SigningKeySpec>,
    signing_algorithms: Vec<SigningAlgorithmSpec>,
    encryption_key_specs: Vec<EncryptionKeySpec>,
    encryption_algorithms: Vec<EncryptionAlgorithmSpec>,
}

impl std::fmt::Debug for CDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CDriver")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Parse a comma-separated list field of the table.
///
/// # Safety
/// `p` is NULL or a C string.
unsafe fn list<T: std::str::FromStr<Err = Error>>(p: *const c_char, field: &str) -> Result<Vec<T>> {
    // SAFETY: forwarded contract.
    let Some(s) = (unsafe { opt_str_in(p, field) })? else {
        return Ok(Vec::new());
    };
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| {
            x.parse::<T>().map_err(|e| {
                Error::new(
                    e.kind(),
                    format!("tresor_kms_driver_v1.{field}: {}", e.message()),
                )
            })
        })
        .collect()
}

impl CDriver {
    /// Check and copy a driver table.
    ///
    /// # Safety
    /// `t`'s string fields are NULL or C strings; its function pointers are NULL or callable as
    /// documented; ownership of `ctx` passes to tresor (released through `release`) only on success.
    pub(crate) unsafe fn new(t: &tresor_kms_driver_v1) -> Result<Self> {
        if t.version != TRESOR_KMS_DRIVER_VERSION_1 {
            return Err(invalid(format!(
                "tresor_kms_driver_v1.version is {}; this library implements version {}",
                t.version, TRESOR_KMS_DRIVER_VERSION_1
            )));
        }
        let missing: Vec<&str> = [
            ("sign", t.sign.is_none()),
            ("decrypt_asymmetric", t.decrypt_asymmetric.is_none()),
            ("get_public_key", t.get_public_key.is_none()),
            (
                "key_exists_and_is_active",
                t.key_exists_and_is_active.is_none(),
            ),
            ("delete_key", t.delete_key.is_none()),
        ]
        .into_iter()
        .filter_map(|(n, m)| m.then_some(n))
        .collect();
        if !missing.is_empty() {
            return Err(Error::new(
                ErrorKind::NullArgument,
                format!(
                    "tresor_kms_driver_v1 lacks required functions: {}",
                    missing.join(", ")
                ),
            ));
        }
        // SAFETY: the caller's contract for every string field.
        let (name, sk, sa, ek, ea) = unsafe {
            (
                opt_str_in(t.name, "name")?
                    .unwrap_or("c-driver")
                    .to_string(),
                list(t.signing_key_specs, "signing_key_specs")?,
                list(t.signing_algorithms, "signing_algorithms")?,
                list(t.encryption_key_specs, "encryption_key_specs")?,
                list(t.encryption_algorithms, "encryption_algorithms")?,
            )
        };
        Ok(Self {
            table: Arc::new(Table { t: *t }),
            name,
            signing_key_specs: sk,
            signing_algorithms: sa,
            encryption_key_specs: ek,
            encryption_algorithms: ea,
        })
    }

    /// Run one callback on the blocking pool with a fresh result object; map its status.
    async fn call<F>(&self, op: &'static str, f: F) -> Result<KmsResult>
    where
        F: FnOnce(&tresor_kms_driver_v1, *mut tresor_kms_result) -> Option<u32> + Send + 'static,
    {
        let table = self.table.clone();
        let name = self.name.clone();
        let joined = tokio::task::spawn_blocking(move || {
            Tagged::lend(KmsResult::default(), |ptr| f(&table.t, ptr))
        })
        .await;
        let (status, r) = joined.map_err(|_| {
            Error::new(
                ErrorKind::Panic,
                format!(
                    "the {name} driver's {op} function did not return (panic in tresor's adapter)"
                ),
            )
        })?;
        let Some(code) = status else {
            return Err(Error::new(
                ErrorKind::UnsupportedAlgorithm,
                format!("the {name} driver does not implement {op} (its function pointer is NULL)"),
            ));
        };
        if code == tresor_status::Ok as u32 {
            return Ok(r);
        }
        let kind = ErrorKind::from_code(code).unwrap_or(ErrorKind::KmsFailure);
        let detail = r
            .message
            .unwrap_or_else(|| tresor_status_text(code).to_string());
        let unknown = if ErrorKind::from_code(code).is_none() {
            format!(" (unknown status {code})")
        } else {
            String::new()
        };
        Err(Error::new(
            kind,
            format!("{name} driver, {op}: {detail}{unknown}"),
        ))
    }

    /// `generate_signing_key` or `generate_encryption_key` (same signature), chosen by `pick`.
    async fn generate_pair(
        &self,
        op: &'static str,
        spec: &str,
        name: Option<&str>,
        pick: fn(&tresor_kms_driver_v1) -> Option<GenerateFn>,
    ) -> Result<KmsKeyId> {
        let (spec, name) = (cstr(spec), name.map(cstr));
        let r = self
            .call(op, move |t, r| {
                let n = name.as_ref().map_or(std::ptr::null(), |n| n.as_ptr());
                // SAFETY: the driver's function, its ctx, C strings alive for the call.
                pick(t).map(|f| unsafe { f(t.ctx, spec.as_ptr(), n, r) })
            })
            .await?;
        KmsKeyId::new(r.key_id.ok_or_else(|| self.missing(op, "a key id"))?)
    }

    fn missing(&self, op: &str, what: &str) -> Error {
        Error::new(
            ErrorKind::KmsFailure,
            format!(
                "the {} driver returned OK from {op} without {what}",
                self.name
            ),
        )
    }
}

fn tresor_status_text(code: u32) -> &'static str {
    ErrorKind::from_code(code).map_or("failed", ErrorKind::name)
}

fn cstr(s: &str) -> CString {
    c_string(s)
}

#[async_trait]
impl KmsDriver for CDriver {
    fn provider(&self) -> &str {
        &self.name
    }

    async fn health(&self) -> KmsHealth {
        let r = self
            .call("health", |t, r| {
                // SAFETY: the driver's function, its ctx, a live result object.
                t.health.map(|f| unsafe { f(t.ctx, r) })
            })
            .await;
        match r {
            Err(e) if e.kind() == ErrorKind::UnsupportedAlgorithm => KmsHealth::Ok,
            Err(e) => KmsHealth::Failed(e.to_string()),
            Ok(r) => match r.health {
                None | Some((0, _)) => KmsHealth::Ok,
                Some((1, d)) => KmsHealth::Degraded(d),
                Some((2, d)) => KmsHealth::Failed(d),
                Some((_, d)) => KmsHealth::Fatal(d),
            },
        }
    }

    fn supported_signing_key_specs(&self) -> Vec<SigningKeySpec> {
        self.signing_key_specs.clone()
    }
    fn supported_signing_algo_specs(&self) -> Vec<SigningAlgorithmSpec> {
        self.signing_algorithms.clone()
    }
    fn supported_encryption_key_specs(&self) -> Vec<EncryptionKeySpec> {
        self.encryption_key_specs.clone()
    }
    fn supported_encryption_algo_specs(&self) -> Vec<EncryptionAlgorithmSpec> {
        self.encryption_algorithms.clone()
    }

    async fn generate_signing_key_pair(
        &self,
        spec: SigningKeySpec,
        name: Option<&str>,
    ) -> Result<KmsKeyId> {
        self.generate_pair("generate_signing_key", spec.as_str(), name, |t| {
            t.generate_signing_key
        })
        .await
    }

    async fn generate_encryption_key_pair(
        &self,
        spec: EncryptionKeySpec,
        name: Option<&str>,
    ) -> Result<KmsKeyId> {
        self.generate_pair("generate_encryption_key", spec.as_str(), name, |t| {
            t.generate_encryption_key
        })
        .await
    }

    async fn generate_symmetric_key(&self, name: Option<&str>) -> Result<KmsKeyId> {
        let name = name.map(cstr);
        let r = self
            .call("generate_symmetric_key", move |t, r| {
                let n = name.as_ref().map_or(std::ptr::null(), |n| n.as_ptr());
                // SAFETY: the driver's function, its ctx, a C string alive for the call.
                t.generate_symmetric_key.map(|f| unsafe { f(t.ctx, n, r) })
            })
            .await?;
        KmsKeyId::new(
            r.key_id
                .ok_or_else(|| self.missing("generate_symmetric_key", "a key id"))?,
        )
    }

    async fn sign(
        &self,
        key_id: &KmsKeyId,
        data: &[u8],
        algo: SigningAlgorithmSpec,
    ) -> Result<Vec<u8>> {
        let (id, data, algo) = (cstr(key_id.as_str()), data.to_vec(), cstr(algo.as_str()));
        let r = self
            .call("sign", move |t, r| {
                // SAFETY: the driver's function, its ctx, inputs alive for the call.
                t.sign.map(|f| unsafe {
                    f(
                        t.ctx,
                        id.as_ptr(),
                        data.as_ptr(),
                        data.len(),
                        algo.as_ptr(),
                        r,
                    )
                })
            })
            .await?;
        let sig = r.bytes.ok_or_else(|| self.missing("sign", "a signature"))?;
        Ok(sig.to_vec())
    }

    async fn decrypt_asymmetric(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
        algo: EncryptionAlgorithmSpec,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let (id, ct, algo) = (
            cstr(key_id.as_str()),
            ciphertext.to_vec(),
            cstr(algo.as_str()),
        );
        let r = self
            .call("decrypt_asymmetric", move |t, r| {
                // SAFETY: the driver's function, its ctx, inputs alive for the call.
                t.decrypt_asymmetric.map(|f| unsafe {
                    f(t.ctx, id.as_ptr(), ct.as_ptr(), ct.len(), algo.as_ptr(), r)
                })
            })
            .await?;
        r.bytes
            .ok_or_else(|| self.missing("decrypt_asymmetric", "a plaintext"))
    }

    async fn encrypt_symmetric(&self, key_id: &KmsKeyId, data: &[u8]) -> Result<Vec<u8>> {
        let (id, data) = (cstr(key_id.as_str()), Zeroizing::new(data.to_vec()));
        let r = self
            .call("encrypt_symmetric", move |t, r| {
                // SAFETY: the driver's function, its ctx, inputs alive for the call.
                t.encrypt_symmetric
                    .map(|f| unsafe { f(t.ctx, id.as_ptr(), data.as_ptr(), data.len(), r) })
            })
            .await?;
        let ct = r
            .bytes
            .ok_or_else(|| self.missing("encrypt_symmetric", "a ciphertext"))?;
        Ok(ct.to_vec())
    }

    async fn decrypt_symmetric(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let (id, ct) = (cstr(key_id.as_str()), ciphertext.to_vec());
        let r = self
            .call("decrypt_symmetric", move |t, r| {
                // SAFETY: the driver's function, its ctx, inputs alive for the call.
                t.decrypt_symmetric
                    .map(|f| unsafe { f(t.ctx, id.as_ptr(), ct.as_ptr(), ct.len(), r) })
            })
            .await?;
        r.bytes
            .ok_or_else(|| self.missing("decrypt_symmetric", "a plaintext"))
    }

    async fn get_public_key(&self, key_id: &KmsKeyId) -> Result<KmsPublicKey> {
        let id = cstr(key_id.as_str());
        let r = self
            .call("get_public_key", move |t, r| {
                // SAFETY: the driver's function, its ctx, a C string alive for the call.
                t.get_public_key
                    .map(|f| unsafe { f(t.ctx, id.as_ptr(), r) })
            })
            .await?;
        let (der, purpose) = r
            .public_key
            .ok_or_else(|| self.missing("get_public_key", "a public key"))?;
        let key = PublicKey::from_spki_der(&der).map_err(|e| {
            Error::new(
                ErrorKind::KmsFailure,
                format!(
                    "the {} driver returned a public key that does not parse: {e}",
                    self.name
                ),
            )
        })?;
        let kt = key.key_type();
        let spec = if purpose == tresor_key_purpose::Signing as u32 {
            kt.signing_spec().map(KmsKeySpec::Signing)
        } else {
            kt.encryption_spec().map(KmsKeySpec::Encryption)
        };
        let spec = spec.ok_or_else(|| {
            Error::new(
                ErrorKind::KmsFailure,
                format!(
                    "the {} driver returned a {} key as a {} key",
                    self.name,
                    kt.name(),
                    if purpose == 1 {
                        "signing"
                    } else {
                        "encryption"
                    }
                ),
            )
        })?;
        Ok(KmsPublicKey { key, spec })
    }

    async fn key_exists_and_is_active(&self, key_id: &KmsKeyId) -> Result<()> {
        let id = cstr(key_id.as_str());
        self.call("key_exists_and_is_active", move |t, r| {
            // SAFETY: the driver's function, its ctx, a C string alive for the call.
            t.key_exists_and_is_active
                .map(|f| unsafe { f(t.ctx, id.as_ptr(), r) })
        })
        .await
        .map(drop)
    }

    async fn delete_key(&self, key_id: &KmsKeyId) -> Result<()> {
        let id = cstr(key_id.as_str());
        self.call("delete_key", move |t, r| {
            // SAFETY: the driver's function, its ctx, a C string alive for the call.
            t.delete_key.map(|f| unsafe { f(t.ctx, id.as_ptr(), r) })
        })
        .await
        .map(drop)
    }
}
