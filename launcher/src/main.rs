//! `shop`: build and start gateway + users + products locally on SQLite.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

/// Run the whole shop locally: gateway on port 80 (8080 without the
/// privilege), users and products on loopback, SQLite files in ./data.
#[derive(Debug, Parser)]
#[command(name = "shop", version)]
struct Cli {
    /// Directory for the SQLite databases and generated keys.
    #[arg(long, default_value = "data", env = "SHOP_DATA_DIR")]
    data_dir: PathBuf,
    /// Gateway public port; 80 falls back to 8080 when it needs privileges.
    #[arg(long, default_value_t = 80, env = "SHOP_PORT")]
    port: u16,
    /// Gateway admin port (health, metrics), loopback only.
    #[arg(long, default_value_t = 9000, env = "SHOP_ADMIN_PORT")]
    admin_port: u16,
    /// The users service's metrics port, loopback only.
    #[arg(long, default_value_t = 9001, env = "SHOP_USERS_METRICS_PORT")]
    users_metrics_port: u16,
    /// The products service's metrics port, loopback only.
    #[arg(long, default_value_t = 9002, env = "SHOP_PRODUCTS_METRICS_PORT")]
    products_metrics_port: u16,
    /// The gateway route table (the default serves the storefront at `/`
    /// from STOREFRONT_ROOT, default ./storefront).
    #[arg(long, default_value = "gateway/shop.toml", env = "GATEWAY_CONFIG")]
    routes: PathBuf,
    /// Also serve HTTPS (on --https-port) with a localhost certificate from
    /// a local CA kept in <data-dir>/tls.
    #[arg(long, env = "SHOP_HTTPS")]
    https: bool,
    /// The HTTPS port used with --https.
    #[arg(long, default_value_t = 8443, env = "SHOP_HTTPS_PORT")]
    https_port: u16,
}

fn main() -> anyhow::Result<()> {
    // Before the runtime's threads: this may replace the process.
    #[cfg(unix)]
    launcher::local::exec_with_storefront_root()?;
    run()
}

#[tokio::main]
async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Span export (when OTEL_EXPORTER_OTLP_ENDPOINT is set) covers both
    // services: one process, one subscriber, one service name.
    let _telemetry = common::telemetry::init_service(
        common::config::LogFormat::Pretty,
        "warn,launcher=info",
        "shop",
    )?;
    let mut listen = vec![SocketAddr::from(([0, 0, 0, 0], cli.port))];
    if cli.port == 80 {
        listen.push(SocketAddr::from(([0, 0, 0, 0], 8080)));
    }
    launcher::local::run(launcher::local::LocalOptions {
        data_dir: cli.data_dir,
        listen,
        admin: SocketAddr::from(([127, 0, 0, 1], cli.admin_port)),
        users_metrics: SocketAddr::from(([127, 0, 0, 1], cli.users_metrics_port)),
        products_metrics: SocketAddr::from(([127, 0, 0, 1], cli.products_metrics_port)),
        routes: cli.routes,
        https_port: cli.https.then_some(cli.https_port),
    })
    .await
}
