//! `[[routes]]`: prefixes, the upstream each goes to, and the per-route
//! settings (prefix stripping, host policy, body limit, response timeout,
//! upgrades).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::error::{Checker, ConfigError};
use super::locations::{self, AccessRule, Location, ReturnConfig, RewriteRule, parse_location};
use super::policies::{self, PolicySettings};
use super::retry::{RetryConfig, SplitTarget, unknown_upstream, validate_retry, validate_split};
use super::schema::{HostPolicy, RouteSection};
use super::template::Template;
use super::timeouts::Timeouts;
use super::units::serialize_millis;
use super::upstreams::UpstreamConfig;

/// A validated route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct RouteConfig {
    /// Prefix, starting and ending with `/`; for a `location` route, the
    /// location as written (the route's label in metrics and logs).
    pub(crate) prefix: String,
    /// How the route matches.
    pub(crate) location: Location,
    /// A prefix without its slash is redirected to it (a `prefix` route,
    /// or a proxied `location` prefix ending in `/`, as NGINX does).
    pub(crate) add_slash: bool,
    /// Reachable only from inside.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) internal: bool,
    /// `allow` / `deny`, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) access: Vec<AccessRule>,
    /// `rewrite`, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) rewrite: Vec<RewriteRule>,
    /// The answer at the edge, instead of a proxy.
    #[serde(rename = "return", skip_serializing_if = "Option::is_none")]
    pub(crate) return_: Option<ReturnConfig>,
    /// Static files, as the content handler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) files: Option<super::files::FilesConfig>,
    /// The path the upstream receives, from variables and captures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) upstream_path: Option<Template>,
    /// Error pages.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) error_pages: Vec<locations::ErrorPage>,
    /// Error pages replace the upstream's error answers too.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) intercept_errors: bool,
    /// `Location` / `Refresh` rewrites; `None` when off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) proxy_redirect: Option<super::redirects::ProxyRedirect>,
    /// Upstream name (with `split`, the first one's); empty when the
    /// route does not proxy.
    pub(crate) upstream: String,
    /// Upstreams sharing the requests by weight; empty for one `upstream`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) split: Vec<SplitTarget>,
    /// Retries on another endpoint.
    pub(crate) retry: RetryConfig,
    /// Whether the prefix is stripped.
    pub(crate) strip_prefix: bool,
    /// Host policy.
    pub(crate) host: HostPolicy,
    /// Body limit in bytes.
    pub(crate) body_limit: u64,
    /// Response-head timeout.
    #[serde(serialize_with = "serialize_millis")]
    pub(crate) response_timeout: Duration,
    /// `Upgrade` requests (WebSocket) pass through; else they are sent
    /// upstream as plain requests.
    pub(crate) upgrades: bool,
    /// The traffic policies switched on (`[routes.<policy>]` tables).
    #[serde(flatten)]
    pub(crate) policies: PolicySettings,
}

/// Validate the routes under `base` (`routes`, `servers[0].routes`): unique
/// locations, known upstreams, one content handler; `body_limit` and
/// `timeouts` give the defaults; `server_groups` are the named groups of the
/// server's regex names (usable as variables).
pub(super) fn validate(
    c: &Checker<'_>,
    base: &str,
    sections: &[RouteSection],
    upstreams: &BTreeMap<String, UpstreamConfig>,
    body_limit: u64,
    timeouts: &Timeouts,
    server_groups: &[&str],
) -> Result<Vec<RouteConfig>, ConfigError> {
    let mut routes: Vec<RouteConfig> = Vec::new();
    for (i, r) in sections.iter().enumerate() {
        let key = format!("{base}[{i}]");
        let (label, location) = route_location(c, &key, r)?;
        if let Some(j) = routes.iter().position(|x| x.location == location) {
            return Err(c.err(
                format!(
                    "{key}.{}",
                    if r.location.is_some() {
                        "location"
                    } else {
                        "prefix"
                    }
                ),
                format!(
                    "duplicate {} `{label}` (also routes[{j}])",
                    if r.location.is_some() {
                        "location"
                    } else {
                        "prefix"
                    }
                ),
            ));
        }
        let mut groups = location.groups();
        groups.extend_from_slice(server_groups);
        let rewrite = locations::validate_rewrites(c, &key, &r.rewrite, &groups)?;
        let mut all_groups = groups.clone();
        for rule in &rewrite {
            all_groups.extend(rule.regex.group_names());
        }
        let return_ = r
            .return_
            .as_ref()
            .map(|ret| locations::validate_return(c, &key, ret, &all_groups))
            .transpose()?;
        let proxies = !r.upstream.is_empty() || !r.split.is_empty();
        let split = validate_split(c, &key, &r.split, upstreams)?;
        let upstream = match (r.upstream.is_empty(), split.first()) {
            (true, None) if return_.is_none() && r.files.is_none() && r.rewrite.is_empty() => {
                return Err(c.err(
                    format!("{key}.upstream"),
                    "required (or `split` over several upstreams), unless the route has a `return` or only `rewrite`s",
                ));
            }
            (true, None) => String::new(),
            (false, Some(_)) => {
                return Err(c.err(
                    format!("{key}.split"),
                    "give either `upstream` or `split`, not both",
                ));
            }
            (true, Some(first)) => first.upstream.clone(),
            (false, None) => r.upstream.clone(),
        };
        if proxies && return_.is_some() {
            return Err(c.err(
                format!("{key}.return"),
                "a route has one content handler: `return` or `upstream`/`split`, not both",
            ));
        }
        let files = r
            .files
            .as_ref()
            .map(|f| super::files::validate(c, &format!("{key}.files"), f))
            .transpose()?;
        if files.is_some() && (proxies || return_.is_some()) {
            return Err(c.err(
                format!("{key}.files"),
                "a route has one content handler: `files`, `return` or `upstream`/`split`",
            ));
        }
        if proxies && !upstreams.contains_key(&upstream) {
            return Err(c.err(
                format!("{key}.upstream"),
                unknown_upstream(&upstream, upstreams),
            ));
        }
        if !split.is_empty() && r.host == Some(HostPolicy::Upstream) {
            return Err(c.err(
                format!("{key}.host"),
                "`upstream` cannot be used with `split` (the upstreams' hosts differ); use `client`",
            ));
        }
        let upstream_path = match &r.upstream_path {
            Some(_) if !proxies => {
                return Err(c.err(
                    format!("{key}.upstream_path"),
                    "only a proxied route (`upstream` or `split`) has an upstream path",
                ));
            }
            Some(_) if r.strip_prefix.is_some() => {
                return Err(c.err(
                    format!("{key}.upstream_path"),
                    "give either `upstream_path` or `strip_prefix`, not both",
                ));
            }
            Some(t) => Some(
                Template::parse(t, &all_groups)
                    .map_err(|p| c.err(format!("{key}.upstream_path"), p))?,
            ),
            None => None,
        };
        // A `prefix` route strips by default (the SPEC's `proxy_pass
        // http://users:8000/`); a `location` forwards the path unchanged
        // (`proxy_pass http://users:8000`) unless asked.
        let strip_prefix =
            r.strip_prefix.unwrap_or(r.location.is_none()) && upstream_path.is_none();
        if strip_prefix
            && !matches!(&location, Location::Prefix { path, .. } if path.ends_with('/'))
        {
            return Err(c.err(format!("{key}.strip_prefix"), "only a prefix location ending in `/` can be stripped (use `upstream_path` with captures)"));
        }
        let add_slash = proxies
            && matches!(&location, Location::Prefix { path, .. } if path.len() > 1 && path.ends_with('/'));
        let access = locations::validate_access(c, &key, &r.access)?;
        let error_pages = locations::validate_error_pages(c, &key, &r.error_pages)?;
        if r.intercept_errors.is_some() && !proxies {
            return Err(c.err(
                format!("{key}.intercept_errors"),
                "only a proxied route (`upstream` or `split`) has upstream errors to intercept",
            ));
        }
        if r.proxy_redirect.is_some() && !proxies {
            return Err(c.err(
                format!("{key}.proxy_redirect"),
                "only a proxied route (`upstream` or `split`) rewrites its upstream's redirects",
            ));
        }
        // On by default where the upstream builds its URLs from its own
        // name (`host = "upstream"`); with the client's `Host` (the
        // default) they are public already.
        let proxy_redirect = match (&r.proxy_redirect, r.host) {
            (Some(section), _) => Some(super::redirects::validate(c, &key, Some(section))?),
            (None, Some(HostPolicy::Upstream)) => Some(super::redirects::validate(c, &key, None)?),
            (None, _) => None,
        };
        routes.push(RouteConfig {
            prefix: label.clone(),
            location,
            add_slash,
            internal: r.internal.unwrap_or(false),
            access,
            rewrite,
            return_,
            files,
            upstream_path,
            error_pages,
            intercept_errors: r.intercept_errors.unwrap_or(false),
            proxy_redirect,
            upstream,
            split,
            retry: validate_retry(c, &key, r.retry.as_ref())?,
            strip_prefix,
            host: r.host.unwrap_or_default(),
            body_limit: c.size(&format!("{key}.body_limit"), &r.body_limit, body_limit)?,
            response_timeout: c.duration(
                &format!("{key}.response_timeout"),
                &r.response_timeout,
                timeouts.response,
            )?,
            upgrades: r.upgrades.unwrap_or(false),
            policies: with_basic_auth(
                c,
                &key,
                r,
                policies::validate(
                    c,
                    &key,
                    &label,
                    policies::PolicySections {
                        rate_limit: r.rate_limit.as_ref(),
                        cors: r.cors.as_ref(),
                        compression: r.compression.as_ref(),
                        headers: r.headers.as_ref(),
                        auth: r.auth.as_ref(),
                    },
                ),
            )?,
        });
    }
    Ok(routes)
}

/// The route's label and location: `prefix` (the SPEC's form) or
/// `location` (NGINX's), exactly one.
fn route_location(
    c: &Checker<'_>,
    key: &str,
    r: &RouteSection,
) -> Result<(String, Location), ConfigError> {
    match (&r.location, r.prefix.is_empty()) {
        (Some(_), false) => Err(c.err(
            format!("{key}.location"),
            "give either `prefix` or `location`, not both",
        )),
        (None, true) => Err(c.err(format!("{key}.prefix"), "required (or `location`)")),
        (Some(text), true) => {
            let location = parse_location(text).map_err(|p| c.err(format!("{key}.location"), p))?;
            if matches!(location, Location::Named(_)) && r.internal == Some(false) {
                return Err(c.err(
                    format!("{key}.internal"),
                    "a named location is always internal",
                ));
            }
            Ok((text.trim().to_string(), location))
        }
        (None, false) => {
            validate_prefix(&r.prefix).map_err(|p| c.err(format!("{key}.prefix"), p))?;
            Ok((
                r.prefix.clone(),
                Location::Prefix {
                    path: r.prefix.clone(),
                    stop_regex: false,
                },
            ))
        }
    }
}

fn validate_prefix(prefix: &str) -> Result<(), String> {
    if !prefix.starts_with('/') {
        return Err(format!("`{prefix}` must start with `/`"));
    }
    if !prefix.ends_with('/') {
        return Err(format!(
            "`{prefix}` must end with `/` (e.g. `{prefix}/`); `{prefix}` itself is redirected to it"
        ));
    }
    match crate::path::normalize(prefix) {
        Ok(n) if n == prefix => Ok(()),
        _ => Err(format!(
            "`{prefix}` is not a normalised path (no `//`, `.`, `..` or escapes other than reserved characters)"
        )),
    }
}

/// The route's policy settings with its `basic_auth` table read.
fn with_basic_auth(
    c: &Checker<'_>,
    key: &str,
    r: &RouteSection,
    settings: Result<PolicySettings, ConfigError>,
) -> Result<PolicySettings, ConfigError> {
    let mut settings = settings?;
    settings.basic_auth = r
        .basic_auth
        .as_ref()
        .map(|s| policies::basic_auth::validate(c, &format!("{key}.basic_auth"), s))
        .transpose()?;
    Ok(settings)
}
