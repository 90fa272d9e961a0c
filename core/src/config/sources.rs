//! Where a configuration comes from, resolved the same way by every face of tresor (the CLI's
//! `--config`/`--canton-config`/`--node`, the C library's `tresor_vault_open*`, the JVM and Python
//! `Vault.open`).

use std::path::{Path, PathBuf};

use super::{Config, env, invalid};
use crate::error::Result;

/// The default config file name, looked up in the current directory.
pub const DEFAULT_CONFIG_FILE: &str = "tresor.toml";

/// The environment variable naming the config file when none is given.
pub const CONFIG_ENV: &str = "TRESOR_CONFIG";

/// Where to read a configuration from (a builder):
///
/// * the tresor TOML file: [`file`](Self::file), else `TRESOR_CONFIG`, else `./tresor.toml` when it
///   exists (otherwise no file: the environment may still configure everything) — or, instead of a
///   file, config text held in memory ([`text`](Self::text));
/// * optionally the `crypto` block of a node in a Canton HOCON file ([`canton`](Self::canton)), which
///   replaces the file's crypto settings;
/// * the `TRESOR_*` environment overrides ([`environment`](Self::environment), on by default).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConfigSources {
    file: Option<PathBuf>,
    text: Option<(String, PathBuf)>,
    canton: Option<(PathBuf, String)>,
    environment: bool,
}

impl Default for ConfigSources {
    fn default() -> Self {
        Self::new()
    }
}

impl ConfigSources {
    /// The defaults: `TRESOR_CONFIG` or `./tresor.toml`, no Canton block, environment overrides on.
    pub fn new() -> Self {
        Self {
            file: None,
            text: None,
            canton: None,
            environment: true,
        }
    }

    /// Read this tresor TOML file (it must exist).
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = Some(path.into());
        self
    }

    /// Read this config text (the content of a `tresor.toml`) instead of a file; relative paths in it
    /// are taken from `base_dir`. Not together with [`file`](Self::file).
    pub fn text(mut self, text: impl Into<String>, base_dir: impl Into<PathBuf>) -> Self {
        self.text = Some((text.into(), base_dir.into()));
        self
    }

    /// Apply the `crypto` block of `node` (a participant, sequencer or mediator) in this Canton HOCON
    /// file.
    pub fn canton(mut self, file: impl Into<PathBuf>, node: impl Into<String>) -> Self {
        self.canton = Some((file.into(), node.into()));
        self
    }

    /// Whether `TRESOR_CONFIG` and the `TRESOR_*` overrides are read (default: true).
    pub fn environment(mut self, on: bool) -> Self {
        self.environment = on;
        self
    }

    /// The tresor config file these sources name, and whether it was named explicitly (by
    /// [`file`](Self::file) or `TRESOR_CONFIG`) rather than being the default `./tresor.toml`.
    pub fn config_file(&self) -> (PathBuf, bool) {
        if let Some(p) = &self.file {
            return (p.clone(), true);
        }
        if self.environment
            && let Some(p) = env(CONFIG_ENV)
        {
            return (PathBuf::from(p), true);
        }
        (PathBuf::from(DEFAULT_CONFIG_FILE), false)
    }
}

impl Config {
    /// Read the configuration `sources` describe (see [`ConfigSources`]). A file named explicitly must
    /// exist; the default `./tresor.toml` may be absent. The result must name a key store
    /// ([`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) otherwise, saying where it
    /// looked).
    pub fn load(sources: &ConfigSources) -> Result<Config> {
        let (path, explicit) = sources.config_file();
        let mut cfg = match &sources.text {
            Some(_) if sources.file.is_some() => {
                return Err(invalid(
                    "give either a config file or config text, not both",
                ));
            }
            Some((text, base)) => Config::from_toml_str(text, base, "<config string>")?,
            None if explicit || path.exists() => Config::from_toml_file(&path)?,
            None => Config::default(),
        };
        if let Some((file, node)) = &sources.canton {
            cfg.apply_canton(file, node)?;
        }
        if sources.environment {
            cfg.apply_env()?;
        }
        if cfg.store_url().is_none() {
            return Err(invalid(if sources.text.is_some() {
                "the key store is not configured: set [store] url in the config text or the \
                 environment variable TRESOR_STORE_URL"
                    .to_string()
            } else if cfg.file().is_none() && cfg.canton().is_none() {
                format!(
                    "no configuration: {} does not exist (name a config file, or set {CONFIG_ENV} or \
                     TRESOR_STORE_URL)",
                    path.display()
                )
            } else {
                format!(
                    "the key store is not configured: set [store] url in {} or the environment variable \
                     TRESOR_STORE_URL",
                    cfg.file()
                        .map_or_else(|| path.display().to_string(), |f| f.display().to_string())
                )
            }));
        }
        Ok(cfg)
    }

    /// [`Config::load`] of one tresor TOML file (with the environment overrides).
    pub fn load_file(path: &Path) -> Result<Config> {
        Self::load(&ConfigSources::new().file(path))
    }
}
