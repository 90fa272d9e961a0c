#![no_main]
//! Fuzz target `ciphertext_rsa_oaep`: see `tresor_fuzz::check_ciphertext_rsa_oaep`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| tresor_fuzz::check_ciphertext_rsa_oaep(data));
