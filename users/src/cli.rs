//! The `users` command line: serve (default), create-admin, migrate,
//! healthcheck.

use std::io::Read;
use std::time::Duration;

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
            common::telemetry::init(config.base.log_format, &config.base.rust_log);
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
        Command::Healthcheck => healthcheck(&config).await?,
    }
    Ok(())
}

/// `GET http://127.0.0.1:<port>/health` must answer 200 within 3 seconds.
async fn healthcheck(config: &Config) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let port = config.base.listen_addr.port();
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        Ok::<_, std::io::Error>(head)
    };
    let head = tokio::time::timeout(Duration::from_secs(3), exchange)
        .await
        .context("healthcheck timed out")?
        .with_context(|| format!("cannot reach 127.0.0.1:{port}"))?;
    anyhow::ensure!(
        head.starts_with(b"HTTP/1.1 200"),
        "unhealthy: {}",
        String::from_utf8_lossy(&head)
    );
    Ok(())
}
