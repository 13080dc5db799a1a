//! A syntactically valid email address, normalised so one address has one
//! stored form: the database compares that form byte for byte, never with
//! SQL `lower()` (ASCII-only on SQLite, Unicode-aware on PostgreSQL).

use std::fmt;

use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};
use unicode_normalization::UnicodeNormalization;

/// Longest stored address, in characters (RFC 5321's path limit).
const MAX_CHARS: usize = 254;
/// Longest local part, in bytes (RFC 5321).
const MAX_LOCAL_BYTES: usize = 64;
/// Longer input is refused before any normalisation work is spent on it.
const MAX_INPUT_CHARS: usize = 1024;

/// An email address in its normalised form: trimmed, NFKC, lower-cased
/// (Unicode), and the domain mapped by IDNA (UTS 46) and kept in its
/// Unicode form (`exämple.com`, whether `Exa\u{308}mple.com` or
/// `xn--exmple-cua.com` was sent). At most 254 characters,
/// `local@domain` with a dotted domain name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Parse and normalise `raw`; the error says what is wrong.
    pub fn parse(raw: &str) -> Result<Email, String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err("must not be empty".to_string());
        }
        if trimmed.chars().count() > MAX_INPUT_CHARS {
            return Err("must be at most 254 characters".to_string());
        }
        let text = fold(trimmed);
        let Some((local, domain)) = text.rsplit_once('@') else {
            return Err("is not an email address (missing @)".to_string());
        };
        if !is_local_part(local) {
            return Err("is not an email address (invalid part before @)".to_string());
        }
        let Some(domain) = normalise_domain(domain) else {
            return Err("is not an email address (invalid domain)".to_string());
        };
        let email = format!("{local}@{domain}");
        if email.chars().count() > MAX_CHARS {
            return Err("must be at most 254 characters".to_string());
        }
        Ok(Email(email))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Text folded for comparison: NFKC and Unicode lower case, repeated until
/// stable (lower-casing can leave text NFKC would still change), so folding
/// folded text changes nothing.
pub fn fold(text: &str) -> String {
    let mut current: String = text.nfkc().collect();
    for _ in 0..4 {
        let next: String = current.to_lowercase().nfkc().collect();
        if next == current {
            break;
        }
        current = next;
    }
    current
}

fn is_local_part(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= MAX_LOCAL_BYTES
        && local.chars().all(is_local_char)
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
}

fn is_local_char(c: char) -> bool {
    c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c)
}

/// The domain in its Unicode form after UTS 46 (STD3 rules: letters,
/// digits and inner hyphens), or `None` when it is not a host name.
fn normalise_domain(domain: &str) -> Option<String> {
    let uts46 = Uts46::new();
    let ascii = uts46
        .to_ascii(
            domain.as_bytes(),
            AsciiDenyList::STD3,
            Hyphens::CheckFirstLast,
            DnsLength::Verify,
        )
        .ok()?;
    if !is_host_name(&ascii) {
        return None;
    }
    let (unicode, result) = uts46.to_unicode(
        ascii.as_bytes(),
        AsciiDenyList::STD3,
        Hyphens::CheckFirstLast,
    );
    result.ok()?;
    Some(unicode.into_owned())
}

/// At least two labels of ASCII letters, digits and inner hyphens, and a
/// top-level label that is not a number (so `1.2.3.4` is not a domain).
fn is_host_name(ascii: &str) -> bool {
    let labels: Vec<&str> = ascii.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| common::host::is_dns_label(label))
        && labels
            .last()
            .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()))
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
    fn unicode_forms_case_and_idna_give_one_address() {
        for variant in [
            "Ünïcode@Exämple.com",
            "U\u{308}ni\u{308}code@Exa\u{308}mple.com",
            "ÜNÏCODE@EXÄMPLE.COM",
            "ünïcode@xn--exmple-cua.com",
            "Ünïcode@XN--EXMPLE-CUA.COM",
            "Ünïcode@Exämple.ｃｏｍ",
            "Ünïcode＠Exämple.com",
        ] {
            let e = Email::parse(variant).expect(variant);
            assert_eq!(e.as_str(), "ünïcode@exämple.com", "{variant}");
        }
    }

    #[test]
    fn folding_goes_beyond_ascii() {
        assert_eq!(fold("ÉMILE"), "émile");
        assert_eq!(fold("ＡＢＣ"), "abc");
        assert_eq!(fold("Ⅻ"), "xii");
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
            "a@b-.com",
            "a@b..com",
            "a@b_c.com",
            "a@xn--zz.com",
            ".a@b.com",
            "a@1.2.3.4",
            "a@example.com.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
        assert!(Email::parse(&format!("a@{}.com", "b".repeat(64))).is_err());
        assert!(Email::parse(&"a".repeat(5000)).is_err());
    }
}
