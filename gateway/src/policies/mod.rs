//! Traffic policies: per-route behaviour at fixed points of the request
//! path, switched on by the route table.
//!
//! A policy is one module here with a type implementing [`Policy`]; it acts
//! in one or more of three phases of [`crate::proxy`]:
//! - **request policies** ([`Policy::on_request`]): may refuse the request
//!   (a problem) or answer it (a CORS preflight) before anything is sent
//!   upstream or a byte of its body is read; asynchronous, for the one
//!   policy that may have to fetch keys (edge authentication);
//! - **upstream request** ([`Policy::on_upstream_request`]): adjusts the
//!   headers about to go upstream;
//! - **response policies** ([`Policy::on_response`]): adjusts the response
//!   head before it goes to the client, and may encode its body
//!   (compression). They see every response of the route, the gateway's
//!   own refusals included, so that a browser can read a `429` (CORS).
//!
//! Adding one (rate limit, CORS, ...) means: a file here, one line in the
//! `policies!` list below, and a line in [`RoutePolicies::for_route`] that
//! switches it on from the route's configuration. The proxy does not change.
//!
//! Dispatch is static (an enum), and each route keeps one list per phase,
//! so a phase no policy of the route acts in costs an empty loop, and a
//! route without response policies never takes its response apart.

mod access_rules;
mod auth;
mod basic_auth;
mod body_limit;
mod compression;
mod cors;
mod counters;
mod header_rules;
mod host;
pub(crate) mod htpasswd;
mod proxy_redirect;
mod rate_limit;

use std::net::IpAddr;

use common::Problem;
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};

use crate::config::{RouteConfig, UpstreamConfig};

pub(crate) use compression::Encoder;
pub(crate) use counters::describe;

/// What the proxy learnt of a request that its head does not say plainly,
/// for policies.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestFacts<'a> {
    /// The client's host (`Host`, or HTTP/2 `:authority`), from admission.
    pub(crate) host: Option<&'a HeaderValue>,
    /// The normalised client path (route prefix included).
    pub(crate) path: &'a str,
    /// The client's address, as the request context derives it.
    pub(crate) client_ip: IpAddr,
}

/// The request head as the request policies see it (the body is not theirs
/// to touch).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestHead<'a> {
    /// The method.
    pub(crate) method: &'a Method,
    /// The client's headers.
    pub(crate) headers: &'a HeaderMap,
}

impl<'a> RequestHead<'a> {
    /// The head of `req`.
    pub(crate) fn of<B>(req: &'a Request<B>) -> Self {
        RequestHead {
            method: req.method(),
            headers: req.headers(),
        }
    }
}

/// How a request policy stops a request.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Refused with this problem.
    Refuse(Problem),
    /// Answered here, with this status and these headers and no body.
    Answer(StatusCode, HeaderMap),
}

impl From<Problem> for Verdict {
    fn from(problem: Problem) -> Self {
        Verdict::Refuse(problem)
    }
}

/// What the response policies need of the request, kept before the request
/// goes upstream (taken only when a response policy acts).
#[derive(Debug, Clone, Default)]
pub(crate) struct ResponseFacts {
    /// The request's method.
    pub(crate) method: Method,
    /// Its `Origin`.
    pub(crate) origin: Option<HeaderValue>,
    /// Its `Accept-Encoding`.
    pub(crate) accept_encoding: Option<HeaderValue>,
}

/// A response on its way out: its head, and the encoder its body will go
/// through, if a policy chose one.
pub(crate) struct OutgoingResponse<'a> {
    /// The head.
    pub(crate) head: &'a mut http::response::Parts,
    /// What the request said.
    pub(crate) facts: &'a ResponseFacts,
    /// The body's length when known without a `Content-Length` header (a
    /// body the gateway produced itself, such as a problem).
    pub(crate) body_len: Option<u64>,
    /// The body's encoder.
    pub(crate) encoder: Option<Encoder>,
}

/// Which phases a policy acts in.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Hooks {
    /// [`Policy::on_request`].
    pub(crate) request: bool,
    /// [`Policy::on_upstream_request`].
    pub(crate) upstream_request: bool,
    /// [`Policy::on_response`].
    pub(crate) response: bool,
}

impl Hooks {
    /// Acts in the request phase only.
    pub(crate) const REQUEST: Hooks = Hooks {
        request: true,
        upstream_request: false,
        response: false,
    };
}

/// A traffic policy. Each method is one phase; a policy implements the ones
/// it names in [`Policy::hooks`].
pub(crate) trait Policy {
    /// The phases this policy acts in.
    fn hooks(&self) -> Hooks;

    /// Phase "request policies": `Err` refuses or answers the request
    /// before anything goes upstream.
    async fn on_request(
        &self,
        _head: &RequestHead<'_>,
        _facts: &RequestFacts<'_>,
    ) -> Result<(), Verdict> {
        Ok(())
    }

    /// Phase "upstream request": the headers about to be sent upstream,
    /// after the proxy's own rewrite (hop-by-hop removed, forwarding set).
    fn on_upstream_request(&self, _headers: &mut HeaderMap, _facts: &RequestFacts<'_>) {}

    /// Phase "response policies": the response before it goes to the
    /// client.
    fn on_response(&self, _response: &mut OutgoingResponse<'_>) {}
}

/// Declares [`RoutePolicy`], one variant per policy, dispatching statically.
macro_rules! policies {
    ($($(#[$doc:meta])* $variant:ident($policy:ty),)*) => {
        /// Every policy there is (a route switches some on).
        #[derive(Debug)]
        pub(crate) enum RoutePolicy {
            $($(#[$doc])* $variant($policy),)*
        }

        impl Policy for RoutePolicy {
            fn hooks(&self) -> Hooks {
                match self {
                    $(RoutePolicy::$variant(p) => p.hooks(),)*
                }
            }

            async fn on_request(&self, head: &RequestHead<'_>, facts: &RequestFacts<'_>) -> Result<(), Verdict> {
                match self {
                    $(RoutePolicy::$variant(p) => p.on_request(head, facts).await,)*
                }
            }

            fn on_upstream_request(&self, headers: &mut HeaderMap, facts: &RequestFacts<'_>) {
                match self {
                    $(RoutePolicy::$variant(p) => p.on_upstream_request(headers, facts),)*
                }
            }

            fn on_response(&self, response: &mut OutgoingResponse<'_>) {
                match self {
                    $(RoutePolicy::$variant(p) => p.on_response(response),)*
                }
            }
        }
    };
}

policies! {
    /// A declared `Content-Length` over the route's body limit: `413`.
    BodyLimit(body_limit::DeclaredLength),
    /// `allow` / `deny` on the client's address: `403`.
    Access(access_rules::AccessRules),
    /// CORS: preflights answered, responses to allowed origins marked.
    Cors(cors::Cors),
    /// Token buckets per client: `429` when empty.
    RateLimit(rate_limit::RateLimit),
    /// User name and password from an htpasswd file: `401` without.
    BasicAuth(basic_auth::BasicAuth),
    /// Access tokens verified at the edge: `401` without a valid one.
    Auth(auth::EdgeAuth),
    /// The `Host` the upstream receives.
    Host(host::HostHeader),
    /// The upstream's own URLs in `Location` / `Refresh` made public.
    Redirects(proxy_redirect::RedirectRewrite),
    /// Headers set, added, removed.
    Headers(header_rules::HeaderRules),
    /// gzip, brotli, zstd responses.
    Compression(compression::Compression),
}

/// The policies one route switches on, and for each phase the ones that
/// act in it (in the order given).
#[derive(Debug, Default)]
pub(crate) struct RoutePolicies {
    all: Box<[RoutePolicy]>,
    request: Box<[usize]>,
    upstream_request: Box<[usize]>,
    response: Box<[usize]>,
}

impl RoutePolicies {
    /// The policies `route` switches on (`upstream` is the route's
    /// upstream). State that should outlive a reload (rate-limit buckets,
    /// cached signing keys) is taken from `previous`, the same route's
    /// policies in the table being replaced, when its settings did not
    /// change.
    ///
    /// Request phase order: body limit (NGINX checks it when it finds the
    /// location), access rules, CORS preflight (a browser's
    /// preflight carries no token and must not spend the client's
    /// requests), rate limit, basic authentication, edge authentication.
    pub(crate) fn for_route(
        route: &RouteConfig,
        upstream: Option<&UpstreamConfig>,
        previous: Option<&RoutePolicies>,
    ) -> Self {
        let settings = &route.policies;
        let label: std::sync::Arc<str> = std::sync::Arc::from(route.prefix.as_str());
        let mut all = vec![RoutePolicy::BodyLimit(body_limit::DeclaredLength::new(
            route.body_limit,
        ))];
        if !route.access.is_empty() {
            all.push(RoutePolicy::Access(access_rules::AccessRules::new(
                &route.access,
            )));
        }
        if let Some(cors) = &settings.cors {
            all.push(RoutePolicy::Cors(cors::Cors::new(cors, &label)));
        }
        if let Some(limit) = &settings.rate_limit {
            let kept = previous.and_then(|p| {
                p.all.iter().find_map(|x| match x {
                    RoutePolicy::RateLimit(r) if r.config() == limit => Some(r),
                    _ => None,
                })
            });
            all.push(RoutePolicy::RateLimit(rate_limit::RateLimit::new(
                limit, &label, kept,
            )));
        }
        if let Some(basic) = &settings.basic_auth {
            let kept = previous.and_then(|p| {
                p.all.iter().find_map(|x| match x {
                    RoutePolicy::BasicAuth(b) if b.config() == basic => Some(b),
                    _ => None,
                })
            });
            all.push(RoutePolicy::BasicAuth(basic_auth::BasicAuth::new(
                basic, &label, kept,
            )));
        }
        if let Some(auth) = &settings.auth {
            let kept = previous.and_then(|p| {
                p.all.iter().find_map(|x| match x {
                    RoutePolicy::Auth(a) if a.config() == auth => Some(a),
                    _ => None,
                })
            });
            all.push(RoutePolicy::Auth(auth::EdgeAuth::new(auth, &label, kept)));
        }
        all.push(RoutePolicy::Host(host::HostHeader::new(
            route.host, upstream,
        )));
        if let Some(setting) = &route.proxy_redirect {
            let public = match (&route.location, &route.upstream_path) {
                (_, Some(_)) => None,
                (crate::config::Location::Prefix { path, .. }, None) if route.strip_prefix => {
                    Some(path.as_str())
                }
                _ => Some("/"),
            };
            if let Some(rewrite) = proxy_redirect::RedirectRewrite::new(setting, upstream, public) {
                all.push(RoutePolicy::Redirects(rewrite));
            }
        }
        if let Some(rules) = &settings.headers {
            all.push(RoutePolicy::Headers(header_rules::HeaderRules::new(rules)));
        }
        if let Some(compression) = &settings.compression {
            all.push(RoutePolicy::Compression(compression::Compression::new(
                compression,
                &label,
            )));
        }
        Self::new(all)
    }

    fn new(all: Vec<RoutePolicy>) -> Self {
        let acting = |hook: fn(Hooks) -> bool| -> Box<[usize]> {
            all.iter()
                .enumerate()
                .filter(|(_, p)| hook(p.hooks()))
                .map(|(i, _)| i)
                .collect()
        };
        RoutePolicies {
            request: acting(|h| h.request),
            upstream_request: acting(|h| h.upstream_request),
            response: acting(|h| h.response),
            all: all.into(),
        }
    }

    /// Phase "request policies": the first refusal (or answer) wins.
    pub(crate) async fn on_request(
        &self,
        head: &RequestHead<'_>,
        facts: &RequestFacts<'_>,
    ) -> Result<(), Verdict> {
        for &i in &self.request {
            self.all[i].on_request(head, facts).await?;
        }
        Ok(())
    }

    /// Phase "upstream request".
    pub(crate) fn on_upstream_request(&self, headers: &mut HeaderMap, facts: &RequestFacts<'_>) {
        for &i in &self.upstream_request {
            self.all[i].on_upstream_request(headers, facts);
        }
    }

    /// Whether any policy acts on the response (the proxy takes the
    /// response apart only then).
    pub(crate) fn act_on_response(&self) -> bool {
        !self.response.is_empty()
    }

    /// What the response policies will need of `head`'s request (nothing
    /// is copied for a route without response policies).
    pub(crate) fn response_facts(&self, head: &RequestHead<'_>) -> Option<ResponseFacts> {
        if !self.act_on_response() {
            return None;
        }
        Some(ResponseFacts {
            method: head.method.clone(),
            origin: head.headers.get(header::ORIGIN).cloned(),
            accept_encoding: head.headers.get(header::ACCEPT_ENCODING).cloned(),
        })
    }

    /// Phase "response policies": the head adjusted, and the body's
    /// encoder, if one was chosen (`body_len`: the body's exact length, if
    /// known).
    pub(crate) fn on_response(
        &self,
        head: &mut http::response::Parts,
        facts: &ResponseFacts,
        body_len: Option<u64>,
    ) -> Option<Encoder> {
        let mut response = OutgoingResponse {
            head,
            facts,
            body_len,
            encoder: None,
        };
        for &i in &self.response {
            self.all[i].on_response(&mut response);
        }
        response.encoder
    }
}

/// Whether the client `path` lies under one of `prefixes` (a policy's
/// `paths` / `public_paths`), on segment boundaries: `/users/auth` covers
/// `/users/auth` and `/users/auth/...`, not `/users/authz`; a prefix
/// ending with `/` covers everything that starts with it.
pub(crate) fn under_any(path: &str, prefixes: &[String]) -> bool {
    prefixes.iter().any(|p| under(path, p))
}

/// Whether `path` is `prefix` or lies below it (see [`under_any`]).
fn under(path: &str, prefix: &str) -> bool {
    match path.strip_prefix(prefix) {
        None => false,
        Some(rest) => prefix.ends_with('/') || rest.is_empty() || rest.starts_with('/'),
    }
}

/// Append `token` to the `Vary` header unless it is listed already (or
/// `Vary: *`).
pub(crate) fn add_vary(headers: &mut HeaderMap, token: &'static str) {
    let listed = headers
        .get_all(header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|t| t == "*" || t.eq_ignore_ascii_case(token));
    if !listed {
        headers.append(header::VARY, HeaderValue::from_static(token));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_paths_match_on_segment_boundaries() {
        let paths = vec!["/users/auth".to_string(), "/users/files/".to_string()];
        for yes in [
            "/users/auth",
            "/users/auth/",
            "/users/auth/login",
            "/users/files/",
            "/users/files/a",
            "/users/files/a/b",
        ] {
            assert!(under_any(yes, &paths), "{yes}");
        }
        for no in [
            "/users/authz",
            "/users/authz/x",
            "/users/aut",
            "/users/files",
            "/users/filesx",
            "/users/",
        ] {
            assert!(!under_any(no, &paths), "{no}");
        }
        assert!(!under_any("/users/auth", &[]));
    }
}
