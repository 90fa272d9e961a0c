//! AES-GCM in Canton's wire format (`IV(12) ‖ ciphertext ‖ tag(16)`, no associated data), from the
//! command line. The CLI has no AES-GCM command; the interop tests (`tests/interop/run.sh`) use this
//! program to check tresor's AES-128-GCM against an independent implementation.
//!
//! ```text
//! aes_gcm_tool encrypt|decrypt <hex-key> <in> <out>
//! ```
//!
//! The key is 16 (AES-128) or 32 (AES-256) bytes in hex. On failure the program prints one line on
//! stderr and exits with status 1.

use std::process::ExitCode;

use tresor::primitives::AesGcmKey;

const USAGE: &str = "usage: aes_gcm_tool encrypt|decrypt <hex-key> <in> <out>";

enum Mode {
    Encrypt,
    Decrypt,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("aes_gcm_tool: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let [mode, hex_key, input, output] = args else {
        return Err(USAGE.to_owned());
    };
    let mode = match mode.as_str() {
        "encrypt" => Mode::Encrypt,
        "decrypt" => Mode::Decrypt,
        other => return Err(format!("unknown mode {other:?}; {USAGE}")),
    };
    let raw_key = decode_hex(hex_key)?;
    let key = AesGcmKey::new(&raw_key).map_err(|e| format!("bad key: {e}"))?;
    let data = std::fs::read(input).map_err(|e| format!("cannot read {input}: {e}"))?;
    let result = match mode {
        Mode::Encrypt => key
            .encrypt(&data, &[])
            .map_err(|e| format!("cannot encrypt {input}: {e}"))?,
        Mode::Decrypt => key
            .decrypt(&data, &[])
            .map_err(|e| format!("cannot decrypt {input}: {e}"))?
            .to_vec(),
    };
    std::fs::write(output, &result).map_err(|e| format!("cannot write {output}: {e}"))
}

fn decode_hex(text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim();
    if !text.len().is_multiple_of(2) {
        return Err("the hex key has an odd number of digits".to_owned());
    }
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| Ok((hex_digit(pair[0])? << 4) | hex_digit(pair[1])?))
        .collect()
}

fn hex_digit(c: u8) -> Result<u8, String> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(format!("invalid hex digit {:?} in the key", char::from(c))),
    }
}
