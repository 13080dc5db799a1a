//! `users`: serve, create-admin, migrate, healthcheck (see `users --help`).

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match users::cli::main().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line naming the problem (and the variable, for configuration).
            eprintln!("users: {e:#}");
            ExitCode::FAILURE
        }
    }
}
