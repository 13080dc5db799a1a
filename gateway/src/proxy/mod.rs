//! The request path: one per-request context ([`ctx::RequestCtx`]) and a
//! flat, ordered list of named phases, each a function over it (the model
//! is Pingora's `proxy_trait.rs`). [`proxy`] below lists them in order:
//!
//! 1. [`admit::admit`]: head size, host, path normalisation;
//!    then [`edge::edge`]: ACME challenges and the redirect to https on
//!    the plain listener;
//! 2. [`route::match_route`]: longest prefix, slash redirect, not found;
//! 3. **request policies** (`route.policies.on_request`, see
//!    [`crate::policies`]): e.g. the declared body length;
//! 4. [`upstream`]: the route's upstream pool;
//! 5. [`upstream_request::upstream_request`]: the rewritten request (with
//!    the route's upstream-request policies, e.g. `Host`, and the
//!    `traceparent` of [`crate::trace_context`]);
//! 6. [`forward::forward`]: endpoint choice, exchange, the one retry;
//! 7. [`errors::map_error`]: a failed exchange -> the client's status;
//! 8. [`response::upstream_response`], then
//!    [`response::response_policies`];
//! 9. [`response::log`]: request id echoed, access-log record attached
//!    (written when the response body ends).
//!
//! A problem from any phase is rendered as problem+json ([`errors::render`])
//! and still goes through "log". Nothing here buffers a body: both stream.

mod admit;
mod body;
mod ctx;
mod edge;
mod errors;
mod forward;
mod response;
mod route;
mod upstream_request;

use std::convert::Infallible;
use std::sync::Arc;

use common::Problem;
use http::{Request, Response};
use hyper::body::Incoming;

use crate::headers::Peer;
use crate::routes::Route;
use crate::state::Shared;
use crate::trace_context::RequestTrace;
use crate::upstreams::UpstreamPool;

pub(crate) use body::ResponseBody;
pub(crate) use errors::{render, request_timeout_bytes, unparseable_request_bytes};

use ctx::RequestCtx;
use route::Routed;

/// Serve one client request from `peer` (the client connection's address)
/// on worker thread `worker`.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    peer: Arc<Peer>,
    worker: usize,
    req: Request<Incoming>,
) -> Result<Response<ResponseBody>, Infallible> {
    let active = shared.active.load_full();
    let mut ctx = RequestCtx::new(&active, &peer, worker, &req);
    ctx.tls = shared.tls.as_deref();
    ctx.log.trace = RequestTrace::start(req.headers(), shared.tracer.as_deref());
    let mut response = match proxy(&mut ctx, req).await {
        Ok(response) => response,
        Err(problem) => render(problem, &ctx.request_id, &ctx.log.path),
    };
    edge::hsts(&mut response, active.config.tls.as_ref(), peer.tls);
    Ok(response::log(response, &ctx.request_id, ctx.log))
}

/// The phases, in order.
async fn proxy(
    ctx: &mut RequestCtx<'_>,
    req: Request<Incoming>,
) -> Result<Response<ResponseBody>, Problem> {
    admit::admit(ctx, &req)?;
    if let Some(response) = edge::edge(ctx, &req)? {
        return Ok(response);
    }
    let route = match route::match_route(ctx, &req)? {
        Routed::To(route) => route,
        Routed::AddSlash(location) => return Ok(errors::redirect(&location)),
    };
    route.policies.on_request(&req, &ctx.facts())?;
    let pool = upstream(ctx, route)?;
    let outbound = upstream_request::upstream_request(ctx, route, req);
    let (response, conn) = forward::forward(ctx, route, pool, outbound)
        .await
        .map_err(|failure| errors::map_error(failure, pool.name(), route.body_limit))?;
    let response = response::upstream_response(response, pool, conn);
    Ok(response::response_policies(route, response))
}

/// Phase "upstream": the pool of the route's upstream (validation makes
/// sure it exists).
fn upstream<'a>(ctx: &RequestCtx<'a>, route: &Route) -> Result<&'a Arc<UpstreamPool>, Problem> {
    let active = ctx.active;
    active
        .upstreams
        .get(&*route.upstream)
        .ok_or_else(Problem::internal)
}
