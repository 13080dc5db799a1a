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
    let connections = section
        .connections
        .unwrap_or_else(|| default_connection_cap(open_files_limit()));
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

/// The process's soft limit on open files (`/proc/self/limits`), if known.
pub(crate) fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_files_limit(&limits)
}

fn parse_open_files_limit(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line["Max open files".len()..].split_whitespace().next()?;
    match soft {
        "unlimited" => Some(u64::MAX),
        n => n.parse().ok(),
    }
}

/// `limits.connections` when not set: seven eighths of the open-files
/// limit (the rest stays for upstream connections, which are capped per
/// endpoint, and for files and logs), at least 64; 65,536 when the limit
/// cannot be read; at most 1,000,000.
pub(crate) fn default_connection_cap(open_files: Option<u64>) -> usize {
    let Some(files) = open_files else {
        return 65_536;
    };
    let cap = (files / 8).saturating_mul(7).clamp(64, 1_000_000);
    usize::try_from(cap).unwrap_or(1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_total_follows_the_open_files_limit() {
        let proc_limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                           Max cpu time              unlimited            unlimited            seconds   \n\
                           Max open files            20000                1048576              files     \n";
        assert_eq!(parse_open_files_limit(proc_limits), Some(20_000));
        assert_eq!(default_connection_cap(Some(20_000)), 17_500);
        assert_eq!(default_connection_cap(Some(1_024)), 896);
        assert_eq!(default_connection_cap(Some(16)), 64);
        assert_eq!(default_connection_cap(Some(u64::MAX)), 1_000_000);
        assert_eq!(default_connection_cap(None), 65_536);
        assert_eq!(
            parse_open_files_limit(
                "Max open files            unlimited            unlimited            files\n"
            ),
            Some(u64::MAX)
        );
        assert_eq!(parse_open_files_limit("nothing here"), None);
    }
}
