//! Routing, NGINX's model: pick the virtual server by host
//! ([`servers`]), find the location of a request's path
//! ([`locations`]), run the location's `rewrite`s ([`rewrite`]) and search
//! again when they change the path (at most ten times, then `500`, as
//! NGINX), with the variables and captures templates read ([`vars`]).
//! What comes out is a route and the path it serves, or an answer (a
//! redirect, not found). This folder does no I/O and knows nothing of the
//! content handlers or the policies.

pub(crate) mod locations;
mod rewrite;
pub(crate) mod servers;
pub(crate) mod table;
pub(crate) mod vars;

use std::net::IpAddr;

use http::StatusCode;

use table::{Route, RouteTable};

use locations::Found;
pub(crate) use vars::{Captures, Vars};

/// NGINX's limit on path changes (rewrites, internal redirects) of one
/// request: the eleventh answers `500`.
pub(crate) const MAX_URI_CHANGES: u8 = 10;

/// What routing reads of the request besides its path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestLine<'a> {
    /// `http` or `https`.
    pub(crate) scheme: &'static str,
    /// `$host`.
    pub(crate) host: &'a str,
    /// The target as sent.
    pub(crate) request_uri: &'a str,
    /// The method.
    pub(crate) method: &'a str,
    /// The client's address.
    pub(crate) remote_addr: IpAddr,
}

/// Where a path stands during routing: the current path and query, the
/// last captures, whether it was reached from inside, and the changes left.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The current (normalised) path: `$uri`.
    pub(crate) uri: String,
    /// The current query: `$args`.
    pub(crate) args: Option<String>,
    /// The last regex's captures.
    pub(crate) captures: Captures,
    /// Reached by a rewrite or an internal redirect (internal routes
    /// answer then).
    pub(crate) internal: bool,
    /// Path changes still allowed.
    pub(crate) changes_left: u8,
}

impl Target {
    /// A client's request for `uri?args`.
    pub(crate) fn new(uri: String, args: Option<String>) -> Self {
        Target {
            uri,
            args,
            captures: Captures::default(),
            internal: false,
            changes_left: MAX_URI_CHANGES,
        }
    }

    /// The variables as they stand.
    pub(crate) fn vars<'a>(&'a self, line: &RequestLine<'a>) -> Vars<'a> {
        Vars {
            scheme: line.scheme,
            host: line.host,
            request_uri: line.request_uri,
            uri: &self.uri,
            args: self.args.as_deref(),
            remote_addr: line.remote_addr,
            method: line.method,
            captures: &self.captures,
        }
    }

    /// Count one path change; `false` once the limit is passed.
    pub(crate) fn change(&mut self) -> bool {
        self.internal = true;
        match self.changes_left.checked_sub(1) {
            Some(left) => {
                self.changes_left = left;
                true
            }
            None => false,
        }
    }
}

/// What routing decided.
#[derive(Debug)]
pub(crate) enum Decision<'t> {
    /// Serve with this route (the target holds the path it serves).
    Route(&'t Route),
    /// Redirect with this status to this location.
    Redirect(StatusCode, String),
    /// The path is this proxied prefix without its slash: `301` to it
    /// (the query kept).
    AddSlash(&'t Route, String),
    /// No route (or an internal one asked for from outside).
    NotFound,
    /// A rewritten path that is not a valid path (`400`).
    BadPath(String),
    /// Too many path changes (`500`).
    Cycle,
}

/// Route `target` through `table`: search, rewrite, search again.
pub(crate) fn resolve<'t>(
    table: &'t RouteTable,
    target: &mut Target,
    line: &RequestLine<'_>,
) -> Decision<'t> {
    loop {
        let found = table.index().find(&target.uri, |i| table.regex_of(i));
        let route = match found {
            Found::Route(i, captures) => {
                if matches!(table.route(i).matcher, crate::config::Location::Regex(_)) {
                    target.captures = captures;
                }
                table.route(i)
            }
            Found::AddSlash(i) => {
                let route = table.route(i);
                let mut location = format!("{}/", target.uri);
                if let Some(args) = &target.args {
                    location.push('?');
                    location.push_str(args);
                }
                return Decision::AddSlash(route, location);
            }
            Found::Nothing => return Decision::NotFound,
        };
        if route.internal && !target.internal {
            return Decision::NotFound;
        }
        match rewrite::run(route, target, line) {
            rewrite::Outcome::Stay => return Decision::Route(route),
            rewrite::Outcome::Search => {
                if !target.change() {
                    return Decision::Cycle;
                }
            }
            rewrite::Outcome::Redirect(status, location) => {
                return Decision::Redirect(status, location);
            }
            rewrite::Outcome::BadPath(why) => return Decision::BadPath(why),
        }
    }
}

/// Route `target` to the named location `name` (`@app`), or by path when
/// `name` is a path (an internal redirect: `error_page`, `X-Accel-Redirect`).
pub(crate) fn redirect_internally<'t>(
    table: &'t RouteTable,
    target: &mut Target,
    line: &RequestLine<'_>,
    name_or_uri: &str,
) -> Decision<'t> {
    if !target.change() {
        return Decision::Cycle;
    }
    if name_or_uri.starts_with('@') {
        return match table.index().named(name_or_uri) {
            Some(i) => Decision::Route(table.route(i)),
            None => Decision::NotFound,
        };
    }
    let (path, args) = match name_or_uri.split_once('?') {
        Some((p, a)) => (p, Some(a.to_string())),
        None => (name_or_uri, None),
    };
    match crate::path::normalize(path) {
        Ok(uri) => {
            target.uri = uri;
            target.args = args;
            resolve(table, target, line)
        }
        Err(e) => Decision::BadPath(e.to_string()),
    }
}
