//! A syntactically valid email address, normalised for comparison.

use std::fmt;

/// An email address: trimmed and lower-cased (addresses are compared
/// case-insensitively), at most 254 characters, `local@domain` with a
/// dotted domain name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Parse and normalise `raw`; the error says what is wrong.
    pub fn parse(raw: &str) -> Result<Email, String> {
        let text = raw.trim().to_lowercase();
        if text.is_empty() {
            return Err("must not be empty".to_string());
        }
        if text.chars().count() > 254 {
            return Err("must be at most 254 characters".to_string());
        }
        let Some((local, domain)) = text.rsplit_once('@') else {
            return Err("is not an email address (missing @)".to_string());
        };
        if local.is_empty() || local.len() > 64 || !local.chars().all(is_local_char) {
            return Err("is not an email address (invalid part before @)".to_string());
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err("is not an email address (invalid part before @)".to_string());
        }
        if !is_domain(domain) {
            return Err("is not an email address (invalid domain)".to_string());
        }
        Ok(Email(text))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_local_char(c: char) -> bool {
    c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c)
}

fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()))
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_addresses_are_normalised() {
        let e = Email::parse("  Ada.Lovelace+shop@Example.COM ").expect("valid");
        assert_eq!(e.as_str(), "ada.lovelace+shop@example.com");
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@-b.com",
            "a@b..com",
            ".a@b.com",
            "a@1.2.3.4",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
    }
}
