//! The gateway's own span, exported over OTLP when configured
//! (`OTEL_EXPORTER_OTLP_ENDPOINT`, or [`crate::LaunchOptions::trace_export`]).
//!
//! The gateway records one server span per request straight through the
//! OpenTelemetry SDK (no `tracing` layer on the request path): started
//! when the request head arrives, child of the client's span when it sent
//! a valid `traceparent`, ended when the access-log record is written.
//! Batches leave from the SDK's own thread. Without configuration none of
//! this exists ([`crate::state::Shared::tracer`] is `None`).

use common::telemetry::otlp::{self, Export, ExportError};
use common::traceparent::{self, TraceParent};
use opentelemetry::KeyValue;
use opentelemetry::trace::{Span as _, SpanKind, Status, Tracer as _, TracerProvider as _};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, Span};

/// The gateway's tracer and the provider that exports its spans.
#[derive(Debug)]
pub(crate) struct GatewayTracer {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
}

/// One request's span, ended by [`GatewaySpan::finish`] (or, unfinished,
/// when dropped).
#[derive(Debug)]
pub(crate) struct GatewaySpan(Span);

impl GatewayTracer {
    /// A tracer exporting as `export` says.
    pub(crate) fn new(export: &Export) -> Result<GatewayTracer, ExportError> {
        let provider = export.tracer_provider()?;
        let tracer = provider.tracer("gateway");
        Ok(GatewayTracer { provider, tracer })
    }

    /// Start a request's span under the client's (`incoming`), and the
    /// `traceparent` for the upstream: same trace, this span as parent,
    /// the sampler's decision as the flag.
    pub(crate) fn start(&self, incoming: Option<TraceParent>) -> (GatewaySpan, TraceParent) {
        let parent = otlp::remote_parent(incoming);
        let span = self
            .tracer
            .span_builder("request")
            .with_kind(SpanKind::Server)
            .start_with_context(&self.tracer, &parent);
        let context = span.span_context();
        let upstream = TraceParent {
            trace_id: traceparent::TraceId(context.trace_id().to_bytes()),
            parent_id: traceparent::SpanId(context.span_id().to_bytes()),
            flags: context.trace_flags().to_u8() & traceparent::SAMPLED,
        };
        (GatewaySpan(span), upstream)
    }

    /// Send what is queued and stop (blocks until the exporter answers or
    /// times out).
    pub(crate) fn shutdown(&self) {
        let _ = self.provider.shutdown();
    }
}

impl GatewaySpan {
    /// Name the span after its route and record the outcome.
    pub(crate) fn finish(mut self, method: &'static str, route: &str, path: &str, status: u16) {
        if self.0.is_recording() {
            self.0.update_name(format!("{method} {route}"));
            self.0.set_attributes([
                KeyValue::new("http.request.method", method),
                KeyValue::new("http.route", route.to_string()),
                KeyValue::new("url.path", path.to_string()),
                KeyValue::new("http.response.status_code", i64::from(status)),
            ]);
            if status >= 500 {
                self.0.set_status(Status::error(format!("status {status}")));
            }
        }
        self.0.end();
    }
}
