//! `[routes.cors]`: which origins may call the route from a browser, with
//! which methods and headers, whether with credentials, and how long a
//! browser may cache the preflight answer.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::super::error::{Checker, ConfigError};
use super::super::units::DurationText;

/// Default `Access-Control-Max-Age`.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(600);

/// `[routes.cors]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CorsSection {
    /// Origins (`https://shop.example`), or `["*"]` for any.
    #[serde(default)]
    pub(crate) allow_origins: Vec<String>,
    /// Methods allowed (default GET, HEAD, POST).
    pub(crate) allow_methods: Option<Vec<String>>,
    /// Request headers allowed (default none beyond the CORS-safelisted).
    #[serde(default)]
    pub(crate) allow_headers: Vec<String>,
    /// Response headers a script may read.
    #[serde(default)]
    pub(crate) expose_headers: Vec<String>,
    /// Allow cookies and `Authorization` (default false).
    pub(crate) allow_credentials: Option<bool>,
    /// How long a preflight answer may be cached (default 10m).
    pub(crate) max_age: Option<DurationText>,
}

/// A validated CORS policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CorsConfig {
    /// Lower-case origins, or `["*"]`.
    pub(crate) allow_origins: Vec<String>,
    /// Upper-case methods.
    pub(crate) allow_methods: Vec<String>,
    /// Lower-case header names, or `["*"]`.
    pub(crate) allow_headers: Vec<String>,
    /// Lower-case header names, or `["*"]`.
    pub(crate) expose_headers: Vec<String>,
    /// Whether credentials are allowed.
    pub(crate) allow_credentials: bool,
    /// Preflight cache lifetime in seconds.
    pub(crate) max_age_secs: u64,
}

impl CorsConfig {
    /// Whether any origin is allowed.
    pub(crate) fn any_origin(&self) -> bool {
        self.allow_origins.iter().any(|o| o == "*")
    }
}

/// Validate `[routes.cors]`.
pub(super) fn validate(
    c: &Checker<'_>,
    key: &str,
    s: &CorsSection,
) -> Result<CorsConfig, ConfigError> {
    let credentials = s.allow_credentials.unwrap_or(false);
    if s.allow_origins.is_empty() {
        return Err(c.err(
            format!("{key}.allow_origins"),
            "at least one origin is required (e.g. \"https://shop.example\", or \"*\")",
        ));
    }
    let mut origins: Vec<String> = Vec::new();
    for (i, o) in s.allow_origins.iter().enumerate() {
        let k = format!("{key}.allow_origins[{i}]");
        let origin = if o == "*" {
            if s.allow_origins.len() > 1 {
                return Err(c.err(k, "`*` allows every origin: list nothing else beside it"));
            }
            if credentials {
                return Err(c.err(
                    k,
                    "`*` cannot be used with allow_credentials = true (browsers refuse it); list the origins",
                ));
            }
            o.clone()
        } else {
            validate_origin(o).map_err(|p| c.err(&k, p))?
        };
        if origins.contains(&origin) {
            return Err(c.err(k, format!("`{o}` is listed twice")));
        }
        origins.push(origin);
    }
    let mut methods: Vec<String> = Vec::new();
    let listed = s
        .allow_methods
        .clone()
        .unwrap_or_else(|| vec!["GET".into(), "HEAD".into(), "POST".into()]);
    if listed.is_empty() {
        return Err(c.err(
            format!("{key}.allow_methods"),
            "at least one method is required",
        ));
    }
    for (i, m) in listed.iter().enumerate() {
        let k = format!("{key}.allow_methods[{i}]");
        let upper = m.trim().to_ascii_uppercase();
        if upper == "*" || http::Method::from_bytes(upper.as_bytes()).is_err() || upper.is_empty() {
            return Err(c.err(
                k,
                format!("`{m}` is not a method (list them: GET, POST, ...)"),
            ));
        }
        if methods.contains(&upper) {
            return Err(c.err(k, format!("`{m}` is listed twice")));
        }
        methods.push(upper);
    }
    let allow_headers =
        super::header_names(c, &format!("{key}.allow_headers"), &s.allow_headers, true)?;
    let expose_headers =
        super::header_names(c, &format!("{key}.expose_headers"), &s.expose_headers, true)?;
    for (field, list) in [
        ("allow_headers", &allow_headers),
        ("expose_headers", &expose_headers),
    ] {
        if credentials && list.iter().any(|h| h == "*") {
            return Err(c.err(
                format!("{key}.{field}"),
                "`*` means a literal `*` header with allow_credentials = true; list the headers",
            ));
        }
        if list.len() > 1 && list.iter().any(|h| h == "*") {
            return Err(c.err(
                format!("{key}.{field}"),
                "`*` allows every header: list nothing else beside it",
            ));
        }
    }
    let max_age = c.duration(&format!("{key}.max_age"), &s.max_age, DEFAULT_MAX_AGE)?;
    Ok(CorsConfig {
        allow_origins: origins,
        allow_methods: methods,
        allow_headers,
        expose_headers,
        allow_credentials: credentials,
        max_age_secs: max_age.as_secs(),
    })
}

/// An origin as browsers send it: `scheme://host[:port]`, lower-case,
/// nothing after the authority.
fn validate_origin(text: &str) -> Result<String, String> {
    let bad = |why: &str| {
        format!("`{text}` is not an origin ({why}; expected e.g. https://shop.example)")
    };
    let lower = text.trim().to_ascii_lowercase();
    let (scheme, rest) = lower.split_once("://").ok_or_else(|| bad("no scheme"))?;
    if scheme != "http" && scheme != "https" {
        return Err(bad("the scheme must be http or https"));
    }
    if rest.is_empty() {
        return Err(bad("no host"));
    }
    if rest.contains(['/', '?', '#']) {
        return Err(bad("an origin has no path, not even `/`"));
    }
    if rest.contains(['@', '*', ' ']) {
        return Err(bad("only a host and a port"));
    }
    let authority: http::uri::Authority = rest.parse().map_err(|_| bad("invalid host"))?;
    if authority.host().is_empty() {
        return Err(bad("no host"));
    }
    Ok(lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        assert_eq!(
            validate_origin("HTTPS://Shop.Example").as_deref(),
            Ok("https://shop.example")
        );
        assert_eq!(
            validate_origin("http://localhost:5173").as_deref(),
            Ok("http://localhost:5173")
        );
        for bad in [
            "shop.example",
            "https://shop.example/",
            "https://shop.example/app",
            "ftp://shop.example",
            "https://",
            "https://*.shop.example",
            "https://user@shop.example",
        ] {
            assert!(validate_origin(bad).is_err(), "{bad}");
        }
    }
}
