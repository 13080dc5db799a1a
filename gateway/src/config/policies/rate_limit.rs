//! `[routes.rate_limit]`: a token bucket per client IP (or per value of a
//! header), refilled at `rate`, holding at most `burst` requests; optionally
//! only for some paths of the route (`paths`); at most `max_keys` buckets.

use std::time::Duration;

use serde::{Deserialize, Serialize, Serializer};

use super::super::error::{Checker, ConfigError};
use super::super::units::serialize_millis;

/// Default bound on the buckets kept (one per client).
pub(crate) const DEFAULT_MAX_KEYS: usize = 100_000;

/// `[routes.rate_limit]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RateLimitSection {
    /// `"10/s"`, `"600/m"`, `"1000/h"` (NGINX's `10r/s` is accepted too).
    pub(crate) rate: Option<String>,
    /// Requests a client may make at once after being idle (default: one
    /// second's worth of `rate`, at least 1).
    pub(crate) burst: Option<u32>,
    /// `client_ip` (default) or `header:<name>`.
    pub(crate) key: Option<String>,
    /// Client path prefixes the limit applies to (default: the whole route).
    pub(crate) paths: Option<Vec<String>>,
    /// Most buckets kept (default 100000).
    pub(crate) max_keys: Option<usize>,
}

/// What a bucket belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RateLimitKey {
    /// The client's IP address (an IPv6 client by its /64).
    ClientIp,
    /// The value of this header (lower-case name); clients without it by IP.
    Header(http::HeaderName),
}

impl Serialize for RateLimitKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RateLimitKey::ClientIp => s.serialize_str("client_ip"),
            RateLimitKey::Header(name) => s.serialize_str(&format!("header:{name}")),
        }
    }
}

/// A validated rate limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct RateLimitConfig {
    /// Requests per `period`.
    pub(crate) requests: u32,
    /// The period `requests` are counted over.
    #[serde(serialize_with = "serialize_millis")]
    pub(crate) period: Duration,
    /// Bucket size.
    pub(crate) burst: u32,
    /// Whose bucket a request takes from.
    pub(crate) key: RateLimitKey,
    /// Client path prefixes limited (empty: all of the route).
    pub(crate) paths: Vec<String>,
    /// Most buckets kept.
    pub(crate) max_keys: usize,
}

impl RateLimitConfig {
    /// Time for one request's token to come back.
    pub(crate) fn interval(&self) -> Duration {
        self.period / self.requests
    }
}

/// Validate `[routes.rate_limit]` of the route with `prefix`.
pub(super) fn validate(
    c: &Checker<'_>,
    key: &str,
    prefix: &str,
    s: &RateLimitSection,
) -> Result<RateLimitConfig, ConfigError> {
    let rate = s.rate.as_deref().ok_or_else(|| {
        c.err(
            format!("{key}.rate"),
            "a rate is required (e.g. \"10/s\", \"600/m\")",
        )
    })?;
    let (requests, period) = parse_rate(rate).map_err(|p| c.err(format!("{key}.rate"), p))?;
    if (period / requests).is_zero() {
        return Err(c.err(format!("{key}.rate"), format!("`{rate}` is too fast")));
    }
    let per_second = (u64::from(requests) * 1000 / period.as_millis().max(1) as u64).max(1);
    let burst = s
        .burst
        .unwrap_or_else(|| u32::try_from(per_second).unwrap_or(u32::MAX));
    if burst == 0 {
        return Err(c.err(
            format!("{key}.burst"),
            "must be at least 1 (no request would ever pass)",
        ));
    }
    let bucket_key = match s.key.as_deref().map(str::trim) {
        None | Some("client_ip") => RateLimitKey::ClientIp,
        Some(other) => match other.strip_prefix("header:") {
            Some(name) => RateLimitKey::Header(
                http::HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
                    c.err(
                        format!("{key}.key"),
                        format!("`{name}` is not a valid header name"),
                    )
                })?,
            ),
            None => {
                return Err(c.err(
                    format!("{key}.key"),
                    format!("`{other}` is not a key (use client_ip or header:<name>)"),
                ));
            }
        },
    };
    let max_keys = s.max_keys.unwrap_or(DEFAULT_MAX_KEYS);
    if max_keys == 0 {
        return Err(c.err(
            format!("{key}.max_keys"),
            "must be at least 1 (each client needs a bucket)",
        ));
    }
    let paths = super::validate_subpaths(
        c,
        &format!("{key}.paths"),
        prefix,
        s.paths.as_deref().unwrap_or_default(),
    )?;
    Ok(RateLimitConfig {
        requests,
        period,
        burst,
        key: bucket_key,
        paths,
        max_keys,
    })
}

/// `"10/s"`, `"10r/s"`, `"600/m"`, `"5/h"`, `"3/10s"`: requests and period.
pub(crate) fn parse_rate(text: &str) -> Result<(u32, Duration), String> {
    let bad = || format!("`{text}` is not a rate (expected e.g. \"10/s\", \"600/m\", \"5/h\")");
    let (count, per) = text.trim().split_once('/').ok_or_else(bad)?;
    let count = count.trim().trim_end_matches('r');
    let requests: u32 = count.parse().map_err(|_| bad())?;
    if requests == 0 {
        return Err(format!("`{text}`: the rate must allow at least 1 request"));
    }
    let per = per.trim();
    let period = match per {
        "s" => Duration::from_secs(1),
        "m" => Duration::from_secs(60),
        "h" => Duration::from_secs(3600),
        other => common::config::parse_duration(other).map_err(|_| bad())?,
    };
    if period.is_zero() {
        return Err(bad());
    }
    Ok((requests, period))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_like_nginx_and_with_durations() {
        assert_eq!(parse_rate("10/s"), Ok((10, Duration::from_secs(1))));
        assert_eq!(parse_rate("10r/s"), Ok((10, Duration::from_secs(1))));
        assert_eq!(parse_rate("600/m"), Ok((600, Duration::from_secs(60))));
        assert_eq!(parse_rate("5/h"), Ok((5, Duration::from_secs(3600))));
        assert_eq!(parse_rate("3/10s"), Ok((3, Duration::from_secs(10))));
        for bad in ["10", "ten/s", "0/s", "10/fortnight", "/s", "-1/s"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }
}
