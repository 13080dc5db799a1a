//! `[upstreams.<name>]`: the named upstream services, their endpoints
//! (env `<NAME>_UPSTREAM`, or the launcher's override), their pool
//! settings, and how endpoints are chosen and checked ([`super::health`]).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::endpoint::{EndpointUrl, parse_endpoint_list};
use super::error::{Checker, ConfigError};
use super::health::{Balance, HealthCheck, Outlier, validate_health_check, validate_outlier};
use super::overlay::{Env, Overrides, upstream_env_var};
use super::schema::UpstreamSection;
use super::timeouts::Timeouts;
use super::units::serialize_millis;

/// A validated upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct UpstreamConfig {
    /// Name (the `[upstreams.<name>]` key).
    pub(crate) name: String,
    /// Endpoints.
    pub(crate) endpoints: Vec<EndpointUrl>,
    /// Re-resolution period.
    #[serde(serialize_with = "serialize_millis")]
    pub(crate) resolve_interval: Duration,
    /// Connect timeout.
    #[serde(serialize_with = "serialize_millis")]
    pub(crate) connect_timeout: Duration,
    /// How the endpoint for a request is chosen.
    pub(crate) balance: Balance,
    /// Active HTTP checks, when configured.
    pub(crate) health_check: Option<HealthCheck>,
    /// Passive outlier detection.
    pub(crate) outlier: Outlier,
    /// Idle keep-alive connections per endpoint.
    pub(crate) max_idle_per_endpoint: usize,
    /// Open connections per endpoint and worker thread.
    pub(crate) max_connections_per_endpoint: usize,
    /// Connections one client may hold per endpoint and worker thread
    /// (its fair share); `None`: no share.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_connections_per_client: Option<usize>,
    /// Idle connection lifetime.
    #[serde(serialize_with = "serialize_millis")]
    pub(crate) idle_timeout: Duration,
}

/// Validate every `[upstreams.<name>]`; an override for an upstream the
/// file does not declare is refused.
pub(super) fn validate(
    c: &Checker<'_>,
    sections: &BTreeMap<String, UpstreamSection>,
    timeouts: &Timeouts,
    env: Env<'_>,
    overrides: &Overrides,
) -> Result<BTreeMap<String, UpstreamConfig>, ConfigError> {
    let mut upstreams = BTreeMap::new();
    for (name, section) in sections {
        let upstream = validate_one(c, name, section, timeouts, env, overrides)?;
        upstreams.insert(name.clone(), upstream);
    }
    for (name, _) in &overrides.upstreams {
        if !upstreams.contains_key(name) {
            return Err(Checker::env_err(
                &format!("upstream override `{name}`"),
                "no such upstream in the route table",
            ));
        }
    }
    Ok(upstreams)
}

fn validate_one(
    c: &Checker<'_>,
    name: &str,
    u: &UpstreamSection,
    timeouts: &Timeouts,
    env: Env<'_>,
    overrides: &Overrides,
) -> Result<UpstreamConfig, ConfigError> {
    let key = format!("upstreams.{name}");
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(c.err(
            &key,
            "an upstream name may contain only letters, digits, `-` and `_`",
        ));
    }
    let mut endpoints = Vec::new();
    for (i, url) in u.endpoints.iter().enumerate() {
        endpoints.push(
            url.parse()
                .map_err(|p| c.err(format!("{key}.endpoints[{i}]"), p))?,
        );
    }
    let var = upstream_env_var(name);
    let from_env = env.get(&var).map(|v| (var.clone(), v));
    let from_launcher = overrides
        .upstreams
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| (format!("upstream override `{name}`"), v.clone()));
    if let Some((source, list)) = from_launcher.or(from_env) {
        endpoints = parse_endpoint_list(&list).map_err(|p| Checker::env_err(&source, p))?;
    }
    if endpoints.is_empty() {
        return Err(c.err(
            format!("{key}.endpoints"),
            format!("at least one endpoint URL is required (or set {var})"),
        ));
    }
    if endpoints.iter().all(|e| e.backup) {
        return Err(c.err(
            format!("{key}.endpoints"),
            "every endpoint is a backup: at least one must not be (backups take requests only when the others cannot)",
        ));
    }
    if u.failure_cooldown.is_some() {
        return Err(c.err(
            format!("{key}.failure_cooldown"),
            "replaced by [upstreams.<name>.outlier] (consecutive_connect_failures, base_ejection)",
        ));
    }
    let max_connections = u.max_connections_per_endpoint.unwrap_or(128);
    if max_connections == 0 {
        return Err(c.err(
            format!("{key}.max_connections_per_endpoint"),
            "must be at least 1 (requests would wait forever)",
        ));
    }
    let per_client = u.max_connections_per_client;
    match per_client {
        Some(0) => {
            return Err(c.err(
                format!("{key}.max_connections_per_client"),
                "must be at least 1 (leave it out for no per-client share)",
            ));
        }
        Some(n) if n > max_connections => {
            return Err(c.err(
                format!("{key}.max_connections_per_client"),
                format!(
                    "{n} is more than max_connections_per_endpoint ({max_connections}): the share would never apply"
                ),
            ));
        }
        _ => {}
    }
    Ok(UpstreamConfig {
        name: name.to_string(),
        endpoints,
        resolve_interval: c.duration(
            &format!("{key}.resolve_interval"),
            &u.resolve_interval,
            Duration::from_secs(5),
        )?,
        connect_timeout: c.duration(
            &format!("{key}.connect_timeout"),
            &u.connect_timeout,
            timeouts.connect,
        )?,
        balance: u.balance.unwrap_or_default(),
        health_check: validate_health_check(c, &key, u.health_check.as_ref())?,
        outlier: validate_outlier(c, &key, u.outlier.as_ref())?,
        max_idle_per_endpoint: u.max_idle_per_endpoint.unwrap_or(256),
        max_connections_per_endpoint: max_connections,
        max_connections_per_client: per_client,
        idle_timeout: timeouts.upstream_idle,
    })
}
