//! The request path: one per-request context ([`ctx::RequestCtx`]) and a
//! flat, ordered list of named phases, each a function over it (the model
//! is Pingora's `proxy_trait.rs`). [`proxy`] below lists them in order:
//!
//! 1. [`admit::admit`]: head size, host, path normalisation;
//!    then [`edge::edge`]: ACME challenges and the redirect to https on
//!    the plain listener;
//! 2. [`route::match_route`]: [`crate::routing`] finds the location
//!    (NGINX's search), runs its rewrites (a redirect, or another search),
//!    answers the slash redirect and not found;
//! 3. [`content`]: a `return` answers now (NGINX's rewrite phase), else
//!    the **request policies** (`route.policies.on_request`, see
//!    [`crate::policies`]): the declared body length, access rules, a
//!    CORS preflight answered, a rate limit, edge authentication; then the
//!    route's one content handler ([`crate::routes::Content`]): the proxy
//!    (steps 4-8) or another handler of [`crate::content`];
//! 4. [`upstream`]: the route's upstream pool (a split route's chosen one);
//! 5. [`upstream_request::upstream_request`]: the rewritten request (with
//!    the route's upstream-request policies, e.g. `Host`, and the
//!    `traceparent` of [`crate::trace_context`]);
//! 6. [`forward::forward`]: endpoint choice, exchange (the direct one of
//!    `upstreams/wire.rs` in this task for a request without a body, else
//!    hyper's client), retries on another endpoint within the route's
//!    budget;
//! 7. [`errors::map_error`]: a failed exchange -> the client's status;
//! 8. [`response::upstream_response`], then
//!    [`response::response_policies`] (on every response of the route,
//!    the gateway's own refusals included); or, for an upstream's `101`,
//!    [`upgrade::switch`] (the two connections joined, no response policy);
//!    then [`error_pages::page`]: a listed status answered by the route's
//!    error page (an internal redirect);
//! 9. [`response::log`]: request id echoed, access-log record attached
//!    (written when the response body ends).
//!
//! A problem from any phase is rendered as problem+json ([`errors::render`])
//! and still goes through "log". Nothing here buffers a body: both stream.

mod accel;
mod admit;
mod body;
mod ctx;
mod edge;
mod error_pages;
mod errors;
mod forward;
mod response;
mod route;
mod static_files;
mod upgrade;
mod upstream_request;

use std::convert::Infallible;
use std::sync::Arc;

use common::Problem;
use http::{Request, Response};
use hyper::body::Incoming;

use crate::client_limit::Admitted;
use crate::headers::Peer;
use crate::policies::{RequestHead, Verdict};
use crate::routes::{Content, Route};
use crate::state::Shared;
use crate::stop::Drain;
use crate::trace_context::RequestTrace;
use crate::upstreams::UpstreamPool;

pub(crate) use body::ResponseBody;
pub(crate) use errors::{raw_problem, render, request_timeout_bytes, unparseable_request_bytes};

use ctx::RequestCtx;
use forward::Exchanged;
use route::Routed;

/// What the requests of one client connection share.
#[derive(Debug)]
pub(crate) struct ClientConn {
    /// The connection's peer address.
    pub(crate) peer: Peer,
    /// The worker thread serving it: the upstream connections its requests use.
    pub(crate) worker: usize,
    /// The listener it came in on (its index in [`Shared::listeners`]):
    /// which virtual servers answer.
    ///
    /// [`Shared::listeners`]: crate::state::Shared::listeners
    pub(crate) listener: usize,
    /// What the worker waits for on shutdown: an upgraded connection
    /// outlives the request that made it and is counted here.
    pub(crate) drain: Drain,
    /// The connection's place under `limits.connections_per_client`, held
    /// as long as the connection (or a tunnel made on it) is open.
    #[allow(dead_code, reason = "held for its Drop: the place is given back then")]
    pub(crate) admitted: Admitted,
}

/// Serve one client request arrived on `conn`.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    conn: Arc<ClientConn>,
    req: Request<Incoming>,
) -> Result<Response<ResponseBody>, Infallible> {
    let active = shared.active.load_full();
    let mut ctx = RequestCtx::new(&active, &conn, &req);
    ctx.tls = shared.tls.as_deref();
    ctx.log.trace = RequestTrace::start(
        req.headers(),
        ctx.client.peer_trusted,
        shared.tracer.as_deref(),
    );
    let mut response = match proxy(&mut ctx, req).await {
        Ok(response) => response,
        Err(problem) => render(problem, &ctx.request_id, &ctx.log.path),
    };
    edge::hsts(&mut response, active.config.tls.as_ref(), conn.peer.tls);
    Ok(response::log(response, &ctx.request_id, ctx.log))
}

/// The phases, in order: admission and the edge's own answers, routing,
/// then the route's content handler between the before- and after-phases.
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
        Routed::Redirect(status, location) => return Ok(errors::redirect(status, &location)),
    };
    let facts = route.policies.response_facts(&RequestHead::of(&req));
    let kept = error_pages::keep(route, &req);
    let mut result = content(ctx, route, req).await;
    if let Some(head) = kept {
        let (status, from_upstream) = match &result {
            Ok(r) => (r.status(), matches!(route.content, Content::Proxy)),
            Err(problem) => (problem.status_code(), false),
        };
        if let Some(page) = error_pages::page(ctx, route, &head, status, from_upstream).await {
            result = page;
        }
    }
    let response = match result {
        Ok(response) => response,
        Err(problem) => render(problem, &ctx.request_id, &ctx.log.path),
    };
    if response.status() == http::StatusCode::SWITCHING_PROTOCOLS {
        // The connection is no longer HTTP: nothing to add or encode.
        return Ok(response);
    }
    Ok(response::response_policies(route, response, facts.as_ref()))
}

/// The route's content handler between its before-phases (request
/// policies) and the response (after-phases run on what it returns).
async fn content<'a>(
    ctx: &mut RequestCtx<'a>,
    route: &'a Route,
    req: Request<Incoming>,
) -> Result<Response<ResponseBody>, Problem> {
    // NGINX runs `return` in the rewrite phase: before access rules and
    // authentication.
    if let Content::Return(ret) = &route.content {
        return crate::content::returns::answer(ret, &ctx.target.vars(&ctx.line(&req)))
            .map(|r| r.map(ResponseBody::fixed));
    }
    match route
        .policies
        .on_request(&RequestHead::of(&req), &ctx.facts())
        .await
    {
        Ok(()) => {}
        Err(Verdict::Refuse(problem)) => return Err(problem),
        Err(Verdict::Answer(status, headers)) => return Ok(errors::answer(status, headers)),
    }
    // A `try_files` fallback moves the request to another route (at most
    // ten times: routing counts the changes).
    let mut current = route;
    loop {
        match &current.content {
            Content::Proxy => return proxied(ctx, current, req).await,
            Content::Files(config) => match static_files::serve(ctx, current, config, &req).await {
                static_files::Next::Answer(answer) => return *answer,
                static_files::Next::Route(next) => current = next,
            },
            Content::Return(ret) => {
                return crate::content::returns::answer(ret, &ctx.target.vars(&ctx.line(&req)))
                    .map(|r| r.map(ResponseBody::fixed));
            }
            Content::Nothing => {
                return Err(Problem::not_found(format!(
                    "no route matches `{}`",
                    ctx.target.uri
                )));
            }
        }
    }
}

/// The proxy handler: the upstream's response to the rewritten request.
async fn proxied(
    ctx: &mut RequestCtx<'_>,
    route: &Route,
    req: Request<Incoming>,
) -> Result<Response<ResponseBody>, Problem> {
    let pool = upstream(ctx, route)?;
    let client_uri = req.uri().clone();
    let (outbound, upgrade) = upstream_request::upstream_request(ctx, route, req)?;
    let exchanged = forward::forward(ctx, route, pool, outbound)
        .await
        .map_err(|failure| errors::map_error(failure, pool.name(), route.body_limit))?;
    let timeouts = &ctx.active.config.timeouts;
    if exchanged.status() == http::StatusCode::SWITCHING_PROTOCOLS {
        return match exchanged {
            Exchanged::Hyper(response, conn) => {
                upgrade::switch(upgrade, response, conn, timeouts.upgrade_idle, ctx.conn)
            }
            // The direct exchange carries no upgrade request.
            Exchanged::Wire(..) => Err(upgrade::unasked()),
        };
    }
    let headers = exchanged.headers();
    if let Some(to) = headers.get(accel::X_ACCEL_REDIRECT).cloned() {
        let app_type = headers.get(http::header::CONTENT_TYPE).cloned();
        drop(exchanged);
        return accel::serve(ctx, &client_uri, &to, app_type).await;
    }
    Ok(match exchanged {
        Exchanged::Hyper(response, conn) => {
            response::upstream_response(response, pool, conn, timeouts.client_send)
        }
        Exchanged::Wire(response, conn) => {
            response::wire_response(response, pool, conn, timeouts.client_send)
        }
    })
}

/// Phase "upstream": the pool of the route's upstream, or of the one its
/// split chose (validation makes sure it exists).
fn upstream<'a>(ctx: &RequestCtx<'a>, route: &Route) -> Result<&'a Arc<UpstreamPool>, Problem> {
    let active = ctx.active;
    let name = match &route.split {
        Some(split) => split.pick(),
        None => &route.upstream,
    };
    active.upstreams.get(name).ok_or_else(Problem::internal)
}
