//! The static-files content handler in the request path: the route's
//! [`crate::files`] answer, its statuses rendered like the gateway's other
//! answers (a `301` as is, an error as problem+json with the handler's
//! headers), and its `try_files` fallbacks carried out as internal
//! redirects (searched again, or to a named route).

use std::sync::Arc;

use bytes::Bytes;
use common::Problem;
use http::{HeaderMap, Request, Response, StatusCode};

use crate::config::Location;
use crate::config::files::FilesConfig;
use crate::files::{FileRequest, FilesOutcome};
use crate::routes::Route;
use crate::routing::{self, Target};

use super::ResponseBody;
use super::ctx::RequestCtx;
use super::errors;
use super::route::{self, Routed};

/// What the files handler left to do.
pub(super) enum Next<'a> {
    /// Send this (or this problem); boxed, the rarer and larger variant
    /// being the other's size otherwise.
    Answer(Box<Result<Response<ResponseBody>, Problem>>),
    /// Serve the request with this route (an internal redirect).
    Route(&'a Route),
}

/// Serve `req` from `config`, the files of `route`.
pub(super) async fn serve<'a, B>(
    ctx: &mut RequestCtx<'a>,
    route: &Route,
    config: &Arc<FilesConfig>,
    req: &Request<B>,
) -> Next<'a> {
    let prefix = match &route.matcher {
        Location::Prefix { path, .. } | Location::Exact(path) => path.as_str(),
        Location::Regex(_) | Location::Named(_) => "/",
    };
    let request = FileRequest {
        method: req.method(),
        path: &ctx.target.uri,
        query: ctx.target.args.as_deref(),
        prefix,
        headers: req.headers(),
    };
    match crate::files::serve(config, &request).await {
        FilesOutcome::Response(response) => {
            Next::Answer(Box::new(Ok(response.map(ResponseBody::file))))
        }
        FilesOutcome::Status(status, headers) => {
            Next::Answer(Box::new(status_answer(status, headers)))
        }
        FilesOutcome::Internal(uri) => redirect(ctx, req, &uri),
        FilesOutcome::Named(name) => redirect(ctx, req, &format!("@{name}")),
    }
}

/// A status the handler asked for: a redirect as is, an error as a problem.
fn status_answer(
    status: StatusCode,
    headers: HeaderMap,
) -> Result<Response<ResponseBody>, Problem> {
    if status.is_redirection() {
        let mut response = Response::new(ResponseBody::fixed(Bytes::new()));
        *response.status_mut() = status;
        response.headers_mut().extend(headers);
        return Ok(response);
    }
    let mut problem = Problem::new(status, status.canonical_reason().unwrap_or("error"));
    let mut last = None;
    for (name, value) in headers {
        if let Some(name) = name {
            last = Some(name);
        }
        if let Some(name) = &last {
            problem = problem.with_header(name.clone(), value);
        }
    }
    Err(problem)
}

/// An internal redirect to `uri` (a path, or `@name`).
pub(super) fn redirect<'a, B>(ctx: &mut RequestCtx<'a>, req: &Request<B>, uri: &str) -> Next<'a> {
    let Some(table) = ctx.table else {
        return Next::Answer(Box::new(Err(Problem::internal())));
    };
    let mut target = std::mem::replace(&mut ctx.target, Target::new(String::new(), None));
    let decision = routing::redirect_internally(table, &mut target, &ctx.line(req), uri);
    ctx.target = target;
    match route::decided(ctx, decision) {
        Ok(Routed::To(next)) => Next::Route(next),
        Ok(Routed::Redirect(status, location)) => {
            Next::Answer(Box::new(Ok(errors::redirect(status, &location))))
        }
        Err(problem) => Next::Answer(Box::new(Err(problem))),
    }
}
