//! After-phase "error page": a status listed in the route's `error_pages`
//! (the gateway's own refusals and answers; the upstream's too with
//! `intercept_errors`) is answered by the page's route instead, reached by
//! an internal redirect (a path, searched again, or a named route), with
//! the original status or the page's `code`. The page's route answers with
//! its content handler: a `return`, or static files (`root`/`alias`); a
//! proxied page route is not fetched and the original answer stays.

use common::Problem;
use http::{Method, Request, Response, StatusCode};

use crate::routes::{Content, Route};

use super::ResponseBody;
use super::ctx::RequestCtx;
use super::static_files::{self, Next};

/// The request head kept for an error page (only when the route has some).
pub(super) fn keep<B>(route: &Route, req: &Request<B>) -> Option<Request<()>> {
    if route.error_pages.is_empty() {
        return None;
    }
    let mut head = Request::new(());
    *head.method_mut() = req.method().clone();
    *head.uri_mut() = req.uri().clone();
    *head.headers_mut() = req.headers().clone();
    Some(head)
}

/// The error page for `status`, if the route has one and it applies.
pub(super) async fn page(
    ctx: &mut RequestCtx<'_>,
    route: &Route,
    head: &Request<()>,
    status: StatusCode,
    from_upstream: bool,
) -> Option<Result<Response<ResponseBody>, Problem>> {
    if from_upstream && !route.intercept_errors {
        return None;
    }
    let page = route
        .error_pages
        .iter()
        .find(|p| p.status.contains(&status.as_u16()))?;
    ctx.table?;
    // The page is fetched as NGINX does: a `GET` (a `HEAD` stays one) of
    // the page's URI, without the client's conditional or range headers
    // (an error page is never a 304 or a part).
    let mut get = Request::new(());
    *get.method_mut() = if head.method() == Method::HEAD {
        Method::HEAD
    } else {
        Method::GET
    };
    *get.uri_mut() = head.uri().clone();
    let original = ctx.target.clone();
    let mut next = static_files::redirect(ctx, &get, &page.uri);
    let answered = loop {
        let page_route = match next {
            Next::Route(r) => r,
            // No route for the page (or a redirect loop): the original
            // answer stays.
            Next::Answer(_) => break None,
        };
        next = match &page_route.content {
            Content::Return(ret) => {
                let answer =
                    crate::content::returns::answer(ret, &ctx.target.vars(&ctx.line(&get)));
                break Some(answer.map(|r| r.map(ResponseBody::fixed)));
            }
            Content::Files(config) => {
                match static_files::serve(ctx, page_route, config, &get).await {
                    Next::Answer(answer) => break Some(*answer),
                    next => next,
                }
            }
            // A proxied page is not fetched: the original answer stays.
            Content::Proxy | Content::Nothing => break None,
        };
    };
    let Some(answered) = answered else {
        ctx.target = original;
        return None;
    };
    let code = page
        .code
        .and_then(|c| StatusCode::from_u16(c).ok())
        .unwrap_or(status);
    Some(answered.map(|mut response| {
        *response.status_mut() = code;
        response
    }))
}
