//! Fuzz targets for tresor's parsers and ciphertext formats (see `fuzz_targets/` and `scripts/fuzz.sh`).
//!
//! The checks live in [`checks`], which `core/tests/fuzz_regressions.rs` also includes, so that every
//! crasher and seed file is replayed by a plain `cargo test` with exactly the fuzz target's checks.
#![forbid(unsafe_code)]

pub mod checks;

pub use checks::*;
