//! W3C Trace Context at the gateway: accept the client's `traceparent`
//! or start a trace, pass it upstream, and put the trace id on the access
//! log line.
//!
//! Only a peer in `trusted_proxies` (a load balancer or mesh sidecar that
//! owns the trace) may hand the gateway a trace. From any other peer the
//! trace is re-rooted: a new trace id, and nothing of the client's kept
//! (`traceparent` replaced, `tracestate` dropped, no span link), so that a
//! client can neither force sampling (and the cost of recording) nor
//! choose the trace id its requests are filed under (to collide with, or
//! hide among, someone else's).
//!
//! Without span export the gateway adds no span of its own: a valid
//! client trace goes upstream as it came (so a service's span hangs under
//! the client's), and a missing or invalid one is replaced by a new trace
//! flagged sampled, leaving the decision to the services. With export
//! ([`crate::trace_export`]) the gateway's own span is the upstream's
//! parent and the sampler's decision goes along in the flags. A
//! `tracestate` belongs to the trace it came with: it is dropped whenever
//! the trace is restarted.

use common::traceparent::{HexId, SAMPLED, TRACEPARENT, TRACESTATE, TraceParent};
use http::HeaderMap;

use crate::trace_export::{GatewaySpan, GatewayTracer};

/// One request's place in its trace.
#[derive(Debug, Default)]
pub(crate) struct RequestTrace {
    /// What the upstream receives; `None` before [`RequestTrace::start`].
    upstream: Option<TraceParent>,
    /// The client's trace was restarted: its `tracestate` goes too.
    restarted: bool,
    /// The gateway's exported span, when export is on.
    span: Option<GatewaySpan>,
}

impl RequestTrace {
    /// The trace of a request with `headers` (the client's), sent by a
    /// peer that is a trusted proxy (`from_trusted`: its trace is kept) or
    /// not (the trace is restarted).
    pub(crate) fn start(
        headers: &HeaderMap,
        from_trusted: bool,
        tracer: Option<&GatewayTracer>,
    ) -> RequestTrace {
        let incoming = TraceParent::from_headers(headers).filter(|_| from_trusted);
        let restarted = incoming.is_none() && headers.contains_key(TRACESTATE);
        match tracer {
            Some(tracer) => {
                let (span, upstream) = tracer.start(incoming);
                RequestTrace {
                    upstream: Some(upstream),
                    restarted,
                    span: Some(span),
                }
            }
            None => RequestTrace {
                upstream: Some(incoming.unwrap_or_else(|| TraceParent::start(SAMPLED))),
                restarted,
                span: None,
            },
        }
    }

    /// The trace id, as the access log prints it (`-` before start).
    pub(crate) fn trace_id(&self) -> Option<HexId<32>> {
        self.upstream.map(|tp| tp.trace_id.to_hex())
    }

    /// Set the upstream's `traceparent` (and drop a `tracestate` that
    /// belonged to a refused trace).
    pub(crate) fn upstream_headers(&self, headers: &mut HeaderMap) {
        if let Some(tp) = self.upstream {
            headers.insert(TRACEPARENT, tp.to_header_value());
            if self.restarted {
                headers.remove(TRACESTATE);
            }
        }
    }

    /// End the gateway's span (when exported) with what the access log knows.
    pub(crate) fn finish(&mut self, method: &'static str, route: &str, path: &str, status: u16) {
        if let Some(span) = self.span.take() {
            span.finish(method, route, path, status);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const CLIENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn upstream_of(client: &HeaderMap) -> HeaderMap {
        let trace = RequestTrace::start(client, true, None);
        let mut out = client.clone();
        trace.upstream_headers(&mut out);
        out
    }

    #[test]
    fn a_valid_client_trace_goes_upstream_unchanged_with_its_state() {
        let mut client = HeaderMap::new();
        client.insert(TRACEPARENT, HeaderValue::from_static(CLIENT));
        client.insert(TRACESTATE, HeaderValue::from_static("vendor=1"));
        let out = upstream_of(&client);
        assert_eq!(out[TRACEPARENT], CLIENT);
        assert_eq!(out[TRACESTATE], "vendor=1");
        let trace = RequestTrace::start(&client, true, None);
        assert_eq!(
            trace.trace_id().expect("started").as_str(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
    }

    #[test]
    fn an_invalid_client_trace_is_replaced_and_its_state_dropped() {
        let mut client = HeaderMap::new();
        client.insert(
            TRACEPARENT,
            HeaderValue::from_static("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
        );
        client.insert(TRACESTATE, HeaderValue::from_static("vendor=1"));
        let out = upstream_of(&client);
        let tp = TraceParent::from_headers(&out).expect("a new valid trace");
        assert!(tp.sampled());
        assert!(!out.contains_key(TRACESTATE));
    }

    #[test]
    fn a_request_without_a_trace_starts_one() {
        let out = upstream_of(&HeaderMap::new());
        assert!(TraceParent::from_headers(&out).is_some());
        let a = RequestTrace::start(&HeaderMap::new(), true, None).trace_id();
        let b = RequestTrace::start(&HeaderMap::new(), true, None).trace_id();
        assert_ne!(a, b);
    }

    #[test]
    fn an_untrusted_peers_trace_is_restarted_and_nothing_of_it_kept() {
        let mut client = HeaderMap::new();
        client.insert(TRACEPARENT, HeaderValue::from_static(CLIENT));
        client.insert(TRACESTATE, HeaderValue::from_static("vendor=1"));
        let trace = RequestTrace::start(&client, false, None);
        let mut out = client.clone();
        trace.upstream_headers(&mut out);
        let tp = TraceParent::from_headers(&out).expect("a new valid trace");
        assert_ne!(out[TRACEPARENT], CLIENT);
        assert_ne!(
            tp.trace_id.to_hex().as_str(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert!(!out.contains_key(TRACESTATE));
        assert_eq!(trace.trace_id(), Some(tp.trace_id.to_hex()));
    }

    #[test]
    fn before_start_there_is_no_trace_id() {
        let trace = RequestTrace::default();
        assert_eq!(trace.trace_id(), None);
        let mut headers = HeaderMap::new();
        trace.upstream_headers(&mut headers);
        assert!(headers.is_empty());
    }
}
