//! `return`: a redirect (`Location` built from variables and captures) or
//! a status with a short body, answered at the edge. As in NGINX it runs in
//! the rewrite phase, before access rules and authentication. The body is
//! the bytes themselves; the request path wraps them.

use bytes::Bytes;
use common::Problem;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};

use crate::config::{CLOSE_WITHOUT_ANSWER, ReturnConfig};
use crate::routing::vars::{Vars, render};

/// Marks a response that must not be sent: `return 444` (NGINX's "close
/// the connection without an answer"). The connection's service sees it
/// and fails the request (hyper then closes an HTTP/1 connection and
/// resets an HTTP/2 stream, writing nothing); the access log still shows
/// the status 444, as NGINX's does.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CloseWithoutAnswer;

impl std::fmt::Display for CloseWithoutAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("closed without an answer (return 444)")
    }
}

impl std::error::Error for CloseWithoutAnswer {}

/// The answer `ret` gives with `vars`.
pub(crate) fn answer(ret: &ReturnConfig, vars: &Vars<'_>) -> Result<Response<Bytes>, Problem> {
    let status = StatusCode::from_u16(ret.status).map_err(|_| Problem::internal())?;
    if ret.status == CLOSE_WITHOUT_ANSWER {
        let mut response = Response::new(Bytes::new());
        *response.status_mut() = status;
        response.extensions_mut().insert(CloseWithoutAnswer);
        return Ok(response);
    }
    if let Some(location) = &ret.location {
        let value = HeaderValue::from_str(&render(location, vars)).map_err(|_| {
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the `return` location is not a valid header value",
            )
        })?;
        let mut response = Response::new(Bytes::new());
        *response.status_mut() = status;
        response.headers_mut().insert(header::LOCATION, value);
        return Ok(response);
    }
    match &ret.body {
        Some(body) => {
            let mut response = Response::new(Bytes::from(render(body, vars)));
            *response.status_mut() = status;
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            Ok(response)
        }
        // An error status without a body: the gateway's problem+json.
        None if status.is_client_error() || status.is_server_error() => Err(Problem::new(
            status,
            status.canonical_reason().unwrap_or("error"),
        )),
        None => {
            let mut response = Response::new(Bytes::new());
            *response.status_mut() = status;
            Ok(response)
        }
    }
}
