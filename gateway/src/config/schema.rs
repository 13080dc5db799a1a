//! The route table file as written: its TOML schema. Every key is
//! optional except a route's own fields; unknown keys are refused.
//! Validation into [`Config`](super::Config) happens section by section in
//! the sibling modules.

use std::collections::BTreeMap;

use common::config::LogFormat;
use serde::{Deserialize, Serialize};

use super::acme::AcmeSection;
use super::endpoint::EndpointEntry;
use super::health::{Balance, HealthCheckSection, OutlierSection};
use super::policies::{auth, compression, cors, header_rules, rate_limit};
use super::retry::{RetrySection, SplitSection};
use super::tls::TlsSection;
use super::units::{DurationText, SizeText};

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileConfig {
    /// `[listen]`: listener addresses.
    #[serde(default)]
    pub(crate) listen: ListenSection,
    /// `[limits]`: request size limits.
    #[serde(default)]
    pub(crate) limits: LimitsSection,
    /// `[timeouts]`: timeouts.
    #[serde(default)]
    pub(crate) timeouts: TimeoutsSection,
    /// `trusted_proxies`: networks whose forwarding headers are believed.
    #[serde(default)]
    pub(crate) trusted_proxies: Vec<String>,
    /// `[log]`: logging.
    #[serde(default)]
    pub(crate) log: LogSection,
    /// `[upstreams.<name>]`: named upstream services.
    #[serde(default)]
    pub(crate) upstreams: BTreeMap<String, UpstreamSection>,
    /// `[[routes]]`: prefix routes (the default server's).
    #[serde(default)]
    pub(crate) routes: Vec<RouteSection>,
    /// `[[servers]]`: virtual servers by host name, each with its routes.
    #[serde(default)]
    pub(crate) servers: Vec<super::servers::ServerSection>,
    /// `[tls]`: the HTTPS listener and its certificates.
    #[serde(default)]
    pub(crate) tls: TlsSection,
    /// `[acme]`: automatic certificates.
    #[serde(default)]
    pub(crate) acme: AcmeSection,
}

/// `[listen]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListenSection {
    /// Public listener (default `0.0.0.0:80`).
    pub(crate) public: Option<String>,
    /// Admin listener (default `127.0.0.1:9000`: loopback only).
    pub(crate) admin: Option<String>,
    /// Worker threads serving the public listener (default: one per core).
    pub(crate) workers: Option<usize>,
}

/// `[limits]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitsSection {
    /// Largest request body (default 1 MiB).
    pub(crate) body: Option<SizeText>,
    /// Largest request head: request line plus headers (default 32 KiB).
    pub(crate) headers: Option<SizeText>,
    /// Connections open at once from one client address, IPv6 per /64
    /// (default: no cap; trusted proxies exempt).
    pub(crate) connections_per_client: Option<usize>,
    /// Client connections open at once in all (default: from the open
    /// files limit).
    pub(crate) connections: Option<usize>,
    /// Streams at once on one HTTP/2 client connection (default 128).
    pub(crate) http2_max_concurrent_streams: Option<u32>,
}

/// `[timeouts]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TimeoutsSection {
    /// Time a client has to send a complete request head (default 15s).
    pub(crate) header_read: Option<DurationText>,
    /// Time to open a TCP connection to an upstream (default 2s).
    pub(crate) connect: Option<DurationText>,
    /// Time an upstream has to send its response head (default 30s).
    pub(crate) response: Option<DurationText>,
    /// Idle keep-alive connections to upstreams are closed after this (default 60s).
    pub(crate) upstream_idle: Option<DurationText>,
    /// How long in-flight requests may finish after SIGTERM (default 20s).
    pub(crate) shutdown_grace: Option<DurationText>,
    /// How long a client may take no response bytes before its response
    /// (and the upstream connection) is given up (default 30s).
    pub(crate) client_send: Option<DurationText>,
    /// An upgraded connection (WebSocket) with no bytes either way for this
    /// long is closed (default 60s).
    pub(crate) upgrade_idle: Option<DurationText>,
    /// An HTTP/1 keep-alive client connection waiting this long for its
    /// next request is closed (default 60s).
    pub(crate) client_idle: Option<DurationText>,
}

/// `[log]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LogSection {
    /// `pretty` or `json` (default `pretty`; env `LOG_FORMAT`).
    pub(crate) format: Option<LogFormat>,
    /// Tracing filter (default `info`; env `RUST_LOG`).
    pub(crate) level: Option<String>,
    /// One access-log line per request (default true).
    pub(crate) access: Option<bool>,
    /// Append the access log to this file (absolute path) instead of
    /// standard output.
    pub(crate) access_file: Option<String>,
    /// Per-thread access-log buffer (default 64KiB).
    pub(crate) access_buffer: Option<SizeText>,
    /// How often partial access-log buffers are written (default 1s).
    pub(crate) access_flush: Option<DurationText>,
}

/// `[upstreams.<name>]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpstreamSection {
    /// Endpoint URLs (`http://host:port`, or `{ url, weight }`); env
    /// `<NAME>_UPSTREAM` overrides.
    #[serde(default)]
    pub(crate) endpoints: Vec<EndpointEntry>,
    /// How often host names are re-resolved (default 5s).
    pub(crate) resolve_interval: Option<DurationText>,
    /// Connect timeout for this upstream (default `timeouts.connect`).
    pub(crate) connect_timeout: Option<DurationText>,
    /// Replaced by `outlier`: refused with a message saying so.
    pub(crate) failure_cooldown: Option<DurationText>,
    /// `p2c` (default) or `round_robin`.
    pub(crate) balance: Option<Balance>,
    /// `[upstreams.<name>.health_check]`: active HTTP checks.
    pub(crate) health_check: Option<HealthCheckSection>,
    /// `[upstreams.<name>.outlier]`: passive outlier detection.
    pub(crate) outlier: Option<OutlierSection>,
    /// Idle keep-alive connections kept per endpoint (default 256).
    pub(crate) max_idle_per_endpoint: Option<usize>,
    /// Connections open at once per endpoint and worker (default 128);
    /// further requests wait for one to come back.
    pub(crate) max_connections_per_endpoint: Option<usize>,
    /// Connections one client's requests may hold per endpoint and worker
    /// (default: no share beyond `max_connections_per_endpoint`).
    pub(crate) max_connections_per_client: Option<usize>,
}

/// `[[routes]]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RouteSection {
    /// Path prefix, starting and ending with `/` (`/users/`); or `location`.
    #[serde(default)]
    pub(crate) prefix: String,
    /// Upstream name (a key of `[upstreams]`); required unless `split`.
    #[serde(default)]
    pub(crate) upstream: String,
    /// Upstreams sharing the route's requests by weight (canary), instead of `upstream`.
    #[serde(default)]
    pub(crate) split: Vec<SplitSection>,
    /// `[routes.retry]`: retries on another endpoint.
    pub(crate) retry: Option<RetrySection>,
    /// Strip the prefix before forwarding (default true).
    pub(crate) strip_prefix: Option<bool>,
    /// `client` (keep the client's Host, default) or `upstream` (the endpoint URL's authority).
    pub(crate) host: Option<HostPolicy>,
    /// Body limit for this route (default `limits.body`).
    pub(crate) body_limit: Option<SizeText>,
    /// Response timeout for this route (default `timeouts.response`).
    pub(crate) response_timeout: Option<DurationText>,
    /// Pass WebSocket and other `Upgrade` requests through (default false:
    /// the request goes upstream as a plain one, as NGINX sends it).
    pub(crate) upgrades: Option<bool>,
    /// `[routes.rate_limit]`: token buckets per client.
    pub(crate) rate_limit: Option<rate_limit::RateLimitSection>,
    /// `[routes.cors]`: cross-origin requests from browsers.
    pub(crate) cors: Option<cors::CorsSection>,
    /// `[routes.compression]`: gzip, brotli, zstd responses.
    pub(crate) compression: Option<compression::CompressionSection>,
    /// `[routes.headers]`: header rules.
    pub(crate) headers: Option<header_rules::HeaderRulesSection>,
    /// `[routes.auth]`: access tokens verified at the edge.
    pub(crate) auth: Option<auth::AuthSection>,
    /// NGINX's location instead of `prefix`: `= /exact`, `/prefix`,
    /// `^~ /prefix`, `~ regex`, `~* regex`, `@name`.
    pub(crate) location: Option<String>,
    /// The path the upstream receives, built from variables and captures
    /// (`/v2/$1`), instead of the (stripped) request path.
    pub(crate) upstream_path: Option<String>,
    /// Reachable only from inside (`X-Accel-Redirect`, error pages,
    /// rewrites): `404` to clients.
    pub(crate) internal: Option<bool>,
    /// `[routes.return]`: answer at the edge (redirect or status and body).
    #[serde(rename = "return")]
    pub(crate) return_: Option<super::locations::ReturnSection>,
    /// `[[routes.rewrite]]`: NGINX's `rewrite`, in order.
    #[serde(default)]
    pub(crate) rewrite: Vec<super::locations::RewriteSection>,
    /// `[routes.proxy_redirect]`: the upstream's own URLs in `Location`
    /// and `Refresh` rewritten.
    pub(crate) proxy_redirect: Option<super::redirects::ProxyRedirectSection>,
    /// Error pages: statuses answered by an internal URI or named route.
    #[serde(default)]
    pub(crate) error_pages: Vec<super::locations::ErrorPageSection>,
    /// Error pages also replace the upstream's own error answers
    /// (NGINX's `proxy_intercept_errors`; default false).
    pub(crate) intercept_errors: Option<bool>,
    /// `[routes.files]`: static files (NGINX's `root`/`alias`, `index`,
    /// `try_files`, `expires`) as the content handler.
    pub(crate) files: Option<super::files::FilesSection>,
    /// `[routes.basic_auth]`: HTTP Basic authentication from an htpasswd file.
    pub(crate) basic_auth: Option<super::policies::basic_auth::BasicAuthSection>,
    /// `allow` / `deny` rules in order (`["allow 10.0.0.0/8", "deny all"]`).
    #[serde(default)]
    pub(crate) access: Vec<String>,
}

/// Which `Host` the upstream receives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum HostPolicy {
    /// The client's `Host` (or HTTP/2 `:authority`), like `proxy_set_header Host $host`.
    #[default]
    Client,
    /// The authority of the upstream's endpoint URL.
    Upstream,
}
