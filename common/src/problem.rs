//! RFC 9457 problem details: the one error shape of every component.
//!
//! Handlers return `Result<_, Problem>` and use `?`; the request-context
//! middleware (`service` feature) fills in the request id on the way out.
//! The gateway renders the same type for its own refusals with
//! [`Problem::into_parts`], so this module needs no web framework.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode, header};
use serde::Serialize;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field of a request (422 `errors` entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "service", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The field, as named in the request (`email`, `items[0].price`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An `application/problem+json` error response.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "service", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI identifying the problem type (`about:blank` for plain HTTP statuses).
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// Human-readable explanation of this occurrence.
    pub detail: String,
    /// The request path this occurrence is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The request id (`X-Request-Id`) for correlating with logs.
    pub request_id: Option<String>,
    /// Every invalid field (validation failures only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Extra response headers (`WWW-Authenticate`, `Retry-After`, ...).
    #[serde(skip)]
    #[cfg_attr(feature = "service", schema(ignore))]
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl Problem {
    /// A problem for `status` with a human-readable `detail`.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank".to_string(),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            instance: None,
            request_id: None,
            errors: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// The status as a [`StatusCode`].
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// 400: the request is malformed.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    /// 401 with `WWW-Authenticate: Bearer`.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    }

    /// 401 for a presented but unusable token (`error="invalid_token"`, RFC 6750).
    pub fn invalid_token(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail).with_header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        )
    }

    /// 403: authenticated but not allowed.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    /// 409: the request conflicts with the current state.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }

    /// 412: a precondition (`If-Match`) failed.
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PRECONDITION_FAILED, detail)
    }

    /// 413: the body is over the limit.
    pub fn payload_too_large(limit: u64) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body exceeds the limit of {limit} bytes"),
        )
    }

    /// 415: the body is not in a supported format.
    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, detail)
    }

    /// 422 listing every invalid field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields are invalid", many.len()),
        };
        let mut p = Self::new(StatusCode::UNPROCESSABLE_ENTITY, detail);
        p.title = "Validation failed".to_string();
        p.errors = errors;
        p
    }

    /// 429 with `Retry-After` in whole seconds (at least 1).
    pub fn too_many_requests(detail: impl Into<String>, retry_after: Duration) -> Self {
        let secs = retry_after.as_secs().max(1) + u64::from(retry_after.subsec_nanos() > 0);
        Self::new(StatusCode::TOO_MANY_REQUESTS, detail)
            .with_header(header::RETRY_AFTER, HeaderValue::from(secs))
    }

    /// 500 that says nothing about the cause (which is logged, never sent).
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the server could not complete the request; the request id identifies it in the logs",
        )
    }

    /// 503: a dependency is not available.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, detail)
    }

    /// Add a response header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Set the request id.
    pub fn with_request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }

    /// Set the `instance` (the request path).
    pub fn with_instance(mut self, instance: impl Into<String>) -> Self {
        self.instance = Some(instance.into());
        self
    }

    /// The JSON body.
    pub fn body(&self) -> Bytes {
        // Serialising plain strings and numbers cannot fail.
        Bytes::from(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Status, headers (content type included) and body, for non-axum servers.
    pub fn into_parts(self) -> (StatusCode, Vec<(HeaderName, HeaderValue)>, Bytes) {
        let body = self.body();
        let status = self.status_code();
        let mut headers = self.headers;
        headers.push((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        (status, headers, body)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.title, self.detail)
    }
}

impl std::error::Error for Problem {}

/// The response of a handler's error. The request-context middleware
/// re-renders it with the request id and the path.
#[cfg(feature = "service")]
impl axum::response::IntoResponse for Problem {
    fn into_response(self) -> axum::response::Response {
        let marker = self.clone();
        let (status, headers, body) = self.into_parts();
        let mut response = (status, body).into_response();
        for (name, value) in headers {
            response.headers_mut().append(name, value);
        }
        response.extensions_mut().insert(marker);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_lists_every_field() {
        let p = Problem::validation(vec![
            FieldError::new("email", "is not an email address"),
            FieldError::new("password", "must be 8 to 128 characters"),
        ]);
        let v: serde_json::Value = serde_json::from_slice(&p.body()).expect("json");
        assert_eq!(v["status"], 422);
        assert_eq!(v["errors"][1]["field"], "password");
        assert_eq!(v["detail"], "2 fields are invalid");
    }

    #[test]
    fn unauthorized_carries_bearer_challenge() {
        let (status, headers, _) = Problem::unauthorized("sign in").into_parts();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(
            headers
                .iter()
                .any(|(n, v)| n == header::WWW_AUTHENTICATE && v == "Bearer")
        );
        assert!(
            headers
                .iter()
                .any(|(n, v)| n == header::CONTENT_TYPE && v == PROBLEM_JSON)
        );
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let p = Problem::too_many_requests("slow down", Duration::from_millis(1500));
        assert!(
            p.headers
                .iter()
                .any(|(n, v)| n == header::RETRY_AFTER && v == "2")
        );
    }

    #[test]
    fn body_has_rfc9457_members_and_request_id() {
        let p = Problem::not_found("no such product")
            .with_request_id("abc")
            .with_instance("/x");
        let v: serde_json::Value = serde_json::from_slice(&p.body()).expect("json");
        assert_eq!(v["type"], "about:blank");
        assert_eq!(v["title"], "Not Found");
        assert_eq!(v["status"], 404);
        assert_eq!(v["detail"], "no such product");
        assert_eq!(v["instance"], "/x");
        assert_eq!(v["request_id"], "abc");
        assert!(v.get("errors").is_none());
    }
}
