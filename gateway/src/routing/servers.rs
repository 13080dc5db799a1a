//! Virtual servers: the request's host picks one, NGINX's `server_name`
//! order: an exact name; else the longest `*.` wildcard; else the longest
//! `.*` wildcard; else the first regex name that matches (its captures
//! usable in the server's routes); else the default server (`default =
//! true`, else the top-level `[[routes]]`, else the first `[[servers]]`).
//! Only the servers on the request's listener take part (NGINX's `listen`
//! per `server`): each listener has its own set and its own default.

use super::table::RouteTable;
use crate::config::{Config, Listener, ServerName};

use super::vars::Captures;

/// One server: its names and routes.
#[derive(Debug)]
struct VirtualServer {
    names: Vec<ServerName>,
    /// Its own listeners (empty: the default ones), to find it again on reload.
    listen: Vec<crate::config::ListenOn>,
    table: RouteTable,
}

/// The servers of one listener, by index into [`VirtualServers`]' list.
#[derive(Debug, Default)]
struct OnListener {
    servers: Vec<usize>,
    /// Its default server; none when no server is on the listener.
    default: Option<usize>,
}

/// The servers of the configuration, and which listener serves which.
#[derive(Debug)]
pub(crate) struct VirtualServers {
    servers: Vec<VirtualServer>,
    /// By listener index (the order of the listeners bound at start).
    listeners: Vec<OnListener>,
    /// What a listener no server is on answers (every request `404`).
    empty: RouteTable,
}

impl VirtualServers {
    /// The servers of `config` on the listeners `bound` (those bound at
    /// start: a listener added by a reload serves from the next start);
    /// each takes policy state from the server of `previous` with the same
    /// names and listeners.
    pub(crate) fn new(
        config: &Config,
        previous: Option<&VirtualServers>,
        bound: &[Listener],
    ) -> Self {
        let before = |names: &[ServerName], listen: &[crate::config::ListenOn]| {
            previous
                .and_then(|p| {
                    p.servers
                        .iter()
                        .find(|s| s.names == names && s.listen == listen)
                })
                .map(|s| &s.table)
        };
        let mut servers = Vec::new();
        let mut listeners: Vec<OnListener> = bound.iter().map(|_| OnListener::default()).collect();
        if !config.routes.is_empty() {
            servers.push(VirtualServer {
                names: Vec::new(),
                listen: Vec::new(),
                table: RouteTable::new(config, &config.routes, before(&[], &[])),
            });
            for (on, listener) in listeners.iter_mut().zip(bound) {
                if listener.default {
                    on.servers.push(0);
                    on.default = Some(0);
                }
            }
        }
        for server in &config.servers {
            let index = servers.len();
            for (on, listener) in listeners.iter_mut().zip(bound) {
                if server.is_on(listener) {
                    on.servers.push(index);
                    // NGINX: the first server of a listener is its
                    // default unless another says `default_server`.
                    if server.default || on.default.is_none() {
                        on.default = Some(index);
                    }
                }
            }
            servers.push(VirtualServer {
                names: server.names.clone(),
                listen: server.listen.clone(),
                table: RouteTable::new(
                    config,
                    &server.routes,
                    before(&server.names, &server.listen),
                ),
            });
        }
        VirtualServers {
            servers,
            listeners,
            empty: RouteTable::default(),
        }
    }

    /// The server for `host` (lowercase, no port) on `listener` (its
    /// index in the bound listeners), and the captures of its regex name,
    /// if that is what matched.
    pub(crate) fn select(&self, listener: usize, host: &str) -> (&RouteTable, Option<Captures>) {
        let Some(on) = self.listeners.get(listener) else {
            return (&self.empty, None);
        };
        let Some(default) = on.default else {
            return (&self.empty, None);
        };
        if on.servers.len() == 1 {
            return (&self.servers[default].table, None);
        }
        let names = || {
            on.servers.iter().flat_map(|&i| {
                let s = &self.servers[i];
                s.names.iter().map(move |n| (n, &s.table))
            })
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
        (&self.servers[default].table, None)
    }
}
