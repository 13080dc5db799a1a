//! One resolved address of an upstream.

use std::net::SocketAddr;
use std::sync::Arc;

use super::health::Health;

/// One resolved address of an upstream.
#[derive(Debug)]
pub(crate) struct Endpoint {
    /// The address connections go to.
    pub(crate) addr: SocketAddr,
    /// The configured `host:port` this address was resolved from.
    pub(super) configured_authority: String,
    /// Its passive health mark.
    pub(super) health: Health,
}

impl Endpoint {
    /// A new endpoint, healthy.
    pub(super) fn new(addr: SocketAddr, configured_authority: String) -> Arc<Self> {
        Arc::new(Endpoint {
            addr,
            configured_authority,
            health: Health::default(),
        })
    }
}
