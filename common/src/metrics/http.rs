//! Requests by route template, method and status, with durations: a
//! middleware wrapping every route of a service.
//!
//! The route label is axum's [`MatchedPath`] (`/{id}/stock`), never the
//! raw path, so ids in URLs cannot create series; requests no route
//! matched share `route="unmatched"`.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use metrics::{Gauge, Label, SharedString};

use super::{Registry, method_label, status_label};

/// `http_requests_total{route,method,status}`.
pub const REQUESTS_TOTAL: &str = "http_requests_total";
/// `http_request_duration_seconds{route,method}` (histogram).
pub const REQUEST_DURATION: &str = "http_request_duration_seconds";
/// `http_requests_in_flight`.
pub const IN_FLIGHT: &str = "http_requests_in_flight";

/// The route label of a request that matched no route.
pub const UNMATCHED: &str = "unmatched";

/// The HTTP metrics of one service instance.
#[derive(Clone, Debug)]
pub struct HttpMetrics {
    registry: Registry,
    in_flight: Gauge,
}

impl HttpMetrics {
    /// Describe the HTTP metrics in `registry` (in flight at 0).
    pub fn new(registry: &Registry) -> HttpMetrics {
        registry.describe_counter(
            REQUESTS_TOTAL,
            "Requests answered, by route template, method and status.",
        );
        registry.describe_histogram(
            REQUEST_DURATION,
            "Time from request head to response head, by route template and method.",
        );
        registry.describe_gauge(IN_FLIGHT, None, "Requests being handled.");
        let in_flight = registry.gauge(IN_FLIGHT, vec![]);
        in_flight.set(0.0);
        HttpMetrics {
            registry: registry.clone(),
            in_flight,
        }
    }
}

/// Wrap every route of `router` (call it after the routes and the shared
/// layers are added, so each request carries its route template).
pub fn track(router: Router, metrics: HttpMetrics) -> Router {
    router.layer(middleware::from_fn_with_state(metrics, record))
}

/// Leaves the in-flight gauge even when the request is dropped midway.
struct InFlight<'a>(&'a Gauge);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

async fn record(State(metrics): State<HttpMetrics>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or(SharedString::const_str(UNMATCHED), |p| {
            SharedString::from(p.as_str().to_string())
        });
    let method = method_label(req.method());
    let started = Instant::now();
    metrics.in_flight.increment(1.0);
    let _in_flight = InFlight(&metrics.in_flight);
    let response = next.run(req).await;
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    metrics
        .registry
        .counter(
            REQUESTS_TOTAL,
            vec![
                Label::new("route", route.clone()),
                Label::from_static_parts("method", method),
                Label::new("status", status_label(status)),
            ],
        )
        .increment(1);
    metrics
        .registry
        .histogram(
            REQUEST_DURATION,
            vec![
                Label::new("route", route),
                Label::from_static_parts("method", method),
            ],
        )
        .record(seconds);
    response
}

/// A service's registry: request durations on [`super::REQUEST_BUCKETS`],
/// every other histogram on [`super::SHORT_BUCKETS`].
pub fn service_registry() -> Registry {
    Registry::new(&[(REQUEST_DURATION, super::REQUEST_BUCKETS)])
}
