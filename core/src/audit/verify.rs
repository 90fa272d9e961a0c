//! Verifying the hash chain of an audit log and its rolled files ([`verify_audit_log`]).

use std::path::{Path, PathBuf};

use super::{Parsed, header_prev, io_err, link, parse_line, unhex32};
use crate::error::{Error, ErrorKind, Result};
use crate::util::hex;

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
    /// The log ends before an expected tip ([`verify_audit_log_expecting`]): lines were cut from its
    /// end (or the whole log was replaced by a shorter one).
    Truncated,
    /// The line at an expected tip's sequence number has another chain value: the log was rewritten
    /// from that line on (or before it).
    Rewritten,
}

impl core::fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Edited => "edited",
            Self::Removed => "removed",
            Self::Reordered => "reordered",
            Self::Malformed => "malformed",
            Self::Truncated => "truncated",
            Self::Rewritten => "rewritten",
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

/// A point of the hash chain: a line's sequence number and chain value, written `<seq>:<64 hex>`.
///
/// The chain cannot show lines cut from the end of the log, nor a rewrite of everything after some
/// line; a tip kept elsewhere (printed by `tresor audit verify`, [`VerifyReport::tip`]) can: checked
/// with [`verify_audit_log_expecting`], the log must still hold that line, unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainTip {
    /// The line's `seq`.
    pub seq: u64,
    /// The line's `chain` value.
    pub chain: [u8; 32],
}

impl core::fmt::Display for ChainTip {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}:{}", self.seq, hex(&self.chain))
    }
}

impl core::str::FromStr for ChainTip {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::new(
                ErrorKind::MalformedData,
                format!(
                    "an audit chain tip is <seq>:<64 hex digits> (as `tresor audit verify` prints it), not '{}'",
                    s.escape_debug()
                ),
            )
        };
        let (seq, chain) = s.trim().split_once(':').ok_or_else(bad)?;
        let seq = seq
            .parse::<u64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(bad)?;
        let chain = unhex32(&chain.to_ascii_lowercase()).ok_or_else(bad)?;
        Ok(Self { seq, chain })
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
    /// The last intact line's sequence number and chain value (keep it to detect a truncation later).
    pub tip: Option<ChainTip>,
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
    verify_audit_log_expecting(path, None)
}

/// [`verify_audit_log`], and, with `expected`, check that the log still holds that tip: a log that ends
/// before it is [`ProblemKind::Truncated`], one whose line at that sequence number has another chain
/// value is [`ProblemKind::Rewritten`]. A tip older than the oldest line kept (rolled files removed by
/// `KMS_LOG_FILE_HISTORY`) cannot be checked and is reported as [`ProblemKind::Removed`].
pub fn verify_audit_log_expecting(
    path: &Path,
    expected: Option<&ChainTip>,
) -> Result<VerifyReport> {
    let mut report = verify_chain(path)?;
    let Some(want) = expected else {
        return Ok(report);
    };
    if report.problem.is_some() {
        return Ok(report);
    }
    let last_file = report.files.last().cloned().unwrap_or_default();
    let at = |line: u64, kind, detail: String| AuditProblem {
        file: last_file.clone(),
        line,
        kind,
        detail,
    };
    let Some(tip) = report.tip else {
        report.problem = Some(at(
            0,
            ProblemKind::Truncated,
            format!(
                "the log holds no line, the expected tip is seq={}",
                want.seq
            ),
        ));
        return Ok(report);
    };
    if want.seq > tip.seq {
        report.problem = Some(at(
            report.lines,
            ProblemKind::Truncated,
            format!(
                "the log ends at seq={}, before the expected tip seq={}: {} line(s) cut from its end",
                tip.seq,
                want.seq,
                want.seq - tip.seq
            ),
        ));
        return Ok(report);
    }
    match find_seq(&report.files, want.seq)? {
        Some((_, _, chain)) if chain == want.chain => {}
        Some((file, line, _)) => {
            report.problem = Some(AuditProblem {
                file,
                line,
                kind: ProblemKind::Rewritten,
                detail: format!(
                    "seq={} does not have the expected chain value: the log was rewritten at or before this line",
                    want.seq
                ),
            });
        }
        None => {
            report.problem = Some(at(
                0,
                ProblemKind::Removed,
                format!(
                    "the expected tip seq={} is older than the oldest line kept; it cannot be checked",
                    want.seq
                ),
            ));
        }
    }
    Ok(report)
}

/// The file, line number and chain value of the line with sequence number `seq`, if any.
fn find_seq(files: &[PathBuf], seq: u64) -> Result<Option<(PathBuf, u64, [u8; 32])>> {
    for file in files {
        let text = std::fs::read(file).map_err(|e| io_err("reading", file, e))?;
        let text = String::from_utf8_lossy(&text);
        for (i, l) in text.lines().enumerate() {
            if let Some(p) = parse_line(l)
                && p.seq == seq
            {
                return Ok(Some((file.clone(), i as u64 + 1, p.chain)));
            }
        }
    }
    Ok(None)
}

fn verify_chain(path: &Path) -> Result<VerifyReport> {
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
        tip: None,
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
            report.tip = Some(ChainTip {
                seq: p.seq,
                chain: p.chain,
            });
            report.lines += 1;
        }
    }
    Ok(report)
}
