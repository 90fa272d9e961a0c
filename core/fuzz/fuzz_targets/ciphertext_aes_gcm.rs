#![no_main]
//! Fuzz target `ciphertext_aes_gcm`: see `tresor_fuzz::check_ciphertext_aes_gcm`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tresor_fuzz::check_ciphertext_aes_gcm(data));
