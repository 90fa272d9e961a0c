//! The vault: open from a config file or string, then generate, list, sign, decrypt, rotate, register,
//! export and import by fingerprint.

use std::ffi::{CStr, CString, c_char};
use std::path::PathBuf;
use std::sync::Arc;

use tresor_core::config::{Config, ConfigSources, OpenOptions};
use tresor_core::kms::{KmsDriver, KmsHealth, KmsKeyId};
use tresor_core::vault::KeyInfo;
use tresor_core::vault::blocking::BlockingVault;
use tresor_core::{
    EncryptionAlgorithmSpec, EncryptionKeySpec, Error, ErrorKind, KeySpec, Purpose,
    SigningAlgorithmSpec, SigningKeySpec, SigningKeyUsageSet,
};
use zeroize::Zeroizing;

use crate::driver::{CDriver, tresor_kms_driver_v1, tresor_kms_health};
use crate::ffi::{
    Handle, Out, Result, Tagged, boundary, boundary_value, bytes_in, c_string, fingerprint_in,
    opt_str_in, static_c, str_in, tresor_bytes,
};
use crate::keys::{PublicKeyHandle, tresor_fingerprint, tresor_public_key};
use crate::status::tresor_status;

/// An open vault: a key store and, in envelope and external modes, a KMS. Thread-safe: one handle
/// may be used from many threads at once (operations on cached keys run in parallel). Free it
/// once, after every other thread is done with it.
#[derive(Debug)]
pub struct tresor_vault {
    _private: [u8; 0],
}

/// Options for opening a vault (a builder). Not thread-safe: use one from one thread at a time.
#[derive(Debug)]
pub struct tresor_vault_options {
    _private: [u8; 0],
}

/// A snapshot of the vault's keys, from `tresor_vault_list`. Immutable; thread-safe.
#[derive(Debug)]
pub struct tresor_key_list {
    _private: [u8; 0],
}

/// One key of a `tresor_key_list`, borrowed from it: valid until the list is freed; never freed on
/// its own.
#[derive(Debug)]
pub struct tresor_key_info {
    _private: [u8; 0],
}

struct VaultHandle {
    v: BlockingVault,
}

impl Handle for VaultHandle {
    const MAGIC: u64 = 0x7472_6573_6f72_0003;
    const NAME: &'static str = "tresor_vault";
}

#[derive(Default)]
struct OptionsHandle {
    create: bool,
    kms_passphrase: Option<Zeroizing<String>>,
    audit_log_file: Option<PathBuf>,
    max_retries: Option<u32>,
    driver: Option<Arc<CDriver>>,
}

impl Handle for OptionsHandle {
    const MAGIC: u64 = 0x7472_6573_6f72_0004;
    const NAME: &'static str = "tresor_vault_options";
}

pub(crate) struct KeyInfoC {
    fingerprint: CString,
    name: Option<CString>,
    purpose: &'static CStr,
    spec: CString,
    usage: Option<CString>,
    storage: *const c_char,
    kms_key_id: Option<CString>,
    created_at: i64,
}

// SAFETY: `storage` points to a process-lifetime static string (from `static_c`); the rest is owned.
unsafe impl Send for KeyInfoC {}
// SAFETY: as above; nothing is mutated after construction.
unsafe impl Sync for KeyInfoC {}

impl Handle for KeyInfoC {
    const MAGIC: u64 = 0x7472_6573_6f72_0006;
    const NAME: &'static str = "tresor_key_info";
}

struct KeyListHandle {
    items: Vec<Tagged<KeyInfoC>>,
}

impl Handle for KeyListHandle {
    const MAGIC: u64 = 0x7472_6573_6f72_0005;
    const NAME: &'static str = "tresor_key_list";
}

impl KeyInfoC {
    fn new(k: &KeyInfo) -> Self {
        Self {
            fingerprint: c_string(&k.fingerprint.to_string()),
            name: k.name.as_deref().map(c_string),
            purpose: match k.purpose() {
                Purpose::Signing => c"signing",
                Purpose::Encryption => c"encryption",
            },
            spec: c_string(k.spec.as_str()),
            usage: k.usage.map(|u| c_string(&u.to_string())),
            storage: static_c(k.storage.as_str()),
            kms_key_id: k.kms_key_id.as_ref().map(|i| c_string(i.as_str())),
            created_at: k.created_at,
        }
    }
}

/// Borrow a vault handle.
///
/// # Safety
/// `p` is NULL or a live tresor handle.
unsafe fn vault<'a>(p: *const tresor_vault) -> Result<&'a BlockingVault> {
    // SAFETY: forwarded contract.
    unsafe { Tagged::<VaultHandle>::get(p, "vault") }.map(|h| &h.v)
}

// --- options -------------------------------------------------------------------------------------

/// Create an options builder with the defaults: do not create missing files, no software KMS
/// passphrase, the audit log where the config says, Canton's retry policy (retry transient KMS
/// failures without limit), the KMS the config names.
///
/// # Safety
/// `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_options_new(
    out: *mut *mut tresor_vault_options,
) -> tresor_status {
    boundary("tresor_vault_options_new", || {
        // SAFETY: the caller's contract.
        let out = unsafe { Out::new(out, "out") }?;
        out.write(Tagged::box_into_raw(OptionsHandle::default()));
        Ok(())
    })
}

/// Borrow an options handle mutably.
///
/// # Safety
/// `p` is NULL or a live options handle used by this thread only.
unsafe fn options<'a>(p: *mut tresor_vault_options) -> Result<&'a mut OptionsHandle> {
    // SAFETY: forwarded contract.
    unsafe { Tagged::<OptionsHandle>::get_mut(p, "options") }
}

/// Create the key store (and the software KMS file) when they do not exist yet, as `tresor init`
/// does. Default: false (a missing file is an error naming it).
///
/// # Safety
/// `options` is a live options handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_options_set_create(
    options: *mut tresor_vault_options,
    create: bool,
) -> tresor_status {
    boundary("tresor_vault_options_set_create", || {
        // SAFETY: the caller's contract.
        unsafe { self::options(options) }?.create = create;
        Ok(())
    })
}

/// The software KMS passphrase, for a config that names neither a key file nor a passphrase file.
/// Copied (and wiped when the options are freed); wipe your copy.
///
/// # Safety
/// `options` is a live options handle; `passphrase` is a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_options_set_kms_passphrase(
    options: *mut tresor_vault_options,
    passphrase: *const c_char,
) -> tresor_status {
    boundary("tresor_vault_options_set_kms_passphrase", || {
        // SAFETY: the caller's contract.
        let (o, p) = unsafe { (self::options(options)?, str_in(passphrase, "passphrase")?) };
        if p.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "the passphrase is empty",
            ));
        }
        o.kms_passphrase = Some(Zeroizing::new(p.to_string()));
        Ok(())
    })
}

/// Where the KMS audit log goes when the config enables `audit-logging` (default: the
/// `KMS_LOG_FILE_NAME` environment variable, else `tresor-kms-audit.log` next to the config file).
///
/// # Safety
/// `options` is a live options handle; `path` is a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_options_set_audit_log_file(
    options: *mut tresor_vault_options,
    path: *const c_char,
) -> tresor_status {
    boundary("tresor_vault_options_set_audit_log_file", || {
        // SAFETY: the caller's contract.
        let (o, p) = unsafe { (self::options(options)?, str_in(path, "path")?) };
        o.audit_log_file = Some(PathBuf::from(p));
        Ok(())
    })
}

/// Give up on a transiently failing KMS after `max_retries` retries (Canton's default, used when this
/// is not called, retries without limit).
///
/// # Safety
/// `options` is a live options handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_options_set_max_retries(
    options: *mut tresor_vault_options,
    max_retries: u32,
) -> tresor_status {
    boundary("tresor_vault_options_set_max_retries", || {
        // SAFETY: the caller's contract.
        unsafe { self::options(options) }?.max_retries = Some(max_retries);
        Ok(())
    })
}

/// Use a KMS driver written in C (see `tresor_kms_driver_v1`). The config must then have no `[kms]`
/// block or `[kms] type = "driver"`. The table is copied; from this call on tresor owns `ctx` and
/// calls `release` once when done with it (when the options and every vault opened with them are
/// freed). On failure nothing is kept and `release` is not called.
///
/// # Safety
/// `options` is a live options handle; `driver` points to a filled table whose strings and functions
/// are valid as documented.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_options_set_kms_driver(
    options: *mut tresor_vault_options,
    driver: *const tresor_kms_driver_v1,
) -> tresor_status {
    boundary("tresor_vault_options_set_kms_driver", || {
        // SAFETY: the caller's contract.
        let o = unsafe { self::options(options) }?;
        if driver.is_null() {
            return Err(crate::ffi::null("driver"));
        }
        // SAFETY: non-NULL and filled as documented (the caller's contract).
        let d = unsafe { CDriver::new(&*driver) }?;
        o.driver = Some(Arc::new(d));
        Ok(())
    })
}

/// Release an options builder (the passphrase is wiped). NULL is ignored.
///
/// # Safety
/// `options` is NULL or a live options handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_options_free(options: *mut tresor_vault_options) {
    boundary("tresor_vault_options_free", || {
        // SAFETY: the caller's contract.
        unsafe { Tagged::<OptionsHandle>::box_free(options, "options") }
    });
}

// --- opening -------------------------------------------------------------------------------------

fn open(cfg: &Config, o: Option<&OptionsHandle>) -> Result<BlockingVault> {
    let mut opts = OpenOptions::new();
    if let Some(o) = o {
        opts = opts.create(o.create);
        if let Some(p) = &o.audit_log_file {
            opts = opts.audit_log_file(p);
        }
        if let Some(p) = &o.kms_passphrase {
            opts = opts.kms_passphrase(p.clone());
        }
        if let Some(n) = o.max_retries {
            opts = opts.max_retries(n);
        }
        if let Some(d) = &o.driver {
            opts = opts.driver(d.clone() as Arc<dyn KmsDriver>);
        }
    }
    BlockingVault::open(cfg, opts)
}

/// Open the vault a tresor config file (`tresor.toml`, as written by `tresor init`) describes,
/// running Canton's start-up logic (schema and mode migrations). As with the `tresor` command, the
/// `TRESOR_*` environment variables override single settings of the file. `options` may be NULL
/// (defaults).
///
/// # Safety
/// `config_path` is a C string; `options` is NULL or a live options handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_open(
    config_path: *const c_char,
    options: *const tresor_vault_options,
    out: *mut *const tresor_vault,
) -> tresor_status {
    boundary("tresor_vault_open", || {
        // SAFETY: the caller's contract.
        let (path, out) = unsafe { (str_in(config_path, "config_path")?, Out::new(out, "out")?) };
        // SAFETY: the caller's contract.
        let o = unsafe { opt_options(options) }?;
        let cfg = Config::load(&ConfigSources::new().file(path))?;
        let v = open(&cfg, o)?;
        out.write(Tagged::arc_into_raw(VaultHandle { v }));
        Ok(())
    })
}

/// Open a vault from config text in tresor's TOML format (the content of a `tresor.toml`); relative
/// paths in it are taken from `base_dir` (NULL = the current directory). The environment is not
/// consulted. `options` may be NULL.
///
/// # Safety
/// `config` and `base_dir` are C strings (`base_dir` may be NULL); `options` is NULL or a live options
/// handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_open_config(
    config: *const c_char,
    base_dir: *const c_char,
    options: *const tresor_vault_options,
    out: *mut *const tresor_vault,
) -> tresor_status {
    boundary("tresor_vault_open_config", || {
        // SAFETY: the caller's contract.
        let (text, base, out) = unsafe {
            (
                str_in(config, "config")?,
                opt_str_in(base_dir, "base_dir")?,
                Out::new(out, "out")?,
            )
        };
        // SAFETY: the caller's contract.
        let o = unsafe { opt_options(options) }?;
        let base = match base {
            Some(b) => PathBuf::from(b),
            None => std::env::current_dir()?,
        };
        let cfg = Config::load(&ConfigSources::new().text(text, base).environment(false))?;
        let v = open(&cfg, o)?;
        out.write(Tagged::arc_into_raw(VaultHandle { v }));
        Ok(())
    })
}

/// Open the vault of a Canton node: the `crypto` block of `node` (a participant, sequencer or mediator)
/// in the Canton HOCON file `canton_config` gives the provider, the KMS and the private-key-store
/// encryption; the tresor config file `config_path` (NULL: `TRESOR_CONFIG`, else `./tresor.toml` when it
/// exists) gives the store, the cache and the role; the `TRESOR_*` environment variables override
/// single settings, as with the `tresor` command's `--canton-config`/`--node`. `options` may be NULL.
///
/// # Safety
/// `canton_config` and `node` are C strings; `config_path` is NULL or a C string; `options` is NULL or a
/// live options handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_open_canton(
    canton_config: *const c_char,
    node: *const c_char,
    config_path: *const c_char,
    options: *const tresor_vault_options,
    out: *mut *const tresor_vault,
) -> tresor_status {
    boundary("tresor_vault_open_canton", || {
        // SAFETY: the caller's contract.
        let (canton, node, path, out) = unsafe {
            (
                str_in(canton_config, "canton_config")?,
                str_in(node, "node")?,
                opt_str_in(config_path, "config_path")?,
                Out::new(out, "out")?,
            )
        };
        // SAFETY: the caller's contract.
        let o = unsafe { opt_options(options) }?;
        let mut sources = ConfigSources::new().canton(canton, node);
        if let Some(p) = path {
            sources = sources.file(p);
        }
        let v = open(&Config::load(&sources)?, o)?;
        out.write(Tagged::arc_into_raw(VaultHandle { v }));
        Ok(())
    })
}

/// # Safety
/// `p` is NULL or a live options handle not used by another thread during the call.
unsafe fn opt_options<'a>(p: *const tresor_vault_options) -> Result<Option<&'a OptionsHandle>> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    unsafe { Tagged::<OptionsHandle>::get(p, "options") }.map(Some)
}

/// Close a vault: its cached private keys are wiped and its connections closed. NULL is ignored.
/// No other thread may be using the vault. The call returns once the connections are closed; their
/// threads finish exiting a few milliseconds later (a leak checker run at process exit may see them).
///
/// # Safety
/// `vault` is NULL or a live vault handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_free(vault: *const tresor_vault) {
    boundary("tresor_vault_free", || {
        // SAFETY: the caller's contract.
        unsafe { Tagged::<VaultHandle>::arc_free(vault, "vault") }
    });
}

/// The vault's mode: `"clear"`, `"envelope"` or `"external"` (static string), or NULL if `vault` is
/// invalid.
///
/// # Safety
/// `vault` is NULL or a live vault handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_mode(vault: *const tresor_vault) -> *const c_char {
    boundary_value("tresor_vault_mode", std::ptr::null(), || {
        // SAFETY: the caller's contract.
        let v = unsafe { self::vault(vault) }?;
        Ok(static_c(v.vault().mode_name()))
    })
}

/// The KMS's health (`tresor_kms_health`) and, if `out_detail` is not NULL, a description (empty when
/// healthy). A clear-mode vault has no KMS and is always OK.
///
/// # Safety
/// `vault` is a live vault handle; `out_state` is writable; `out_detail` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_health(
    vault: *const tresor_vault,
    out_state: *mut tresor_kms_health,
    out_detail: *mut tresor_bytes,
) -> tresor_status {
    boundary("tresor_vault_health", || {
        // SAFETY: the caller's contract.
        let (v, state) = unsafe { (self::vault(vault)?, Out::new(out_state, "out_state")?) };
        let health = v.health();
        let (s, detail) = match health {
            KmsHealth::Ok => (tresor_kms_health::Ok, String::new()),
            KmsHealth::Degraded(d) => (tresor_kms_health::Degraded, d),
            KmsHealth::Failed(d) => (tresor_kms_health::Failed, d),
            KmsHealth::Fatal(d) => (tresor_kms_health::Fatal, d),
        };
        state.write(s);
        if !out_detail.is_null() {
            // SAFETY: non-NULL and writable (the caller's contract).
            unsafe { out_detail.write(tresor_bytes::from_slice(detail.as_bytes())) };
        }
        Ok(())
    })
}

// --- keys ----------------------------------------------------------------------------------------

/// Generate a signing key in the vault (in the node, or in the KMS in external mode). `spec` is
/// `"ec-curve-25519"`, `"ec-p-256"`, `"ec-p-384"` or `"ec-secp-256k-1"`; `usage` is a comma-separated
/// list of Canton usages (`"namespace"`, `"sequencer-auth"`, `"protocol"`, `"proof-of-ownership"`);
/// `name` may be NULL. Writes the new key's fingerprint.
///
/// # Safety
/// `vault` is a live vault handle; strings are C strings (`name` may be NULL); `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_generate_signing_key(
    vault: *const tresor_vault,
    spec: *const c_char,
    usage: *const c_char,
    name: *const c_char,
    out: *mut tresor_fingerprint,
) -> tresor_status {
    boundary("tresor_vault_generate_signing_key", || {
        // SAFETY: the caller's contract.
        let (v, spec, usage, name, out) = unsafe {
            (
                self::vault(vault)?,
                str_in(spec, "spec")?,
                str_in(usage, "usage")?,
                opt_str_in(name, "name")?,
                Out::new(out, "out")?,
            )
        };
        let spec: SigningKeySpec = spec.parse()?;
        let usage = SigningKeyUsageSet::parse_list(usage)?;
        let info = v.generate_signing_key(spec, usage, name)?;
        out.write(tresor_fingerprint::new(&info.fingerprint));
        Ok(())
    })
}

/// Generate an encryption key (`"ec-p-256"` for ECIES, `"rsa-2048"` for RSA-OAEP) in the vault.
///
/// # Safety
/// `vault` is a live vault handle; `spec` is a C string; `name` is NULL or a C string; `out` is
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_generate_encryption_key(
    vault: *const tresor_vault,
    spec: *const c_char,
    name: *const c_char,
    out: *mut tresor_fingerprint,
) -> tresor_status {
    boundary("tresor_vault_generate_encryption_key", || {
        // SAFETY: the caller's contract.
        let (v, spec, name, out) = unsafe {
            (
                self::vault(vault)?,
                str_in(spec, "spec")?,
                opt_str_in(name, "name")?,
                Out::new(out, "out")?,
            )
        };
        let spec: EncryptionKeySpec = spec.parse()?;
        let info = v.generate_encryption_key(spec, name)?;
        out.write(tresor_fingerprint::new(&info.fingerprint));
        Ok(())
    })
}

/// List the vault's keys (no secret material). Free the list with `tresor_key_list_free`.
///
/// # Safety
/// `vault` is a live vault handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_list_keys(
    vault: *const tresor_vault,
    out: *mut *const tresor_key_list,
) -> tresor_status {
    boundary("tresor_vault_list_keys", || {
        // SAFETY: the caller's contract.
        let (v, out) = unsafe { (self::vault(vault)?, Out::new(out, "out")?) };
        let items = v
            .list_keys()?
            .iter()
            .map(|k| Tagged::new(KeyInfoC::new(k)))
            .collect();
        out.write(Tagged::arc_into_raw(KeyListHandle { items }));
        Ok(())
    })
}

/// Number of keys in a list (0 if `list` is invalid).
///
/// # Safety
/// `list` is NULL or a live list handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_key_list_len(list: *const tresor_key_list) -> usize {
    boundary_value("tresor_key_list_len", 0, || {
        // SAFETY: the caller's contract.
        Ok(unsafe { Tagged::<KeyListHandle>::get(list, "list") }?
            .items
            .len())
    })
}

/// The key at `index` (0-based), borrowed from the list; NULL when out of range.
///
/// # Safety
/// `list` is NULL or a live list handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_key_list_get(
    list: *const tresor_key_list,
    index: usize,
) -> *const tresor_key_info {
    boundary_value("tresor_key_list_get", std::ptr::null(), || {
        // SAFETY: the caller's contract.
        let l = unsafe { Tagged::<KeyListHandle>::get(list, "list") }?;
        match l.items.get(index) {
            Some(item) => Ok(std::ptr::from_ref(item).cast::<tresor_key_info>()),
            None => Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "index {index} is out of range (the list has {} keys)",
                    l.items.len()
                ),
            )),
        }
    })
}

/// Release a key list (and every `tresor_key_info` borrowed from it). NULL is ignored.
///
/// # Safety
/// `list` is NULL or a live list handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_key_list_free(list: *const tresor_key_list) {
    boundary("tresor_key_list_free", || {
        // SAFETY: the caller's contract.
        unsafe { Tagged::<KeyListHandle>::arc_free(list, "list") }
    });
}

/// # Safety
/// `p` is NULL or a key info borrowed from a live list.
unsafe fn info<'a>(p: *const tresor_key_info) -> Result<&'a KeyInfoC> {
    // SAFETY: forwarded contract.
    unsafe { Tagged::<KeyInfoC>::get(p, "info") }
}

fn opt_ptr(s: Option<&CString>) -> *const c_char {
    s.map_or(std::ptr::null(), |s| s.as_ptr())
}

/// The key's fingerprint (68 hex characters). Valid while the list lives; NULL if `info` is invalid.
///
/// # Safety
/// `info` is NULL or borrowed from a live list.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_key_info_fingerprint(
    info: *const tresor_key_info,
) -> *const c_char {
    boundary_value("tresor_key_info_fingerprint", std::ptr::null(), || {
        // SAFETY: the caller's contract.
        Ok(unsafe { self::info(info) }?.fingerprint.as_ptr())
    })
}

/// The key's name, or NULL if it has none.
///
/// # Safety
/// `info` is NULL or borrowed from a live list.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_key_info_name(info: *const tresor_key_info) -> *const c_char {
    boundary_value("tresor_key_info_name", std::ptr::null(), || {
        // SAFETY: the caller's contract.
        Ok(opt_ptr(unsafe { self::info(info) }?.name.as_ref()))
    })
}

/// `"signing"` or `"encryption"`.
///
/// # Safety
/// `info` is NULL or borrowed from a live list.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_key_info_purpose(info: *const tresor_key_info) -> *const c_char {
    boundary_value("tresor_key_info_purpose", std::ptr::null(), || {
        // SAFETY: the caller's contract.
        Ok(unsafe { self::info(info) }?.purpose.as_ptr())
    })
}

/// The key spec (`"ec-curve-25519"`, `"ec-p-256"`, …).
///
/// # Safety
/// `info` is NULL or borrowed from a live list.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_key_info_spec(info: *const tresor_key_info) -> *const c_char {
    boundary_value("tresor_key_info_spec", std::ptr::null(), || {
        // SAFETY: the caller's contract.
        Ok(unsafe { self::info(info) }?.spec.as_ptr())
    })
}

/// A signing key's usages, comma-separated (`"namespace,protocol"`); NULL for encryption keys.
///
/// # Safety
/// `info` is NULL or borrowed from a live list.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_key_info_usage(info: *const tresor_key_info) -> *const c_char {
    boundary_value("tresor_key_info_usage", std::ptr::null(), || {
        // SAFETY: the caller's contract.
        Ok(opt_ptr(unsafe { self::info(info) }?.usage.as_ref()))
    })
}

/// Where the private key lives: `"clear"`, `"sealed"` (envelope) or `"external"` (in the KMS).
///
/// # Safety
/// `info` is NULL or borrowed from a live list.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_key_info_storage(info: *const tresor_key_info) -> *const c_char {
    boundary_value("tresor_key_info_storage", std::ptr::null(), || {
        // SAFETY: the caller's contract.
        Ok(unsafe { self::info(info) }?.storage)
    })
}

/// The KMS key id of an external key; NULL for keys held by the vault.
///
/// # Safety
/// `info` is NULL or borrowed from a live list.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_key_info_kms_key_id(info: *const tresor_key_info) -> *const c_char {
    boundary_value("tresor_key_info_kms_key_id", std::ptr::null(), || {
        // SAFETY: the caller's contract.
        Ok(opt_ptr(unsafe { self::info(info) }?.kms_key_id.as_ref()))
    })
}

/// Creation time in milliseconds since the Unix epoch (0 if `info` is invalid).
///
/// # Safety
/// `info` is NULL or borrowed from a live list.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_key_info_created_at(info: *const tresor_key_info) -> i64 {
    boundary_value("tresor_key_info_created_at", 0, || {
        // SAFETY: the caller's contract.
        Ok(unsafe { self::info(info) }?.created_at)
    })
}

/// The public key of the vault key `fingerprint`, as a new handle (free it with
/// `tresor_public_key_free`).
///
/// # Safety
/// `vault` is a live vault handle; `fingerprint` is a C string; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_public_key(
    vault: *const tresor_vault,
    fingerprint: *const c_char,
    out: *mut *const tresor_public_key,
) -> tresor_status {
    boundary("tresor_vault_public_key", || {
        // SAFETY: the caller's contract.
        let (v, fp, out) = unsafe {
            (
                self::vault(vault)?,
                fingerprint_in(fingerprint, "fingerprint")?,
                Out::new(out, "out")?,
            )
        };
        out.write(PublicKeyHandle::into_raw(v.public_key(&fp)?));
        Ok(())
    })
}

/// Sign `msg` with the vault key `fingerprint` for one of the usages in `usage` (comma-separated;
/// refused with `TRESOR_STATUS_USAGE_NOT_ALLOWED` when the key's usage does not overlap).
/// `algorithm` is NULL for the key spec's default. A key already in the cache signs without any I/O.
///
/// # Safety
/// `vault` is a live vault handle; strings are C strings (`algorithm` may be NULL); `msg` is readable
/// for `msg_len` bytes; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_sign(
    vault: *const tresor_vault,
    fingerprint: *const c_char,
    usage: *const c_char,
    algorithm: *const c_char,
    msg: *const u8,
    msg_len: usize,
    out: *mut tresor_bytes,
) -> tresor_status {
    boundary("tresor_vault_sign", || {
        // SAFETY: the caller's contract.
        let (v, fp, usage, algorithm, msg, out) = unsafe {
            (
                self::vault(vault)?,
                fingerprint_in(fingerprint, "fingerprint")?,
                str_in(usage, "usage")?,
                opt_str_in(algorithm, "algorithm")?,
                bytes_in(msg, msg_len, "msg")?,
                Out::new(out, "out")?,
            )
        };
        let usage = SigningKeyUsageSet::parse_list(usage)?;
        let algo = algorithm
            .map(str::parse::<SigningAlgorithmSpec>)
            .transpose()?;
        let sig = v.sign(&fp, msg, usage, algo)?;
        out.write(tresor_bytes::from_slice(&sig));
        Ok(())
    })
}

/// Verify a signature with the public key of the vault key `fingerprint`: `TRESOR_STATUS_OK` or
/// `TRESOR_STATUS_INVALID_SIGNATURE`.
///
/// # Safety
/// `vault` is a live vault handle; strings are C strings (`algorithm` may be NULL); buffers are
/// readable for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_verify(
    vault: *const tresor_vault,
    fingerprint: *const c_char,
    algorithm: *const c_char,
    msg: *const u8,
    msg_len: usize,
    signature: *const u8,
    signature_len: usize,
) -> tresor_status {
    boundary("tresor_vault_verify", || {
        // SAFETY: the caller's contract.
        let (v, fp, algorithm, msg, sig) = unsafe {
            (
                self::vault(vault)?,
                fingerprint_in(fingerprint, "fingerprint")?,
                opt_str_in(algorithm, "algorithm")?,
                bytes_in(msg, msg_len, "msg")?,
                bytes_in(signature, signature_len, "signature")?,
            )
        };
        let algo = algorithm
            .map(str::parse::<SigningAlgorithmSpec>)
            .transpose()?;
        v.verify(&fp, msg, sig, algo)
    })
}

/// Encrypt to the vault key `fingerprint` (an encryption key). `algorithm` NULL = the spec's default.
///
/// # Safety
/// As `tresor_vault_verify`; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_encrypt(
    vault: *const tresor_vault,
    fingerprint: *const c_char,
    algorithm: *const c_char,
    plaintext: *const u8,
    plaintext_len: usize,
    out: *mut tresor_bytes,
) -> tresor_status {
    boundary("tresor_vault_encrypt", || {
        // SAFETY: the caller's contract.
        let (v, fp, algorithm, pt, out) = unsafe {
            (
                self::vault(vault)?,
                fingerprint_in(fingerprint, "fingerprint")?,
                opt_str_in(algorithm, "algorithm")?,
                bytes_in(plaintext, plaintext_len, "plaintext")?,
                Out::new(out, "out")?,
            )
        };
        let algo = algorithm
            .map(str::parse::<EncryptionAlgorithmSpec>)
            .transpose()?;
        out.write(tresor_bytes::from_slice(&v.encrypt(&fp, pt, algo)?));
        Ok(())
    })
}

/// Decrypt with the vault key `fingerprint`. The plaintext is wiped by `tresor_bytes_free`.
///
/// # Safety
/// As `tresor_vault_verify`; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_decrypt(
    vault: *const tresor_vault,
    fingerprint: *const c_char,
    algorithm: *const c_char,
    ciphertext: *const u8,
    ciphertext_len: usize,
    out: *mut tresor_bytes,
) -> tresor_status {
    boundary("tresor_vault_decrypt", || {
        // SAFETY: the caller's contract.
        let (v, fp, algorithm, ct, out) = unsafe {
            (
                self::vault(vault)?,
                fingerprint_in(fingerprint, "fingerprint")?,
                opt_str_in(algorithm, "algorithm")?,
                bytes_in(ciphertext, ciphertext_len, "ciphertext")?,
                Out::new(out, "out")?,
            )
        };
        let algo = algorithm
            .map(str::parse::<EncryptionAlgorithmSpec>)
            .transpose()?;
        out.write(tresor_bytes::from_slice(&v.decrypt(&fp, ct, algo)?));
        Ok(())
    })
}

/// Delete the key `fingerprint` from the vault. An external key is only forgotten by the vault: the
/// key stays in the KMS (destroying it there is an operator's decision, made in the KMS).
///
/// # Safety
/// `vault` is a live vault handle; `fingerprint` is a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_delete_key(
    vault: *const tresor_vault,
    fingerprint: *const c_char,
) -> tresor_status {
    boundary("tresor_vault_delete_key", || {
        // SAFETY: the caller's contract.
        let (v, fp) = unsafe {
            (
                self::vault(vault)?,
                fingerprint_in(fingerprint, "fingerprint")?,
            )
        };
        v.delete_key(&fp)
    })
}

/// Rotate a node key as Canton does: a new key of the same purpose, spec and usage is generated and
/// named `<old name>-rotated-<time>`; the old key stays (delete it when the topology no longer uses
/// it). Writes the new key's fingerprint.
///
/// # Safety
/// `vault` is a live vault handle; `fingerprint` is a C string; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_rotate_node_key(
    vault: *const tresor_vault,
    fingerprint: *const c_char,
    out: *mut tresor_fingerprint,
) -> tresor_status {
    boundary("tresor_vault_rotate_node_key", || {
        // SAFETY: the caller's contract.
        let (v, fp, out) = unsafe {
            (
                self::vault(vault)?,
                fingerprint_in(fingerprint, "fingerprint")?,
                Out::new(out, "out")?,
            )
        };
        let info = v.rotate_node_key(&fp)?;
        out.write(tresor_fingerprint::new(&info.fingerprint));
        Ok(())
    })
}

/// The KMS wrapper key id of an envelope-mode vault (text in `out`). `TRESOR_STATUS_WRONG_MODE` in
/// other modes.
///
/// # Safety
/// `vault` is a live vault handle; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_wrapper_key_id(
    vault: *const tresor_vault,
    out: *mut tresor_bytes,
) -> tresor_status {
    boundary("tresor_vault_wrapper_key_id", || {
        // SAFETY: the caller's contract.
        let (v, out) = unsafe { (self::vault(vault)?, Out::new(out, "out")?) };
        let id = v.wrapper_key_id()?;
        out.write(tresor_bytes::from_slice(id.as_str().as_bytes()));
        Ok(())
    })
}

/// Rotate the KMS wrapper key of an envelope-mode vault: re-wrap the store's data key under
/// `new_key_id` (NULL = create a new KMS key). One KMS decrypt and one encrypt, one atomic update;
/// the private keys are not touched. Writes the new wrapper key id (text) to `out`.
///
/// # Safety
/// `vault` is a live vault handle; `new_key_id` is NULL or a C string; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_rotate_wrapper_key(
    vault: *const tresor_vault,
    new_key_id: *const c_char,
    out: *mut tresor_bytes,
) -> tresor_status {
    boundary("tresor_vault_rotate_wrapper_key", || {
        // SAFETY: the caller's contract.
        let (v, id, out) = unsafe {
            (
                self::vault(vault)?,
                opt_str_in(new_key_id, "new_key_id")?,
                Out::new(out, "out")?,
            )
        };
        let id = id.map(KmsKeyId::new).transpose()?;
        let new = v.rotate_wrapper_key(id)?;
        out.write(tresor_bytes::from_slice(new.as_str().as_bytes()));
        Ok(())
    })
}

/// Rotate the store's data key: every sealed key is re-sealed in one transaction. Writes the number
/// of keys re-sealed to `out_count` (may be NULL).
///
/// # Safety
/// `vault` is a live vault handle; `out_count` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_rotate_data_key(
    vault: *const tresor_vault,
    out_count: *mut u64,
) -> tresor_status {
    boundary("tresor_vault_rotate_data_key", || {
        // SAFETY: the caller's contract.
        let v = unsafe { self::vault(vault) }?;
        let n = v.rotate_data_key()?;
        if !out_count.is_null() {
            // SAFETY: non-NULL and writable (the caller's contract).
            unsafe { out_count.write(n) };
        }
        Ok(())
    })
}

/// Register an existing KMS signing key (external mode; Canton's `register_kms_signing_key`): its
/// public key is fetched and, if `spec` is not NULL, checked against it
/// (`TRESOR_STATUS_INCOMPATIBLE_KEY`); it is stored with `usage` (comma-separated) and `name` (may be
/// NULL). Nothing is created in the KMS. Writes the key's fingerprint.
///
/// # Safety
/// `vault` is a live vault handle; strings are C strings (`spec` and `name` may be NULL); `out` is
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_register_kms_signing_key(
    vault: *const tresor_vault,
    kms_key_id: *const c_char,
    spec: *const c_char,
    usage: *const c_char,
    name: *const c_char,
    out: *mut tresor_fingerprint,
) -> tresor_status {
    boundary("tresor_vault_register_kms_signing_key", || {
        // SAFETY: the caller's contract.
        let (v, id, spec, usage, name, out) = unsafe {
            (
                self::vault(vault)?,
                str_in(kms_key_id, "kms_key_id")?,
                opt_str_in(spec, "spec")?,
                str_in(usage, "usage")?,
                opt_str_in(name, "name")?,
                Out::new(out, "out")?,
            )
        };
        let id = KmsKeyId::new(id)?;
        let usage = SigningKeyUsageSet::parse_list(usage)?;
        let spec = spec
            .map(|s| s.parse::<SigningKeySpec>().map(KeySpec::Signing))
            .transpose()?;
        let info = v.register_kms_key(&id, Purpose::Signing, spec, Some(usage), name)?;
        out.write(tresor_fingerprint::new(&info.fingerprint));
        Ok(())
    })
}

/// Register an existing KMS encryption key (external mode; Canton's `register_kms_encryption_key`);
/// `spec` (may be NULL) is checked as for `tresor_vault_register_kms_signing_key`.
///
/// # Safety
/// `vault` is a live vault handle; strings are C strings (`spec` and `name` may be NULL); `out` is
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_register_kms_encryption_key(
    vault: *const tresor_vault,
    kms_key_id: *const c_char,
    spec: *const c_char,
    name: *const c_char,
    out: *mut tresor_fingerprint,
) -> tresor_status {
    boundary("tresor_vault_register_kms_encryption_key", || {
        // SAFETY: the caller's contract.
        let (v, id, spec, name, out) = unsafe {
            (
                self::vault(vault)?,
                str_in(kms_key_id, "kms_key_id")?,
                opt_str_in(spec, "spec")?,
                opt_str_in(name, "name")?,
                Out::new(out, "out")?,
            )
        };
        let id = KmsKeyId::new(id)?;
        let spec = spec
            .map(|s| s.parse::<EncryptionKeySpec>().map(KeySpec::Encryption))
            .transpose()?;
        let info = v.register_kms_key(&id, Purpose::Encryption, spec, None, name)?;
        out.write(tresor_fingerprint::new(&info.fingerprint));
        Ok(())
    })
}

/// Rotate a node key to a key made in the KMS beforehand (external mode; Canton's
/// `rotate_kms_node_key`): `new_kms_key_id` is registered with the old key's purpose and usage, under
/// `name` (may be NULL); the old key stays until deleted. Namespace keys are refused
/// (`TRESOR_STATUS_USAGE_NOT_ALLOWED`), as in Canton. Writes the new key's fingerprint.
///
/// # Safety
/// `vault` is a live vault handle; strings are C strings (`name` may be NULL); `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_rotate_kms_node_key(
    vault: *const tresor_vault,
    fingerprint: *const c_char,
    new_kms_key_id: *const c_char,
    name: *const c_char,
    out: *mut tresor_fingerprint,
) -> tresor_status {
    boundary("tresor_vault_rotate_kms_node_key", || {
        // SAFETY: the caller's contract.
        let (v, fp, id, name, out) = unsafe {
            (
                self::vault(vault)?,
                fingerprint_in(fingerprint, "fingerprint")?,
                str_in(new_kms_key_id, "new_kms_key_id")?,
                opt_str_in(name, "name")?,
                Out::new(out, "out")?,
            )
        };
        let info = v.rotate_kms_node_key(&fp, &KmsKeyId::new(id)?, name)?;
        out.write(tresor_fingerprint::new(&info.fingerprint));
        Ok(())
    })
}

/// Export the private key `fingerprint` sealed under `password` (Argon2id + AES-256-GCM; the
/// `tresor key export` format). Refused in external mode. `out` holds the file's text.
///
/// # Safety
/// `vault` is a live vault handle; `fingerprint` is a C string; `password` is readable for
/// `password_len` bytes; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_export_sealed(
    vault: *const tresor_vault,
    fingerprint: *const c_char,
    password: *const u8,
    password_len: usize,
    out: *mut tresor_bytes,
) -> tresor_status {
    boundary("tresor_vault_export_sealed", || {
        // SAFETY: the caller's contract.
        let (v, fp, pw, out) = unsafe {
            (
                self::vault(vault)?,
                fingerprint_in(fingerprint, "fingerprint")?,
                bytes_in(password, password_len, "password")?,
                Out::new(out, "out")?,
            )
        };
        let text = v.export_sealed(&fp, pw)?;
        out.write(tresor_bytes::from_slice(text.as_bytes()));
        Ok(())
    })
}

/// Import a key exported by `tresor_vault_export_sealed` (or `tresor key export`), opened with
/// `password`; `name` (may be NULL) replaces the name recorded in the export. A wrong password is
/// `TRESOR_STATUS_WRONG_PASSWORD`. Writes the key's fingerprint.
///
/// # Safety
/// `vault` is a live vault handle; buffers are readable for their lengths; `name` is NULL or a C
/// string; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_import_sealed(
    vault: *const tresor_vault,
    export: *const u8,
    export_len: usize,
    password: *const u8,
    password_len: usize,
    name: *const c_char,
    out: *mut tresor_fingerprint,
) -> tresor_status {
    boundary("tresor_vault_import_sealed", || {
        // SAFETY: the caller's contract.
        let (v, export, pw, name, out) = unsafe {
            (
                self::vault(vault)?,
                bytes_in(export, export_len, "export")?,
                bytes_in(password, password_len, "password")?,
                opt_str_in(name, "name")?,
                Out::new(out, "out")?,
            )
        };
        let text = std::str::from_utf8(export)
            .map_err(|_| Error::new(ErrorKind::MalformedData, "the export is not UTF-8 text"))?;
        let info = v.import_sealed(text, pw, name)?;
        out.write(tresor_fingerprint::new(&info.fingerprint));
        Ok(())
    })
}

/// Write a consistent copy of a SQLite store into the new or empty directory `dir` while other processes
/// may write to it: the store, the software KMS file and its key file (0600), and the configuration the
/// vault was opened from, rewritten to name the copies (the directory is then a store of its own). A
/// PostgreSQL store is `TRESOR_STATUS_WRONG_MODE` (back it up with the database's tools); a vault opened
/// from config text has no config file to copy (the report says so). Writes a text report to `out`: one
/// line per file written (`<what>\t<path>`), then one line per note (`note\t<text>`). On failure nothing
/// the call wrote is left behind.
///
/// # Safety
/// `vault` is a live vault handle; `dir` is a C string; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_vault_backup(
    vault: *const tresor_vault,
    dir: *const c_char,
    out: *mut tresor_bytes,
) -> tresor_status {
    boundary("tresor_vault_backup", || {
        // SAFETY: the caller's contract.
        let (v, dir, out) = unsafe {
            (
                self::vault(vault)?,
                str_in(dir, "dir")?,
                Out::new(out, "out")?,
            )
        };
        let report = v.backup(std::path::Path::new(dir))?;
        let mut text = String::new();
        for f in &report.files {
            text.push_str(&format!("{}\t{}\n", f.part.describe(), f.path.display()));
        }
        for n in &report.notes {
            text.push_str(&format!("note\t{n}\n"));
        }
        out.write(tresor_bytes::from_slice(text.as_bytes()));
        Ok(())
    })
}
