//! The gateway's own answers: phase "map errors" (an upstream failure ->
//! the client's status), problem+json rendering, the slash redirect, and
//! the raw responses written straight to a client socket.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};

use crate::upstreams::{BodyFault, UpstreamFailure};

use super::body::ResponseBody;
use common::Problem;

/// Phase "map errors": the problem the client receives for a failed
/// exchange with `upstream` (`body_limit` is the route's).
pub(super) fn map_error(failure: UpstreamFailure, upstream: &str, body_limit: u64) -> Problem {
    match failure {
        UpstreamFailure::NoEndpoint => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("upstream `{upstream}` has no known address"),
        ),
        UpstreamFailure::NoHealthyEndpoint => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("upstream `{upstream}` has no healthy endpoint"),
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
        UpstreamFailure::ClientBody(BodyFault::TooLarge) => Problem::payload_too_large(body_limit),
        UpstreamFailure::ClientBody(_) => {
            Problem::bad_request("the request body is malformed or was cut off")
        }
    }
}

/// Render `problem` with the request id and path.
pub(crate) fn render(
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

/// A policy's own answer (a CORS preflight): `status`, `headers`, no body.
pub(super) fn answer(status: StatusCode, headers: http::HeaderMap) -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::fixed(Bytes::new()));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// A redirect (`301`, `302`) to `location`, without a body.
pub(super) fn redirect(status: StatusCode, location: &str) -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::fixed(Bytes::new()));
    *response.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(http::header::LOCATION, v);
    }
    response
}

/// The raw HTTP/1.1 `408` written when a client is too slow sending its
/// request head (hyper closes such connections without a response).
pub(crate) fn request_timeout_bytes() -> Vec<u8> {
    raw_problem(
        StatusCode::REQUEST_TIMEOUT,
        "the request head was not received in time",
    )
}

/// The problem+json response that replaces the bare one hyper writes by
/// itself for a request it cannot parse (`400`, `414`, `431`), or `None`
/// for another status.
pub(crate) fn unparseable_request_bytes(status: StatusCode) -> Option<Vec<u8>> {
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
pub(crate) fn raw_problem(status: StatusCode, detail: &str) -> Vec<u8> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upstream_without_a_usable_endpoint_is_unavailable() {
        for failure in [
            UpstreamFailure::NoEndpoint,
            UpstreamFailure::NoHealthyEndpoint,
        ] {
            let (status, _, _) = map_error(failure, "users", 1).into_parts();
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{failure:?}");
        }
        let (status, _, _) = map_error(UpstreamFailure::Connect, "users", 1).into_parts();
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        let (status, _, _) = map_error(UpstreamFailure::ConnectTimeout, "users", 1).into_parts();
        assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    }
}
