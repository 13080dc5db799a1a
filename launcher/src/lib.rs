//! The whole shop in one process: users and products on loopback ports,
//! the gateway in front of them.
//!
//! Used by the local launcher binary (`cargo run -p launcher`) and by the
//! end-to-end tests, which start a [`System`] on ephemeral ports.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;

use anyhow::Context;
use common::config::Sources;
use tokio::sync::watch;
use tokio::task::JoinSet;

pub mod local;

/// How to start the system.
#[derive(Debug, Clone)]
pub struct SystemOptions {
    /// Where the services keep their SQLite files and generated keys.
    pub data_dir: PathBuf,
    /// The gateway's route table file.
    pub gateway_config: PathBuf,
    /// Public listener candidates, tried in order (e.g. port 80, then 8080).
    pub gateway_listen: Vec<SocketAddr>,
    /// Gateway admin listener.
    pub admin_listen: SocketAddr,
    /// `DATABASE_URL` of the users service (default: SQLite in `data_dir`).
    pub users_database_url: Option<String>,
    /// `DATABASE_URL` of the products service (default: SQLite in `data_dir`).
    pub products_database_url: Option<String>,
    /// Extra settings for the users service (e.g. `ADMIN_EMAIL`).
    pub users_settings: Vec<(String, String)>,
    /// Extra settings for the products service (e.g. `SEED_DEMO_CATALOGUE`).
    pub products_settings: Vec<(String, String)>,
    /// Merge the process environment (and `.env`) under the settings above.
    pub use_process_env: bool,
    /// Watch the route table for changes.
    pub watch_routes: bool,
    /// An HTTPS listener for the gateway with its certificate pair.
    pub gateway_tls: Option<gateway::TlsOverride>,
    /// The users service's metrics listener (`METRICS_LISTEN_ADDR`).
    pub users_metrics_listen: SocketAddr,
    /// The products service's metrics listener (`METRICS_LISTEN_ADDR`).
    pub products_metrics_listen: SocketAddr,
    /// Where the gateway exports its spans (an OTLP/HTTP traces URL), over
    /// the `OTEL_*` variables; the services export through the process's
    /// tracing subscriber ([`common::telemetry::init_with_export`]).
    pub gateway_trace_export: Option<common::telemetry::otlp::Export>,
}

impl SystemOptions {
    /// Everything on loopback port 0 with data in `data_dir` and no process
    /// environment: what tests want.
    pub fn ephemeral(data_dir: impl Into<PathBuf>) -> Self {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            data_dir: data_dir.into(),
            gateway_config: default_route_table(),
            gateway_listen: vec![loopback],
            admin_listen: loopback,
            users_database_url: None,
            products_database_url: None,
            users_settings: Vec::new(),
            products_settings: Vec::new(),
            use_process_env: false,
            watch_routes: false,
            gateway_tls: None,
            users_metrics_listen: loopback,
            products_metrics_listen: loopback,
            gateway_trace_export: None,
        }
    }
}

/// The repository's default route table (`gateway/gateway.toml`).
pub fn default_route_table() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("gateway")
        .join("gateway.toml")
}

/// A running system.
pub struct System {
    /// The gateway's public address.
    pub gateway_addr: SocketAddr,
    /// The gateway's admin address.
    pub admin_addr: SocketAddr,
    /// The gateway's HTTPS address, when it has one.
    pub https_addr: Option<SocketAddr>,
    /// The users service, directly.
    pub users_addr: SocketAddr,
    /// The products service, directly.
    pub products_addr: SocketAddr,
    /// The users service's metrics listener.
    pub users_metrics_addr: SocketAddr,
    /// The products service's metrics listener.
    pub products_metrics_addr: SocketAddr,
    /// The public listener had to fall back from the first candidate; why.
    pub fell_back: Option<String>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<anyhow::Result<()>>,
}

type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

fn shutdown_future(rx: &watch::Receiver<bool>) -> Shutdown {
    let mut rx = rx.clone();
    Box::pin(async move {
        // Err means the sender is gone: stop as well.
        let _ = rx.wait_for(|stop| *stop).await;
    })
}

impl System {
    /// Start users, products, then the gateway in front of them.
    pub async fn start(options: SystemOptions) -> anyhow::Result<System> {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        let data_dir = options.data_dir.display().to_string();
        let sqlite = |name: &str| format!("sqlite://{data_dir}/{name}.db");

        let mut users_settings = vec![
            ("LISTEN_ADDR".to_string(), loopback.to_string()),
            (
                "METRICS_LISTEN_ADDR".to_string(),
                options.users_metrics_listen.to_string(),
            ),
            ("DATA_DIR".to_string(), data_dir.clone()),
            // One replica on loopback behind our own gateway: no balancer to
            // drain away from, so a stop (Ctrl-C) starts its grace at once.
            ("SHUTDOWN_DRAIN_DELAY".to_string(), "0s".to_string()),
            (
                "DATABASE_URL".to_string(),
                options
                    .users_database_url
                    .clone()
                    .unwrap_or_else(|| sqlite("users")),
            ),
        ];
        users_settings.extend(options.users_settings.iter().cloned());
        let users_config = users::Config::load(&sources(users_settings, options.use_process_env))
            .context("users configuration")?;
        let users_app = users::Application::build(users_config)
            .await
            .context("starting the users service")?;
        let users_addr = users_app.local_addr();
        let users_metrics_addr = users_app.metrics_addr();

        let mut products_settings = vec![
            ("LISTEN_ADDR".to_string(), loopback.to_string()),
            (
                "METRICS_LISTEN_ADDR".to_string(),
                options.products_metrics_listen.to_string(),
            ),
            ("DATA_DIR".to_string(), data_dir.clone()),
            ("SHUTDOWN_DRAIN_DELAY".to_string(), "0s".to_string()),
            (
                "DATABASE_URL".to_string(),
                options
                    .products_database_url
                    .clone()
                    .unwrap_or_else(|| sqlite("products")),
            ),
            (
                "JWKS_URL".to_string(),
                format!("http://{users_addr}/.well-known/jwks.json"),
            ),
        ];
        products_settings.extend(options.products_settings.iter().cloned());
        let products_config =
            products::Config::load(&sources(products_settings, options.use_process_env))
                .context("products configuration")?;
        let products_app = products::Application::build(products_config)
            .await
            .context("starting the products service")?;
        let products_addr = products_app.local_addr();
        let products_metrics_addr = products_app.metrics_addr();

        let (gateway, fell_back) = bind_gateway(&options, users_addr, products_addr).await?;
        let gateway_addr = gateway.local_addr();
        let admin_addr = gateway.admin_addr();
        let https_addr = gateway.tls_addr();

        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let rx = stop_rx.clone();
        tasks.spawn(async move {
            users_app
                .run(shutdown_future(&rx))
                .await
                .context("users service")
        });
        let rx = stop_rx.clone();
        tasks.spawn(async move {
            products_app
                .run(shutdown_future(&rx))
                .await
                .context("products service")
        });
        let rx = stop_rx;
        tasks.spawn(async move { gateway.run(shutdown_future(&rx)).await.context("gateway") });

        Ok(System {
            gateway_addr,
            admin_addr,
            https_addr,
            users_addr,
            products_addr,
            users_metrics_addr,
            products_metrics_addr,
            fell_back,
            stop,
            tasks,
        })
    }

    /// `http://<gateway address>`, the URL clients use.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.gateway_addr)
    }

    /// Run until `shutdown` resolves or a component fails, then stop all.
    pub async fn run_until(mut self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let failed = tokio::select! {
            () = shutdown => None,
            Some(done) = self.tasks.join_next() => Some(done),
        };
        let _ = self.stop.send(true);
        let mut result = match failed {
            Some(Ok(Ok(()))) => Err(anyhow::anyhow!("a component stopped unexpectedly")),
            Some(Ok(Err(e))) => Err(e),
            Some(Err(join)) => Err(anyhow::anyhow!("a component panicked: {join}")),
            None => Ok(()),
        };
        while let Some(done) = self.tasks.join_next().await {
            if let (Ok(Err(e)), true) = (done, result.is_ok()) {
                result = Err(e);
            }
        }
        result
    }

    /// Stop every component and wait for them to finish.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.run_until(async {}).await
    }
}

fn sources(settings: Vec<(String, String)>, use_process_env: bool) -> Sources {
    let mut s = Sources::only(settings);
    s.ignore_env = !use_process_env;
    s.dotenv = false;
    s
}

async fn bind_gateway(
    options: &SystemOptions,
    users_addr: SocketAddr,
    products_addr: SocketAddr,
) -> anyhow::Result<(gateway::Gateway, Option<String>)> {
    let mut fell_back = None;
    let mut last_error = None;
    for listen in &options.gateway_listen {
        let launch = gateway::LaunchOptions {
            config_path: options.gateway_config.clone(),
            listen: Some(*listen),
            admin_listen: Some(options.admin_listen),
            upstreams: vec![
                ("users".to_string(), format!("http://{users_addr}")),
                ("products".to_string(), format!("http://{products_addr}")),
            ],
            tls: options.gateway_tls.clone(),
            use_process_env: false,
            watch: options.watch_routes,
            trace_export: options.gateway_trace_export.clone(),
        };
        match gateway::Gateway::bind(launch).await {
            Ok(g) => return Ok((g, fell_back)),
            Err(e) => {
                let message = e.to_string();
                if fell_back.is_none() {
                    fell_back = Some(message.clone());
                }
                last_error = Some(anyhow::Error::new(e));
            }
        }
    }
    Err(last_error.unwrap_or_else(|| anyhow::anyhow!("no gateway listen address given")))
}
