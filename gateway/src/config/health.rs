//! An upstream's endpoint choice and health settings:
//! `balance`, `[upstreams.<name>.health_check]` (active HTTP checks) and
//! `[upstreams.<name>.outlier]` (passive outlier detection).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::{Checker, ConfigError};
use super::units::{DurationText, serialize_millis};

/// How an upstream chooses the endpoint for a request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Balance {
    /// Power of two choices: of two endpoints drawn at random (by weight),
    /// the one with fewer outstanding requests per unit of weight.
    #[default]
    P2c,
    /// Each endpoint in turn (weighted, smoothly interleaved).
    RoundRobin,
}

/// `[upstreams.<name>.health_check]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HealthCheckSection {
    /// Path (and query) requested on every endpoint, e.g. `/health`.
    pub(crate) path: Option<String>,
    /// Time between two checks of an endpoint (default 5s).
    pub(crate) interval: Option<DurationText>,
    /// Time a check may take, connect included (default 1s).
    pub(crate) timeout: Option<DurationText>,
    /// Passed checks in a row that bring an endpoint back (default 2).
    pub(crate) healthy_threshold: Option<u32>,
    /// Failed checks in a row that take an endpoint out (default 3).
    pub(crate) unhealthy_threshold: Option<u32>,
}

/// Validated active health checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct HealthCheck {
    /// Path and query requested.
    pub(crate) path: String,
    /// Time between checks.
    #[serde(serialize_with = "serialize_millis")]
    pub(crate) interval: Duration,
    /// Time a check may take.
    #[serde(serialize_with = "serialize_millis")]
    pub(crate) timeout: Duration,
    /// Passes in a row to be healthy again.
    pub(crate) healthy_threshold: u32,
    /// Failures in a row to be unhealthy.
    pub(crate) unhealthy_threshold: u32,
}

/// `[upstreams.<name>.outlier]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OutlierSection {
    /// Connect failures in a row that eject an endpoint (default 3; 0: never).
    pub(crate) consecutive_connect_failures: Option<u32>,
    /// 5xx answers (or broken exchanges) in a row that eject an endpoint
    /// (default 5; 0: never).
    pub(crate) consecutive_5xx: Option<u32>,
    /// The first ejection's length; the n-th lasts n times as long (default 5s).
    pub(crate) base_ejection: Option<DurationText>,
    /// The longest ejection (default 5m).
    pub(crate) max_ejection: Option<DurationText>,
    /// Most endpoints ejected at once, in percent (default 50); one may
    /// always be, and never the last healthy one.
    pub(crate) max_ejected_percent: Option<u32>,
}

/// Validated passive outlier detection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Outlier {
    /// Connect failures in a row that eject (0: never).
    pub(crate) consecutive_connect_failures: u32,
    /// 5xx in a row that eject (0: never).
    pub(crate) consecutive_5xx: u32,
    /// First ejection length.
    #[serde(serialize_with = "serialize_millis")]
    pub(crate) base_ejection: Duration,
    /// Longest ejection.
    #[serde(serialize_with = "serialize_millis")]
    pub(crate) max_ejection: Duration,
    /// Most endpoints ejected at once, in percent.
    pub(crate) max_ejected_percent: u32,
}

impl Outlier {
    /// Whether anything ejects endpoints.
    pub(crate) fn is_on(&self) -> bool {
        self.consecutive_connect_failures > 0 || self.consecutive_5xx > 0
    }
}

/// A count of at least 1 and at most `max`, `default` when absent.
fn count(
    c: &Checker<'_>,
    key: &str,
    value: Option<u32>,
    default: u32,
    min: u32,
    max: u32,
) -> Result<u32, ConfigError> {
    let v = value.unwrap_or(default);
    if v < min || v > max {
        return Err(c.err(key, format!("{v} must be between {min} and {max}")));
    }
    Ok(v)
}

/// Validate `health_check` of the upstream at `key` (`upstreams.users`).
pub(super) fn validate_health_check(
    c: &Checker<'_>,
    key: &str,
    section: Option<&HealthCheckSection>,
) -> Result<Option<HealthCheck>, ConfigError> {
    let Some(h) = section else {
        return Ok(None);
    };
    let key = format!("{key}.health_check");
    let path = h.path.as_deref().ok_or_else(|| {
        c.err(
            format!("{key}.path"),
            "required to check endpoints (e.g. \"/health\")",
        )
    })?;
    if !path.starts_with('/') || path.parse::<http::uri::PathAndQuery>().is_err() {
        return Err(c.err(
            format!("{key}.path"),
            format!("`{path}` is not a path starting with `/` (e.g. \"/health\")"),
        ));
    }
    let interval = c.duration(
        &format!("{key}.interval"),
        &h.interval,
        Duration::from_secs(5),
    )?;
    if interval < Duration::from_millis(100) {
        return Err(c.err(format!("{key}.interval"), "must be at least 100ms"));
    }
    let timeout = c.duration(
        &format!("{key}.timeout"),
        &h.timeout,
        Duration::from_secs(1),
    )?;
    if timeout.is_zero() || timeout > interval {
        return Err(c.err(
            format!("{key}.timeout"),
            format!(
                "must be above zero and at most the interval ({} ms)",
                interval.as_millis()
            ),
        ));
    }
    Ok(Some(HealthCheck {
        path: path.to_string(),
        interval,
        timeout,
        healthy_threshold: count(
            c,
            &format!("{key}.healthy_threshold"),
            h.healthy_threshold,
            2,
            1,
            100,
        )?,
        unhealthy_threshold: count(
            c,
            &format!("{key}.unhealthy_threshold"),
            h.unhealthy_threshold,
            3,
            1,
            100,
        )?,
    }))
}

/// Validate `outlier` of the upstream at `key`; defaults when absent.
pub(super) fn validate_outlier(
    c: &Checker<'_>,
    key: &str,
    section: Option<&OutlierSection>,
) -> Result<Outlier, ConfigError> {
    let o = section.cloned().unwrap_or_default();
    let key = format!("{key}.outlier");
    let base_ejection = c.duration(
        &format!("{key}.base_ejection"),
        &o.base_ejection,
        Duration::from_secs(5),
    )?;
    if base_ejection < Duration::from_millis(10) {
        return Err(c.err(format!("{key}.base_ejection"), "must be at least 10ms"));
    }
    let max_ejection = c.duration(
        &format!("{key}.max_ejection"),
        &o.max_ejection,
        Duration::from_secs(300).max(base_ejection),
    )?;
    if max_ejection < base_ejection {
        return Err(c.err(
            format!("{key}.max_ejection"),
            format!(
                "must be at least base_ejection ({} ms)",
                base_ejection.as_millis()
            ),
        ));
    }
    Ok(Outlier {
        consecutive_connect_failures: count(
            c,
            &format!("{key}.consecutive_connect_failures"),
            o.consecutive_connect_failures,
            3,
            0,
            1000,
        )?,
        consecutive_5xx: count(
            c,
            &format!("{key}.consecutive_5xx"),
            o.consecutive_5xx,
            5,
            0,
            1000,
        )?,
        base_ejection,
        max_ejection,
        max_ejected_percent: count(
            c,
            &format!("{key}.max_ejected_percent"),
            o.max_ejected_percent,
            50,
            0,
            100,
        )?,
    })
}
