//! Traffic policies: per-route behaviour at fixed points of the request
//! path, switched on by the route table.
//!
//! A policy is one module here with a type implementing [`Policy`]; it acts
//! in one or more of three phases of [`crate::proxy`]:
//! - **request policies** ([`Policy::on_request`]): may refuse the request
//!   before anything is sent upstream or a byte of its body is read;
//! - **upstream request** ([`Policy::on_upstream_request`]): adjusts the
//!   headers about to go upstream;
//! - **response policies** ([`Policy::on_response`]): adjusts the response
//!   head before it goes to the client.
//!
//! Adding one (rate limit, CORS, ...) means: a file here, one line in the
//! `policies!` list below, and a line in [`RoutePolicies::for_route`] that
//! switches it on from the route's configuration. The proxy does not change.
//!
//! Dispatch is static (an enum), and each route keeps one list per phase,
//! so a phase no policy of the route acts in costs an empty loop.

mod body_limit;
mod host;

use common::Problem;
use http::{HeaderMap, HeaderValue, Request};
use hyper::body::Incoming;

use crate::config::{RouteConfig, UpstreamConfig};

/// What the proxy learnt of a request that its head does not say plainly,
/// for policies (a policy that needs more, such as the client's address for
/// a rate limit, gets a field here from [`crate::proxy`]'s context).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestFacts<'a> {
    /// The client's host (`Host`, or HTTP/2 `:authority`), from admission.
    pub(crate) host: Option<&'a HeaderValue>,
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

/// A traffic policy. Each method is one phase; a policy implements the ones
/// it names in [`Policy::hooks`].
pub(crate) trait Policy {
    /// The phases this policy acts in.
    fn hooks(&self) -> Hooks;

    /// Phase "request policies": `Err` answers the client with that
    /// problem, before anything goes upstream.
    fn on_request(
        &self,
        _req: &Request<Incoming>,
        _facts: &RequestFacts<'_>,
    ) -> Result<(), Problem> {
        Ok(())
    }

    /// Phase "upstream request": the headers about to be sent upstream,
    /// after the proxy's own rewrite (hop-by-hop removed, forwarding set).
    fn on_upstream_request(&self, _headers: &mut HeaderMap, _facts: &RequestFacts<'_>) {}

    /// Phase "response policies": the response head before it goes to the
    /// client.
    fn on_response(&self, _head: &mut http::response::Parts) {}
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

            fn on_request(&self, req: &Request<Incoming>, facts: &RequestFacts<'_>) -> Result<(), Problem> {
                match self {
                    $(RoutePolicy::$variant(p) => p.on_request(req, facts),)*
                }
            }

            fn on_upstream_request(&self, headers: &mut HeaderMap, facts: &RequestFacts<'_>) {
                match self {
                    $(RoutePolicy::$variant(p) => p.on_upstream_request(headers, facts),)*
                }
            }

            fn on_response(&self, head: &mut http::response::Parts) {
                match self {
                    $(RoutePolicy::$variant(p) => p.on_response(head),)*
                }
            }
        }
    };
}

policies! {
    /// A declared `Content-Length` over the route's body limit: `413`.
    BodyLimit(body_limit::DeclaredLength),
    /// The `Host` the upstream receives.
    Host(host::HostHeader),
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
    /// The policies `route` switches on (`upstream` is the route's upstream).
    pub(crate) fn for_route(route: &RouteConfig, upstream: Option<&UpstreamConfig>) -> Self {
        Self::new(vec![
            RoutePolicy::BodyLimit(body_limit::DeclaredLength::new(route.body_limit)),
            RoutePolicy::Host(host::HostHeader::new(route.host, upstream)),
        ])
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

    /// Phase "request policies": the first refusal wins.
    pub(crate) fn on_request(
        &self,
        req: &Request<Incoming>,
        facts: &RequestFacts<'_>,
    ) -> Result<(), Problem> {
        for &i in &self.request {
            self.all[i].on_request(req, facts)?;
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

    /// Phase "response policies".
    pub(crate) fn on_response(&self, head: &mut http::response::Parts) {
        for &i in &self.response {
            self.all[i].on_response(head);
        }
    }
}
