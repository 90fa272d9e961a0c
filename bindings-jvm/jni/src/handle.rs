//! Handles: what a Java object holds in its `long` field.
//!
//! A handle is a `Box` holding a type tag and the value. The Java side (`io.tresor.internal.NativeHandle`)
//! guarantees that a handle is passed only while it is live, that it is freed exactly once, and that it is
//! never freed while a call uses it (a use count, checked and released around every native call). The tag
//! turns a handle of the wrong type (a bug in the Java side) into an exception instead of undefined behaviour,
//! as long as the memory is still ours.

use jni::sys::jlong;
use tresor::ErrorKind;

use crate::boundary::{Failure, Result};

/// A type that lives behind a handle.
pub(crate) trait Tagged: Send + Sync + 'static {
    /// A value no other handle type uses.
    const TAG: u64;
    /// What the Java class is called (for messages).
    const NAME: &'static str;
}

struct Boxed<T> {
    tag: u64,
    value: T,
}

/// Move `value` into a new handle.
pub(crate) fn into_handle<T: Tagged>(value: T) -> jlong {
    Box::into_raw(Box::new(Boxed { tag: T::TAG, value })) as jlong
}

/// The value behind a live handle of type `T`.
pub(crate) fn get<'a, T: Tagged>(handle: jlong) -> Result<&'a T> {
    if handle == 0 {
        return Err(Failure::Closed(T::NAME));
    }
    let p = handle as *const Boxed<T>;
    // SAFETY: a non-zero handle passed by the Java side was made by `into_handle` and is live for the
    // whole native call (NativeHandle's use count keeps `free` from running meanwhile). Reading the tag
    // first catches a live handle of another type: every `Boxed<T>` starts with its `u64` tag.
    let boxed = unsafe { &*p };
    if boxed.tag != T::TAG {
        return Err(Failure::Tresor(tresor::Error::new(
            ErrorKind::Internal,
            format!("a handle of another type was passed as a {}", T::NAME),
        )));
    }
    Ok(&boxed.value)
}

/// Drop the value behind a handle (0 is ignored).
pub(crate) fn free<T: Tagged>(handle: jlong) -> Result<()> {
    if handle == 0 {
        return Ok(());
    }
    get::<T>(handle)?;
    // SAFETY: `get` checked that the handle is a live `Boxed<T>` made by `into_handle`; the Java side
    // frees each handle once, after every call using it has returned, so nothing else refers to it.
    let mut boxed = unsafe { Box::from_raw(handle as *mut Boxed<T>) };
    boxed.tag = 0;
    drop(boxed);
    Ok(())
}
