//! The configuration tree every reader of tresor's settings shares: the TOML file, the `crypto` block of
//! a Canton HOCON file, and a KMS driver's `config = { … }` text all become a [`Node`] tree (the HOCON
//! parser is [`hocon`]), read through [`Obj`], whose errors name the file (or text) and the line.

pub(crate) mod hocon;

pub(crate) use hocon::{Node, Value};

use crate::error::{Error, ErrorKind, Result};

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
}

/// An object node of a config file, with what is needed to name errors.
pub(crate) struct Obj<'a> {
    pub(crate) node: &'a Node,
    /// The file (or text) the node comes from, as errors name it.
    pub(crate) origin: &'a str,
    /// The section name, as the user wrote it (`[kms]`, `crypto.kms`).
    pub(crate) name: String,
}

impl<'a> Obj<'a> {
    pub(crate) fn err(&self, line: usize, message: impl core::fmt::Display) -> Error {
        if line == 0 {
            // A value set by an environment variable, not read from the file.
            return invalid(format!(
                "{} (a value from the environment): {message}",
                self.origin
            ));
        }
        invalid(format!("{}:{line}: {message}", self.origin))
    }

    #[cfg_attr(not(feature = "config"), allow(dead_code))]
    pub(crate) fn origin(&self, line: usize) -> String {
        format!("{}:{line}", self.origin)
    }

    pub(crate) fn check_keys(&self, accepted: &[&str]) -> Result<()> {
        if let Value::Object(fields) = &self.node.value {
            for (k, v) in fields {
                if !accepted.contains(&k.as_str()) {
                    return Err(self.err(
                        v.line,
                        format!(
                            "unknown key '{k}' in {}; accepted: {}",
                            self.name,
                            accepted.join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    pub(crate) fn get(&self, key: &str) -> Option<&'a Node> {
        self.node.get(key)
    }

    pub(crate) fn string(&self, key: &str) -> Result<Option<(String, usize)>> {
        match self.get(key) {
            None
            | Some(Node {
                value: Value::Null, ..
            }) => Ok(None),
            Some(Node {
                value: Value::Str(s) | Value::Num(s),
                line,
            }) => Ok(Some((s.clone(), *line))),
            Some(n) => Err(self.err(
                n.line,
                format!(
                    "'{key}' in {} must be a string, not {}",
                    self.name,
                    n.value.kind()
                ),
            )),
        }
    }

    pub(crate) fn boolean(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(n) => match &n.value {
                Value::Bool(b) => Ok(Some(*b)),
                Value::Str(s) => parse_bool(s).map(Some).ok_or_else(|| {
                    self.err(
                        n.line,
                        format!("'{key}' in {} must be true or false, not '{s}'", self.name),
                    )
                }),
                v => Err(self.err(
                    n.line,
                    format!(
                        "'{key}' in {} must be true or false, not {}",
                        self.name,
                        v.kind()
                    ),
                )),
            },
        }
    }

    pub(crate) fn number(&self, key: &str) -> Result<Option<u64>> {
        match self.get(key) {
            None => Ok(None),
            Some(n) => match &n.value {
                Value::Num(s) | Value::Str(s) => s.parse::<u64>().map(Some).map_err(|_| {
                    self.err(
                        n.line,
                        format!(
                            "'{key}' in {} must be a whole number ≥ 0, not '{s}'",
                            self.name
                        ),
                    )
                }),
                v => Err(self.err(
                    n.line,
                    format!(
                        "'{key}' in {} must be a number, not {}",
                        self.name,
                        v.kind()
                    ),
                )),
            },
        }
    }

    #[cfg_attr(not(feature = "config"), allow(dead_code))]
    pub(crate) fn object(&self, key: &str, name: String) -> Result<Option<Obj<'a>>> {
        match self.get(key) {
            None => Ok(None),
            Some(n) if matches!(n.value, Value::Object(_)) => Ok(Some(Obj {
                node: n,
                origin: self.origin,
                name,
            })),
            Some(n) => Err(self.err(
                n.line,
                format!(
                    "'{key}' in {} must be a section (table/object), not {}",
                    self.name,
                    n.value.kind()
                ),
            )),
        }
    }
}

pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" => Some(true),
        "false" | "no" | "off" => Some(false),
        _ => None,
    }
}
