//! `gateway run | check [FILE] | healthcheck`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    gateway::cli::main(gateway::cli::Cli::parse())
}
