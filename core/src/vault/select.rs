//! Choosing keys the way operators name them: key names (checked once, here, for every face), a key
//! chosen by a unique fingerprint prefix or by its name ([`Vault::find_key`]), and Canton's filters of
//! `keys.secret.list` ([`KeyFilter`]).

use super::{KeyInfo, Vault};
use crate::error::{Error, ErrorKind, Result};
use crate::keys::{Fingerprint, SigningKeyUsage};
use crate::kms::check_key_name;
use crate::scheme::Purpose;

/// How many candidates an ambiguous selector's error lists.
const MAX_LISTED: usize = 10;

/// Check a key name: at most 300 characters (Canton's bound) and no control characters (a name is
/// printed in tables, logs and the audit log, where a newline or an escape sequence would forge output).
/// [`ErrorKind::InvalidArgument`] otherwise.
pub(crate) fn check_name(name: Option<&str>) -> Result<()> {
    check_key_name(name)?;
    if let Some(n) = name
        && let Some(c) = n.chars().find(|c| c.is_control())
    {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "a key name must not contain control characters (found {}); got {}",
                c.escape_unicode(),
                n.escape_debug()
            ),
        ));
    }
    Ok(())
}

/// A key name made safe to reuse in a new name (control characters in names stored before they were
/// refused become `?`).
pub(crate) fn sanitized(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Canton's filters of `keys.secret.list(filterFingerprint, filterName, filterPurpose, filterUsage)`;
/// an empty filter matches every key. Every given criterion must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyFilter {
    /// The fingerprint starts with this (lowercase hex; case is ignored).
    pub fingerprint: Option<String>,
    /// The name contains this.
    pub name: Option<String>,
    /// The key has one of these purposes (empty: any).
    pub purposes: Vec<Purpose>,
    /// The key is a signing key whose usage includes one of these (empty: any key).
    pub usages: Vec<SigningKeyUsage>,
}

impl KeyFilter {
    /// A filter that matches every key.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keep keys whose fingerprint starts with `prefix`.
    pub fn fingerprint(mut self, prefix: impl Into<String>) -> Self {
        self.fingerprint = Some(prefix.into());
        self
    }

    /// Keep keys whose name contains `part`.
    pub fn name(mut self, part: impl Into<String>) -> Self {
        self.name = Some(part.into());
        self
    }

    /// Keep keys of `purpose` (repeat for several).
    pub fn purpose(mut self, purpose: Purpose) -> Self {
        self.purposes.push(purpose);
        self
    }

    /// Keep signing keys whose usage includes `usage` (repeat for several: any of them).
    pub fn usage(mut self, usage: SigningKeyUsage) -> Self {
        self.usages.push(usage);
        self
    }

    /// Whether `key` passes every criterion.
    pub fn matches(&self, key: &KeyInfo) -> bool {
        let fp_ok = self.fingerprint.as_deref().is_none_or(|p| {
            key.fingerprint
                .to_string()
                .starts_with(&p.trim().to_ascii_lowercase())
        });
        let name_ok = self
            .name
            .as_deref()
            .is_none_or(|n| key.name.as_deref().is_some_and(|k| k.contains(n)));
        let purpose_ok = self.purposes.is_empty() || self.purposes.contains(&key.purpose());
        let usage_ok = self.usages.is_empty()
            || key
                .usage
                .is_some_and(|u| self.usages.iter().any(|x| u.contains(*x)));
        fp_ok && name_ok && purpose_ok && usage_ok
    }
}

fn describe(k: &KeyInfo) -> String {
    match &k.name {
        Some(n) => format!("{} ('{}')", k.fingerprint, n.escape_debug()),
        None => k.fingerprint.to_string(),
    }
}

impl Vault {
    /// The keys that pass `filter`, oldest first.
    pub async fn list_keys_matching(&self, filter: &KeyFilter) -> Result<Vec<KeyInfo>> {
        Ok(self
            .list_keys()
            .await?
            .into_iter()
            .filter(|k| filter.matches(k))
            .collect())
    }

    /// The keys that pass `filter`, oldest first, each on its own as in
    /// [`Vault::list_keys_lenient`]: a damaged row is an error naming it (whatever the filter, since
    /// its fields cannot be trusted), the other keys are filtered.
    pub async fn list_keys_matching_lenient(
        &self,
        filter: &KeyFilter,
    ) -> Result<Vec<Result<KeyInfo>>> {
        Ok(self
            .list_keys_lenient()
            .await?
            .into_iter()
            .filter(|k| k.as_ref().map_or(true, |k| filter.matches(k)))
            .collect())
    }

    /// The key an operator means by `selector`: a full fingerprint, a unique prefix of one (at least
    /// 4 hex digits; case is ignored), or a key's exact name. A selector that fits several keys is
    /// [`ErrorKind::InvalidArgument`] with the candidates listed; one that fits none is
    /// [`ErrorKind::KeyNotFound`].
    pub async fn find_key(&self, selector: &str) -> Result<KeyInfo> {
        let s = selector.trim();
        if let Ok(fp) = s.parse::<Fingerprint>() {
            return self.key_info(&fp).await;
        }
        if s.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "no key given: pass a fingerprint, a unique prefix of one, or a key name",
            ));
        }
        let lower = s.to_ascii_lowercase();
        let hex_prefix = lower.len() >= 4 && lower.bytes().all(|b| b.is_ascii_hexdigit());
        // Damaged rows cannot be selected by prefix or name (their fields are not trusted); they do
        // not stop the selection of the others.
        let keys: Vec<KeyInfo> = self
            .list_keys_lenient()
            .await?
            .into_iter()
            .filter_map(Result::ok)
            .collect();
        let found: Vec<&KeyInfo> = keys
            .iter()
            .filter(|k| {
                k.name.as_deref() == Some(s)
                    || (hex_prefix && k.fingerprint.to_string().starts_with(&lower))
            })
            .collect();
        match found.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(Error::new(
                ErrorKind::KeyNotFound,
                format!(
                    "no key in the store has the fingerprint{} or the name '{}'",
                    if hex_prefix { " prefix" } else { "" },
                    s.escape_debug()
                ),
            )),
            many => {
                let mut listed: Vec<String> =
                    many.iter().take(MAX_LISTED).map(|k| describe(k)).collect();
                if many.len() > MAX_LISTED {
                    listed.push(format!("and {} more", many.len() - MAX_LISTED));
                }
                Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "'{}' is ambiguous: it fits {} keys: {}; give more of the fingerprint",
                        s.escape_debug(),
                        many.len(),
                        listed.join(", ")
                    ),
                ))
            }
        }
    }
}
