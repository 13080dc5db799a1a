//! The shop's API gateway: a reverse proxy on hyper that replaces NGINX.
//!
//! [`Gateway::bind`] loads the route table, binds the public and admin
//! listeners; [`Gateway::run`] serves until the shutdown future resolves,
//! then drains. [`cli`] is the `gateway` command line.
//!
//! Inside, by the path a request takes (`docs/GATEWAY.md` has the map):
//! `listen` (accept loops, first read) -> `proxy` (the named phases over
//! one per-request context) -> `policies` (per-route traffic policies) and
//! `upstreams` (pool, endpoint choice, health, resolution); `routes` is the
//! route table, `config` parses and validates, `reload` swaps tables,
//! `admin` serves the admin port, `access_log` and `metrics` record;
//! `tls` holds the certificates the HTTPS listener serves, `certificates`
//! reloads their files, `acme` obtains and renews them.
//! [`upstream_http1`] is an upstream HTTP/1 response codec without I/O
//! (head parser, body framing), checked against hyper's client; the
//! direct upstream exchange (`upstreams/wire.rs`) reads responses with it.

mod access_log;
mod acme;
mod admin;
mod certificates;
pub mod cli;
mod client_addr;
mod client_limit;
mod config;
mod content;
mod error;
mod files;
mod headers;
mod listen;
pub mod local_ca;
mod metrics;
pub mod nginx;
mod panics;
mod path;
mod policies;
mod proxy;
mod reload;
mod routes;
mod routing;
mod state;
mod stop;
mod tls;
mod trace_context;
mod trace_export;
pub mod upstream_http1;
mod upstreams;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwap;
use tokio::net::TcpListener;

pub use config::{ConfigError, TlsOverride};
pub use error::GatewayError;

use config::{Config, Overrides};
use state::{Active, Shared};

/// How to start a gateway.
#[derive(Debug, Clone)]
pub struct LaunchOptions {
    /// Route table file (TOML). Default used by the binary: gateway/gateway.toml, or GATEWAY_CONFIG env / --config flag.
    pub config_path: PathBuf,
    /// Overrides the file's public listener address when Some.
    pub listen: Option<SocketAddr>,
    /// Overrides the file's admin listener address when Some.
    pub admin_listen: Option<SocketAddr>,
    /// Upstream endpoint overrides: (upstream name, comma-separated URLs), same meaning as USERS_UPSTREAM=... env vars.
    pub upstreams: Vec<(String, String)>,
    /// An HTTPS listener with its certificate pair (over the file's `[tls]`), when Some.
    pub tls: Option<TlsOverride>,
    /// Whether to also read overrides (e.g. `<NAME>_UPSTREAM`) from the process environment.
    pub use_process_env: bool,
    /// Watch the config file for changes (hot reload). Tests may turn it off.
    pub watch: bool,
    /// Export the gateway's spans here; when `None`, the `OTEL_*`
    /// variables decide (only with `use_process_env`).
    pub trace_export: Option<common::telemetry::otlp::Export>,
}

impl LaunchOptions {
    /// Options for `config_path` with no overrides, environment ignored, watching on.
    pub fn new(config_path: impl Into<PathBuf>) -> Self {
        LaunchOptions {
            config_path: config_path.into(),
            listen: None,
            admin_listen: None,
            upstreams: Vec::new(),
            tls: None,
            use_process_env: false,
            watch: true,
            trace_export: None,
        }
    }

    fn overrides(&self) -> Overrides {
        Overrides {
            listen: self.listen,
            admin_listen: self.admin_listen,
            upstreams: self.upstreams.clone(),
            tls: self.tls.clone(),
            use_process_env: self.use_process_env,
        }
    }
}

/// A gateway with its listeners bound, ready to [`run`](Gateway::run).
#[derive(Debug)]
pub struct Gateway {
    shared: Arc<Shared>,
    public: std::net::TcpListener,
    admin: TcpListener,
    /// The HTTPS listener, when `[tls]` sets one.
    tls: Option<std::net::TcpListener>,
    /// The servers' own listeners (`[[servers]] listen`, `listen_tls`), in
    /// the order of [`config::Config::listeners`] after the default ones.
    own: Vec<std::net::TcpListener>,
    local_addr: SocketAddr,
    admin_addr: SocketAddr,
    tls_addr: Option<SocketAddr>,
    watch: bool,
}

impl Gateway {
    /// Load and validate the configuration, resolve upstreams and bind the
    /// listeners (public, admin, HTTPS when on, the servers' own).
    pub async fn bind(opts: LaunchOptions) -> Result<Gateway, GatewayError> {
        let overrides = opts.overrides();
        let config = Config::load(&opts.config_path, &overrides)?;
        metrics::install();
        access_log::start(&config)?;
        let public = listen::bind(config.listen, "listen.public / GATEWAY_LISTEN")?;
        let admin = listen::bind(config.admin_listen, "listen.admin / GATEWAY_ADMIN_LISTEN")?;
        let admin = TcpListener::from_std(admin).map_err(|source| GatewayError::Bind {
            setting: "listen.admin / GATEWAY_ADMIN_LISTEN",
            addr: config.admin_listen,
            source,
        })?;
        let local_addr = public.local_addr().map_err(|source| GatewayError::Bind {
            setting: "listen.public / GATEWAY_LISTEN",
            addr: config.listen,
            source,
        })?;
        let admin_addr = admin.local_addr().map_err(|source| GatewayError::Bind {
            setting: "listen.admin / GATEWAY_ADMIN_LISTEN",
            addr: config.admin_listen,
            source,
        })?;
        let (tls_state, tls, tls_addr) = match &config.tls {
            Some(settings) => {
                let setting = "tls.listen / GATEWAY_TLS_LISTEN";
                let socket = listen::bind(settings.listen, setting)?;
                let addr = socket.local_addr().map_err(|source| GatewayError::Bind {
                    setting,
                    addr: settings.listen,
                    source,
                })?;
                let state = tls::TlsState::new(addr.port())
                    .map_err(|e| GatewayError::Tls(e.to_string()))?;
                certificates::load_at_start(&state, settings)?;
                if let Some(acme) = &config.acme {
                    acme::load_stored(&state, acme)?;
                }
                metrics::tls_known(config.acme.is_some());
                (Some(Arc::new(state)), Some(socket), Some(addr))
            }
            None => (None, None, None),
        };
        let listeners = config.listeners();
        let mut own = Vec::new();
        for listener in listeners.iter().filter(|l| !l.default) {
            let setting = if listener.on.tls {
                "servers[].listen_tls"
            } else {
                "servers[].listen"
            };
            own.push(listen::bind(listener.on.addr, setting)?);
        }
        let active = Active::build(config, None, &listeners);
        for pool in active.upstreams.values() {
            pool.resolve().await;
        }
        let tracer = trace_exporter(&opts)?;
        let shared = Arc::new(Shared {
            active: ArcSwap::from_pointee(active),
            config_path: opts.config_path.clone(),
            overrides,
            listeners,
            draining: AtomicBool::new(false),
            tls: tls_state,
            tracer,
        });
        Ok(Gateway {
            shared,
            public,
            admin,
            tls,
            own,
            local_addr,
            admin_addr,
            tls_addr,
            watch: opts.watch,
        })
    }

    /// The public listener's address (the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The admin listener's address.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    /// The HTTPS listener's address, when `[tls]` sets one.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls_addr
    }

    /// The addresses of the servers' own listeners (`[[servers]] listen`,
    /// then `listen_tls`, in file order, each once), as bound.
    pub fn server_listener_addrs(&self) -> Vec<SocketAddr> {
        self.own
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// Serve until `shutdown` resolves, then stop accepting and let in-flight
    /// requests finish (at most `timeouts.shutdown_grace`).
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), GatewayError> {
        let (stop_tx, stop_rx) = stop::channel();
        let (grace, workers, tls_settings) = {
            let active = self.shared.active.load();
            (
                active.config.timeouts.shutdown_grace,
                active.config.workers,
                active.config.tls.clone(),
            )
        };
        tracing::info!(public = %self.local_addr, admin = %self.admin_addr, https = ?self.tls_addr, "gateway listening");
        let handshake = match (&self.shared.tls, tls_settings) {
            (Some(state), Some(settings)) => {
                tokio::spawn(acme::run(Arc::clone(&self.shared), stop_rx.clone()));
                Some(listen::TlsListener::new(
                    state,
                    settings.max_handshakes,
                    settings.handshake_timeout,
                ))
            }
            _ => None,
        };
        let mut listeners = vec![(self.public, None)];
        if let (Some(socket), Some(handshake)) = (self.tls, &handshake) {
            listeners.push((socket, Some(handshake.clone())));
        }
        let own = self.shared.listeners.iter().filter(|l| !l.default);
        for (socket, listener) in self.own.into_iter().zip(own) {
            // A TLS listener has the handshake: validation refuses one without `[tls]`.
            let tls = if listener.on.tls {
                handshake.clone()
            } else {
                None
            };
            listeners.push((socket, tls));
        }
        // The admin listener outlives the drain, so `/readyz` can say 503 meanwhile.
        let (admin_stop_tx, admin_stop_rx) = stop::channel();
        let admin = tokio::spawn(admin::serve(
            self.admin,
            Arc::clone(&self.shared),
            admin_stop_rx,
        ));
        let reloader = tokio::spawn(reload::watch_changes(
            Arc::clone(&self.shared),
            self.watch,
            stop_rx.clone(),
        ));
        let panics = panics::PanicWatch::new();
        let shared = Arc::clone(&self.shared);
        tokio::spawn(async move {
            shutdown.await;
            shared.draining.store(true, Ordering::Relaxed);
            stop_tx.stop();
        });
        listen::serve(
            listeners,
            Arc::clone(&self.shared),
            stop_rx,
            grace,
            workers,
            &panics,
        )
        .await;
        admin_stop_tx.stop();
        let _ = reloader.await;
        let _ = admin.await;
        if let Some(tracer) = self.shared.tracer.clone() {
            // Sends the last spans; blocking, so off the async workers.
            let _ = tokio::task::spawn_blocking(move || tracer.shutdown()).await;
        }
        // Every line of the requests served is written before `run` returns
        // (and the process exits); blocking, so off the async workers.
        let _ = tokio::task::spawn_blocking(access_log::flush).await;
        let count = panics.count();
        if count > 0 {
            tracing::error!(count, "gateway stopped after worker panics");
            return Err(GatewayError::WorkerPanics { count });
        }
        tracing::info!("gateway stopped");
        Ok(())
    }
}

/// The span exporter the options (or the `OTEL_*` variables) ask for.
fn trace_exporter(
    opts: &LaunchOptions,
) -> Result<Option<Arc<trace_export::GatewayTracer>>, GatewayError> {
    let export = opts.trace_export.clone().or_else(|| {
        opts.use_process_env
            .then(|| common::telemetry::otlp::Export::from_env("gateway"))
            .flatten()
    });
    let Some(export) = export else {
        return Ok(None);
    };
    let tracer = trace_export::GatewayTracer::new(&export)
        .map_err(|e| GatewayError::Tracing(e.to_string()))?;
    tracing::info!(service = %export.service_name, "exporting spans over OTLP");
    Ok(Some(Arc::new(tracer)))
}

/// Validate a route table file (what `gateway check` does), reading the
/// environment overrides when `use_process_env`.
fn check(path: &std::path::Path, use_process_env: bool) -> Result<Config, ConfigError> {
    Config::load(
        path,
        &Overrides {
            use_process_env,
            ..Overrides::default()
        },
    )
}
