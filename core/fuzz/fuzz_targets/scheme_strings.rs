#![no_main]
//! Fuzz target `scheme_strings`: see `tresor_fuzz::check_scheme_strings`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tresor_fuzz::check_scheme_strings(data));
