//! Phase "admit": refuse heads that are too large, ambiguous about their
//! host, or whose path cannot be normalised.
//!
//! hyper refused before this what it cannot parse: malformed heads,
//! conflicting `Content-Length`s, a `Transfer-Encoding` not ending in
//! `chunked`; it drops a `Content-Length` sent with `Transfer-Encoding`
//! (RFC 9112 §6.3), so that pair never reaches this phase.

use common::Problem;
use http::header::{self, HeaderValue};
use http::{Request, StatusCode, Version};
use hyper::body::Incoming;

use super::ctx::RequestCtx;

/// Admit `req`: on success the context holds its normalised path and host.
pub(super) fn admit(ctx: &mut RequestCtx<'_>, req: &Request<Incoming>) -> Result<(), Problem> {
    let header_limit = ctx.active.config.header_limit;
    let head_size: usize = req.uri().path_and_query().map_or(1, |p| p.as_str().len())
        + req
            .headers()
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + 4)
            .sum::<usize>();
    if head_size as u64 > header_limit {
        return Err(refuse(
            ctx,
            req,
            Problem::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                format!("request headers exceed the limit of {header_limit} bytes"),
            ),
        ));
    }

    let mut hosts = req.headers().get_all(header::HOST).iter();
    let host_header = hosts.next().cloned();
    if hosts.next().is_some() {
        return Err(refuse(
            ctx,
            req,
            Problem::bad_request("more than one Host header"),
        ));
    }
    let host = match req.uri().authority() {
        Some(authority) => HeaderValue::from_str(authority.as_str()).ok(),
        None => host_header,
    };
    if host.is_none() && req.version() == Version::HTTP_11 {
        return Err(refuse(
            ctx,
            req,
            Problem::bad_request("an HTTP/1.1 request needs a Host header"),
        ));
    }

    match crate::path::normalize(req.uri().path()) {
        Ok(path) => {
            // The access log, the route match and the upstream all use the
            // normalised path.
            ctx.log.path = path;
            ctx.host = host;
            Ok(())
        }
        Err(e) => Err(refuse(ctx, req, Problem::bad_request(e.to_string()))),
    }
}

/// A refused request is logged (and its problem's `instance` named) with
/// the path as sent.
fn refuse(ctx: &mut RequestCtx<'_>, req: &Request<Incoming>, problem: Problem) -> Problem {
    ctx.log.path = req.uri().path().to_string();
    problem
}
