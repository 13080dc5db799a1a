//! A location's `rewrite`s, NGINX's way: each tested in order against the
//! current path; a match replaces the path (and the captures). A
//! replacement starting with `http://`, `https://` or `$scheme`, or the
//! `redirect` / `permanent` flags, answer with a redirect. `last` (and the
//! end of the list after any change) searches the location again; `break`
//! stays. A replacement with a `?` sets the query (the client's appended
//! unless it ends with `?`); without one the query is kept.

use http::StatusCode;

use super::table::Route;
use crate::config::RewriteFlag;

use super::vars::{Captures, render};
use super::{RequestLine, Target};

/// What the rewrites of a route did.
#[derive(Debug)]
pub(super) enum Outcome {
    /// Serve the request in this route (no change, or `break`).
    Stay,
    /// The path changed: search the location again.
    Search,
    /// Answer with a redirect.
    Redirect(StatusCode, String),
    /// The new path is not a valid path.
    BadPath(String),
}

/// Run `route`'s rewrites on `target`.
pub(super) fn run(route: &Route, target: &mut Target, line: &RequestLine<'_>) -> Outcome {
    let mut changed = false;
    for rule in &route.rewrite {
        let Some(captures) = Captures::of(rule.regex.regex(), &target.uri) else {
            continue;
        };
        target.captures = captures;
        let replaced = render(&rule.replacement, &target.vars(line));
        let redirect = match rule.flag {
            RewriteFlag::Permanent => Some(StatusCode::MOVED_PERMANENTLY),
            RewriteFlag::Redirect => Some(StatusCode::FOUND),
            _ if rule.replacement.is_absolute_url() => Some(StatusCode::FOUND),
            _ => None,
        };
        let (path, args) = with_query(&replaced, target.args.as_deref());
        if let Some(status) = redirect {
            let location = match args {
                Some(args) => format!("{path}?{args}"),
                None => path.to_string(),
            };
            return Outcome::Redirect(status, location);
        }
        match crate::path::normalize(path) {
            Ok(uri) => target.uri = uri,
            Err(e) => return Outcome::BadPath(e.to_string()),
        }
        target.args = args;
        changed = true;
        match rule.flag {
            RewriteFlag::Last => return Outcome::Search,
            RewriteFlag::Break => return Outcome::Stay,
            _ => {}
        }
    }
    // A `return` written after the rewrites runs in the same script: it
    // answers with the new path instead of a new search (NGINX).
    if changed && !matches!(route.content, super::table::Content::Return(_)) {
        Outcome::Search
    } else {
        Outcome::Stay
    }
}

/// Split `replaced` into its path and the query that follows it: its own
/// (the client's `args` appended unless it ends with `?`), or `args`.
fn with_query<'r>(replaced: &'r str, args: Option<&str>) -> (&'r str, Option<String>) {
    match replaced.split_once('?') {
        None => (replaced, args.map(String::from)),
        Some((path, "")) => (path, None),
        Some((path, own)) => match args {
            Some(args) if !args.is_empty() => (path, Some(format!("{own}&{args}"))),
            _ => (path, Some(own.to_string())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_follows_nginx() {
        assert_eq!(
            with_query("/new", Some("a=1")),
            ("/new", Some("a=1".into()))
        );
        assert_eq!(with_query("/new?", Some("a=1")), ("/new", None));
        assert_eq!(
            with_query("/new?b=2", Some("a=1")),
            ("/new", Some("b=2&a=1".into()))
        );
        assert_eq!(with_query("/new?b=2", None), ("/new", Some("b=2".into())));
    }
}
