//! The route table file: its TOML schema, the overrides applied on top of it
//! (environment, launcher options) and validation into a [`Config`].
//!
//! Validation reports the first problem as `file: key: problem`, e.g.
//! `gateway.toml: routes[1].upstream: unknown upstream `prodcts` (defined: products, users)`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::config::LogFormat;
use serde::{Deserialize, Serialize};

use crate::cidr::Cidr;
use crate::units::{DurationText, SizeText};

/// Why a configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{file}: cannot read: {message}")]
    Read {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        message: String,
    },
    /// The file is not valid TOML or does not match the schema.
    #[error("{file}: {message}")]
    Syntax {
        /// The file.
        file: PathBuf,
        /// The parser's message (with line and column).
        message: String,
    },
    /// A setting has an invalid value.
    #[error("{file}: {key}: {problem}")]
    Invalid {
        /// The file (or `environment` for overrides).
        file: PathBuf,
        /// The key, as written in the file (`routes[0].prefix`) or the variable name.
        key: String,
        /// What is wrong.
        problem: String,
    },
}

/// The file as written (every key optional except routes' own fields).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `[listen]`: listener addresses.
    #[serde(default)]
    pub listen: ListenSection,
    /// `[limits]`: request size limits.
    #[serde(default)]
    pub limits: LimitsSection,
    /// `[timeouts]`: timeouts.
    #[serde(default)]
    pub timeouts: TimeoutsSection,
    /// `trusted_proxies`: networks whose forwarding headers are believed.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// `[log]`: logging.
    #[serde(default)]
    pub log: LogSection,
    /// `[upstreams.<name>]`: named upstream services.
    #[serde(default)]
    pub upstreams: BTreeMap<String, UpstreamSection>,
    /// `[[routes]]`: prefix routes.
    #[serde(default)]
    pub routes: Vec<RouteSection>,
}

/// `[listen]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ListenSection {
    /// Public listener (default `0.0.0.0:80`).
    pub public: Option<String>,
    /// Admin listener (default `0.0.0.0:9000`).
    pub admin: Option<String>,
    /// Worker threads serving the public listener (default: one per core).
    pub workers: Option<usize>,
}

/// `[limits]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    /// Largest request body (default 1 MiB).
    pub body: Option<SizeText>,
    /// Largest request head: request line plus headers (default 32 KiB).
    pub headers: Option<SizeText>,
}

/// `[timeouts]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TimeoutsSection {
    /// Time a client has to send a complete request head (default 15s).
    pub header_read: Option<DurationText>,
    /// Time to open a TCP connection to an upstream (default 2s).
    pub connect: Option<DurationText>,
    /// Time an upstream has to send its response head (default 30s).
    pub response: Option<DurationText>,
    /// Idle keep-alive connections to upstreams are closed after this (default 60s).
    pub upstream_idle: Option<DurationText>,
    /// How long in-flight requests may finish after SIGTERM (default 20s).
    pub shutdown_grace: Option<DurationText>,
}

/// `[log]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    /// `pretty` or `json` (default `pretty`; env `LOG_FORMAT`).
    pub format: Option<LogFormat>,
    /// Tracing filter (default `info`; env `RUST_LOG`).
    pub level: Option<String>,
    /// One access-log line per request (default true).
    pub access: Option<bool>,
}

/// `[upstreams.<name>]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamSection {
    /// Endpoint URLs (`http://host:port`); env `<NAME>_UPSTREAM` overrides.
    #[serde(default)]
    pub endpoints: Vec<String>,
    /// How often host names are re-resolved (default 5s).
    pub resolve_interval: Option<DurationText>,
    /// Connect timeout for this upstream (default `timeouts.connect`).
    pub connect_timeout: Option<DurationText>,
    /// How long an endpoint that failed to connect is skipped (default 5s).
    pub failure_cooldown: Option<DurationText>,
    /// Idle keep-alive connections kept per endpoint (default 256).
    pub max_idle_per_endpoint: Option<usize>,
    /// Connections open at once per endpoint and worker (default 128);
    /// further requests wait for one to come back.
    pub max_connections_per_endpoint: Option<usize>,
}

/// `[[routes]]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSection {
    /// Path prefix, starting and ending with `/` (`/users/`).
    pub prefix: String,
    /// Upstream name (a key of `[upstreams]`).
    pub upstream: String,
    /// Strip the prefix before forwarding (default true).
    pub strip_prefix: Option<bool>,
    /// `client` (keep the client's Host, default) or `upstream` (the endpoint URL's authority).
    pub host: Option<HostPolicy>,
    /// Body limit for this route (default `limits.body`).
    pub body_limit: Option<SizeText>,
    /// Response timeout for this route (default `timeouts.response`).
    pub response_timeout: Option<DurationText>,
}

/// Which `Host` the upstream receives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HostPolicy {
    /// The client's `Host` (or HTTP/2 `:authority`), like `proxy_set_header Host $host`.
    #[default]
    Client,
    /// The authority of the upstream's endpoint URL.
    Upstream,
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    /// The file it came from.
    pub source: PathBuf,
    /// Public listener.
    pub listen: SocketAddr,
    /// Admin listener.
    pub admin_listen: SocketAddr,
    /// Worker threads (each with its own event loop and upstream pools).
    pub workers: usize,
    /// Default body limit in bytes.
    pub body_limit: u64,
    /// Largest request head in bytes.
    pub header_limit: u64,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// Networks whose forwarding headers are believed.
    #[serde(serialize_with = "display_list")]
    pub trusted_proxies: Vec<Cidr>,
    /// Log output format.
    pub log_format: LogFormat,
    /// Tracing filter.
    pub log_level: String,
    /// Whether the access log is on.
    pub access_log: bool,
    /// Upstreams by name.
    pub upstreams: BTreeMap<String, UpstreamConfig>,
    /// Routes, in file order.
    pub routes: Vec<RouteConfig>,
}

/// Validated timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Timeouts {
    /// Client request-head deadline.
    #[serde(serialize_with = "secs")]
    pub header_read: Duration,
    /// Default upstream connect timeout.
    #[serde(serialize_with = "secs")]
    pub connect: Duration,
    /// Default upstream response-head timeout.
    #[serde(serialize_with = "secs")]
    pub response: Duration,
    /// Idle upstream connection lifetime.
    #[serde(serialize_with = "secs")]
    pub upstream_idle: Duration,
    /// Drain period on shutdown.
    #[serde(serialize_with = "secs")]
    pub shutdown_grace: Duration,
}

/// A validated upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpstreamConfig {
    /// Name (the `[upstreams.<name>]` key).
    pub name: String,
    /// Endpoints.
    pub endpoints: Vec<EndpointUrl>,
    /// Re-resolution period.
    #[serde(serialize_with = "secs")]
    pub resolve_interval: Duration,
    /// Connect timeout.
    #[serde(serialize_with = "secs")]
    pub connect_timeout: Duration,
    /// Skip period after a connect failure.
    #[serde(serialize_with = "secs")]
    pub failure_cooldown: Duration,
    /// Idle keep-alive connections per endpoint.
    pub max_idle_per_endpoint: usize,
    /// Open connections per endpoint and worker thread.
    pub max_connections_per_endpoint: usize,
    /// Idle connection lifetime.
    #[serde(serialize_with = "secs")]
    pub idle_timeout: Duration,
}

/// An `http://host:port` endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointUrl {
    /// Host name or IP literal (IPv6 without brackets).
    pub host: String,
    /// Port (80 when the URL has none).
    pub port: u16,
}

impl EndpointUrl {
    /// Parse `http://host[:port][/]`.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        let uri: http::Uri = url
            .parse()
            .map_err(|e| format!("`{url}` is not a URL: {e}"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(other) => {
                return Err(format!(
                    "`{url}`: scheme `{other}` is not supported (use http://)"
                ));
            }
            None => return Err(format!("`{url}` needs a scheme (http://host:port)")),
        }
        let authority = uri
            .authority()
            .ok_or_else(|| format!("`{url}` has no host"))?;
        if authority.as_str().contains('@') {
            return Err(format!(
                "`{url}`: credentials in upstream URLs are not supported"
            ));
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(format!(
                "`{url}`: an upstream URL has no path (routes decide the path)"
            ));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        if host.is_empty() {
            return Err(format!("`{url}` has no host"));
        }
        Ok(EndpointUrl {
            host,
            port: authority.port_u16().unwrap_or(80),
        })
    }

    /// `host:port` as a `Host` header value.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for EndpointUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}", self.authority())
    }
}

/// A validated route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteConfig {
    /// Prefix, starting and ending with `/`.
    pub prefix: String,
    /// Upstream name.
    pub upstream: String,
    /// Whether the prefix is stripped.
    pub strip_prefix: bool,
    /// Host policy.
    pub host: HostPolicy,
    /// Body limit in bytes.
    pub body_limit: u64,
    /// Response-head timeout.
    #[serde(serialize_with = "secs")]
    pub response_timeout: Duration,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{}ms", d.as_millis()))
}

fn display_list<S: serde::Serializer, T: fmt::Display>(
    items: &[T],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(items.iter().map(ToString::to_string))
}

/// Settings applied on top of the file (launcher options, environment).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Public listener.
    pub listen: Option<SocketAddr>,
    /// Admin listener.
    pub admin_listen: Option<SocketAddr>,
    /// `(upstream name, comma-separated URLs)`.
    pub upstreams: Vec<(String, String)>,
    /// Also read `GATEWAY_LISTEN`, `GATEWAY_ADMIN_LISTEN`, `GATEWAY_TRUSTED_PROXIES`,
    /// `LOG_FORMAT`, `RUST_LOG` and `<NAME>_UPSTREAM` from the process environment.
    pub use_process_env: bool,
}

/// The environment variable overriding an upstream's endpoints:
/// the name upper-cased, every non-alphanumeric character turned into `_`,
/// then `_UPSTREAM` (`users` -> `USERS_UPSTREAM`, `web-shop` -> `WEB_SHOP_UPSTREAM`).
pub fn upstream_env_var(name: &str) -> String {
    let mut var: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    var.push_str("_UPSTREAM");
    var
}

impl Config {
    /// Read, override and validate `path`.
    pub fn load(path: &Path, overrides: &Overrides) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            file: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Self::parse(path, &text, overrides)
    }

    /// Validate `text` as the contents of `path`.
    pub fn parse(path: &Path, text: &str, overrides: &Overrides) -> Result<Config, ConfigError> {
        let file: FileConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            file: path.to_path_buf(),
            message: describe_syntax_error(text, &e),
        })?;
        Validator { path }.validate(file, overrides)
    }
}

struct Validator<'a> {
    path: &'a Path,
}

const ENV: &str = "environment";

impl Validator<'_> {
    fn err(&self, key: impl Into<String>, problem: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            file: self.path.to_path_buf(),
            key: key.into(),
            problem: problem.into(),
        }
    }

    fn env_err(var: &str, problem: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            file: PathBuf::from(ENV),
            key: var.to_string(),
            problem: problem.into(),
        }
    }

    fn duration(
        &self,
        key: &str,
        value: &Option<DurationText>,
        default: Duration,
    ) -> Result<Duration, ConfigError> {
        match value {
            None => Ok(default),
            Some(v) => v.parse().map_err(|p| self.err(key, p)),
        }
    }

    fn size(&self, key: &str, value: &Option<SizeText>, default: u64) -> Result<u64, ConfigError> {
        match value {
            None => Ok(default),
            Some(v) => v.parse().map_err(|p| self.err(key, p)),
        }
    }

    fn addr(
        &self,
        key: &str,
        value: &Option<String>,
        default: SocketAddr,
    ) -> Result<SocketAddr, ConfigError> {
        match value {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|_| {
                self.err(
                    key,
                    format!("`{v}` is not an address (expected e.g. 0.0.0.0:80)"),
                )
            }),
        }
    }

    fn validate(&self, file: FileConfig, o: &Overrides) -> Result<Config, ConfigError> {
        let env = |var: &str| {
            if o.use_process_env {
                std::env::var(var).ok().filter(|v| !v.trim().is_empty())
            } else {
                None
            }
        };

        let mut listen = self.addr(
            "listen.public",
            &file.listen.public,
            SocketAddr::from(([0, 0, 0, 0], 80)),
        )?;
        if let Some(v) = env("GATEWAY_LISTEN") {
            listen = v.trim().parse().map_err(|_| {
                Self::env_err(
                    "GATEWAY_LISTEN",
                    format!("`{v}` is not an address (expected e.g. 0.0.0.0:80)"),
                )
            })?;
        }
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let mut workers = file.listen.workers.unwrap_or(0);
        if let Some(v) = env("GATEWAY_WORKERS") {
            workers = v
                .trim()
                .parse()
                .map_err(|_| Self::env_err("GATEWAY_WORKERS", format!("`{v}` is not a number")))?;
        }
        if workers > 1024 {
            return Err(self.err("listen.workers", "must be at most 1024 (0: one per core)"));
        }
        if workers == 0 {
            workers = cores;
        }
        let mut admin_listen = self.addr(
            "listen.admin",
            &file.listen.admin,
            SocketAddr::from(([0, 0, 0, 0], 9000)),
        )?;
        if let Some(v) = env("GATEWAY_ADMIN_LISTEN") {
            admin_listen = v.trim().parse().map_err(|_| {
                Self::env_err(
                    "GATEWAY_ADMIN_LISTEN",
                    format!("`{v}` is not an address (expected e.g. 0.0.0.0:9000)"),
                )
            })?;
        }
        if let Some(a) = o.listen {
            listen = a;
        }
        if let Some(a) = o.admin_listen {
            admin_listen = a;
        }
        if listen == admin_listen && listen.port() != 0 {
            return Err(self.err(
                "listen.admin",
                format!("the admin listener must differ from the public one ({listen})"),
            ));
        }

        let body_limit = self.size("limits.body", &file.limits.body, 1024 * 1024)?;
        let header_limit = self.size("limits.headers", &file.limits.headers, 32 * 1024)?;
        if !(1024..=1024 * 1024).contains(&header_limit) {
            return Err(self.err("limits.headers", "must be between 1KiB and 1MiB"));
        }

        let t = &file.timeouts;
        let timeouts = Timeouts {
            header_read: self.duration(
                "timeouts.header_read",
                &t.header_read,
                Duration::from_secs(15),
            )?,
            connect: self.duration("timeouts.connect", &t.connect, Duration::from_secs(2))?,
            response: self.duration("timeouts.response", &t.response, Duration::from_secs(30))?,
            upstream_idle: self.duration(
                "timeouts.upstream_idle",
                &t.upstream_idle,
                Duration::from_secs(60),
            )?,
            shutdown_grace: self.duration(
                "timeouts.shutdown_grace",
                &t.shutdown_grace,
                Duration::from_secs(20),
            )?,
        };
        for (key, d) in [
            ("timeouts.header_read", timeouts.header_read),
            ("timeouts.connect", timeouts.connect),
            ("timeouts.response", timeouts.response),
        ] {
            if d.is_zero() {
                return Err(self.err(key, "must be greater than zero"));
            }
        }

        let mut trusted_proxies = Vec::new();
        for (i, net) in file.trusted_proxies.iter().enumerate() {
            trusted_proxies.push(
                net.parse::<Cidr>()
                    .map_err(|p| self.err(format!("trusted_proxies[{i}]"), p))?,
            );
        }
        if let Some(v) = env("GATEWAY_TRUSTED_PROXIES") {
            trusted_proxies = v
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|s| s.parse::<Cidr>())
                .collect::<Result<_, _>>()
                .map_err(|p| Self::env_err("GATEWAY_TRUSTED_PROXIES", p))?;
        }

        let mut log_format = file.log.format.unwrap_or_default();
        if let Some(v) = env("LOG_FORMAT") {
            log_format = match v.trim().to_ascii_lowercase().as_str() {
                "json" => LogFormat::Json,
                "pretty" => LogFormat::Pretty,
                _ => {
                    return Err(Self::env_err(
                        "LOG_FORMAT",
                        format!("`{v}` is not `json` or `pretty`"),
                    ));
                }
            };
        }
        let log_level = env("RUST_LOG")
            .or(file.log.level.clone())
            .unwrap_or_else(|| "info".to_string());

        let mut upstreams = BTreeMap::new();
        for (name, u) in &file.upstreams {
            let key = format!("upstreams.{name}");
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(self.err(
                    &key,
                    "an upstream name may contain only letters, digits, `-` and `_`",
                ));
            }
            let mut endpoints = Vec::new();
            for (i, url) in u.endpoints.iter().enumerate() {
                endpoints.push(
                    EndpointUrl::parse(url)
                        .map_err(|p| self.err(format!("{key}.endpoints[{i}]"), p))?,
                );
            }
            let var = upstream_env_var(name);
            let from_env = env(&var).map(|v| (var.clone(), v));
            let from_opts = o
                .upstreams
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| (format!("upstream override `{name}`"), v.clone()));
            if let Some((source, list)) = from_opts.or(from_env) {
                endpoints = parse_endpoint_list(&list).map_err(|p| Self::env_err(&source, p))?;
            }
            if endpoints.is_empty() {
                return Err(self.err(
                    format!("{key}.endpoints"),
                    format!("at least one endpoint URL is required (or set {var})"),
                ));
            }
            let max_idle = u.max_idle_per_endpoint.unwrap_or(256);
            let max_connections = u.max_connections_per_endpoint.unwrap_or(128);
            if max_connections == 0 {
                return Err(self.err(
                    format!("{key}.max_connections_per_endpoint"),
                    "must be at least 1 (requests would wait forever)",
                ));
            }
            upstreams.insert(
                name.clone(),
                UpstreamConfig {
                    name: name.clone(),
                    endpoints,
                    resolve_interval: self.duration(
                        &format!("{key}.resolve_interval"),
                        &u.resolve_interval,
                        Duration::from_secs(5),
                    )?,
                    connect_timeout: self.duration(
                        &format!("{key}.connect_timeout"),
                        &u.connect_timeout,
                        timeouts.connect,
                    )?,
                    failure_cooldown: self.duration(
                        &format!("{key}.failure_cooldown"),
                        &u.failure_cooldown,
                        Duration::from_secs(5),
                    )?,
                    max_idle_per_endpoint: max_idle,
                    max_connections_per_endpoint: max_connections,
                    idle_timeout: timeouts.upstream_idle,
                },
            );
        }
        for (name, _) in &o.upstreams {
            if !upstreams.contains_key(name) {
                return Err(Self::env_err(
                    &format!("upstream override `{name}`"),
                    "no such upstream in the route table",
                ));
            }
        }

        let mut routes: Vec<RouteConfig> = Vec::new();
        for (i, r) in file.routes.iter().enumerate() {
            let key = format!("routes[{i}]");
            validate_prefix(&r.prefix).map_err(|p| self.err(format!("{key}.prefix"), p))?;
            if let Some(j) = routes.iter().position(|x| x.prefix == r.prefix) {
                return Err(self.err(
                    format!("{key}.prefix"),
                    format!("duplicate prefix `{}` (also routes[{j}])", r.prefix),
                ));
            }
            if !upstreams.contains_key(&r.upstream) {
                let known: Vec<&str> = upstreams.keys().map(String::as_str).collect();
                return Err(self.err(
                    format!("{key}.upstream"),
                    format!(
                        "unknown upstream `{}` (defined: {})",
                        r.upstream,
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    ),
                ));
            }
            routes.push(RouteConfig {
                prefix: r.prefix.clone(),
                upstream: r.upstream.clone(),
                strip_prefix: r.strip_prefix.unwrap_or(true),
                host: r.host.unwrap_or_default(),
                body_limit: self.size(&format!("{key}.body_limit"), &r.body_limit, body_limit)?,
                response_timeout: self.duration(
                    &format!("{key}.response_timeout"),
                    &r.response_timeout,
                    timeouts.response,
                )?,
            });
        }
        if routes.is_empty() {
            return Err(self.err("routes", "at least one [[routes]] entry is required"));
        }

        Ok(Config {
            source: self.path.to_path_buf(),
            listen,
            admin_listen,
            workers,
            body_limit,
            header_limit,
            timeouts,
            trusted_proxies,
            log_format,
            log_level,
            access_log: file.log.access.unwrap_or(true),
            upstreams,
            routes,
        })
    }
}

/// Parse a comma-separated list of endpoint URLs (the `<NAME>_UPSTREAM` format).
pub fn parse_endpoint_list(list: &str) -> Result<Vec<EndpointUrl>, String> {
    let endpoints: Vec<EndpointUrl> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(EndpointUrl::parse)
        .collect::<Result<_, _>>()?;
    if endpoints.is_empty() {
        return Err("no endpoint URL given".to_string());
    }
    Ok(endpoints)
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

/// `line L, column C: message (in [table])` for a TOML error.
fn describe_syntax_error(text: &str, err: &toml::de::Error) -> String {
    let message = err.message().trim_end().replace('\n', "; ");
    let Some(span) = err.span() else {
        return message.to_string();
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    let error_line = text.lines().nth(line - 1).unwrap_or("").trim_start();
    let table = before
        .lines()
        .filter(|_| !error_line.starts_with('['))
        .rev()
        .skip(1)
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|t| format!(" (in {t})"))
        .unwrap_or_default();
    format!("line {line}, column {column}: {message}{table}")
}
