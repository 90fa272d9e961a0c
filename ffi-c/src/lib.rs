//! `libtresor`: tresor's C ABI. The header is `include/tresor.h`, generated from this crate by
//! cbindgen (see `cbindgen.toml`) and committed.
//!
//! Conventions (those of rustls-ffi):
//! - every fallible function returns a `tresor_status`; on failure `tresor_last_error_message` says
//!   why (thread-local, never secret);
//! - outputs are written only on success; variable-size outputs are `tresor_bytes`, released with
//!   `tresor_bytes_free` (which zeroizes them);
//! - handles are opaque, created by `tresor_<type>_<constructor>` and released by
//!   `tresor_<type>_free`, which accepts NULL and zeroizes secrets;
//! - NULL or invalid arguments give an error status, and every exported function runs behind a panic
//!   boundary, so a bug surfaces as `TRESOR_STATUS_PANIC`, never as an abort.
#![allow(non_camel_case_types)]

pub mod driver;
mod ffi;
pub mod keys;
pub mod primitives;
pub mod status;
mod status_generated;
pub mod vault;

pub use ffi::tresor_bytes;

/// Major version of the header (and of the library it comes with).
pub const TRESOR_VERSION_MAJOR: u32 = 0;
/// Minor version.
pub const TRESOR_VERSION_MINOR: u32 = 1;
/// Patch version.
pub const TRESOR_VERSION_PATCH: u32 = 0;
/// The version as a string.
pub const TRESOR_VERSION: &str = "0.1.0"; // also in cbindgen.toml (after_includes)

/// `TRESOR_VERSION` for `tresor_version()`, NUL-terminated.
const VERSION_C: &std::ffi::CStr = c"0.1.0";

/// Length of a fingerprint in hex characters (34 bytes: `0x12 0x20` and a SHA-256).
pub const TRESOR_FINGERPRINT_LEN: usize = 68;

/// Release a `tresor_bytes` output: its bytes are zeroized and freed, and `*bytes` is reset to
/// `{NULL, 0}` (so releasing twice is harmless). NULL, and a zero-initialised struct, are ignored.
///
/// # Safety
/// `bytes` is NULL or points to a `tresor_bytes` that is zero-initialised or was filled by tresor.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tresor_bytes_free(bytes: *mut tresor_bytes) {
    if bytes.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: non-NULL; the caller's contract says it holds tresor's allocation or NULL.
        unsafe { (*bytes).release() }
    }));
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_version_macros_match_the_crate_version() {
        let v = env!("CARGO_PKG_VERSION");
        assert_eq!(super::TRESOR_VERSION, v);
        assert_eq!(super::VERSION_C.to_str().ok(), Some(v));
        let parts: Vec<u32> = v.split('.').filter_map(|p| p.parse().ok()).collect();
        assert_eq!(
            parts,
            [
                super::TRESOR_VERSION_MAJOR,
                super::TRESOR_VERSION_MINOR,
                super::TRESOR_VERSION_PATCH
            ]
        );
    }

    #[test]
    fn the_committed_header_declares_these_version_macros() {
        let header = include_str!("../../include/tresor.h");
        let v = env!("CARGO_PKG_VERSION");
        assert!(header.contains(&format!("#define TRESOR_VERSION \"{v}\"")));
    }
}
