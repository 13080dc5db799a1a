//! Tracing export over OTLP/HTTP (protobuf), configured by the standard
//! `OTEL_*` variables and off unless an endpoint is set.
//!
//! Read here: `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
//! (either turns export on), `OTEL_SDK_DISABLED=true` and
//! `OTEL_TRACES_EXPORTER=none` (either keeps it off), `OTEL_SERVICE_NAME`.
//! The SDK and the exporter read the rest themselves:
//! `OTEL_TRACES_SAMPLER(_ARG)`, `OTEL_RESOURCE_ATTRIBUTES`,
//! `OTEL_EXPORTER_OTLP_(TRACES_)HEADERS`/`TIMEOUT`/`COMPRESSION`, `OTEL_BSP_*`.

use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;

/// Where spans go and under which service name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// The full traces URL (`http://collector:4318/v1/traces`); `None`
    /// lets the exporter derive it from the `OTEL_*` variables.
    pub endpoint: Option<String>,
    /// `service.name` of the spans.
    pub service_name: String,
}

impl Export {
    /// Export to the traces URL `endpoint` as `service_name` (tests, or a
    /// program that configures itself).
    pub fn to(endpoint: impl Into<String>, service_name: impl Into<String>) -> Export {
        Export {
            endpoint: Some(endpoint.into()),
            service_name: service_name.into(),
        }
    }

    /// From the process environment; `None` (nothing exported) unless an
    /// OTLP endpoint is set.
    pub fn from_env(default_service_name: &str) -> Option<Export> {
        Export::from_vars(|name| std::env::var(name).ok(), default_service_name)
    }

    /// As [`Self::from_env`], reading variables through `var`.
    pub fn from_vars(
        var: impl Fn(&str) -> Option<String>,
        default_service_name: &str,
    ) -> Option<Export> {
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        if set("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
            return None;
        }
        if set("OTEL_TRACES_EXPORTER").is_some_and(|v| v.trim().eq_ignore_ascii_case("none")) {
            return None;
        }
        set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or_else(|| set("OTEL_EXPORTER_OTLP_ENDPOINT"))?;
        Some(Export {
            endpoint: None,
            service_name: set("OTEL_SERVICE_NAME")
                .unwrap_or_else(|| default_service_name.to_string()),
        })
    }

    /// A tracer provider exporting in batches from its own thread (no
    /// runtime needed; the HTTP client is the blocking reqwest).
    pub fn tracer_provider(&self) -> Result<SdkTracerProvider, ExportError> {
        let mut builder = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary);
        if let Some(endpoint) = &self.endpoint {
            builder = builder.with_endpoint(endpoint.clone());
        }
        let exporter = builder.build().map_err(|e| ExportError(e.to_string()))?;
        let resource = Resource::builder()
            .with_service_name(self.service_name.clone())
            .build();
        Ok(SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build())
    }
}

/// The parent context of a span continuing the caller's trace (`incoming`,
/// a remote span), or an empty one (the span starts a trace).
pub fn remote_parent(incoming: Option<crate::traceparent::TraceParent>) -> Context {
    match incoming {
        Some(tp) => Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from_bytes(tp.trace_id.0),
            SpanId::from_bytes(tp.parent_id.0),
            TraceFlags::new(tp.flags),
            true,
            TraceState::NONE,
        )),
        None => Context::new(),
    }
}

/// The OTLP exporter could not be built from the configuration.
#[derive(Debug, thiserror::Error)]
#[error("tracing export (OTEL_EXPORTER_OTLP_*): {0}")]
pub struct ExportError(String);

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_string())
        }
    }

    #[test]
    fn nothing_is_exported_without_an_endpoint() {
        assert_eq!(Export::from_vars(vars(&[]), "users"), None);
        assert_eq!(
            Export::from_vars(vars(&[("OTEL_SERVICE_NAME", "x")]), "users"),
            None
        );
        assert_eq!(
            Export::from_vars(vars(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")]), "users"),
            None
        );
    }

    #[test]
    fn an_endpoint_turns_export_on_under_the_service_name() {
        for var in [
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        ] {
            let export =
                Export::from_vars(vars(&[(var, "http://c:4318")]), "users").expect("configured");
            assert_eq!(export.service_name, "users");
            assert_eq!(
                export.endpoint, None,
                "the exporter reads the variable itself"
            );
        }
        let export = Export::from_vars(
            vars(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
                ("OTEL_SERVICE_NAME", "users-eu"),
            ]),
            "users",
        )
        .expect("configured");
        assert_eq!(export.service_name, "users-eu");
    }

    #[test]
    fn the_sdk_switches_keep_export_off() {
        for (var, value) in [
            ("OTEL_SDK_DISABLED", "true"),
            ("OTEL_TRACES_EXPORTER", "none"),
        ] {
            let pairs = [
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
                (var, value),
            ];
            assert_eq!(Export::from_vars(vars(&pairs), "users"), None, "{var}");
        }
    }

    #[test]
    fn an_invalid_endpoint_is_refused() {
        let err = Export::to("not a url", "users")
            .tracer_provider()
            .expect_err("invalid");
        assert!(err.to_string().contains("OTEL_EXPORTER_OTLP"), "{err}");
    }
}
