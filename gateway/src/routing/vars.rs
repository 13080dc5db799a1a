//! The values of a request's variables, and templates rendered with them
//! (`$scheme`, `$host`, `$request_uri`, `$uri`, `$args`, captures).

use std::net::IpAddr;

use regex::Regex;

use crate::config::template::{Part, Template, Var};

/// The captures of the last regex that matched (a regex location, then
/// each `rewrite` that matches replaces them, as in NGINX).
#[derive(Debug, Clone, Default)]
pub(crate) struct Captures {
    numbered: Vec<Option<String>>,
    named: Vec<(String, String)>,
}

impl Captures {
    /// Match `regex` against `text`: its captures, or `None` when it does
    /// not match.
    pub(crate) fn of(regex: &Regex, text: &str) -> Option<Captures> {
        let found = regex.captures(text)?;
        let numbered = found
            .iter()
            .map(|m| m.map(|m| m.as_str().to_string()))
            .collect();
        let named = regex
            .capture_names()
            .flatten()
            .filter_map(|n| {
                found
                    .name(n)
                    .map(|m| (n.to_string(), m.as_str().to_string()))
            })
            .collect();
        Some(Captures { numbered, named })
    }

    fn numbered(&self, i: usize) -> &str {
        self.numbered
            .get(i)
            .and_then(|m| m.as_deref())
            .unwrap_or("")
    }

    fn named(&self, name: &str) -> &str {
        self.named
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// What a template may read of the request.
#[derive(Debug, Clone)]
pub(crate) struct Vars<'a> {
    /// `http` or `https`.
    pub(crate) scheme: &'static str,
    /// The host name (lowercase, no port).
    pub(crate) host: &'a str,
    /// The target as sent.
    pub(crate) request_uri: &'a str,
    /// The current path.
    pub(crate) uri: &'a str,
    /// The current query.
    pub(crate) args: Option<&'a str>,
    /// The client's address.
    pub(crate) remote_addr: IpAddr,
    /// The method.
    pub(crate) method: &'a str,
    /// The last regex's captures.
    pub(crate) captures: &'a Captures,
}

/// `$host`: the host of `Host` (or `:authority`), lowercase, without the
/// port.
pub(crate) fn host_name(host: &str) -> String {
    let name = if host.starts_with('[') {
        host.find(']').map_or(host, |end| &host[..=end])
    } else {
        host.split(':').next().unwrap_or("")
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Render `template` with `vars`.
pub(crate) fn render(template: &Template, vars: &Vars<'_>) -> String {
    let mut out = String::with_capacity(template.text().len() + 32);
    for part in template.parts() {
        match part {
            Part::Literal(text) => out.push_str(text),
            Part::Var(var) => match var {
                Var::Scheme => out.push_str(vars.scheme),
                Var::Host => out.push_str(vars.host),
                Var::RequestUri => out.push_str(vars.request_uri),
                Var::Uri => out.push_str(vars.uri),
                Var::Args => out.push_str(vars.args.unwrap_or("")),
                Var::IsArgs => {
                    if vars.args.is_some() {
                        out.push('?');
                    }
                }
                Var::RemoteAddr => out.push_str(&vars.remote_addr.to_string()),
                Var::Method => out.push_str(vars.method),
                Var::Capture(i) => out.push_str(vars.captures.numbered(*i)),
                Var::Named(name) => out.push_str(vars.captures.named(name)),
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_read_the_request_and_the_captures() {
        let regex = Regex::new(r"^/shop/(?<item>\w+)/(\d+)$").expect("valid");
        let captures = Captures::of(&regex, "/shop/book/42").expect("matches");
        let vars = Vars {
            scheme: "https",
            host: "shop.test",
            request_uri: "/shop/book/42?x=1",
            uri: "/shop/book/42",
            args: Some("x=1"),
            remote_addr: IpAddr::from([10, 0, 0, 1]),
            method: "GET",
            captures: &captures,
        };
        let t = Template::parse(
            "$scheme://$host/$item/$2$is_args$args ($remote_addr $3)",
            &["item"],
        )
        .expect("valid");
        assert_eq!(
            render(&t, &vars),
            "https://shop.test/book/42?x=1 (10.0.0.1 )"
        );
        assert_eq!(host_name("Shop.Test:8080"), "shop.test");
        assert_eq!(host_name("[::1]:80"), "[::1]");
    }
}
