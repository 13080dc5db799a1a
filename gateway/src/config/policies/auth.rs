//! `[routes.auth]`: access tokens of the users service verified at the
//! gateway against its JWKS (fetched, cached and refreshed by
//! `common::auth::TokenVerifier`), with public paths and methods that pass
//! without a token.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::super::error::{Checker, ConfigError};
use super::super::units::{DurationText, serialize_millis};

/// `[routes.auth]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuthSection {
    /// The users service's key set (`http://users:8000/.well-known/jwks.json`).
    pub(crate) jwks_url: Option<String>,
    /// Required `iss` (default `shop-users`).
    pub(crate) issuer: Option<String>,
    /// Required `aud` (default `shop`).
    pub(crate) audience: Option<String>,
    /// Client path prefixes that need no token (e.g. `/users/auth/`).
    #[serde(default)]
    pub(crate) public_paths: Vec<String>,
    /// Methods that need no token (e.g. `GET` for a public catalogue).
    #[serde(default)]
    pub(crate) public_methods: Vec<String>,
    /// Least time between two key set fetches (default 10s).
    pub(crate) min_refresh_interval: Option<DurationText>,
    /// How long keys are trusted when the JWKS response gives no max-age
    /// (default 5m).
    pub(crate) default_max_age: Option<DurationText>,
}

/// A validated edge authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct AuthConfig {
    /// The key set URL (no credentials: refused at validation).
    pub(crate) jwks_url: String,
    /// Required issuer.
    pub(crate) issuer: String,
    /// Required audience.
    pub(crate) audience: String,
    /// Public client path prefixes.
    pub(crate) public_paths: Vec<String>,
    /// Public methods (upper-case).
    pub(crate) public_methods: Vec<String>,
    /// Least time between fetches.
    #[serde(serialize_with = "serialize_millis")]
    pub(crate) min_refresh_interval: Duration,
    /// Key lifetime without a max-age.
    #[serde(serialize_with = "serialize_millis")]
    pub(crate) default_max_age: Duration,
}

/// Validate `[routes.auth]` of the route with `prefix`.
pub(super) fn validate(
    c: &Checker<'_>,
    key: &str,
    prefix: &str,
    s: &AuthSection,
) -> Result<AuthConfig, ConfigError> {
    let url_key = format!("{key}.jwks_url");
    let url = s.jwks_url.as_deref().map(str::trim).ok_or_else(|| {
        c.err(
            &url_key,
            "the users service's key set URL is required (e.g. http://users:8000/.well-known/jwks.json)",
        )
    })?;
    let uri: http::Uri = url
        .parse()
        .map_err(|_| c.err(&url_key, format!("`{url}` is not a URL")))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
        return Err(c.err(
            &url_key,
            format!("`{url}` is not an http(s) URL with a host"),
        ));
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(c.err(
            &url_key,
            "credentials in the URL are not allowed (the key set is public)",
        ));
    }
    let text = |field: &str, value: &Option<String>, default: &str| {
        let v = value.as_deref().unwrap_or(default).trim().to_string();
        if v.is_empty() {
            return Err(c.err(format!("{key}.{field}"), "must not be empty"));
        }
        Ok(v)
    };
    let mut methods: Vec<String> = Vec::new();
    for (i, m) in s.public_methods.iter().enumerate() {
        let upper = m.trim().to_ascii_uppercase();
        if upper.is_empty() || http::Method::from_bytes(upper.as_bytes()).is_err() {
            return Err(c.err(
                format!("{key}.public_methods[{i}]"),
                format!("`{m}` is not a method"),
            ));
        }
        methods.push(upper);
    }
    let min_refresh_interval = c.duration(
        &format!("{key}.min_refresh_interval"),
        &s.min_refresh_interval,
        Duration::from_secs(10),
    )?;
    let default_max_age = c.duration(
        &format!("{key}.default_max_age"),
        &s.default_max_age,
        Duration::from_secs(300),
    )?;
    Ok(AuthConfig {
        jwks_url: url.to_string(),
        issuer: text("issuer", &s.issuer, "shop-users")?,
        audience: text("audience", &s.audience, "shop")?,
        public_paths: super::validate_subpaths(
            c,
            &format!("{key}.public_paths"),
            prefix,
            &s.public_paths,
        )?,
        public_methods: methods,
        min_refresh_interval,
        default_max_age,
    })
}
