//! The limits of the product request fields and their OpenAPI schemas,
//! stated once for the parsers in [`super::input`] and the document (see
//! `common::input`), so the document says exactly what is accepted.

use common::input::{label_schema, string, web_url_schema};
use utoipa::openapi::schema::{Object, ObjectBuilder, Schema};

use crate::domain::{Currency, price, slug};

/// Longest title, in characters as sent.
pub(super) const TITLE_MAX: usize = 200;
/// Longest description, in characters.
pub(super) const DESCRIPTION_MAX: usize = 10_000;
/// Longest category or brand, in characters as sent.
pub(super) const NAME_MAX: usize = 100;

fn titled(builder: ObjectBuilder, description: &str, example: &str) -> Object {
    builder
        .description(Some(description))
        .examples([example])
        .build()
}

/// `title`: a label of 1-200 characters.
pub(super) fn title() -> Object {
    titled(
        label_schema(TITLE_MAX, false),
        "1-200 characters with at least one that is not white space, no control characters; stored trimmed.",
        "Blue Widget X",
    )
}

/// `slug` of a new product: derived from the title when absent or null.
pub(super) fn new_slug() -> Object {
    titled(
        slug_schema(true),
        "a-z and 0-9 in words joined by single hyphens, at most 200 characters; unique. Absent or null: derived from the title (`product` when the title has no Latin letter or digit).",
        "blue-widget-x",
    )
}

/// `slug` of a change.
pub(super) fn slug() -> Object {
    titled(
        slug_schema(false),
        "a-z and 0-9 in words joined by single hyphens, at most 200 characters; unique.",
        "blue-widget-x",
    )
}

fn slug_schema(nullable: bool) -> ObjectBuilder {
    string(nullable)
        .min_length(Some(1))
        .max_length(Some(slug::MAX_LEN))
        .pattern(Some(slug::PATTERN))
}

/// `description` of a new product (null: empty).
pub(super) fn new_description() -> Object {
    string(true)
        .max_length(Some(DESCRIPTION_MAX))
        .description(Some("Up to 10,000 characters (absent or null: empty)."))
        .build()
}

/// `description` of a change.
pub(super) fn description() -> Object {
    string(false)
        .max_length(Some(DESCRIPTION_MAX))
        .description(Some("Up to 10,000 characters."))
        .build()
}

/// `price`: a decimal string or number.
pub(super) fn price() -> Schema {
    price::input_schema(
        "From 0 to 99999999.99 with at most 2 decimals: a string such as \"19.99\" (preferred) or a JSON number, read from its own text.",
    )
}

/// `currency` of a new product (absent or null: USD).
pub(super) fn new_currency() -> Object {
    Currency::schema(true)
        .description(Some("Active ISO 4217 code (absent or null: USD)."))
        .build()
}

/// `currency` of a change.
pub(super) fn currency() -> Object {
    Currency::schema(false)
        .description(Some("Active ISO 4217 code."))
        .build()
}

/// `category`: a label of 1-100 characters.
pub(super) fn category() -> Object {
    titled(
        label_schema(NAME_MAX, false),
        "1-100 characters with at least one that is not white space, no control characters; stored trimmed.",
        "Electronics",
    )
}

/// `brand`: a label of 1-100 characters, or null for none.
pub(super) fn brand() -> Object {
    titled(
        label_schema(NAME_MAX, true),
        "1-100 characters with at least one that is not white space, no control characters; stored trimmed. null: no brand.",
        "Acme",
    )
}

/// `image_url`: a web link, or null for none.
pub(super) fn image_url() -> Object {
    titled(
        web_url_schema(true),
        "Absolute http:// or https:// URL with a host, printable ASCII (percent-encode the rest), at most 2048 characters. null: no picture.",
        "https://cdn.example.com/blue-widget-x.png",
    )
}
