//! The admin endpoints: `/healthz`, `/readyz` (503 while draining; the
//! upstreams' healthy endpoints),
//! `/metrics` (Prometheus text) and `/config` (the active configuration).

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use common::Problem;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;

use crate::proxy::ResponseBody;
use crate::state::Shared;

/// Answer one admin request.
pub(super) fn route(shared: &Shared, req: &Request<Incoming>) -> Response<ResponseBody> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return problem(Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "the admin endpoints answer GET only",
        ));
    }
    match req.uri().path() {
        "/healthz" => text(StatusCode::OK, "ok\n", "text/plain; charset=utf-8"),
        "/readyz" => readyz(shared),
        "/metrics" => match crate::metrics::install() {
            Some(handle) => {
                let mut body = handle.render();
                // Endpoint health is read now (ejections end on their own),
                // for the endpoints there are now.
                let active = shared.active.load();
                let mut upstreams: Vec<(&str, Vec<_>)> = active
                    .upstreams
                    .values()
                    .map(|pool| (pool.name(), pool.health().endpoints))
                    .collect();
                upstreams.sort_by_key(|(name, _)| *name);
                crate::metrics::render_endpoint_gauges(&mut body, &upstreams);
                text(
                    StatusCode::OK,
                    body,
                    "text/plain; version=0.0.4; charset=utf-8",
                )
            }
            None => problem(Problem::unavailable(
                "another metrics recorder is installed in this process",
            )),
        },
        "/config" => {
            let active = shared.active.load();
            // The configuration holds no secrets (credentials in upstream URLs
            // are refused at validation; keys are shown by path), so it is
            // shown whole, with the certificates served (names, expiry).
            let mut shown = serde_json::to_value(&*active.config).unwrap_or_default();
            if let (Some(tls), Some(object)) = (&shared.tls, shown.as_object_mut()) {
                object.insert(
                    "certificates".to_string(),
                    serde_json::to_value(tls.store.infos()).unwrap_or_default(),
                );
            }
            let body = serde_json::to_vec_pretty(&shown).unwrap_or_default();
            text(StatusCode::OK, body, "application/json")
        }
        other => problem(Problem::not_found(format!(
            "no admin endpoint `{other}` (try /healthz, /readyz, /metrics, /config)"
        ))),
    }
}

/// `/readyz`: `503 draining` once shutdown has begun, else `200 ready`,
/// with one line per upstream saying how many of its endpoints are
/// healthy. An upstream without a healthy endpoint does not make the
/// gateway unready: it still answers (its routes with `503`), and taking
/// every replica out of a load balancer because one service is down would
/// take the other services down with it.
fn readyz(shared: &Shared) -> Response<ResponseBody> {
    let draining = shared.draining.load(Ordering::Relaxed);
    let mut body = String::from(if draining { "draining\n" } else { "ready\n" });
    let active = shared.active.load();
    let mut names: Vec<&String> = active.upstreams.keys().collect();
    names.sort();
    for name in names {
        let report = active.upstreams[name].health();
        let _ = writeln!(
            body,
            "upstream {name}: {}/{} endpoints healthy",
            report.healthy(),
            report.endpoints.len()
        );
    }
    let status = if draining {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    text(status, body, "text/plain; charset=utf-8")
}

fn text(
    status: StatusCode,
    body: impl Into<Bytes>,
    content_type: &'static str,
) -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::fixed(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn problem(p: Problem) -> Response<ResponseBody> {
    crate::proxy::render(p, &crate::headers::new_request_id(), "")
}
