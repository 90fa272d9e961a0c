//! A small, strict parser for the subset of HOCON that Canton's operator documentation uses for its
//! `crypto` blocks, so operators can point tresor at the `canton.conf` they already have.
//!
//! Supported: objects with `{}`, fields with `=`, `:` or directly followed by `{`, dotted keys
//! (`a.b.c = 1`), quoted (with JSON escapes) and unquoted strings, booleans, `null`, numbers, arrays of
//! scalars, `#` and `//` comments, fields separated by newlines or commas, and HOCON's merge rule (a
//! repeated key whose old and new values are both objects merges them; otherwise the later value wins).
//!
//! Refused with an error naming the line: substitutions (`${…}`), `include`, `+=`, triple-quoted strings,
//! value concatenation, arrays of objects or arrays, and anything else outside the subset.

/// A parsed value and the line (1-based) where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) value: Value,
    pub(crate) line: usize,
}

/// A HOCON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// A string (quoted or unquoted).
    Str(String),
    /// A number, kept as written.
    Num(String),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// An array of scalars.
    Array(Vec<Node>),
    /// An object, fields in the order they first appeared.
    Object(Vec<(String, Node)>),
}

impl Value {
    /// What kind of value this is, for error messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Str(_) => "a string",
            Self::Num(_) => "a number",
            Self::Bool(_) => "a boolean",
            Self::Null => "null",
            Self::Array(_) => "an array",
            Self::Object(_) => "an object",
        }
    }
}

impl Node {
    /// The field `key` of an object node.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Follow a path of keys through nested objects.
    #[cfg_attr(not(feature = "config"), allow(dead_code))]
    pub(crate) fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |n, k| n.get(k))
    }

    /// Set the field `key` of an object node (replacing it where it is, appending it otherwise).
    #[cfg_attr(not(feature = "config"), allow(dead_code))]
    pub(crate) fn set(&mut self, key: &str, node: Node) {
        if let Value::Object(fields) = &mut self.value {
            match fields.iter_mut().find(|(k, _)| k == key) {
                Some((_, v)) => *v = node,
                None => fields.push((key.to_string(), node)),
            }
        }
    }

    /// Remove the field `key` of an object node.
    #[cfg_attr(not(feature = "config"), allow(dead_code))]
    pub(crate) fn remove(&mut self, key: &str) {
        if let Value::Object(fields) = &mut self.value {
            fields.retain(|(k, _)| k != key);
        }
    }

    /// The field names of an object node.
    #[cfg_attr(not(feature = "config"), allow(dead_code))]
    pub(crate) fn keys(&self) -> Vec<&str> {
        match &self.value {
            Value::Object(fields) => fields.iter().map(|(k, _)| k.as_str()).collect(),
            _ => Vec::new(),
        }
    }
}

/// A syntax error: the line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub(crate) line: usize,
    pub(crate) message: String,
}

type Result<T> = core::result::Result<T, ParseError>;

/// Characters that may not appear in an unquoted string or key (HOCON's list).
const FORBIDDEN: &[char] = &[
    '$', '"', '{', '}', '[', ']', ':', '=', ',', '+', '#', '`', '^', '?', '!', '@', '*', '&', '\\',
];

/// Parse a HOCON document into its root object.
pub(crate) fn parse(text: &str) -> Result<Node> {
    let mut p = Parser {
        chars: text.chars().collect(),
        pos: 0,
        line: 1,
    };
    p.skip_blank();
    let root = if p.peek() == Some('{') {
        let line = p.line;
        p.bump();
        let fields = p.object_body(true)?;
        p.skip_blank();
        if let Some(c) = p.peek() {
            return Err(p.err(format!(
                "unexpected '{}' after the closing '}}' of the root object",
                c.escape_debug()
            )));
        }
        Node {
            value: Value::Object(fields),
            line,
        }
    } else {
        Node {
            value: Value::Object(p.object_body(false)?),
            line: 1,
        }
    };
    Ok(root)
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    line: usize,
}

fn is_number(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    digits(int)
        && frac.is_none_or(digits)
        && exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)))
}

/// Insert `node` at `path` in `fields`, with HOCON's merge rule.
fn insert(fields: &mut Vec<(String, Node)>, path: &[String], node: Node) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let idx = match fields.iter().position(|(k, _)| k == first) {
        Some(i) => i,
        None => {
            fields.push((
                first.clone(),
                Node {
                    value: Value::Object(Vec::new()),
                    line: node.line,
                },
            ));
            fields.len() - 1
        }
    };
    let slot = &mut fields[idx].1;
    if rest.is_empty() {
        match (&mut slot.value, node.value) {
            (Value::Object(old), Value::Object(new)) => {
                for (k, v) in new {
                    insert(old, &[k], v);
                }
            }
            (_, value) => {
                *slot = Node {
                    value,
                    line: node.line,
                };
            }
        }
        return;
    }
    if !matches!(slot.value, Value::Object(_)) {
        *slot = Node {
            value: Value::Object(Vec::new()),
            line: node.line,
        };
    }
    if let Value::Object(inner) = &mut slot.value {
        insert(inner, rest, node);
    }
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn err(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            line: self.line,
            message: message.into(),
        }
    }

    fn at_comment(&self) -> bool {
        self.peek() == Some('#') || (self.peek() == Some('/') && self.peek_at(1) == Some('/'))
    }

    /// Skip spaces and tabs (not newlines).
    fn skip_inline(&mut self) {
        while matches!(self.peek(), Some(c) if c != '\n' && c.is_whitespace()) {
            self.bump();
        }
    }

    fn skip_comment(&mut self) {
        if self.at_comment() {
            while matches!(self.peek(), Some(c) if c != '\n') {
                self.bump();
            }
        }
    }

    /// Skip whitespace, newlines and comments.
    fn skip_blank(&mut self) {
        loop {
            self.skip_inline();
            if self.at_comment() {
                self.skip_comment();
            } else if self.peek() == Some('\n') {
                self.bump();
            } else {
                return;
            }
        }
    }

    /// Fields up to the closing `}` (when `braced`) or the end of the input.
    fn object_body(&mut self, braced: bool) -> Result<Vec<(String, Node)>> {
        let open_line = self.line;
        let mut fields = Vec::new();
        loop {
            self.skip_blank();
            match self.peek() {
                None if braced => {
                    return Err(ParseError {
                        line: open_line,
                        message: "this '{' is never closed".to_string(),
                    });
                }
                None => return Ok(fields),
                Some('}') if braced => {
                    self.bump();
                    return Ok(fields);
                }
                Some('}') => return Err(self.err("unexpected '}' with no matching '{'")),
                Some(',') => return Err(self.err("unexpected ',' (a field is missing)")),
                _ => {}
            }
            let path = self.key_path()?;
            self.skip_inline();
            let value = match self.peek() {
                Some('{') => self.value()?,
                Some('=' | ':') => {
                    self.bump();
                    self.skip_inline();
                    self.value()?
                }
                Some('+') if self.peek_at(1) == Some('=') => {
                    return Err(self.err("'+=' (append) is not supported"));
                }
                Some('"') if path.len() == 1 && path[0] == "include" => {
                    return Err(
                        self.err("'include' is not supported: put the settings in one file")
                    );
                }
                Some(c) if path.len() == 1 && path[0] == "include" && c.is_alphabetic() => {
                    return Err(
                        self.err("'include' is not supported: put the settings in one file")
                    );
                }
                Some(c) => {
                    return Err(self.err(format!(
                        "expected '=', ':' or '{{' after the key '{}', found '{}'",
                        path.join("."),
                        c.escape_debug()
                    )));
                }
                None => {
                    return Err(self.err(format!(
                        "the key '{}' has no value (the file ends)",
                        path.join(".")
                    )));
                }
            };
            insert(&mut fields, &path, value);
            // After a field: a separator, a comment, the closing brace or the end.
            self.skip_inline();
            self.skip_comment();
            match self.peek() {
                None | Some('\n') => {}
                Some(',') => {
                    self.bump();
                }
                Some('}') if braced => {}
                Some('}') => return Err(self.err("unexpected '}' with no matching '{'")),
                Some(c) => {
                    return Err(self.err(format!(
                        "unexpected '{}' after a value (value concatenation is not supported; quote the value)",
                        c.escape_debug()
                    )));
                }
            }
        }
    }

    fn key_path(&mut self) -> Result<Vec<String>> {
        let mut path = Vec::new();
        loop {
            let segment = if self.peek() == Some('"') {
                self.quoted()?
            } else {
                let mut s = String::new();
                while let Some(c) = self.peek() {
                    if c.is_whitespace() || c == '.' || FORBIDDEN.contains(&c) || self.at_comment()
                    {
                        break;
                    }
                    s.push(c);
                    self.bump();
                }
                if s.is_empty() {
                    return Err(match self.peek() {
                        Some('$') => self.err("substitutions (${...}) are not supported"),
                        Some(c) => {
                            self.err(format!("expected a key, found '{}'", c.escape_debug()))
                        }
                        None => self.err("expected a key"),
                    });
                }
                s
            };
            path.push(segment);
            if self.peek() == Some('.') {
                self.bump();
                continue;
            }
            return Ok(path);
        }
    }

    fn value(&mut self) -> Result<Node> {
        let line = self.line;
        let value = match self.peek() {
            Some('{') => {
                self.bump();
                Value::Object(self.object_body(true)?)
            }
            Some('[') => {
                self.bump();
                Value::Array(self.array(line)?)
            }
            Some('"') => Value::Str(self.quoted()?),
            Some('$') => return Err(self.err("substitutions (${...}) are not supported")),
            _ => self.unquoted()?,
        };
        Ok(Node { value, line })
    }

    fn array(&mut self, open_line: usize) -> Result<Vec<Node>> {
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            match self.peek() {
                None => {
                    return Err(ParseError {
                        line: open_line,
                        message: "this '[' is never closed".to_string(),
                    });
                }
                Some(']') => {
                    self.bump();
                    return Ok(items);
                }
                Some('{' | '[') => {
                    return Err(self.err("arrays of objects or arrays are not supported"));
                }
                Some(',') => {
                    return Err(self.err("unexpected ',' in an array (an element is missing)"));
                }
                _ => {}
            }
            items.push(self.value()?);
            self.skip_inline();
            self.skip_comment();
            match self.peek() {
                Some(',') => {
                    self.bump();
                }
                Some('\n' | ']') | None => {}
                Some(c) => {
                    return Err(self.err(format!("unexpected '{}' in an array", c.escape_debug())));
                }
            }
        }
    }

    fn quoted(&mut self) -> Result<String> {
        let line = self.line;
        if self.peek_at(1) == Some('"') && self.peek_at(2) == Some('"') {
            return Err(self.err("triple-quoted strings are not supported"));
        }
        self.bump();
        let mut s = String::new();
        loop {
            match self.bump() {
                None | Some('\n') => {
                    return Err(ParseError {
                        line,
                        message: "unterminated quoted string".to_string(),
                    });
                }
                Some('"') => return Ok(s),
                Some('\\') => {
                    let esc = self.bump();
                    match esc {
                        Some('"') => s.push('"'),
                        Some('\\') => s.push('\\'),
                        Some('/') => s.push('/'),
                        Some('b') => s.push('\u{8}'),
                        Some('f') => s.push('\u{c}'),
                        Some('n') => s.push('\n'),
                        Some('r') => s.push('\r'),
                        Some('t') => s.push('\t'),
                        Some('u') => {
                            let hex: String = (0..4).filter_map(|_| self.bump()).collect();
                            let c = u32::from_str_radix(&hex, 16)
                                .ok()
                                .filter(|_| hex.len() == 4)
                                .and_then(char::from_u32)
                                .ok_or_else(|| self.err("bad \\u escape in a quoted string"))?;
                            s.push(c);
                        }
                        _ => return Err(self.err("unknown escape in a quoted string")),
                    }
                }
                Some(c) => s.push(c),
            }
        }
    }

    fn unquoted(&mut self) -> Result<Value> {
        let mut s = String::new();
        while let Some(c) = self.peek() {
            if c == '\n' || c == ',' || c == '}' || c == ']' || self.at_comment() {
                break;
            }
            s.push(c);
            self.bump();
        }
        let s = s.trim_end().to_string();
        if s.is_empty() {
            return Err(self.err("a value is missing"));
        }
        if let Some(c) = s.chars().find(|c| FORBIDDEN.contains(c)) {
            let hint = match c {
                '$' => "substitutions (${...}) are not supported".to_string(),
                '"' => "value concatenation is not supported".to_string(),
                _ => format!(
                    "'{}' is not allowed in an unquoted value; put the value in double quotes",
                    c.escape_debug()
                ),
            };
            return Err(self.err(format!("in the value '{s}': {hint}")));
        }
        Ok(match s.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            _ if is_number(&s) => Value::Num(s),
            _ => Value::Str(s),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The HOCON blocks of spec/canton-compat.md §9, as the operator docs show them.
    const CANTON_DOCS: &str = r#"
canton.participants.participant1.crypto.kms {
  type = aws
  region = us-east-1
  multi-region-key = false # optional, default is false
  audit-logging = false    # optional, default is false
}
canton.participants.participant2.crypto.kms {
  type = gcp
  location-id = us-east1
  project-id = gcp-kms-testing
  key-ring-id = canton-test-keys-2023
}
canton.participants.participant1.crypto.provider = kms
canton.participants.participant1.crypto.kms {
  type = driver
  name = "aws-kms"
  config = {
    region = us-east-1
    multi-region-key = false
    audit-logging = true
  }
}
canton.participants.participant1.crypto.private-key-store.encryption.type = kms
canton.participants.participant1.crypto.private-key-store.encryption.wrapper-key-id = alias/canton-kms-test-key
canton.participants.participant1.crypto.private-key-store.encryption.reverted = true   # only to go back to clear
canton.participants.participant1.init.auto-init = false                                # for pre-generated KMS keys
"#;

    fn s(v: &str) -> Value {
        Value::Str(v.to_string())
    }

    fn at<'a>(root: &'a Node, path: &str) -> &'a Value {
        let keys: Vec<&str> = path.split('.').collect();
        &root
            .path(&keys)
            .unwrap_or_else(|| panic!("missing {path}"))
            .value
    }

    #[test]
    fn canton_operator_docs_examples() {
        let root = parse(CANTON_DOCS).expect("parses");
        let p1 = "canton.participants.participant1.crypto";
        // The second kms block for participant1 merges into the first (HOCON's rule).
        assert_eq!(at(&root, &format!("{p1}.kms.type")), &s("driver"));
        assert_eq!(at(&root, &format!("{p1}.kms.name")), &s("aws-kms"));
        assert_eq!(at(&root, &format!("{p1}.kms.region")), &s("us-east-1"));
        assert_eq!(
            at(&root, &format!("{p1}.kms.audit-logging")),
            &Value::Bool(false)
        );
        assert_eq!(
            at(&root, &format!("{p1}.kms.config.region")),
            &s("us-east-1")
        );
        assert_eq!(
            at(&root, &format!("{p1}.kms.config.multi-region-key")),
            &Value::Bool(false)
        );
        assert_eq!(
            at(&root, &format!("{p1}.kms.config.audit-logging")),
            &Value::Bool(true)
        );
        assert_eq!(at(&root, &format!("{p1}.provider")), &s("kms"));
        assert_eq!(
            at(&root, &format!("{p1}.private-key-store.encryption.type")),
            &s("kms")
        );
        assert_eq!(
            at(
                &root,
                &format!("{p1}.private-key-store.encryption.wrapper-key-id")
            ),
            &s("alias/canton-kms-test-key")
        );
        assert_eq!(
            at(
                &root,
                &format!("{p1}.private-key-store.encryption.reverted")
            ),
            &Value::Bool(true)
        );
        assert_eq!(
            at(&root, "canton.participants.participant1.init.auto-init"),
            &Value::Bool(false)
        );
        let p2 = "canton.participants.participant2.crypto.kms";
        assert_eq!(at(&root, &format!("{p2}.type")), &s("gcp"));
        assert_eq!(at(&root, &format!("{p2}.location-id")), &s("us-east1"));
        assert_eq!(
            at(&root, &format!("{p2}.project-id")),
            &s("gcp-kms-testing")
        );
        assert_eq!(
            at(&root, &format!("{p2}.key-ring-id")),
            &s("canton-test-keys-2023")
        );
        // Lines point at the value.
        let n = root
            .path(&[
                "canton",
                "participants",
                "participant1",
                "crypto",
                "private-key-store",
                "encryption",
                "wrapper-key-id",
            ])
            .expect("present");
        assert_eq!(n.line, 25);
        assert_eq!(
            root.path(&[
                "canton",
                "participants",
                "participant2",
                "crypto",
                "kms",
                "type"
            ])
            .expect("present")
            .line,
            9
        );
    }

    #[test]
    fn syntax_variants() {
        let text = r#"{
  // a comment
  a : 1, b = -2.5e3
  c { d = "x\ty\u0041" , e = [1, two, "three", true] }
  "dotted.key" = yes
  n = null
  arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  arr = [
    a
    b,
  ]
}"#;
        let root = parse(text).expect("parses");
        assert_eq!(at(&root, "a"), &Value::Num("1".into()));
        assert_eq!(at(&root, "b"), &Value::Num("-2.5e3".into()));
        assert_eq!(at(&root, "c.d"), &s("x\tyA"));
        let Value::Array(items) = at(&root, "c.e") else {
            panic!("array")
        };
        assert_eq!(items.len(), 4);
        assert_eq!(items[1].value, s("two"));
        assert_eq!(items[3].value, Value::Bool(true));
        assert_eq!(root.get("dotted.key").map(|n| &n.value), Some(&s("yes")));
        assert_eq!(at(&root, "n"), &Value::Null);
        let Value::Array(items) = at(&root, "arr") else {
            panic!("array")
        };
        assert_eq!(items.len(), 2);
        // Later scalars replace earlier ones; objects merge.
        let root = parse("a = 1\na = 2\nb { x = 1 }\nb { y = 2 }\nb.x = 3\n").expect("parses");
        assert_eq!(at(&root, "a"), &Value::Num("2".into()));
        assert_eq!(at(&root, "b.x"), &Value::Num("3".into()));
        assert_eq!(at(&root, "b.y"), &Value::Num("2".into()));
        // An empty document is an empty object.
        assert_eq!(parse("# nothing\n").expect("parses").keys().len(), 0);
    }

    #[test]
    fn unsupported_syntax_names_the_line() {
        let cases = [
            ("a = 1\nb = ${a}\n", 2, "substitutions"),
            ("a = 1\n\ninclude \"other.conf\"\n", 3, "include"),
            ("a = [1]\na += 2\n", 2, "+="),
            ("a = \"\"\"long\"\"\"\n", 1, "triple-quoted"),
            ("a = \"open\n", 1, "unterminated"),
            ("a {\n  b = 1\n", 1, "never closed"),
            ("a = [{ b = 1 }]\n", 1, "arrays of objects"),
            ("x = 1\nkey = arn:aws:kms:eu\n", 2, "double quotes"),
            ("a = \"x\" \"y\"\n", 1, "concatenation"),
            ("a = 1 }\n", 1, "no matching"),
            ("a\n", 1, "expected '=', ':' or '{'"),
            ("a =\n", 1, "missing"),
            ("a = \"\\q\"\n", 1, "unknown escape"),
        ];
        for (text, line, what) in cases {
            let e = parse(text).expect_err(text);
            assert_eq!(e.line, line, "{text:?}: {e:?}");
            assert!(e.message.contains(what), "{text:?}: {e:?}");
        }
    }

    #[test]
    fn numbers() {
        for n in ["0", "12", "-3", "1.5", "2e10", "-1.25E-3"] {
            assert!(is_number(n), "{n}");
        }
        for n in ["", "-", "1.", ".5", "1e", "12ab", "1234abcd-12ab"] {
            assert!(!is_number(n), "{n}");
        }
    }
}
