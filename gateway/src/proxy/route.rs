//! Phase "match route": longest prefix wins; a prefix without its slash
//! (`/users`) is redirected (`301`) to `/users/` (query kept); nothing ->
//! `404`.

use std::sync::Arc;

use common::Problem;
use http::Request;
use hyper::body::Incoming;

use crate::routes::{Match, Route};
use crate::state::Active;

use super::ctx::RequestCtx;

/// Where the route table sends a request.
pub(super) enum Routed<'a> {
    /// Forward with this route.
    To(&'a Route),
    /// Redirect (`301`) to this location: the prefix with its slash, the
    /// query kept.
    AddSlash(String),
}

/// Match the admitted (normalised) path against the route table.
pub(super) fn match_route<'a>(
    ctx: &mut RequestCtx<'a>,
    req: &Request<Incoming>,
) -> Result<Routed<'a>, Problem> {
    let active: &'a Active = ctx.active;
    match active.table.find(&ctx.log.path) {
        Match::Route(route) => {
            ctx.log.route = Arc::clone(&route.prefix);
            Ok(Routed::To(route))
        }
        Match::AddSlash(route) => {
            let location = match req.uri().query() {
                Some(q) => format!("{}?{q}", route.prefix),
                None => route.prefix.to_string(),
            };
            ctx.log.route = Arc::clone(&route.prefix);
            Ok(Routed::AddSlash(location))
        }
        Match::NotFound => Err(Problem::not_found(format!(
            "no route matches `{}`",
            ctx.log.path
        ))),
    }
}
