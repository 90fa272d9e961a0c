//! `tresor._tresor`: the Python face of tresor.
//!
//! Marshalling only: every function converts its arguments, makes one call into the `tresor` core's
//! public API, and converts the result or the error. Errors become the exception class of the core error's
//! code (`tresor.exceptions`, generated from the core's error table); a panic becomes `PanicError`.
//! The GIL is released (`Python::detach`) around store, KMS and RSA work; see `vault.rs` and `keys.rs`.

use std::ops::Deref;
use std::panic::{AssertUnwindSafe, catch_unwind};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView, PyString, PyType};
use zeroize::Zeroizing;

mod keys;
mod primitives;
mod vault;

/// Bytes from Python: `bytes` is borrowed (immutable, no copy); `bytearray` and `memoryview` are copied
/// (a mutable buffer could change under a call that released the GIL), into memory zeroized on drop.
pub(crate) enum Buf<'a> {
    Borrowed(&'a [u8]),
    Owned(Zeroizing<Vec<u8>>),
}

impl Deref for Buf<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Buf::Borrowed(b) => b,
            Buf::Owned(v) => v,
        }
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Buf<'a> {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(b) = <&'a [u8] as FromPyObject<'a, 'py>>::extract(ob) {
            return Ok(Buf::Borrowed(b));
        }
        if let Ok(b) = ob.cast::<PyByteArray>() {
            return Ok(Buf::Owned(Zeroizing::new(b.to_vec())));
        }
        if ob.cast::<PyMemoryView>().is_ok() {
            // The buffer protocol is not in the limited API before 3.11: copy through `tobytes()`.
            let copy = ob.call_method0("tobytes")?;
            let bytes = copy.cast::<PyBytes>()?;
            return Ok(Buf::Owned(Zeroizing::new(bytes.as_bytes().to_vec())));
        }
        Err(PyTypeError::new_err(format!(
            "expected bytes, bytearray or memoryview, got {}",
            ob.get_type().name()?
        )))
    }
}

/// `bytes` out.
pub(crate) fn bytes<'py>(py: Python<'py>, data: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, data)
}

static BY_CODE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The Python exception for a core error: the class `tresor.exceptions.BY_CODE[code]`, with the core's
/// log-safe message (never a secret).
pub(crate) fn to_py_err(py: Python<'_>, e: &tresor::Error) -> PyErr {
    let message = e.to_string();
    let code = e.code();
    let lookup = || -> PyResult<Bound<'_, PyType>> {
        let table = BY_CODE.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
            Ok(py.import("tresor.exceptions")?.getattr("BY_CODE")?.unbind())
        })?;
        Ok(table.bind(py).get_item(code)?.cast_into::<PyType>()?)
    };
    match lookup() {
        Ok(cls) => PyErr::from_type(cls, message),
        // An unknown code (a core newer than the generated table): `from_code` says which.
        Err(_) => match py
            .import("tresor.exceptions")
            .and_then(|m| m.getattr("from_code")?.call1((code, message.clone())))
        {
            Ok(exc) => PyErr::from_value(exc),
            Err(err) => err,
        },
    }
}

fn panic_error(py: Python<'_>) -> PyErr {
    to_py_err(py, &tresor::Error::bare(tresor::ErrorKind::Panic))
}

/// Run one core call with the GIL held, turning a core error into its exception and a panic into
/// `PanicError`.
pub(crate) fn call<T>(py: Python<'_>, f: impl FnOnce() -> tresor::Result<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_py_err(py, &e)),
        Err(_) => Err(panic_error(py)),
    }
}

/// [`call`] with the GIL released for its duration (store, KMS and RSA work).
pub(crate) fn call_detached<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> tresor::Result<T> + Send,
) -> PyResult<T> {
    match py.detach(|| catch_unwind(AssertUnwindSafe(f))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_py_err(py, &e)),
        Err(_) => Err(panic_error(py)),
    }
}

/// An argument error raised as tresor's `InvalidArgument` (a `ValueError`).
pub(crate) fn invalid(py: Python<'_>, message: impl Into<String>) -> PyErr {
    to_py_err(
        py,
        &tresor::Error::new(tresor::ErrorKind::InvalidArgument, message),
    )
}

/// Text from Python for a parser that takes `&str`: `str` as is, or UTF-8 bytes.
pub(crate) fn text_arg(ob: &Bound<'_, PyAny>) -> PyResult<Zeroizing<String>> {
    if let Ok(s) = ob.cast::<PyString>() {
        return Ok(Zeroizing::new(s.to_cow()?.into_owned()));
    }
    let b: Buf<'_> = ob.extract()?;
    match std::str::from_utf8(&b) {
        Ok(s) => Ok(Zeroizing::new(s.to_owned())),
        Err(_) => Err(to_py_err(
            ob.py(),
            &tresor::Error::new(tresor::ErrorKind::MalformedData, "text is not UTF-8"),
        )),
    }
}

/// A password from Python: `str` (as UTF-8) or bytes, in memory zeroized on drop.
pub(crate) fn password_arg(ob: &Bound<'_, PyAny>) -> PyResult<Zeroizing<Vec<u8>>> {
    if let Ok(s) = ob.cast::<PyString>() {
        return Ok(Zeroizing::new(s.to_cow()?.as_bytes().to_vec()));
    }
    let b: Buf<'_> = ob.extract()?;
    Ok(Zeroizing::new(b.to_vec()))
}

#[pymodule]
#[pyo3(name = "_tresor")]
fn tresor_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", tresor::VERSION)?;
    keys::register(m)?;
    primitives::register(m)?;
    vault::register(m)?;
    Ok(())
}
