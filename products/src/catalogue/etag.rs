//! Entity tags and `If-Match` (RFC 9110 §8.8.3, §13.1.1).

use http::{HeaderMap, HeaderValue, header};

use super::entity;

/// The strong entity tag of a product's current representation. The
/// version changes with every change (stock included); the id keeps tags of
/// different products apart.
pub fn etag(model: &entity::Model) -> String {
    format!("\"{}-{}\"", model.id, model.version)
}

/// The `ETag` header value of a product.
pub fn header_value(model: &entity::Model) -> HeaderValue {
    // Digits, a dash and quotes are always a valid header value.
    HeaderValue::from_str(&etag(model)).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// Whether `If-None-Match` names `current` (or is `*`): weak comparison
/// (RFC 9110 §13.1.2), so `W/"x"` and `"x"` match each other.
pub fn none_match(headers: &HeaderMap, current: &str) -> bool {
    let current = current.trim_start_matches("W/");
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/") == current)
}

/// The request's `If-Match` condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// No `If-Match`: unconditional.
    Absent,
    /// `If-Match: *`: any current representation.
    Any,
    /// The listed tags (weak ones can never match: strong comparison).
    Tags(Vec<String>),
}

impl IfMatch {
    /// Read `If-Match` from the request headers (all its lines).
    pub fn from_headers(headers: &HeaderMap) -> IfMatch {
        let mut tags = Vec::new();
        let mut seen = false;
        for value in headers.get_all(header::IF_MATCH) {
            seen = true;
            let Ok(text) = value.to_str() else { continue };
            for tag in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                if tag == "*" {
                    return IfMatch::Any;
                }
                tags.push(tag.to_string());
            }
        }
        if seen {
            IfMatch::Tags(tags)
        } else {
            IfMatch::Absent
        }
    }

    /// Whether a change to `current` may go ahead.
    pub fn allows(&self, current: &entity::Model) -> bool {
        match self {
            IfMatch::Absent | IfMatch::Any => true,
            IfMatch::Tags(tags) => {
                let current = etag(current);
                tags.contains(&current)
            }
        }
    }

    /// Whether the change must also be conditional on the version read.
    pub fn is_conditional(&self) -> bool {
        matches!(self, IfMatch::Tags(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(id: i64, version: i64) -> entity::Model {
        let now = time::OffsetDateTime::UNIX_EPOCH;
        entity::Model {
            id,
            title: "t".into(),
            slug: "t".into(),
            description: String::new(),
            price_minor: 0,
            currency: "USD".into(),
            stock_qty: 0,
            category: "c".into(),
            brand: None,
            image_url: None,
            version,
            created_at: now,
            updated_at: now,
        }
    }

    fn if_match(value: &str) -> IfMatch {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_MATCH,
            HeaderValue::from_str(value).expect("value"),
        );
        IfMatch::from_headers(&headers)
    }

    #[test]
    fn matches_the_current_tag_only() {
        assert!(if_match("\"7-3\"").allows(&model(7, 3)));
        assert!(!if_match("\"7-2\"").allows(&model(7, 3)));
        assert!(!if_match("\"8-3\"").allows(&model(7, 3)));
        assert!(if_match("\"7-1\", \"7-3\"").allows(&model(7, 3)));
    }

    #[test]
    fn weak_tags_never_match_and_star_always_does() {
        assert!(!if_match("W/\"7-3\"").allows(&model(7, 3)));
        assert!(if_match("*").allows(&model(7, 3)));
        assert!(IfMatch::from_headers(&HeaderMap::new()).allows(&model(7, 3)));
    }
}
