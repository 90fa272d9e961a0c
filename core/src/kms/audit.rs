//! KMS audit logging for any [`KmsDriver`] (Canton's `audit-logging = true`, spec/canton-compat.md §4),
//! with a hash chain that makes removed, reordered or edited lines detectable.
//!
//! # Lines
//! Every call through [`Audited`] writes, as Canton's AWS request/response logger does:
//! * `INFO Sending request [<id>]: <Request>(…)` before the call;
//! * `INFO Received response [<id>]: [-] - <Response>(…)` after a success (`[-]` stands where AWS logs
//!   `[Aws-Id: <request id>]`; the driver trait carries no provider request id);
//! * `WARN Request [<id>] failed. Response: <error>` after a failure.
//!
//! `<id>` is a random UUID per call. Secret or bulky bytes are never logged; Canton's placeholders stand
//! in for them: [`PLAINTEXT_PLACEHOLDER`], [`CIPHERTEXT_PLACEHOLDER`], [`SIGN_MESSAGE_PLACEHOLDER`],
//! [`SIGNATURE_PLACEHOLDER`], [`PUBLIC_KEY_PLACEHOLDER`] and [`METADATA_PLACEHOLDER`]. Only key ids, specs,
//! algorithms and error messages (which never contain secret bytes) appear. `health` and the
//! `supported_*` sets make no KMS request and are not logged.
//!
//! Each line is `<RFC 3339 UTC timestamp> <LEVEL> <message> seq=<n> chain=<hex>`, for example
//!
//! ```text
//! 2026-11-22T15:30:00.123Z INFO Sending request [3f0c…]: SignRequest(KeyId=soft-…, Message=** Sign message text placeholder **, MessageType=RAW, SigningAlgorithm=EcDsaSha256) seq=7 chain=9a1e…
//! ```
//!
//! `seq` numbers lines from 1, across files; `chain` is the hex of SHA-256(previous chain ‖ the line up
//! to, not including, ` chain=`), the previous chain of the very first line being 32 zero bytes. The first
//! line of every file is a header, `Audit log file started; previous chain=<hex>`, that stores the link to
//! the last line of the previous file, so the chain continues across rolls. [`verify_audit_log`] recomputes
//! the chain and names the first line that was edited, removed or moved.
//!
//! What the chain cannot show: lines cut from the *end* of the newest file, and a rewrite of the whole
//! chain from some line on (the hash is not keyed). Keep a copy of the latest `chain=` elsewhere to detect
//! those.
//!
//! # File
//! Configured like Canton's dedicated KMS log ([`AuditLogConfig::from_env`]):
//! * `KMS_LOG_FILE_NAME`: the file (or an explicit path given by the caller);
//! * `KMS_LOG_IMMEDIATE_FLUSH` (default `true`): flush after every line;
//! * `KMS_LOG_FILE_ROLLING_PATTERN` (default `yyyy-MM-dd`): roll daily (UTC) to `<name>.<yyyy-MM-dd>`;
//!   other patterns are refused with an error naming the supported one;
//! * `KMS_LOG_FILE_HISTORY` (default `0` = keep all): keep this many rolled files.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use async_trait::async_trait;
use sha2::Digest as _;
use zeroize::Zeroizing;

use super::{KmsDriver, KmsHealth, KmsKeyId, KmsKeySpec, KmsPublicKey};
use crate::error::{Error, ErrorKind, Result};
use crate::scheme::{
    EncryptionAlgorithmSpec, EncryptionKeySpec, SigningAlgorithmSpec, SigningKeySpec,
};

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

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

fn unhex32(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        let d = |c: u8| (c as char).to_digit(16).map(|v| v as u8);
        *o = (d(b[2 * i])? << 4) | d(b[2 * i + 1])?;
    }
    Some(out)
}

fn link(prev: &[u8; 32], content: &str) -> [u8; 32] {
    let mut h = sha2::Sha256::new();
    h.update(prev);
    h.update(content.as_bytes());
    h.finalize().into()
}

/// `(yyyy-MM-dd, HH:mm:ss.SSS)` in UTC.
fn utc_parts(t: SystemTime) -> (String, String) {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Days since 1970-01-01 to a civil date (proleptic Gregorian), by 400-year eras.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        format!("{year:04}-{month:02}-{day:02}"),
        format!(
            "{:02}:{:02}:{:02}.{:03}",
            sod / 3600,
            (sod / 60) % 60,
            sod % 60,
            d.subsec_millis()
        ),
    )
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

/// The file name of `path` (for sibling matching).
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// Rolled files of `path` (`<name>.<yyyy-MM-dd>[.<k>]`), oldest first.
pub fn rolled_files(path: &Path) -> Result<Vec<PathBuf>> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let prefix = format!("{}.", file_name(path));
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err("listing the directory of", path, e)),
    };
    let mut found: Vec<(String, u32, PathBuf)> = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(suffix) = name.strip_prefix(&prefix) else {
            continue;
        };
        let (date, k) = match suffix.split_once('.') {
            Some((d, k)) => match k.parse::<u32>() {
                Ok(k) => (d, k),
                Err(_) => continue,
            },
            None => (suffix, 0),
        };
        if is_date(date) {
            found.push((date.to_string(), k, entry.path()));
        }
    }
    found.sort();
    Ok(found.into_iter().map(|(_, _, p)| p).collect())
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
        let (today, _) = utc_parts(cfg.now());
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
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| io_err("opening", path, e))?;
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
        let (today, _) = utc_parts(self.cfg.now());
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
        let (date, time) = utc_parts(self.cfg.now());
        let seq = st.seq + 1;
        let content = format!("{date}T{time}Z {level} {message} seq={seq}");
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

// --- verification --------------------------------------------------------------------------------

/// What is wrong with a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// The line's text (or its chain value) was changed.
    Edited,
    /// One or more lines are missing before this line.
    Removed,
    /// The line is out of order.
    Reordered,
    /// The line is not an audit line at all.
    Malformed,
}

impl core::fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Edited => "edited",
            Self::Removed => "removed",
            Self::Reordered => "reordered",
            Self::Malformed => "malformed",
        })
    }
}

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditProblem {
    /// The file holding the line.
    pub file: PathBuf,
    /// The line number in that file (from 1).
    pub line: u64,
    /// What kind of tampering it looks like.
    pub kind: ProblemKind,
    /// Details.
    pub detail: String,
}

impl core::fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "line {} of {}: {}: {}",
            self.line,
            self.file.display(),
            self.kind,
            self.detail
        )
    }
}

/// The result of [`verify_audit_log`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// The files checked, oldest first (rolled files, then the active one).
    pub files: Vec<PathBuf>,
    /// Lines checked and found intact.
    pub lines: u64,
    /// The first problem, if any.
    pub problem: Option<AuditProblem>,
}

impl VerifyReport {
    /// Whether the chain is intact.
    pub fn is_intact(&self) -> bool {
        self.problem.is_none()
    }
}

/// Verify the hash chain of the audit log at `path`, together with its rolled files
/// (`<path>.<yyyy-MM-dd>`, oldest first), and report the first line that was edited, removed or moved.
/// A rolled file given directly is checked on its own. Errors are for unreadable files only.
pub fn verify_audit_log(path: &Path) -> Result<VerifyReport> {
    let mut files = rolled_files(path)?;
    if path.exists() {
        files.push(path.to_path_buf());
    }
    if files.is_empty() {
        return Err(Error::new(
            ErrorKind::Io,
            format!("KMS audit log '{}' does not exist", path.display()),
        ));
    }
    let mut report = VerifyReport {
        files: files.clone(),
        lines: 0,
        problem: None,
    };
    let mut prev: Option<([u8; 32], u64)> = None;
    for file in &files {
        let text = std::fs::read(file).map_err(|e| io_err("reading", file, e))?;
        let text = String::from_utf8_lossy(&text);
        let lines: Vec<&str> = text
            .strip_suffix('\n')
            .unwrap_or(&text)
            .split('\n')
            .collect();
        let problem = |line: usize, kind, detail: String| AuditProblem {
            file: file.clone(),
            line: line as u64 + 1,
            kind,
            detail,
        };
        let parsed: Vec<Option<Parsed<'_>>> = lines.iter().map(|l| parse_line(l)).collect();
        for (i, p) in parsed.iter().enumerate() {
            let Some(p) = p else {
                report.problem = Some(problem(
                    i,
                    ProblemKind::Malformed,
                    "not an audit line (<timestamp> <level> <message> seq=<n> chain=<hex>); a line torn by a crash during a write looks like this too".into(),
                ));
                return Ok(report);
            };
            let (link_prev, expected) = if i == 0 {
                let Some(h) = header_prev(p.message) else {
                    report.problem = Some(problem(
                        i,
                        ProblemKind::Removed,
                        "the file's header line (which links it to the previous file) is missing"
                            .into(),
                    ));
                    return Ok(report);
                };
                match prev {
                    Some((pc, ps)) if pc != h || p.seq != ps + 1 => {
                        let kind = if p.seq > ps + 1 {
                            ProblemKind::Removed
                        } else {
                            ProblemKind::Edited
                        };
                        report.problem = Some(problem(
                            i,
                            kind,
                            format!(
                                "the header does not continue the previous file, which ends at seq={ps} \
                                 (lines removed from its end, a file missing, or the header edited)"
                            ),
                        ));
                        return Ok(report);
                    }
                    Some((_, ps)) => (h, ps + 1),
                    None => (h, p.seq),
                }
            } else {
                prev.map_or(([0u8; 32], p.seq), |(c, s)| (c, s + 1))
            };
            if p.seq != expected {
                let next = parsed.get(i + 1).and_then(|n| n.as_ref()).map(|n| n.seq);
                let later_has_expected = parsed[i + 1..]
                    .iter()
                    .take(64)
                    .any(|n| n.as_ref().is_some_and(|n| n.seq == expected));
                let (kind, detail) = if p.seq < expected || later_has_expected {
                    (
                        ProblemKind::Reordered,
                        format!("seq={} found where seq={expected} was expected", p.seq),
                    )
                } else if next == Some(expected + 1) {
                    (
                        ProblemKind::Edited,
                        format!("its seq was changed to {} (expected {expected})", p.seq),
                    )
                } else {
                    (
                        ProblemKind::Removed,
                        format!(
                            "{} line(s) removed before this line (seq={expected}..={} missing)",
                            p.seq - expected,
                            p.seq - 1
                        ),
                    )
                };
                report.problem = Some(problem(i, kind, detail));
                return Ok(report);
            }
            if link(&link_prev, p.content) != p.chain {
                report.problem = Some(problem(
                    i,
                    ProblemKind::Edited,
                    "the line does not match its chain value".into(),
                ));
                return Ok(report);
            }
            prev = Some((p.chain, p.seq));
            report.lines += 1;
        }
    }
    Ok(report)
}

// --- the layer -------------------------------------------------------------------------------------

fn request_id() -> String {
    let mut b = [0u8; 16];
    if crate::primitives::random_bytes(&mut b).is_err() {
        let n = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        b = n.to_le_bytes();
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn scheme(spec: KmsKeySpec) -> String {
    match spec {
        KmsKeySpec::Signing(s) => format!("{s:?}"),
        KmsKeySpec::Encryption(s) => format!("{s:?}"),
        KmsKeySpec::Symmetric => "SYMMETRIC_DEFAULT".into(),
    }
}

/// The audit-logging layer (see the module docs).
pub struct Audited {
    inner: Arc<dyn KmsDriver>,
    log: Arc<AuditLog>,
}

impl core::fmt::Debug for Audited {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Audited")
            .field("provider", &self.inner.provider())
            .field("log", &self.log.path())
            .finish()
    }
}

impl Audited {
    /// Wrap `inner`, logging to `log`.
    pub fn new(inner: Arc<dyn KmsDriver>, log: Arc<AuditLog>) -> Self {
        Self { inner, log }
    }

    /// The log.
    pub fn log(&self) -> &Arc<AuditLog> {
        &self.log
    }

    /// Log the request, run the call, log the outcome. If the request cannot be logged the call is not
    /// made (fail closed); if only the response cannot be logged, the result is still returned.
    async fn audited<T, Fut>(
        &self,
        request: String,
        call: Fut,
        response: impl FnOnce(&T) -> String,
    ) -> Result<T>
    where
        Fut: Future<Output = Result<T>>,
    {
        let id = request_id();
        self.log
            .info(&format!("Sending request [{id}]: {request}"))?;
        let r = call.await;
        let _ = match &r {
            Ok(v) => self
                .log
                .info(&format!("Received response [{id}]: [-] - {}", response(v))),
            Err(e) => self.log.warn(&format!(
                "Request [{id}] failed. Response: {} (error {} {}, retryable={})",
                e.message(),
                e.code(),
                e.kind(),
                e.is_retryable()
            )),
        };
        r
    }
}

#[async_trait]
impl KmsDriver for Audited {
    fn provider(&self) -> &str {
        self.inner.provider()
    }

    async fn health(&self) -> KmsHealth {
        self.inner.health().await
    }

    fn supported_signing_key_specs(&self) -> Vec<SigningKeySpec> {
        self.inner.supported_signing_key_specs()
    }

    fn supported_signing_algo_specs(&self) -> Vec<SigningAlgorithmSpec> {
        self.inner.supported_signing_algo_specs()
    }

    fn supported_encryption_key_specs(&self) -> Vec<EncryptionKeySpec> {
        self.inner.supported_encryption_key_specs()
    }

    fn supported_encryption_algo_specs(&self) -> Vec<EncryptionAlgorithmSpec> {
        self.inner.supported_encryption_algo_specs()
    }

    async fn generate_signing_key_pair(
        &self,
        spec: SigningKeySpec,
        name: Option<&str>,
    ) -> Result<KmsKeyId> {
        self.audited(
            format!("CreateKeyRequest(KeyPurpose=SIGN_VERIFY, KeyScheme={spec:?})"),
            self.inner.generate_signing_key_pair(spec, name),
            |id| {
                format!("CreateKeyResponse(KeyId={id}, KeyPurpose=SIGN_VERIFY, KeyScheme={spec:?})")
            },
        )
        .await
    }

    async fn generate_encryption_key_pair(
        &self,
        spec: EncryptionKeySpec,
        name: Option<&str>,
    ) -> Result<KmsKeyId> {
        self.audited(
            format!("CreateKeyRequest(KeyPurpose=ENCRYPT_DECRYPT, KeyScheme={spec:?})"),
            self.inner.generate_encryption_key_pair(spec, name),
            |id| {
                format!(
                    "CreateKeyResponse(KeyId={id}, KeyPurpose=ENCRYPT_DECRYPT, KeyScheme={spec:?})"
                )
            },
        )
        .await
    }

    async fn generate_symmetric_key(&self, name: Option<&str>) -> Result<KmsKeyId> {
        self.audited(
            "CreateKeyRequest(KeyPurpose=ENCRYPT_DECRYPT, KeyScheme=SYMMETRIC_DEFAULT)".into(),
            self.inner.generate_symmetric_key(name),
            |id| {
                format!(
                    "CreateKeyResponse(KeyId={id}, KeyPurpose=ENCRYPT_DECRYPT, KeyScheme=SYMMETRIC_DEFAULT)"
                )
            },
        )
        .await
    }

    async fn sign(
        &self,
        key_id: &KmsKeyId,
        data: &[u8],
        algo: SigningAlgorithmSpec,
    ) -> Result<Vec<u8>> {
        self.audited(
            format!(
                "SignRequest(KeyId={key_id}, Message={SIGN_MESSAGE_PLACEHOLDER}, MessageType=RAW, \
                 SigningAlgorithm={algo:?})"
            ),
            self.inner.sign(key_id, data, algo),
            |_| {
                format!(
                    "SignResponse(KeyId={key_id}, Signature={SIGNATURE_PLACEHOLDER}, SigningAlgorithm={algo:?})"
                )
            },
        )
        .await
    }

    async fn decrypt_asymmetric(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
        algo: EncryptionAlgorithmSpec,
    ) -> Result<Zeroizing<Vec<u8>>> {
        self.audited(
            format!(
                "DecryptRequest(CiphertextBlob={CIPHERTEXT_PLACEHOLDER}, KeyId={key_id}, \
                 EncryptionAlgorithm={algo:?})"
            ),
            self.inner.decrypt_asymmetric(key_id, ciphertext, algo),
            |_| {
                format!(
                    "DecryptResponse(KeyId={key_id}, Plaintext={PLAINTEXT_PLACEHOLDER}, EncryptionAlgorithm={algo:?})"
                )
            },
        )
        .await
    }

    async fn encrypt_symmetric(&self, key_id: &KmsKeyId, data: &[u8]) -> Result<Vec<u8>> {
        self.audited(
            format!(
                "EncryptRequest(Plaintext={PLAINTEXT_PLACEHOLDER}, KeyId={key_id}, \
                 EncryptionAlgorithm=SYMMETRIC_DEFAULT)"
            ),
            self.inner.encrypt_symmetric(key_id, data),
            |_| {
                format!(
                    "EncryptResponse(CiphertextBlob={CIPHERTEXT_PLACEHOLDER}, KeyId={key_id}, \
                     EncryptionAlgorithm=SYMMETRIC_DEFAULT)"
                )
            },
        )
        .await
    }

    async fn decrypt_symmetric(
        &self,
        key_id: &KmsKeyId,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        self.audited(
            format!(
                "DecryptRequest(CiphertextBlob={CIPHERTEXT_PLACEHOLDER}, KeyId={key_id}, \
                 EncryptionAlgorithm=SYMMETRIC_DEFAULT)"
            ),
            self.inner.decrypt_symmetric(key_id, ciphertext),
            |_| {
                format!(
                    "DecryptResponse(KeyId={key_id}, Plaintext={PLAINTEXT_PLACEHOLDER}, \
                     EncryptionAlgorithm=SYMMETRIC_DEFAULT)"
                )
            },
        )
        .await
    }

    async fn get_public_key(&self, key_id: &KmsKeyId) -> Result<KmsPublicKey> {
        self.audited(
            format!("GetPublicKeyRequest(KeyId={key_id})"),
            self.inner.get_public_key(key_id),
            |pk| {
                format!(
                    "GetPublicKeyResponse(KeyId={key_id}, PublicKey={PUBLIC_KEY_PLACEHOLDER}, KeyScheme={})",
                    scheme(pk.spec)
                )
            },
        )
        .await
    }

    async fn key_exists_and_is_active(&self, key_id: &KmsKeyId) -> Result<()> {
        self.audited(
            format!("RetrieveMetadataRequest(KeyId={key_id})"),
            self.inner.key_exists_and_is_active(key_id),
            |_| {
                format!(
                    "RetrieveMetadataResponse(KeyId={key_id}, Metadata=Metadata[KeyScheme: -, State: ENABLED, \
                     {METADATA_PLACEHOLDER}])"
                )
            },
        )
        .await
    }

    async fn delete_key(&self, key_id: &KmsKeyId) -> Result<()> {
        self.audited(
            format!("DeleteKeyRequest(KeyId={key_id})"),
            self.inner.delete_key(key_id),
            |_| format!("DeleteKeyResponse(KeyId={key_id})"),
        )
        .await
    }

    async fn close(&self) {
        self.inner.close().await;
    }
}
