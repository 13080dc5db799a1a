//! Why the gateway cannot start or keep running.

use std::net::SocketAddr;

use crate::config::ConfigError;

/// A fatal gateway error.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A listener cannot be bound; `setting` names where the address comes from.
    #[error("cannot listen on {addr} ({setting}): {}", describe(source))]
    Bind {
        /// The setting (`listen.public / GATEWAY_LISTEN`).
        setting: &'static str,
        /// The address.
        addr: SocketAddr,
        /// The bind error (`ErrorKind::PermissionDenied` for port 80 without privileges).
        source: std::io::Error,
    },
    /// A certificate pair of `[tls]` cannot be used at start.
    #[error("cannot use the certificate {}: {message}", cert.display())]
    Certificate {
        /// The certificate file.
        cert: std::path::PathBuf,
        /// Why (unreadable, bad PEM, key not matching, expired).
        message: String,
    },
    /// The TLS configuration cannot be built.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    /// Span export is configured but cannot be set up.
    #[error("{0}")]
    Tracing(String),
    /// The access log's output cannot be opened (or its writer started).
    #[error("cannot start the access log: {0}")]
    AccessLog(String),
    /// Worker threads panicked while serving (a bug; each is in the log).
    #[error(
        "{count} panic(s) on the gateway's worker threads while serving (see the error log lines); requests were cut"
    )]
    WorkerPanics {
        /// How many panics.
        count: usize,
    },
}

fn describe(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::AddrInUse => "address already in use".to_string(),
        _ => e.to_string(),
    }
}
