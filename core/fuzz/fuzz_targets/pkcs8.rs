#![no_main]
//! Fuzz target `pkcs8`: see `tresor_fuzz::check_pkcs8`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tresor_fuzz::check_pkcs8(data));
