//! The plumbing every exported function shares: the panic boundary, the thread-local last error,
//! pointer checks, handle tagging and `tresor_bytes`.
//!
//! All `unsafe` in the crate that turns a C pointer into a Rust reference goes through the few
//! functions here, each with the contract it relies on spelled out.

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tresor_core::{Error, ErrorKind, Fingerprint};
use zeroize::Zeroize;

use crate::status::tresor_status;

pub(crate) type Result<T, E = Error> = core::result::Result<T, E>;

// --- last error ----------------------------------------------------------------------------------

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// Record `message` as this thread's last error.
pub(crate) fn set_last_error(message: &str) {
    // An interior NUL would cut the message short in C; replace it.
    let clean: String = message
        .chars()
        .map(|c| if c == '\0' { '?' } else { c })
        .collect();
    let c = CString::new(clean).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = Some(c));
}

/// Run `f` with this thread's last error message (empty when there was none).
pub(crate) fn with_last_error<T>(f: impl FnOnce(&CStr) -> T) -> T {
    LAST_ERROR.with(|e| match e.borrow().as_deref() {
        Some(m) => f(m),
        None => f(c""),
    })
}

/// Report `e` to C: remember its message and return its status.
pub(crate) fn fail(e: &Error) -> tresor_status {
    set_last_error(&e.to_string());
    tresor_status::from_kind(e.kind())
}

fn panicked(function: &str) -> tresor_status {
    set_last_error(&format!(
        "{function}: a panic was caught at the C boundary (a bug in tresor; please report it); the \
         operation did not complete"
    ));
    tresor_status::Panic
}

/// The panic boundary of a function that returns a status: `Ok(())` becomes `TRESOR_STATUS_OK`, an
/// error becomes its status (with the thread's last error set), and a panic becomes
/// `TRESOR_STATUS_PANIC`.
pub(crate) fn boundary(function: &str, f: impl FnOnce() -> Result<()>) -> tresor_status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => tresor_status::Ok,
        Ok(Err(e)) => fail(&e),
        Err(_) => panicked(function),
    }
}

/// The panic boundary of a function that returns a value instead of a status: on an error or a
/// panic it returns `fallback` (NULL, 0, false) and sets the last error.
pub(crate) fn boundary_value<T>(function: &str, fallback: T, f: impl FnOnce() -> Result<T>) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            fail(&e);
            fallback
        }
        Err(_) => {
            panicked(function);
            fallback
        }
    }
}

pub(crate) fn null(name: &str) -> Error {
    Error::new(ErrorKind::NullArgument, format!("{name} is NULL"))
}

pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
}

// --- inputs --------------------------------------------------------------------------------------

/// A byte buffer given as pointer and length. NULL is accepted when `len` is 0.
///
/// # Safety
/// When `len > 0` and `ptr` is not NULL, `ptr` must point to `len` readable bytes that stay valid
/// and unmodified for `'a`.
pub(crate) unsafe fn bytes_in<'a>(ptr: *const u8, len: usize, name: &str) -> Result<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(null(name));
    }
    if len > isize::MAX as usize {
        return Err(invalid(format!("{name}: length {len} is not a valid size")));
    }
    // SAFETY: non-NULL, `len` bytes readable for 'a (the caller's contract), len ≤ isize::MAX.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string valid for `'a`.
pub(crate) unsafe fn str_in<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    // SAFETY: forwarded contract.
    match unsafe { opt_str_in(ptr, name) }? {
        Some(s) => Ok(s),
        None => Err(null(name)),
    }
}

/// An optional NUL-terminated UTF-8 string argument (NULL = absent).
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string valid for `'a`.
pub(crate) unsafe fn opt_str_in<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL and NUL-terminated for 'a (the caller's contract).
    let c = unsafe { CStr::from_ptr(ptr) };
    c.to_str()
        .map(Some)
        .map_err(|_| invalid(format!("{name} is not valid UTF-8")))
}

/// A fingerprint argument: 68 lowercase hex characters, NUL-terminated.
///
/// # Safety
/// As [`str_in`].
pub(crate) unsafe fn fingerprint_in(ptr: *const c_char, name: &str) -> Result<Fingerprint> {
    // SAFETY: forwarded contract.
    let s = unsafe { str_in(ptr, name) }?;
    s.parse::<Fingerprint>().map_err(|e| {
        Error::new(
            e.kind(),
            format!("{name} '{}': {}", s.escape_debug(), e.message()),
        )
    })
}

// --- outputs -------------------------------------------------------------------------------------

/// An output argument, checked for NULL before any work is done and written only on success.
pub(crate) struct Out<'a, T> {
    ptr: NonNull<T>,
    _life: PhantomData<&'a mut T>,
}

impl<T> Out<'_, T> {
    /// Check an output pointer.
    ///
    /// # Safety
    /// `ptr` is NULL or valid for writing a `T` (it may be uninitialised), and not used by anyone
    /// else until the function returns.
    pub(crate) unsafe fn new(ptr: *mut T, name: &str) -> Result<Self> {
        NonNull::new(ptr)
            .map(|ptr| Self {
                ptr,
                _life: PhantomData,
            })
            .ok_or_else(|| null(name))
    }

    /// Write the result (the old contents are overwritten, not dropped: C owns no Rust value there).
    pub(crate) fn write(self, value: T) {
        // SAFETY: `new`'s contract: valid for writes, exclusively ours for this call.
        unsafe { self.ptr.as_ptr().write(value) }
    }
}

/// A variable-size output, owned by the caller until `tresor_bytes_free`.
///
/// `data` always points to `len + 1` bytes, the last one 0, so text outputs are also C strings. A
/// struct that `tresor_bytes_free` has released (or a zero-initialised one) has `data == NULL`.
#[repr(C)]
#[derive(Debug)]
pub struct tresor_bytes {
    /// The bytes (followed by a 0 byte that is not counted in `len`).
    pub data: *mut u8,
    /// The number of bytes.
    pub len: usize,
}

impl tresor_bytes {
    /// Copy `bytes` into a new allocation owned by C.
    pub(crate) fn from_slice(bytes: &[u8]) -> Self {
        let mut v = Vec::with_capacity(bytes.len() + 1);
        v.extend_from_slice(bytes);
        v.push(0);
        let len = bytes.len();
        let boxed = v.into_boxed_slice();
        let data = Box::into_raw(boxed).cast::<u8>();
        Self { data, len }
    }

    /// Take back and zeroize an allocation made by [`tresor_bytes::from_slice`].
    ///
    /// # Safety
    /// `self.data` came from `from_slice` with this `len` and has not been released.
    pub(crate) unsafe fn release(&mut self) {
        if self.data.is_null() {
            return;
        }
        let total = self.len + 1;
        // SAFETY: `from_slice` leaked a boxed slice of exactly `len + 1` bytes at `data`.
        let mut boxed: Box<[u8]> =
            unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(self.data, total)) };
        boxed.zeroize();
        drop(boxed);
        self.data = std::ptr::null_mut();
        self.len = 0;
    }
}

/// Write `s` (plus a NUL) into a caller buffer of `len` bytes. When it does not fit, nothing is
/// written to `buf`, `out_n` gets the size needed (including the NUL) and the error is
/// `BufferTooSmall`; on success `out_n` gets the string length (without the NUL).
///
/// # Safety
/// `buf` is NULL or valid for `len` bytes of writes; `out_n` is NULL or valid for a write.
pub(crate) unsafe fn write_str_out(
    s: &[u8],
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> Result<()> {
    let needed = s.len() + 1;
    if needed > len {
        if !out_n.is_null() {
            // SAFETY: non-NULL and writable (the caller's contract).
            unsafe { out_n.write(needed) };
        }
        return Err(Error::new(
            ErrorKind::BufferTooSmall,
            format!("the buffer holds {len} bytes; {needed} are needed"),
        ));
    }
    if buf.is_null() {
        return Err(null("buf"));
    }
    // SAFETY: `buf` has room for `len ≥ s.len() + 1` bytes; the regions cannot overlap (one is ours).
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr(), buf.cast::<u8>(), s.len());
        buf.add(s.len()).write(0);
    }
    if !out_n.is_null() {
        // SAFETY: non-NULL and writable (the caller's contract).
        unsafe { out_n.write(s.len()) };
    }
    Ok(())
}

// --- handles -------------------------------------------------------------------------------------

/// A value behind a C handle, with a type tag first so that a handle of the wrong type (or one already
/// freed and not yet reused) is reported instead of misused.
#[repr(C)]
pub(crate) struct Tagged<T> {
    magic: AtomicU64,
    pub(crate) value: T,
}

/// A handle type: which tag its values carry.
pub(crate) trait Handle: Sized {
    /// The tag (distinct per type).
    const MAGIC: u64;
    /// The C type name, for messages.
    const NAME: &'static str;
}

const DEAD: u64 = 0xdead_dead_dead_dead;

impl<T: Handle> Tagged<T> {
    /// Lend `value` to C for the duration of `f` (which gets the pointer to pass), then take it back.
    pub(crate) fn lend<C, R>(value: T, f: impl FnOnce(*mut C) -> R) -> (R, T) {
        let mut tagged = Self::new(value);
        let r = f(std::ptr::from_mut(&mut tagged).cast::<C>());
        tagged.magic.store(DEAD, Ordering::Relaxed);
        (r, tagged.value)
    }

    /// A value with its tag.
    pub(crate) fn new(value: T) -> Self {
        Self {
            magic: AtomicU64::new(T::MAGIC),
            value,
        }
    }

    /// Hand an immutable value to C (shared ownership; freed with [`Tagged::arc_free`]).
    pub(crate) fn arc_into_raw<C>(value: T) -> *const C {
        Arc::into_raw(Arc::new(Self::new(value))).cast::<C>()
    }

    /// Hand a mutable value to C (single owner; freed with [`Tagged::box_free`]).
    pub(crate) fn box_into_raw<C>(value: T) -> *mut C {
        Box::into_raw(Box::new(Self::new(value))).cast::<C>()
    }

    /// Borrow the value behind a handle.
    ///
    /// # Safety
    /// `ptr` is NULL or points to a live object created by `arc_into_raw`/`box_into_raw` of some
    /// `Tagged<U>` (all tags start with the same `AtomicU64`), valid for `'a`.
    pub(crate) unsafe fn get<'a, C>(ptr: *const C, name: &str) -> Result<&'a T> {
        if ptr.is_null() {
            return Err(null(name));
        }
        let p = ptr.cast::<Self>();
        // SAFETY: every tresor handle is a `#[repr(C)] Tagged<_>` whose first field is the tag, so
        // reading the tag through any handle type is reading the same `AtomicU64`.
        let magic = unsafe { &*p.cast::<AtomicU64>() }.load(Ordering::Relaxed);
        if magic != T::MAGIC {
            return Err(invalid(format!(
                "{name} is not a live {} (wrong handle type, or already freed)",
                T::NAME
            )));
        }
        // SAFETY: the tag says this object is a live `Tagged<T>`.
        Ok(unsafe { &(*p).value })
    }

    /// Borrow the value behind a mutable handle.
    ///
    /// # Safety
    /// As [`Tagged::get`], and no other reference to the object exists during `'a`.
    pub(crate) unsafe fn get_mut<'a, C>(ptr: *mut C, name: &str) -> Result<&'a mut T> {
        // SAFETY: forwarded contract (checks NULL and the tag).
        unsafe { Self::get::<C>(ptr, name) }?;
        // SAFETY: checked above; exclusive access is the caller's contract.
        Ok(unsafe { &mut (*ptr.cast::<Self>()).value })
    }

    /// Release a handle made by `arc_into_raw`; NULL is ignored.
    ///
    /// # Safety
    /// `ptr` is NULL or a handle from `arc_into_raw::<C>` not yet freed.
    pub(crate) unsafe fn arc_free<C>(ptr: *const C, name: &str) -> Result<()> {
        if ptr.is_null() {
            return Ok(());
        }
        // SAFETY: checks the tag (forwarded contract).
        unsafe { Self::get::<C>(ptr, name) }?;
        // SAFETY: the pointer came from `Arc::into_raw` of an `Arc<Self>`.
        let arc = unsafe { Arc::from_raw(ptr.cast::<Self>()) };
        if Arc::strong_count(&arc) == 1 {
            arc.magic.store(DEAD, Ordering::Relaxed);
        }
        drop(arc);
        Ok(())
    }

    /// Release a handle made by `box_into_raw`; NULL is ignored.
    ///
    /// # Safety
    /// `ptr` is NULL or a handle from `box_into_raw::<C>` not yet freed.
    pub(crate) unsafe fn box_free<C>(ptr: *mut C, name: &str) -> Result<()> {
        if ptr.is_null() {
            return Ok(());
        }
        // SAFETY: checks the tag (forwarded contract).
        unsafe { Self::get::<C>(ptr, name) }?;
        // SAFETY: the pointer came from `Box::into_raw` of a `Box<Self>`.
        let b = unsafe { Box::from_raw(ptr.cast::<Self>()) };
        b.magic.store(DEAD, Ordering::Relaxed);
        drop(b);
        Ok(())
    }
}

/// A Rust string as a C string; an interior NUL (which tresor never produces) becomes `?`.
pub(crate) fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "?")).unwrap_or_default()
}

/// A static Rust string (a spec name, a mode name) as a static C string. Each distinct string is
/// converted once and kept for the life of the process, so C may hold the pointer forever.
pub(crate) fn static_c(s: &'static str) -> *const c_char {
    use std::sync::Mutex;
    // A short list (spec, mode and storage names): a linear scan is cheapest, and every entry stays
    // reachable from the static (no leak reports from Valgrind).
    static TABLE: Mutex<Vec<(&'static str, &'static CStr)>> = Mutex::new(Vec::new());
    let mut t = match TABLE.lock() {
        Ok(t) => t,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some((_, c)) = t.iter().find(|(k, _)| *k == s) {
        return c.as_ptr();
    }
    let c: &'static CStr = Box::leak(c_string(s).into_boxed_c_str());
    t.push((s, c));
    c.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_the_panic_status_with_a_message() {
        let s = boundary("tresor_test_fn", || panic!("boom"));
        assert_eq!(s, tresor_status::Panic);
        with_last_error(|m| {
            let m = m.to_string_lossy();
            assert!(m.contains("tresor_test_fn"), "{m}");
            assert!(m.contains("panic"), "{m}");
        });
        assert!(boundary_value("tresor_test_fn", 7u32, || panic!("boom")) == 7);
    }

    #[test]
    fn errors_set_the_last_error_and_success_keeps_it() {
        let s = boundary("f", || Err(invalid("bad thing\0with a NUL")));
        assert_eq!(s, tresor_status::InvalidArgument);
        assert_eq!(boundary("f", || Ok(())), tresor_status::Ok);
        with_last_error(|m| assert_eq!(m.to_str().ok(), Some("bad thing?with a NUL")));
    }

    #[test]
    fn bytes_are_nul_terminated_and_released_once() {
        for input in [&b""[..], b"abc"] {
            let mut b = tresor_bytes::from_slice(input);
            assert_eq!(b.len, input.len());
            // SAFETY: `from_slice` made `len + 1` bytes at `data`.
            let all = unsafe { std::slice::from_raw_parts(b.data, b.len + 1) };
            assert_eq!(&all[..input.len()], input);
            assert_eq!(all[input.len()], 0);
            // SAFETY: made by `from_slice`, released once; the second call sees NULL.
            unsafe {
                b.release();
                b.release();
            }
            assert!(b.data.is_null() && b.len == 0);
        }
    }

    #[test]
    fn text_into_a_caller_buffer_reports_the_size_needed() {
        let mut buf = [0 as c_char; 4];
        let mut n = 0usize;
        // SAFETY: valid buffer and out pointer.
        let r = unsafe { write_str_out(b"hello", buf.as_mut_ptr(), buf.len(), &mut n) };
        assert_eq!(
            r.map_err(|e| e.kind()).err(),
            Some(ErrorKind::BufferTooSmall)
        );
        assert_eq!(n, 6);
        assert_eq!(buf, [0; 4], "nothing written on failure");
        let mut big = [0 as c_char; 6];
        // SAFETY: valid buffer and out pointer.
        unsafe { write_str_out(b"hello", big.as_mut_ptr(), big.len(), &mut n) }.expect("fits");
        assert_eq!(n, 5);
        assert_eq!(big[5], 0);
    }
}
