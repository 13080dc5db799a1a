//! The route table as TOML text, with comments where the importer has
//! something to say (the `toml` crate writes no comments).

use std::fmt::Write;

/// A TOML value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// An array.
    Array(Vec<Value>),
    /// An inline table.
    Inline(Vec<(String, Value)>),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}

/// One `[table]` (or the top level when `header` is empty).
#[derive(Debug, Clone, Default)]
pub struct Section {
    /// `[listen]`, `[[routes]]`, ...; empty for the top level.
    pub header: String,
    /// Comment lines above the header.
    pub comments: Vec<String>,
    /// `key = value`, each with an optional trailing comment.
    pub entries: Vec<(String, Value, Option<String>)>,
}

impl Section {
    /// A section with this header.
    pub fn new(header: impl Into<String>) -> Self {
        Section {
            header: header.into(),
            ..Section::default()
        }
    }

    /// Set `key = value` (a later value replaces an earlier one).
    pub fn set(&mut self, key: &str, value: impl Into<Value>) {
        self.put(key, value.into(), None);
    }

    /// Set `key = value  # note`.
    pub fn set_noted(&mut self, key: &str, value: impl Into<Value>, note: impl Into<String>) {
        self.put(key, value.into(), Some(note.into()));
    }

    fn put(&mut self, key: &str, value: Value, note: Option<String>) {
        match self.entries.iter_mut().find(|(k, _, _)| k == key) {
            Some(entry) => *entry = (key.to_string(), value, note),
            None => self.entries.push((key.to_string(), value, note)),
        }
    }

    /// Whether nothing would be written but the header.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.comments.is_empty()
    }
}

/// Write `sections` as a TOML document; empty named sections are left out.
pub fn render(sections: &[Section]) -> String {
    let mut out = String::new();
    for s in sections {
        if !s.header.is_empty() && s.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        for c in &s.comments {
            for line in c.lines() {
                let _ = writeln!(out, "# {}", comment_text(line));
            }
        }
        if !s.header.is_empty() {
            let _ = writeln!(out, "{}", s.header);
        }
        for (k, v, note) in &s.entries {
            let _ = write!(out, "{} = {}", key(k), value(v));
            if let Some(n) = note {
                let _ = write!(out, "  # {}", comment_text(n));
            }
            out.push('\n');
        }
    }
    out
}

/// Text a TOML comment may hold: control characters (but tab) escaped.
fn comment_text(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A key, bare when it can be.
pub fn key(k: &str) -> String {
    if !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        k.to_string()
    } else {
        string(k)
    }
}

/// A basic string, escaped.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn value(v: &Value) -> String {
    match v {
        Value::Str(s) => string(s),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(value).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Inline(pairs) => {
            let inner: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{} = {}", key(k), value(v)))
                .collect();
            format!("{{ {} }}", inner.join(", "))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn documents_parse_back_with_the_same_values() {
        let mut top = Section::new("");
        top.comments.push("made by a test".into());
        top.comments.push("with\ra\u{7f}control".into());
        top.set("trusted_proxies", Value::Array(vec!["10.0.0.0/8".into()]));
        let mut s = Section::new("[upstreams.\"a b\"]");
        s.set_noted(
            "endpoints",
            Value::Array(vec!["http://a:1".into()]),
            "from\nline 3",
        );
        let mut h = Section::new("[routes.headers]");
        h.set(
            "request_set",
            Value::Inline(vec![("X-A".into(), "q\"u\\o\u{1}te".into())]),
        );
        let text = render(&[top, s, h, Section::new("[empty]")]);
        let parsed: toml::Value = toml::from_str(&text).unwrap();
        assert_eq!(
            parsed["upstreams"]["a b"]["endpoints"][0].as_str(),
            Some("http://a:1")
        );
        assert_eq!(
            parsed["routes"]["headers"]["request_set"]["X-A"].as_str(),
            Some("q\"u\\o\u{1}te")
        );
        assert!(!text.contains("[empty]"));
        assert!(text.starts_with("# made by a test\n"));
    }
}
