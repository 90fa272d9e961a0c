//! Test hooks (`io.tresor.internal.Native.Testing_*`), used by the JUnit tests only: the core's error
//! table as the native library sees it, an error of any kind thrown through the same path as every
//! other native method, and a deliberate panic, to check that it becomes a `PanicException`.

use jni::objects::{JClass, JObject};
use jni::sys::jint;
use jni::{EnvUnowned, jni_mangle};
use tresor::{Error, ErrorKind};

use crate::boundary::{Result, Throw};
use crate::convert::new_string_array;

/// One line per kind: `code:name:family:retryable:class`.
#[jni_mangle("io.tresor.internal.Native", "Testing_errorTable")]
pub fn testing_error_table<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>) -> JObject<'l> {
    e.with_env(|env| -> Result<JObject<'l>> {
        let lines: Vec<String> = ErrorKind::ALL
            .iter()
            .map(|k| {
                format!(
                    "{}:{}:{}:{}:{}",
                    k.code(),
                    k.name(),
                    k.family().name(),
                    k.is_retryable(),
                    k.class()
                )
            })
            .collect();
        new_string_array(env, &lines)
    })
    .resolve::<Throw>()
}

/// Fail with the core error of `code` (its default message).
#[jni_mangle("io.tresor.internal.Native", "Testing_fail")]
pub fn testing_fail<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>, code: jint) {
    e.with_env(|_env| -> Result<()> {
        let kind = u32::try_from(code)
            .ok()
            .and_then(ErrorKind::from_code)
            .ok_or_else(|| {
                Error::new(ErrorKind::InvalidArgument, format!("no error kind {code}"))
            })?;
        Err(Error::bare(kind).into())
    })
    .resolve::<Throw>()
}

/// Panic inside a native method.
#[jni_mangle("io.tresor.internal.Native", "Testing_panic")]
pub fn testing_panic<'l>(mut e: EnvUnowned<'l>, _c: JClass<'l>) {
    e.with_env(|_env| -> Result<()> {
        #[allow(clippy::panic)]
        {
            panic!("deliberate panic (test hook)")
        }
    })
    .resolve::<Throw>()
}
