//! The route table: longest matching prefix wins; `/users` redirects to
//! `/users/`; anything else is not found. Each route carries the traffic
//! policies it switches on ([`RoutePolicies`]).

use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;

use crate::config::Config;
use crate::policies::RoutePolicies;
use crate::upstreams::{RetryPolicy, Split};

/// The `X-Forwarded-Prefix` value of a route: its prefix without the
/// trailing slash, when the prefix is stripped and is not `/`.
fn forwarded_prefix(strip: bool, prefix: &str) -> Option<HeaderValue> {
    let bare = prefix.trim_end_matches('/');
    if !strip || bare.is_empty() {
        return None;
    }
    HeaderValue::from_str(bare).ok()
}

/// One route, ready for matching.
#[derive(Debug)]
pub(crate) struct Route {
    /// Prefix with trailing slash (`/users/`); also the metrics label.
    pub(crate) prefix: Arc<str>,
    /// Upstream name (a split route's first).
    pub(crate) upstream: Arc<str>,
    /// The upstreams sharing the route's requests, when it splits them.
    pub(crate) split: Option<Split>,
    /// Retries on another endpoint, unless switched off.
    pub(crate) retry: Option<RetryPolicy>,
    /// Strip the prefix before forwarding.
    pub(crate) strip_prefix: bool,
    /// Body limit in bytes.
    pub(crate) body_limit: u64,
    /// Response-head timeout.
    pub(crate) response_timeout: Duration,
    /// `Upgrade` requests pass through (else they go upstream as plain ones).
    pub(crate) upgrades: bool,
    /// `X-Forwarded-Prefix` for this route (the prefix without its trailing
    /// slash), when it strips a non-root prefix; built once per table.
    pub(crate) forwarded_prefix: Option<HeaderValue>,
    /// The traffic policies this route switches on.
    pub(crate) policies: RoutePolicies,
}

impl Route {
    /// The prefix without its trailing slash (`/users`), as sent in
    /// `X-Forwarded-Prefix`; empty for the root route.
    fn bare_prefix(&self) -> &str {
        self.prefix.trim_end_matches('/')
    }

    /// The path the upstream receives for the normalised `path`.
    pub(crate) fn upstream_path<'p>(&self, path: &'p str) -> std::borrow::Cow<'p, str> {
        if self.strip_prefix && self.prefix.len() > 1 {
            // `path` starts with the prefix, which ends with `/`.
            std::borrow::Cow::Borrowed(&path[self.prefix.len() - 1..])
        } else {
            std::borrow::Cow::Borrowed(path)
        }
    }
}

/// What the table says about a path.
#[derive(Debug)]
pub(crate) enum Match<'t> {
    /// Forward with this route.
    Route(&'t Route),
    /// The path is a prefix without its slash: redirect to `prefix/`.
    AddSlash(&'t Route),
    /// No route.
    NotFound,
}

/// Routes ordered longest prefix first.
#[derive(Debug, Default)]
pub(crate) struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    /// Build the table from a validated config; `previous` (the table it
    /// replaces) lends its policies' state to unchanged routes.
    pub(crate) fn new(config: &Config, previous: Option<&RouteTable>) -> Self {
        let mut routes: Vec<Route> = config
            .routes
            .iter()
            .map(|r| Route {
                prefix: Arc::from(r.prefix.as_str()),
                upstream: Arc::from(r.upstream.as_str()),
                split: Split::new(&r.prefix, &r.split),
                retry: RetryPolicy::new(&r.prefix, &r.retry),
                strip_prefix: r.strip_prefix,
                body_limit: r.body_limit,
                response_timeout: r.response_timeout,
                upgrades: r.upgrades,
                forwarded_prefix: forwarded_prefix(r.strip_prefix, &r.prefix),
                policies: RoutePolicies::for_route(
                    r,
                    config.upstreams.get(&r.upstream),
                    previous
                        .and_then(|t| t.routes.iter().find(|p| *p.prefix == *r.prefix))
                        .map(|p| &p.policies),
                ),
            })
            .collect();
        routes.sort_by_key(|r| std::cmp::Reverse(r.prefix.len()));
        RouteTable { routes }
    }

    /// The route for a normalised path.
    pub(crate) fn find(&self, path: &str) -> Match<'_> {
        for route in &self.routes {
            if path.starts_with(&*route.prefix) {
                return Match::Route(route);
            }
            if route.prefix.len() > 1 && path == route.bare_prefix() {
                return Match::AddSlash(route);
            }
        }
        Match::NotFound
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Overrides};
    use std::path::Path;

    fn table() -> RouteTable {
        let text = r#"
            [upstreams.users]
            endpoints = ["http://127.0.0.1:1"]
            [upstreams.products]
            endpoints = ["http://127.0.0.1:2"]
            [upstreams.admin]
            endpoints = ["http://127.0.0.1:3"]
            [upstreams.web]
            endpoints = ["http://127.0.0.1:4"]
            [[routes]]
            prefix = "/users/"
            upstream = "users"
            [[routes]]
            prefix = "/products/"
            upstream = "products"
            [[routes]]
            prefix = "/users/admin/"
            upstream = "admin"
            [[routes]]
            prefix = "/"
            upstream = "web"
            strip_prefix = false
        "#;
        let config =
            Config::parse(Path::new("t.toml"), text, &Overrides::default()).expect("valid");
        RouteTable::new(&config, None)
    }

    fn describe(t: &RouteTable, path: &str) -> String {
        match t.find(path) {
            Match::Route(r) => format!("{} {}", r.upstream, r.upstream_path(path)),
            Match::AddSlash(r) => format!("301 {}", r.prefix),
            Match::NotFound => "404".to_string(),
        }
    }

    #[test]
    fn matching_table() {
        let t = table();
        for (path, want) in [
            ("/users/auth/login", "users /auth/login"),
            ("/users/", "users /"),
            ("/users", "301 /users/"),
            ("/usersX", "web /usersX"),
            ("/users/admin/x", "admin /x"),
            ("/users/admin", "301 /users/admin/"),
            ("/users/administrator", "users /administrator"),
            ("/products/42", "products /42"),
            ("/products", "301 /products/"),
            ("/", "web /"),
            ("/other", "web /other"),
        ] {
            assert_eq!(describe(&t, path), want, "{path}");
        }
    }

    #[test]
    fn without_a_root_route_unknown_paths_are_not_found() {
        let text = r#"
            [upstreams.users]
            endpoints = ["http://127.0.0.1:1"]
            [[routes]]
            prefix = "/users/"
            upstream = "users"
        "#;
        let config =
            Config::parse(Path::new("t.toml"), text, &Overrides::default()).expect("valid");
        let t = RouteTable::new(&config, None);
        assert_eq!(describe(&t, "/usersX"), "404");
        assert_eq!(describe(&t, "/"), "404");
        assert_eq!(describe(&t, "/products/1"), "404");
    }
}
