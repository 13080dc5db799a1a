//! The request path, as named phases:
//! admit (head size, host, path) -> match route -> check declared length ->
//! rewrite request -> pick endpoint + forward (with the one allowed retry)
//! -> map errors -> rewrite response; the access log is written when the
//! response body ends ([`crate::access_log`]).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode, Uri, Version};
use hyper::body::Incoming;

use crate::access_log::Completion;
use crate::body::{BodyFaultCell, RequestBody, ResponseBody};
use crate::config::HostPolicy;
use crate::failure::{self, UpstreamFailure};
use crate::headers::{self, Forwarded, Peer, X_REQUEST_ID};
use crate::metrics;
use crate::routes::{Match, Route};
use crate::state::{Active, Shared};
use crate::upstream::{Connection, Endpoint, UpstreamPool};
use common::Problem;

/// Serve one client request from `peer` (the client connection's address).
pub async fn handle(
    shared: Arc<Shared>,
    peer: Arc<Peer>,
    req: Request<Incoming>,
) -> Result<Response<ResponseBody>, Infallible> {
    let started = Instant::now();
    let active = shared.active.load_full();
    let request_id = headers::request_id(req.headers());
    let mut done = Completion::start(
        started,
        request_id.clone(),
        peer.ip,
        metrics::method_label(req.method()),
        active.config.access_log,
    );
    let response = match proxy(&active, &peer, req, &request_id, &mut done).await {
        Ok(response) => response,
        Err(problem) => failure::render(problem, &request_id, &done.path),
    };
    Ok(finish(response, &request_id, done))
}

/// Echo the request id and attach the access-log record to the body.
fn finish(
    mut response: Response<ResponseBody>,
    request_id: &HeaderValue,
    mut done: Completion,
) -> Response<ResponseBody> {
    response
        .headers_mut()
        .insert(&X_REQUEST_ID, request_id.clone());
    done.status = response.status().as_u16();
    let (parts, body) = response.into_parts();
    Response::from_parts(parts, body.with_completion(done))
}

async fn proxy(
    active: &Active,
    peer: &Peer,
    req: Request<Incoming>,
    request_id: &HeaderValue,
    done: &mut Completion,
) -> Result<Response<ResponseBody>, Problem> {
    let admitted = match admit(&req, active.config.header_limit) {
        Ok(admitted) => admitted,
        Err(problem) => {
            done.path = req.uri().path().to_string();
            return Err(problem);
        }
    };
    let result = route_and_forward(active, peer, req, &admitted, request_id, done).await;
    // The access log and the problem's `instance` get the normalised path.
    done.path = admitted.path;
    result
}

/// Phases 2-8 for an admitted request.
async fn route_and_forward(
    active: &Active,
    peer: &Peer,
    req: Request<Incoming>,
    admitted: &Admitted,
    request_id: &HeaderValue,
    done: &mut Completion,
) -> Result<Response<ResponseBody>, Problem> {
    let route = match active.table.find(&admitted.path) {
        Match::Route(route) => route,
        Match::AddSlash(route) => {
            let location = match req.uri().query() {
                Some(q) => format!("{}?{q}", route.prefix),
                None => route.prefix.to_string(),
            };
            done.route = Arc::clone(&route.prefix);
            return Ok(failure::redirect(&location));
        }
        Match::NotFound => {
            return Err(Problem::not_found(format!(
                "no route matches `{}`",
                admitted.path
            )));
        }
    };
    done.route = Arc::clone(&route.prefix);
    check_declared_length(&req, route)?;

    let pool = active
        .upstreams
        .get(&*route.upstream)
        .ok_or_else(Problem::internal)?;
    let trusted = headers::is_trusted(peer.ip, &active.config.trusted_proxies);
    let outbound = rewrite_request(req, route, admitted, peer, trusted, request_id, pool);
    forward(pool, route, outbound, done).await
}

/// What admission learned about a request.
struct Admitted {
    path: String,
    host: Option<HeaderValue>,
}

/// Phase 1: refuse heads that are too large, ambiguous about their host, or
/// whose path cannot be normalised.
fn admit(req: &Request<Incoming>, header_limit: u64) -> Result<Admitted, Problem> {
    let head_size: usize = req.uri().path_and_query().map_or(1, |p| p.as_str().len())
        + req
            .headers()
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + 4)
            .sum::<usize>();
    if head_size as u64 > header_limit {
        return Err(Problem::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!("request headers exceed the limit of {header_limit} bytes"),
        ));
    }

    let mut hosts = req.headers().get_all(header::HOST).iter();
    let host_header = hosts.next().cloned();
    if hosts.next().is_some() {
        return Err(Problem::bad_request("more than one Host header"));
    }
    let host = match req.uri().authority() {
        Some(authority) => HeaderValue::from_str(authority.as_str()).ok(),
        None => host_header,
    };
    if host.is_none() && req.version() == Version::HTTP_11 {
        return Err(Problem::bad_request(
            "an HTTP/1.1 request needs a Host header",
        ));
    }
    if req.headers().contains_key(header::TRANSFER_ENCODING)
        && req.headers().contains_key(header::CONTENT_LENGTH)
    {
        return Err(Problem::bad_request(
            "Content-Length together with Transfer-Encoding is ambiguous",
        ));
    }

    let path = crate::path::normalize(req.uri().path())
        .map_err(|e| Problem::bad_request(e.to_string()))?;
    Ok(Admitted { path, host })
}

/// Phase 3: a declared body over the route's limit is refused before any
/// byte of it is read (so `Expect: 100-continue` clients never send it).
fn check_declared_length(req: &Request<Incoming>, route: &Route) -> Result<(), Problem> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(n) if n > route.body_limit => Err(Problem::payload_too_large(route.body_limit)),
        _ => Ok(()),
    }
}

/// The request as it will be sent, minus the endpoint.
struct Outbound {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Option<RequestBody>,
    fault: Arc<BodyFaultCell>,
    /// The body is known to be empty, so the request can be rebuilt.
    replayable_body: bool,
}

/// Phase 4: strip hop-by-hop headers, set the forwarding headers, the host
/// and the request id, and rewrite the path.
fn rewrite_request(
    req: Request<Incoming>,
    route: &Route,
    admitted: &Admitted,
    peer: &Peer,
    trusted: bool,
    request_id: &HeaderValue,
    pool: &UpstreamPool,
) -> Outbound {
    let (parts, body) = req.into_parts();
    let mut headers = parts.headers;
    headers::strip_hop_by_hop(&mut headers);
    // The gateway answers `Expect` itself (hyper sends 100 Continue when the
    // body is first read).
    headers.remove(header::EXPECT);
    headers.remove(header::HOST);
    headers::set_forwarding(
        &mut headers,
        &Forwarded {
            peer,
            trusted,
            host: admitted.host.as_ref(),
            prefix: route.forwarded_prefix.as_ref(),
        },
    );
    let host = match (route.host, &admitted.host) {
        (HostPolicy::Client, Some(h)) => Some(h.clone()),
        _ => pool.host_header(),
    };
    if let Some(host) = host {
        headers.insert(header::HOST, host);
    }
    headers.insert(&X_REQUEST_ID, request_id.clone());

    let upstream_path = route.upstream_path(&admitted.path);
    let path_and_query = match parts.uri.query() {
        Some(q) => format!("{upstream_path}?{q}"),
        None => upstream_path.into_owned(),
    };
    // The normalised path is a valid origin form; `from_maybe_shared` takes
    // the string's buffer instead of copying it.
    let uri = Uri::from_maybe_shared(bytes::Bytes::from(path_and_query))
        .unwrap_or_else(|_| Uri::from_static("/"));
    let replayable_body = http_body::Body::is_end_stream(&body);
    let fault = Arc::new(BodyFaultCell::default());
    Outbound {
        method: parts.method,
        uri,
        headers,
        body: Some(RequestBody::new(body, route.body_limit, Arc::clone(&fault))),
        fault,
        replayable_body,
    }
}

impl Outbound {
    /// Take back a request that was never sent.
    fn restore(&mut self, request: Request<RequestBody>) {
        let (parts, body) = request.into_parts();
        self.headers = parts.headers;
        self.uri = parts.uri;
        self.body = Some(body);
    }
}

fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    )
}

/// Phases 5-7: pick an endpoint, send, and on failure retry once when
/// allowed, then map the failure to a status.
async fn forward(
    pool: &Arc<UpstreamPool>,
    route: &Route,
    mut out: Outbound,
    done: &mut Completion,
) -> Result<Response<ResponseBody>, Problem> {
    let mut last: Option<Arc<Endpoint>> = None;
    let mut retried = false;
    loop {
        let Some(endpoint) = pool.pick(last.as_deref()) else {
            metrics::upstream_error(pool.name(), UpstreamFailure::NoEndpoint.kind());
            return Err(UpstreamFailure::NoEndpoint.problem(pool.name(), route.body_limit));
        };
        done.upstream = Some(endpoint.addr);
        let attempt = exchange(pool, &endpoint, &mut out, !retried);
        let result = tokio::time::timeout(route.response_timeout, attempt)
            .await
            .unwrap_or(Err((UpstreamFailure::ResponseTimeout, false)));
        let (failure, may_retry) = match result {
            Ok((response, conn)) => {
                pool.mark_ok(&endpoint);
                return Ok(rewrite_response(response, pool, conn));
            }
            Err(failed) => failed,
        };
        if matches!(failure, UpstreamFailure::ClientBody(_)) {
            return Err(failure.problem(pool.name(), route.body_limit));
        }
        metrics::upstream_error(pool.name(), failure.kind());
        if matches!(
            failure,
            UpstreamFailure::Connect | UpstreamFailure::ConnectTimeout
        ) {
            pool.mark_failed(&endpoint);
        }
        if !may_retry || retried {
            tracing::warn!(upstream = pool.name(), endpoint = %endpoint.addr, kind = failure.kind(), "upstream request failed");
            return Err(failure.problem(pool.name(), route.body_limit));
        }
        retried = true;
        last = Some(endpoint);
    }
}

/// One attempt on one endpoint: a pooled or new connection, then the
/// exchange. A failure says whether the request may be tried again: when it
/// was never sent (connect failure, connection found closed), always; when
/// a reused connection broke under it, only if idempotent without a body.
async fn exchange(
    pool: &UpstreamPool,
    endpoint: &Endpoint,
    out: &mut Outbound,
    keep_copy: bool,
) -> Result<(Response<Incoming>, Connection), (UpstreamFailure, bool)> {
    let (mut conn, mut reused) = pool.acquire(endpoint.addr).await.map_err(|f| (f, true))?;
    if conn.ready().await.is_err() {
        // Closed while idle: nothing was sent on it.
        reused = false;
        conn = pool
            .reconnect(endpoint.addr, conn)
            .await
            .map_err(|f| (f, true))?;
        conn.ready()
            .await
            .map_err(|_| (UpstreamFailure::Protocol, true))?;
    }
    let request = build_request(out, keep_copy && out.replayable_body);
    match conn.try_send_request(request).await {
        Ok(response) => Ok((response, conn)),
        Err(mut e) => {
            tracing::debug!(upstream = pool.name(), endpoint = %endpoint.addr, error = %e.error(), "upstream exchange failed");
            if let Some(request) = e.take_message() {
                // Never written: the request goes out again unchanged.
                out.restore(request);
                return Err((UpstreamFailure::Protocol, true));
            }
            let may_retry = reused && out.replayable_body && is_idempotent(&out.method);
            Err((UpstreamFailure::exchange(out.fault.get()), may_retry))
        }
    }
}

fn build_request(out: &mut Outbound, keep_copy: bool) -> Request<RequestBody> {
    let (headers, uri) = if keep_copy {
        (out.headers.clone(), out.uri.clone())
    } else {
        (
            std::mem::take(&mut out.headers),
            std::mem::replace(&mut out.uri, Uri::from_static("/")),
        )
    };
    let body = out.body.take().unwrap_or_else(RequestBody::empty);
    let mut request = Request::new(body);
    *request.method_mut() = out.method.clone();
    *request.uri_mut() = uri;
    *request.version_mut() = Version::HTTP_11;
    *request.headers_mut() = headers;
    request
}

/// Phase 8: the upstream's response with hop-by-hop headers removed; the
/// connection goes back to the pool when its body has been sent.
fn rewrite_response(
    response: Response<Incoming>,
    pool: &Arc<UpstreamPool>,
    conn: Connection,
) -> Response<ResponseBody> {
    let (mut parts, body) = response.into_parts();
    headers::strip_hop_by_hop(&mut parts.headers);
    parts.version = Version::HTTP_11;
    let body = ResponseBody::upstream(body).with_connection(Arc::clone(pool), conn);
    Response::from_parts(parts, body)
}
