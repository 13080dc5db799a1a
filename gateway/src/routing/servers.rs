//! Virtual servers: the request's host picks one, NGINX's `server_name`
//! order: an exact name; else the longest `*.` wildcard; else the longest
//! `.*` wildcard; else the first regex name that matches (its captures
//! usable in the server's routes); else the default server (`default =
//! true`, else the top-level `[[routes]]`, else the first `[[servers]]`).

use super::table::RouteTable;
use crate::config::{Config, ServerName};

use super::vars::Captures;

/// One server: its names and routes.
#[derive(Debug)]
struct VirtualServer {
    names: Vec<ServerName>,
    table: RouteTable,
}

/// The servers of the configuration.
#[derive(Debug)]
pub(crate) struct VirtualServers {
    servers: Vec<VirtualServer>,
    default: usize,
}

impl VirtualServers {
    /// The servers of `config`; each takes policy state from the server of
    /// `previous` with the same names.
    pub(crate) fn new(config: &Config, previous: Option<&VirtualServers>) -> Self {
        let before = |names: &[ServerName]| {
            previous
                .and_then(|p| p.servers.iter().find(|s| s.names == names))
                .map(|s| &s.table)
        };
        let mut servers = Vec::new();
        let mut default = None;
        if !config.routes.is_empty() {
            servers.push(VirtualServer {
                names: Vec::new(),
                table: RouteTable::new(config, &config.routes, before(&[])),
            });
            default = Some(0);
        }
        for server in &config.servers {
            if server.default {
                default = Some(servers.len());
            }
            servers.push(VirtualServer {
                names: server.names.clone(),
                table: RouteTable::new(config, &server.routes, before(&server.names)),
            });
        }
        VirtualServers {
            servers,
            default: default.unwrap_or(0),
        }
    }

    /// The server for `host` (lowercase, no port), and the captures of its
    /// regex name, if that is what matched.
    pub(crate) fn select(&self, host: &str) -> (&RouteTable, Option<Captures>) {
        if self.servers.len() == 1 {
            return (&self.servers[0].table, None);
        }
        let names = || {
            self.servers
                .iter()
                .flat_map(|s| s.names.iter().map(move |n| (n, &s.table)))
        };
        if let Some((_, table)) =
            names().find(|(n, _)| matches!(n, ServerName::Exact(e) if e == host))
        {
            return (table, None);
        }
        let longest = |pick: fn(&ServerName, &str) -> Option<usize>| {
            names()
                .filter_map(|(n, t)| pick(n, host).map(|len| (len, t)))
                .max_by_key(|(len, _)| *len)
                .map(|(_, t)| t)
        };
        let leading = longest(|n, host| match n {
            ServerName::Leading(suffix) if host.ends_with(suffix.as_str()) => Some(suffix.len()),
            _ => None,
        });
        if let Some(table) = leading.or_else(|| {
            longest(|n, host| match n {
                ServerName::Trailing(prefix) if host.starts_with(prefix.as_str()) => {
                    Some(prefix.len())
                }
                _ => None,
            })
        }) {
            return (table, None);
        }
        for (name, table) in names() {
            if let ServerName::Regex(p) = name
                && let Some(captures) = Captures::of(p.regex(), host)
            {
                return (table, Some(captures));
            }
        }
        (&self.servers[self.default].table, None)
    }
}
