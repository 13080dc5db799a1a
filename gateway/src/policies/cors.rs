//! CORS (`[routes.cors]`): a preflight (`OPTIONS` with `Origin` and
//! `Access-Control-Request-Method`) is answered here (`204` when the
//! origin, method and headers are allowed, `403` problem+json naming what
//! is not), so it never reaches the upstream. Every response of the route
//! to an allowed origin carries `Access-Control-Allow-Origin` (and
//! credentials, exposed headers); a disallowed origin gets no CORS header,
//! not even one the upstream set. `Vary: Origin` whenever the answer
//! depends on the origin.

use common::Problem;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};
use metrics::Counter;

use crate::config::policies::cors::CorsConfig;

use super::counters;
use super::{Hooks, OutgoingResponse, Policy, RequestFacts, RequestHead, Verdict, add_vary};

/// One route's CORS policy, with its header values built once.
#[derive(Debug)]
pub(crate) struct Cors {
    any_origin: bool,
    origins: Vec<String>,
    methods: Vec<String>,
    any_header: bool,
    headers: Vec<String>,
    credentials: bool,
    allow_methods: HeaderValue,
    allow_headers: Option<HeaderValue>,
    expose_headers: Option<HeaderValue>,
    max_age: HeaderValue,
    allowed: Counter,
    refused: Counter,
}

fn joined(items: &[String]) -> Option<HeaderValue> {
    if items.is_empty() {
        return None;
    }
    HeaderValue::from_str(&items.join(", ")).ok()
}

impl Cors {
    /// The policy `config` on the route labelled `route`.
    pub(crate) fn new(config: &CorsConfig, route: &str) -> Self {
        Cors {
            any_origin: config.any_origin(),
            origins: config.allow_origins.clone(),
            methods: config.allow_methods.clone(),
            any_header: config.allow_headers.iter().any(|h| h == "*"),
            headers: config.allow_headers.clone(),
            credentials: config.allow_credentials,
            allow_methods: joined(&config.allow_methods)
                .unwrap_or_else(|| HeaderValue::from_static("GET, HEAD, POST")),
            allow_headers: joined(&config.allow_headers),
            expose_headers: joined(&config.expose_headers),
            max_age: HeaderValue::from(config.max_age_secs),
            allowed: counters::labelled(counters::CORS_PREFLIGHTS, route, "result", "allowed"),
            refused: counters::labelled(counters::CORS_PREFLIGHTS, route, "result", "refused"),
        }
    }

    fn origin_allowed(&self, origin: &HeaderValue) -> bool {
        if self.any_origin {
            return true;
        }
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }

    /// Why a preflight from an allowed origin is refused, if it is.
    fn preflight_refusal(&self, method: &HeaderValue, headers: &HeaderMap) -> Option<String> {
        let method = method.to_str().unwrap_or_default().trim();
        // The CORS-safelisted methods need no listing (Fetch standard).
        let safelisted = matches!(method, "GET" | "HEAD" | "POST");
        if !safelisted && !self.methods.iter().any(|m| m == method) {
            return Some(format!(
                "the method `{method}` is not allowed (allowed: {})",
                self.methods.join(", ")
            ));
        }
        if self.any_header {
            return None;
        }
        for requested in headers
            .get_all(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|h| !h.is_empty())
        {
            if !self
                .headers
                .iter()
                .any(|h| h.eq_ignore_ascii_case(requested))
            {
                return Some(format!(
                    "the header `{requested}` is not allowed (allowed: {})",
                    if self.headers.is_empty() {
                        "none beyond the CORS-safelisted ones".to_string()
                    } else {
                        self.headers.join(", ")
                    }
                ));
            }
        }
        None
    }
}

impl Policy for Cors {
    fn hooks(&self) -> Hooks {
        Hooks {
            request: true,
            response: true,
            ..Hooks::default()
        }
    }

    async fn on_request(
        &self,
        head: &RequestHead<'_>,
        _: &RequestFacts<'_>,
    ) -> Result<(), Verdict> {
        if head.method != Method::OPTIONS {
            return Ok(());
        }
        let (Some(origin), Some(method)) = (
            head.headers.get(header::ORIGIN),
            head.headers.get(header::ACCESS_CONTROL_REQUEST_METHOD),
        ) else {
            return Ok(());
        };
        if !self.origin_allowed(origin) {
            self.refused.increment(1);
            return Err(Problem::forbidden(format!(
                "CORS: the origin `{}` is not allowed",
                String::from_utf8_lossy(origin.as_bytes())
            ))
            .into());
        }
        if let Some(why) = self.preflight_refusal(method, head.headers) {
            self.refused.increment(1);
            return Err(Problem::forbidden(format!("CORS: {why}")).into());
        }
        self.allowed.increment(1);
        // The origin, credentials and `Vary: Origin` are added by the
        // response phase, as on every response.
        let mut answer = HeaderMap::new();
        answer.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            self.allow_methods.clone(),
        );
        if let Some(allowed) = &self.allow_headers {
            answer.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allowed.clone());
        }
        answer.insert(header::ACCESS_CONTROL_MAX_AGE, self.max_age.clone());
        add_vary(&mut answer, "Access-Control-Request-Method");
        add_vary(&mut answer, "Access-Control-Request-Headers");
        Err(Verdict::Answer(StatusCode::NO_CONTENT, answer))
    }

    fn on_response(&self, response: &mut OutgoingResponse<'_>) {
        let headers = &mut response.head.headers;
        // Ours replace the upstream's, and a disallowed origin gets none.
        headers.remove(header::ACCESS_CONTROL_ALLOW_ORIGIN);
        headers.remove(header::ACCESS_CONTROL_ALLOW_CREDENTIALS);
        headers.remove(header::ACCESS_CONTROL_EXPOSE_HEADERS);
        if !self.any_origin {
            add_vary(headers, "Origin");
        }
        let Some(origin) = &response.facts.origin else {
            return;
        };
        if !self.origin_allowed(origin) {
            return;
        }
        let allow = if self.any_origin {
            HeaderValue::from_static("*")
        } else {
            origin.clone()
        };
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
        if self.credentials {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if let Some(expose) = &self.expose_headers {
            headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, expose.clone());
        }
    }
}
