//! The `gateway` command line: `run` (default), `check [FILE]`, `healthcheck`,
//! `import-nginx FILE [-o OUT] [-p PREFIX]`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{Gateway, LaunchOptions};

/// Default route table file.
pub const DEFAULT_CONFIG: &str = "gateway/gateway.toml";

/// The shop's API gateway (reverse proxy).
#[derive(Debug, Parser)]
#[command(name = "gateway", version, about)]
pub struct Cli {
    /// Route table file.
    #[arg(long, short, global = true, env = "GATEWAY_CONFIG", default_value = DEFAULT_CONFIG)]
    pub config: PathBuf,
    /// What to do (default: run).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve (the default).
    Run,
    /// Validate a route table file, like `nginx -t`.
    Check {
        /// The file (default: --config).
        file: Option<PathBuf>,
    },
    /// Exit 0 when the admin `/healthz` answers 200 (Docker HEALTHCHECK).
    Healthcheck,
    /// Translate an nginx.conf into a route table: exit 0 when everything
    /// translated, 2 when something did not (listed on standard error),
    /// 1 when the file is not valid NGINX syntax.
    ImportNginx {
        /// The nginx.conf (includes are followed).
        file: PathBuf,
        /// Write the table here instead of standard output.
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        /// NGINX's prefix (`nginx -p`), for relative paths (default /usr/share/nginx).
        #[arg(short = 'p', long = "prefix")]
        prefix: Option<PathBuf>,
    },
}

/// Run the command line; the binary's whole `main`.
pub fn main(cli: Cli) -> ExitCode {
    match cli.command.unwrap_or(Command::Run) {
        Command::Check { file } => check(&file.unwrap_or(cli.config)),
        Command::Healthcheck => with_runtime(healthcheck(cli.config)),
        Command::ImportNginx {
            file,
            output,
            prefix,
        } => import_nginx(&file, output.as_deref(), prefix.as_deref()),
        Command::Run => with_runtime(run(cli.config)),
    }
}

fn with_runtime(fut: impl std::future::Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(fut),
        Err(e) => {
            eprintln!("gateway: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

fn check(file: &std::path::Path) -> ExitCode {
    match crate::check(file, true) {
        Ok(config) => {
            match crate::certificates::check_report(&config) {
                Ok(lines) => lines.iter().for_each(|l| println!("gateway: {l}")),
                Err(e) => {
                    eprintln!("gateway: configuration invalid: {}: {e}", file.display());
                    return ExitCode::FAILURE;
                }
            }
            println!(
                "gateway: configuration OK: {} ({} routes, {} upstreams)",
                file.display(),
                config.routes.len(),
                config.upstreams.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gateway: configuration invalid: {e}");
            ExitCode::FAILURE
        }
    }
}

fn import_nginx(
    file: &std::path::Path,
    output: Option<&std::path::Path>,
    prefix: Option<&std::path::Path>,
) -> ExitCode {
    let translation = match crate::nginx::import(file, prefix) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("gateway: {e}");
            return ExitCode::FAILURE;
        }
    };
    match output {
        None => print!("{}", translation.toml),
        Some(out) => {
            if let Err(e) = std::fs::write(out, &translation.toml) {
                eprintln!("gateway: cannot write {}: {e}", out.display());
                return ExitCode::FAILURE;
            }
        }
    }
    for u in &translation.untranslated {
        eprintln!("{u}");
    }
    if translation.untranslated.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

async fn run(config_path: PathBuf) -> ExitCode {
    let config = match crate::check(&config_path, true) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gateway: {e}");
            return ExitCode::FAILURE;
        }
    };
    common::telemetry::init(config.log_format, &config.log_level);
    let mut opts = LaunchOptions::new(config_path);
    opts.use_process_env = true;
    let gateway = match Gateway::bind(opts).await {
        Ok(g) => g,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("gateway: {e}");
            return ExitCode::FAILURE;
        }
    };
    match gateway.run(common::shutdown::signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gateway: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The address to probe for an admin listener bound to `addr`.
pub fn probe_addr(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port())
        }
        _ => addr,
    }
}

async fn healthcheck(config_path: PathBuf) -> ExitCode {
    let admin = match admin_address(&config_path) {
        Ok(addr) => probe_addr(addr),
        Err(e) => {
            eprintln!("gateway: {e}");
            return ExitCode::FAILURE;
        }
    };
    match tokio::time::timeout(Duration::from_secs(3), get_status(admin, "/healthz")).await {
        Ok(Ok(200)) => ExitCode::SUCCESS,
        Ok(Ok(status)) => {
            eprintln!("gateway: http://{admin}/healthz answered {status}");
            ExitCode::FAILURE
        }
        Ok(Err(e)) => {
            eprintln!("gateway: http://{admin}/healthz: {e}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("gateway: http://{admin}/healthz did not answer within 3s");
            ExitCode::FAILURE
        }
    }
}

/// The admin address: from the route table when it can be read, else
/// `GATEWAY_ADMIN_LISTEN`, else the default `127.0.0.1:9000` (so a container
/// HEALTHCHECK works without knowing where the file is mounted).
fn admin_address(config_path: &std::path::Path) -> Result<SocketAddr, String> {
    match crate::check(config_path, true) {
        Ok(c) => Ok(c.admin_listen),
        Err(crate::ConfigError::Read { .. }) => match std::env::var("GATEWAY_ADMIN_LISTEN") {
            Ok(v) if !v.trim().is_empty() => v
                .trim()
                .parse()
                .map_err(|_| format!("GATEWAY_ADMIN_LISTEN: `{v}` is not an address")),
            _ => Ok(SocketAddr::from(([127, 0, 0, 1], 9000))),
        },
        Err(e) => Err(e.to_string()),
    }
}

/// The status code of `GET path` on `addr` (HTTP/1.0, no dependencies).
pub async fn get_status(addr: SocketAddr, path: &str) -> std::io::Result<u16> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await?;
    let mut head = Vec::new();
    stream.read_to_end(&mut head).await?;
    let text = String::from_utf8_lossy(&head);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP response"))
}
