//! The CLI's side of the configuration: where it comes from (`--config`, `TRESOR_CONFIG`,
//! `--canton-config`/`--node`, the environment) and the file `tresor init` writes. Reading and checking it
//! is `tresor::config`.

use std::path::{Path, PathBuf};

use tresor::config::Config;

use crate::{EXIT_ERROR, EXIT_INTERNAL, EXIT_PASSWORD, Failure};

/// Default config file name (in the current directory).
pub(crate) const DEFAULT_CONFIG: &str = "tresor.toml";

fn fail(message: impl Into<String>) -> Failure {
    Failure::new(EXIT_ERROR, message)
}

/// A configuration error as the CLI prints it: the message alone (it names the file, line and field),
/// without the " (error N kind)" that other library errors get.
pub(crate) fn config_failure(e: tresor::Error) -> Failure {
    let code = match e.kind() {
        tresor::ErrorKind::Internal => EXIT_INTERNAL,
        tresor::ErrorKind::WrongPassword => EXIT_PASSWORD,
        _ => EXIT_ERROR,
    };
    Failure::new(code, e.to_string())
}

/// An absolute form of `p` (relative paths are taken from the current directory).
pub(crate) fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// The value of an environment variable, `None` when unset or empty.
pub(crate) fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Where the config comes from (global options).
#[derive(Debug, Clone, Default)]
pub(crate) struct Sources {
    pub(crate) config: Option<PathBuf>,
    pub(crate) canton_config: Option<PathBuf>,
    pub(crate) node: Option<String>,
}

impl Sources {
    /// The tresor config file path to use, and whether the user named it explicitly.
    pub(crate) fn config_path(&self) -> (PathBuf, bool) {
        if let Some(p) = &self.config {
            return (p.clone(), true);
        }
        if let Some(p) = env("TRESOR_CONFIG") {
            return (PathBuf::from(p), true);
        }
        (PathBuf::from(DEFAULT_CONFIG), false)
    }
}

/// Load the effective configuration.
pub(crate) fn load(src: &Sources) -> Result<Config, Failure> {
    let (path, explicit) = src.config_path();
    let mut cfg = if explicit || path.exists() {
        Config::from_toml_file(&path).map_err(config_failure)?
    } else {
        Config::default()
    };
    match (&src.canton_config, &src.node) {
        (Some(file), Some(node)) => cfg.apply_canton(file, node).map_err(config_failure)?,
        (Some(_), None) => {
            return Err(fail(
                "--canton-config needs --node <name> (the participant, sequencer or mediator whose crypto block to read)",
            ));
        }
        (None, Some(_)) => return Err(fail("--node needs --canton-config <file>")),
        (None, None) => {}
    }
    cfg.apply_env().map_err(config_failure)?;
    if cfg.store_url().is_none() {
        return Err(fail(if cfg.file().is_none() && cfg.canton().is_none() {
            format!(
                "no configuration: {} does not exist (run 'tresor init', pass --config <file>, or set TRESOR_CONFIG \
                 or TRESOR_STORE_URL)",
                path.display()
            )
        } else {
            format!(
                "the key store is not configured: set [store] url in {} or the environment variable TRESOR_STORE_URL",
                cfg.file()
                    .map_or_else(|| path.display().to_string(), |f| f.display().to_string())
            )
        }));
    }
    Ok(cfg)
}

// --- writing a config file ---------------------------------------------------------------------

/// A TOML basic string.
pub(crate) fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// What `tresor init` writes.
#[derive(Debug, Clone)]
pub(crate) struct InitChoices {
    /// `sqlite://…` as written (relative to the config file when inside its directory).
    pub(crate) store_url: String,
    pub(crate) mode: InitMode,
    pub(crate) kms_path: String,
    pub(crate) key_file: String,
}

/// The mode `tresor init` configures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum InitMode {
    /// Envelope encryption under a software-KMS wrapper key (the default).
    Envelope,
    /// Keys in the store as clear PKCS#8 (tests and development only).
    Clear,
    /// Keys generated and used inside the (software) KMS.
    External,
}

/// The text of a new config file.
pub(crate) fn render(c: &InitChoices) -> String {
    let (provider, enc) = match c.mode {
        InitMode::Envelope => ("jce", "kms"),
        InitMode::Clear => ("jce", "none"),
        InitMode::External => ("kms", "none"),
    };
    format!(
        "# tresor configuration, written by `tresor init`. Field names follow Canton's crypto config.\n\
         # Relative paths are relative to this file's directory. Environment variables override fields\n\
         # (TRESOR_STORE_URL, TRESOR_ENCRYPTION_TYPE, TRESOR_WRAPPER_KEY_ID, TRESOR_KMS_KEY_FILE, …; see\n\
         # `tresor config show` and `tresor --help`).\n\
         \n\
         [store]\n\
         # sqlite://<file> or postgres://user@host/db\n\
         url = {store}\n\
         \n\
         [crypto]\n\
         # jce: keys are generated by tresor and kept in the store; kms: keys are generated and used in the KMS.\n\
         provider = {provider}\n\
         \n\
         [private-key-store.encryption]\n\
         # kms: private keys are stored sealed under a data key wrapped by the KMS wrapper key; none: clear.\n\
         type = {enc}\n\
         # wrapper-key-id = \"…\"   # optional: a pre-made KMS key; by default the store's, or a new one\n\
         reverted = false          # true decrypts the store back to clear (with type = \"kms\")\n\
         \n\
         [kms]\n\
         type = \"software\"\n\
         path = {kms}\n\
         # The master key of the software KMS: 32 random bytes (hex), mode 0600. Alternatives:\n\
         # passphrase-file = \"…\", or the TRESOR_KMS_PASSPHRASE environment variable, or a prompt.\n\
         key-file = {key}\n\
         # Canton's KMS audit logging: every KMS call is logged (redacted, hash-chained) to\n\
         # tresor-kms-audit.log next to this file (KMS_LOG_FILE_NAME or --kms-log-file-name to move it).\n\
         audit-logging = true\n\
         \n\
         [cache]\n\
         max-entries = 1024\n\
         idle-timeout-seconds = 600\n\
         \n\
         [storage]\n\
         # active migrates and writes; passive (a second node sharing a PostgreSQL store) waits for it.\n\
         role = \"active\"\n",
        store = toml_string(&c.store_url),
        provider = toml_string(provider),
        enc = toml_string(enc),
        kms = toml_string(&c.kms_path),
        key = toml_string(&c.key_file),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tresor::config::{KmsType, Provider};
    use tresor::vault::Mode;

    fn tmp(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("tresor-cli-config-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("mkdir");
        d
    }

    #[test]
    fn rendered_config_reads_back() {
        let d = tmp("render");
        let f = d.join("tresor.toml");
        let text = render(&InitChoices {
            store_url: "sqlite://tresor.db".into(),
            mode: InitMode::Envelope,
            kms_path: "tresor-kms.db".into(),
            key_file: "tresor-kms.key".into(),
        });
        std::fs::write(&f, text).expect("write");
        let cfg = Config::from_toml_file(&f).expect("reads");
        let base = absolute(&d);
        assert_eq!(
            cfg.store_url(),
            Some(format!("sqlite://{}", base.join("tresor.db").display()).as_str())
        );
        assert!(cfg.encryption());
        assert_eq!(cfg.provider(), Provider::Jce);
        let kms = cfg.kms().expect("kms");
        assert_eq!(kms.kind(), &KmsType::Software);
        assert!(kms.audit_logging());
        assert_eq!(kms.path(), base.join("tresor-kms.db"));
        assert_eq!(kms.key_file(), Some(base.join("tresor-kms.key").as_path()));
        assert!(matches!(cfg.mode(), Ok(Mode::Envelope(_))));
        let _ = std::fs::remove_dir_all(&d);
    }
}
