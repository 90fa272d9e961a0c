#![no_main]
//! Fuzz target `pem`: see `tresor_fuzz::check_pem`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tresor_fuzz::check_pem(data));
