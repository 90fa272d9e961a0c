//! `tresor`: the operator's command-line tool.
//!
//! Exit codes (also in the README and in `tresor --help`):
//! * 0 — success (for `verify`: the signature is valid);
//! * 1 — `verify` only: the signature is well-formed input but does not verify;
//! * 2 — any error: bad arguments, unreadable or malformed input, mismatched key and algorithm,
//!   a ciphertext that does not decrypt. One line on stderr names the problem.
//! * 70 — an internal error (a bug); also one line on stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod demo;
mod files;
mod offline;

use std::io::Write as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code for "the signature does not verify".
pub(crate) const EXIT_INVALID: u8 = 1;
/// Exit code for every error.
pub(crate) const EXIT_ERROR: u8 = 2;
/// Exit code for internal errors (bugs).
pub(crate) const EXIT_INTERNAL: u8 = 70;

const AFTER_HELP: &str = "\
Exit codes: 0 success (verify: valid), 1 verify: invalid signature, 2 error, 70 internal error.
Key specs: ec-curve-25519, ec-p-256, ec-p-384, ec-secp-256k-1, rsa-2048.
Signing algorithms: ed-25519, ec-dsa-sha-256, ec-dsa-sha-384.
Encryption algorithms: ecies-hkdf-hmac-sha-256-aes-128-cbc, rsa-oaep-sha-256,
  ecies-hkdf-hmac-sha-256-aes-128-gcm (legacy).
Key files are PEM (SPKI public, PKCS#8 private) as OpenSSL writes them; DER is accepted on input.
A file argument of '-' means standard input or output.";

#[derive(Parser, Debug)]
#[command(name = "tresor", version, about = "Canton-compatible key management", after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate a key pair and write the private key (PKCS#8 PEM, mode 0600) and optionally the public key.
    Keygen(offline::KeygenArgs),
    /// Print the Canton fingerprint of a public key (PEM or DER, any spec).
    Fingerprint(offline::FingerprintArgs),
    /// Sign a file with a private key; the signature is written in Canton's format.
    Sign(offline::SignArgs),
    /// Verify a signature: exit 0 if valid, 1 if invalid, 2 on error.
    Verify(offline::VerifyArgs),
    /// Encrypt a file to a public key in Canton's format.
    Encrypt(offline::EncryptArgs),
    /// Decrypt a file with a private key.
    Decrypt(offline::DecryptArgs),
    /// Generate a Canton participant's keys, sign, verify, encrypt, decrypt; print fingerprints and timings.
    Demo(demo::DemoArgs),
}

/// A failure of a command: what to print and which exit code to use.
#[derive(Debug)]
pub(crate) struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    pub(crate) fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl From<tresor::Error> for Failure {
    fn from(e: tresor::Error) -> Self {
        let code = if e.kind() == tresor::ErrorKind::Internal {
            EXIT_INTERNAL
        } else {
            EXIT_ERROR
        };
        Self::new(code, format!("{e} (error {} {})", e.code(), e.kind()))
    }
}

/// Print one line on stderr, whatever the message contains.
fn report(message: &str) {
    let one_line: String = message.split_whitespace().collect::<Vec<_>>().join(" ");
    let _ = writeln!(std::io::stderr(), "tresor: {one_line}");
}

fn main() -> ExitCode {
    // A panic is a bug: report it on one line, never with a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        report(&format!("internal error (please report this bug): {what}"));
    }));

    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind as K;
            if matches!(
                e.kind(),
                K::DisplayHelp | K::DisplayVersion | K::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return if e.kind() == K::DisplayHelpOnMissingArgumentOrSubcommand {
                    ExitCode::from(EXIT_ERROR)
                } else {
                    ExitCode::SUCCESS
                };
            }
            // clap's message spans several lines (usage, hints): keep what names the problem, on one line.
            let rendered = e.render().to_string();
            let problem: Vec<&str> = rendered
                .lines()
                .map(str::trim)
                .take_while(|l| !l.starts_with("Usage:"))
                .filter(|l| {
                    !l.is_empty()
                        && !l.starts_with("tip:")
                        && !l.starts_with("For more information")
                })
                .collect();
            report(&format!(
                "{} (see 'tresor --help')",
                problem.join(" ").trim_start_matches("error: ")
            ));
            return ExitCode::from(EXIT_ERROR);
        }
    };

    let result = std::panic::catch_unwind(|| match cli.command {
        Command::Keygen(a) => offline::keygen(a),
        Command::Fingerprint(a) => offline::fingerprint(a),
        Command::Sign(a) => offline::sign(a),
        Command::Verify(a) => offline::verify(a),
        Command::Encrypt(a) => offline::encrypt(a),
        Command::Decrypt(a) => offline::decrypt(a),
        Command::Demo(a) => demo::demo(a),
    });
    match result {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(f)) => {
            report(&f.message);
            ExitCode::from(f.code)
        }
        Err(_) => ExitCode::from(EXIT_INTERNAL),
    }
}
