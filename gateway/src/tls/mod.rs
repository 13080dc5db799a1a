//! TLS for the HTTPS listener: certificate pairs ([`certs`]), the set being
//! served and chosen by SNI ([`store`]), the certificate files and their
//! reload ([`files`]), the HTTP-01 answers of ACME ([`challenges`]) and the
//! rustls server configuration ([`server_config`]).
//!
//! The handshake itself happens in `listen/tls.rs`; ACME orders in `acme/`.

pub(crate) mod certs;
pub(crate) mod challenges;
pub(crate) mod files;
pub(crate) mod store;

use std::sync::Arc;

use rustls::ServerConfig;
use rustls::server::ServerSessionMemoryCache;

pub(crate) use challenges::Challenges;
pub(crate) use store::{CertStore, Source};

/// TLS sessions (TLS 1.2 session ids) remembered for resumption.
const SESSION_CACHE: usize = 10_000;

/// What the HTTPS listener and the ACME issuer share for the gateway's life.
#[derive(Debug)]
pub(crate) struct TlsState {
    /// The certificates served.
    pub(crate) store: Arc<CertStore>,
    /// The rustls configuration every handshake uses.
    pub(crate) server: Arc<ServerConfig>,
    /// HTTP-01 answers for the plain listener.
    pub(crate) challenges: Challenges,
    /// The HTTPS listener's port (the one bound: redirects name it).
    pub(crate) port: u16,
}

impl TlsState {
    /// A state for the HTTPS listener on `port`, serving no certificate yet.
    pub(crate) fn new(port: u16) -> Result<TlsState, rustls::Error> {
        let store = Arc::new(CertStore::default());
        let server = server_config(Arc::clone(&store))?;
        Ok(TlsState {
            store,
            server: Arc::new(server),
            challenges: Challenges::default(),
            port,
        })
    }
}

/// The rustls configuration: ring, TLS 1.2 and 1.3, ALPN `h2` then
/// `http/1.1`, certificates from `store`, stateless resumption tickets
/// under keys rotated every 6 hours plus a session-id cache, and no 0-RTT
/// (early data can be replayed).
pub(crate) fn server_config(store: Arc<CertStore>) -> Result<ServerConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_cert_resolver(store);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config.ticketer = rustls::crypto::ring::Ticketer::new()?;
    config.session_storage = ServerSessionMemoryCache::new(SESSION_CACHE);
    config.max_early_data_size = 0;
    Ok(config)
}
