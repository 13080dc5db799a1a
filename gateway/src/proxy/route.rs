//! Phase "route": the request's location found by [`crate::routing`]
//! (NGINX's search, rewrites, at most ten path changes); a proxied prefix
//! without its slash (`/users`) is redirected (`301`) to `/users/` (query
//! kept); a rewrite may redirect; nothing -> `404`.

use std::sync::Arc;

use common::Problem;
use http::{Request, StatusCode};
use hyper::body::Incoming;

use crate::routes::Route;
use crate::routing::{self, Decision, Target};
use crate::state::Active;

use super::ctx::RequestCtx;

/// Where routing sends a request.
pub(super) enum Routed<'a> {
    /// Serve it with this route (`ctx.target` holds the path it serves).
    To(&'a Route),
    /// Redirect with this status to this location.
    Redirect(StatusCode, String),
}

/// Route the admitted (normalised) path.
pub(super) fn match_route<'a>(
    ctx: &mut RequestCtx<'a>,
    req: &Request<Incoming>,
) -> Result<Routed<'a>, Problem> {
    let active: &'a Active = ctx.active;
    if let Some(host) = ctx.host.as_ref().and_then(|h| h.to_str().ok()) {
        ctx.host_name = routing::vars::host_name(host);
    }
    let (table, captures) = active.servers.select(&ctx.host_name);
    let mut target = Target::new(ctx.log.path.clone(), req.uri().query().map(String::from));
    if let Some(captures) = captures {
        target.captures = captures;
    }
    ctx.table = Some(table);
    let decision = routing::resolve(table, &mut target, &ctx.line(req));
    ctx.target = target;
    decided(ctx, decision)
}

/// The routed request, or the problem routing ended in.
pub(super) fn decided<'a>(
    ctx: &mut RequestCtx<'a>,
    decision: Decision<'a>,
) -> Result<Routed<'a>, Problem> {
    match decision {
        Decision::Route(route) => {
            ctx.log.route = Arc::clone(&route.prefix);
            Ok(Routed::To(route))
        }
        Decision::AddSlash(route, location) => {
            ctx.log.route = Arc::clone(&route.prefix);
            Ok(Routed::Redirect(StatusCode::MOVED_PERMANENTLY, location))
        }
        Decision::Redirect(status, location) => Ok(Routed::Redirect(status, location)),
        Decision::NotFound => Err(Problem::not_found(format!(
            "no route matches `{}`",
            ctx.target.uri
        ))),
        Decision::BadPath(why) => Err(Problem::bad_request(format!(
            "the rewritten path is refused: {why}"
        ))),
        Decision::Cycle => Err(Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "rewrite or internal redirection cycle (more than 10 path changes)",
        )),
    }
}
