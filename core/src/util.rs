//! Small helpers that every part of tresor (and its bindings and tools) shares, so each exists once:
//! hex, RFC 3339 time, URL redaction and JSON-style quoting.

use core::fmt::Write as _;

use crate::error::{Error, ErrorKind, Result};

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Decode hex (upper or lower case, no separators). [`ErrorKind::MalformedData`] names `what`.
pub fn unhex(text: &str, what: &str) -> Result<Vec<u8>> {
    let t = text.trim();
    let bad = || Error::new(ErrorKind::MalformedData, format!("{what} is not valid hex"));
    if !t.len().is_multiple_of(2) {
        return Err(bad());
    }
    (0..t.len())
        .step_by(2)
        .map(|i| t.get(i..i + 2).and_then(|p| u8::from_str_radix(p, 16).ok()))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(bad)
}

/// The current time in milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Split milliseconds since the Unix epoch into a UTC civil date and time:
/// `(year, month, day, hour, minute, second, millisecond)` (proleptic Gregorian calendar).
pub fn civil_utc(ms: i64) -> (i64, u32, u32, u32, u32, u32, u32) {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    // Every value below is in range by construction (days 1..=31, months 1..=12, and so on).
    let small = |v: i64| u32::try_from(v).unwrap_or(0);
    (
        y,
        small(m),
        small(d),
        small(sod / 3600),
        small((sod / 60) % 60),
        small(sod % 60),
        small(ms.rem_euclid(1000)),
    )
}

/// RFC 3339 UTC with milliseconds: `2026-11-22T15:30:00.123Z`.
pub fn rfc3339_ms(ms: i64) -> String {
    let (y, mo, d, h, mi, s, milli) = civil_utc(ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
}

/// RFC 3339 UTC to the second: `2026-11-22T15:30:00Z`.
pub fn rfc3339(ms: i64) -> String {
    let (y, mo, d, h, mi, s, _) = civil_utc(ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// A URL with the password of its credentials replaced by `***` (`postgres://u:***@h/db`), for
/// messages. URLs without a password are returned unchanged.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s + 3 => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// `s` as a JSON string literal (also valid HOCON and TOML basic strings): quotes, backslashes and
/// control characters escaped.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        assert_eq!(hex(&[0, 0xab, 0xff]), "00abff");
        assert_eq!(unhex("00ABff", "x").ok(), Some(vec![0, 0xab, 0xff]));
        assert!(unhex("abc", "x").is_err());
        assert!(unhex("zz", "x").is_err());
        assert_eq!(
            unhex("é1", "x").map_err(|e| e.kind()).err(),
            Some(ErrorKind::MalformedData)
        );
    }

    #[test]
    fn times() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(1_795_305_600_123), "2026-11-22T00:00:00.123Z");
        assert_eq!(rfc3339_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_305_600_123), "2026-11-22T00:00:00Z");
        assert_eq!(rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn urls_and_quotes() {
        assert_eq!(
            redact_url("postgres://tresor:s3cret@127.0.0.1/db"),
            "postgres://tresor:***@127.0.0.1/db"
        );
        assert_eq!(redact_url("sqlite://./tresor.db"), "sqlite://./tresor.db");
        assert_eq!(quote("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
    }
}
