//! `gateway run | check [FILE] | healthcheck`.

use clap::Parser;

/// jemalloc instead of glibc's allocator: glibc keeps the memory a burst
/// of requests freed (10,000 idle connections after a 256-exchange burst:
/// ~35 MiB with glibc, ~23 MiB with jemalloc, at the same CPU per
/// request); jemalloc hands it back within about a second (settings in
/// `.cargo/config.toml`).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    gateway::cli::main(gateway::cli::Cli::parse())
}
