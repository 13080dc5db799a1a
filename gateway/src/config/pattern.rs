//! Regular expressions of the route table (regex locations, `rewrite`,
//! regex server names), compiled once at validation: the `regex` crate,
//! linear in the input, so PCRE's backreferences and look-around are
//! refused with a message saying why.

use regex::Regex;
use serde::Serialize;

/// A compiled pattern, compared and shown as written.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    text: String,
    case_insensitive: bool,
    regex: Regex,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text && self.case_insensitive == other.case_insensitive
    }
}

impl Eq for Pattern {}

impl Serialize for Pattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl Pattern {
    /// Compile `text` (PCRE-like syntax as NGINX writes it).
    pub(crate) fn parse(text: &str, case_insensitive: bool) -> Result<Pattern, String> {
        let source = if case_insensitive {
            format!("(?i){text}")
        } else {
            text.to_string()
        };
        let regex = regex::RegexBuilder::new(&source)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| explain(text, &e))?;
        Ok(Pattern {
            text: text.to_string(),
            case_insensitive,
            regex,
        })
    }

    /// The compiled expression.
    pub(crate) fn regex(&self) -> &Regex {
        &self.regex
    }

    /// The names of its named groups.
    pub(crate) fn group_names(&self) -> impl Iterator<Item = &str> {
        self.regex.capture_names().flatten()
    }
}

/// The refusal for a pattern that does not compile, naming what PCRE
/// accepts and the gateway does not.
fn explain(text: &str, e: &regex::Error) -> String {
    let message = e.to_string();
    let why = if message.contains("backreference") {
        "backreferences (`\\1`) are not supported: the gateway's regular expressions run in linear time (the `regex` crate)"
    } else if message.contains("look-around") {
        "look-around (`(?=`, `(?!`, `(?<=`, `(?<!`) is not supported: the gateway's regular expressions run in linear time (the `regex` crate)"
    } else {
        "not a valid regular expression"
    };
    let detail = message
        .lines()
        .rfind(|l| l.starts_with("error:"))
        .unwrap_or("")
        .trim_start_matches("error:")
        .trim();
    format!("`{text}`: {why} ({detail})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backreferences_and_look_around_are_refused_with_the_reason() {
        let e = Pattern::parse(r"^/(a)\1$", false).expect_err("backreference");
        assert!(e.contains("backreferences"), "{e}");
        let e = Pattern::parse(r"^/(?!admin)", false).expect_err("look-ahead");
        assert!(e.contains("look-around"), "{e}");
        let e = Pattern::parse(r"^/(", false).expect_err("unclosed");
        assert!(e.contains("not a valid regular expression"), "{e}");
    }

    #[test]
    fn case_insensitive_patterns_and_named_groups() {
        let p = Pattern::parse(r"\.(?<ext>png|jpg)$", true).expect("valid");
        assert!(p.regex().is_match("/a/B.PNG"));
        assert_eq!(p.group_names().collect::<Vec<_>>(), ["ext"]);
        assert_eq!(
            p,
            Pattern::parse(r"\.(?<ext>png|jpg)$", true).expect("valid")
        );
        assert_ne!(
            p,
            Pattern::parse(r"\.(?<ext>png|jpg)$", false).expect("valid")
        );
    }
}
