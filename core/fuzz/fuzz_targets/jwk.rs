#![no_main]
//! Fuzz target `jwk`: see `tresor_fuzz::check_jwk`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tresor_fuzz::check_jwk(data));
