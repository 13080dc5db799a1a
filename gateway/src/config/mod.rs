//! Configuration: the route table file (TOML), the environment overlay on
//! top of it, and validation into a [`Config`], one function per section.
//!
//! - [`schema`]: the file as written;
//! - [`listen`], [`limits`], [`timeouts`], [`trusted`], [`log`],
//!   [`upstreams`], [`routes`]: one `validate` per section, each reading its
//!   own environment variables through [`overlay`];
//! - [`error`]: the refusals, always `file: key: problem`, e.g.
//!   `gateway.toml: routes[1].upstream: unknown upstream `prodcts` (defined: products, users)`.
//!
//! A traffic policy's settings get a key in [`schema::RouteSection`], a
//! check in [`routes`] and a field in [`RouteConfig`].

mod acme;
mod endpoint;
mod envsubst;
mod error;
pub(crate) mod files;
mod health;
pub(crate) mod htpasswd;
mod limits;
mod listen;
mod locations;
mod log;
mod overlay;
pub(crate) mod pattern;
pub(crate) mod policies;
pub(crate) mod redirects;
mod retry;
mod routes;
mod schema;
mod servers;
mod syntax;
pub(crate) mod template;
mod timeouts;
mod tls;
mod trusted;
mod units;
mod upstreams;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use common::config::LogFormat;
use ipnet::IpNet;
use serde::Serialize;

pub(crate) use acme::AcmeConfig;
pub(crate) use endpoint::EndpointUrl;
pub use error::ConfigError;
pub(crate) use health::{Balance, HealthCheck, Outlier};
pub(crate) use limits::ClientLimits;
pub(crate) use locations::{
    AccessRule, CLOSE_WITHOUT_ANSWER, ErrorPage, Location, ReturnConfig, RewriteFlag, RewriteRule,
};
pub(crate) use log::AccessOutput;
pub(crate) use overlay::Overrides;
pub use overlay::TlsOverride;
pub(crate) use retry::{RetryConfig, SplitTarget};
pub(crate) use routes::RouteConfig;
pub(crate) use schema::HostPolicy;
pub(crate) use servers::{ListenOn, Listener, ServerConfig, ServerName};
pub(crate) use timeouts::Timeouts;
pub(crate) use tls::{CertPaths, TlsConfig, UnknownSni};
pub(crate) use upstreams::UpstreamConfig;

use error::Checker;
use overlay::Env;
use schema::FileConfig;

/// A validated configuration: what the gateway serves (and what the admin
/// `/config` endpoint shows).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Config {
    /// The file it came from.
    pub(crate) source: PathBuf,
    /// Public listener.
    pub(crate) listen: SocketAddr,
    /// Admin listener.
    pub(crate) admin_listen: SocketAddr,
    /// Worker threads (each with its own event loop and upstream pools).
    pub(crate) workers: usize,
    /// Default body limit in bytes.
    pub(crate) body_limit: u64,
    /// Largest request head in bytes.
    pub(crate) header_limit: u64,
    /// What one client may hold open (connections, HTTP/2 streams).
    pub(crate) client_limits: ClientLimits,
    /// Timeouts.
    pub(crate) timeouts: Timeouts,
    /// Networks whose forwarding headers are believed.
    #[serde(serialize_with = "trusted::serialize_networks")]
    pub(crate) trusted_proxies: Vec<IpNet>,
    /// Log output format.
    pub(crate) log_format: LogFormat,
    /// Tracing filter.
    pub(crate) log_level: String,
    /// Whether the access log is on.
    pub(crate) access_log: bool,
    /// Where and how the access log is written.
    pub(crate) access_output: AccessOutput,
    /// Upstreams by name.
    pub(crate) upstreams: BTreeMap<String, UpstreamConfig>,
    /// Routes, in file order (the default server's).
    pub(crate) routes: Vec<RouteConfig>,
    /// Virtual servers by host name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) servers: Vec<ServerConfig>,
    /// The HTTPS listener, when configured.
    pub(crate) tls: Option<TlsConfig>,
    /// Automatic certificates, when domains are named.
    pub(crate) acme: Option<AcmeConfig>,
}

impl Config {
    /// The listeners it asks for: `listen.public`, `tls.listen` (when on),
    /// then the servers' own (`[[servers]] listen`, `listen_tls`).
    pub(crate) fn listeners(&self) -> Vec<Listener> {
        servers::listeners(
            self.listen,
            self.tls.as_ref().map(|t| t.listen),
            &self.servers,
        )
    }

    /// Read, override and validate `path`.
    pub(crate) fn load(path: &Path, overrides: &Overrides) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            file: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Self::parse(path, &text, overrides)
    }

    /// Validate `text` as the contents of `path`.
    pub(crate) fn parse(
        path: &Path,
        text: &str,
        overrides: &Overrides,
    ) -> Result<Config, ConfigError> {
        Self::parse_in(path, text, overrides, Env::of(overrides))
    }

    /// [`Config::parse`] with the environment given.
    fn parse_in(
        path: &Path,
        text: &str,
        overrides: &Overrides,
        env: Env<'_>,
    ) -> Result<Config, ConfigError> {
        let c = Checker { file: path };
        let file = read_file(&c, path, text, env)?;
        // Section by section, in file order, so the first problem is reported.
        let listen = listen::validate(&c, &file.listen, env, overrides)?;
        let limits = limits::validate(&c, &file.limits)?;
        let timeouts = timeouts::validate(&c, &file.timeouts)?;
        let trusted_proxies = trusted::validate(&c, &file.trusted_proxies, env)?;
        let log = log::validate(&c, &file.log, env)?;
        let upstreams = upstreams::validate(&c, &file.upstreams, &timeouts, env, overrides)?;
        let routes = routes::validate(
            &c,
            "routes",
            &file.routes,
            &upstreams,
            limits.body,
            &timeouts,
            &[],
        )?;
        let servers = servers::validate(&c, &file.servers, |key, sections, groups| {
            routes::validate(
                &c,
                key,
                sections,
                &upstreams,
                limits.body,
                &timeouts,
                groups,
            )
        })?;
        if routes.is_empty() && servers.is_empty() {
            return Err(c.err("routes", "at least one [[routes]] entry is required"));
        }
        let acme = acme::validate(&c, &file.acme, env)?;
        let tls = tls::validate(&c, &file.tls, env, overrides, acme.is_some())?;
        if acme.is_some() && tls.is_none() {
            return Err(c.err(
                "acme.domains",
                "certificates need the HTTPS listener (tls.listen / GATEWAY_TLS_LISTEN)",
            ));
        }
        if let Some(tls) = &tls
            && (tls.listen == listen.public || tls.listen == listen.admin)
            && tls.listen.port() != 0
        {
            return Err(c.err(
                "tls.listen",
                format!(
                    "the HTTPS listener must differ from the others ({})",
                    tls.listen
                ),
            ));
        }
        servers::check_listeners(
            &c,
            &servers,
            listen.public,
            listen.admin,
            tls.as_ref().map(|t| t.listen),
            !routes.is_empty(),
        )?;
        Ok(Config {
            source: path.to_path_buf(),
            listen: listen.public,
            admin_listen: listen.admin,
            workers: listen.workers,
            body_limit: limits.body,
            header_limit: limits.headers,
            client_limits: limits.clients,
            timeouts,
            trusted_proxies,
            log_format: log.format,
            log_level: log.level,
            access_log: log.access,
            access_output: log.access_output,
            upstreams,
            routes,
            servers,
            tls,
            acme,
        })
    }
}

/// The file's schema types, its `${NAME}` placeholders replaced (syntax
/// errors keep their line: the text is read as written first).
fn read_file(
    c: &Checker<'_>,
    path: &Path,
    text: &str,
    env: Env<'_>,
) -> Result<FileConfig, ConfigError> {
    let syntax = |e: toml::de::Error| ConfigError::Syntax {
        file: path.to_path_buf(),
        message: syntax::describe_syntax_error(text, &e),
    };
    let file: FileConfig = toml::from_str(text).map_err(syntax)?;
    if !text.contains("${") {
        return Ok(file);
    }
    let mut table: toml::Table = toml::from_str(text).map_err(syntax)?;
    if !envsubst::substitute(c, &mut table, env)? {
        return Ok(file);
    }
    toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| ConfigError::Syntax {
            file: path.to_path_buf(),
            message: format!("after replacing `${{...}}` placeholders: {}", e.message()),
        })
}
