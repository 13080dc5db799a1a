//! Header rules (`[routes.headers]`): headers removed, then set (replacing
//! every value), then added (beside existing values), on the request going
//! upstream (after the proxy's own rewrite, so a rule can override e.g.
//! `X-Forwarded-Proto`) and on the response going to the client.

use http::HeaderMap;

use crate::config::policies::header_rules::{HeaderEdits, HeaderRulesConfig};

use super::{Hooks, OutgoingResponse, Policy, RequestFacts};

/// One route's header rules.
#[derive(Debug)]
pub(crate) struct HeaderRules {
    request: HeaderEdits,
    response: HeaderEdits,
}

impl HeaderRules {
    /// The rules of `config`.
    pub(crate) fn new(config: &HeaderRulesConfig) -> Self {
        HeaderRules {
            request: config.request.clone(),
            response: config.response.clone(),
        }
    }
}

fn apply(edits: &HeaderEdits, headers: &mut HeaderMap) {
    for name in &edits.remove {
        headers.remove(name);
    }
    for (name, value) in &edits.set {
        headers.insert(name, value.clone());
    }
    for (name, value) in &edits.add {
        headers.append(name, value.clone());
    }
}

impl Policy for HeaderRules {
    fn hooks(&self) -> Hooks {
        Hooks {
            upstream_request: !self.request.is_empty(),
            response: !self.response.is_empty(),
            ..Hooks::default()
        }
    }

    fn on_upstream_request(&self, headers: &mut HeaderMap, _: &RequestFacts<'_>) {
        apply(&self.request, headers);
    }

    fn on_response(&self, response: &mut OutgoingResponse<'_>) {
        apply(&self.response, &mut response.head.headers);
    }
}
