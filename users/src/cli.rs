//! The `users` command line: serve (default), create-admin, migrate,
//! healthcheck.

use std::io::Read;

use anyhow::Context;
use clap::{Parser, Subcommand};
use common::config::Sources;

use crate::config::Config;
use crate::startup::Application;

/// The environment variable naming an optional TOML configuration file.
pub const CONFIG_FILE_VAR: &str = "USERS_CONFIG";

/// Users service: accounts, authentication, roles, JWKS.
#[derive(Debug, Parser)]
#[command(name = "users", version)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// A `users` subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (the default).
    Serve,
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Create an admin account (or make an existing account an active admin).
    CreateAdmin {
        /// The admin's email address.
        #[arg(long)]
        email: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Exit 0 when the local service answers `GET /health` with 200
    /// (Docker HEALTHCHECK; the image has no curl).
    Healthcheck,
}

/// Parse the command line and run it; the binary's whole `main`.
pub async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(&Sources::from_env(CONFIG_FILE_VAR))?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let _telemetry = common::telemetry::init_service(
                config.base.log_format,
                &config.base.rust_log,
                "users",
            )?;
            let app = Application::build(config).await?;
            app.run(common::shutdown::signal()).await?;
        }
        Command::Migrate => {
            common::telemetry::init(config.base.log_format, &config.base.rust_log);
            common::db::connect_and_migrate::<crate::Migrator>(&config.base.db("users")).await?;
            println!("users database is up to date");
        }
        Command::CreateAdmin {
            email,
            password_stdin,
        } => {
            let password = if password_stdin {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .context("reading the password from standard input")?;
                Some(text.trim_end_matches(['\r', '\n']).to_string())
            } else {
                None
            };
            crate::admin_bootstrap::create_admin_command(&config, &email, password).await?;
        }
        Command::Healthcheck => common::health::probe(config.base.listen_addr.port())
            .await
            .map_err(anyhow::Error::msg)?,
    }
    Ok(())
}
