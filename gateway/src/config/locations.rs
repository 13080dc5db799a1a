//! NGINX's model in the route table: how a route matches (`location`), what
//! rewrites its path (`rewrite`), who may reach it (`access`), and what
//! answers it when it is not a proxy (`return`). The schema is
//! [`super::schema::RouteSection`]; the checks are here, one per key.

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::error::{Checker, ConfigError};
use super::pattern::Pattern;
use super::template::Template;

/// How a route matches the request path, NGINX's `location` modifiers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "match", content = "path", rename_all = "snake_case")]
pub(crate) enum Location {
    /// `= /path`: this path only; wins at once.
    Exact(String),
    /// `/path` (or `^~ /path`): the longest matching prefix; with
    /// `stop_regex` (`^~`) the regexes are not tried when it is the longest.
    Prefix {
        /// The prefix.
        path: String,
        /// `^~`.
        stop_regex: bool,
    },
    /// `~ regex` / `~* regex`: tried in file order after the prefixes.
    Regex(Pattern),
    /// `@name`: reachable only from inside (`error_page`, `try_files`).
    Named(String),
}

impl Location {
    /// The named groups its regex defines.
    pub(crate) fn groups(&self) -> Vec<&str> {
        match self {
            Location::Regex(p) => p.group_names().collect(),
            _ => Vec::new(),
        }
    }
}

/// Parse a `location` value as NGINX writes it after the keyword.
pub(super) fn parse_location(text: &str) -> Result<Location, String> {
    let text = text.trim();
    let (modifier, rest) = match text.split_once(char::is_whitespace) {
        Some((m, rest)) if ["=", "^~", "~", "~*"].contains(&m) => (m, rest.trim()),
        _ => ("", text),
    };
    let path = |p: &str| -> Result<String, String> {
        if !p.starts_with('/') {
            return Err(format!(
                "`{p}` must start with `/` (or use `~`, `~*` or `@name`)"
            ));
        }
        match crate::path::normalize(p) {
            Ok(n) if n == p => Ok(n),
            _ => Err(format!(
                "`{p}` is not a normalised path (no `//`, `.`, `..` or escapes other than reserved characters)"
            )),
        }
    };
    match modifier {
        "=" => Ok(Location::Exact(path(rest)?)),
        "^~" => Ok(Location::Prefix {
            path: path(rest)?,
            stop_regex: true,
        }),
        "~" => Ok(Location::Regex(Pattern::parse(rest, false)?)),
        "~*" => Ok(Location::Regex(Pattern::parse(rest, true)?)),
        _ => match rest.strip_prefix('@') {
            Some(name) if !name.is_empty() && !name.contains(char::is_whitespace) => {
                Ok(Location::Named(rest.to_string()))
            }
            Some(_) => Err(format!("`{rest}`: a named location is `@name`")),
            None => Ok(Location::Prefix {
                path: path(rest)?,
                stop_regex: false,
            }),
        },
    }
}

/// `[[routes.rewrite]]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RewriteSection {
    /// The regex tested against the path.
    pub(crate) regex: String,
    /// What the path becomes (variables and captures allowed).
    pub(crate) replacement: String,
    /// `last`, `break`, `redirect` or `permanent` (default: none).
    pub(crate) flag: Option<RewriteFlag>,
}

/// NGINX's `rewrite` flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RewriteFlag {
    /// No flag: the next rewrite runs on the new path, then the location
    /// is searched again.
    #[default]
    None,
    /// Stop rewriting and search the location again with the new path.
    Last,
    /// Stop rewriting and stay in this location with the new path.
    Break,
    /// `302` to the replacement.
    Redirect,
    /// `301` to the replacement.
    Permanent,
}

/// A validated `rewrite`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct RewriteRule {
    /// The regex.
    pub(crate) regex: Pattern,
    /// The replacement.
    pub(crate) replacement: Template,
    /// The flag.
    pub(crate) flag: RewriteFlag,
}

/// `[routes.return]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReturnSection {
    /// The status (`301`, `200`, `404`, ...).
    pub(crate) status: u16,
    /// For a redirect status: the `Location` (variables allowed).
    pub(crate) location: Option<String>,
    /// For another status: a short body (variables allowed).
    pub(crate) body: Option<String>,
}

/// A validated `return`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ReturnConfig {
    /// The status.
    pub(crate) status: u16,
    /// The redirect's `Location`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) location: Option<Template>,
    /// The body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) body: Option<Template>,
}

/// `return = { status = 444 }`: NGINX's "close the connection without an
/// answer" (HTTP/2: the stream is reset).
pub(crate) const CLOSE_WITHOUT_ANSWER: u16 = 444;

/// Whether `status` is one `return` answers with a `Location`.
pub(crate) fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// One `allow` / `deny` rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct AccessRule {
    /// `allow` (else `deny`).
    pub(crate) allow: bool,
    /// The network; `None` is `all`.
    #[serde(serialize_with = "serialize_net")]
    pub(crate) network: Option<IpNet>,
}

fn serialize_net<S: serde::Serializer>(net: &Option<IpNet>, s: S) -> Result<S::Ok, S::Error> {
    match net {
        Some(n) => s.serialize_str(&n.to_string()),
        None => s.serialize_str("all"),
    }
}

/// Validate `access` (`["allow 10.0.0.0/8", "deny all"]`).
pub(super) fn validate_access(
    c: &Checker<'_>,
    key: &str,
    rules: &[String],
) -> Result<Vec<AccessRule>, ConfigError> {
    rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let refuse = |why: String| c.err(format!("{key}.access[{i}]"), why);
            let (verb, what) = rule.trim().split_once(char::is_whitespace).ok_or_else(|| {
                refuse(format!(
                    "`{rule}`: expected `allow ADDRESS|CIDR|all` or `deny ADDRESS|CIDR|all`"
                ))
            })?;
            let allow = match verb {
                "allow" => true,
                "deny" => false,
                _ => return Err(refuse(format!("`{verb}`: expected `allow` or `deny`"))),
            };
            let what = what.trim();
            let network = match what {
                "all" => None,
                _ => Some(
                    what.parse::<IpNet>()
                        .or_else(|_| what.parse::<std::net::IpAddr>().map(IpNet::from))
                        .map_err(|_| {
                            refuse(format!(
                                "`{what}` is not an address, a CIDR network or `all`"
                            ))
                        })?,
                ),
            };
            Ok(AccessRule { allow, network })
        })
        .collect()
}

/// Validate `rewrite`; `groups` are the location's named groups.
pub(super) fn validate_rewrites(
    c: &Checker<'_>,
    key: &str,
    rules: &[RewriteSection],
    groups: &[&str],
) -> Result<Vec<RewriteRule>, ConfigError> {
    let mut out = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        let at = format!("{key}.rewrite[{i}]");
        let regex = Pattern::parse(&r.regex, false).map_err(|p| c.err(format!("{at}.regex"), p))?;
        let mut names: Vec<&str> = groups.to_vec();
        names.extend(regex.group_names());
        let replacement = Template::parse(&r.replacement, &names)
            .map_err(|p| c.err(format!("{at}.replacement"), p))?;
        out.push(RewriteRule {
            regex,
            replacement,
            flag: r.flag.unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Validate `return`; `groups` are the named groups of the route's regexes.
pub(super) fn validate_return(
    c: &Checker<'_>,
    key: &str,
    r: &ReturnSection,
    groups: &[&str],
) -> Result<ReturnConfig, ConfigError> {
    let at = format!("{key}.return");
    if r.status == CLOSE_WITHOUT_ANSWER {
        // NGINX's 444: the connection is closed, nothing is sent.
        if r.location.is_some() || r.body.is_some() {
            return Err(c.err(
                at,
                "444 closes the connection without an answer: no `location` or `body`",
            ));
        }
        return Ok(ReturnConfig {
            status: r.status,
            location: None,
            body: None,
        });
    }
    if !(200..=599).contains(&r.status) {
        return Err(c.err(
            format!("{at}.status"),
            format!(
                "{} is not a status the gateway answers with (200-599, or 444 to close the connection without an answer)",
                r.status
            ),
        ));
    }
    let template = |field: &str, text: &str| {
        Template::parse(text, groups).map_err(|p| c.err(format!("{at}.{field}"), p))
    };
    match (is_redirect(r.status), &r.location, &r.body) {
        (true, None, _) => Err(c.err(
            format!("{at}.location"),
            format!("required with the redirect status {}", r.status),
        )),
        (true, Some(_), Some(_)) => Err(c.err(
            format!("{at}.body"),
            "a redirect has a `location`, not a `body`",
        )),
        (false, Some(_), _) => Err(c.err(
            format!("{at}.location"),
            format!(
                "only a redirect status (301, 302, 303, 307, 308) has a `location`, not {}",
                r.status
            ),
        )),
        (true, Some(l), None) => Ok(ReturnConfig {
            status: r.status,
            location: Some(template("location", l)?),
            body: None,
        }),
        (false, None, body) => Ok(ReturnConfig {
            status: r.status,
            location: None,
            body: body.as_deref().map(|b| template("body", b)).transpose()?,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_as_nginx_writes_them() {
        assert_eq!(parse_location("= /x"), Ok(Location::Exact("/x".into())));
        assert_eq!(
            parse_location("^~ /static/"),
            Ok(Location::Prefix {
                path: "/static/".into(),
                stop_regex: true
            })
        );
        assert_eq!(
            parse_location("/api"),
            Ok(Location::Prefix {
                path: "/api".into(),
                stop_regex: false
            })
        );
        assert_eq!(parse_location("@app"), Ok(Location::Named("@app".into())));
        assert!(matches!(
            parse_location(r"~* \.png$"),
            Ok(Location::Regex(_))
        ));
        assert!(parse_location("x/").is_err());
        assert!(parse_location("= /a/../b").is_err());
        assert!(parse_location("@").is_err());
        assert!(
            parse_location(r"~ ^/(a)\1")
                .expect_err("backreference")
                .contains("backreferences")
        );
    }
}

/// `error_pages` entry as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ErrorPageSection {
    /// The statuses it answers (300-599).
    pub(crate) status: Vec<u16>,
    /// The internal URI (`/errors/404.html`) or named route (`@fallback`)
    /// that answers them.
    pub(crate) uri: String,
    /// The status sent instead of the original (NGINX's `=200`).
    pub(crate) code: Option<u16>,
}

/// A validated error page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ErrorPage {
    /// The statuses.
    pub(crate) status: Vec<u16>,
    /// Where the page comes from.
    pub(crate) uri: String,
    /// The status sent, when not the original.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) code: Option<u16>,
}

/// Validate `error_pages`.
pub(super) fn validate_error_pages(
    c: &Checker<'_>,
    key: &str,
    pages: &[ErrorPageSection],
) -> Result<Vec<ErrorPage>, ConfigError> {
    let mut out: Vec<ErrorPage> = Vec::new();
    for (i, p) in pages.iter().enumerate() {
        let at = format!("{key}.error_pages[{i}]");
        if p.status.is_empty() {
            return Err(c.err(format!("{at}.status"), "list at least one status"));
        }
        for s in &p.status {
            if !(300..=599).contains(s) {
                return Err(c.err(
                    format!("{at}.status"),
                    format!("{s} is not an error status (300-599)"),
                ));
            }
            if out.iter().any(|o| o.status.contains(s)) {
                return Err(c.err(
                    format!("{at}.status"),
                    format!("{s} has an error page already"),
                ));
            }
        }
        let named = p.uri.starts_with('@') && p.uri.len() > 1;
        let path = p.uri.split('?').next().unwrap_or_default();
        let valid_path =
            path.starts_with('/') && crate::path::normalize(path).is_ok_and(|n| n == path);
        if !(named || valid_path) {
            return Err(c.err(format!("{at}.uri"), format!("`{}` is neither a normalised path (`/errors/404.html`) nor a named route (`@fallback`)", p.uri)));
        }
        if let Some(code) = p.code
            && !(200..=599).contains(&code)
        {
            return Err(c.err(
                format!("{at}.code"),
                format!("{code} is not a status (200-599)"),
            ));
        }
        out.push(ErrorPage {
            status: p.status.clone(),
            uri: p.uri.clone(),
            code: p.code,
        });
    }
    Ok(out)
}
