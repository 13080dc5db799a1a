//! Tracing set up once per process: `RUST_LOG` filter, `LOG_FORMAT` output.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Install the global subscriber. `filter` is a `RUST_LOG`-style directive
/// (`info`, `users=debug,tower_http=info`). A second call (several services
/// in one process, tests) keeps the first subscriber.
pub fn init(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true);
    let result = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    // Already installed: keep the first one.
    let _ = result;
}
