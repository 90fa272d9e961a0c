//! The boundary: what a native method's failure becomes in Java.
//!
//! Native methods run their body in `EnvUnowned::with_env` (which catches panics) and resolve the
//! outcome with [`Throw`]: a [`Failure`] or a panic becomes a pending Java exception and the method
//! returns a default value that Java never sees.

use std::any::Any;

use jni::errors::ErrorPolicy;
use jni::objects::JThrowable;
use jni::{Env, JValue, jni_sig, jni_str};
use tresor::{Error, ErrorKind};

/// Why a native method failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The core's error: thrown as the generated exception of its kind.
    Tresor(Error),
    /// A JNI call failed (a Java exception may be pending: then it is the one the caller sees).
    Jni(jni::errors::Error),
    /// The Java object was closed (its handle is 0): `IllegalStateException`.
    Closed(&'static str),
}

pub(crate) type Result<T> = std::result::Result<T, Failure>;

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self::Tresor(e)
    }
}

impl From<jni::errors::Error> for Failure {
    fn from(e: jni::errors::Error) -> Self {
        Self::Jni(e)
    }
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Tresor(e) => write!(f, "{e}"),
            Self::Jni(e) => write!(f, "JNI: {e}"),
            Self::Closed(what) => write!(f, "this {what} is closed"),
        }
    }
}

impl std::error::Error for Failure {}

impl Failure {
    /// The error code and message a Java callback receives for this failure.
    pub(crate) fn code_and_message(&self) -> (i32, String) {
        match self {
            Self::Tresor(e) => (code(e.kind()), e.to_string()),
            Self::Jni(jni::errors::Error::NullPtr(what)) => (
                code(ErrorKind::NullArgument),
                format!("a required argument is null ({what})"),
            ),
            Self::Jni(e) => (code(ErrorKind::Internal), format!("JNI: {e}")),
            Self::Closed(what) => (
                code(ErrorKind::InvalidArgument),
                format!("this {what} is closed"),
            ),
        }
    }
}

/// A kind's code as a Java `int` (codes are below 1000).
pub(crate) fn code(kind: ErrorKind) -> i32 {
    i32::try_from(kind.code()).unwrap_or(i32::MAX)
}

/// The message of a caught panic (its payload when it is a string).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&'static str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with no message".to_string());
    format!("a panic was caught in tresor's native library: {what}")
}

/// Throw `io.tresor.TresorException.fromCode(code, message)`.
pub(crate) fn throw_tresor(env: &mut Env<'_>, code: i32, message: &str) -> jni::errors::Result<()> {
    let msg = env.new_string(message)?;
    let class = env.find_class(jni_str!("io/tresor/TresorException"))?;
    let ex = env
        .call_static_method(
            &class,
            jni_str!("fromCode"),
            jni_sig!("(ILjava/lang/String;)Lio/tresor/TresorException;"),
            &[JValue::Int(code), JValue::Object(&msg)],
        )?
        .l()?;
    let ex: JThrowable = env.cast_local::<JThrowable>(ex)?;
    match env.throw(ex) {
        Err(jni::errors::Error::JavaException) | Ok(()) => Ok(()),
        Err(e) => Err(e),
    }
}

fn throw_illegal_state(env: &mut Env<'_>, message: &str) -> jni::errors::Result<()> {
    let class = env.find_class(jni_str!("java/lang/IllegalStateException"))?;
    let msg = jni::strings::JNIString::from(message);
    match env.throw_new(&class, &msg) {
        Err(jni::errors::Error::JavaException) | Ok(()) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The error policy of every native method (see the module docs).
#[derive(Debug)]
pub(crate) struct Throw;

impl<T: Default> ErrorPolicy<T, Failure> for Throw {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut Self::Captures<'unowned_env_local, 'native_method>,
        err: Failure,
    ) -> jni::errors::Result<T> {
        if env.exception_check() {
            // A Java exception is already on its way (thrown by a callback or by a JNI call).
            return Ok(T::default());
        }
        match &err {
            Failure::Closed(what) => throw_illegal_state(env, &format!("this {what} is closed"))?,
            other => {
                let (code, message) = other.code_and_message();
                throw_tresor(env, code, &message)?;
            }
        }
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut Self::Captures<'unowned_env_local, 'native_method>,
        payload: Box<dyn Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        let message = panic_message(payload.as_ref());
        // Dropping a payload can panic in theory; a payload that does is leaked instead.
        if let Err(p) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(payload))) {
            std::mem::forget(p);
        }
        if env.exception_check() {
            env.exception_clear();
        }
        throw_tresor(env, code(ErrorKind::Panic), &message)?;
        Ok(T::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_map_to_the_error_table() {
        let e = Failure::Tresor(Error::bare(ErrorKind::KmsThrottled));
        assert_eq!(e.code_and_message().0, 505);
        let e = Failure::Jni(jni::errors::Error::NullPtr("x"));
        assert_eq!(e.code_and_message().0, 101);
        let e = Failure::Jni(jni::errors::Error::WrongObjectType);
        assert_eq!(e.code_and_message().0, 900);
        let p: Box<dyn Any + Send> = Box::new("boom");
        assert!(panic_message(p.as_ref()).ends_with("boom"));
        let p: Box<dyn Any + Send> = Box::new(String::from("bang"));
        assert!(panic_message(p.as_ref()).ends_with("bang"));
    }
}
