//! `X-Accel-Redirect`: an upstream answer carrying it is replaced by what
//! the named internal route serves (an internal redirect: `internal`
//! routes answer it, clients get `404` from them), as NGINX does: a `GET`
//! without the client's headers, the application's `Content-Type` kept
//! when it sent one; a target with a `..` segment is `404`. The upstream's
//! body is not read (its connection is closed, not reused).

use common::Problem;
use http::header::{self, HeaderValue};
use http::{Request, Response, Uri};

use crate::routes::Content;

use super::ResponseBody;
use super::ctx::RequestCtx;
use super::static_files::{self, Next};

/// The header.
pub(super) const X_ACCEL_REDIRECT: &str = "x-accel-redirect";

/// Serve the internal URI `to` in place of the upstream's answer (whose
/// `Content-Type` is `app_type`); `uri` is the client's request target.
pub(super) async fn serve(
    ctx: &mut RequestCtx<'_>,
    uri: &Uri,
    to: &HeaderValue,
    app_type: Option<HeaderValue>,
) -> Result<Response<ResponseBody>, Problem> {
    let not_found = || Problem::not_found("the upstream's X-Accel-Redirect target is not served");
    let to = to.to_str().map_err(|_| not_found())?;
    let path = to.split('?').next().unwrap_or_default();
    if !path.starts_with('/')
        || path
            .split('/')
            .any(|s| s == ".." || s.eq_ignore_ascii_case("%2e%2e"))
    {
        return Err(not_found());
    }
    let mut head = Request::new(());
    *head.uri_mut() = uri.clone();
    let mut next = static_files::redirect(ctx, &head, to);
    let mut response = loop {
        let route = match next {
            Next::Answer(answer) => break (*answer)?,
            Next::Route(route) => route,
        };
        next = match &route.content {
            Content::Files(config) => static_files::serve(ctx, route, config, &head).await,
            Content::Return(ret) => {
                let answer =
                    crate::content::returns::answer(ret, &ctx.target.vars(&ctx.line(&head)));
                Next::Answer(Box::new(answer.map(|r| r.map(ResponseBody::fixed))))
            }
            Content::Proxy | Content::Nothing => return Err(not_found()),
        };
    };
    if let Some(app_type) = app_type
        && response.status().is_success()
    {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, app_type);
    }
    Ok(response)
}
