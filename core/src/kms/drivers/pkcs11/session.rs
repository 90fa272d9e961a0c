//! The module, the token and the session pool: one process-wide context per module, the token's slot
//! found by label, and a pool of logged-in read/write sessions.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

use super::error::ck_err;
use crate::error::{Error, ErrorKind, Result};

/// A logged-in token and its pool of sessions.
pub(super) struct Inner {
    pub(super) ctx: Pkcs11,
    /// Written while creating or destroying objects, read otherwise (see [`context`]).
    pub(super) object_lock: Arc<RwLock<()>>,
    pub(super) slot: Slot,
    pub(super) token_label: String,
    pub(super) pin: AuthPin,
    pub(super) sessions: Mutex<Vec<Session>>,
}

/// A loaded module and the lock that keeps token-object creation and destruction apart from every
/// other use of it.
pub(super) type ModuleContext = (Pkcs11, Arc<RwLock<()>>);

/// One process-wide context per module: `C_Initialize` may run once per process, and dropping the last
/// context would finalize the module under every other handle. Token objects are created and destroyed
/// under the write side of the module's lock and every other operation runs under the read side:
/// SoftHSM2's file object store fails (`CKR_GENERAL_ERROR` from `C_GenerateKeyPair`) when token objects
/// are created while other sessions of the same process read the store. Signing, decryption and lookups
/// stay parallel with each other.
pub(super) fn context(module: &Path) -> Result<ModuleContext> {
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

pub(super) fn find_slot(ctx: &Pkcs11, label: &str) -> Result<Slot> {
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
    pub(super) fn open_session(&self) -> Result<Session> {
        let s = self
            .ctx
            .open_rw_session(self.slot)
            .map_err(|e| ck_err("opening a session", e))?;
        match s.login(UserType::User, Some(&self.pin)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(s),
            Err(e) => Err(ck_err("login", e)),
        }
    }

    pub(super) fn take(&self) -> Result<Session> {
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
    pub(super) fn with_object_lock<T>(
        &self,
        exclusive: bool,
        f: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
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

    pub(super) fn give_back(&self, s: Session) {
        if let Ok(mut v) = self.sessions.lock() {
            v.push(s);
        }
    }
}
