//! A route's `[routes.retry]` (retries on another endpoint, bounded by a
//! budget) and `split` (upstreams sharing the route's requests by weight).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::endpoint::MAX_WEIGHT;
use super::error::{Checker, ConfigError};
use super::upstreams::UpstreamConfig;

/// `[routes.retry]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RetrySection {
    /// Retries per request on other endpoints (default 1; 0: none).
    pub(crate) attempts: Option<u32>,
    /// Upstream statuses that retry an idempotent request without a body
    /// (default none).
    pub(crate) on_status: Option<Vec<u16>>,
    /// Retries may be at most this share of the route's recent requests,
    /// in percent (default 20).
    pub(crate) budget_percent: Option<u32>,
    /// ... plus this many retries per second (default 3).
    pub(crate) budget_min_per_second: Option<u32>,
}

/// Validated retry settings of a route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct RetryConfig {
    /// Retries per request (0: none).
    pub(crate) attempts: u32,
    /// Statuses that retry an idempotent request without a body.
    pub(crate) on_status: Vec<u16>,
    /// Share of recent requests retries may add, in percent.
    pub(crate) budget_percent: u32,
    /// Retries allowed per second beyond the share.
    pub(crate) budget_min_per_second: u32,
}

/// One entry of `split` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SplitSection {
    /// Upstream name.
    pub(crate) upstream: String,
    /// Its share of the route's requests (0 sends it none).
    pub(crate) weight: u32,
}

/// A validated `split` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct SplitTarget {
    /// Upstream name.
    pub(crate) upstream: String,
    /// Its share of the route's requests.
    pub(crate) weight: u32,
}

/// Validate the route at `key`'s `retry`; defaults when absent.
pub(super) fn validate_retry(
    c: &Checker<'_>,
    key: &str,
    section: Option<&RetrySection>,
) -> Result<RetryConfig, ConfigError> {
    let r = section.cloned().unwrap_or_default();
    let key = format!("{key}.retry");
    let attempts = r.attempts.unwrap_or(1);
    if attempts > 5 {
        return Err(c.err(
            format!("{key}.attempts"),
            format!("{attempts} must be between 0 and 5"),
        ));
    }
    let on_status = r.on_status.unwrap_or_default();
    for (i, status) in on_status.iter().enumerate() {
        if !(500..=599).contains(status) {
            return Err(c.err(
                format!("{key}.on_status[{i}]"),
                format!("{status} is not a 5xx status (only server errors are retried)"),
            ));
        }
    }
    let budget_percent = r.budget_percent.unwrap_or(20);
    if budget_percent > 100 {
        return Err(c.err(
            format!("{key}.budget_percent"),
            format!("{budget_percent} must be between 0 and 100"),
        ));
    }
    let budget_min_per_second = r.budget_min_per_second.unwrap_or(3);
    if budget_min_per_second > 1000 {
        return Err(c.err(
            format!("{key}.budget_min_per_second"),
            format!("{budget_min_per_second} must be between 0 and 1000"),
        ));
    }
    Ok(RetryConfig {
        attempts,
        on_status,
        budget_percent,
        budget_min_per_second,
    })
}

/// The message for a route naming an upstream that is not declared.
pub(super) fn unknown_upstream(name: &str, upstreams: &BTreeMap<String, UpstreamConfig>) -> String {
    let known: Vec<&str> = upstreams.keys().map(String::as_str).collect();
    let known = if known.is_empty() {
        "none".to_string()
    } else {
        known.join(", ")
    };
    format!("unknown upstream `{name}` (defined: {known})")
}

/// Validate the route at `key`'s `split` (empty when the route names one
/// `upstream`).
pub(super) fn validate_split(
    c: &Checker<'_>,
    key: &str,
    split: &[SplitSection],
    upstreams: &BTreeMap<String, UpstreamConfig>,
) -> Result<Vec<SplitTarget>, ConfigError> {
    let mut targets: Vec<SplitTarget> = Vec::new();
    for (i, s) in split.iter().enumerate() {
        let at = format!("{key}.split[{i}]");
        if !upstreams.contains_key(&s.upstream) {
            return Err(c.err(
                format!("{at}.upstream"),
                unknown_upstream(&s.upstream, upstreams),
            ));
        }
        if targets.iter().any(|t| t.upstream == s.upstream) {
            return Err(c.err(
                format!("{at}.upstream"),
                format!("`{}` is named twice in this split", s.upstream),
            ));
        }
        if s.weight > MAX_WEIGHT {
            return Err(c.err(
                format!("{at}.weight"),
                format!("{} must be between 0 and {MAX_WEIGHT}", s.weight),
            ));
        }
        targets.push(SplitTarget {
            upstream: s.upstream.clone(),
            weight: s.weight,
        });
    }
    if !targets.is_empty() && targets.iter().all(|t| t.weight == 0) {
        return Err(c.err(
            format!("{key}.split"),
            "at least one weight must be above 0",
        ));
    }
    Ok(targets)
}
