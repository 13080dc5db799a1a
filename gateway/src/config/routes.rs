//! `[[routes]]`: prefixes, the upstream each goes to, and the per-route
//! settings (prefix stripping, host policy, body limit, response timeout,
//! upgrades).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::error::{Checker, ConfigError};
use super::policies::{self, PolicySettings};
use super::retry::{RetryConfig, SplitTarget, unknown_upstream, validate_retry, validate_split};
use super::schema::{HostPolicy, RouteSection};
use super::timeouts::Timeouts;
use super::units::serialize_millis;
use super::upstreams::UpstreamConfig;

/// A validated route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct RouteConfig {
    /// Prefix, starting and ending with `/`.
    pub(crate) prefix: String,
    /// Upstream name (with `split`, the first one's).
    pub(crate) upstream: String,
    /// Upstreams sharing the requests by weight; empty for one `upstream`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) split: Vec<SplitTarget>,
    /// Retries on another endpoint.
    pub(crate) retry: RetryConfig,
    /// Whether the prefix is stripped.
    pub(crate) strip_prefix: bool,
    /// Host policy.
    pub(crate) host: HostPolicy,
    /// Body limit in bytes.
    pub(crate) body_limit: u64,
    /// Response-head timeout.
    #[serde(serialize_with = "serialize_millis")]
    pub(crate) response_timeout: Duration,
    /// `Upgrade` requests (WebSocket) pass through; else they are sent
    /// upstream as plain requests.
    pub(crate) upgrades: bool,
    /// The traffic policies switched on (`[routes.<policy>]` tables).
    #[serde(flatten)]
    pub(crate) policies: PolicySettings,
}

/// Validate `[[routes]]`: at least one, unique normalised prefixes, known
/// upstreams; `body_limit` and `timeouts` give the defaults.
pub(super) fn validate(
    c: &Checker<'_>,
    sections: &[RouteSection],
    upstreams: &BTreeMap<String, UpstreamConfig>,
    body_limit: u64,
    timeouts: &Timeouts,
) -> Result<Vec<RouteConfig>, ConfigError> {
    let mut routes: Vec<RouteConfig> = Vec::new();
    for (i, r) in sections.iter().enumerate() {
        let key = format!("routes[{i}]");
        validate_prefix(&r.prefix).map_err(|p| c.err(format!("{key}.prefix"), p))?;
        if let Some(j) = routes.iter().position(|x| x.prefix == r.prefix) {
            return Err(c.err(
                format!("{key}.prefix"),
                format!("duplicate prefix `{}` (also routes[{j}])", r.prefix),
            ));
        }
        let split = validate_split(c, &key, &r.split, upstreams)?;
        let upstream = match (r.upstream.is_empty(), split.first()) {
            (true, None) => {
                return Err(c.err(
                    format!("{key}.upstream"),
                    "required (or `split` over several upstreams)",
                ));
            }
            (false, Some(_)) => {
                return Err(c.err(
                    format!("{key}.split"),
                    "give either `upstream` or `split`, not both",
                ));
            }
            (true, Some(first)) => first.upstream.clone(),
            (false, None) => r.upstream.clone(),
        };
        if !upstreams.contains_key(&upstream) {
            return Err(c.err(
                format!("{key}.upstream"),
                unknown_upstream(&upstream, upstreams),
            ));
        }
        if !split.is_empty() && r.host == Some(HostPolicy::Upstream) {
            return Err(c.err(
                format!("{key}.host"),
                "`upstream` cannot be used with `split` (the upstreams' hosts differ); use `client`",
            ));
        }
        routes.push(RouteConfig {
            prefix: r.prefix.clone(),
            upstream,
            split,
            retry: validate_retry(c, &key, r.retry.as_ref())?,
            strip_prefix: r.strip_prefix.unwrap_or(true),
            host: r.host.unwrap_or_default(),
            body_limit: c.size(&format!("{key}.body_limit"), &r.body_limit, body_limit)?,
            response_timeout: c.duration(
                &format!("{key}.response_timeout"),
                &r.response_timeout,
                timeouts.response,
            )?,
            upgrades: r.upgrades.unwrap_or(false),
            policies: policies::validate(
                c,
                &key,
                &r.prefix,
                policies::PolicySections {
                    rate_limit: r.rate_limit.as_ref(),
                    cors: r.cors.as_ref(),
                    compression: r.compression.as_ref(),
                    headers: r.headers.as_ref(),
                    auth: r.auth.as_ref(),
                },
            )?,
        });
    }
    if routes.is_empty() {
        return Err(c.err("routes", "at least one [[routes]] entry is required"));
    }
    Ok(routes)
}

fn validate_prefix(prefix: &str) -> Result<(), String> {
    if !prefix.starts_with('/') {
        return Err(format!("`{prefix}` must start with `/`"));
    }
    if !prefix.ends_with('/') {
        return Err(format!(
            "`{prefix}` must end with `/` (e.g. `{prefix}/`); `{prefix}` itself is redirected to it"
        ));
    }
    match crate::path::normalize(prefix) {
        Ok(n) if n == prefix => Ok(()),
        _ => Err(format!(
            "`{prefix}` is not a normalised path (no `//`, `.`, `..` or escapes other than reserved characters)"
        )),
    }
}
