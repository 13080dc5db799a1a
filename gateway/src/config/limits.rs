//! `[limits]`: the default request body limit, the request head limit, and
//! the caps on what clients may hold open (connections in all, connections
//! per client, HTTP/2 streams per connection).

use serde::Serialize;

use super::error::{Checker, ConfigError};
use super::schema::LimitsSection;

/// Highest `limits.connections_per_client`.
const MAX_CONNECTIONS_PER_CLIENT: usize = 1_000_000;
/// Highest `limits.connections`.
const MAX_CONNECTIONS: usize = 10_000_000;
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

/// What one client, and all clients together, may hold open at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct ClientLimits {
    /// Connections open at once from one client (an IPv4 address or an
    /// IPv6 /64; trusted proxies exempt); `None`: no per-client cap (the
    /// default, safe for offices and carrier-grade NAT).
    pub(crate) connections_per_client: Option<usize>,
    /// Client connections open at once, all clients together.
    pub(crate) connections: usize,
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
    let connections_per_client = section.connections_per_client;
    if let Some(cap) = connections_per_client
        && !(1..=MAX_CONNECTIONS_PER_CLIENT).contains(&cap)
    {
        return Err(c.err(
            "limits.connections_per_client",
            format!(
                "must be between 1 and {MAX_CONNECTIONS_PER_CLIENT} (leave it out for no per-client cap)"
            ),
        ));
    }
    let connections = section.connections.unwrap_or_else(|| {
        crate::client_limit::default_connection_cap(crate::client_limit::open_files_limit())
    });
    if !(1..=MAX_CONNECTIONS).contains(&connections) {
        return Err(c.err(
            "limits.connections",
            format!("must be between 1 and {MAX_CONNECTIONS}"),
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
            connections,
            http2_max_concurrent_streams,
        },
    })
}
