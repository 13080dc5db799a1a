//! The one per-request context every phase reads and writes.

use std::sync::Arc;
use std::time::Instant;

use http::{HeaderValue, Request};
use hyper::body::Incoming;

use crate::access_log::Completion;
use crate::client_addr::{ClientAddr, client_addr};
use crate::headers::{self, Peer};
use crate::metrics;
use crate::policies::RequestFacts;
use crate::state::Active;
use crate::tls::TlsState;

use super::ClientConn;

/// What one request carries through the phases.
pub(crate) struct RequestCtx<'a> {
    /// The configuration the request started with (a reload does not
    /// change it under a running request).
    pub(super) active: &'a Active,
    /// The client connection's peer.
    pub(super) peer: &'a Peer,
    /// The client as the gateway believes it (behind trusted proxies, from
    /// `X-Forwarded-For`): what the access log shows, `X-Real-IP` says,
    /// and per-client policies key on.
    pub(crate) client: ClientAddr,
    /// The worker thread serving the request: the upstream connection pool
    /// it takes connections from.
    pub(super) worker: usize,
    /// The client connection (an upgraded connection keeps it).
    pub(super) conn: &'a Arc<ClientConn>,
    /// The client's request id when valid, else a fresh one.
    pub(super) request_id: HeaderValue,
    /// The client's host (`Host`, or HTTP/2 `:authority`), from admission.
    pub(super) host: Option<HeaderValue>,
    /// Certificates and ACME challenge answers, when HTTPS is on.
    pub(super) tls: Option<&'a TlsState>,
    /// The access-log record: path (normalised once admitted), route,
    /// endpoint, status; written when the response body ends.
    pub(super) log: Completion,
}

impl<'a> RequestCtx<'a> {
    /// The context of `req`, arrived now on `conn`.
    pub(super) fn new(
        active: &'a Active,
        conn: &'a Arc<ClientConn>,
        req: &Request<Incoming>,
    ) -> Self {
        let peer = &conn.peer;
        let started = Instant::now();
        let request_id = headers::request_id(req.headers());
        let client = client_addr(req.headers(), peer, &active.config.trusted_proxies);
        let log = Completion::start(
            started,
            request_id.clone(),
            client.ip,
            metrics::method_label(req.method()),
            active.config.access_log,
        );
        RequestCtx {
            active,
            peer,
            client,
            worker: conn.worker,
            conn,
            request_id,
            host: None,
            tls: None,
            log,
        }
    }

    /// What policies may read of the request.
    pub(super) fn facts(&self) -> RequestFacts<'_> {
        RequestFacts {
            host: self.host.as_ref(),
        }
    }
}
