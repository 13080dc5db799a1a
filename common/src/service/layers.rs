//! The layers every service wraps its routes in: request id in and out,
//! every error rendered as problem+json with that id, one access-log line
//! per request (inside the request's trace span, see
//! [`crate::telemetry::request_span`]), the body limit, the handler
//! timeout, and the rest of an unread body drained so an early answer
//! arrives ([`super::drain`]).

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use tracing::Instrument;

use super::settings::BaseConfig;
use super::{X_REQUEST_ID, is_valid_request_id};
use crate::problem::{PROBLEM_JSON, Problem};

/// Wrap a service's routes with the shared layers: 404/405/413/timeout as
/// problems, the body limit, the handler timeout and the request context.
pub fn apply_layers(router: Router, config: &BaseConfig) -> Router {
    let limit = config.body_limit;
    router
        .fallback(|| async { Problem::not_found("no such resource") })
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::map_request(move |req: Request| async move {
            super::drain::drain_unread_body(req, limit)
        }))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            config.request_timeout,
        ))
        .layer(middleware::from_fn(request_context))
}

/// Request id in and out, every error as problem+json with that id, one
/// access-log line per request, all in the request's trace span.
pub async fn request_context(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = req
        .headers()
        .get(X_REQUEST_ID)
        .map(HeaderValue::as_bytes)
        .filter(|v| is_valid_request_id(v))
        .and_then(|v| std::str::from_utf8(v).ok())
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let header_value = HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("invalid"));
    req.headers_mut().insert(X_REQUEST_ID, header_value.clone());
    let method = req.method().clone();
    let instance = format!(
        "{}{}",
        crate::forwarded::prefix(req.headers()),
        req.uri().path()
    );

    let route = req.extensions().get::<MatchedPath>().cloned();
    let span = crate::telemetry::request_span(
        req.headers(),
        &method,
        route.as_ref().map(MatchedPath::as_str),
    );

    let response = next.run(req).instrument(span.clone()).await;
    let mut response = render_problem(response, &id, &instance);
    response.headers_mut().insert(X_REQUEST_ID, header_value);
    crate::telemetry::record_status(&span, response.status().as_u16());
    let _in_span = span.enter();
    tracing::info!(
        request_id = %id,
        method = %method,
        path = %instance,
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}

fn render_problem(response: Response, id: &str, instance: &str) -> Response {
    let status = response.status();
    let problem = match response.extensions().get::<Problem>() {
        Some(p) => p.clone(),
        None if status.as_u16() >= 400 && !is_problem(&response) => default_problem(status),
        None => return response,
    };
    let problem = problem.with_request_id(id).with_instance(instance);
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    Response::from_parts(parts, Body::from(problem.body())).into_response()
}

fn is_problem(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()))
}

fn default_problem(status: StatusCode) -> Problem {
    let detail = match status {
        StatusCode::NOT_FOUND => "no such resource",
        StatusCode::METHOD_NOT_ALLOWED => "this method is not allowed on this resource",
        StatusCode::PAYLOAD_TOO_LARGE => "request body is too large",
        StatusCode::SERVICE_UNAVAILABLE => "the request could not be completed in time",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported content type",
        _ => status.canonical_reason().unwrap_or("error"),
    };
    Problem::new(status, detail)
}
