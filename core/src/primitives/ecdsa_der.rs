//! Strict conversion between ECDSA signatures in DER (`SEQUENCE { r INTEGER, s INTEGER }`, what Canton
//! stores) and raw fixed-width `r ‖ s` (what PKCS#11 tokens, JWS and WebCrypto use).

use crate::error::{Error, ErrorKind, Result};
use crate::scheme::SigningKeySpec;

fn field_len(spec: SigningKeySpec) -> Result<usize> {
    match spec {
        SigningKeySpec::EcP256 | SigningKeySpec::EcSecp256k1 => Ok(32),
        SigningKeySpec::EcP384 => Ok(48),
        SigningKeySpec::EcCurve25519 => Err(Error::new(
            ErrorKind::IncompatibleKey,
            "Ed25519 signatures are raw 64 bytes; DER conversion applies to ECDSA only",
        )),
    }
}

fn malformed(what: &str) -> Error {
    Error::new(
        ErrorKind::MalformedSignature,
        format!("ECDSA DER signature: {what}"),
    )
}

/// Read one DER length at `input[*pos]`, advancing `pos`. Only minimal encodings are accepted.
fn read_len(input: &[u8], pos: &mut usize) -> Result<usize> {
    let first = *input
        .get(*pos)
        .ok_or_else(|| malformed("truncated length"))?;
    *pos += 1;
    if first < 0x80 {
        return Ok(first as usize);
    }
    if first != 0x81 {
        return Err(malformed("length too long or not minimal"));
    }
    let len = *input
        .get(*pos)
        .ok_or_else(|| malformed("truncated length"))? as usize;
    *pos += 1;
    if len < 0x80 {
        return Err(malformed("non-minimal length"));
    }
    Ok(len)
}

/// Read one positive, minimally encoded INTEGER and return its magnitude without leading zeros.
fn read_uint<'a>(input: &'a [u8], pos: &mut usize) -> Result<&'a [u8]> {
    if input.get(*pos) != Some(&0x02) {
        return Err(malformed("expected INTEGER"));
    }
    *pos += 1;
    let len = read_len(input, pos)?;
    let end = pos
        .checked_add(len)
        .filter(|e| *e <= input.len())
        .ok_or_else(|| malformed("truncated INTEGER"))?;
    let v = &input[*pos..end];
    *pos = end;
    match v {
        [] => Err(malformed("empty INTEGER")),
        [b, ..] if b & 0x80 != 0 => Err(malformed("negative INTEGER")),
        [0, next, ..] if next & 0x80 == 0 => Err(malformed("non-minimal INTEGER")),
        [0] => Err(malformed("zero INTEGER")),
        [0, rest @ ..] => Ok(rest),
        _ => Ok(v),
    }
}

/// Check that `der` is a strict DER ECDSA signature for `spec` (what [`ecdsa_der_to_raw`] accepts),
/// without allocating: `(r, s)` as big-endian slices without leading zeros.
pub(super) fn check_strict_der(spec: SigningKeySpec, der: &[u8]) -> Result<(&[u8], &[u8])> {
    let n = field_len(spec)?;
    let mut pos = 0;
    if der.first() != Some(&0x30) {
        return Err(malformed("expected SEQUENCE"));
    }
    pos += 1;
    let len = read_len(der, &mut pos)?;
    if pos + len != der.len() {
        return Err(malformed("length does not match the input"));
    }
    let r = read_uint(der, &mut pos)?;
    let s = read_uint(der, &mut pos)?;
    if pos != der.len() {
        return Err(malformed("trailing data"));
    }
    if r.len() > n || s.len() > n {
        return Err(malformed("integer larger than the curve order"));
    }
    Ok((r, s))
}

/// DER → raw `r ‖ s` (each left-padded to the field size of `spec`).
pub fn ecdsa_der_to_raw(spec: SigningKeySpec, der: &[u8]) -> Result<Vec<u8>> {
    let n = field_len(spec)?;
    let (r, s) = check_strict_der(spec, der)?;
    let mut out = vec![0u8; 2 * n];
    out[n - r.len()..n].copy_from_slice(r);
    out[2 * n - s.len()..].copy_from_slice(s);
    Ok(out)
}

fn push_uint(out: &mut Vec<u8>, v: &[u8]) {
    let start = v.iter().position(|b| *b != 0).unwrap_or(v.len());
    let v = &v[start..];
    let pad = v.first().is_some_and(|b| b & 0x80 != 0);
    out.push(0x02);
    out.push((v.len() + usize::from(pad)) as u8);
    if pad {
        out.push(0);
    }
    out.extend_from_slice(v);
}

/// Raw `r ‖ s` (exactly twice the field size of `spec`) → DER.
pub fn ecdsa_raw_to_der(spec: SigningKeySpec, raw: &[u8]) -> Result<Vec<u8>> {
    let n = field_len(spec)?;
    if raw.len() != 2 * n {
        return Err(Error::new(
            ErrorKind::MalformedSignature,
            format!(
                "a raw {spec} ECDSA signature is {} bytes, got {}",
                2 * n,
                raw.len()
            ),
        ));
    }
    let (r, s) = raw.split_at(n);
    if r.iter().all(|b| *b == 0) || s.iter().all(|b| *b == 0) {
        return Err(Error::new(
            ErrorKind::MalformedSignature,
            "ECDSA r and s must be non-zero",
        ));
    }
    let mut body = Vec::with_capacity(2 * n + 6);
    push_uint(&mut body, r);
    push_uint(&mut body, s);
    let mut out = Vec::with_capacity(body.len() + 3);
    out.push(0x30);
    if body.len() >= 0x80 {
        out.push(0x81);
    }
    out.push(body.len() as u8);
    out.extend_from_slice(&body);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strictness() {
        let mut raw = vec![0u8; 64];
        raw[0] = 0x80; // r needs a pad byte
        raw[63] = 1; // s = 1
        let der = ecdsa_raw_to_der(SigningKeySpec::EcP256, &raw).unwrap_or_default();
        assert_eq!(&der[..5], &[0x30, 0x26, 0x02, 0x21, 0x00]);
        assert_eq!(
            ecdsa_der_to_raw(SigningKeySpec::EcP256, &der).ok(),
            Some(raw.clone())
        );
        // non-minimal integer
        let bad = [0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01];
        assert!(ecdsa_der_to_raw(SigningKeySpec::EcP256, &bad).is_err());
        // trailing garbage
        let mut t = der.clone();
        t.push(0);
        assert!(ecdsa_der_to_raw(SigningKeySpec::EcP256, &t).is_err());
        assert!(ecdsa_raw_to_der(SigningKeySpec::EcP384, &raw).is_err());
        assert!(ecdsa_raw_to_der(SigningKeySpec::EcCurve25519, &raw).is_err());
    }
}
