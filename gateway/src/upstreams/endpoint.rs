//! One resolved address of an upstream.

use std::net::SocketAddr;
use std::sync::Arc;

use metrics::Counter;

use crate::config::EndpointUrl;
use crate::metrics::ENDPOINT_REQUESTS;

use super::health::EndpointState;

/// One resolved address of an upstream.
#[derive(Debug)]
pub(crate) struct Endpoint {
    /// The address connections go to.
    pub(crate) addr: SocketAddr,
    /// The configured `host:port` this address was resolved from.
    pub(super) configured_authority: String,
    /// Its balancing weight (its configured endpoint's).
    pub(super) weight: u32,
    /// A backup: chosen only when no other endpoint can be
    /// ([`super::select`]).
    pub(super) backup: bool,
    /// Its health and load, shared with the same address in the pools of
    /// earlier and later route tables.
    pub(super) state: Arc<EndpointState>,
    /// `gateway_upstream_endpoint_requests_total` of this address.
    requests: Counter,
}

impl Endpoint {
    /// An endpoint for `addr` resolved from `url`, with the state of the
    /// same address in `known` when there is one (else healthy and idle).
    pub(super) fn new(
        upstream: &str,
        addr: SocketAddr,
        url: &EndpointUrl,
        known: &[Arc<Endpoint>],
    ) -> Arc<Self> {
        let state = known
            .iter()
            .find(|ep| ep.addr == addr)
            .map_or_else(Arc::default, |ep| Arc::clone(&ep.state));
        let requests = metrics::counter!(ENDPOINT_REQUESTS, "upstream" => upstream.to_string(), "endpoint" => addr.to_string());
        requests.increment(0);
        Arc::new(Endpoint {
            addr,
            configured_authority: url.authority(),
            weight: url.weight.max(1),
            backup: url.backup,
            state,
            requests,
        })
    }

    /// Count an attempt sent to this endpoint (one atomic addition).
    pub(crate) fn count_request(&self) {
        self.requests.increment(1);
    }
}
