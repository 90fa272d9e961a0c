//! The KMS driver behind the Canton driver jar (`io.tresor.canton.TresorKmsDriver`): a driver built by the
//! core's registry from Canton's `config { … }` block, wrapped in the core's layers (retry, rate limits,
//! audit, health tracking), on a runtime of its own.
//!
//! # Asynchronous calls
//! Each driver call takes a Java callback (`io.tresor.internal.NativeCallback`) and returns at once. The
//! core's future is polled once on the calling thread, inside the runtime's context:
//! * ready (a software KMS key already prepared, a refused argument): the callback is completed on the
//!   calling thread before the native method returns — no thread hop, no allocation beyond the result;
//! * pending (a network round trip, a database read, a PKCS#11 call on the blocking pool, a retry wait):
//!   the future moves to the runtime, and the callback is completed from a runtime thread when it ends.
//!   Runtime threads attach to the JVM as daemon threads on first use (so they never keep a JVM from
//!   exiting) and detach when they end.
//!
//! The calling thread only runs the CPU part of an operation; every wait (network, disk, HSM, backoff)
//! happens on the runtime. A call still in flight when the driver is closed completes with a failure.

use std::cell::RefCell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};

use jni::ids::JMethodID;
use jni::objects::{JByteArray, JClass, JObject, JString};
use jni::refs::Global;
use jni::signature::{Primitive, ReturnType};
use jni::sys::{jboolean, jint, jlong};
use jni::vm::JavaVM;
use jni::{Env, EnvUnowned, JValue, jni_mangle, jni_sig, jni_str};
use tresor::audit::{AuditLog, AuditLogConfig};
use tresor::kms::registry::{self, KmsConfig};
use tresor::kms::{KmsDriver, KmsHealth, KmsKeyId, KmsKeySpec, KmsPublicKey, LayerConfig, layered};
use tresor::{
    EncryptionAlgorithmSpec, EncryptionKeySpec, Error, ErrorKind, SigningAlgorithmSpec,
    SigningKeySpec,
};

use crate::boundary::{Failure, Result, Throw, code, panic_message};
use crate::convert::{
    bytes, new_string, new_string_array, opt_string, scheme, secret_bytes, string,
};
use crate::handle::{Tagged, free, get, into_handle};
use crate::vault::health_pair;

/// A driver, its runtime and where its audit log goes.
pub(crate) struct DriverHandle {
    /// `Some` until the handle is dropped (the runtime is shut down first, then dropped).
    rt: Option<tokio::runtime::Runtime>,
    driver: Arc<dyn KmsDriver>,
    audit_log: Option<String>,
}

impl Tagged for DriverHandle {
    const TAG: u64 = 0x7472_6573_6f72_6a05;
    const NAME: &'static str = "TresorKmsDriver";
}

impl Drop for DriverHandle {
    /// Close the driver (its sessions and connections), then stop the runtime: calls still in flight
    /// are dropped, and their callbacks complete with a failure.
    fn drop(&mut self) {
        let Some(rt) = self.rt.take() else { return };
        if tokio::runtime::Handle::try_current().is_ok() {
            // Dropped on a runtime thread (a callback closed the driver): blocking is not allowed here.
            rt.shutdown_background();
            return;
        }
        let driver = self.driver.clone();
        rt.block_on(async move { driver.close().await });
        drop(rt);
    }
}

impl DriverHandle {
    fn rt(&self) -> Result<&tokio::runtime::Runtime> {
        self.rt.as_ref().ok_or(Failure::Closed(Self::NAME))
    }
}

/// What a driver call produces, delivered to the matching callback method.
enum Outcome {
    Bytes(zeroize::Zeroizing<Vec<u8>>),
    Text(String),
    Unit,
    PublicKey(KmsPublicKey),
    Health(KmsHealth),
}

type OpResult = tresor::Result<Outcome>;

// --- the JVM side of a runtime thread ---------------------------------------------------------------

/// A runtime thread's attachment to the JVM, as a daemon; detached when the thread ends.
struct DaemonAttachment {
    vm: *mut jni::sys::JavaVM,
}

impl Drop for DaemonAttachment {
    fn drop(&mut self) {
        // SAFETY: `vm` is the process's JavaVM (it outlives every thread that attached to it, or the
        // process is exiting); this thread attached itself with AttachCurrentThreadAsDaemon and holds no
        // JNI references any more (thread-local destructors run after the thread's last Rust frame).
        unsafe {
            ((**self.vm).v1_4.DetachCurrentThread)(self.vm);
        }
    }
}

thread_local! {
    static ATTACHMENT: RefCell<Option<DaemonAttachment>> = const { RefCell::new(None) };
}

/// Attach the current (runtime) thread to the JVM as a daemon thread, unless it is attached already.
/// Returns whether the caller must detach it again itself (attached here, but the thread is ending and
/// its thread-local detach guard cannot be registered any more).
fn attach_as_daemon(vm: &JavaVM) -> jni::errors::Result<bool> {
    if vm.is_thread_attached()? {
        return Ok(false);
    }
    let raw = vm.get_raw();
    let mut env: *mut std::ffi::c_void = std::ptr::null_mut();
    let mut args = jni::sys::JavaVMAttachArgs {
        version: jni::sys::JNI_VERSION_1_8,
        name: c"tresor-kms".as_ptr().cast_mut(),
        group: std::ptr::null_mut(),
    };
    // SAFETY: `raw` is the live JavaVM of this process (from the jni crate's singleton, set when the
    // first native method ran); the thread is not attached (checked above); `env` and `args` outlive the
    // call, and `name` is a NUL-terminated static string the JVM only reads.
    let rc = unsafe {
        ((**raw).v1_4.AttachCurrentThreadAsDaemon)(
            raw,
            &mut env,
            (&mut args as *mut jni::sys::JavaVMAttachArgs).cast(),
        )
    };
    if rc != jni::sys::JNI_OK {
        return Err(jni::errors::Error::JniCall(jni::errors::JniError::Unknown));
    }
    let registered = ATTACHMENT
        .try_with(|a| *a.borrow_mut() = Some(DaemonAttachment { vm: raw }))
        .is_ok();
    Ok(!registered)
}

/// Detach a thread attached by [`attach_as_daemon`] that could not register its guard.
fn detach_now(vm: &JavaVM) {
    let raw = vm.get_raw();
    // SAFETY: this thread attached itself just before (attach_as_daemon returned true) and every JNI
    // reference of the callback was released when `attach_current_thread`'s frame was popped.
    unsafe {
        ((**raw).v1_4.DetachCurrentThread)(raw);
    }
}

// --- the callback's methods ---------------------------------------------------------------------------

/// The methods of `io.tresor.internal.NativeCallback`, looked up once (on the thread that creates the first
/// driver, which sees tresor's class loader) and called by id: the JVM dispatches them to the subclass.
struct Callbacks {
    /// Keeps the class, and so the method ids, alive.
    _class: Global<JClass<'static>>,
    on_bytes: JMethodID,
    on_string: JMethodID,
    on_unit: JMethodID,
    on_public_key: JMethodID,
    on_health: JMethodID,
    on_failure: JMethodID,
}

static CALLBACKS: OnceLock<Callbacks> = OnceLock::new();

fn callbacks(env: &mut Env<'_>) -> Result<&'static Callbacks> {
    if let Some(c) = CALLBACKS.get() {
        return Ok(c);
    }
    let class = env.find_class(jni_str!("io/tresor/internal/NativeCallback"))?;
    let c = Callbacks {
        on_bytes: env.get_method_id(&class, jni_str!("onBytes"), jni_sig!("([B)V"))?,
        on_string: env.get_method_id(
            &class,
            jni_str!("onString"),
            jni_sig!("(Ljava/lang/String;)V"),
        )?,
        on_unit: env.get_method_id(&class, jni_str!("onUnit"), jni_sig!("()V"))?,
        on_public_key: env.get_method_id(
            &class,
            jni_str!("onPublicKey"),
            jni_sig!("([BLjava/lang/String;Ljava/lang/String;)V"),
        )?,
        on_health: env.get_method_id(
            &class,
            jni_str!("onHealth"),
            jni_sig!("(Ljava/lang/String;Ljava/lang/String;)V"),
        )?,
        on_failure: env.get_method_id(
            &class,
            jni_str!("onFailure"),
            jni_sig!("(ILjava/lang/String;)V"),
        )?,
        _class: env.new_global_ref(&class)?,
    };
    Ok(CALLBACKS.get_or_init(|| c))
}

/// Call a `void` method of the callback by id.
fn call_void(
    env: &mut Env<'_>,
    cb: &JObject<'_>,
    method: JMethodID,
    args: &[JValue<'_>],
) -> Result<()> {
    let raw: Vec<jni::sys::jvalue> = args.iter().map(JValue::as_jni).collect();
    // SAFETY: `method` is a method of io.tresor.internal.NativeCallback looked up with this signature
    // (`callbacks`); `cb` is an instance of it (every native method that takes a callback declares the
    // parameter as NativeCallback, so the JVM has checked the type); `raw` holds one value of the
    // declared type per parameter, built from live references of this frame.
    unsafe {
        env.call_method_unchecked(cb, method, ReturnType::Primitive(Primitive::Void), &raw)?;
    }
    Ok(())
}

// --- delivering outcomes ------------------------------------------------------------------------------

fn deliver(
    env: &mut Env<'_>,
    cb: &JObject<'_>,
    r: std::result::Result<OpResult, String>,
) -> Result<()> {
    match r {
        Ok(Ok(outcome)) => deliver_ok(env, cb, outcome),
        Ok(Err(e)) => deliver_failure(env, cb, code(e.kind()), &e.to_string()),
        Err(panic) => deliver_failure(env, cb, code(ErrorKind::Panic), &panic),
    }
}

fn deliver_failure(env: &mut Env<'_>, cb: &JObject<'_>, code: i32, message: &str) -> Result<()> {
    let ids = callbacks(env)?;
    let m = env.new_string(message)?;
    call_void(
        env,
        cb,
        ids.on_failure,
        &[JValue::Int(code), JValue::Object(&m)],
    )
}

fn deliver_ok(env: &mut Env<'_>, cb: &JObject<'_>, outcome: Outcome) -> Result<()> {
    let ids = callbacks(env)?;
    match outcome {
        Outcome::Bytes(b) => {
            let a = env.byte_array_from_slice(&b)?;
            call_void(env, cb, ids.on_bytes, &[JValue::Object(&a)])
        }
        Outcome::Text(s) => {
            let s = env.new_string(&s)?;
            call_void(env, cb, ids.on_string, &[JValue::Object(&s)])
        }
        Outcome::Unit => call_void(env, cb, ids.on_unit, &[]),
        Outcome::PublicKey(k) => {
            let (kind, spec) = match k.spec {
                KmsKeySpec::Signing(s) => ("signing", s.as_str()),
                KmsKeySpec::Encryption(s) => ("encryption", s.as_str()),
                KmsKeySpec::Symmetric => ("symmetric", "aes-128-gcm"),
            };
            let der = env.byte_array_from_slice(k.key.spki_der())?;
            let kind = env.new_string(kind)?;
            let spec = env.new_string(spec)?;
            call_void(
                env,
                cb,
                ids.on_public_key,
                &[
                    JValue::Object(&der),
                    JValue::Object(&kind),
                    JValue::Object(&spec),
                ],
            )
        }
        Outcome::Health(h) => {
            let (status, reason) = health_pair(&h);
            let status = env.new_string(status)?;
            let reason: JObject = match reason {
                Some(r) => env.new_string(r)?.into(),
                None => JObject::null(),
            };
            call_void(
                env,
                cb,
                ids.on_health,
                &[JValue::Object(&status), JValue::Object(&reason)],
            )
        }
    }
}

/// A callback waiting for a future running on the runtime. Completing it, or dropping it unfinished (the
/// runtime shut down), calls back into the JVM exactly once.
struct Pending {
    cb: Option<Global<JObject<'static>>>,
}

impl Pending {
    fn complete(mut self, r: std::result::Result<OpResult, String>) {
        if let Some(cb) = self.cb.take() {
            call_back(cb, r);
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(cb) = self.cb.take() {
            call_back(
                cb,
                Ok(Err(Error::new(
                    ErrorKind::KmsFailure,
                    "the tresor KMS driver was closed before the call completed",
                ))),
            );
        }
    }
}

/// Complete `cb` from whatever thread this is (a runtime thread, or the thread closing the driver).
/// Never panics (it runs in `Drop` too).
fn call_back(cb: Global<JObject<'static>>, r: std::result::Result<OpResult, String>) {
    let done = catch_unwind(AssertUnwindSafe(move || {
        let Ok(vm) = JavaVM::singleton() else { return };
        let Ok(detach_after) = attach_as_daemon(&vm) else {
            return;
        };
        // A failure here (the callback threw, the JVM is out of memory) has nowhere to go: the callback
        // is tresor's own Java class, which completes its promise before anything can throw.
        let _ = vm.attach_current_thread(|env| -> Result<()> {
            let cb_ref: &JObject = cb.as_ref();
            deliver(env, cb_ref, r)
        });
        drop(cb);
        if detach_after {
            detach_now(&vm);
        }
    }));
    if let Err(p) = done {
        // Dropping a payload can panic in theory; such a payload is leaked instead.
        std::mem::forget(p);
    }
}

/// Run one driver call: poll once here, deliver at once if ready, otherwise continue on the runtime.
fn run<F>(env: &mut Env<'_>, d: &DriverHandle, cb: &JObject<'_>, fut: F) -> Result<()>
where
    F: Future<Output = OpResult> + Send + 'static,
{
    if jni::refs::Reference::is_null(cb) {
        return Err(Error::new(ErrorKind::NullArgument, "callback must not be null").into());
    }
    let rt = d.rt()?;
    let mut fut: Pin<Box<F>> = Box::pin(fut);
    let first = {
        let _entered = rt.enter();
        let mut cx = Context::from_waker(Waker::noop());
        catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(&mut cx)))
    };
    match first {
        Ok(Poll::Ready(r)) => deliver(env, cb, Ok(r)),
        Err(p) => deliver(env, cb, Err(panic_message(p.as_ref()))),
        Ok(Poll::Pending) => {
            let pending = Pending {
                cb: Some(env.new_global_ref(cb)?),
            };
            rt.spawn(async move {
                let r = std::future::poll_fn(|cx| {
                    match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
                        Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
                        Ok(Poll::Pending) => Poll::Pending,
                        Err(p) => Poll::Ready(Err(panic_message(p.as_ref()))),
                    }
                })
                .await;
                pending.complete(r);
            });
            Ok(())
        }
    }
}

// --- natives ----------------------------------------------------------------------------------------

/// Read Canton's `config { … }` block (rendered as `key = value` lines) and write it back in the core's
/// canonical form; `confidential` leaves every secret out. Fails as the core's reader does.
#[jni_mangle("io.tresor.internal.Native", "Driver_configText")]
pub fn driver_config_text<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    text: JString<'l>,
    confidential: jboolean,
) -> JObject<'l> {
    e.with_env(|env| -> Result<JObject<'l>> {
        let text = zeroize::Zeroizing::new(string(env, &text, "config")?);
        let cfg = KmsConfig::from_config_text(&text)?;
        let out = zeroize::Zeroizing::new(cfg.to_config_text(confidential));
        new_string(env, &out)
    })
    .resolve::<Throw>()
}

/// Build the driver the config text describes, with the core's layers; `max_retries` < 0 keeps the
/// core's retry policy, otherwise bounds the retries of retryable failures before they are reported.
#[jni_mangle("io.tresor.internal.Native", "Driver_create")]
pub fn driver_create<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    text: JString<'l>,
    max_retries: jint,
) -> jlong {
    e.with_env(|env| -> Result<jlong> {
        let text = zeroize::Zeroizing::new(string(env, &text, "config")?);
        let cfg = KmsConfig::from_config_text(&text)?;
        // Look the callback's methods up here, on a thread that sees tresor's class loader.
        callbacks(env)?;
        let rt = tresor::runtime()?;
        let driver = rt.block_on(registry::build(&cfg))?;
        let mut layers = LayerConfig::defaults_for(driver.as_ref());
        let mut audit_log = None;
        if cfg.audit_logging() {
            let default = std::env::current_dir()
                .map_err(Error::from)?
                .join("tresor-kms-audit.log");
            let log = AuditLog::open(AuditLogConfig::from_env(&default)?)?;
            audit_log = Some(log.path().display().to_string());
            layers = layers.with_audit(Arc::new(log));
        }
        if let (Some(r), Ok(n)) = (layers.retry.as_mut(), u32::try_from(max_retries)) {
            r.failures.max_retries = Some(n);
        }
        let driver = layered(driver, layers);
        Ok(into_handle(DriverHandle {
            rt: Some(rt),
            driver,
            audit_log,
        }))
    })
    .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "Driver_free")]
pub fn driver_free<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>, h: jlong) {
    e.with_env(|_env| -> Result<()> { free::<DriverHandle>(h) })
        .resolve::<Throw>()
}

#[jni_mangle("io.tresor.internal.Native", "Driver_describe")]
pub fn driver_describe<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>, h: jlong) -> JObject<'l> {
    e.with_env(|env| -> Result<JObject<'l>> {
        let d = get::<DriverHandle>(h)?;
        let items = [
            d.driver.provider().to_string(),
            d.audit_log.clone().unwrap_or_default(),
        ];
        new_string_array(env, &items)
    })
    .resolve::<Throw>()
}

/// The supported specs: `which` 0 = signing key specs, 1 = signing algorithms, 2 = encryption key specs,
/// 3 = encryption algorithms (config strings).
#[jni_mangle("io.tresor.internal.Native", "Driver_supported")]
pub fn driver_supported<'l>(
    mut e: EnvUnowned<'l>,
    _c: JClass<'l>,
    h: jlong,
    which: jint,
) -> JObject<'l> {
    e.with_env(|env| -> Result<JObject<'l>> {
        let d = get::<DriverHandle>(h)?;
        let names: Vec<&'static str> = match which {
            0 => d
                .driver
                .supported_signing_key_specs()
                .into_iter()
                .map(SigningKeySpec::as_str)
                .collect(),
            1 => d
                .driver
                .supported_signing_algo_specs()
                .into_iter()
                .map(SigningAlgorithmSpec::as_str)
                .collect(),
            2 => d
                .driver
                .supported_encryption_key_specs()
                .into_iter()
                .map(EncryptionKeySpec::as_str)
                .collect(),
            3 => d
                .driver
                .supported_encryption_algo_specs()
                .into_iter()
                .map(EncryptionAlgorithmSpec::as_str)
                .collect(),
            other => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("no spec list {other}"),
                )
                .into());
            }
        };
        new_string_array(env, &names)
    })
    .resolve::<Throw>()
}

fn key_id(env: &Env<'_>, s: &JString<'_>) -> Result<std::result::Result<KmsKeyId, Error>> {
    Ok(KmsKeyId::new(string(env, s, "keyId")?))
}

/// Run a driver call whose arguments could not be read as the core wants them: the failure goes to the
/// callback like any other (a bad key id is an answer, not a crash).
fn refuse(env: &mut Env<'_>, cb: &JObject<'_>, e: Error) -> Result<()> {
    deliver(env, cb, Ok(Err(e)))
}

macro_rules! driver_op {
    ($name:literal, $rust:ident, ($($arg:ident : $ty:ty),*), |$env:ident, $drv:ident, $cb:ident| $body:block) => {
        #[jni_mangle("io.tresor.internal.Native", $name)]
        pub fn $rust<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>, h: jlong $(, $arg: $ty)*, $cb: JObject<'l>) {
            e.with_env(|$env| -> Result<()> {
                let d = get::<DriverHandle>(h)?;
                let $drv = d.driver.clone();
                let fut = { $body };
                match fut {
                    Ok(f) => run($env, d, &$cb, f),
                    Err(err) => refuse($env, &$cb, err),
                }
            })
            .resolve::<Throw>()
        }
    };
}

driver_op!("Driver_health", driver_health, (), |env, drv, cb| {
    let _ = env;
    Ok::<_, Error>(async move { Ok(Outcome::Health(drv.health().await)) })
});

driver_op!("Driver_generateSigningKeyPair", driver_generate_signing_key_pair,
    (spec: JString<'l>, name: JString<'l>), |env, drv, cb| {
    let spec: std::result::Result<SigningKeySpec, Failure> = scheme(env, &spec, "spec");
    let name = opt_string(env, &name)?;
    match spec {
        Ok(spec) => Ok(async move {
            Ok(Outcome::Text(drv.generate_signing_key_pair(spec, name.as_deref()).await?.to_string()))
        }),
        Err(Failure::Tresor(e)) => Err(e),
        Err(other) => return Err(other),
    }
});

driver_op!("Driver_generateEncryptionKeyPair", driver_generate_encryption_key_pair,
    (spec: JString<'l>, name: JString<'l>), |env, drv, cb| {
    let spec: std::result::Result<EncryptionKeySpec, Failure> = scheme(env, &spec, "spec");
    let name = opt_string(env, &name)?;
    match spec {
        Ok(spec) => Ok(async move {
            Ok(Outcome::Text(drv.generate_encryption_key_pair(spec, name.as_deref()).await?.to_string()))
        }),
        Err(Failure::Tresor(e)) => Err(e),
        Err(other) => return Err(other),
    }
});

driver_op!("Driver_generateSymmetricKey", driver_generate_symmetric_key, (name: JString<'l>),
    |env, drv, cb| {
    let name = opt_string(env, &name)?;
    Ok::<_, Error>(async move {
        Ok(Outcome::Text(drv.generate_symmetric_key(name.as_deref()).await?.to_string()))
    })
});

driver_op!("Driver_sign", driver_sign,
    (data: JByteArray<'l>, key: JString<'l>, algo: JString<'l>), |env, drv, cb| {
    let data = bytes(env, &data, "data")?;
    let algo: std::result::Result<SigningAlgorithmSpec, Failure> = scheme(env, &algo, "algo");
    match (key_id(env, &key)?, algo) {
        (Ok(id), Ok(algo)) => Ok(async move { Ok(Outcome::Bytes(drv.sign(&id, &data, algo).await?.into())) }),
        (Err(e), _) | (_, Err(Failure::Tresor(e))) => Err(e),
        (_, Err(other)) => return Err(other),
    }
});

driver_op!("Driver_decryptAsymmetric", driver_decrypt_asymmetric,
    (ct: JByteArray<'l>, key: JString<'l>, algo: JString<'l>), |env, drv, cb| {
    let ct = bytes(env, &ct, "ciphertext")?;
    let algo: std::result::Result<EncryptionAlgorithmSpec, Failure> = scheme(env, &algo, "algo");
    match (key_id(env, &key)?, algo) {
        (Ok(id), Ok(algo)) => Ok(async move {
            Ok(Outcome::Bytes(drv.decrypt_asymmetric(&id, &ct, algo).await?))
        }),
        (Err(e), _) | (_, Err(Failure::Tresor(e))) => Err(e),
        (_, Err(other)) => return Err(other),
    }
});

driver_op!("Driver_encryptSymmetric", driver_encrypt_symmetric,
    (data: JByteArray<'l>, key: JString<'l>), |env, drv, cb| {
    let data = secret_bytes(env, &data, "data")?;
    match key_id(env, &key)? {
        Ok(id) => Ok(async move { Ok(Outcome::Bytes(drv.encrypt_symmetric(&id, &data).await?.into())) }),
        Err(e) => Err(e),
    }
});

driver_op!("Driver_decryptSymmetric", driver_decrypt_symmetric,
    (ct: JByteArray<'l>, key: JString<'l>), |env, drv, cb| {
    let ct = bytes(env, &ct, "ciphertext")?;
    match key_id(env, &key)? {
        Ok(id) => Ok(async move { Ok(Outcome::Bytes(drv.decrypt_symmetric(&id, &ct).await?)) }),
        Err(e) => Err(e),
    }
});

driver_op!("Driver_getPublicKey", driver_get_public_key, (key: JString<'l>), |env, drv, cb| {
    match key_id(env, &key)? {
        Ok(id) => Ok(async move { Ok(Outcome::PublicKey(drv.get_public_key(&id).await?)) }),
        Err(e) => Err(e),
    }
});

driver_op!("Driver_keyExistsAndIsActive", driver_key_exists_and_is_active, (key: JString<'l>),
    |env, drv, cb| {
    match key_id(env, &key)? {
        Ok(id) => Ok(async move {
            drv.key_exists_and_is_active(&id).await?;
            Ok(Outcome::Unit)
        }),
        Err(e) => Err(e),
    }
});

driver_op!("Driver_deleteKey", driver_delete_key, (key: JString<'l>), |env, drv, cb| {
    match key_id(env, &key)? {
        Ok(id) => Ok(async move {
            drv.delete_key(&id).await?;
            Ok(Outcome::Unit)
        }),
        Err(e) => Err(e),
    }
});
