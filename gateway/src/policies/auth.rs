//! Edge authentication (`[routes.auth]`): the users service's access
//! tokens verified at the gateway, so a request without a valid one gets
//! `401` problem+json with `WWW-Authenticate: Bearer` and never reaches the
//! upstream. The key set is fetched, cached and refreshed by
//! `common::auth::TokenVerifier` (the same code the products service
//! verifies with); with no key set at all the answer is `503`. Public paths
//! and methods pass without a token. The upstream still sees the
//! `Authorization` header and verifies it too (defence in depth).

use std::sync::Arc;

use common::Problem;
use common::auth::{TokenError, TokenVerifier, VerifierSettings, bearer_token_in};
use http::Method;
use metrics::Counter;

use crate::config::policies::auth::AuthConfig;

use super::counters;
use super::{Hooks, Policy, RequestFacts, RequestHead, Verdict, under_any};

/// One route's edge authentication.
#[derive(Debug)]
pub(crate) struct EdgeAuth {
    config: AuthConfig,
    verifier: Arc<TokenVerifier>,
    public_methods: Vec<Method>,
    missing: Counter,
    invalid: Counter,
    expired: Counter,
    unavailable: Counter,
}

impl EdgeAuth {
    /// Verification per `config` on the route labelled `route`, keeping
    /// the cached keys of `kept` (the previous table's identical policy).
    pub(crate) fn new(config: &AuthConfig, route: &str, kept: Option<&EdgeAuth>) -> Self {
        let verifier = match kept {
            Some(k) => Arc::clone(&k.verifier),
            None => Arc::new(TokenVerifier::remote(
                config.jwks_url.clone(),
                VerifierSettings {
                    min_refresh_interval: config.min_refresh_interval,
                    default_max_age: config.default_max_age,
                    ..VerifierSettings::new(config.issuer.clone(), config.audience.clone())
                },
            )),
        };
        let reason = |r| counters::labelled(counters::AUTH_REFUSALS, route, "reason", r);
        EdgeAuth {
            public_methods: config
                .public_methods
                .iter()
                .filter_map(|m| Method::from_bytes(m.as_bytes()).ok())
                .collect(),
            config: config.clone(),
            verifier,
            missing: reason("missing"),
            invalid: reason("invalid"),
            expired: reason("expired"),
            unavailable: reason("unavailable"),
        }
    }

    /// The settings this policy was built from.
    pub(crate) fn config(&self) -> &AuthConfig {
        &self.config
    }

    fn is_public(&self, method: &Method, path: &str) -> bool {
        self.public_methods.contains(method) || under_any(path, &self.config.public_paths)
    }
}

impl Policy for EdgeAuth {
    fn hooks(&self) -> Hooks {
        Hooks::REQUEST
    }

    async fn on_request(
        &self,
        head: &RequestHead<'_>,
        facts: &RequestFacts<'_>,
    ) -> Result<(), Verdict> {
        if self.is_public(head.method, facts.path) {
            return Ok(());
        }
        let token = match bearer_token_in(head.headers) {
            Ok(Some(token)) => token,
            Ok(None) => {
                self.missing.increment(1);
                return Err(Problem::unauthorized(
                    "sign in: this route needs a bearer access token",
                )
                .into());
            }
            Err(problem) => {
                self.invalid.increment(1);
                return Err(problem.into());
            }
        };
        // Boxed: the verification's future (a possible key fetch) would
        // otherwise enlarge every request's future, on every route.
        match Box::pin(self.verifier.verify(token)).await {
            Ok(_) => Ok(()),
            Err(e) => {
                match e {
                    TokenError::Expired => self.expired.increment(1),
                    TokenError::KeysUnavailable => self.unavailable.increment(1),
                    _ => self.invalid.increment(1),
                }
                Err(Problem::from(e).into())
            }
        }
    }
}
