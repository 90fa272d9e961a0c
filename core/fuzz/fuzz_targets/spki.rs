#![no_main]
//! Fuzz target `spki`: see `tresor_fuzz::check_spki`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tresor_fuzz::check_spki(data));
