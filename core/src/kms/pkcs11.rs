//! The PKCS#11 KMS driver: keys live in an HSM (or SoftHSM2) token, reached through a PKCS#11 module with
//! the `cryptoki` crate.
//!
//! * **Sessions.** The driver keeps a pool of logged-in read/write sessions ([`Pkcs11Config::session_pool_size`]).
//!   Each call takes a free session and runs its blocking PKCS#11 calls on `tokio::task::spawn_blocking`,
//!   so concurrent calls run in parallel instead of queueing on one session. A session that fails with a
//!   device or session error is dropped and a fresh one is opened on the next call.
//! * **Key ids.** A key is addressed by its `CKA_ID` in hex or by its `CKA_LABEL`. Generated keys get a
//!   random 16-byte `CKA_ID` (the returned id) and `CKA_LABEL` = the key name, or the id when unnamed.
//!   Key pairs are token objects; private and secret keys are `CKA_SENSITIVE` and not extractable.
//!   A P-256 private key with `CKA_SIGN` is a signing key; one without (`CKA_DERIVE`) is an ECIES key.
//! * **Signing.** ECDSA with `CKM_ECDSA` over a digest computed here (SHA-256 for P-256 and secp256k1,
//!   SHA-384 for P-384), the token's raw `r ‖ s` converted to DER; Ed25519 with `CKM_EDDSA`.
//! * **Encryption.** RSA-2048 with `CKM_RSA_PKCS_OAEP` (SHA-256, MGF1-SHA-256) when the token accepts
//!   those parameters; ECIES (`ecies-hkdf-hmac-sha-256-aes-128-cbc`) with `CKM_ECDH1_DERIVE` on the token
//!   (the shared secret is derived into a short-lived session object and read back) and the KDF, MAC
//!   and AES-CBC steps done here.
//! * **Symmetric.** AES-256 keys with `CKM_AES_GCM` (random 12-byte IV, 128-bit tag), wire `IV ‖ ct ‖ tag`.
//!
//! What the token can do is probed when the driver opens (mechanism list plus short-lived session-object
//! trials); the `supported_*` sets list only that, and [`Pkcs11Kms::gaps`] names what is missing.
//!
//! PKCS#11 login state belongs to the process, not the session: when another handle in the same process
//! is already logged in to the token, a second login is accepted by the module without checking the PIN.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Instant;

use async_trait::async_trait;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::elliptic_curve::{EcKdf, Ecdh1DeriveParams};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use super::{
    KmsDriver, KmsHealth, KmsKeyId, KmsKeySpec, KmsPublicKey, MAX_ASYMMETRIC_CIPHERTEXT,
    MAX_SIGN_INPUT, MAX_SYMMETRIC_CIPHERTEXT, MAX_SYMMETRIC_PLAINTEXT, check_input, check_key_name,
    check_result,
};
use crate::error::{Error, ErrorKind, Result};
use crate::keys::PublicKey;
use crate::primitives::{
    DefaultBackend, ecdsa_raw_to_der, ecies_cbc_decrypt_with_ecdh, random_bytes,
};
use crate::scheme::{
    EncryptionAlgorithmSpec, EncryptionKeySpec, SigningAlgorithmSpec, SigningKeySpec,
};

/// Default number of sessions in the pool.
pub const DEFAULT_SESSION_POOL_SIZE: usize = 4;

const GCM_IV_LEN: usize = 12;
const GCM_TAG_LEN: usize = 16;

/// DER `OBJECT IDENTIFIER`s used as `CKA_EC_PARAMS`.
const EC_PARAMS_P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const EC_PARAMS_P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
const EC_PARAMS_SECP256K1: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a];
const EC_PARAMS_ED25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
/// DER of `id-ecPublicKey` and `rsaEncryption` (with its NULL parameters).
const OID_EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const ALG_RSA: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];

/// Where the user PIN comes from. A literal PIN is deliberately not an option, so a printed
/// configuration never holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinSource {
    /// The name of an environment variable holding the PIN (`pin-env`).
    Env(String),
    /// A file holding the PIN; surrounding whitespace is ignored (`pin-file`).
    File(PathBuf),
}

/// Configuration of a [`Pkcs11Kms`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkcs11Config {
    /// Path of the PKCS#11 module (`.so`).
    pub module_path: PathBuf,
    /// Label of the token to use (slot ids can change; labels do not).
    pub token_label: String,
    /// Where the user PIN is read from.
    pub pin: PinSource,
    /// Number of logged-in sessions kept open (at least 1).
    pub session_pool_size: usize,
    /// Log every call (operation, key id, outcome, duration; never data) to stderr.
    pub audit_logging: bool,
}

impl Pkcs11Config {
    /// A configuration with the default pool size and audit logging off.
    pub fn new(
        module_path: impl Into<PathBuf>,
        token_label: impl Into<String>,
        pin: PinSource,
    ) -> Self {
        Self {
            module_path: module_path.into(),
            token_label: token_label.into(),
            pin,
            session_pool_size: DEFAULT_SESSION_POOL_SIZE,
            audit_logging: false,
        }
    }

    /// The configuration as `key = value` lines (`module-path`, `token-label`, `pin-env` or `pin-file`,
    /// `session-pool-size`, `audit-logging`). It names where the PIN is, never the PIN.
    pub fn to_config_text(&self) -> String {
        let pin = match &self.pin {
            PinSource::Env(v) => format!("pin-env = {v:?}"),
            PinSource::File(p) => format!("pin-file = {:?}", p.display().to_string()),
        };
        format!(
            "module-path = {:?}\ntoken-label = {:?}\n{pin}\nsession-pool-size = {}\naudit-logging = {}\n",
            self.module_path.display().to_string(),
            self.token_label,
            self.session_pool_size,
            self.audit_logging
        )
    }

    fn read_pin(&self) -> Result<AuthPin> {
        let pin = match &self.pin {
            PinSource::Env(name) => Zeroizing::new(std::env::var(name).map_err(|_| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!("PKCS#11: the PIN environment variable {name} is not set"),
                )
            })?),
            PinSource::File(path) => {
                Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
                    Error::new(
                        ErrorKind::Io,
                        format!("PKCS#11: cannot read the PIN file '{}'", path.display()),
                    )
                    .with_source(e)
                })?)
            }
        };
        let trimmed = pin.trim();
        if trimmed.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "PKCS#11: the PIN is empty",
            ));
        }
        Ok(AuthPin::from(trimmed.to_string()))
    }
}

/// What the token was found able to do.
#[derive(Debug, Clone, Default)]
struct Caps {
    ecdsa_p256: bool,
    ecdsa_p384: bool,
    ecdsa_secp256k1: bool,
    ed25519: bool,
    ecies: bool,
    rsa_oaep_sha256: bool,
    aes_gcm: bool,
    gaps: Vec<(String, String)>,
}

struct Inner {
    ctx: Pkcs11,
    /// Written while creating or destroying objects, read otherwise (see [`context`]).
    object_lock: Arc<RwLock<()>>,
    slot: Slot,
    token_label: String,
    pin: AuthPin,
    sessions: Mutex<Vec<Session>>,
}

/// The PKCS#11 driver (see the module docs).
pub struct Pkcs11Kms {
    inner: Arc<Inner>,
    permits: Arc<Semaphore>,
    caps: Caps,
    pool_size: usize,
    audit: bool,
}

impl core::fmt::Debug for Pkcs11Kms {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pkcs11Kms")
            .field("token", &self.inner.token_label)
            .field("pool_size", &self.pool_size)
            .finish_non_exhaustive()
    }
}

/// Map a PKCS#11 failure to tresor's error model. Never includes key or data bytes.
fn ck_err(what: &str, e: CkError) -> Error {
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

fn kms_err(detail: impl Into<String>) -> Error {
    Error::new(ErrorKind::KmsFailure, detail)
}

fn not_found(key_id: &KmsKeyId) -> Error {
    Error::new(
        ErrorKind::KmsKeyNotFound,
        format!("PKCS#11 token has no key {key_id}"),
    )
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if s.is_empty() || !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A loaded module and the lock that keeps token-object creation and destruction apart from every
/// other use of it.
type ModuleContext = (Pkcs11, Arc<RwLock<()>>);

/// One process-wide context per module: `C_Initialize` may run once per process, and dropping the last
/// context would finalize the module under every other handle. Token objects are created and destroyed
/// under the write side of the module's lock and every other operation runs under the read side:
/// SoftHSM2's file object store fails (`CKR_GENERAL_ERROR` from `C_GenerateKeyPair`) when token objects
/// are created while other sessions of the same process read the store. Signing, decryption and lookups
/// stay parallel with each other.
fn context(module: &Path) -> Result<ModuleContext> {
    static CONTEXTS: OnceLock<Mutex<HashMap<PathBuf, ModuleContext>>> = OnceLock::new();
    let map = CONTEXTS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = map.lock().map_err(|_| Error::internal("lock poisoned"))?;
    if let Some(ctx) = map.get(module) {
        return Ok(ctx.clone());
    }
    let ctx = Pkcs11::new(module).map_err(|e| {
        Error::new(
            ErrorKind::KmsFailure,
            format!("PKCS#11: cannot load the module '{}'", module.display()),
        )
        .with_source(e)
    })?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(ck_err("initialising the module", e)),
    }
    let entry = (ctx, Arc::new(RwLock::new(())));
    map.insert(module.to_path_buf(), entry.clone());
    Ok(entry)
}

fn find_slot(ctx: &Pkcs11, label: &str) -> Result<Slot> {
    let slots = ctx
        .get_slots_with_initialized_token()
        .map_err(|e| ck_err("listing slots", e))?;
    for slot in slots {
        let info = ctx
            .get_token_info(slot)
            .map_err(|e| ck_err("reading token info", e))?;
        if info.label().trim_end() == label {
            return Ok(slot);
        }
    }
    Err(Error::new(
        ErrorKind::KmsFailure,
        format!("PKCS#11: no initialised token labelled '{label}'"),
    ))
}

impl Inner {
    fn open_session(&self) -> Result<Session> {
        let s = self
            .ctx
            .open_rw_session(self.slot)
            .map_err(|e| ck_err("opening a session", e))?;
        match s.login(UserType::User, Some(&self.pin)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(s),
            Err(e) => Err(ck_err("login", e)),
        }
    }

    fn take(&self) -> Result<Session> {
        let pooled = self
            .sessions
            .lock()
            .map_err(|_| Error::internal("lock poisoned"))?
            .pop();
        match pooled {
            Some(s) => Ok(s),
            None => self.open_session(),
        }
    }

    /// Run `f` holding the module's object lock, for writing when `exclusive`.
    fn with_object_lock<T>(&self, exclusive: bool, f: impl FnOnce() -> Result<T>) -> Result<T> {
        if exclusive {
            let _guard = self
                .object_lock
                .write()
                .map_err(|_| Error::internal("lock poisoned"))?;
            f()
        } else {
            let _guard = self
                .object_lock
                .read()
                .map_err(|_| Error::internal("lock poisoned"))?;
            f()
        }
    }

    fn give_back(&self, s: Session) {
        if let Ok(mut v) = self.sessions.lock() {
            v.push(s);
        }
    }
}

// --- Key objects ---------------------------------------------------------------------------------

/// The token objects behind one key id.
#[derive(Debug, Default)]
struct KeyObjects {
    private: Option<ObjectHandle>,
    public: Option<ObjectHandle>,
    secret: Option<ObjectHandle>,
    all: Vec<ObjectHandle>,
}

fn class_of(s: &Session, h: ObjectHandle) -> Result<Option<ObjectClass>> {
    let attrs = s
        .get_attributes(h, &[AttributeType::Class])
        .map_err(|e| ck_err("reading an object's class", e))?;
    Ok(attrs.into_iter().find_map(|a| match a {
        Attribute::Class(c) => Some(c),
        _ => None,
    }))
}

fn collect(s: &Session, handles: Vec<ObjectHandle>, key_id: &KmsKeyId) -> Result<KeyObjects> {
    let mut k = KeyObjects::default();
    for h in handles {
        let slot = match class_of(s, h)? {
            Some(c) if c == ObjectClass::PRIVATE_KEY => &mut k.private,
            Some(c) if c == ObjectClass::PUBLIC_KEY => &mut k.public,
            Some(c) if c == ObjectClass::SECRET_KEY => &mut k.secret,
            _ => continue,
        };
        if slot.is_some() {
            return Err(kms_err(format!(
                "PKCS#11: key id {key_id} matches more than one key on the token"
            )));
        }
        *slot = Some(h);
        k.all.push(h);
    }
    if k.private.is_some() && k.secret.is_some() {
        return Err(kms_err(format!(
            "PKCS#11: key id {key_id} matches more than one key on the token"
        )));
    }
    Ok(k)
}

/// Find the objects of a key by `CKA_ID` (hex) first, then by `CKA_LABEL`.
fn find_key(s: &Session, key_id: &KmsKeyId) -> Result<KeyObjects> {
    if let Some(id) = from_hex(key_id.as_str()) {
        let found = s
            .find_objects(&[Attribute::Token(true), Attribute::Id(id)])
            .map_err(|e| ck_err("finding a key", e))?;
        if !found.is_empty() {
            return collect(s, found, key_id);
        }
    }
    let found = s
        .find_objects(&[
            Attribute::Token(true),
            Attribute::Label(key_id.as_str().as_bytes().to_vec()),
        ])
        .map_err(|e| ck_err("finding a key", e))?;
    if found.is_empty() {
        return Err(not_found(key_id));
    }
    collect(s, found, key_id)
}

fn attrs(s: &Session, h: ObjectHandle, types: &[AttributeType]) -> Result<Vec<Attribute>> {
    s.get_attributes(h, types)
        .map_err(|e| ck_err("reading key attributes", e))
}

fn attr_bool(list: &[Attribute], t: AttributeType) -> bool {
    list.iter().any(|a| {
        matches!(
            (a, t),
            (Attribute::Sign(true), AttributeType::Sign)
                | (Attribute::Decrypt(true), AttributeType::Decrypt)
                | (Attribute::Derive(true), AttributeType::Derive)
                | (Attribute::Encrypt(true), AttributeType::Encrypt)
        )
    })
}

fn attr_bytes(list: &[Attribute], t: AttributeType) -> Option<&[u8]> {
    list.iter().find_map(|a| match (a, t) {
        (Attribute::EcParams(v), AttributeType::EcParams)
        | (Attribute::EcPoint(v), AttributeType::EcPoint)
        | (Attribute::Modulus(v), AttributeType::Modulus)
        | (Attribute::PublicExponent(v), AttributeType::PublicExponent)
        | (Attribute::Value(v), AttributeType::Value) => Some(v.as_slice()),
        _ => None,
    })
}

fn attr_key_type(list: &[Attribute]) -> Option<KeyType> {
    list.iter().find_map(|a| match a {
        Attribute::KeyType(k) => Some(*k),
        _ => None,
    })
}

/// The spec of a key from its private (or secret) object.
fn key_spec(s: &Session, k: &KeyObjects, key_id: &KmsKeyId) -> Result<KmsKeySpec> {
    if let Some(h) = k.secret {
        let a = attrs(s, h, &[AttributeType::KeyType])?;
        return match attr_key_type(&a) {
            Some(t) if t == KeyType::AES => Ok(KmsKeySpec::Symmetric),
            _ => Err(kms_err(format!(
                "PKCS#11 key {key_id} is a secret key of a type this driver does not use"
            ))),
        };
    }
    let h = k.private.ok_or_else(|| not_found(key_id))?;
    let a = attrs(
        s,
        h,
        &[
            AttributeType::KeyType,
            AttributeType::EcParams,
            AttributeType::Modulus,
            AttributeType::Sign,
            AttributeType::Decrypt,
            AttributeType::Derive,
        ],
    )?;
    let unsupported = || {
        kms_err(format!(
            "PKCS#11 key {key_id} is of a type or curve this driver does not use"
        ))
    };
    let kt = attr_key_type(&a).ok_or_else(unsupported)?;
    if kt == KeyType::EC {
        let params = attr_bytes(&a, AttributeType::EcParams).ok_or_else(unsupported)?;
        let sign = attr_bool(&a, AttributeType::Sign);
        return match params {
            p if p == EC_PARAMS_P256 && sign => Ok(KmsKeySpec::Signing(SigningKeySpec::EcP256)),
            p if p == EC_PARAMS_P256 => Ok(KmsKeySpec::Encryption(EncryptionKeySpec::EcP256)),
            p if p == EC_PARAMS_P384 => Ok(KmsKeySpec::Signing(SigningKeySpec::EcP384)),
            p if p == EC_PARAMS_SECP256K1 => Ok(KmsKeySpec::Signing(SigningKeySpec::EcSecp256k1)),
            _ => Err(unsupported()),
        };
    }
    if kt == KeyType::EC_EDWARDS {
        return Ok(KmsKeySpec::Signing(SigningKeySpec::EcCurve25519));
    }
    if kt == KeyType::RSA {
        let n = attr_bytes(&a, AttributeType::Modulus).unwrap_or(&[]);
        let n = strip_leading_zeros(n);
        if n.len() == 256 {
            return Ok(KmsKeySpec::Encryption(EncryptionKeySpec::Rsa2048));
        }
    }
    Err(unsupported())
}

fn strip_leading_zeros(b: &[u8]) -> &[u8] {
    let i = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    &b[i..]
}

// --- DER ------------------------------------------------------------------------------------------

fn der_tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 4);
    out.push(tag);
    let n = body.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend_from_slice(&[0x81, n as u8]);
    } else {
        out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(body);
    out
}

fn der_uint(v: &[u8]) -> Vec<u8> {
    let v = strip_leading_zeros(v);
    let mut body = Vec::with_capacity(v.len() + 1);
    if v.first().is_none_or(|b| b & 0x80 != 0) {
        body.push(0);
    }
    body.extend_from_slice(v);
    der_tlv(0x02, &body)
}

/// `CKA_EC_POINT` is a DER OCTET STRING around the point; some tokens return the bare point.
fn unwrap_ec_point(v: &[u8], point_len: usize) -> Option<&[u8]> {
    if v.len() == point_len {
        return Some(v);
    }
    match v {
        [0x04, n, rest @ ..] if usize::from(*n) == rest.len() && rest.len() == point_len => {
            Some(rest)
        }
        [0x04, 0x81, n, rest @ ..] if usize::from(*n) == rest.len() && rest.len() == point_len => {
            Some(rest)
        }
        _ => None,
    }
}

fn spki(algorithm: &[u8], key: &[u8]) -> Vec<u8> {
    let mut bits = Vec::with_capacity(key.len() + 1);
    bits.push(0);
    bits.extend_from_slice(key);
    let mut body = der_tlv(0x30, algorithm);
    body.extend_from_slice(&der_tlv(0x03, &bits));
    der_tlv(0x30, &body)
}

fn public_key(
    s: &Session,
    k: &KeyObjects,
    spec: KmsKeySpec,
    key_id: &KmsKeyId,
) -> Result<PublicKey> {
    let h = k.public.ok_or_else(|| {
        kms_err(format!(
            "PKCS#11 key {key_id} has no public key object on the token"
        ))
    })?;
    let a = attrs(
        s,
        h,
        &[
            AttributeType::EcParams,
            AttributeType::EcPoint,
            AttributeType::Modulus,
            AttributeType::PublicExponent,
        ],
    )?;
    let bad = || {
        kms_err(format!(
            "PKCS#11 key {key_id}: malformed public key attributes"
        ))
    };
    let der = match spec {
        KmsKeySpec::Encryption(EncryptionKeySpec::Rsa2048) => {
            let n = attr_bytes(&a, AttributeType::Modulus).ok_or_else(bad)?;
            let e = attr_bytes(&a, AttributeType::PublicExponent).ok_or_else(bad)?;
            let mut seq = der_uint(n);
            seq.extend_from_slice(&der_uint(e));
            spki(ALG_RSA, &der_tlv(0x30, &seq))
        }
        KmsKeySpec::Signing(SigningKeySpec::EcCurve25519) => {
            let p = attr_bytes(&a, AttributeType::EcPoint).ok_or_else(bad)?;
            let raw = unwrap_ec_point(p, 32).ok_or_else(bad)?;
            spki(EC_PARAMS_ED25519, raw)
        }
        KmsKeySpec::Signing(_) | KmsKeySpec::Encryption(EncryptionKeySpec::EcP256) => {
            let params = attr_bytes(&a, AttributeType::EcParams).ok_or_else(bad)?;
            let len = if params == EC_PARAMS_P384 { 97 } else { 65 };
            let p = attr_bytes(&a, AttributeType::EcPoint).ok_or_else(bad)?;
            let raw = unwrap_ec_point(p, len).ok_or_else(bad)?;
            let mut alg = OID_EC_PUBLIC_KEY.to_vec();
            alg.extend_from_slice(params);
            spki(&alg, raw)
        }
        KmsKeySpec::Symmetric => {
            return Err(kms_err(format!(
                "PKCS#11 key {key_id} is not an asymmetric key"
            )));
        }
    };
    PublicKey::from_spki_der(&der).map_err(|e| {
        Error::new(
            ErrorKind::KmsFailure,
            format!("PKCS#11 key {key_id}: the token's public key does not parse"),
        )
        .with_source(e)
    })
}

// --- Operations on a session ------------------------------------------------------------------------

fn new_ck_id() -> Result<Vec<u8>> {
    let mut id = vec![0u8; 16];
    random_bytes(&mut id)?;
    Ok(id)
}

fn ec_params(spec: SigningKeySpec) -> &'static [u8] {
    match spec {
        SigningKeySpec::EcP256 => EC_PARAMS_P256,
        SigningKeySpec::EcP384 => EC_PARAMS_P384,
        SigningKeySpec::EcSecp256k1 => EC_PARAMS_SECP256K1,
        SigningKeySpec::EcCurve25519 => EC_PARAMS_ED25519,
    }
}

/// Templates of a key pair: (public, private). `token` false makes session objects (probes).
fn pair_templates(
    id: &[u8],
    label: &[u8],
    token: bool,
    sign: bool,
) -> (Vec<Attribute>, Vec<Attribute>) {
    let public = vec![
        Attribute::Token(token),
        Attribute::Private(false),
        Attribute::Id(id.to_vec()),
        Attribute::Label(label.to_vec()),
    ];
    let private = vec![
        Attribute::Token(token),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Id(id.to_vec()),
        Attribute::Label(label.to_vec()),
        Attribute::Sign(sign),
    ];
    (public, private)
}

fn generate_signing(
    s: &Session,
    spec: SigningKeySpec,
    id: &[u8],
    label: &[u8],
    token: bool,
) -> Result<(ObjectHandle, ObjectHandle)> {
    let (mut public, mut private) = pair_templates(id, label, token, true);
    public.push(Attribute::Verify(true));
    public.push(Attribute::EcParams(ec_params(spec).to_vec()));
    private.push(Attribute::Derive(false));
    let mech = if spec == SigningKeySpec::EcCurve25519 {
        Mechanism::EccEdwardsKeyPairGen
    } else {
        Mechanism::EccKeyPairGen
    };
    s.generate_key_pair(&mech, &public, &private)
        .map_err(|e| ck_err("generating a signing key pair", e))
}

fn generate_encryption(
    s: &Session,
    spec: EncryptionKeySpec,
    id: &[u8],
    label: &[u8],
    token: bool,
    rsa_bits: u64,
) -> Result<(ObjectHandle, ObjectHandle)> {
    let (mut public, mut private) = pair_templates(id, label, token, false);
    let mech = match spec {
        EncryptionKeySpec::EcP256 => {
            public.push(Attribute::Verify(false));
            public.push(Attribute::EcParams(EC_PARAMS_P256.to_vec()));
            private.push(Attribute::Derive(true));
            Mechanism::EccKeyPairGen
        }
        EncryptionKeySpec::Rsa2048 => {
            public.push(Attribute::Encrypt(true));
            public.push(Attribute::Verify(false));
            public.push(Attribute::ModulusBits(rsa_bits.into()));
            public.push(Attribute::PublicExponent(vec![0x01, 0x00, 0x01]));
            private.push(Attribute::Decrypt(true));
            Mechanism::RsaPkcsKeyPairGen
        }
    };
    s.generate_key_pair(&mech, &public, &private)
        .map_err(|e| ck_err("generating an encryption key pair", e))
}

fn oaep_sha256() -> Mechanism<'static> {
    Mechanism::RsaPkcsOaep(PkcsOaepParams::new(
        MechanismType::SHA256,
        PkcsMgfType::MGF1_SHA256,
        PkcsOaepSource::empty(),
    ))
}

/// ECDH on the token: derive the shared x-coordinate into a session object, read it, destroy it.
fn ecdh_on_token(s: &Session, private: ObjectHandle, peer: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
    let template = [
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::GENERIC_SECRET),
        Attribute::Token(false),
        Attribute::Sensitive(false),
        Attribute::Extractable(true),
        Attribute::ValueLen(32u64.into()),
    ];
    let derive = |point: &[u8]| {
        let mech = Mechanism::Ecdh1Derive(Ecdh1DeriveParams::new(EcKdf::null(), point));
        s.derive_key(&mech, private, &template)
    };
    // The standard wants the bare point; some modules want it DER-wrapped.
    let h = match derive(peer) {
        Ok(h) => h,
        Err(_) => derive(&der_tlv(0x04, peer)).map_err(|e| ck_err("ECDH derive", e))?,
    };
    let value = s.get_attributes(h, &[AttributeType::Value]);
    let _ = s.destroy_object(h);
    let value = value.map_err(|e| ck_err("reading the derived secret", e))?;
    let z = value
        .into_iter()
        .find_map(|a| match a {
            Attribute::Value(v) => Some(Zeroizing::new(v)),
            _ => None,
        })
        .ok_or_else(|| kms_err("PKCS#11: the derived ECDH secret has no value"))?;
    let mut out = Zeroizing::new([0u8; 32]);
    if z.len() != 32 {
        return Err(kms_err(format!(
            "PKCS#11: the derived ECDH secret is {} bytes, not 32",
            z.len()
        )));
    }
    out.copy_from_slice(&z);
    Ok(out)
}

fn probe(s: &Session, mechs: &[MechanismType]) -> Caps {
    let has = |m: MechanismType| mechs.contains(&m);
    let mut c = Caps::default();
    let gap = |c: &mut Caps, name: &str, why: String| c.gaps.push((name.to_string(), why));
    let id = b"tresor-probe".to_vec();
    let trial = |spec: SigningKeySpec| match generate_signing(s, spec, &id, &id, false) {
        Ok((a, b)) => {
            let _ = s.destroy_object(a);
            let _ = s.destroy_object(b);
            Ok(())
        }
        Err(e) => Err(e),
    };
    let ec = has(MechanismType::ECC_KEY_PAIR_GEN) && has(MechanismType::ECDSA);
    let ecdsa = |spec: SigningKeySpec| -> std::result::Result<(), String> {
        if !ec {
            return Err("the token lacks CKM_EC_KEY_PAIR_GEN or CKM_ECDSA".into());
        }
        trial(spec).map_err(|e| format!("the token cannot generate the curve ({e})"))
    };
    match ecdsa(SigningKeySpec::EcP256) {
        Ok(()) => c.ecdsa_p256 = true,
        Err(w) => gap(&mut c, "EC-P256 signing", w),
    }
    match ecdsa(SigningKeySpec::EcP384) {
        Ok(()) => c.ecdsa_p384 = true,
        Err(w) => gap(&mut c, "EC-P384 signing", w),
    }
    match ecdsa(SigningKeySpec::EcSecp256k1) {
        Ok(()) => c.ecdsa_secp256k1 = true,
        Err(w) => gap(&mut c, "EC-Secp256k1 signing", w),
    }
    if has(MechanismType::ECC_EDWARDS_KEY_PAIR_GEN) && has(MechanismType::EDDSA) {
        match trial(SigningKeySpec::EcCurve25519) {
            Ok(()) => c.ed25519 = true,
            Err(e) => gap(
                &mut c,
                "Ed25519",
                format!("the token cannot generate Ed25519 keys ({e})"),
            ),
        }
    } else {
        gap(
            &mut c,
            "Ed25519",
            "the token lacks CKM_EC_EDWARDS_KEY_PAIR_GEN or CKM_EDDSA".into(),
        );
    }
    // ECIES: derive with our own public point, and read the secret back.
    if has(MechanismType::ECC_KEY_PAIR_GEN) && has(MechanismType::ECDH1_DERIVE) {
        let r = generate_encryption(s, EncryptionKeySpec::EcP256, &id, &id, false, 0).and_then(
            |(public, private)| {
                let point = s
                    .get_attributes(public, &[AttributeType::EcPoint])
                    .map_err(|e| ck_err("reading the probe point", e))
                    .and_then(|a| {
                        attr_bytes(&a, AttributeType::EcPoint)
                            .and_then(|p| unwrap_ec_point(p, 65))
                            .map(<[u8]>::to_vec)
                            .ok_or_else(|| kms_err("probe point malformed"))
                    });
                let r = point.and_then(|p| ecdh_on_token(s, private, &p).map(|_| ()));
                let _ = s.destroy_object(public);
                let _ = s.destroy_object(private);
                r
            },
        );
        match r {
            Ok(()) => c.ecies = true,
            Err(e) => gap(
                &mut c,
                "ECIES_HMAC256_AES128-CBC",
                format!("ECDH derive on the token failed ({e})"),
            ),
        }
    } else {
        gap(
            &mut c,
            "ECIES_HMAC256_AES128-CBC",
            "the token lacks CKM_ECDH1_DERIVE".into(),
        );
    }
    // RSA-OAEP with SHA-256 / MGF1-SHA-256 (a small session key is enough to test the parameters).
    if has(MechanismType::RSA_PKCS_KEY_PAIR_GEN) && has(MechanismType::RSA_PKCS_OAEP) {
        let r = generate_encryption(s, EncryptionKeySpec::Rsa2048, &id, &id, false, 1024).and_then(
            |(public, private)| {
                let r = s
                    .encrypt(&oaep_sha256(), public, b"probe")
                    .and_then(|ct| s.decrypt(&oaep_sha256(), private, &ct))
                    .map_err(|e| ck_err("OAEP-SHA256 trial", e));
                let _ = s.destroy_object(public);
                let _ = s.destroy_object(private);
                r
            },
        );
        match r {
            Ok(pt) if pt == b"probe" => c.rsa_oaep_sha256 = true,
            Ok(_) => gap(
                &mut c,
                "RSA-OAEP-SHA256",
                "the token's OAEP-SHA256 round trip returned the wrong plaintext".into(),
            ),
            Err(e) => gap(
                &mut c,
                "RSA-OAEP-SHA256",
                format!(
                    "the token refuses CKM_RSA_PKCS_OAEP with SHA-256/MGF1-SHA256 ({e}; SoftHSM2's OAEP is SHA-1 only)"
                ),
            ),
        }
    } else {
        gap(
            &mut c,
            "RSA-OAEP-SHA256",
            "the token lacks CKM_RSA_PKCS_KEY_PAIR_GEN or CKM_RSA_PKCS_OAEP".into(),
        );
    }
    if has(MechanismType::AES_KEY_GEN) && has(MechanismType::AES_GCM) {
        c.aes_gcm = true;
    } else {
        gap(
            &mut c,
            "AES-256-GCM",
            "the token lacks CKM_AES_KEY_GEN or CKM_AES_GCM".into(),
        );
    }
    c
}

fn sign_on(
    s: &Session,
    key_id: &KmsKeyId,
    data: &[u8],
    algo: SigningAlgorithmSpec,
) -> Result<Vec<u8>> {
    let k = find_key(s, key_id)?;
    let spec = match key_spec(s, &k, key_id)? {
        KmsKeySpec::Signing(spec) => spec,
        _ => {
            return Err(kms_err(format!(
                "PKCS#11 key {key_id} is not a signing key"
            )));
        }
    };
    let private = k.private.ok_or_else(|| not_found(key_id))?;
    let mismatch = || {
        kms_err(format!(
            "PKCS#11 key {key_id} ({spec}) cannot sign with {algo}"
        ))
    };
    match (spec, algo) {
        (SigningKeySpec::EcCurve25519, SigningAlgorithmSpec::Ed25519) => s
            .sign(
                &Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
                private,
                data,
            )
            .map_err(|e| ck_err("EdDSA sign", e)),
        (
            SigningKeySpec::EcP256 | SigningKeySpec::EcSecp256k1,
            SigningAlgorithmSpec::EcDsaSha256,
        ) => {
            use sha2::Digest;
            let digest = sha2::Sha256::digest(data);
            let raw = s
                .sign(&Mechanism::Ecdsa, private, &digest)
                .map_err(|e| ck_err("ECDSA sign", e))?;
            ecdsa_raw_to_der(spec, &raw)
        }
        (SigningKeySpec::EcP384, SigningAlgorithmSpec::EcDsaSha384) => {
            use sha2::Digest;
            let digest = sha2::Sha384::digest(data);
            let raw = s
                .sign(&Mechanism::Ecdsa, private, &digest)
                .map_err(|e| ck_err("ECDSA sign", e))?;
            ecdsa_raw_to_der(spec, &raw)
        }
        _ => Err(mismatch()),
    }
}

fn decrypt_asym_on(
    s: &Session,
    key_id: &KmsKeyId,
    ct: &[u8],
    algo: EncryptionAlgorithmSpec,
    caps: &Caps,
) -> Result<Zeroizing<Vec<u8>>> {
    let k = find_key(s, key_id)?;
    let spec = match key_spec(s, &k, key_id)? {
        KmsKeySpec::Encryption(spec) => spec,
        _ => {
            return Err(kms_err(format!(
                "PKCS#11 key {key_id} is not an encryption key"
            )));
        }
    };
    let private = k.private.ok_or_else(|| not_found(key_id))?;
    match (spec, algo) {
        (EncryptionKeySpec::Rsa2048, EncryptionAlgorithmSpec::RsaOaepSha256) => {
            if !caps.rsa_oaep_sha256 {
                return Err(kms_err(
                    "PKCS#11: this token does not support RSA-OAEP with SHA-256",
                ));
            }
            s.decrypt(&oaep_sha256(), private, ct)
                .map(Zeroizing::new)
                .map_err(|e| match e {
                    CkError::Pkcs11(
                        RvError::EncryptedDataInvalid | RvError::EncryptedDataLenRange,
                        _,
                    ) => Error::decryption_failed(),
                    e => ck_err("RSA-OAEP decrypt", e),
                })
        }
        (EncryptionKeySpec::EcP256, EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Cbc) => {
            if !caps.ecies {
                return Err(kms_err("PKCS#11: this token cannot do ECDH derivation"));
            }
            ecies_cbc_decrypt_with_ecdh::<DefaultBackend>(ct, |v| {
                ecdh_on_token(s, private, v).map_err(|e| {
                    if e.kind().is_retryable() {
                        e
                    } else {
                        Error::decryption_failed()
                    }
                })
            })
        }
        _ => Err(kms_err(format!(
            "PKCS#11 key {key_id} ({spec}) cannot decrypt {algo}"
        ))),
    }
}

fn symmetric_key(s: &Session, key_id: &KmsKeyId) -> Result<ObjectHandle> {
    let k = find_key(s, key_id)?;
    match key_spec(s, &k, key_id)? {
        KmsKeySpec::Symmetric => k.secret.ok_or_else(|| not_found(key_id)),
        _ => Err(kms_err(format!(
            "PKCS#11 key {key_id} is not a symmetric key"
        ))),
    }
}

fn encrypt_sym_on(s: &Session, key_id: &KmsKeyId, data: &[u8]) -> Result<Vec<u8>> {
    let h = symmetric_key(s, key_id)?;
    let mut iv = [0u8; GCM_IV_LEN];
    random_bytes(&mut iv)?;
    let mut iv_param = iv;
    let params = GcmParams::new(&mut iv_param, &[], ((GCM_TAG_LEN * 8) as u64).into())
        .map_err(|e| ck_err("AES-GCM parameters", e))?;
    let body = s
        .encrypt(&Mechanism::AesGcm(params), h, data)
        .map_err(|e| ck_err("AES-GCM encrypt", e))?;
    let mut out = Vec::with_capacity(GCM_IV_LEN + body.len());
    out.extend_from_slice(&iv);
    out.extend_from_slice(&body);
    Ok(out)
}

fn decrypt_sym_on(s: &Session, key_id: &KmsKeyId, ct: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    if ct.len() < GCM_IV_LEN + GCM_TAG_LEN {
        return Err(Error::new(
            ErrorKind::MalformedCiphertext,
            format!(
                "an AES-GCM ciphertext is at least {} bytes (IV + tag), got {}",
                GCM_IV_LEN + GCM_TAG_LEN,
                ct.len()
            ),
        ));
    }
    let h = symmetric_key(s, key_id)?;
    let (iv, body) = ct.split_at(GCM_IV_LEN);
    let mut iv = iv.to_vec();
    let params = GcmParams::new(&mut iv, &[], ((GCM_TAG_LEN * 8) as u64).into())
        .map_err(|e| ck_err("AES-GCM parameters", e))?;
    s.decrypt(&Mechanism::AesGcm(params), h, body)
        .map(Zeroizing::new)
        .map_err(|e| match e {
            CkError::Pkcs11(
                RvError::EncryptedDataInvalid
                | RvError::EncryptedDataLenRange
                | RvError::FunctionFailed,
                _,
            ) => Error::decryption_failed(),
            e => ck_err("AES-GCM decrypt", e),
        })
}

fn exists_on(s: &Session, key_id: &KmsKeyId) -> Result<()> {
    let k = find_key(s, key_id)?;
    let (h, usable) = match (k.private, k.secret) {
        (Some(h), _) => (
            h,
            [
                AttributeType::Sign,
                AttributeType::Decrypt,
                AttributeType::Derive,
            ],
        ),
        (None, Some(h)) => (
            h,
            [
                AttributeType::Encrypt,
                AttributeType::Decrypt,
                AttributeType::Derive,
            ],
        ),
        (None, None) => return Err(not_found(key_id)),
    };
    let a = attrs(s, h, &usable)?;
    if usable.iter().any(|t| attr_bool(&a, *t)) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::KmsKeyDisabled,
            format!("PKCS#11 key {key_id} may not be used (no sign, decrypt or derive permission)"),
        ))
    }
}

impl Pkcs11Kms {
    /// Load the module, find the token by label, log in and open the session pool, then probe what the
    /// token can do. A refused PIN is [`ErrorKind::KmsPermissionDenied`].
    pub async fn open(config: Pkcs11Config) -> Result<Self> {
        let pin = config.read_pin()?;
        let pool_size = config.session_pool_size.max(1);
        let audit = config.audit_logging;
        let (inner, caps) = tokio::task::spawn_blocking(move || -> Result<(Inner, Caps)> {
            let (ctx, object_lock) = context(&config.module_path)?;
            let slot = find_slot(&ctx, &config.token_label)?;
            let mechs = ctx
                .get_mechanism_list(slot)
                .map_err(|e| ck_err("listing mechanisms", e))?;
            let inner = Inner {
                ctx,
                object_lock,
                slot,
                token_label: config.token_label.clone(),
                pin,
                sessions: Mutex::new(Vec::with_capacity(pool_size)),
            };
            let mut sessions = Vec::with_capacity(pool_size);
            for _ in 0..pool_size {
                sessions.push(inner.open_session()?);
            }
            let caps = match sessions.first() {
                Some(s) => inner.with_object_lock(true, || Ok(probe(s, &mechs)))?,
                None => Caps::default(),
            };
            *inner
                .sessions
                .lock()
                .map_err(|_| Error::internal("lock poisoned"))? = sessions;
            Ok((inner, caps))
        })
        .await
        .map_err(|_| Error::internal("the PKCS#11 open task failed"))??;
        let kms = Self {
            inner: Arc::new(inner),
            permits: Arc::new(Semaphore::new(pool_size)),
            caps,
            pool_size,
            audit,
        };
        if kms.supported_signing_key_specs().is_empty()
            || kms.supported_encryption_key_specs().is_empty()
        {
            return Err(kms_err(format!(
                "PKCS#11 token '{}' supports no signing or no encryption scheme tresor uses",
                kms.inner.token_label
            )));
        }
        Ok(kms)
    }

    /// What the token cannot do, as (scheme name, reason), found when the driver opened.
    pub fn gaps(&self) -> &[(String, String)] {
        &self.caps.gaps
    }

    /// The number of sessions in the pool.
    pub fn session_pool_size(&self) -> usize {
        self.pool_size
    }

    /// Run `f` on a free pooled session, on the blocking thread pool. Operations that create or destroy
    /// token objects (`generate_*`, `delete_key`) hold the module's object lock.
    async fn run<T, F>(&self, op: &'static str, key_id: Option<&KmsKeyId>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Session, &Caps) -> Result<T> + Send + 'static,
    {
        let start = Instant::now();
        let permit =
            self.permits.clone().acquire_owned().await.map_err(|_| {
                Error::new(ErrorKind::KmsUnavailable, "PKCS#11 session pool closed")
            })?;
        let inner = self.inner.clone();
        let caps = self.caps.clone();
        let exclusive = op.starts_with("generate") || op == "delete_key";
        let r = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let s = inner.take()?;
            let r = inner.with_object_lock(exclusive, || f(&s, &caps));
            match &r {
                // A broken session is dropped (closed); the next call opens a fresh one.
                Err(e) if e.kind() == ErrorKind::KmsUnavailable => drop(s),
                _ => inner.give_back(s),
            }
            r
        })
        .await
        .unwrap_or_else(|_| Err(Error::internal("a PKCS#11 task panicked")));
        if self.audit {
            let outcome = match &r {
                Ok(_) => "ok".to_string(),
                Err(e) => format!("error {:?}", e.kind()),
            };
            eprintln!(
                "pkcs11 audit: token={} op={op} key={} outcome={outcome} duration_ms={}",
                self.inner.token_label,
                key_id.map(KmsKeyId::as_str).unwrap_or("-"),
                start.elapsed().as_millis()
            );
        }
        r
    }

    async fn generate_pair(&self, spec: KmsKeySpec, name: Option<&str>) -> Result<KmsKeyId> {
        check_key_name(name)?;
        let id = new_ck_id()?;
        let hex = to_hex(&id);
        let label = name.unwrap_or(&hex).as_bytes().to_vec();
        self.run("generate_key_pair", None, move |s, _| {
            match spec {
                KmsKeySpec::Signing(spec) => generate_signing(s, spec, &id, &label, true),
                KmsKeySpec::Encryption(spec) => {
                    generate_encryption(s, spec, &id, &label, true, 2048)
                }
                KmsKeySpec::Symmetric => Err(Error::internal("not a key pair")),
            }
            .map(|_| ())
        })
        .await?;
        KmsKeyId::new(hex)
    }
}

#[async_trait]
impl KmsDriver for Pkcs11Kms {
    fn provider(&self) -> &str {
        "pkcs11"
    }

    async fn health(&self) -> KmsHealth {
        let inner = self.inner.clone();
        let r = tokio::task::spawn_blocking(move || {
            inner
                .ctx
                .get_token_info(inner.slot)
                .map(|t| t.label().trim_end() == inner.token_label)
        })
        .await;
        match r {
            Ok(Ok(true)) => KmsHealth::Ok,
            Ok(Ok(false)) => KmsHealth::Failed("PKCS#11: the slot holds a different token".into()),
            Ok(Err(e)) => KmsHealth::Failed(format!("PKCS#11: token info unavailable: {e}")),
            Err(_) => KmsHealth::Failed("PKCS#11: the health task failed".into()),
        }
    }

    fn supported_signing_key_specs(&self) -> Vec<SigningKeySpec> {
        let c = &self.caps;
        [
            (c.ed25519, SigningKeySpec::EcCurve25519),
            (c.ecdsa_p256, SigningKeySpec::EcP256),
            (c.ecdsa_p384, SigningKeySpec::EcP384),
            (c.ecdsa_secp256k1, SigningKeySpec::EcSecp256k1),
        ]
        .into_iter()
        .filter_map(|(ok, s)| ok.then_some(s))
        .collect()
    }

    fn supported_signing_algo_specs(&self) -> Vec<SigningAlgorithmSpec> {
        let c = &self.caps;
        [
            (c.ed25519, SigningAlgorithmSpec::Ed25519),
            (
                c.ecdsa_p256 || c.ecdsa_secp256k1,
                SigningAlgorithmSpec::EcDsaSha256,
            ),
            (c.ecdsa_p384, SigningAlgorithmSpec::EcDsaSha384),
        ]
        .into_iter()
        .filter_map(|(ok, s)| ok.then_some(s))
        .collect()
    }

    fn supported_encryption_key_specs(&self) -> Vec<EncryptionKeySpec> {
        let c = &self.caps;
        [
            (c.ecies, EncryptionKeySpec::EcP256),
            (c.rsa_oaep_sha256, EncryptionKeySpec::Rsa2048),
        ]
        .into_iter()
        .filter_map(|(ok, s)| ok.then_some(s))
        .collect()
    }

    fn supported_encryption_algo_specs(&self) -> Vec<EncryptionAlgorithmSpec> {
        let c = &self.caps;
        [
            (
                c.ecies,
                EncryptionAlgorithmSpec::EciesHkdfHmacSha256Aes128Cbc,
            ),
            (c.rsa_oaep_sha256, EncryptionAlgorithmSpec::RsaOaepSha256),
        ]
        .into_iter()
        .filter_map(|(ok, s)| ok.then_some(s))
        .collect()
    }

    async fn generate_signing_key_pair(
        &self,
        spec: SigningKeySpec,
        name: Option<&str>,
    ) -> Result<KmsKeyId> {
        if !self.supported_signing_key_specs().contains(&spec) {
            return Err(kms_err(format!(
                "PKCS#11: this token cannot do {spec} signing"
            )));
        }
        self.generate_pair(KmsKeySpec::Signing(spec), name).await
    }

    async fn generate_encryption_key_pair(
        &self,
        spec: EncryptionKeySpec,
        name: Option<&str>,
    ) -> Result<KmsKeyId> {
        if !self.supported_encryption_key_specs().contains(&spec) {
            return Err(kms_err(format!(
                "PKCS#11: this token cannot do {spec} encryption"
            )));
        }
        self.generate_pair(KmsKeySpec::Encryption(spec), name).await
    }

    async fn generate_symmetric_key(&self, name: Option<&str>) -> Result<KmsKeyId> {
        check_key_name(name)?;
        if !self.caps.aes_gcm {
            return Err(kms_err("PKCS#11: this token cannot do AES-GCM"));
        }
        let id = new_ck_id()?;
        let hex = to_hex(&id);
        let label = name.unwrap_or(&hex).as_bytes().to_vec();
        self.run("generate_symmetric_key", None, move |s, _| {
            let template = [
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Id(id),
                Attribute::Label(label),
                Attribute::KeyType(KeyType::AES),
                Attribute::ValueLen(32u64.into()),
                Attribute::Encrypt(true),
                Attribute::Decrypt(true),
            ];
            s.generate_key(&Mechanism::AesKeyGen, &template)
                .map(|_| ())
                .map_err(|e| ck_err("generating an AES key", e))
        })
        .await?;
        KmsKeyId::new(hex)
    }

    async fn sign(
        &self,
        key_id: &KmsKeyId,
        data: &[u8],
        algo: SigningAlgorithmSpec,
    ) -> Result<Vec<u8>> {
        check_input("sign", data.len(), MAX_SIGN_INPUT)?;
        let (id, data) = (key_id.clone(), data.to_vec());
        self.run("sign", Some(key_id), move |s, _| {
            sign_on(s, &id, &data, algo)
        })
        .await
    }

    async fn decrypt_asymmetric(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
        algo: EncryptionAlgorithmSpec,
    ) -> Result<Zeroizing<Vec<u8>>> {
        check_input(
            "decrypt_asymmetric",
            ciphertext.len(),
            MAX_ASYMMETRIC_CIPHERTEXT,
        )?;
        let (id, ct) = (key_id.clone(), ciphertext.to_vec());
        self.run("decrypt_asymmetric", Some(key_id), move |s, caps| {
            decrypt_asym_on(s, &id, &ct, algo, caps)
        })
        .await
    }

    async fn encrypt_symmetric(&self, key_id: &KmsKeyId, data: &[u8]) -> Result<Vec<u8>> {
        check_input("encrypt_symmetric", data.len(), MAX_SYMMETRIC_PLAINTEXT)?;
        let (id, data) = (key_id.clone(), Zeroizing::new(data.to_vec()));
        let ct = self
            .run("encrypt_symmetric", Some(key_id), move |s, _| {
                encrypt_sym_on(s, &id, &data)
            })
            .await?;
        check_result("encrypt_symmetric", ct.len(), MAX_SYMMETRIC_CIPHERTEXT)?;
        Ok(ct)
    }

    async fn decrypt_symmetric(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        check_input(
            "decrypt_symmetric",
            ciphertext.len(),
            MAX_SYMMETRIC_CIPHERTEXT,
        )?;
        let (id, ct) = (key_id.clone(), ciphertext.to_vec());
        self.run("decrypt_symmetric", Some(key_id), move |s, _| {
            decrypt_sym_on(s, &id, &ct)
        })
        .await
    }

    async fn get_public_key(&self, key_id: &KmsKeyId) -> Result<KmsPublicKey> {
        let id = key_id.clone();
        self.run("get_public_key", Some(key_id), move |s, _| {
            let k = find_key(s, &id)?;
            let spec = key_spec(s, &k, &id)?;
            let key = public_key(s, &k, spec, &id)?;
            Ok(KmsPublicKey { key, spec })
        })
        .await
    }

    async fn key_exists_and_is_active(&self, key_id: &KmsKeyId) -> Result<()> {
        let id = key_id.clone();
        self.run("key_exists_and_is_active", Some(key_id), move |s, _| {
            exists_on(s, &id)
        })
        .await
    }

    async fn delete_key(&self, key_id: &KmsKeyId) -> Result<()> {
        let id = key_id.clone();
        self.run("delete_key", Some(key_id), move |s, _| {
            let k = find_key(s, &id)?;
            if k.all.is_empty() {
                return Err(not_found(&id));
            }
            for h in k.all {
                s.destroy_object(h)
                    .map_err(|e| ck_err("destroying a key object", e))?;
            }
            Ok(())
        })
        .await
    }
}
