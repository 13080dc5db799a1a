//! After-phase "error page": a status listed in the route's `error_pages`
//! (the gateway's own refusals and answers; the upstream's too with
//! `intercept_errors`) is answered by the page's route instead, reached by
//! an internal redirect (a path, searched again, or a named route), with
//! the original status or the page's `code`. The page's route answers with
//! its content handler: a `return` (or static files, when built in); a
//! proxied page route is not fetched and the original answer stays.

use common::Problem;
use http::{Request, Response, StatusCode};

use crate::routes::{Content, Route};
use crate::routing::{self, Decision};

use super::ResponseBody;
use super::ctx::RequestCtx;

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
pub(super) fn page(
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
    let table = ctx.table?;
    let mut target = ctx.target.clone();
    let decision = routing::redirect_internally(table, &mut target, &ctx.line(head), &page.uri);
    let answered = match decision {
        Decision::Route(page_route) => match &page_route.content {
            Content::Return(ret) => {
                crate::content::returns::answer(ret, &target.vars(&ctx.line(head)))
            }
            Content::Proxy | Content::Files(_) | Content::Nothing => return None,
        },
        _ => return None,
    };
    let code = page
        .code
        .and_then(|c| StatusCode::from_u16(c).ok())
        .unwrap_or(status);
    Some(answered.map(|response| {
        let mut response = response.map(ResponseBody::fixed);
        *response.status_mut() = code;
        response
    }))
}
