//! The response phases: "upstream response" (hop-by-hop headers removed,
//! everything else passed through, the body streamed back with the
//! connection returned to the pool at its end), "response policies", and
//! "log" (the request id echoed, the access-log record attached to the body
//! so that it is written when the body ends).

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, Response, Version};
use hyper::body::Incoming;

use crate::access_log::Completion;
use crate::headers::{self, X_REQUEST_ID};
use crate::policies::ResponseFacts;
use crate::routes::Route;
use crate::upstreams::{Connection, UpstreamPool, Wire, WireBody};

use super::body::ResponseBody;

/// Phase "upstream response": the upstream's response for the client, who
/// must take its bytes within `client_send` (else the upstream connection
/// is given up).
pub(super) fn upstream_response(
    response: Response<Incoming>,
    pool: &Arc<UpstreamPool>,
    conn: Connection,
    client_send: Duration,
) -> Response<ResponseBody> {
    let (mut parts, body) = response.into_parts();
    headers::strip_hop_by_hop(&mut parts.headers);
    parts.version = Version::HTTP_11;
    let body = ResponseBody::upstream(body).with_connection(Arc::clone(pool), conn, client_send);
    Response::from_parts(parts, body)
}

/// Phase "upstream response" for a response read through the direct
/// exchange (`upstreams/wire.rs`): the same, its body read from `conn`.
pub(super) fn wire_response(
    response: Response<WireBody>,
    pool: &Arc<UpstreamPool>,
    conn: Connection<Wire>,
    client_send: Duration,
) -> Response<ResponseBody> {
    let (mut parts, body) = response.into_parts();
    headers::strip_hop_by_hop(&mut parts.headers);
    parts.version = Version::HTTP_11;
    let body = ResponseBody::wire(body, Arc::clone(pool), conn, client_send);
    Response::from_parts(parts, body)
}

/// Phase "response policies": the route's policies adjust the head and
/// may encode the body (the response is taken apart only when one of them
/// acts on it, that is when the request's `facts` were kept).
pub(super) fn response_policies(
    route: &Route,
    response: Response<ResponseBody>,
    facts: Option<&ResponseFacts>,
) -> Response<ResponseBody> {
    let Some(facts) = facts else {
        return response;
    };
    let (mut parts, body) = response.into_parts();
    let body_len = http_body::Body::size_hint(&body).exact();
    let body = match route.policies.on_response(&mut parts, facts, body_len) {
        Some(encoder) => body.with_encoder(encoder),
        None => body,
    };
    Response::from_parts(parts, body)
}

/// Phase "log": echo the request id and hand the access-log record to the
/// body, which writes it when it ends (or is dropped).
pub(super) fn log(
    mut response: Response<ResponseBody>,
    request_id: &HeaderValue,
    mut record: Completion,
) -> Response<ResponseBody> {
    response
        .headers_mut()
        .insert(&X_REQUEST_ID, request_id.clone());
    record.status = response.status().as_u16();
    let (parts, body) = response.into_parts();
    Response::from_parts(parts, body.with_completion(record))
}
