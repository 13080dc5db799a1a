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
use crate::routing::{RequestLine, Target};
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
    /// `$host`: the host's name, lowercase, without its port (from routing).
    pub(super) host_name: String,
    /// The virtual server's routes (internal redirects search them again).
    pub(crate) table: Option<&'a crate::routes::RouteTable>,
    /// Where routing took the request: the path it serves (rewritten),
    /// its query, the captures.
    pub(crate) target: Target,
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
            host_name: String::new(),
            target: Target::new(String::new(), None),
            table: None,
            tls: None,
            log,
        }
    }

    /// The client's address (the right-most `X-Forwarded-For` entry
    /// outside `trusted_proxies`, else the peer): what rate limits key on.
    pub(super) fn client_ip(&self) -> std::net::IpAddr {
        self.client.ip
    }

    /// What templates and routing read of the request.
    pub(super) fn line<'s, B>(&'s self, req: &'s Request<B>) -> RequestLine<'s> {
        RequestLine {
            scheme: if self.peer.tls { "https" } else { "http" },
            host: &self.host_name,
            request_uri: req.uri().path_and_query().map_or("/", |p| p.as_str()),
            method: req.method().as_str(),
            remote_addr: self.client.ip,
        }
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
