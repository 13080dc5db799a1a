//! Field rules both services apply to request input, each paired with the
//! OpenAPI schema that states it exactly.
//!
//! The documents promise what is accepted: a client (or a fuzzer such as
//! schemathesis) that follows the schema is never refused for the shape of
//! a field, and one that breaks it always is. So each rule here is written
//! once, in terms a JSON Schema can say (lengths counted in characters as
//! sent, a character class, a pattern), and its schema is built next to it
//! from the same constants. `tests` checks the two against each other.

use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

/// A character that is neither a control character (Unicode `Cc`, what
/// [`char::is_control`] tests) nor white space ([`char::is_whitespace`]),
/// as a regular-expression class; the same in ECMA-262, Python and Rust
/// syntax.
const VISIBLE: &str =
    r"[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
/// Any character but a control character.
const NOT_CONTROL: &str = r"[^\u0000-\u001f\u007f-\u009f]";

/// The pattern of a label: no control character, at least one visible one.
pub fn label_pattern() -> String {
    format!("^{NOT_CONTROL}*{VISIBLE}{NOT_CONTROL}*$")
}

/// A short label (a name, a title, a category): 1 to `max` characters as
/// sent, no control characters, at least one character that is not white
/// space. Returned trimmed.
pub fn label(raw: &str, max: usize) -> Result<String, String> {
    if raw.is_empty() || raw.chars().count() > max {
        return Err(format!("must be 1 to {max} characters"));
    }
    if raw.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err("must contain a character other than white space".into());
    }
    Ok(trimmed.to_string())
}

/// The schema of [`label`] with at most `max` characters.
pub fn label_schema(max: usize, nullable: bool) -> ObjectBuilder {
    string(nullable)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(label_pattern()))
}

/// Longest accepted web link, in characters (all ASCII).
pub const WEB_URL_MAX: usize = 2048;

/// The pattern of [`web_url`]: `http://` or `https://`, then printable
/// ASCII only, the first character starting a host (not `/`, `?` or `#`).
pub const WEB_URL_PATTERN: &str = r##"^https?://[!-"$-.0->@-~][!-~]*$"##;

/// An absolute `http` or `https` link of at most [`WEB_URL_MAX`] characters,
/// printable ASCII only (a link with other characters is sent
/// percent-encoded), with a host. Returned as sent.
pub fn web_url(raw: &str) -> Result<String, String> {
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"));
    match rest {
        Some(rest)
            if raw.len() <= WEB_URL_MAX
                && rest.starts_with(|c: char| c.is_ascii_graphic() && !"/?#".contains(c))
                && raw.chars().all(|c| c.is_ascii_graphic()) =>
        {
            Ok(raw.to_string())
        }
        _ => Err(format!(
            "must be an absolute http:// or https:// URL with a host, printable ASCII, at most {WEB_URL_MAX} characters"
        )),
    }
}

/// The schema of [`web_url`].
pub fn web_url_schema(nullable: bool) -> ObjectBuilder {
    string(nullable)
        .max_length(Some(WEB_URL_MAX))
        .pattern(Some(WEB_URL_PATTERN))
}

/// The schema of a `per_page` query parameter that is clamped to a cap: any
/// whole number from 1, however large, is accepted (larger ones are served
/// as the cap), so the schema has a minimum and no maximum or format.
pub fn clamped_page_size_schema(default: u64, cap: u64) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1))
        .default(Some(default.into()))
        .description(Some(format!(
            "Page size from 1 (default {default}); any larger number is served as {cap}."
        )))
        .build()
}

/// The schema of a `page` query parameter: a whole number from 1 to
/// 4294967295 (`u32`), without a format (a format would add its own bound).
pub fn page_number_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1))
        .maximum(Some(u32::MAX))
        .default(Some(1.into()))
        .description(Some("Page number from 1 (default 1)."))
        .build()
}

/// A string schema, with `null` allowed when `nullable`.
pub fn string(nullable: bool) -> ObjectBuilder {
    if nullable {
        ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]))
    } else {
        ObjectBuilder::new().schema_type(Type::String)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema's pattern, evaluated by hand for one character class: a
    /// character is "visible" when it is outside every excluded range.
    fn in_class(class: &str, c: char) -> bool {
        let inner = class.trim_start_matches("[^").trim_end_matches(']');
        let mut ranges = Vec::new();
        let mut rest = inner;
        while let Some(r) = rest.strip_prefix(r"\u") {
            let (lo, after) = r.split_at(4);
            let lo = u32::from_str_radix(lo, 16).expect("hex");
            match after.strip_prefix(r"-\u") {
                Some(r2) => {
                    let (hi, after2) = r2.split_at(4);
                    ranges.push((lo, u32::from_str_radix(hi, 16).expect("hex")));
                    rest = after2;
                }
                None => {
                    ranges.push((lo, lo));
                    rest = after;
                }
            }
        }
        assert!(rest.is_empty(), "unparsed class rest {rest:?}");
        !ranges
            .iter()
            .any(|&(lo, hi)| (lo..=hi).contains(&u32::from(c)))
    }

    #[test]
    fn the_character_classes_are_the_rust_predicates() {
        for c in (0..=0x3100u32).filter_map(char::from_u32) {
            assert_eq!(in_class(NOT_CONTROL, c), !c.is_control(), "{c:?}");
            assert_eq!(
                in_class(VISIBLE, c),
                !c.is_control() && !c.is_whitespace(),
                "{c:?}"
            );
        }
        // White space and control characters all live below U+3100.
        for c in ['\u{fffd}', '\u{1f600}', '\u{feff}'] {
            assert!(in_class(VISIBLE, c) && !c.is_whitespace() && !c.is_control());
        }
    }

    #[test]
    fn labels_count_as_sent_and_need_a_visible_character() {
        assert_eq!(label("  Ada ", 100), Ok("Ada".to_string()));
        assert_eq!(label("Ada", 3), Ok("Ada".to_string()));
        assert!(label("Adam", 3).is_err());
        assert!(label(" Ad", 2).is_err(), "length counts the spaces sent");
        assert!(label("", 5).is_err());
        assert!(label(" \u{3000}\u{a0}", 5).is_err());
        assert!(label("a\tb", 5).is_err());
        assert!(label("\nab", 5).is_err(), "control characters anywhere");
        assert!(label("a\u{85}", 5).is_err());
        assert_eq!(label("\u{feff}", 5), Ok("\u{feff}".to_string()));
        assert_eq!(label("é", 1), Ok("é".to_string()));
    }

    #[test]
    fn web_urls_are_printable_ascii_with_a_host() {
        assert!(web_url("https://cdn.example.com/a.png?x=1#y").is_ok());
        assert!(web_url("http://a").is_ok());
        for bad in [
            "https://",
            "https:///path",
            "https://?q",
            "https://#f",
            "ftp://a",
            "HTTPS://a",
            " https://a",
            "https://a b",
            "https://é.example",
            "javascript:alert(1)",
        ] {
            assert!(web_url(bad).is_err(), "{bad}");
        }
        let long = format!("https://a/{}", "x".repeat(WEB_URL_MAX - 10));
        assert_eq!(long.len(), WEB_URL_MAX);
        assert!(web_url(&long).is_ok());
        assert!(web_url(&format!("{long}x")).is_err());
    }

    #[test]
    fn the_url_pattern_excludes_exactly_slash_query_and_fragment_as_host_start() {
        // `[!-"$-.0->@-~]`: printable ASCII minus `#`, `/` and `?`.
        let class: Vec<char> = ('!'..='"')
            .chain('$'..='.')
            .chain('0'..='>')
            .chain('@'..='~')
            .collect();
        let expected: Vec<char> = ('!'..='~').filter(|c| !"/?#".contains(*c)).collect();
        assert_eq!(class, expected);
        assert!(WEB_URL_PATTERN.contains(r#"[!-"$-.0->@-~]"#));
    }

    #[test]
    fn schemas_carry_the_rules() {
        let label = serde_json::to_value(label_schema(100, true).build()).expect("json");
        assert_eq!(label["maxLength"], 100);
        assert_eq!(label["minLength"], 1);
        assert_eq!(label["pattern"], label_pattern());
        assert_eq!(label["type"], serde_json::json!(["string", "null"]));
        let url = serde_json::to_value(web_url_schema(false).build()).expect("json");
        assert_eq!(url["pattern"], WEB_URL_PATTERN);
        assert_eq!(url["type"], "string");
        let size = serde_json::to_value(clamped_page_size_schema(20, 100)).expect("json");
        assert_eq!(size["minimum"], 1);
        assert!(size.get("maximum").is_none() && size.get("format").is_none());
    }
}
