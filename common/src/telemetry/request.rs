//! The span each service request runs in: it carries the trace id into
//! every log line, and, when spans are exported, continues the caller's
//! trace (the gateway's `traceparent`) as a server span.

use http::{HeaderMap, Method};
use tracing::Span;
use tracing::field::Empty;

use crate::traceparent::{TraceId, TraceParent};

/// The span of a request to `route` (the route template, `None` when no
/// route matched). Enter it (or instrument the handler with it) for the
/// request's whole life.
pub fn request_span(headers: &HeaderMap, method: &Method, route: Option<&str>) -> Span {
    let span = tracing::info_span!(
        "request",
        trace_id = Empty,
        otel.name = Empty,
        otel.kind = Empty
    );
    if span.is_disabled() {
        return span;
    }
    let incoming = TraceParent::from_headers(headers);
    let trace_id = if super::exporting::exporting() {
        otel::continue_trace(&span, incoming, method, route)
    } else {
        None
    };
    let trace_id = trace_id
        .or(incoming.map(|t| t.trace_id))
        .unwrap_or_else(TraceId::random);
    span.record("trace_id", trace_id.to_hex().as_str());
    span
}

/// Put the response status on the exported span (5xx marks it failed).
pub fn record_status(span: &Span, status: u16) {
    if super::exporting::exporting() {
        otel::status(span, status);
    }
}

mod otel {
    use http::Method;
    use opentelemetry::trace::{Status, TraceContextExt, TraceId};
    use tracing::Span;
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    use crate::traceparent::{self, TraceParent};

    /// Make `span` a server span, child of the caller's span when there is
    /// one; the trace id it ends up in.
    pub(super) fn continue_trace(
        span: &Span,
        incoming: Option<TraceParent>,
        method: &Method,
        route: Option<&str>,
    ) -> Option<traceparent::TraceId> {
        let route = route.unwrap_or("unmatched");
        span.record("otel.name", format!("{method} {route}"));
        span.record("otel.kind", "server");
        let parent = crate::telemetry::otlp::remote_parent(incoming);
        span.set_parent(parent).ok()?;
        span.set_attribute("http.request.method", method.as_str().to_string());
        span.set_attribute("http.route", route.to_string());
        let context = span.context();
        let id = context.span().span_context().trace_id();
        (id != TraceId::INVALID).then(|| traceparent::TraceId(id.to_bytes()))
    }

    pub(super) fn status(span: &Span, status: u16) {
        span.set_attribute("http.response.status_code", i64::from(status));
        if status >= 500 {
            span.set_status(Status::error(format!("status {status}")));
        }
    }
}
