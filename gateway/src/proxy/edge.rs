//! Phase "edge": what the plain listener answers itself once HTTPS is on:
//! ACME HTTP-01 challenges (`/.well-known/acme-challenge/<token>`), and,
//! with `tls.redirect_https`, `308` to the same URL on https for every
//! other path. Responses over TLS get `Strict-Transport-Security` when
//! `tls.hsts_max_age` is set.
//!
//! The redirect's host is the client's `Host` only when a served
//! certificate names it; any other `Host` (an address, an alias, a name
//! an attacker chose) is sent to the default certificate's first name,
//! so the `Location` is never a place the client picked: no open
//! redirect, and never a URL whose certificate would not match. Without
//! such a name (the default certificate has only wildcards) the request is
//! refused with `400`.

use bytes::Bytes;
use common::Problem;
use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;

use crate::config::TlsConfig;

use super::ResponseBody;
use super::ctx::RequestCtx;

/// Answer `req` here when it is a challenge or must go to https; `None`
/// lets it through to routing.
pub(super) fn edge(
    ctx: &RequestCtx<'_>,
    req: &Request<Incoming>,
) -> Result<Option<Response<ResponseBody>>, Problem> {
    if ctx.peer.tls {
        return Ok(None);
    }
    let Some(tls) = &ctx.active.config.tls else {
        return Ok(None);
    };
    if ctx.log.path.starts_with(crate::tls::challenges::PREFIX) {
        if let Some(answer) = ctx.tls.and_then(|t| t.challenges.answer(&ctx.log.path)) {
            let mut response = Response::new(ResponseBody::fixed(Bytes::from(answer)));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            return Ok(Some(response));
        }
        // Not ours: a route may still serve it.
        return Ok(None);
    }
    // No redirect while no certificate is served (the first ACME order).
    let Some(state) = ctx
        .tls
        .filter(|t| tls.redirect_https && t.store.is_serving())
    else {
        return Ok(None);
    };
    let host = ctx
        .host
        .as_ref()
        .and_then(|h| h.to_str().ok())
        .ok_or_else(|| Problem::bad_request("a Host header is needed to redirect to https"))?;
    let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let name = host_name(host)
        .ok_or_else(|| Problem::bad_request("the Host header is not a valid host"))?;
    let primary;
    let name = if state.store.serves(name) {
        name
    } else {
        primary = state.store.primary_name().ok_or_else(|| {
            Problem::bad_request("the Host header names no host served over https")
        })?;
        primary.as_str()
    };
    let location = https_location(name, state.port, target)
        .ok_or_else(|| Problem::bad_request("the Host header is not a valid host"))?;
    let mut response = Response::new(ResponseBody::fixed(Bytes::new()));
    *response.status_mut() = StatusCode::PERMANENT_REDIRECT;
    response.headers_mut().insert(header::LOCATION, location);
    Ok(Some(response))
}

/// The host of a `Host` value, without its port (the client's port was
/// the plain listener's); `None` when empty.
fn host_name(host: &str) -> Option<&str> {
    let name = if host.starts_with('[') {
        &host[..=host.find(']')?]
    } else {
        host.split(':').next()?
    };
    (!name.is_empty()).then_some(name)
}

/// `https://name[:port]target`, the port left out when it is 443.
fn https_location(name: &str, port: u16, target: &str) -> Option<HeaderValue> {
    let location = if port == 443 {
        format!("https://{name}{target}")
    } else {
        format!("https://{name}:{port}{target}")
    };
    HeaderValue::from_str(&location).ok()
}

/// Add `Strict-Transport-Security` to a response sent over TLS.
pub(super) fn hsts(response: &mut Response<ResponseBody>, tls: Option<&TlsConfig>, over_tls: bool) {
    if !over_tls {
        return;
    }
    if let Some(max_age) = tls.and_then(|t| t.hsts_max_age)
        && let Ok(value) = HeaderValue::from_str(&format!("max-age={}", max_age.as_secs()))
    {
        response
            .headers_mut()
            .insert(header::STRICT_TRANSPORT_SECURITY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_location_keeps_the_target_and_drops_the_plain_port() {
        let at = |host, port, target| {
            https_location(host_name(host)?, port, target)
                .map(|v| v.to_str().map(String::from).unwrap_or_default())
        };
        assert_eq!(
            at("shop.test:80", 443, "/users/?a=1").as_deref(),
            Some("https://shop.test/users/?a=1")
        );
        assert_eq!(
            at("shop.test", 8443, "/").as_deref(),
            Some("https://shop.test:8443/")
        );
        assert_eq!(
            at("[::1]:8080", 443, "/x").as_deref(),
            Some("https://[::1]/x")
        );
        assert_eq!(at(":80", 443, "/x"), None);
    }
}
