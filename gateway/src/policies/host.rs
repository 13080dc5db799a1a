//! The `Host` the upstream receives (route key `host`): the client's
//! (`client`, the default, like NGINX's `proxy_set_header Host $host`) or
//! the upstream's first endpoint `host:port` (`upstream`). A client without
//! a host (HTTP/1.0) gets the upstream's. Always exactly one `Host`: the
//! proxy removed the client's before.

use http::{HeaderMap, HeaderValue, header};

use crate::config::{HostPolicy, UpstreamConfig};

use super::{Hooks, Policy, RequestFacts};

/// Sets `Host` on the upstream request.
#[derive(Debug)]
pub(crate) struct HostHeader {
    policy: HostPolicy,
    /// The upstream's first endpoint as a `Host` value, built once per table.
    upstream: Option<HeaderValue>,
}

impl HostHeader {
    /// The `policy` for a route to `upstream`.
    pub(crate) fn new(policy: HostPolicy, upstream: Option<&UpstreamConfig>) -> Self {
        HostHeader {
            policy,
            upstream: upstream
                .and_then(|u| u.endpoints.first())
                .map(|e| crate::headers::shared_value(e.authority())),
        }
    }
}

impl Policy for HostHeader {
    fn hooks(&self) -> Hooks {
        Hooks {
            upstream_request: true,
            ..Hooks::default()
        }
    }

    fn on_upstream_request(&self, headers: &mut HeaderMap, facts: &RequestFacts<'_>) {
        let host = match (self.policy, facts.host) {
            (HostPolicy::Client, Some(host)) => Some(host.clone()),
            _ => self.upstream.clone(),
        };
        if let Some(host) = host {
            headers.insert(header::HOST, host);
        }
    }
}
