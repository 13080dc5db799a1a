//! The command line: `serve` (default), `seed-demo`, `healthcheck`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use common::config::Sources;

use crate::{Application, Config};

/// The products service.
#[derive(Debug, Parser)]
#[command(name = "products", version, about)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// A subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Load the demo catalogue (products whose slug exists are skipped).
    SeedDemo,
    /// Exit 0 when GET /health on this machine's LISTEN_ADDR port answers 200.
    Healthcheck,
}

/// Parse the command line and run it; configuration comes from `.env`,
/// the file named by `PRODUCTS_CONFIG`, and the environment.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(&Sources::from_env("PRODUCTS_CONFIG")) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli.command.unwrap_or(Command::Serve), config));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("products: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Run one command with a loaded configuration.
pub async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let _telemetry = common::telemetry::init_service(
                config.base.log_format,
                &config.base.rust_log,
                "products",
            )?;
            let app = Application::build(config).await?;
            app.run(common::shutdown::signal()).await?;
            Ok(())
        }
        Command::SeedDemo => {
            common::telemetry::init(config.base.log_format, &config.base.rust_log);
            let db = common::db::connect_and_migrate::<crate::migration::Migrator>(
                &config.base.db("products"),
            )
            .await?;
            let added = crate::demo::seed(&db).await?;
            println!("demo catalogue: {added} products added");
            Ok(())
        }
        Command::Healthcheck => common::health::probe(config.base.listen_addr.port())
            .await
            .map_err(anyhow::Error::msg),
    }
}
