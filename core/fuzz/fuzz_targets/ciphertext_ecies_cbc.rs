#![no_main]
//! Fuzz target `ciphertext_ecies_cbc`: see `tresor_fuzz::check_ciphertext_ecies_cbc`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tresor_fuzz::check_ciphertext_ecies_cbc(data));
