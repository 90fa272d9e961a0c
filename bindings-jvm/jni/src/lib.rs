//! `libtresor_jni`: the JNI bridge between tresor's core and the JVM.
//!
//! Every native method is declared in one Java class, `io.tresor.internal.Native`, and named
//! `<Type>_<verb>` there. Each one converts its arguments, makes one call into the core's facade
//! (`tresor::BlockingVault`, `tresor::KeyPair`, `tresor::PreparedPublicKey`, the primitives, the KMS
//! registry and layers) and converts the result back; there is no logic of its own here.
//!
//! * Errors: a `tresor::Error` is thrown as `io.tresor.TresorException.fromCode(code, message)` (the
//!   generated exception class of its kind); a panic is caught at the boundary and thrown as the
//!   generated `PanicException`; a JNI failure (a `null` where a value is required) as
//!   `NullArgumentException` or `InternalException`. Nothing unwinds into the JVM.
//! * Handles: a Java object holds a `long`, a boxed value tagged with its type ([`handle`]); the Java
//!   side guarantees a handle is freed once, and never while a call is using it.
//! * Asynchronous KMS calls (the Canton driver, [`driver`]) complete a Java callback either on the
//!   calling thread, when the core's future is ready at once, or later from the core's runtime threads,
//!   which attach to the JVM as daemon threads.

// The modules holding native methods are public: `jni_mangle` exports only `pub` functions. This
// crate has no Rust API; the symbols are for the JVM.
mod boundary;
mod convert;
pub mod driver;
mod handle;
pub mod keys;
pub mod primitives;
pub mod testing;
pub mod vault;
