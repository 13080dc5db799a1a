//! What the gateway tells a service about the original request.
//!
//! The gateway sets `X-Forwarded-Prefix` to the prefix it stripped
//! (`/users`), so links the services build (`Location`, the OpenAPI server
//! URL) work for the client. The gateway discards the header from untrusted
//! clients, and the value is still checked here before use.

use axum::extract::FromRequestParts;
use http::HeaderMap;
use http::request::Parts;

/// The header carrying the stripped prefix.
pub const X_FORWARDED_PREFIX: &str = "x-forwarded-prefix";

/// The request's forwarded prefix: `""` when absent or unusable, else a
/// path starting with `/` and without a trailing `/` (e.g. `/users`).
pub fn prefix(headers: &HeaderMap) -> String {
    headers
        .get(X_FORWARDED_PREFIX)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|p| is_safe_prefix(p))
        .map(|p| p.trim_end_matches('/').to_string())
        .unwrap_or_default()
}

fn is_safe_prefix(p: &str) -> bool {
    p.starts_with('/')
        && p.len() <= 256
        && !p.contains("//")
        && p.split('/').all(|seg| seg != "." && seg != "..")
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~/".contains(&b))
}

/// Extractor for the forwarded prefix (never fails).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForwardedPrefix(pub String);

impl ForwardedPrefix {
    /// `path` (starting with `/`) as the client must request it.
    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.0, path)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ForwardedPrefix {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ForwardedPrefix(prefix(&parts.headers)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(X_FORWARDED_PREFIX, value.parse().expect("header"));
        h
    }

    #[test]
    fn plain_prefix_is_used_without_trailing_slash() {
        assert_eq!(prefix(&with("/products/")), "/products");
        assert_eq!(prefix(&with("/api/users")), "/api/users");
    }

    #[test]
    fn unsafe_prefixes_are_ignored() {
        for bad in [
            "products",
            "/a/../b",
            "//evil.example",
            "/x\"><script>",
            "/a b",
        ] {
            assert_eq!(prefix(&with(bad)), "", "{bad}");
        }
        assert_eq!(prefix(&HeaderMap::new()), "");
    }
}
