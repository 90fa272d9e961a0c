//! Output for people and for scripts: tables, JSON, RFC 3339 times, a progress line on stderr,
//! confirmations and password prompts.

use std::io::{IsTerminal as _, Write as _};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tresor::vault::{Progress, ProgressFn};
use zeroize::Zeroizing;

use crate::{EXIT_ERROR, Failure};

/// Whether a progress line is on screen without its newline (so an error starts on a fresh line).
static PROGRESS_OPEN: AtomicBool = AtomicBool::new(false);

/// End a progress line left open.
pub(crate) fn close_progress_line() {
    if PROGRESS_OPEN.swap(false, Ordering::SeqCst) {
        let _ = writeln!(std::io::stderr());
    }
}

/// How to print.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ui {
    /// JSON on stdout instead of tables.
    pub(crate) json: bool,
}

impl Ui {
    /// A progress callback: a redrawn line on stderr, only when stderr is a terminal and the output
    /// is not JSON.
    pub(crate) fn progress(&self) -> Option<ProgressFn> {
        if self.json || !std::io::stderr().is_terminal() {
            return None;
        }
        let last: Arc<Mutex<(&'static str, u64)>> = Arc::new(Mutex::new(("", u64::MAX)));
        Some(Arc::new(move |what: &'static str, p: Progress| {
            let total = p.total.max(1);
            let pct = p.done.min(total) * 100 / total;
            let Ok(mut l) = last.lock() else {
                return;
            };
            if l.0 == what && l.1 == pct && p.done < p.total {
                return;
            }
            *l = (what, pct);
            let width = 30u64;
            let filled = (pct * width / 100) as usize;
            let bar = format!(
                "{}{}",
                "#".repeat(filled),
                "-".repeat(width as usize - filled)
            );
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{what} [{bar}] {}/{} ({pct}%)", p.done, p.total);
            if p.done >= p.total {
                let _ = writeln!(err);
                PROGRESS_OPEN.store(false, Ordering::SeqCst);
            } else {
                PROGRESS_OPEN.store(true, Ordering::SeqCst);
            }
            let _ = err.flush();
        }))
    }

    /// Print a JSON value (pretty) on stdout.
    pub(crate) fn print_json(&self, v: &serde_json::Value) {
        let text = serde_json::to_string_pretty(v).unwrap_or_else(|_| "null".to_string());
        let _ = writeln!(std::io::stdout(), "{text}");
    }
}

/// Print text on stdout.
pub(crate) fn out(text: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = o.write_all(b"\n");
    }
    let _ = o.flush();
}

/// A plain-text table: a header row and left-aligned columns separated by two spaces.
pub(crate) fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                let pad = widths[i] - c.chars().count();
                s.push_str(c);
                s.push_str(&" ".repeat(pad + 2));
            }
        }
        s.trim_end().to_string()
    };
    let mut out = line(headers.to_vec());
    out.push('\n');
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out
}

/// Aligned `name  value` lines.
pub(crate) fn pairs(items: &[(&str, String)]) -> String {
    let w = items
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut s = String::new();
    for (k, v) in items {
        s.push_str(&format!("{k:<w$}  {v}\n"));
    }
    s
}

/// Milliseconds since the Unix epoch as RFC 3339 UTC (`2026-01-31T12:00:00.123Z`).
pub(crate) fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60,
        ms.rem_euclid(1000)
    )
}

/// Ask a yes/no question on the terminal. Errors when standard input is not a terminal.
pub(crate) fn confirm(question: &str, non_interactive_hint: &str) -> Result<bool, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::new(
            EXIT_ERROR,
            format!(
                "{non_interactive_hint} (standard input is not a terminal, so tresor cannot ask)"
            ),
        ));
    }
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{question} Type 'yes' to confirm: ");
    let _ = err.flush();
    drop(err);
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Failure::new(EXIT_ERROR, format!("cannot read the answer: {e}")))?;
    Ok(answer.trim().eq_ignore_ascii_case("yes"))
}

/// The shortest export password accepted without `--allow-short-password`.
pub(crate) const MIN_EXPORT_PASSWORD: usize = 12;

/// Read a password from a file: its first line, without the line ending. A file its group or others
/// can read is refused.
pub(crate) fn password_from_file(path: &Path) -> Result<Zeroizing<String>, Failure> {
    crate::files::check_secret_file(path, "password file")?;
    let bytes = Zeroizing::new(crate::files::read(path, "password file")?);
    let text = core::str::from_utf8(&bytes).map_err(|_| {
        Failure::new(
            EXIT_ERROR,
            format!("password file '{}' is not UTF-8 text", path.display()),
        )
    })?;
    let first = text.split('\n').next().unwrap_or("");
    let pw = Zeroizing::new(first.strip_suffix('\r').unwrap_or(first).to_string());
    if pw.is_empty() {
        return Err(Failure::new(
            EXIT_ERROR,
            format!("password file '{}' is empty", path.display()),
        ));
    }
    Ok(pw)
}

fn prompt(label: &str) -> Result<Zeroizing<String>, Failure> {
    rpassword::prompt_password(label)
        .map(Zeroizing::new)
        .map_err(|e| Failure::new(EXIT_ERROR, format!("cannot read the password: {e}")))
}

/// An export password: `--password-file`, then `TRESOR_EXPORT_PASSWORD`, then a prompt on a terminal
/// (twice when `new`). Never a command-line argument. A new password (`new`) shorter than
/// [`MIN_EXPORT_PASSWORD`] characters is refused unless `allow_short`.
pub(crate) fn export_password(
    file: Option<&Path>,
    new: bool,
    allow_short: bool,
) -> Result<Zeroizing<String>, Failure> {
    let pw = export_password_from(file, new)?;
    let n = pw.chars().count();
    if new && !allow_short && n < MIN_EXPORT_PASSWORD {
        return Err(Failure::new(
            EXIT_ERROR,
            format!(
                "the export password has {n} characters; use at least {MIN_EXPORT_PASSWORD} (a passphrase of \
                 several words), or pass --allow-short-password"
            ),
        ));
    }
    Ok(pw)
}

fn export_password_from(file: Option<&Path>, new: bool) -> Result<Zeroizing<String>, Failure> {
    if let Some(f) = file {
        return password_from_file(f);
    }
    if let Ok(pw) = std::env::var("TRESOR_EXPORT_PASSWORD") {
        if pw.is_empty() {
            return Err(Failure::new(
                EXIT_ERROR,
                "the environment variable TRESOR_EXPORT_PASSWORD is empty",
            ));
        }
        return Ok(Zeroizing::new(pw));
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::new(
            EXIT_ERROR,
            "no export password: pass --password-file <file>, set TRESOR_EXPORT_PASSWORD, or run on a terminal \
             to be asked",
        ));
    }
    new_or_typed("Export password: ", "Repeat the export password: ", new)
}

/// A password typed on the terminal, asked twice when `new`.
fn new_or_typed(label: &str, again: &str, new: bool) -> Result<Zeroizing<String>, Failure> {
    let pw = prompt(label)?;
    if pw.is_empty() {
        return Err(Failure::new(EXIT_ERROR, "the password is empty"));
    }
    if new {
        let repeated = prompt(again)?;
        if repeated.as_str() != pw.as_str() {
            return Err(Failure::new(EXIT_ERROR, "the two passwords differ"));
        }
    }
    Ok(pw)
}

/// The software KMS passphrase, asked on the terminal (when the configuration names no key file,
/// passphrase file or `TRESOR_KMS_PASSPHRASE`).
pub(crate) fn kms_passphrase() -> Result<Zeroizing<String>, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure::new(
            EXIT_ERROR,
            "the software KMS needs its master key: set key-file or passphrase-file in [kms], or \
             TRESOR_KMS_KEY_FILE or TRESOR_KMS_PASSPHRASE",
        ));
    }
    prompt("Software KMS passphrase: ")
}

/// A new software KMS passphrase (`tresor init`): `TRESOR_KMS_PASSPHRASE`, else asked twice on the
/// terminal.
pub(crate) fn new_kms_passphrase() -> Result<Zeroizing<String>, Failure> {
    if let Some(p) = std::env::var("TRESOR_KMS_PASSPHRASE")
        .ok()
        .filter(|p| !p.trim().is_empty())
    {
        return Ok(Zeroizing::new(p));
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::new(
            EXIT_ERROR,
            "a passphrase-protected software KMS needs its passphrase: set TRESOR_KMS_PASSPHRASE, pass \
             --kms-passphrase-file <file>, or run on a terminal to be asked",
        ));
    }
    new_or_typed(
        "New software KMS passphrase: ",
        "Repeat the software KMS passphrase: ",
        true,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_305_600_123), "2026-11-22T00:00:00.123Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn tables() {
        let t = table(
            &["A", "BB"],
            &[vec!["xyz".into(), "1".into()], vec!["q".into(), "".into()]],
        );
        assert_eq!(t, "A    BB\nxyz  1\nq\n");
    }
}
