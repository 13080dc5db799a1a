//! `[limits]`: the default request body limit, the request head limit, and
//! the caps on what one client may hold open (connections per address,
//! HTTP/2 streams per connection).

use serde::Serialize;

use super::error::{Checker, ConfigError};
use super::schema::LimitsSection;

/// Most connections one client address may hold, when not set: enough for
/// browsers behind a shared NAT, few enough that one address cannot take
/// the gateway's file descriptors.
const CONNECTIONS_PER_CLIENT: usize = 256;
/// Highest `limits.connections_per_client`.
const MAX_CONNECTIONS_PER_CLIENT: usize = 1_000_000;
/// HTTP/2 streams at once per connection, when not set (NGINX's default).
const HTTP2_STREAMS: u32 = 128;
/// Highest `limits.http2_max_concurrent_streams`.
const MAX_HTTP2_STREAMS: u32 = 10_000;

/// The validated `[limits]` section, in bytes.
pub(super) struct Limits {
    pub(super) body: u64,
    pub(super) headers: u64,
    pub(super) clients: ClientLimits,
}

/// What one client may hold open at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct ClientLimits {
    /// Connections open at once from one address (trusted proxies exempt).
    pub(crate) connections_per_client: usize,
    /// Streams at once on one HTTP/2 connection.
    pub(crate) http2_max_concurrent_streams: u32,
}

/// Validate `[limits]`.
pub(super) fn validate(c: &Checker<'_>, section: &LimitsSection) -> Result<Limits, ConfigError> {
    let body = c.size("limits.body", &section.body, 1024 * 1024)?;
    let headers = c.size("limits.headers", &section.headers, 32 * 1024)?;
    if !(1024..=1024 * 1024).contains(&headers) {
        return Err(c.err("limits.headers", "must be between 1KiB and 1MiB"));
    }
    let connections_per_client = section
        .connections_per_client
        .unwrap_or(CONNECTIONS_PER_CLIENT);
    if !(1..=MAX_CONNECTIONS_PER_CLIENT).contains(&connections_per_client) {
        return Err(c.err(
            "limits.connections_per_client",
            format!("must be between 1 and {MAX_CONNECTIONS_PER_CLIENT}"),
        ));
    }
    let http2_max_concurrent_streams = section
        .http2_max_concurrent_streams
        .unwrap_or(HTTP2_STREAMS);
    if !(1..=MAX_HTTP2_STREAMS).contains(&http2_max_concurrent_streams) {
        return Err(c.err(
            "limits.http2_max_concurrent_streams",
            format!("must be between 1 and {MAX_HTTP2_STREAMS}"),
        ));
    }
    Ok(Limits {
        body,
        headers,
        clients: ClientLimits {
            connections_per_client,
            http2_max_concurrent_streams,
        },
    })
}
