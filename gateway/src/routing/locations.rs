//! NGINX's location search over one server's routes: `=` exact paths
//! first; then the longest matching prefix (a proxied prefix ending in `/`
//! also answers its path without the slash with a redirect); unless that
//! prefix is `^~`, the regexes in file order, the first that matches
//! winning; else the longest prefix. Named locations (`@app`) are never
//! matched, only reached by name.

use crate::config::Location;

use super::vars::Captures;

/// Where a path goes, as indexes into the server's routes.
#[derive(Debug)]
pub(crate) enum Found {
    /// This route, with the captures of its regex (empty otherwise).
    Route(usize, Captures),
    /// The path is this proxied prefix without its slash: `301` to it.
    AddSlash(usize),
    /// No route.
    Nothing,
}

/// The routes of one server, arranged for the search.
#[derive(Debug, Default)]
pub(crate) struct LocationIndex {
    exact: Vec<(String, usize)>,
    /// Longest first.
    prefixes: Vec<(String, bool, usize)>,
    regexes: Vec<usize>,
    named: Vec<(String, usize)>,
    slash: Vec<(String, usize)>,
}

impl LocationIndex {
    /// Index `routes` (`(location, add_slash)` in file order).
    pub(crate) fn new<'a>(routes: impl Iterator<Item = (&'a Location, bool)>) -> Self {
        let mut index = LocationIndex::default();
        for (i, (location, add_slash)) in routes.enumerate() {
            match location {
                Location::Exact(path) => index.exact.push((path.clone(), i)),
                Location::Prefix { path, stop_regex } => {
                    index.prefixes.push((path.clone(), *stop_regex, i));
                    if add_slash {
                        index
                            .slash
                            .push((path.trim_end_matches('/').to_string(), i));
                    }
                }
                Location::Regex(_) => index.regexes.push(i),
                Location::Named(name) => index.named.push((name.clone(), i)),
            }
        }
        index
            .prefixes
            .sort_by_key(|(p, _, _)| std::cmp::Reverse(p.len()));
        index
    }

    /// The route for `path`; `regex_of(i)` gives route `i`'s regex.
    pub(crate) fn find<'r>(
        &self,
        path: &str,
        regex_of: impl Fn(usize) -> Option<&'r regex::Regex>,
    ) -> Found {
        if let Some((_, i)) = self.exact.iter().find(|(p, _)| p == path) {
            return Found::Route(*i, Captures::default());
        }
        let prefix = self
            .prefixes
            .iter()
            .find(|(p, _, _)| path.starts_with(p.as_str()));
        let exact_prefix = prefix.is_some_and(|(p, _, _)| p.len() == path.len());
        if !exact_prefix && let Some((_, i)) = self.slash.iter().find(|(p, _)| p == path) {
            return Found::AddSlash(*i);
        }
        if let Some((_, true, i)) = prefix {
            return Found::Route(*i, Captures::default());
        }
        for &i in &self.regexes {
            if let Some(captures) = regex_of(i).and_then(|r| Captures::of(r, path)) {
                return Found::Route(i, captures);
            }
        }
        match prefix {
            Some((_, _, i)) => Found::Route(*i, Captures::default()),
            None => Found::Nothing,
        }
    }

    /// The named location `name` (`@app`).
    pub(crate) fn named(&self, name: &str) -> Option<usize> {
        self.named.iter().find(|(n, _)| n == name).map(|(_, i)| *i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::pattern::Pattern;

    fn loc(text: &str) -> Location {
        let (m, rest) = text.split_once(' ').unwrap_or(("", text));
        match m {
            "=" => Location::Exact(rest.into()),
            "^~" => Location::Prefix {
                path: rest.into(),
                stop_regex: true,
            },
            "~" => Location::Regex(Pattern::parse(rest, false).expect("valid")),
            "~*" => Location::Regex(Pattern::parse(rest, true).expect("valid")),
            _ if text.starts_with('@') => Location::Named(text.into()),
            _ => Location::Prefix {
                path: text.into(),
                stop_regex: false,
            },
        }
    }

    #[test]
    fn nginx_search_order() {
        let routes = [
            loc("/"),                // 0
            loc("= /exact"),         // 1
            loc("^~ /static/"),      // 2
            loc(r"~* \.(png|jpg)$"), // 3
            loc(r"~ ^/api/(\d+)$"),  // 4
            loc("/api/"),            // 5
            loc("@app"),             // 6
            loc(r"~ ^/api/"),        // 7
        ];
        let slash = [false, false, false, false, false, true, false, false];
        let index = LocationIndex::new(routes.iter().zip(slash));
        let regex_of = |i: usize| match &routes[i] {
            Location::Regex(p) => Some(p.regex()),
            _ => None,
        };
        let at = |path: &str| match index.find(path, regex_of) {
            Found::Route(i, _) => format!("{i}"),
            Found::AddSlash(i) => format!("slash {i}"),
            Found::Nothing => "none".into(),
        };
        assert_eq!(at("/exact"), "1");
        assert_eq!(at("/exact/x"), "0");
        assert_eq!(at("/static/a.png"), "2", "^~ stops the regex search");
        assert_eq!(at("/img/a.PNG"), "3", "~* ignores case");
        assert_eq!(at("/api/42"), "4", "regexes in file order");
        assert_eq!(at("/api/x"), "7", "a regex beats the longest prefix");
        assert_eq!(at("/api"), "slash 5");
        assert_eq!(at("/other"), "0");
        assert_eq!(at("/@app"), "0", "named locations are never matched");
        assert_eq!(index.named("@app"), Some(6));
        match index.find("/api/7", regex_of) {
            Found::Route(4, c) => {
                let vars_uri = crate::config::template::Template::parse("$1", &[]).expect("valid");
                let vars = super::super::vars::Vars {
                    scheme: "http",
                    host: "h",
                    request_uri: "/api/7",
                    uri: "/api/7",
                    args: None,
                    remote_addr: std::net::IpAddr::from([127, 0, 0, 1]),
                    method: "GET",
                    captures: &c,
                };
                assert_eq!(super::super::vars::render(&vars_uri, &vars), "7");
            }
            other => panic!("{other:?}"),
        }
    }
}
