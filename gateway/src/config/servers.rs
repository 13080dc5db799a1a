//! `[[servers]]`: virtual servers chosen by the request's host, each with
//! its own `[[servers.routes]]`, NGINX's `server` blocks with their
//! `server_name`s. The top-level `[[routes]]` are the default server
//! (unless a `[[servers]]` says `default = true`). A server may name its
//! own listeners (`listen`, `listen_tls`: NGINX's `listen` per `server`);
//! without them it is on the default ones (`listen.public`, `tls.listen`).

use std::net::SocketAddr;

use serde::Serialize;

use super::error::{Checker, ConfigError};
use super::pattern::Pattern;
use super::routes::RouteConfig;
use super::schema::{RouteSection, ServerSection};

/// One listening address and whether it speaks TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub(crate) struct ListenOn {
    /// The address.
    pub(crate) addr: SocketAddr,
    /// TLS (certificates from `[tls]`), else plain HTTP.
    pub(crate) tls: bool,
}

/// A listener the gateway binds: the default ones first (`listen.public`,
/// then `tls.listen`), then the servers' own in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Listener {
    /// Where, and whether TLS.
    pub(crate) on: ListenOn,
    /// One of the default listeners: the servers that name none are on it.
    pub(crate) default: bool,
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
    /// The name as written (`*.shop.test`, `~regex`).
    pub(crate) fn text(&self) -> String {
        match self {
            ServerName::Exact(e) => e.clone(),
            ServerName::Leading(suffix) => format!("*{suffix}"),
            ServerName::Trailing(prefix) => format!("{prefix}*"),
            ServerName::Regex(p) => format!("~{}", p.as_str()),
        }
    }

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
    /// Whether it is the default server (of each of its listeners).
    pub(crate) default: bool,
    /// Its own listeners; empty: the default ones.
    pub(crate) listen: Vec<ListenOn>,
    /// Its routes.
    pub(crate) routes: Vec<RouteConfig>,
}

impl ServerConfig {
    /// Whether it is served on `listener`.
    pub(crate) fn is_on(&self, listener: &Listener) -> bool {
        if self.listen.is_empty() {
            listener.default
        } else {
            self.listen.contains(&listener.on)
        }
    }
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
/// key (`servers[0].routes`) with its names' regex groups. What depends on
/// the listeners (names and defaults shared on one, TLS) is checked by
/// [`check_listeners`].
pub(super) fn validate(
    c: &Checker<'_>,
    sections: &[ServerSection],
    mut routes: impl FnMut(&str, &[RouteSection], &[&str]) -> Result<Vec<RouteConfig>, ConfigError>,
) -> Result<Vec<ServerConfig>, ConfigError> {
    let mut servers: Vec<ServerConfig> = Vec::new();
    for (i, s) in sections.iter().enumerate() {
        let key = format!("servers[{i}]");
        let mut names = Vec::new();
        for (j, name) in s.names.iter().enumerate() {
            let parsed = parse_name(name).map_err(|p| c.err(format!("{key}.names[{j}]"), p))?;
            for n in parsed {
                if names.contains(&n) {
                    return Err(c.err(
                        format!("{key}.names[{j}]"),
                        format!("`{name}` is named twice"),
                    ));
                }
                names.push(n);
            }
        }
        let default = s.default.unwrap_or(false);
        if names.is_empty() && !default {
            return Err(c.err(
                format!("{key}.names"),
                "a server needs names (or `default = true`)",
            ));
        }
        let mut listen = Vec::new();
        for (field, list, tls) in [
            ("listen", &s.listen, false),
            ("listen_tls", &s.listen_tls, true),
        ] {
            for (j, text) in list.iter().enumerate() {
                let addr: SocketAddr = text.trim().parse().map_err(|_| {
                    c.err(
                        format!("{key}.{field}[{j}]"),
                        format!(
                            "`{text}` is not an address (expected e.g. 0.0.0.0:8080 or [::]:8443)"
                        ),
                    )
                })?;
                if let Some(k) = listen.iter().position(|l: &ListenOn| l.addr == addr) {
                    return Err(c.err(
                        format!("{key}.{field}[{j}]"),
                        format!("{addr} is listed twice in this server (entry {k})"),
                    ));
                }
                listen.push(ListenOn { addr, tls });
            }
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
            listen,
            routes: server_routes,
        });
    }
    Ok(servers)
}

/// The listeners of a configuration: `public`, `tls` (when on), then the
/// servers' own addresses in file order, each once.
pub(super) fn listeners(
    public: SocketAddr,
    tls: Option<SocketAddr>,
    servers: &[ServerConfig],
) -> Vec<Listener> {
    let mut all = vec![Listener {
        on: ListenOn {
            addr: public,
            tls: false,
        },
        default: true,
    }];
    if let Some(addr) = tls {
        all.push(Listener {
            on: ListenOn { addr, tls: true },
            default: true,
        });
    }
    for on in servers.iter().flat_map(|s| &s.listen) {
        if !all.iter().any(|l| l.on == *on) {
            all.push(Listener {
                on: *on,
                default: false,
            });
        }
    }
    all
}

/// Check the servers against the listeners: TLS ones need `[tls]`; an
/// address is plain or TLS, never both, and never the admin listener's;
/// on one listener a name belongs to one server and one server is the
/// default (the top-level `[[routes]]` are the default of the default
/// listeners).
pub(super) fn check_listeners(
    c: &Checker<'_>,
    servers: &[ServerConfig],
    public: SocketAddr,
    admin: SocketAddr,
    tls: Option<SocketAddr>,
    top_level_routes: bool,
) -> Result<(), ConfigError> {
    let all = listeners(public, tls, servers);
    for (i, s) in servers.iter().enumerate() {
        for on in &s.listen {
            let field = if on.tls { "listen_tls" } else { "listen" };
            let j = s
                .listen
                .iter()
                .filter(|l| l.tls == on.tls)
                .position(|l| l == on)
                .unwrap_or(0);
            let key = format!("servers[{i}].{field}[{j}]");
            if on.tls && tls.is_none() {
                return Err(c.err(
                    key,
                    "a TLS listener needs the [tls] section (tls.listen and certificates or [acme])",
                ));
            }
            // Port 0 (tests): every bind gets its own port.
            if on.addr == admin && admin.port() != 0 {
                return Err(c.err(key, format!("{} is the admin listener", on.addr)));
            }
            if all
                .iter()
                .any(|l| l.on.addr == on.addr && l.on.tls != on.tls)
            {
                let other = if on.tls { "plain" } else { "TLS" };
                return Err(c.err(
                    key,
                    format!(
                        "{} is also a {other} listener; an address speaks one of them",
                        on.addr
                    ),
                ));
            }
        }
    }
    for listener in &all {
        let on: Vec<(usize, &ServerConfig)> = servers
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_on(listener))
            .collect();
        let mut default = (listener.default && top_level_routes).then_some(None);
        for (n, (i, s)) in on.iter().enumerate() {
            if s.default {
                match default {
                    Some(None) => {
                        return Err(c.err(
                            format!("servers[{i}].default"),
                            "the top-level [[routes]] are the default server; move them into a [[servers]] to choose another",
                        ));
                    }
                    Some(Some(k)) => {
                        return Err(c.err(
                            format!("servers[{i}].default"),
                            format!(
                                "servers[{k}] is the default server of {} already",
                                listener.on.addr
                            ),
                        ));
                    }
                    None => default = Some(Some(*i)),
                }
            }
            for (j, name) in s.names.iter().enumerate() {
                if let Some((k, _)) = on[..n].iter().find(|(_, other)| other.names.contains(name)) {
                    return Err(c.err(
                        format!("servers[{i}].names[{j}]"),
                        format!(
                            "`{}` is also a name of servers[{k}] on {}",
                            name.text(),
                            listener.on.addr
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
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
