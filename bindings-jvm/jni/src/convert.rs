//! Argument and result conversions: byte arrays, strings and scheme names. Inputs are copied out of the
//! JVM; outputs are new Java objects. Secret inputs land in zeroizing buffers.

use std::str::FromStr;

use jni::Env;
use jni::objects::{JByteArray, JObject, JString};
use jni::refs::Reference as _;
use tresor::{Error, ErrorKind};
use zeroize::Zeroizing;

use crate::boundary::Result;

fn null_argument(what: &str) -> Error {
    Error::new(ErrorKind::NullArgument, format!("{what} must not be null"))
}

/// A `byte[]` argument, copied.
pub(crate) fn bytes(env: &Env<'_>, array: &JByteArray<'_>, what: &str) -> Result<Vec<u8>> {
    if array.is_null() {
        return Err(null_argument(what).into());
    }
    Ok(env.convert_byte_array(array)?)
}

/// A secret `byte[]` argument (a password, a plaintext, a private key), copied into zeroizing memory.
pub(crate) fn secret_bytes(
    env: &Env<'_>,
    array: &JByteArray<'_>,
    what: &str,
) -> Result<Zeroizing<Vec<u8>>> {
    bytes(env, array, what).map(Zeroizing::new)
}

/// A `String` argument.
pub(crate) fn string(env: &Env<'_>, s: &JString<'_>, what: &str) -> Result<String> {
    if s.is_null() {
        return Err(null_argument(what).into());
    }
    Ok(s.try_to_string(env)?)
}

/// A `String` argument that may be `null`.
pub(crate) fn opt_string(env: &Env<'_>, s: &JString<'_>) -> Result<Option<String>> {
    if s.is_null() {
        return Ok(None);
    }
    Ok(Some(s.try_to_string(env)?))
}

/// A scheme name (config string or Canton display name) parsed by the core.
pub(crate) fn scheme<T: FromStr<Err = Error>>(
    env: &Env<'_>,
    s: &JString<'_>,
    what: &str,
) -> Result<T> {
    Ok(string(env, s, what)?.parse::<T>()?)
}

/// An optional scheme name (`null` = the key spec's default).
pub(crate) fn opt_scheme<T: FromStr<Err = Error>>(
    env: &Env<'_>,
    s: &JString<'_>,
) -> Result<Option<T>> {
    match opt_string(env, s)? {
        None => Ok(None),
        Some(v) => Ok(Some(v.parse::<T>()?)),
    }
}

/// A new `byte[]`.
pub(crate) fn new_bytes<'l>(env: &mut Env<'l>, data: &[u8]) -> Result<JByteArray<'l>> {
    Ok(env.byte_array_from_slice(data)?)
}

/// A new `String`, as an object.
pub(crate) fn new_string<'l>(env: &mut Env<'l>, s: &str) -> Result<JObject<'l>> {
    Ok(env.new_string(s)?.into())
}

/// A new `String`, or `null`.
pub(crate) fn new_opt_string<'l>(env: &mut Env<'l>, s: Option<&str>) -> Result<JObject<'l>> {
    match s {
        Some(s) => new_string(env, s),
        None => Ok(JObject::null()),
    }
}

/// A new `String[]`.
pub(crate) fn new_string_array<'l, S: AsRef<str>>(
    env: &mut Env<'l>,
    items: &[S],
) -> Result<JObject<'l>> {
    let array = jni::objects::JObjectArray::<JString>::new(env, items.len(), JString::null())?;
    for (i, s) in items.iter().enumerate() {
        env.with_local_frame(4, |env| -> Result<()> {
            let js = env.new_string(s.as_ref())?;
            array.set_element(env, i, &js)?;
            Ok(())
        })?;
    }
    Ok(array.into())
}
