//! `[routes.proxy_redirect]`: NGINX's `proxy_redirect`, the upstream's own
//! URLs in `Location` and `Refresh` rewritten to the public ones.

use serde::{Deserialize, Serialize};

use super::error::{Checker, ConfigError};

/// `[routes.proxy_redirect]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProxyRedirectSection {
    /// Rewrite `http://<endpoint>/` to the route's public prefix (default
    /// true, NGINX's `proxy_redirect default`).
    pub(crate) default: Option<bool>,
    /// Explicit pairs, tried first, in order.
    #[serde(default)]
    pub(crate) rewrite: Vec<RedirectPair>,
}

/// One `proxy_redirect FROM TO;`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RedirectPair {
    /// The start of the upstream's URL.
    pub(crate) from: String,
    /// What replaces it.
    pub(crate) to: String,
}

/// The validated setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ProxyRedirect {
    /// The default rewrite is on.
    pub(crate) default: bool,
    /// Explicit pairs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) rewrite: Vec<RedirectPair>,
}

/// Validate `proxy_redirect` of route `key`.
pub(super) fn validate(
    c: &Checker<'_>,
    key: &str,
    section: Option<&ProxyRedirectSection>,
) -> Result<ProxyRedirect, ConfigError> {
    let Some(s) = section else {
        return Ok(ProxyRedirect {
            default: true,
            rewrite: Vec::new(),
        });
    };
    for (i, pair) in s.rewrite.iter().enumerate() {
        if pair.from.is_empty() {
            return Err(c.err(
                format!("{key}.proxy_redirect.rewrite[{i}].from"),
                "must not be empty",
            ));
        }
        if pair.to.contains(['\r', '\n']) {
            return Err(c.err(
                format!("{key}.proxy_redirect.rewrite[{i}].to"),
                "must be a header value (no line breaks)",
            ));
        }
    }
    Ok(ProxyRedirect {
        default: s.default.unwrap_or(true),
        rewrite: s.rewrite.clone(),
    })
}
