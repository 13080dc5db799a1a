//! Prometheus metrics: the recorder (installed once per process) and the
//! names the gateway records.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// `gateway_requests_total{route,method,status}`.
pub(crate) const REQUESTS_TOTAL: &str = "gateway_requests_total";
/// `gateway_request_duration_seconds{route}` (histogram).
pub(crate) const REQUEST_DURATION: &str = "gateway_request_duration_seconds";
/// `gateway_requests_in_flight`.
pub(crate) const IN_FLIGHT: &str = "gateway_requests_in_flight";
/// `gateway_upstream_errors_total{upstream,kind}`.
pub(crate) const UPSTREAM_ERRORS: &str = "gateway_upstream_errors_total";
/// `gateway_config_reloads_total{result}`.
pub(crate) const CONFIG_RELOADS: &str = "gateway_config_reloads_total";

/// `gateway_tls_handshakes_total{result}`.
pub(crate) const TLS_HANDSHAKES: &str = "gateway_tls_handshakes_total";
/// `gateway_tls_certificate_expiry_seconds{name}` (gauge, Unix time).
pub(crate) const CERT_EXPIRY: &str = "gateway_tls_certificate_expiry_seconds";
/// `gateway_tls_reloads_total{result}`.
pub(crate) const TLS_RELOADS: &str = "gateway_tls_reloads_total";
/// `gateway_acme_orders_total{result}`.
pub(crate) const ACME_ORDERS: &str = "gateway_acme_orders_total";

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Install the Prometheus recorder (first call only) and return its handle.
/// `None` when another recorder was installed first (e.g. by an embedding program).
pub(crate) fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(REQUEST_DURATION.to_string()),
                    &[
                        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                        10.0, 30.0,
                    ],
                )
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            metrics::describe_counter!(
                REQUESTS_TOTAL,
                "Requests answered, by route, method and status."
            );
            metrics::describe_histogram!(
                REQUEST_DURATION,
                metrics::Unit::Seconds,
                "Time from request head to the end of the response body, by route."
            );
            metrics::describe_gauge!(IN_FLIGHT, "Requests being processed.");
            metrics::describe_counter!(
                UPSTREAM_ERRORS,
                "Failed upstream exchanges, by upstream and kind (connect, timeout, protocol)."
            );
            metrics::describe_counter!(
                CONFIG_RELOADS,
                "Configuration reloads, by result (success, failure)."
            );
            metrics::describe_counter!(
                TLS_HANDSHAKES,
                "TLS handshakes, by result (success, failure, timeout, refused: over tls.max_handshakes)."
            );
            metrics::describe_gauge!(
                CERT_EXPIRY,
                metrics::Unit::Seconds,
                "When each served certificate expires (Unix time), by its first name."
            );
            metrics::describe_counter!(
                TLS_RELOADS,
                "Certificate file reloads, by result (success, failure)."
            );
            metrics::describe_counter!(
                ACME_ORDERS,
                "ACME certificate orders, by result (success, failure)."
            );
            metrics::gauge!(IN_FLIGHT).set(0.0);
            metrics::counter!(CONFIG_RELOADS, "result" => "success").increment(0);
            metrics::counter!(CONFIG_RELOADS, "result" => "failure").increment(0);
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(std::time::Duration::from_secs(5));
                        upkeep.run_upkeep();
                    }
                })
                .ok()?;
            Some(handle)
        })
        .as_ref()
}

pub(crate) use common::metrics::method_label;

/// Count a failed upstream exchange.
pub(crate) fn upstream_error(upstream: &str, kind: &'static str) {
    metrics::counter!(UPSTREAM_ERRORS, "upstream" => upstream.to_string(), "kind" => kind)
        .increment(1);
}

/// Export `upstream`'s error counters for each of `kinds` (at zero when
/// new, so dashboards and alerts see them before the first failure; an
/// existing count is left as it is).
pub(crate) fn upstream_errors_known(upstream: &str, kinds: impl IntoIterator<Item = &'static str>) {
    for kind in kinds {
        metrics::counter!(UPSTREAM_ERRORS, "upstream" => upstream.to_string(), "kind" => kind)
            .increment(0);
    }
}

/// Count a configuration reload.
pub(crate) fn config_reload(ok: bool) {
    let result = if ok { "success" } else { "failure" };
    metrics::counter!(CONFIG_RELOADS, "result" => result).increment(1);
}

/// Export the TLS counters at zero (when the HTTPS listener is on).
pub(crate) fn tls_known(acme: bool) {
    for result in ["success", "failure", "timeout", "refused"] {
        metrics::counter!(TLS_HANDSHAKES, "result" => result).increment(0);
    }
    for result in ["success", "failure"] {
        metrics::counter!(TLS_RELOADS, "result" => result).increment(0);
        if acme {
            metrics::counter!(ACME_ORDERS, "result" => result).increment(0);
        }
    }
}

/// Count a TLS handshake: `success`, `failure`, `timeout` or `refused`.
pub(crate) fn tls_handshake(result: &'static str) {
    metrics::counter!(TLS_HANDSHAKES, "result" => result).increment(1);
}

/// Record when the certificate named `name` expires (Unix seconds).
#[allow(clippy::cast_precision_loss)]
pub(crate) fn certificate_expiry(name: &str, not_after: i64) {
    metrics::gauge!(CERT_EXPIRY, "name" => name.to_string()).set(not_after as f64);
}

/// Count a certificate file reload.
pub(crate) fn tls_reload(ok: bool) {
    let result = if ok { "success" } else { "failure" };
    metrics::counter!(TLS_RELOADS, "result" => result).increment(1);
}

/// Count an ACME order.
pub(crate) fn acme_order(ok: bool) {
    let result = if ok { "success" } else { "failure" };
    metrics::counter!(ACME_ORDERS, "result" => result).increment(1);
}
