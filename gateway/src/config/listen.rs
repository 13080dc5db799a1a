//! `[listen]`: the public and admin listeners and the worker threads
//! (env `GATEWAY_LISTEN`, `GATEWAY_ADMIN_LISTEN`, `GATEWAY_WORKERS`;
//! the launcher's addresses win over both).

use std::net::SocketAddr;

use super::error::{Checker, ConfigError};
use super::overlay::{Env, Overrides};
use super::schema::ListenSection;

/// Most worker threads a gateway may run.
const MAX_WORKERS: usize = 1024;

/// The validated `[listen]` section.
pub(super) struct Listen {
    pub(super) public: SocketAddr,
    pub(super) admin: SocketAddr,
    /// Resolved: never 0 (0 in the file means one per core).
    pub(super) workers: usize,
}

/// Validate `[listen]` with its environment variables and launcher overrides.
pub(super) fn validate(
    c: &Checker<'_>,
    section: &ListenSection,
    env: Env<'_>,
    overrides: &Overrides,
) -> Result<Listen, ConfigError> {
    let mut public = c.addr(
        "listen.public",
        &section.public,
        SocketAddr::from(([0, 0, 0, 0], 80)),
    )?;
    if let Some(v) = env.get("GATEWAY_LISTEN") {
        public = env_addr("GATEWAY_LISTEN", &v, "0.0.0.0:80")?;
    }
    let mut workers = section.workers.unwrap_or(0);
    if let Some(v) = env.get("GATEWAY_WORKERS") {
        workers = v
            .trim()
            .parse()
            .map_err(|_| Checker::env_err("GATEWAY_WORKERS", format!("`{v}` is not a number")))?;
    }
    if workers > MAX_WORKERS {
        return Err(c.err("listen.workers", "must be at most 1024 (0: one per core)"));
    }
    if workers == 0 {
        workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    }
    let mut admin = c.addr(
        "listen.admin",
        &section.admin,
        SocketAddr::from(([127, 0, 0, 1], 9000)),
    )?;
    if let Some(v) = env.get("GATEWAY_ADMIN_LISTEN") {
        admin = env_addr("GATEWAY_ADMIN_LISTEN", &v, "127.0.0.1:9000")?;
    }
    if let Some(a) = overrides.listen {
        public = a;
    }
    if let Some(a) = overrides.admin_listen {
        admin = a;
    }
    if public == admin && public.port() != 0 {
        return Err(c.err(
            "listen.admin",
            format!("the admin listener must differ from the public one ({public})"),
        ));
    }
    Ok(Listen {
        public,
        admin,
        workers,
    })
}

fn env_addr(var: &str, value: &str, example: &str) -> Result<SocketAddr, ConfigError> {
    value.trim().parse().map_err(|_| {
        Checker::env_err(
            var,
            format!("`{value}` is not an address (expected e.g. {example})"),
        )
    })
}
