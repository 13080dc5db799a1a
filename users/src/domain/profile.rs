//! Profile fields: names and the avatar link.

/// Longest first or last name, in characters as sent.
pub const NAME_MAX_CHARS: usize = 100;

/// A first or last name: 1 to 100 characters as sent, at least one that is
/// not white space, no control characters; kept trimmed
/// (`common::input::label`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    /// Parse a name.
    pub fn parse(raw: &str) -> Result<PersonName, String> {
        common::input::label(raw, NAME_MAX_CHARS).map(PersonName)
    }

    /// The name.
    pub fn into_inner(self) -> String {
        self.0
    }

    /// The OpenAPI schema of `first_name` (registration and profile).
    pub fn first_name_schema() -> utoipa::openapi::schema::Object {
        Self::schema("Given name", "Ada")
    }

    /// The OpenAPI schema of `last_name` (registration and profile).
    pub fn last_name_schema() -> utoipa::openapi::schema::Object {
        Self::schema("Family name", "Lovelace")
    }

    fn schema(what: &str, example: &str) -> utoipa::openapi::schema::Object {
        common::input::label_schema(NAME_MAX_CHARS, true)
            .description(Some(format!(
                "{what}: 1-100 characters with at least one that is not white space, no control characters (stored trimmed); null: none (in a profile change: clears it)."
            )))
            .examples([example])
            .build()
    }
}

/// An absolute `http` or `https` link of at most 2048 printable ASCII
/// characters, with a host (`common::input::web_url`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvatarUrl(String);

impl AvatarUrl {
    /// Parse a link.
    pub fn parse(raw: &str) -> Result<AvatarUrl, String> {
        common::input::web_url(raw).map(AvatarUrl)
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
        assert!(PersonName::parse("").is_err());
        assert!(
            PersonName::parse("\tAda").is_err(),
            "control characters anywhere"
        );
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
