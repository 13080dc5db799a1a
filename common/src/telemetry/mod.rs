//! Tracing set up once per process: `RUST_LOG` filter, `LOG_FORMAT` output
//! and, for the services, span export over OTLP when the standard
//! `OTEL_*` variables ask for it ([`otlp`]).
//!
//! Service log lines carry the trace id: each request runs in a `request`
//! span whose `trace_id` field the formatter prints (pretty: in the span
//! prefix; JSON: under `span`).

#[cfg(feature = "otlp")]
pub mod otlp;
#[cfg(feature = "service")]
mod request;

#[cfg(feature = "service")]
pub use request::{record_status, request_span};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::LogFormat;

/// Install the global subscriber without span export. `filter` is a
/// `RUST_LOG`-style directive (`info`, `users=debug,tower_http=info`). A
/// second call (several services in one process, tests) keeps the first
/// subscriber.
pub fn init(format: LogFormat, filter: &str) {
    let _ = tracing_subscriber::registry()
        .with(fmt_layer(format, filter))
        .try_init();
}

/// The log formatter with its filter. The request span stays on (it is
/// what puts the trace id on every line) and sea-orm's per-statement spans
/// stay off unless `filter` names them.
fn fmt_layer<S>(format: LogFormat, filter: &str) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let mut directives = filter.to_string();
    if !filter.contains("common::telemetry") {
        directives.push_str(",common::telemetry=info");
    }
    if !filter.contains("sea_orm") {
        directives.push_str(",sea_orm::database=warn");
    }
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("info"));
    let layer = tracing_subscriber::fmt::layer().with_target(true);
    match format {
        LogFormat::Json => layer
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_filter(filter)
            .boxed(),
        LogFormat::Pretty => layer.with_filter(filter).boxed(),
    }
}

#[cfg(feature = "service")]
pub use exporting::{Telemetry, init_service, init_with_export};

#[cfg(feature = "service")]
mod exporting {
    use std::sync::atomic::{AtomicBool, Ordering};

    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing::level_filters::LevelFilter;
    use tracing_subscriber::Layer;
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    use super::otlp::{Export, ExportError};
    use crate::config::LogFormat;

    /// Whether this process exports spans (the request span then joins
    /// the caller's trace; otherwise it only reads the trace id).
    static EXPORTING: AtomicBool = AtomicBool::new(false);

    pub(super) fn exporting() -> bool {
        EXPORTING.load(Ordering::Relaxed)
    }

    /// The installed tracing: keep it alive for the process's life; dropping
    /// it sends the spans still queued.
    #[derive(Debug, Default)]
    #[must_use = "dropping it stops span export"]
    pub struct Telemetry {
        provider: Option<SdkTracerProvider>,
    }

    impl Telemetry {
        /// Whether spans are exported.
        pub fn exporting(&self) -> bool {
            self.provider.is_some()
        }

        /// Send every finished span now (blocks until the exporter answers).
        pub fn flush(&self) {
            if let Some(provider) = &self.provider {
                let _ = provider.force_flush();
            }
        }
    }

    impl Drop for Telemetry {
        fn drop(&mut self) {
            if let Some(provider) = self.provider.take() {
                let _ = provider.shutdown();
            }
        }
    }

    /// What a service binary calls first: logging, plus span export when
    /// the `OTEL_*` variables ask for it (`service_name` unless
    /// `OTEL_SERVICE_NAME` says otherwise). A broken export configuration
    /// is an error (as any other invalid setting), logging stays on.
    pub fn init_service(
        format: LogFormat,
        filter: &str,
        service_name: &str,
    ) -> Result<Telemetry, ExportError> {
        let export = Export::from_env(service_name);
        let telemetry = init_with_export(format, filter, export.as_ref())?;
        if telemetry.exporting() {
            tracing::info!(service = %service_name, "exporting spans over OTLP");
        }
        Ok(telemetry)
    }

    /// Install the global subscriber and, when `export` is given, the
    /// OpenTelemetry layer sending the request spans, sea-orm's statement
    /// spans and warnings to it. Nothing of OpenTelemetry is installed
    /// without `export`. A second call keeps the first subscriber (and
    /// returns a [`Telemetry`] that exports nothing).
    pub fn init_with_export(
        format: LogFormat,
        filter: &str,
        export: Option<&Export>,
    ) -> Result<Telemetry, ExportError> {
        let Some(export) = export else {
            super::init(format, filter);
            return Ok(Telemetry::default());
        };
        let provider = match export.tracer_provider() {
            Ok(provider) => provider,
            Err(e) => {
                super::init(format, filter);
                return Err(e);
            }
        };
        let tracer = provider.tracer(export.service_name.clone());
        let spans = Targets::new()
            .with_target("common::telemetry", LevelFilter::INFO)
            .with_target("sea_orm::database", LevelFilter::INFO)
            .with_default(LevelFilter::WARN);
        let installed = tracing_subscriber::registry()
            .with(super::fmt_layer(format, filter))
            .with(
                tracing_opentelemetry::layer()
                    .with_tracer(tracer)
                    .with_filter(spans),
            )
            .try_init()
            .is_ok();
        if !installed {
            let _ = provider.shutdown();
            return Ok(Telemetry::default());
        }
        EXPORTING.store(true, Ordering::Relaxed);
        Ok(Telemetry {
            provider: Some(provider),
        })
    }
}
