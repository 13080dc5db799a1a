//! The route table of one server: its routes (NGINX's locations) in file
//! order, indexed for the location search of [`crate::routing`]. Each
//! route carries its content handler ([`Content`]) and the traffic
//! policies it switches on ([`RoutePolicies`]).

use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;

use super::locations::LocationIndex;
use crate::config::template::Template;
use crate::config::{Config, ErrorPage, Location, ReturnConfig, RewriteRule, RouteConfig};
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

/// What answers a route's requests, between the before- and after-phases.
#[derive(Debug)]
pub(crate) enum Content {
    /// The upstream forward (`upstream` / `split`).
    Proxy,
    /// An answer at the edge (`return`).
    Return(ReturnConfig),
    /// Static files.
    Files(Arc<crate::config::files::FilesConfig>),
    /// Nothing: a route of `rewrite`s only, whose requests no rewrite
    /// took elsewhere (`404`).
    Nothing,
}

/// One route, ready for matching.
#[derive(Debug)]
pub(crate) struct Route {
    /// Prefix with trailing slash (`/users/`), or the location as written;
    /// also the metrics label.
    pub(crate) prefix: Arc<str>,
    /// How it matches.
    pub(crate) matcher: Location,
    /// Reachable only from inside.
    pub(crate) internal: bool,
    /// Its `rewrite`s.
    pub(crate) rewrite: Vec<RewriteRule>,
    /// The content handler.
    pub(crate) content: Content,
    /// The upstream path template, when set.
    pub(crate) upstream_path: Option<Template>,
    /// Error pages.
    pub(crate) error_pages: Vec<ErrorPage>,
    /// Error pages replace the upstream's error answers too.
    pub(crate) intercept_errors: bool,
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
    /// The path the upstream receives for the normalised `path`.
    /// A path a `rewrite ... break` moved out of the prefix goes whole, as
    /// NGINX passes it.
    pub(crate) fn upstream_path<'p>(&self, path: &'p str) -> std::borrow::Cow<'p, str> {
        match &self.matcher {
            Location::Prefix { path: prefix, .. }
                if self.strip_prefix && prefix.len() > 1 && path.starts_with(prefix.as_str()) =>
            {
                // The prefix ends with `/`.
                std::borrow::Cow::Borrowed(&path[prefix.len() - 1..])
            }
            _ => std::borrow::Cow::Borrowed(path),
        }
    }
}

/// The routes of one server, in file order, with their search index.
#[derive(Debug, Default)]
pub(crate) struct RouteTable {
    routes: Vec<Route>,
    index: LocationIndex,
}

impl RouteTable {
    /// Build the table of `routes` (validated, `config`'s upstreams);
    /// `previous` (the table it replaces) lends its policies' state to
    /// unchanged routes.
    pub(crate) fn new(
        config: &Config,
        routes: &[RouteConfig],
        previous: Option<&RouteTable>,
    ) -> Self {
        let list: Vec<Route> = routes
            .iter()
            .map(|r| Route {
                prefix: Arc::from(r.prefix.as_str()),
                matcher: r.location.clone(),
                internal: r.internal,
                rewrite: r.rewrite.clone(),
                content: match (&r.return_, &r.files, r.upstream.is_empty()) {
                    (Some(ret), _, _) => Content::Return(ret.clone()),
                    (None, Some(files), _) => Content::Files(Arc::new(files.clone())),
                    (None, None, false) => Content::Proxy,
                    (None, None, true) => Content::Nothing,
                },
                upstream_path: r.upstream_path.clone(),
                error_pages: r.error_pages.clone(),
                intercept_errors: r.intercept_errors,
                upstream: Arc::from(r.upstream.as_str()),
                split: Split::new(&r.prefix, &r.split),
                retry: RetryPolicy::new(&r.prefix, &r.retry),
                strip_prefix: r.strip_prefix,
                body_limit: r.body_limit,
                response_timeout: r.response_timeout,
                upgrades: r.upgrades,
                forwarded_prefix: match &r.location {
                    Location::Prefix { path, .. } => forwarded_prefix(r.strip_prefix, path),
                    _ => None,
                },
                policies: RoutePolicies::for_route(
                    r,
                    config.upstreams.get(&r.upstream),
                    previous
                        .and_then(|t| t.routes.iter().find(|p| *p.prefix == *r.prefix))
                        .map(|p| &p.policies),
                ),
            })
            .collect();
        let index = LocationIndex::new(routes.iter().map(|r| (&r.location, r.add_slash)));
        RouteTable {
            routes: list,
            index,
        }
    }

    /// The search index.
    pub(crate) fn index(&self) -> &LocationIndex {
        &self.index
    }

    /// Route `i` (an index the search gave).
    pub(crate) fn route(&self, i: usize) -> &Route {
        &self.routes[i]
    }

    /// Route `i`'s regex, if it is a regex location.
    pub(crate) fn regex_of(&self, i: usize) -> Option<&regex::Regex> {
        match &self.routes.get(i)?.matcher {
            Location::Regex(p) => Some(p.regex()),
            _ => None,
        }
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
        RouteTable::new(&config, &config.routes, None)
    }

    fn describe(t: &RouteTable, path: &str) -> String {
        use crate::routing::locations::Found;
        match t.index().find(path, |i| t.regex_of(i)) {
            Found::Route(i, _) => {
                let r = t.route(i);
                format!("{} {}", r.upstream, r.upstream_path(path))
            }
            Found::AddSlash(i) => format!("301 {}", t.route(i).prefix),
            Found::Nothing => "404".to_string(),
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
        let t = RouteTable::new(&config, &config.routes, None);
        assert_eq!(describe(&t, "/usersX"), "404");
        assert_eq!(describe(&t, "/"), "404");
        assert_eq!(describe(&t, "/products/1"), "404");
    }
}
