#![no_main]
//! Fuzz target `ecdsa_der`: see `tresor_fuzz::check_ecdsa_der`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tresor_fuzz::check_ecdsa_der(data));
