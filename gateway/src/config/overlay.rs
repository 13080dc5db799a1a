//! The environment overlay: settings applied on top of the file, from the
//! process environment (`GATEWAY_LISTEN`, `<NAME>_UPSTREAM`, ...) and from
//! the launcher's options. Each section reads its own variables through
//! [`Env`]; precedence, lowest first: default, file, environment, launcher.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Settings applied on top of the file (launcher options, environment).
#[derive(Debug, Clone, Default)]
pub(crate) struct Overrides {
    /// Public listener.
    pub(crate) listen: Option<SocketAddr>,
    /// Admin listener.
    pub(crate) admin_listen: Option<SocketAddr>,
    /// `(upstream name, comma-separated URLs)`.
    pub(crate) upstreams: Vec<(String, String)>,
    /// HTTPS listener and its default pair (the launcher's local HTTPS).
    pub(crate) tls: Option<TlsOverride>,
    /// Also read `GATEWAY_LISTEN`, `GATEWAY_ADMIN_LISTEN`, `GATEWAY_WORKERS`,
    /// `GATEWAY_TRUSTED_PROXIES`, `LOG_FORMAT`, `RUST_LOG` and
    /// `<NAME>_UPSTREAM` from the process environment.
    pub(crate) use_process_env: bool,
}

/// An HTTPS listener with one certificate pair, set by the embedding
/// program (the launcher's local HTTPS): wins over the file and the
/// environment, like the other launcher options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsOverride {
    /// The HTTPS listener.
    pub listen: SocketAddr,
    /// Certificate chain (PEM).
    pub cert: PathBuf,
    /// Private key (PEM).
    pub key: PathBuf,
}

/// Where environment variables are read from.
#[derive(Debug, Clone, Copy)]
pub(super) enum Env<'a> {
    /// Nothing is read: the file and the launcher's options only.
    Ignored,
    /// The process environment.
    Process,
    /// Fixed variables (unit tests: the process environment is shared by
    /// every test thread).
    #[cfg_attr(not(test), allow(dead_code))]
    Fixed(&'a [(&'a str, &'a str)]),
}

impl Env<'_> {
    /// The environment the overrides ask for.
    pub(super) fn of(overrides: &Overrides) -> Self {
        if overrides.use_process_env {
            Env::Process
        } else {
            Env::Ignored
        }
    }

    /// The value of `var`; an empty (or blank) variable counts as unset.
    pub(super) fn get(self, var: &str) -> Option<String> {
        let value = match self {
            Env::Ignored => None,
            Env::Process => std::env::var(var).ok(),
            Env::Fixed(vars) => vars
                .iter()
                .find(|(name, _)| *name == var)
                .map(|(_, value)| (*value).to_string()),
        };
        value.filter(|v| !v.trim().is_empty())
    }
}

/// The environment variable overriding an upstream's endpoints:
/// the name upper-cased, every non-alphanumeric character turned into `_`,
/// then `_UPSTREAM` (`users` -> `USERS_UPSTREAM`, `web-shop` -> `WEB_SHOP_UPSTREAM`).
pub(super) fn upstream_env_var(name: &str) -> String {
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
