//! `[[servers]]`: virtual servers chosen by the request's host, each with
//! its own `[[servers.routes]]`, NGINX's `server` blocks with their
//! `server_name`s. The top-level `[[routes]]` are the default server
//! (unless a `[[servers]]` says `default = true`).

use serde::{Deserialize, Serialize};

use super::error::{Checker, ConfigError};
use super::pattern::Pattern;
use super::routes::RouteConfig;
use super::schema::RouteSection;

/// `[[servers]]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServerSection {
    /// Host names: `shop.test`, `*.shop.test`, `www.shop.*`, `~regex`.
    #[serde(default)]
    pub(crate) names: Vec<String>,
    /// The server for hosts no server names (NGINX's `default_server`).
    pub(crate) default: Option<bool>,
    /// Its routes.
    #[serde(default)]
    pub(crate) routes: Vec<RouteSection>,
}

/// One `server_name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub(crate) enum ServerName {
    /// `shop.test` (lowercase).
    Exact(String),
    /// `*.shop.test`: the suffix `.shop.test`.
    Leading(String),
    /// `www.shop.*`: the prefix `www.shop.`.
    Trailing(String),
    /// `~^(?<sub>.+)\.shop\.test$`.
    Regex(Pattern),
}

impl ServerName {
    /// The named groups of a regex name.
    pub(crate) fn groups(&self) -> Vec<&str> {
        match self {
            ServerName::Regex(p) => p.group_names().collect(),
            _ => Vec::new(),
        }
    }
}

/// A validated virtual server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ServerConfig {
    /// Its names.
    pub(crate) names: Vec<ServerName>,
    /// Whether it is the default server.
    pub(crate) default: bool,
    /// Its routes.
    pub(crate) routes: Vec<RouteConfig>,
}

/// Parse one name as `server_name` writes it.
pub(super) fn parse_name(text: &str) -> Result<Vec<ServerName>, String> {
    let text = text.trim();
    if let Some(regex) = text.strip_prefix('~') {
        return Ok(vec![ServerName::Regex(Pattern::parse(regex, false)?)]);
    }
    let lower = text.to_ascii_lowercase();
    let valid = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
    };
    if let Some(suffix) = lower.strip_prefix("*.") {
        if valid(suffix) && !suffix.contains('*') {
            return Ok(vec![ServerName::Leading(format!(".{suffix}"))]);
        }
    } else if let Some(prefix) = lower.strip_suffix(".*") {
        if valid(prefix) && !prefix.is_empty() {
            return Ok(vec![ServerName::Trailing(format!("{prefix}."))]);
        }
    } else if let Some(domain) = lower.strip_prefix('.') {
        // NGINX's `.shop.test`: the domain itself and every subdomain.
        if valid(domain) && !domain.is_empty() {
            return Ok(vec![
                ServerName::Exact(domain.to_string()),
                ServerName::Leading(format!(".{domain}")),
            ]);
        }
    } else if valid(&lower) {
        return Ok(vec![ServerName::Exact(lower)]);
    }
    Err(format!(
        "`{text}` is not a server name (`shop.test`, `*.shop.test`, `www.shop.*`, `.shop.test` or `~regex`)"
    ))
}

/// Validate `[[servers]]`; `routes` validates one server's routes under a
/// key (`servers[0].routes`) with its names' regex groups.
pub(super) fn validate(
    c: &Checker<'_>,
    sections: &[ServerSection],
    top_level_default: bool,
    mut routes: impl FnMut(&str, &[RouteSection], &[&str]) -> Result<Vec<RouteConfig>, ConfigError>,
) -> Result<Vec<ServerConfig>, ConfigError> {
    let mut servers: Vec<ServerConfig> = Vec::new();
    for (i, s) in sections.iter().enumerate() {
        let key = format!("servers[{i}]");
        let mut names = Vec::new();
        for (j, name) in s.names.iter().enumerate() {
            let parsed = parse_name(name).map_err(|p| c.err(format!("{key}.names[{j}]"), p))?;
            for n in parsed {
                if let Some(k) = servers.iter().position(|x| x.names.contains(&n)) {
                    return Err(c.err(
                        format!("{key}.names[{j}]"),
                        format!("`{name}` is also a name of servers[{k}]"),
                    ));
                }
                names.push(n);
            }
        }
        let default = s.default.unwrap_or(false);
        if default && let Some(k) = servers.iter().position(|x| x.default) {
            return Err(c.err(
                format!("{key}.default"),
                format!("servers[{k}] is the default server already"),
            ));
        }
        if names.is_empty() && !default {
            return Err(c.err(
                format!("{key}.names"),
                "a server needs names (or `default = true`)",
            ));
        }
        let groups: Vec<&str> = names.iter().flat_map(ServerName::groups).collect();
        let server_routes = routes(&format!("{key}.routes"), &s.routes, &groups)?;
        if server_routes.is_empty() {
            return Err(c.err(
                format!("{key}.routes"),
                "a server needs at least one [[servers.routes]] entry",
            ));
        }
        servers.push(ServerConfig {
            names,
            default,
            routes: server_routes,
        });
    }
    if top_level_default && let Some(k) = servers.iter().position(|x| x.default) {
        return Err(c.err(
            format!("servers[{k}].default"),
            "the top-level [[routes]] are the default server; move them into a [[servers]] to choose another",
        ));
    }
    Ok(servers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names_as_nginx_writes_them() {
        assert_eq!(
            parse_name("Shop.Test"),
            Ok(vec![ServerName::Exact("shop.test".into())])
        );
        assert_eq!(
            parse_name("*.shop.test"),
            Ok(vec![ServerName::Leading(".shop.test".into())])
        );
        assert_eq!(
            parse_name("www.shop.*"),
            Ok(vec![ServerName::Trailing("www.shop.".into())])
        );
        assert_eq!(
            parse_name(".shop.test"),
            Ok(vec![
                ServerName::Exact("shop.test".into()),
                ServerName::Leading(".shop.test".into())
            ])
        );
        assert!(matches!(
            parse_name(r"~^(?<sub>\w+)\.shop\.test$").as_deref(),
            Ok([ServerName::Regex(_)])
        ));
        assert!(parse_name("a*b.test").is_err());
        assert!(parse_name("sh op").is_err());
        assert!(
            parse_name(r"~^(a)\1")
                .expect_err("backreference")
                .contains("backreferences")
        );
    }
}
