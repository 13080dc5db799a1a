//! `[timeouts]`: how long clients and upstreams may take: to send a
//! request head, to connect, to answer, to take a response
//! (`client_send`), how long an upgraded connection may stay silent and
//! how long an idle keep-alive client connection is kept (`client_idle`).

use std::time::Duration;

use serde::Serialize;

use super::error::{Checker, ConfigError};
use super::schema::TimeoutsSection;
use super::units::serialize_millis;

/// Validated timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct Timeouts {
    /// Client request-head deadline.
    #[serde(serialize_with = "serialize_millis")]
    pub(crate) header_read: Duration,
    /// Default upstream connect timeout.
    #[serde(serialize_with = "serialize_millis")]
    pub(crate) connect: Duration,
    /// Default upstream response-head timeout.
    #[serde(serialize_with = "serialize_millis")]
    pub(crate) response: Duration,
    /// Idle upstream connection lifetime.
    #[serde(serialize_with = "serialize_millis")]
    pub(crate) upstream_idle: Duration,
    /// Drain period on shutdown.
    #[serde(serialize_with = "serialize_millis")]
    pub(crate) shutdown_grace: Duration,
    /// Longest a client may take no response bytes (its response is given
    /// up, the upstream connection released).
    #[serde(serialize_with = "serialize_millis")]
    pub(crate) client_send: Duration,
    /// Longest an upgraded connection may carry no bytes either way.
    #[serde(serialize_with = "serialize_millis")]
    pub(crate) upgrade_idle: Duration,
    /// Longest an HTTP/1 keep-alive client connection may wait, idle,
    /// for its next request.
    #[serde(serialize_with = "serialize_millis")]
    pub(crate) client_idle: Duration,
}

/// Validate `[timeouts]`: the ones a request waits on must not be zero.
pub(super) fn validate(c: &Checker<'_>, t: &TimeoutsSection) -> Result<Timeouts, ConfigError> {
    let timeouts = Timeouts {
        header_read: c.duration(
            "timeouts.header_read",
            &t.header_read,
            Duration::from_secs(15),
        )?,
        connect: c.duration("timeouts.connect", &t.connect, Duration::from_secs(2))?,
        response: c.duration("timeouts.response", &t.response, Duration::from_secs(30))?,
        upstream_idle: c.duration(
            "timeouts.upstream_idle",
            &t.upstream_idle,
            Duration::from_secs(60),
        )?,
        shutdown_grace: c.duration(
            "timeouts.shutdown_grace",
            &t.shutdown_grace,
            Duration::from_secs(20),
        )?,
        client_send: c.duration(
            "timeouts.client_send",
            &t.client_send,
            Duration::from_secs(30),
        )?,
        upgrade_idle: c.duration(
            "timeouts.upgrade_idle",
            &t.upgrade_idle,
            Duration::from_secs(60),
        )?,
        client_idle: c.duration(
            "timeouts.client_idle",
            &t.client_idle,
            Duration::from_secs(60),
        )?,
    };
    for (key, d) in [
        ("timeouts.header_read", timeouts.header_read),
        ("timeouts.connect", timeouts.connect),
        ("timeouts.response", timeouts.response),
        ("timeouts.client_send", timeouts.client_send),
        ("timeouts.upgrade_idle", timeouts.upgrade_idle),
        ("timeouts.client_idle", timeouts.client_idle),
    ] {
        if d.is_zero() {
            return Err(c.err(key, "must be greater than zero"));
        }
    }
    Ok(timeouts)
}
