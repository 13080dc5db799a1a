//! The per-request record: one access-log line and the request metrics,
//! written when the response body is finished (so `bytes` and `duration`
//! cover the whole exchange).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use crate::metrics::{IN_FLIGHT, REQUEST_DURATION, REQUESTS_TOTAL};

/// What is known about a request by the time its response starts.
#[derive(Debug)]
pub struct Completion {
    /// When the request head arrived.
    pub started: Instant,
    /// The request id.
    pub request_id: String,
    /// The client's address (the TCP peer).
    pub client_ip: IpAddr,
    /// The method, as a bounded label.
    pub method: &'static str,
    /// The (normalised, when valid) path, without the query.
    pub path: String,
    /// The route prefix, or `-`.
    pub route: Arc<str>,
    /// The endpoint that answered, if any.
    pub upstream: Option<SocketAddr>,
    /// The response status.
    pub status: u16,
    /// Response body bytes sent.
    pub bytes: u64,
    /// The upstream's body broke off.
    pub aborted: bool,
    /// Write the access-log line.
    pub log: bool,
}

impl Completion {
    /// Start the record of a request (counts it in flight).
    pub fn start(
        started: Instant,
        request_id: String,
        client_ip: IpAddr,
        method: &'static str,
        log: bool,
    ) -> Self {
        metrics::gauge!(IN_FLIGHT).increment(1.0);
        Completion {
            started,
            request_id,
            client_ip,
            method,
            path: String::new(),
            route: Arc::from("-"),
            upstream: None,
            status: 0,
            bytes: 0,
            aborted: false,
            log,
        }
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        let elapsed = self.started.elapsed();
        metrics::gauge!(IN_FLIGHT).decrement(1.0);
        let route = self.route.to_string();
        metrics::counter!(REQUESTS_TOTAL, "route" => route.clone(), "method" => self.method, "status" => self.status.to_string()).increment(1);
        metrics::histogram!(REQUEST_DURATION, "route" => route).record(elapsed.as_secs_f64());
        if self.log {
            let upstream = self
                .upstream
                .map_or_else(|| "-".to_string(), |a| a.to_string());
            tracing::info!(
                target: "gateway::access",
                request_id = %self.request_id,
                client_ip = %self.client_ip,
                method = self.method,
                path = %self.path,
                route = %self.route,
                upstream = %upstream,
                status = self.status,
                bytes = self.bytes,
                duration_ms = elapsed.as_secs_f64() * 1000.0,
                aborted = self.aborted,
                "request"
            );
        }
    }
}
