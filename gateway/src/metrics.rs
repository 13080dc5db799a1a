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

/// `gateway_upstream_endpoint_healthy{upstream,endpoint}` (gauge, 1 or 0;
/// rendered from state, see [`render_endpoint_gauges`]).
pub(crate) const ENDPOINT_HEALTHY: &str = "gateway_upstream_endpoint_healthy";
/// `gateway_upstream_endpoint_requests_total{upstream,endpoint}`.
pub(crate) const ENDPOINT_REQUESTS: &str = "gateway_upstream_endpoint_requests_total";
/// `gateway_upstream_endpoint_outstanding{upstream,endpoint}` (gauge;
/// rendered from state).
pub(crate) const ENDPOINT_OUTSTANDING: &str = "gateway_upstream_endpoint_outstanding";
/// `gateway_upstream_health_checks_total{upstream,result}`.
pub(crate) const HEALTH_CHECKS: &str = "gateway_upstream_health_checks_total";
/// `gateway_upstream_ejections_total{upstream}`.
pub(crate) const EJECTIONS: &str = "gateway_upstream_ejections_total";
/// `gateway_retries_total{route,reason}`.
pub(crate) const RETRIES: &str = "gateway_retries_total";
/// `gateway_retry_budget_exhausted_total{route}`.
pub(crate) const RETRY_BUDGET_EXHAUSTED: &str = "gateway_retry_budget_exhausted_total";
/// `gateway_split_requests_total{route,upstream}`.
pub(crate) const SPLIT_REQUESTS: &str = "gateway_split_requests_total";
/// `gateway_client_connections_open` (gauge).
pub(crate) const CLIENT_CONNECTIONS: &str = "gateway_client_connections_open";
/// `gateway_client_connections_idle` (gauge).
pub(crate) const CLIENT_IDLE: &str = "gateway_client_connections_idle";
/// `gateway_client_connections_refused_total{reason}`.
pub(crate) const CLIENT_REFUSED: &str = "gateway_client_connections_refused_total";
/// `gateway_client_send_timeouts_total{kind}`.
pub(crate) const CLIENT_SEND_TIMEOUTS: &str = "gateway_client_send_timeouts_total";
/// `gateway_upstream_connections_parked_total{upstream}`.
pub(crate) const UPSTREAM_PARKED: &str = "gateway_upstream_connections_parked_total";
/// `gateway_upstream_connections_revived_total{upstream}`.
pub(crate) const UPSTREAM_REVIVED: &str = "gateway_upstream_connections_revived_total";
/// `gateway_upgraded_connections_open` (gauge).
pub(crate) const UPGRADED_OPEN: &str = "gateway_upgraded_connections_open";
/// `gateway_upgraded_connections_total`.
pub(crate) const UPGRADED_TOTAL: &str = "gateway_upgraded_connections_total";
/// `gateway_upgraded_connections_closed_total{reason}`.
pub(crate) const UPGRADED_CLOSED: &str = "gateway_upgraded_connections_closed_total";

/// `gateway_worker_panics_total`.
pub(crate) const WORKER_PANICS: &str = "gateway_worker_panics_total";

/// `gateway_access_log_dropped_lines_total`.
pub(crate) const ACCESS_LOG_DROPPED: &str = "gateway_access_log_dropped_lines_total";

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Install the Prometheus recorder (first call only) and return its handle.
/// `None` when another recorder was installed first (e.g. by an embedding program).
pub(crate) fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(REQUEST_DURATION.to_string()),
                    common::metrics::REQUEST_BUCKETS,
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
                WORKER_PANICS,
                "Panics on worker threads (a bug: the connection's requests were cut; the process exits non-zero at its stop)."
            );
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
            metrics::describe_counter!(
                ENDPOINT_REQUESTS,
                "Attempts sent to each upstream endpoint (retries included), by upstream and endpoint."
            );
            metrics::describe_counter!(
                HEALTH_CHECKS,
                "Active health checks, by upstream and result (pass, fail)."
            );
            metrics::describe_counter!(
                EJECTIONS,
                "Endpoints ejected by passive outlier detection, by upstream."
            );
            metrics::describe_counter!(
                RETRIES,
                "Requests sent again to another endpoint, by route and reason (connect, status)."
            );
            metrics::describe_counter!(
                RETRY_BUDGET_EXHAUSTED,
                "Retries refused because the route's retry budget was spent, by route."
            );
            metrics::describe_counter!(
                SPLIT_REQUESTS,
                "Requests of split routes, by route and the upstream chosen."
            );
            metrics::describe_counter!(
                ACCESS_LOG_DROPPED,
                "Access-log lines dropped because the output (stdout or log.access_file) was slower than the traffic."
            );
            metrics::counter!(ACCESS_LOG_DROPPED).increment(0);
            describe_connections();
            crate::policies::describe();
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

/// Describe the client connection metrics and export them at zero.
fn describe_connections() {
    metrics::describe_gauge!(
        CLIENT_CONNECTIONS,
        "Client connections open (both listeners)."
    );
    metrics::describe_gauge!(
        CLIENT_IDLE,
        "HTTP/1 keep-alive client connections idle between requests (parked: no HTTP state, no buffers)."
    );
    metrics::describe_counter!(
        CLIENT_REFUSED,
        "Client connections closed at accept, by reason (per_client_limit: over limits.connections_per_client)."
    );
    metrics::describe_counter!(
        CLIENT_SEND_TIMEOUTS,
        "Clients that took no response bytes for timeouts.client_send, by kind (response: its upstream connection released; connection: its connection closed)."
    );
    metrics::describe_gauge!(UPGRADED_OPEN, "Upgraded (WebSocket) connections open.");
    metrics::describe_counter!(
        UPGRADED_TOTAL,
        "Connections upgraded (101 Switching Protocols)."
    );
    metrics::describe_counter!(
        UPGRADED_CLOSED,
        "Upgraded connections closed, by reason (closed, idle_timeout, error, shutdown)."
    );
    metrics::gauge!(CLIENT_CONNECTIONS).set(0.0);
    metrics::gauge!(CLIENT_IDLE).set(0.0);
    metrics::counter!(CLIENT_REFUSED, "reason" => "per_client_limit").increment(0);
    for kind in ["response", "connection"] {
        metrics::counter!(CLIENT_SEND_TIMEOUTS, "kind" => kind).increment(0);
    }
    metrics::gauge!(UPGRADED_OPEN).set(0.0);
    metrics::counter!(UPGRADED_TOTAL).increment(0);
    for reason in ["closed", "idle_timeout", "error", "shutdown"] {
        metrics::counter!(UPGRADED_CLOSED, "reason" => reason).increment(0);
    }
}

/// Count a client that took no response bytes for `timeouts.client_send`:
/// `response` (its upstream connection released) or `connection` (closed).
pub(crate) fn client_send_timeout(kind: &'static str) {
    metrics::counter!(CLIENT_SEND_TIMEOUTS, "kind" => kind).increment(1);
}

/// Count an idle upstream connection parked as a bare socket
/// (`parked`), or a parked one taken for a request (`revived`).
pub(crate) fn upstream_parking(upstream: &str, revived: bool) {
    let name = if revived {
        UPSTREAM_REVIVED
    } else {
        UPSTREAM_PARKED
    };
    metrics::counter!(name, "upstream" => upstream.to_string()).increment(1);
}

/// Count a panic on a worker thread (`panics.rs`).
pub(crate) fn worker_panic() {
    metrics::counter!(WORKER_PANICS).increment(1);
}

/// Count access-log lines dropped (the output was too slow, or stopped).
pub(crate) fn access_log_dropped(lines: u64) {
    metrics::counter!(ACCESS_LOG_DROPPED).increment(lines);
}

/// Count a client connection closed at accept (`per_client_limit`).
pub(crate) fn client_refused(reason: &'static str) {
    metrics::counter!(CLIENT_REFUSED, "reason" => reason).increment(1);
}

/// The open client connections gauge (looked up once).
pub(crate) fn client_connections() -> &'static metrics::Gauge {
    static GAUGE: OnceLock<metrics::Gauge> = OnceLock::new();
    GAUGE.get_or_init(|| metrics::gauge!(CLIENT_CONNECTIONS))
}

/// The idle (parked) client connections gauge (looked up once).
pub(crate) fn client_idle() -> &'static metrics::Gauge {
    static GAUGE: OnceLock<metrics::Gauge> = OnceLock::new();
    GAUGE.get_or_init(|| metrics::gauge!(CLIENT_IDLE))
}

/// Count a connection switched to another protocol (it is open now).
pub(crate) fn upgrade_opened() {
    metrics::counter!(UPGRADED_TOTAL).increment(1);
    metrics::gauge!(UPGRADED_OPEN).increment(1.0);
}

/// Count an upgraded connection's end: `closed`, `idle_timeout`, `error`
/// or `shutdown`.
pub(crate) fn upgrade_closed(reason: &'static str) {
    metrics::gauge!(UPGRADED_OPEN).decrement(1.0);
    metrics::counter!(UPGRADED_CLOSED, "reason" => reason).increment(1);
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

/// One endpoint as the endpoint gauges show it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EndpointGauge {
    /// Its address (the `endpoint` label).
    pub(crate) addr: std::net::SocketAddr,
    /// Whether requests may go to it.
    pub(crate) healthy: bool,
    /// Requests in progress there.
    pub(crate) outstanding: u32,
}

/// Append `gateway_upstream_endpoint_healthy` and
/// `gateway_upstream_endpoint_outstanding` for the endpoints of now to a
/// rendered exposition. They are written from the upstreams' state at each
/// scrape rather than kept in the recorder, so an address that went away
/// (scaled down, removed by a reload) leaves no stale series behind: a
/// stale `0` would keep an "endpoint down" alert firing.
/// `upstreams`: each upstream's name and endpoints.
pub(crate) fn render_endpoint_gauges(out: &mut String, upstreams: &[(&str, Vec<EndpointGauge>)]) {
    use std::fmt::Write as _;
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    for (name, help, value) in [
        (
            ENDPOINT_HEALTHY,
            "Whether requests may go to an upstream endpoint (1) or not (0: failed its active checks, or ejected).",
            (|healthy: bool, _: u32| u32::from(healthy)) as fn(bool, u32) -> u32,
        ),
        (
            ENDPOINT_OUTSTANDING,
            "Requests in progress at each endpoint, as power of two choices sees them (0 under round robin).",
            |_: bool, outstanding: u32| outstanding,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (upstream, endpoints) in upstreams {
            for e in endpoints {
                let _ = writeln!(
                    out,
                    "{name}{{upstream=\"{upstream}\",endpoint=\"{}\"}} {}",
                    e.addr,
                    value(e.healthy, e.outstanding)
                );
            }
        }
        out.push('\n');
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
