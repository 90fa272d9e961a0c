//! The CLI's side of the configuration: where it comes from (`--config`, `TRESOR_CONFIG`,
//! `--canton-config`/`--node`, the environment) and the file `tresor init` writes. Reading and checking it
//! is `tresor::config`.

use std::path::{Path, PathBuf};

use tresor::config::{Config, ConfigSources};

use crate::{EXIT_ERROR, EXIT_INTERNAL, EXIT_PASSWORD, Failure};

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

/// Where the config comes from (global options).
#[derive(Debug, Clone, Default)]
pub(crate) struct Sources {
    pub(crate) config: Option<PathBuf>,
    pub(crate) canton_config: Option<PathBuf>,
    pub(crate) node: Option<String>,
}

impl Sources {
    /// The library's description of these sources.
    fn to_core(&self) -> Result<ConfigSources, Failure> {
        let mut s = ConfigSources::new();
        if let Some(p) = &self.config {
            s = s.file(p);
        }
        match (&self.canton_config, &self.node) {
            (Some(file), Some(node)) => s = s.canton(file, node),
            (Some(_), None) => {
                return Err(fail(
                    "--canton-config needs --node <name> (the participant, sequencer or mediator whose crypto block to read)",
                ));
            }
            (None, Some(_)) => return Err(fail("--node needs --canton-config <file>")),
            (None, None) => {}
        }
        Ok(s)
    }

    /// The tresor config file path to use, and whether the user named it explicitly.
    pub(crate) fn config_path(&self) -> (PathBuf, bool) {
        match self.to_core() {
            Ok(s) => s.config_file(),
            Err(_) => ConfigSources::new().config_file(),
        }
    }
}

/// Load the effective configuration (`tresor::config::Config::load`), with the CLI's advice when there
/// is none.
pub(crate) fn load(src: &Sources) -> Result<Config, Failure> {
    let sources = src.to_core()?;
    Config::load(&sources).map_err(|e| {
        let mut f = config_failure(e);
        if f.message.starts_with("no configuration:") {
            f.message
                .push_str("; run 'tresor init' to create one, or pass --config <file>");
        }
        if let Some(feature) = ["aws", "gcp", "pkcs11"]
            .into_iter()
            .find(|ft| f.message.contains(&format!("needs the cargo feature '{ft}'")))
        {
            f.message.push_str(&format!(
                " (build the tresor command with it: cargo build -p tresor-cli --release --features {feature})"
            ));
        }
        f
    })
}

// --- writing a config file ---------------------------------------------------------------------

/// What `tresor init` writes.
#[derive(Debug, Clone)]
pub(crate) struct InitChoices {
    /// `sqlite://…` as written (relative to the config file when inside its directory).
    pub(crate) store_url: String,
    pub(crate) mode: InitMode,
    pub(crate) kms_path: String,
    /// Where the software KMS master key comes from (paths as written).
    pub(crate) master: InitMaster,
}

/// The software KMS master key `tresor init` configures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InitMaster {
    /// `key-file = …`: 32 random bytes (hex).
    KeyFile(String),
    /// `passphrase-file = …`.
    PassphraseFile(String),
    /// No line: the passphrase comes from `TRESOR_KMS_PASSPHRASE` or is asked on the terminal.
    Passphrase,
}

impl InitMaster {
    /// The config lines of the master key source (with their comment).
    fn lines(&self) -> String {
        match self {
            Self::KeyFile(f) => format!(
                "# The master key of the software KMS: 32 random bytes (hex), mode 0600. The other kind is a\n\
                 # passphrase (passphrase-file = \"…\", TRESOR_KMS_PASSPHRASE, or a prompt): the kind is fixed\n\
                 # when the KMS is created (tresor init --kms-passphrase or --kms-passphrase-file).\n\
                 key-file = {}\n",
                tresor::util::quote(f)
            ),
            Self::PassphraseFile(f) => format!(
                "# The master key of the software KMS is derived (Argon2id) from the passphrase on the first\n\
                 # line of this file (mode 0600). The kind (passphrase or key file) is fixed when the KMS is\n\
                 # created.\n\
                 passphrase-file = {}\n",
                tresor::util::quote(f)
            ),
            Self::Passphrase => "# The master key of the software KMS is derived (Argon2id) from a passphrase: the\n\
                 # TRESOR_KMS_PASSPHRASE environment variable, else asked on the terminal (or set\n\
                 # passphrase-file = \"…\"). The kind (passphrase or key file) is fixed when the KMS is created.\n"
                .to_string(),
        }
    }
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
         {master}\
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
        store = tresor::util::quote(&c.store_url),
        provider = tresor::util::quote(provider),
        enc = tresor::util::quote(enc),
        kms = tresor::util::quote(&c.kms_path),
        master = c.master.lines(),
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
            master: InitMaster::KeyFile("tresor-kms.key".into()),
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
        assert_eq!(kms.kind(), KmsType::Software);
        assert!(kms.audit_logging());
        let soft = kms.software().expect("software KMS");
        assert_eq!(soft.path, base.join("tresor-kms.db"));
        assert_eq!(
            soft.master,
            tresor::kms::registry::SoftwareMaster::KeyFile(base.join("tresor-kms.key"))
        );
        assert!(matches!(cfg.mode(), Ok(Mode::Envelope(_))));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn rendered_passphrase_configs_read_back() {
        let d = tmp("render-passphrase");
        let base = absolute(&d);
        for (master, want) in [
            (
                InitMaster::PassphraseFile("secrets/pw".into()),
                tresor::kms::registry::SoftwareMaster::PassphraseFile(base.join("secrets/pw")),
            ),
            (
                InitMaster::Passphrase,
                tresor::kms::registry::SoftwareMaster::Supplied,
            ),
        ] {
            let f = d.join("tresor.toml");
            std::fs::write(
                &f,
                render(&InitChoices {
                    store_url: "sqlite://tresor.db".into(),
                    mode: InitMode::External,
                    kms_path: "tresor-kms.db".into(),
                    master,
                }),
            )
            .expect("write");
            let cfg = Config::from_toml_file(&f).expect("reads");
            assert_eq!(
                cfg.kms().and_then(|k| k.software()).map(|s| &s.master),
                Some(&want)
            );
            assert!(matches!(cfg.mode(), Ok(Mode::External)));
        }
        let _ = std::fs::remove_dir_all(&d);
    }
}
