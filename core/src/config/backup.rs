//! A consistent copy of a SQLite store, its software KMS and its configuration: what `tresor backup`,
//! `Vault.backup` (Python, JVM) and every other face call.

use std::path::{Path, PathBuf};

use super::{Config, invalid, sqlite_path};
use crate::error::{Error, ErrorKind, Result};
use crate::kms::registry::SoftwareMaster;
use crate::util::redact_url;
use crate::vault::Vault;

/// The config file name in a backup directory.
const CONFIG_COPY: &str = "tresor.toml";

/// What a file in a backup directory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackupPart {
    /// The key store (`VACUUM INTO`).
    Store,
    /// The software KMS file (copied under the store's write lock).
    SoftwareKms,
    /// The software KMS key file (mode 0600).
    KmsKeyFile,
    /// The configuration file, naming the copies.
    Config,
}

impl BackupPart {
    /// A short description (what `tresor backup` prints next to the path).
    pub fn describe(self) -> &'static str {
        match self {
            Self::Store => "key store",
            Self::SoftwareKms => "software KMS",
            Self::KmsKeyFile => "software KMS key file",
            Self::Config => "config (naming the copies; its paths are relative to its directory)",
        }
    }
}

/// One file [`backup`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackupFile {
    /// Where it is (inside the backup directory).
    pub path: PathBuf,
    /// What it is.
    pub part: BackupPart,
}

/// What [`backup`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackupReport {
    /// The backup directory.
    pub dir: PathBuf,
    /// The files written, in the order they were written.
    pub files: Vec<BackupFile>,
    /// What the backup does not hold and the caller should know (a passphrase kept apart, keys that stay
    /// in a cloud KMS or HSM, settings that did not come from the config file).
    pub notes: Vec<String>,
}

/// Where each copy goes, worked out from the configuration before anything is written.
struct Plan {
    store_copy: PathBuf,
    kms: Option<(PathBuf, PathBuf)>,
    key_file: Option<(PathBuf, PathBuf)>,
    passphrase_file: Option<PathBuf>,
    config: Option<PathBuf>,
    /// The config holds the passphrase itself: its copy is private too.
    config_private: bool,
    notes: Vec<String>,
}

/// The file name of `path`, in `dir`.
fn copy_in(dir: &Path, path: &Path, what: &str) -> Result<PathBuf> {
    path.file_name()
        .map(|n| dir.join(n))
        .ok_or_else(|| invalid(format!("{what} '{}' has no file name", path.display())))
}

fn io(action: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::new(
        ErrorKind::Io,
        format!("cannot {action} '{}': {e}", path.display()),
    )
}

fn plan(config: &Config, dir: &Path) -> Result<Plan> {
    let url = config
        .store_url()
        .ok_or_else(|| invalid("the key store is not configured"))?;
    let Some(store) = sqlite_path(url) else {
        return Err(Error::new(
            ErrorKind::WrongMode,
            format!(
                "the key store {} is not a SQLite file: back it up with the database's own tools \
                 (PostgreSQL: pg_dump -Fc, or a base backup with WAL archiving), and the KMS with the KMS's",
                redact_url(url)
            ),
        ));
    };
    let store_copy = copy_in(dir, &store, "the key store")?;
    let software = config.kms().and_then(|k| k.software());
    let mut notes = Vec::new();
    let (mut kms, mut key_file, mut passphrase_file) = (None, None, None);
    let mut config_private = false;
    if let Some(s) = software {
        kms = Some((
            s.path.clone(),
            copy_in(dir, &s.path, "the software KMS file")?,
        ));
        match &s.master {
            SoftwareMaster::KeyFile(p) => {
                key_file = Some((p.clone(), copy_in(dir, p, "the software KMS key file")?));
            }
            SoftwareMaster::Passphrase(_) => config_private = true,
            master => {
                if let SoftwareMaster::PassphraseFile(p) = master {
                    passphrase_file = Some(p.clone());
                }
                notes.push(
                    "the software KMS passphrase is not part of the backup: keep it apart"
                        .to_string(),
                );
            }
        }
    } else if config.kms().is_some() {
        notes.push(
            "the KMS keys stay in the KMS: the copy needs the same KMS (and its wrapper key) to open"
                .to_string(),
        );
    }
    let config_file = config.file().map(Path::to_path_buf);
    if config_file.is_none() {
        notes.push(
            "the configuration was not read from a file: the backup holds no config file"
                .to_string(),
        );
    }
    let mut names: Vec<&Path> = vec![&store_copy];
    names.extend(kms.iter().map(|(_, c)| c.as_path()));
    names.extend(key_file.iter().map(|(_, c)| c.as_path()));
    let config_copy = dir.join(CONFIG_COPY);
    if config_file.is_some() {
        names.push(&config_copy);
    }
    for (i, a) in names.iter().enumerate() {
        if names[..i].contains(a) {
            return Err(invalid(format!(
                "the key store, the software KMS file, its key file and the config file would all be \
                 copied into '{}', but two of them are named '{}'",
                dir.display(),
                a.file_name().unwrap_or_default().to_string_lossy()
            )));
        }
    }
    Ok(Plan {
        store_copy,
        kms,
        key_file,
        passphrase_file,
        config: config_file,
        config_private,
        notes,
    })
}

/// Check what [`backup`] checks before it copies anything: the store is a SQLite file (a PostgreSQL
/// store is refused with [`ErrorKind::WrongMode`], naming what to use instead), the copies have
/// distinct file names, and `dir` is new or empty ([`ErrorKind::InvalidArgument`] otherwise). Nothing
/// is written. A program may call it before opening the vault, so that a database server is not
/// contacted for a backup that cannot be made.
///
/// # Errors
///
/// As above; [`ErrorKind::Io`] when `dir` exists and cannot be read.
pub fn check_backup(config: &Config, dir: &Path) -> Result<()> {
    plan(config, dir)?;
    check_dir(dir).map(|_| ())
}

/// Whether `dir` exists; an error when it is not an empty directory.
fn check_dir(dir: &Path) -> Result<bool> {
    if !dir.exists() {
        return Ok(false);
    }
    let mut entries = std::fs::read_dir(dir).map_err(|e| io("read", dir, &e))?;
    if entries.next().is_some() {
        return Err(invalid(format!(
            "backup directory '{}' is not empty: give a new or empty directory",
            dir.display()
        )));
    }
    Ok(true)
}

fn create_dir(dir: &Path) -> Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| io("create", dir, &e))
}

/// Write a new file (never replacing one), flushed to the disk; `private` makes it mode 0600.
fn write_new(path: &Path, data: &[u8], private: bool) -> Result<()> {
    use std::io::Write as _;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        o.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = o.open(path).map_err(|e| io("create", path, &e))?;
    f.write_all(data)
        .and_then(|()| f.sync_all())
        .map_err(|e| io("write", path, &e))
}

/// The config text with the store, KMS and key-file paths naming the copies (relative to the backup
/// directory) and a relative passphrase file made absolute; notes for the settings the file does not
/// hold.
fn rewrite_config(
    text: &str,
    origin: &Path,
    plan: &Plan,
    notes: &mut Vec<String>,
) -> Result<String> {
    use toml::de::{DeTable, DeValue};
    let doc = DeTable::parse(text).map_err(|e| {
        Error::new(
            ErrorKind::MalformedData,
            format!("config file '{}': {}", origin.display(), e.message().trim()),
        )
    })?;
    let name = |p: &Path| {
        p.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    };
    let table = |key: &str| match doc.get_ref().get(key).map(|v| v.get_ref()) {
        Some(DeValue::Table(t)) => Some(t),
        _ => None,
    };
    let string = |t: Option<&DeTable<'_>>, key: &str| {
        t.and_then(|t| t.get(key)).and_then(|v| match v.get_ref() {
            DeValue::String(s) => Some((v.span(), s.to_string())),
            _ => None,
        })
    };
    // (span of the value, its replacement)
    let mut edits: Vec<(core::ops::Range<usize>, String)> = Vec::new();
    let mut append = String::new();
    let store_url = format!("sqlite://{}", name(&plan.store_copy));
    match string(table("store"), "url") {
        Some((span, url)) => {
            let query = url.split_once('?').map(|(_, q)| format!("?{q}"));
            edits.push((span, format!("{store_url}{}", query.unwrap_or_default())));
        }
        None if doc.get_ref().get("store").is_none() => {
            append.push_str(&format!(
                "\n[store]\nurl = {}\n",
                crate::util::quote(&store_url)
            ));
        }
        None => notes.push(format!(
            "the config copy does not name the store copy: set [store] url = \"{store_url}\" in it"
        )),
    }
    let kms = table("kms");
    let mut file_setting = |key: &str, value: Option<String>| {
        let Some(value) = value else { return };
        match string(kms, key) {
            Some((span, _)) => edits.push((span, value)),
            None => notes.push(format!(
                "the [kms] {key} of the copy did not come from the config file: set {key} = {} in the \
                 config copy",
                crate::util::quote(&value)
            )),
        }
    };
    file_setting("path", plan.kms.as_ref().map(|(_, c)| name(c)));
    file_setting("key-file", plan.key_file.as_ref().map(|(_, c)| name(c)));
    if let Some(p) = &plan.passphrase_file
        && let Some((span, _)) = string(kms, "passphrase-file")
    {
        edits.push((span, p.display().to_string()));
    }
    edits.sort_by_key(|(span, _)| span.start);
    let mut out = String::with_capacity(text.len() + append.len());
    let mut at = 0;
    for (span, value) in edits {
        out.push_str(&text[at..span.start]);
        out.push_str(&crate::util::quote(&value));
        at = span.end;
    }
    out.push_str(&text[at..]);
    out.push_str(&append);
    Ok(out)
}

/// Write a consistent copy of a SQLite key store into `dir` while other processes may be writing to it,
/// so that `dir` is a store of its own:
///
/// * the store, by `VACUUM INTO`, taken while holding the store's write lock, and under the same lock
///   the software KMS file (so every wrapper key the store copy names is in the KMS copy) —
///   [`Vault::backup_store`] with [`crate::vault::backup_sqlite_file`];
/// * the software KMS key file (mode 0600);
/// * the config file, as `tresor.toml`, its `[store] url`, `[kms] path` and `key-file` naming the
///   copies (relative to `dir`) and a `passphrase-file` made absolute.
///
/// `dir` is created with mode 0700, or must be empty. A passphrase is not copied, and keys of a cloud
/// KMS or HSM stay there ([`BackupReport::notes`] says so). `config` is the configuration `vault` was
/// opened from. On failure the files this call wrote are removed (and `dir`, when this call made it);
/// the store is never changed.
///
/// # Errors
///
/// [`ErrorKind::WrongMode`] for a store that is not a SQLite file (PostgreSQL: use `pg_dump -Fc`, or a
/// base backup with WAL archiving); [`ErrorKind::InvalidArgument`] for a directory that is not empty, a
/// store that is not configured or copies that would have the same name; [`ErrorKind::Io`] for a file
/// that cannot be read or written, naming it.
pub async fn backup(config: &Config, vault: &Vault, dir: &Path) -> Result<BackupReport> {
    let mut plan = plan(config, dir)?;
    let existed = check_dir(dir)?;
    if !existed {
        create_dir(dir)?;
    }
    let mut files = Vec::new();
    let result = copy(&mut plan, vault, &mut files).await;
    match result {
        Ok(()) => Ok(BackupReport {
            dir: dir.to_path_buf(),
            files,
            notes: plan.notes,
        }),
        Err(e) => {
            for f in &files {
                let _ = std::fs::remove_file(&f.path);
            }
            // A store or KMS copy that failed half-way may have left its file.
            let _ = std::fs::remove_file(&plan.store_copy);
            if let Some((_, c)) = &plan.kms {
                let _ = std::fs::remove_file(c);
            }
            if !existed {
                let _ = std::fs::remove_dir(dir);
            }
            Err(e)
        }
    }
}

async fn copy(plan: &mut Plan, vault: &Vault, files: &mut Vec<BackupFile>) -> Result<()> {
    let kms = plan.kms.clone();
    vault
        .backup_store(&plan.store_copy, async || match &kms {
            Some((src, dest)) => crate::vault::backup_sqlite_file(src, dest).await,
            None => Ok(()),
        })
        .await?;
    files.push(BackupFile {
        path: plan.store_copy.clone(),
        part: BackupPart::Store,
    });
    if let Some((_, dest)) = &plan.kms {
        files.push(BackupFile {
            path: dest.clone(),
            part: BackupPart::SoftwareKms,
        });
    }
    if let Some((src, dest)) = &plan.key_file {
        let bytes = zeroize::Zeroizing::new(std::fs::read(src).map_err(|e| io("read", src, &e))?);
        write_new(dest, &bytes, true)?;
        files.push(BackupFile {
            path: dest.clone(),
            part: BackupPart::KmsKeyFile,
        });
    }
    if let Some(src) = plan.config.clone() {
        let text = super::read_text(&src, "config file")?;
        let mut notes = std::mem::take(&mut plan.notes);
        let copy = rewrite_config(&text, &src, plan, &mut notes);
        plan.notes = notes;
        let dest = plan.store_copy.with_file_name(CONFIG_COPY);
        write_new(&dest, copy?.as_bytes(), plan.config_private)?;
        files.push(BackupFile {
            path: dest,
            part: BackupPart::Config,
        });
    }
    Ok(())
}

impl crate::vault::blocking::BlockingVault {
    /// [`backup`] on this vault's runtime, with the configuration the vault was opened from
    /// ([`BlockingVault::open`](crate::vault::blocking::BlockingVault::open)). This is what every binding
    /// calls.
    ///
    /// # Errors
    ///
    /// As [`backup`]; [`ErrorKind::InvalidArgument`] when the vault was not opened from a configuration
    /// (`open_with_driver`, `from_runtime`): a backup needs the configuration's paths.
    pub fn backup(&self, dir: &Path) -> Result<BackupReport> {
        let config = self.config().ok_or_else(|| {
            invalid(
                "this vault was not opened from a configuration: a backup needs the configuration's \
                 store, KMS and config file paths (open the vault from its configuration)",
            )
        })?;
        self.block_on(backup(config, self.vault(), dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_in(toml: &str) -> (Plan, PathBuf) {
        let d = std::env::temp_dir().join(format!("tresor-backup-plan-{}", std::process::id()));
        let cfg = Config::from_toml_str(toml, &d, "<config string>").expect("parses");
        (plan(&cfg, &d.join("b")).expect("plan"), d)
    }

    #[test]
    fn config_copy_names_the_copies() {
        let toml = "# keys\n[store]\nurl = \"sqlite://data/t.db?mode=rwc\"\n\
                    [private-key-store.encryption]\ntype = \"kms\"\n\
                    [kms]\ntype = \"software\"\npath = 'kms/k.db'\npassphrase-file = \"pw\"\n";
        let (p, d) = plan_in(toml);
        let mut notes = Vec::new();
        let out = rewrite_config(toml, Path::new("t.toml"), &p, &mut notes).expect("rewrites");
        assert!(
            out.starts_with("# keys\n[store]\nurl = \"sqlite://t.db?mode=rwc\"\n"),
            "{out}"
        );
        assert!(out.contains("path = \"k.db\"\n"), "{out}");
        let pw = crate::util::quote(&d.join("pw").display().to_string());
        assert!(out.contains(&format!("passphrase-file = {pw}\n")), "{out}");
        assert!(notes.is_empty(), "{notes:?}");
        // The copy reads back with the copies' paths.
        let b = d.join("b");
        let cfg = Config::from_toml_str(&out, &b, "<copy>").expect("the copy parses");
        assert_eq!(
            cfg.store_url(),
            Some(format!("sqlite://{}?mode=rwc", b.join("t.db").display()).as_str())
        );
        let soft = cfg.kms().and_then(|k| k.software()).expect("software");
        assert_eq!(soft.path, b.join("k.db"));
        assert_eq!(soft.master, SoftwareMaster::PassphraseFile(d.join("pw")));
    }

    #[test]
    fn a_store_url_from_elsewhere_is_added() {
        let toml = "[crypto]\nprovider = \"jce\"\n";
        let mut cfg = Config::from_toml_str(toml, Path::new("/x"), "<config string>").expect("ok");
        cfg.store_url = Some("sqlite:///elsewhere/s.db".into());
        let p = plan(&cfg, Path::new("/b")).expect("plan");
        let mut notes = Vec::new();
        let out = rewrite_config(toml, Path::new("t.toml"), &p, &mut notes).expect("rewrites");
        assert!(
            out.ends_with("\n[store]\nurl = \"sqlite://s.db\"\n"),
            "{out}"
        );
    }

    #[test]
    fn postgres_and_colliding_names_are_refused() {
        let cfg = Config::from_toml_str(
            "[store]\nurl = \"postgres://tresor:secret@db/keys\"\n",
            Path::new("/x"),
            "<config string>",
        )
        .expect("parses");
        let e = check_backup(&cfg, Path::new("/nonexistent/b")).expect_err("postgres");
        assert_eq!(e.kind(), ErrorKind::WrongMode);
        assert!(e.message().contains("pg_dump -Fc"), "{e}");
        assert!(!e.message().contains("secret"), "{e}");
        let cfg = Config::from_toml_str(
            "[store]\nurl = \"sqlite://a/k.db\"\n[crypto]\nprovider = \"kms\"\n\
             [kms]\ntype = \"software\"\npath = \"b/k.db\"\n",
            Path::new("/x"),
            "<config string>",
        )
        .expect("parses");
        let e = check_backup(&cfg, Path::new("/nonexistent/b")).expect_err("collision");
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.message().contains("'k.db'"), "{e}");
    }
}
