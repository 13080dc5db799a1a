//! The gateway's own refusals and how upstream failures map to statuses.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};

use crate::body::{BodyFault, ResponseBody};
use common::Problem;

/// How an exchange with an upstream failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamFailure {
    /// No endpoint is known (the name did not resolve).
    NoEndpoint,
    /// The TCP connection was refused or unreachable.
    Connect,
    /// The TCP connection did not open within the connect timeout.
    ConnectTimeout,
    /// The response head did not arrive within the response timeout.
    ResponseTimeout,
    /// The connection broke (closed, reset, malformed response).
    Protocol,
    /// The client's body was refused while streaming.
    ClientBody(BodyFault),
}

impl UpstreamFailure {
    /// A failed exchange on an open connection, given what the request body reported.
    pub fn exchange(body: BodyFault) -> Self {
        if body == BodyFault::None {
            UpstreamFailure::Protocol
        } else {
            UpstreamFailure::ClientBody(body)
        }
    }

    /// The metrics `kind` label.
    pub fn kind(self) -> &'static str {
        match self {
            UpstreamFailure::NoEndpoint => "no_endpoint",
            UpstreamFailure::Connect => "connect",
            UpstreamFailure::ConnectTimeout => "connect_timeout",
            UpstreamFailure::ResponseTimeout => "response_timeout",
            UpstreamFailure::Protocol => "protocol",
            UpstreamFailure::ClientBody(_) => "client_body",
        }
    }

    /// The problem the client receives.
    pub fn problem(self, upstream: &str, limit: u64) -> Problem {
        match self {
            UpstreamFailure::NoEndpoint => Problem::new(
                StatusCode::BAD_GATEWAY,
                format!("upstream `{upstream}` has no reachable address"),
            ),
            UpstreamFailure::Connect => Problem::new(
                StatusCode::BAD_GATEWAY,
                format!("upstream `{upstream}` refused the connection or is unreachable"),
            ),
            UpstreamFailure::ConnectTimeout => Problem::new(
                StatusCode::GATEWAY_TIMEOUT,
                format!("upstream `{upstream}` did not accept a connection in time"),
            ),
            UpstreamFailure::ResponseTimeout => Problem::new(
                StatusCode::GATEWAY_TIMEOUT,
                format!("upstream `{upstream}` did not answer in time"),
            ),
            UpstreamFailure::Protocol => Problem::new(
                StatusCode::BAD_GATEWAY,
                format!("upstream `{upstream}` closed the connection or sent an invalid response"),
            ),
            UpstreamFailure::ClientBody(BodyFault::TooLarge) => Problem::payload_too_large(limit),
            UpstreamFailure::ClientBody(_) => {
                Problem::bad_request("the request body is malformed or was cut off")
            }
        }
    }
}

/// Render `problem` with the request id and path.
pub fn render(
    problem: Problem,
    request_id: &HeaderValue,
    instance: &str,
) -> Response<ResponseBody> {
    let mut problem = problem.with_request_id(request_id.to_str().unwrap_or_default());
    if !instance.is_empty() {
        problem = problem.with_instance(instance.to_string());
    }
    let (status, headers, body) = problem.into_parts();
    let mut response = Response::new(ResponseBody::fixed(body));
    *response.status_mut() = status;
    for (name, value) in headers {
        response.headers_mut().append(name, value);
    }
    response
}

/// A `301` to `location` (with a tiny problem-free body, like nginx).
pub fn redirect(location: &str) -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::fixed(Bytes::new()));
    *response.status_mut() = StatusCode::MOVED_PERMANENTLY;
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(http::header::LOCATION, v);
    }
    response
}

/// The raw HTTP/1.1 `408` written when a client is too slow sending its
/// request head (hyper closes such connections without a response).
pub fn request_timeout_bytes() -> Vec<u8> {
    raw_problem(
        StatusCode::REQUEST_TIMEOUT,
        "the request head was not received in time",
    )
}

/// The problem+json response that replaces the bare one hyper writes by
/// itself for a request it cannot parse (`400`, `414`, `431`), or `None`
/// for another status.
pub fn unparseable_request_bytes(status: StatusCode) -> Option<Vec<u8>> {
    let detail = match status {
        StatusCode::BAD_REQUEST => "the request is not valid HTTP/1.1",
        StatusCode::URI_TOO_LONG => "the request target is too long",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "the request head is too large",
        _ => return None,
    };
    Some(raw_problem(status, detail))
}

/// A complete `Connection: close` HTTP/1.1 response carrying a problem
/// with a fresh request id, for answers written straight to the socket.
fn raw_problem(status: StatusCode, detail: &str) -> Vec<u8> {
    let problem = Problem::new(status, detail).with_request_id(
        crate::headers::new_request_id()
            .to_str()
            .unwrap_or_default(),
    );
    let body = problem.body();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        common::problem::PROBLEM_JSON,
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}
