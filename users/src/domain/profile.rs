//! Profile fields: names and the avatar link.

/// A first or last name: trimmed, 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    /// Parse a name.
    pub fn parse(raw: &str) -> Result<PersonName, String> {
        let text = raw.trim();
        if text.is_empty() {
            return Err("must not be empty (send null to clear it)".to_string());
        }
        if text.chars().count() > 100 {
            return Err("must be at most 100 characters".to_string());
        }
        if text.chars().any(char::is_control) {
            return Err("must not contain control characters".to_string());
        }
        Ok(PersonName(text.to_string()))
    }

    /// The name.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An `http` or `https` URL of at most 2048 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvatarUrl(String);

impl AvatarUrl {
    /// Parse a link.
    pub fn parse(raw: &str) -> Result<AvatarUrl, String> {
        let text = raw.trim();
        if text.len() > 2048 {
            return Err("must be at most 2048 characters".to_string());
        }
        let rest = text
            .strip_prefix("https://")
            .or_else(|| text.strip_prefix("http://"))
            .ok_or_else(|| "must be an http:// or https:// URL".to_string())?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        if host.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must be an http:// or https:// URL with a host".to_string());
        }
        Ok(AvatarUrl(text.to_string()))
    }

    /// The link.
    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            PersonName::parse("  Ada ").map(PersonName::into_inner),
            Ok("Ada".to_string())
        );
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"x".repeat(101)).is_err());
        assert!(PersonName::parse("a\u{0}b").is_err());
    }

    #[test]
    fn avatars_must_be_web_links() {
        assert!(AvatarUrl::parse("https://cdn.example.com/a.png").is_ok());
        assert!(AvatarUrl::parse("javascript:alert(1)").is_err());
        assert!(AvatarUrl::parse("https://").is_err());
        assert!(AvatarUrl::parse("http://a b").is_err());
    }
}
