//! `products`: serve the API, load the demo catalogue, or check health.

fn main() -> std::process::ExitCode {
    products::cli::main()
}
