//! The traffic policies a route switches on, each its own table under the
//! route (`[routes.rate_limit]`, `[routes.cors]`, `[routes.compression]`,
//! `[routes.headers]`, `[routes.auth]`), one module per policy: the table as
//! written, its validated form (what `/config` shows) and the check between.

pub(crate) mod auth;
pub(crate) mod basic_auth;
pub(crate) mod compression;
pub(crate) mod cors;
pub(crate) mod header_rules;
pub(crate) mod rate_limit;

use serde::Serialize;

use super::error::{Checker, ConfigError};

/// The validated policy settings of one route (absent: the policy is off).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct PolicySettings {
    /// Token buckets per client (or header value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) rate_limit: Option<rate_limit::RateLimitConfig>,
    /// Cross-origin resource sharing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cors: Option<cors::CorsConfig>,
    /// Response compression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) compression: Option<compression::CompressionConfig>,
    /// Request and response header rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) headers: Option<header_rules::HeaderRulesConfig>,
    /// Access tokens verified at the edge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) auth: Option<auth::AuthConfig>,
    /// User names and passwords from an htpasswd file. Set by the route
    /// table's `basic_auth` table through [`basic_auth::validate`] (the
    /// route schema gains the key with issue 29's locations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) basic_auth: Option<basic_auth::BasicAuthConfig>,
}

/// A route's policy tables as written (borrowed from its `RouteSection`).
pub(super) struct PolicySections<'a> {
    pub(super) rate_limit: Option<&'a rate_limit::RateLimitSection>,
    pub(super) cors: Option<&'a cors::CorsSection>,
    pub(super) compression: Option<&'a compression::CompressionSection>,
    pub(super) headers: Option<&'a header_rules::HeaderRulesSection>,
    pub(super) auth: Option<&'a auth::AuthSection>,
}

/// Validate the policy tables of route `key` (`routes[i]`) with `prefix`.
pub(super) fn validate(
    c: &Checker<'_>,
    key: &str,
    prefix: &str,
    r: PolicySections<'_>,
) -> Result<PolicySettings, ConfigError> {
    Ok(PolicySettings {
        rate_limit: r
            .rate_limit
            .map(|s| rate_limit::validate(c, &format!("{key}.rate_limit"), prefix, s))
            .transpose()?,
        cors: r
            .cors
            .map(|s| cors::validate(c, &format!("{key}.cors"), s))
            .transpose()?,
        compression: r
            .compression
            .map(|s| compression::validate(c, &format!("{key}.compression"), s))
            .transpose()?,
        headers: r
            .headers
            .map(|s| header_rules::validate(c, &format!("{key}.headers"), s))
            .transpose()?,
        auth: r
            .auth
            .map(|s| auth::validate(c, &format!("{key}.auth"), prefix, s))
            .transpose()?,
        // Read by `config/routes.rs` from the route's `basic_auth` table.
        basic_auth: None,
    })
}

/// Client path prefixes inside the route `prefix` (`paths`, `public_paths`):
/// each a normalised path under the route's prefix.
fn validate_subpaths(
    c: &Checker<'_>,
    key: &str,
    prefix: &str,
    paths: &[String],
) -> Result<Vec<String>, ConfigError> {
    let mut out = Vec::with_capacity(paths.len());
    for (i, p) in paths.iter().enumerate() {
        let key = format!("{key}[{i}]");
        match crate::path::normalize(p) {
            Ok(n) if n == *p => {}
            _ => {
                return Err(c.err(
                    key,
                    format!(
                        "`{p}` is not a normalised path (no `//`, `.`, `..` or needless escapes)"
                    ),
                ));
            }
        }
        if !p.starts_with(prefix) {
            return Err(c.err(
                key,
                format!("`{p}` is not under the route's prefix `{prefix}` (paths are the client's, prefix included)"),
            ));
        }
        out.push(p.clone());
    }
    Ok(out)
}

/// A list of header names, lower-cased; `*` when `wildcard` allows it.
fn header_names(
    c: &Checker<'_>,
    key: &str,
    names: &[String],
    wildcard: bool,
) -> Result<Vec<String>, ConfigError> {
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for (i, n) in names.iter().enumerate() {
        let key = format!("{key}[{i}]");
        if n == "*" {
            if !wildcard {
                return Err(c.err(key, "`*` is not allowed here"));
            }
        } else if http::HeaderName::from_bytes(n.as_bytes()).is_err() {
            return Err(c.err(key, format!("`{n}` is not a valid header name")));
        }
        let lower = n.to_ascii_lowercase();
        if out.contains(&lower) {
            return Err(c.err(key, format!("`{n}` is listed twice")));
        }
        out.push(lower);
    }
    Ok(out)
}
