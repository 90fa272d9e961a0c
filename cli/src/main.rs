//! `tresor`: the operator's command-line tool.
//!
//! Exit codes (also in the README and in `tresor --help`):
//! * 0 — success (for `verify`: the signature is valid);
//! * 1 — `verify` only: the signature is well-formed input but does not verify;
//! * 2 — any error: bad arguments, unreadable or malformed input, mismatched key and algorithm,
//!   a ciphertext that does not decrypt, a bad config file. One line on stderr names the problem.
//! * 3 — a wrong password: an export file that does not open, or a software KMS master key
//!   (passphrase or key file) that does not match;
//! * 70 — an internal error (a bug); also one line on stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod config;
mod demo;
mod files;
mod node;
mod offline;
mod ui;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code for "the signature does not verify".
pub(crate) const EXIT_INVALID: u8 = 1;
/// Exit code for every error.
pub(crate) const EXIT_ERROR: u8 = 2;
/// Exit code for a wrong password or KMS master key.
pub(crate) const EXIT_PASSWORD: u8 = 3;
/// Exit code for internal errors (bugs).
pub(crate) const EXIT_INTERNAL: u8 = 70;

const AFTER_HELP: &str = "\
Exit codes: 0 success (verify: valid), 1 verify: invalid signature, 2 error,
  3 wrong password (export file, software KMS passphrase or key file), 70 internal error.

Offline commands (keygen, fingerprint, sign/verify/encrypt/decrypt --key) work on key files, no store.
Store commands (init, config, key, kms, wrapper-key, data-key, store, backup,
sign/verify/encrypt/decrypt --fingerprint)
read ./tresor.toml (or --config, or TRESOR_CONFIG); environment variables override its fields:
  TRESOR_STORE_URL, TRESOR_CRYPTO_PROVIDER, TRESOR_ENCRYPTION_TYPE, TRESOR_WRAPPER_KEY_ID,
  TRESOR_REVERTED, TRESOR_KMS_TYPE, TRESOR_KMS_PATH, TRESOR_KMS_KEY_FILE,
  TRESOR_KMS_PASSPHRASE_FILE, TRESOR_KMS_PASSPHRASE, TRESOR_KMS_AUDIT_LOGGING,
  TRESOR_AUDIT_KEY_USE, TRESOR_CACHE_MAX_ENTRIES, TRESOR_CACHE_IDLE_TIMEOUT_SECONDS,
  TRESOR_STORAGE_ROLE.
With kms audit-logging = true every KMS call and key operation is logged (Canton's format,
  hash-chained) to --kms-log-file-name, KMS_LOG_FILE_NAME or ./tresor-kms-audit.log next to the
  config (mode 0600); also KMS_LOG_IMMEDIATE_FLUSH, KMS_LOG_FILE_ROLLING_PATTERN (yyyy-MM-dd),
  KMS_LOG_FILE_HISTORY. [audit] key-use = true also logs every sign and decrypt by fingerprint.
--canton-config canton.conf --node participant1 reads the crypto block of a Canton config instead.
Export passwords: --password-file, TRESOR_EXPORT_PASSWORD, or a prompt (never an argument); at least
  12 characters unless --allow-short-password.
Secret files (KMS key file, passphrase, PIN and password files) must not be readable by group or
  others (chmod 600): tresor refuses them, as ssh refuses such private keys.
A key in the store is named by its fingerprint, a unique prefix of it, or its name.
Output files: a regular file is replaced atomically (with --force); a FIFO or a character device
  (/dev/null, /dev/stdout) is written in place.

Key specs: ec-curve-25519, ec-p-256, ec-p-384, ec-secp-256k-1, rsa-2048.
Key usages: namespace, sequencer-auth, protocol, proof-of-ownership.
Signing algorithms: ed-25519, ec-dsa-sha-256, ec-dsa-sha-384.
Encryption algorithms: ecies-hkdf-hmac-sha-256-aes-128-cbc, rsa-oaep-sha-256,
  ecies-hkdf-hmac-sha-256-aes-128-gcm (legacy).
Key files are PEM (SPKI public, PKCS#8 private) as OpenSSL writes them; DER is accepted on input.
A file argument of '-' means standard input or output.";

#[derive(Parser, Debug)]
#[command(name = "tresor", version, about = "Canton-compatible key management", after_help = AFTER_HELP)]
struct Cli {
    /// The tresor config file (default ./tresor.toml; also TRESOR_CONFIG).
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        help_heading = "Global options"
    )]
    config: Option<PathBuf>,
    /// Read the crypto block of this Canton (HOCON) config file, for the node named by --node.
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        help_heading = "Global options"
    )]
    canton_config: Option<PathBuf>,
    /// The participant, sequencer or mediator in --canton-config.
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        help_heading = "Global options"
    )]
    node: Option<String>,
    /// Where the KMS audit log goes when the config says audit-logging = true (default: KMS_LOG_FILE_NAME,
    /// else tresor-kms-audit.log next to the config file).
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        help_heading = "Global options"
    )]
    kms_log_file_name: Option<PathBuf>,
    /// Print JSON on stdout (for scripts) instead of tables.
    #[arg(long, global = true, help_heading = "Global options")]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create ./tresor.toml, the key store, the software KMS and its key file (envelope mode).
    Init(node::InitArgs),
    /// Show the effective configuration.
    #[command(subcommand)]
    Config(node::ConfigCmd),
    /// Manage the keys in the store: generate, list, show, public, delete, rotate, export, import.
    #[command(subcommand)]
    Key(node::KeyCmd),
    /// Show or rotate the KMS wrapper key of an envelope-encrypted store.
    #[command(subcommand)]
    WrapperKey(node::WrapperKeyCmd),
    /// Rotate the store data key (envelope mode).
    #[command(subcommand)]
    DataKey(node::DataKeyCmd),
    /// Check the key store: `store check` lists every problem (damaged rows, keys whose rights fail
    /// their integrity check).
    #[command(subcommand)]
    Store(node::StoreCmd),
    /// Write a consistent copy of a SQLite store, the software KMS and its key file to a directory,
    /// while other processes may be writing (a PostgreSQL store: use pg_dump).
    Backup(node::BackupArgs),
    /// Check the KMS audit log: `audit verify <file>` checks its hash chain.
    #[command(subcommand)]
    Audit(node::AuditCmd),
    /// KMS administration: the permissions a node needs, registering keys made in the KMS (external
    /// mode) and rotating node keys to them.
    #[command(subcommand)]
    Kms(node::KmsCmd),
    /// Generate a key pair and write the private key (PKCS#8 PEM, mode 0600) and optionally the public key.
    Keygen(offline::KeygenArgs),
    /// Print the Canton fingerprint of a public key (PEM or DER, any spec).
    Fingerprint(offline::FingerprintArgs),
    /// Sign a file with a private key file (--key) or a key in the store (--fingerprint, --usage);
    /// the signature is written in Canton's format.
    Sign(offline::SignArgs),
    /// Verify a signature with a public key file (--key) or a key in the store (--fingerprint):
    /// exit 0 if valid, 1 if invalid, 2 on error.
    Verify(offline::VerifyArgs),
    /// Encrypt a file to a public key file (--key) or a key in the store (--fingerprint), in Canton's format.
    Encrypt(offline::EncryptArgs),
    /// Decrypt a file with a private key file (--key) or a key in the store (--fingerprint).
    Decrypt(offline::DecryptArgs),
    /// In a temporary directory: an envelope-encrypted store on the software KMS, a Canton participant's
    /// keys, sign/verify, encrypt/decrypt, wrapper and data key rotation, re-open; fingerprints and timings.
    Demo(demo::DemoArgs),
}

/// A failure of a command: what to print and which exit code to use.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
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
        let code = match e.kind() {
            tresor::ErrorKind::Internal => EXIT_INTERNAL,
            tresor::ErrorKind::WrongPassword => EXIT_PASSWORD,
            _ => EXIT_ERROR,
        };
        Self::new(code, format!("{e} (error {} {})", e.code(), e.kind()))
    }
}

/// Print one line on stderr, whatever the message contains.
fn report(message: &str) {
    ui::close_progress_line();
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

    let ctx = node::Ctx {
        sources: config::Sources {
            config: cli.config,
            canton_config: cli.canton_config,
            node: cli.node,
        },
        ui: ui::Ui { json: cli.json },
        kms_log_file: cli.kms_log_file_name,
    };
    let result = std::panic::catch_unwind(|| match cli.command {
        Command::Init(a) => node::init(&ctx, a),
        Command::Config(c) => node::config_cmd(&ctx, c),
        Command::Key(c) => node::key_cmd(&ctx, c),
        Command::WrapperKey(c) => node::wrapper_key_cmd(&ctx, c),
        Command::DataKey(c) => node::data_key_cmd(&ctx, c),
        Command::Audit(c) => node::audit_cmd(&ctx, c),
        Command::Store(c) => node::store_cmd(&ctx, c),
        Command::Backup(a) => node::backup(&ctx, a),
        Command::Kms(c) => node::kms_cmd(&ctx, c),
        Command::Keygen(a) => offline::keygen(a, ctx.ui),
        Command::Fingerprint(a) => offline::fingerprint(a, ctx.ui),
        Command::Sign(a) => offline::sign(&ctx, a),
        Command::Verify(a) => offline::verify(&ctx, a),
        Command::Encrypt(a) => offline::encrypt(&ctx, a),
        Command::Decrypt(a) => offline::decrypt(&ctx, a),
        Command::Demo(a) => demo::demo(a, ctx.ui),
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
