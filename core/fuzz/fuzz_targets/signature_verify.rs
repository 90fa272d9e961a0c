#![no_main]
//! Fuzz target `signature_verify`: see `tresor_fuzz::check_signature_verify`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tresor_fuzz::check_signature_verify(data));
