//! The audit log: a dedicated, rolling, hash-chained log file (Canton's `audit-logging = true`,
//! spec/canton-compat.md §4). The KMS audit layer ([`crate::kms::layers::audit::Audited`]) writes every
//! KMS request and response to it; other parts of tresor (the vault, for key operations such as a
//! cleartext export) write their own lines through [`AuditLog::info`] and [`AuditLog::warn`]. The hash
//! chain makes removed, reordered or edited lines detectable ([`verify_audit_log`]).
//!
//! # Lines
//! Each line is `<RFC 3339 UTC timestamp> <LEVEL> <message> seq=<n> chain=<hex>`, for example
//!
//! ```text
//! 2026-11-22T15:30:00.123Z INFO Sending request [3f0c…]: SignRequest(KeyId=soft-…, Message=** Sign message text placeholder **, MessageType=RAW, SigningAlgorithm=EcDsaSha256) seq=7 chain=9a1e…
//! ```
//!
//! Messages never hold secret or bulky bytes: Canton's placeholders stand in for them
//! ([`PLAINTEXT_PLACEHOLDER`], [`CIPHERTEXT_PLACEHOLDER`], [`SIGN_MESSAGE_PLACEHOLDER`],
//! [`SIGNATURE_PLACEHOLDER`], [`PUBLIC_KEY_PLACEHOLDER`] and [`METADATA_PLACEHOLDER`]). A message is
//! written on one line whatever it holds (control characters become spaces).
//!
//! `seq` numbers lines from 1, across files; `chain` is the hex of SHA-256(previous chain ‖ the line up
//! to, not including, ` chain=`), the previous chain of the very first line being 32 zero bytes. The first
//! line of every file is a header, `Audit log file started; previous chain=<hex>`, that stores the link to
//! the last line of the previous file, so the chain continues across rolls. [`verify_audit_log`] recomputes
//! the chain and names the first line that was edited, removed or moved.
//!
//! What the chain cannot show: lines cut from the *end* of the newest file, and a rewrite of the whole
//! chain from some line on (the hash is not keyed). Keep a copy of the latest tip (`seq` and `chain`,
//! [`VerifyReport::tip`]) elsewhere and check the log against it ([`verify_audit_log_expecting`]) to
//! detect those.
//!
//! The file is created with mode 0600 (it names keys and KMS key ids; no secret).
//!
//! # File
//! Configured like Canton's dedicated KMS log ([`AuditLogConfig::from_env`]):
//! * `KMS_LOG_FILE_NAME`: the file (or an explicit path given by the caller);
//! * `KMS_LOG_IMMEDIATE_FLUSH` (default `true`): flush after every line;
//! * `KMS_LOG_FILE_ROLLING_PATTERN` (default `yyyy-MM-dd`): roll daily (UTC) to `<name>.<yyyy-MM-dd>`;
//!   other patterns are refused with an error naming the supported one;
//! * `KMS_LOG_FILE_HISTORY` (default `0` = keep all): keep this many rolled files.

mod verify;

pub use verify::{
    AuditProblem, ChainTip, ProblemKind, VerifyReport, rolled_files, verify_audit_log,
    verify_audit_log_expecting,
};

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use sha2::Digest as _;

use crate::error::{Error, ErrorKind, Result};
use crate::util::{civil_utc, hex, rfc3339_ms, unhex};

/// Canton's placeholder for plaintext.
pub const PLAINTEXT_PLACEHOLDER: &str = "** Redacted plaintext placeholder **";
/// Canton's placeholder for ciphertext.
pub const CIPHERTEXT_PLACEHOLDER: &str = "** Ciphertext placeholder **";
/// Canton's placeholder for the message to sign.
pub const SIGN_MESSAGE_PLACEHOLDER: &str = "** Sign message text placeholder **";
/// Canton's placeholder for a signature.
pub const SIGNATURE_PLACEHOLDER: &str = "** Signature message text placeholder **";
/// Canton's placeholder for a public key.
pub const PUBLIC_KEY_PLACEHOLDER: &str = "** Public key text placeholder **";
/// Canton's placeholder for the rest of the key metadata.
pub const METADATA_PLACEHOLDER: &str = "** Rest of metadata placeholder **";

const HEADER_PREFIX: &str = "Audit log file started; previous chain=";
const DAILY_PATTERN: &str = "yyyy-MM-dd";

fn io_err(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::new(
        ErrorKind::Io,
        format!("KMS audit log: {what} '{}'", path.display()),
    )
    .with_source(e)
}

/// A 32-byte chain value from its 64 hex digits.
fn unhex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    unhex(s, "an audit chain value").ok()?.try_into().ok()
}

fn link(prev: &[u8; 32], content: &str) -> [u8; 32] {
    let mut h = sha2::Sha256::new();
    h.update(prev);
    h.update(content.as_bytes());
    h.finalize().into()
}

/// Milliseconds since the Unix epoch (0 before it).
fn epoch_ms(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The UTC date `yyyy-MM-dd` of `t` (the name of a rolled file, and what decides when to roll).
fn utc_date(t: SystemTime) -> String {
    let (y, m, d, ..) = civil_utc(epoch_ms(t));
    format!("{y:04}-{m:02}-{d:02}")
}

/// How the log file rolls (`KMS_LOG_FILE_ROLLING_PATTERN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rolling {
    /// `yyyy-MM-dd`: a new file every UTC day; the old one becomes `<name>.<yyyy-MM-dd>`.
    Daily,
}

impl Rolling {
    /// Parse a Logback-style rolling pattern; only `yyyy-MM-dd` is supported.
    pub fn parse(pattern: &str) -> Result<Self> {
        match pattern.trim() {
            DAILY_PATTERN => Ok(Self::Daily),
            other => Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "KMS_LOG_FILE_ROLLING_PATTERN '{other}' is not supported; the supported pattern is \
                     '{DAILY_PATTERN}' (roll daily)"
                ),
            )),
        }
    }
}

/// A clock, for tests of rolling.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Where and how the audit log is written.
#[derive(Clone)]
pub struct AuditLogConfig {
    /// The active log file.
    pub path: PathBuf,
    /// Flush after every line (`KMS_LOG_IMMEDIATE_FLUSH`, default true).
    pub immediate_flush: bool,
    /// How the file rolls.
    pub rolling: Rolling,
    /// How many rolled files to keep; 0 keeps all (`KMS_LOG_FILE_HISTORY`).
    pub history: u32,
    clock: Option<Clock>,
}

impl core::fmt::Debug for AuditLogConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AuditLogConfig")
            .field("path", &self.path)
            .field("immediate_flush", &self.immediate_flush)
            .field("rolling", &self.rolling)
            .field("history", &self.history)
            .finish_non_exhaustive()
    }
}

impl AuditLogConfig {
    /// Canton's defaults for a file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            immediate_flush: true,
            rolling: Rolling::Daily,
            history: 0,
            clock: None,
        }
    }

    /// Read `KMS_LOG_FILE_NAME` (else `default_path`), `KMS_LOG_IMMEDIATE_FLUSH`,
    /// `KMS_LOG_FILE_ROLLING_PATTERN` and `KMS_LOG_FILE_HISTORY` from the environment.
    pub fn from_env(default_path: &Path) -> Result<Self> {
        Self::from_vars(default_path, |k| std::env::var(k).ok())
    }

    /// As [`from_env`](Self::from_env), with the variables looked up by `var`.
    pub fn from_vars(default_path: &Path, var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let var = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        let mut cfg = Self::new(
            var("KMS_LOG_FILE_NAME").map_or_else(|| default_path.to_path_buf(), PathBuf::from),
        );
        if let Some(v) = var("KMS_LOG_IMMEDIATE_FLUSH") {
            cfg.immediate_flush = match v.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => {
                    return Err(Error::new(
                        ErrorKind::InvalidArgument,
                        format!("KMS_LOG_IMMEDIATE_FLUSH must be true or false, not '{v}'"),
                    ));
                }
            };
        }
        if let Some(v) = var("KMS_LOG_FILE_ROLLING_PATTERN") {
            cfg.rolling = Rolling::parse(&v)?;
        }
        if let Some(v) = var("KMS_LOG_FILE_HISTORY") {
            cfg.history = v.trim().parse().map_err(|_| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "KMS_LOG_FILE_HISTORY must be a number of files (0 keeps all), not '{v}'"
                    ),
                )
            })?;
        }
        Ok(cfg)
    }

    /// Use `clock` instead of the system clock (tests of rolling).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    fn now(&self) -> SystemTime {
        self.clock.as_ref().map_or_else(SystemTime::now, |c| c())
    }
}

struct State {
    out: BufWriter<File>,
    prev: [u8; 32],
    seq: u64,
    /// The UTC date of the active file (its first line).
    date: String,
    /// The file's length after our last write (to notice lines appended by another process).
    len: u64,
}

/// An open audit log (see the module docs); lines are written in call order, under a lock.
pub struct AuditLog {
    cfg: AuditLogConfig,
    /// `None` only while a write is re-opening the file.
    state: Mutex<Option<State>>,
}

impl core::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AuditLog")
            .field("config", &self.cfg)
            .finish_non_exhaustive()
    }
}

/// A parsed log line.
struct Parsed<'a> {
    content: &'a str,
    date: &'a str,
    message: &'a str,
    seq: u64,
    chain: [u8; 32],
}

fn parse_line(line: &str) -> Option<Parsed<'_>> {
    let (content, chain) = line.rsplit_once(" chain=")?;
    let chain = unhex32(chain)?;
    let (body, seq) = content.rsplit_once(" seq=")?;
    let seq = seq.parse().ok()?;
    let (ts, rest) = body.split_once(' ')?;
    let (_level, message) = rest.split_once(' ')?;
    Some(Parsed {
        content,
        date: ts.get(..10)?,
        message,
        seq,
        chain,
    })
}

fn header_prev(message: &str) -> Option<[u8; 32]> {
    unhex32(message.strip_prefix(HEADER_PREFIX)?)
}

/// The tail of a log file: (chain, seq) of its last audit line, if any, and whether the file ends in
/// the middle of a line (a write cut short by a crash).
struct Tail {
    link: Option<([u8; 32], u64)>,
    torn: bool,
}

fn read_tail(path: &Path) -> Result<Tail> {
    let mut f = File::open(path).map_err(|e| io_err("opening", path, e))?;
    let len = f.metadata().map_err(|e| io_err("reading", path, e))?.len();
    let mut window = 64 * 1024u64;
    loop {
        let start = len.saturating_sub(window);
        f.seek(SeekFrom::Start(start))
            .map_err(|e| io_err("reading", path, e))?;
        let mut buf = Vec::new();
        f.read_to_end(&mut buf)
            .map_err(|e| io_err("reading", path, e))?;
        let torn = buf.last().is_some_and(|b| *b != b'\n');
        let text = String::from_utf8_lossy(&buf);
        let mut lines: Vec<&str> = text.split('\n').collect();
        if start > 0 {
            // The first piece may be the end of a longer line.
            lines.remove(0);
        }
        if let Some(p) = lines.iter().rev().find_map(|l| parse_line(l)) {
            return Ok(Tail {
                link: Some((p.chain, p.seq)),
                torn,
            });
        }
        if start == 0 {
            return Ok(Tail { link: None, torn });
        }
        window = window.saturating_mul(16);
    }
}

/// The first line of a file, if any.
fn first_line(path: &Path) -> Result<Option<String>> {
    let mut f = File::open(path).map_err(|e| io_err("opening", path, e))?;
    let mut buf = vec![0u8; 4096];
    let n = f.read(&mut buf).map_err(|e| io_err("reading", path, e))?;
    let text = String::from_utf8_lossy(&buf[..n]);
    Ok(text
        .split('\n')
        .next()
        .filter(|l| !l.is_empty())
        .map(str::to_string))
}

/// Whether `file` is (still) the file at `path`: another process may have rolled it away.
fn is_current(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        path.exists()
    }
}

impl AuditLog {
    /// Open (or create) the log; an existing file is continued (and rolled at the first write if it is
    /// from an earlier day).
    ///
    /// With `immediate_flush` (the default) several processes may write the same file: each line is
    /// written under an exclusive file lock, after re-reading the chain if another process appended to
    /// (or rolled) the file. Without it, one process at a time must own the file.
    pub fn open(cfg: AuditLogConfig) -> Result<Self> {
        if let Some(dir) = cfg.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| io_err("creating the directory of", &cfg.path, e))?;
        }
        let today = utc_date(cfg.now());
        let log = Self {
            state: Mutex::new(None),
            cfg,
        };
        {
            let mut guard = log.lock();
            let st = log.open_active(&today)?;
            let _ = st.out.get_ref().unlock();
            *guard = Some(st);
        }
        Ok(log)
    }

    /// Open the active file, locked; a new or empty file gets its header (linked to the newest rolled
    /// file), an existing one is continued after its last audit line.
    fn open_active(&self, today: &str) -> Result<State> {
        let path = &self.cfg.path;
        loop {
            let mut opts = OpenOptions::new();
            opts.create(true).append(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                opts.mode(0o600);
            }
            let file = opts.open(path).map_err(|e| io_err("opening", path, e))?;
            file.lock().map_err(|e| io_err("locking", path, e))?;
            if !is_current(&file, path) {
                let _ = file.unlock();
                continue;
            }
            let mut st = State {
                out: BufWriter::new(file),
                prev: [0u8; 32],
                seq: 0,
                date: today.to_string(),
                len: 0,
            };
            if self.file_len(&st)? == 0 {
                if let Some(p) = rolled_files(path)?.last()
                    && let Some((prev, seq)) = read_tail(p)?.link
                {
                    (st.prev, st.seq) = (prev, seq);
                }
                let header = format!("{HEADER_PREFIX}{}", hex(&st.prev));
                self.write_line(&mut st, "INFO", &header)?;
                st.out.flush().map_err(|e| io_err("writing", path, e))?;
                st.len = self.file_len(&st)?;
            } else {
                self.resync(&mut st)?;
            }
            return Ok(st);
        }
    }

    fn file_len(&self, st: &State) -> Result<u64> {
        st.out
            .get_ref()
            .metadata()
            .map(|m| m.len())
            .map_err(|e| io_err("reading", &self.cfg.path, e))
    }

    /// Continue after the last audit line in the file (written by us or by another process). A line
    /// torn by a crash stays in the file, and `verify_audit_log` reports it; it is ended so that the
    /// next line starts cleanly.
    fn resync(&self, st: &mut State) -> Result<()> {
        let path = &self.cfg.path;
        let tail = read_tail(path)?;
        if tail.torn {
            st.out
                .get_mut()
                .write_all(b"\n")
                .map_err(|e| io_err("writing", path, e))?;
        }
        (st.prev, st.seq) = tail.link.unwrap_or(([0u8; 32], 0));
        if let Some(d) = first_line(path)?
            .as_deref()
            .and_then(|l| parse_line(l).map(|p| p.date.to_string()))
        {
            st.date = d;
        }
        st.len = self.file_len(st)?;
        Ok(())
    }

    /// The active log file.
    pub fn path(&self) -> &Path {
        &self.cfg.path
    }

    /// The configuration.
    pub fn config(&self) -> &AuditLogConfig {
        &self.cfg
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<State>> {
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Write an INFO line.
    pub fn info(&self, message: &str) -> Result<()> {
        self.log("INFO", message)
    }

    /// Write a WARN line.
    pub fn warn(&self, message: &str) -> Result<()> {
        self.log("WARN", message)
    }

    /// Flush buffered lines (when `immediate_flush` is off).
    pub fn flush(&self) -> Result<()> {
        match self.lock().as_mut() {
            Some(st) => st
                .out
                .flush()
                .map_err(|e| io_err("writing", &self.cfg.path, e)),
            None => Ok(()),
        }
    }

    fn log(&self, level: &str, message: &str) -> Result<()> {
        let mut guard = self.lock();
        let today = utc_date(self.cfg.now());
        let shared = self.cfg.immediate_flush;
        let mut st = match guard.take() {
            Some(st) if !shared => st,
            Some(st) => {
                // Take the file lock; if another process rolled the file away, open the new one.
                st.out
                    .get_ref()
                    .lock()
                    .map_err(|e| io_err("locking", &self.cfg.path, e))?;
                if is_current(st.out.get_ref(), &self.cfg.path) {
                    let mut st = st;
                    if self.file_len(&st)? != st.len {
                        self.resync(&mut st)?;
                    }
                    st
                } else {
                    let _ = st.out.get_ref().unlock();
                    self.open_active(&today)?
                }
            }
            None => self.open_active(&today)?,
        };
        let result = (|| {
            if today != st.date {
                self.roll(&mut st, &today)?;
            }
            self.write_line(&mut st, level, message)?;
            if shared {
                st.len = self.file_len(&st)?;
            }
            Ok(())
        })();
        if shared {
            let _ = st.out.get_ref().unlock();
        }
        *guard = Some(st);
        result
    }

    fn write_line(&self, st: &mut State, level: &str, message: &str) -> Result<()> {
        // One line per record, whatever the message holds.
        let message: String = message
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let timestamp = rfc3339_ms(epoch_ms(self.cfg.now()));
        let seq = st.seq + 1;
        let content = format!("{timestamp} {level} {message} seq={seq}");
        let chain = link(&st.prev, &content);
        let line = format!("{content} chain={}\n", hex(&chain));
        st.out
            .write_all(line.as_bytes())
            .map_err(|e| io_err("writing", &self.cfg.path, e))?;
        if self.cfg.immediate_flush {
            st.out
                .flush()
                .map_err(|e| io_err("writing", &self.cfg.path, e))?;
        }
        st.prev = chain;
        st.seq = seq;
        Ok(())
    }

    /// Roll the active file (locked in `st`) to `<name>.<its date>` and open a new one, locked.
    fn roll(&self, st: &mut State, today: &str) -> Result<()> {
        let path = &self.cfg.path;
        st.out.flush().map_err(|e| io_err("writing", path, e))?;
        let base = format!("{}.{}", path.display(), st.date);
        let mut target = PathBuf::from(&base);
        let mut k = 1;
        while target.exists() {
            target = PathBuf::from(format!("{base}.{k}"));
            k += 1;
        }
        std::fs::rename(path, &target).map_err(|e| io_err("rolling", path, e))?;
        let _ = st.out.get_ref().unlock();
        *st = self.open_active(today)?;
        if self.cfg.history > 0 {
            let rolled = rolled_files(path)?;
            let excess = rolled.len().saturating_sub(self.cfg.history as usize);
            for old in &rolled[..excess] {
                std::fs::remove_file(old).map_err(|e| io_err("removing", old, e))?;
            }
        }
        Ok(())
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        if let Some(st) = self.lock().as_mut() {
            let _ = st.out.flush();
        }
    }
}
