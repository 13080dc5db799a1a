//! Phase "upstream request": the client's request rewritten for the
//! upstream. Hop-by-hop headers go (`Connection` and every header it
//! names, `Keep-Alive`, `Proxy-Connection`, `TE`, `Transfer-Encoding`,
//! `Upgrade`, `Trailer`; an upgrade request gets its `Upgrade` and
//! `Connection: upgrade` back, see [`super::upgrade`]), and `Expect` (the gateway answers it); the
//! forwarding headers are set; the route's policies adjust the headers
//! (the `Host` policy sets exactly one `Host`); `X-Request-Id` and
//! `traceparent` are set; the
//! path is rewritten (prefix stripped, query kept byte for byte).

use std::sync::Arc;

use common::Problem;
use http::header::{self, HeaderMap};
use http::{Method, Request, Uri, Version};
use hyper::body::Incoming;

use crate::headers::{self, Forwarded, X_REQUEST_ID};
use crate::routes::Route;
use crate::upstreams::{BodyFaultCell, RequestBody};

use super::ctx::RequestCtx;
use super::upgrade::{self, Upgrade};

/// The request as it will be sent, minus the endpoint.
pub(super) struct Outbound {
    pub(super) method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Option<RequestBody>,
    /// Why the request body stopped early, if it did.
    pub(super) fault: Arc<BodyFaultCell>,
    /// The body is known to be empty, so the request can be rebuilt.
    pub(super) replayable_body: bool,
    /// The request asks for an upgrade: it needs an upstream connection
    /// that can be upgraded (a new one, never parked).
    pub(super) upgrade: bool,
    /// The direct exchange carries it (`upstreams/wire.rs`): no body, no
    /// upgrade, not `CONNECT`.
    pub(super) direct: bool,
}

/// Rewrite `req` for the upstream of `route`; the upgrade it asks for, if
/// any, is taken out of it.
pub(super) fn upstream_request(
    ctx: &RequestCtx<'_>,
    route: &Route,
    req: Request<Incoming>,
) -> Result<(Outbound, Option<Upgrade>), Problem> {
    let path_and_query = upstream_target(ctx, route, &req)?;
    let (mut parts, body) = req.into_parts();
    // A route that does not take upgrades sends the request as a plain
    // one (its `Upgrade` and `Connection` go with the hop-by-hop headers).
    let upgrade = route
        .upgrades
        .then(|| upgrade::requested(&mut parts))
        .flatten();
    let mut headers = parts.headers;
    headers::strip_hop_by_hop(&mut headers);
    if let Some(upgrade) = &upgrade {
        headers::set_upgrade(&mut headers, upgrade.protocol().clone());
    }
    // The gateway answers `Expect` itself (hyper sends 100 Continue when the
    // body is first read).
    headers.remove(header::EXPECT);
    headers.remove(header::HOST);
    headers::set_forwarding(
        &mut headers,
        &Forwarded {
            peer: ctx.peer,
            client: &ctx.client.value,
            peer_trusted: ctx.client.peer_trusted,
            host: ctx.host.as_ref(),
            prefix: route.forwarded_prefix.as_ref(),
        },
    );
    route
        .policies
        .on_upstream_request(&mut headers, &ctx.facts());
    headers.insert(&X_REQUEST_ID, ctx.request_id.clone());
    ctx.log.trace.upstream_headers(&mut headers);

    // The normalised path is a valid origin form; `from_maybe_shared` takes
    // the string's buffer instead of copying it.
    let uri = Uri::from_maybe_shared(bytes::Bytes::from(path_and_query))
        .unwrap_or_else(|_| Uri::from_static("/"));
    let replayable_body = http_body::Body::is_end_stream(&body);
    let fault = Arc::new(BodyFaultCell::default());
    let direct = replayable_body && upgrade.is_none() && parts.method != Method::CONNECT;
    let outbound = Outbound {
        method: parts.method,
        uri,
        headers,
        body: Some(RequestBody::new(body, route.body_limit, Arc::clone(&fault))),
        fault,
        replayable_body,
        upgrade: upgrade.is_some(),
        direct,
    };
    Ok((outbound, upgrade))
}

/// The path and query the upstream receives: the route's `upstream_path`
/// rendered (its own query, else the request's), or the routed path (the
/// prefix stripped when the route says so) with the query byte for byte.
fn upstream_target(
    ctx: &RequestCtx<'_>,
    route: &Route,
    req: &Request<Incoming>,
) -> Result<String, Problem> {
    let target = &ctx.target;
    if let Some(template) = &route.upstream_path {
        let rendered = crate::routing::vars::render(template, &target.vars(&ctx.line(req)));
        let (path, query) = match rendered.split_once('?') {
            Some((p, q)) => (p, Some(q.to_string())),
            None => (rendered.as_str(), target.args.clone()),
        };
        let path = crate::path::normalize(path)
            .map_err(|e| Problem::bad_request(format!("the upstream path is refused: {e}")))?;
        return Ok(match query {
            Some(q) => format!("{path}?{q}"),
            None => path,
        });
    }
    let upstream_path = route.upstream_path(&target.uri);
    Ok(match &target.args {
        Some(q) => format!("{upstream_path}?{q}"),
        None => upstream_path.into_owned(),
    })
}

impl Outbound {
    /// The request to send: a copy of the head when it may have to be sent
    /// again (`keep_copy`), else the head itself.
    pub(super) fn request(&mut self, keep_copy: bool) -> Request<RequestBody> {
        let (headers, uri) = if keep_copy {
            (self.headers.clone(), self.uri.clone())
        } else {
            (
                std::mem::take(&mut self.headers),
                std::mem::replace(&mut self.uri, Uri::from_static("/")),
            )
        };
        let body = self.body.take().unwrap_or_else(RequestBody::empty);
        let mut request = Request::new(body);
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = uri;
        *request.version_mut() = Version::HTTP_11;
        *request.headers_mut() = headers;
        request
    }

    /// The method, target and fields of the request (the direct exchange
    /// writes them as they are).
    pub(super) fn head(&self) -> (&Method, &Uri, &HeaderMap) {
        (&self.method, &self.uri, &self.headers)
    }

    /// Take back a request that was never sent.
    pub(super) fn restore(&mut self, request: Request<RequestBody>) {
        let (parts, body) = request.into_parts();
        self.headers = parts.headers;
        self.uri = parts.uri;
        self.body = Some(body);
    }
}
