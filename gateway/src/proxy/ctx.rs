//! The one per-request context every phase reads and writes.

use std::time::Instant;

use http::{HeaderValue, Request};
use hyper::body::Incoming;

use crate::access_log::Completion;
use crate::headers::{self, Peer};
use crate::metrics;
use crate::policies::RequestFacts;
use crate::state::Active;
use crate::tls::TlsState;

/// What one request carries through the phases.
pub(crate) struct RequestCtx<'a> {
    /// The configuration the request started with (a reload does not
    /// change it under a running request).
    pub(super) active: &'a Active,
    /// The client connection's peer.
    pub(super) peer: &'a Peer,
    /// The worker thread serving the request: the upstream connection pool
    /// it takes connections from.
    pub(super) worker: usize,
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
    /// The context of `req`, arrived now on `worker` from `peer`.
    pub(super) fn new(
        active: &'a Active,
        peer: &'a Peer,
        worker: usize,
        req: &Request<Incoming>,
    ) -> Self {
        let started = Instant::now();
        let request_id = headers::request_id(req.headers());
        let log = Completion::start(
            started,
            request_id.clone(),
            peer.ip,
            metrics::method_label(req.method()),
            active.config.access_log,
        );
        RequestCtx {
            active,
            peer,
            worker,
            request_id,
            host: None,
            tls: None,
            log,
        }
    }

    /// The client's address, the one place policies (rate limits) and
    /// logs learn it from.
    pub(super) fn client_ip(&self) -> std::net::IpAddr {
        self.peer.ip
    }

    /// What policies may read of the request.
    pub(super) fn facts(&self) -> RequestFacts<'_> {
        RequestFacts {
            host: self.host.as_ref(),
            path: &self.log.path,
            client_ip: self.client_ip(),
        }
    }
}
