//! The directives a `location` (or its `server` and `http`) writes, read
//! one by one: how a location matches, `return`, `rewrite`, the content
//! directives checked where they are written, `expires`, `allow`/`deny`
//! targets and `error_page`.

use super::super::parse::Directive;
use super::super::values;
use super::model::{ErrorPage, Return, Rewrite};
use crate::config::pattern::Pattern;
use crate::config::template::Template;

/// Directives read by the routes wherever they are written (`http`,
/// `server`, `location`), checked at the place they are written.
pub const CONTENT_INHERITED: &[&str] = &[
    "root",
    "index",
    "expires",
    "gzip_static",
    "allow",
    "deny",
    "auth_basic",
    "auth_basic_user_file",
    "error_page",
    "proxy_intercept_errors",
    "proxy_redirect",
    "satisfy",
    "autoindex",
    "absolute_redirect",
    "port_in_redirect",
    "server_name_in_redirect",
    "etag",
    "if_modified_since",
    "recursive_error_pages",
];

/// NGINX's location modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `location /p`.
    Prefix,
    /// `location ^~ /p`.
    Caret,
    /// `location = /p`.
    Exact,
    /// `location ~ re` (`~*`: without case).
    Regex {
        /// `~*`.
        caseless: bool,
    },
    /// `location @name`.
    Named,
}

impl Kind {
    /// The route table's `location` value.
    pub fn text(self, path: &str) -> String {
        match self {
            Kind::Prefix | Kind::Named => path.to_string(),
            Kind::Caret => format!("^~ {path}"),
            Kind::Exact => format!("= {path}"),
            Kind::Regex { caseless: false } => format!("~ {path}"),
            Kind::Regex { caseless: true } => format!("~* {path}"),
        }
    }
}

/// The modifier and the path (or regex, or `@name`) of a `location`.
pub fn kind(d: &Directive) -> Result<(Kind, String), String> {
    let words: Vec<(&str, bool)> = d.args.iter().map(|w| (w.text.as_str(), w.quoted)).collect();
    let (kind, path) = match words.as_slice() {
        [("=", false), (p, _)] => (Kind::Exact, *p),
        [("^~", false), (p, _)] => (Kind::Caret, *p),
        [("~", false), (p, _)] => (Kind::Regex { caseless: false }, *p),
        [("~*", false), (p, _)] => (Kind::Regex { caseless: true }, *p),
        [(p, false)] if p.starts_with("~*") && p.len() > 2 => {
            (Kind::Regex { caseless: true }, &p[2..])
        }
        [(p, false)] if p.starts_with("^~") && p.len() > 2 => (Kind::Caret, &p[2..]),
        [(p, false)] if p.starts_with('~') && p.len() > 1 => {
            (Kind::Regex { caseless: false }, &p[1..])
        }
        [(p, false)] if p.starts_with('=') && p.len() > 1 => (Kind::Exact, &p[1..]),
        [(p, false)] if p.starts_with('@') && p.len() > 1 => (Kind::Named, *p),
        [(p, _)] => (Kind::Prefix, *p),
        _ => return Err("a location has a modifier and a path".into()),
    };
    match kind {
        Kind::Regex { caseless } => {
            Pattern::parse(path, caseless)?;
        }
        Kind::Named => {
            if path.contains(char::is_whitespace) {
                return Err(format!("`{path}` is not a name"));
            }
        }
        _ => {
            if !path.starts_with('/') {
                return Err(format!(
                    "`{path}` does not start with `/`: it never matches a normalised path"
                ));
            }
            if crate::path::normalize(path).ok().as_deref() != Some(path) {
                return Err(format!("`{path}` is not a normalised path"));
            }
        }
    }
    Ok((kind, path.to_string()))
}

/// A text with request variables the route table knows.
pub(super) fn template(text: &str, groups: &[String]) -> Result<(), String> {
    let groups: Vec<&str> = groups.iter().map(String::as_str).collect();
    Template::parse(&values::without_placeholders(text), &groups).map(|_| ())
}

fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// `return CODE [TEXT]`, `return CODE URL`, `return URL`.
pub fn return_of(d: &Directive, groups: &[String]) -> Result<Return, String> {
    let args = d.arg_texts();
    let (status, text) = match args.as_slice() {
        [code] if code.parse::<u16>().is_ok() => (code.parse::<u16>().unwrap_or(0), None),
        [url] => (302, Some(*url)),
        [code, text] => (
            code.parse::<u16>()
                .map_err(|_| format!("`{code}` is not a status"))?,
            Some(*text),
        ),
        _ => return Err("`return` takes a status and a text or URL".into()),
    };
    if status == 444 {
        // Closes the connection without an answer; a text after it is
        // never sent.
        return Ok(Return {
            status,
            location: None,
            body: None,
        });
    }
    if !(200..=599).contains(&status) {
        return Err(format!("{status} is not a status the gateway answers with"));
    }
    if let Some(t) = text {
        template(t, groups)?;
    }
    if is_redirect(status) {
        match text {
            Some(url) => Ok(Return {
                status,
                location: Some(url.to_string()),
                body: None,
            }),
            None => Err(format!(
                "`return {status}` without a URL sends no Location; the gateway's redirects have one"
            )),
        }
    } else {
        Ok(Return {
            status,
            location: None,
            body: text.map(str::to_string),
        })
    }
}

/// `rewrite REGEX REPLACEMENT [FLAG]`.
pub fn rewrite_of(d: &Directive, groups: &mut Vec<String>) -> Result<Rewrite, String> {
    let args = d.arg_texts();
    let (regex, replacement, flag) = match args.as_slice() {
        [r, p] => (*r, *p, None),
        [r, p, f] if matches!(*f, "last" | "break" | "redirect" | "permanent") => {
            (*r, *p, Some(f.to_string()))
        }
        _ => return Err("`rewrite` takes a regex, a replacement and a flag".into()),
    };
    let pattern = Pattern::parse(regex, false)?;
    groups.extend(pattern.group_names().map(str::to_string));
    template(replacement, groups)?;
    Ok(Rewrite {
        regex: regex.to_string(),
        replacement: replacement.to_string(),
        flag,
    })
}

/// Whether a directive of [`CONTENT_INHERITED`] (or `alias`,
/// `try_files`, `internal`) can be translated, and why not; checked where
/// it is written.
pub fn check_content(d: &Directive) -> Result<(), String> {
    let args = d.arg_texts();
    let no_vars = |t: &str| {
        if values::has_variable(&values::without_placeholders(t)) {
            Err(values::variable_why(&format!("`{}` values", d.name), t))
        } else {
            Ok(())
        }
    };
    match (d.name.as_str(), args.as_slice()) {
        ("root" | "alias", [p]) => no_vars(p),
        ("index", names) if !names.is_empty() => {
            for n in names {
                no_vars(n)?;
                if n.contains(['/', '\\', '\0']) || matches!(*n, "" | "." | "..") {
                    return Err(format!(
                        "the index `{n}` is not a plain file name (the gateway's index files are names in the directory)"
                    ));
                }
            }
            Ok(())
        }
        ("try_files", entries) if entries.len() >= 2 => {
            for (i, e) in entries.iter().enumerate() {
                let last = i + 1 == entries.len();
                let named = e.strip_prefix('@').is_some_and(|n| {
                    !n.is_empty()
                        && n.chars()
                            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.'))
                });
                let code = e
                    .strip_prefix('=')
                    .is_some_and(|c| c.parse::<u16>().is_ok_and(|c| (200..=599).contains(&c)));
                if !last && e.contains('?') {
                    return Err(format!(
                        "the try_files candidate `{e}` carries a query: only the fallback may"
                    ));
                }
                if !(e.starts_with('/') || e.starts_with("$uri") || last && (named || code)) {
                    return Err(format!(
                        "the try_files entry `{e}` is neither a path, `$uri...`, nor (last) `@name` or `=code`"
                    ));
                }
                if named || code && last {
                    continue;
                }
                if e.contains(['\0', '\\', '#']) || e.chars().any(char::is_whitespace) {
                    return Err(format!("`{e}` contains a character a URI cannot have"));
                }
                let (path, query) = e.split_once('?').unwrap_or((e, ""));
                if path.split('/').any(|seg| seg == ".." || seg == ".") {
                    return Err(format!("`{e}` has `.` or `..` segments"));
                }
                let names = |t: &str| -> Vec<String> {
                    t.split('$')
                        .skip(1)
                        .map(|after| {
                            after
                                .chars()
                                .take_while(|ch| ch.is_ascii_alphanumeric() || *ch == '_')
                                .collect()
                        })
                        .collect()
                };
                if let Some(n) = names(path).iter().find(|n| *n != "uri") {
                    return Err(format!("`${n}` in a try_files path has no equivalent (only `$uri`)"));
                }
                if let Some(n) = names(query)
                    .iter()
                    .find(|n| !matches!(n.as_str(), "args" | "query_string" | "uri"))
                {
                    return Err(format!(
                        "`${n}` in a try_files query has no equivalent (`$args`, `$query_string`, `$uri`)"
                    ));
                }
            }
            Ok(())
        }
        ("internal", []) => Ok(()),
        ("expires", [t]) => expires(t).map(|_| ()),
        ("expires", _) => Err("`expires modified` (from the file's time) has no equivalent".into()),
        ("gzip_static", ["on" | "off"]) => Ok(()),
        ("gzip_static", ["always"]) => {
            Err("`gzip_static always` (whatever the client accepts) has no equivalent".into())
        }
        ("allow" | "deny", [who]) => access_target(who).map(|_| ()),
        ("auth_basic", ["off"]) => Ok(()),
        ("auth_basic", [realm]) => {
            no_vars(realm)?;
            if realm.len() > 200 || realm.contains(['"', '\\']) || !realm.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                Err("the realm must be up to 200 printable ASCII characters without `\"` or `\\`".into())
            } else {
                Ok(())
            }
        }
        ("auth_basic_user_file", [f]) => no_vars(f),
        ("error_page", _) => error_page(d).map(|_| ()),
        ("proxy_intercept_errors", ["on" | "off"]) => Ok(()),
        ("proxy_redirect", ["off" | "default"]) => Ok(()),
        ("proxy_redirect", [from, to]) => {
            if from.starts_with('~') {
                return Err("regex `proxy_redirect` has no equivalent".into());
            }
            no_vars(from)?;
            no_vars(to)
        }
        ("satisfy", ["all"]) => Ok(()),
        ("satisfy", ["any"]) => Err(
            "`satisfy any` (the address or the password) has no equivalent: the gateway requires both"
                .into(),
        ),
        ("autoindex", ["off"]) => Ok(()),
        ("autoindex", ["on"]) => Err("directory listings have no equivalent".into()),
        ("absolute_redirect" | "port_in_redirect" | "server_name_in_redirect", ["on" | "off"]) => {
            // The gateway sends its own redirects relative: browsers resolve both alike.
            Ok(())
        }
        ("etag", ["on"]) => Ok(()),
        ("etag", ["off"]) => Err("the gateway always sends an ETag with files".into()),
        ("if_modified_since", ["exact"]) => Ok(()),
        ("if_modified_since", [_]) => {
            Err("the gateway compares If-Modified-Since exactly (NGINX's default)".into())
        }
        ("recursive_error_pages", ["off"]) => Ok(()),
        ("recursive_error_pages", ["on"]) => {
            Err("error pages of error pages have no equivalent".into())
        }
        _ => Err(format!("`{} {}` is not understood", d.name, args.join(" "))),
    }
}

/// `expires` as the files table writes it; `None` for `off`.
pub(super) fn expires(t: &str) -> Result<Option<String>, String> {
    match t {
        "off" => return Ok(None),
        "epoch" | "max" => return Ok(Some(t.to_string())),
        _ => {}
    }
    let (sign, rest) = match t.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", t.strip_prefix('+').unwrap_or(t)),
    };
    let ms = values::time_ms(rest).ok_or_else(|| format!("`{t}` is not a time"))?;
    if ms % 1000 != 0 {
        return Err(format!("`{t}`: expiry below a second has no equivalent"));
    }
    let text = format!("{sign}{}s", ms / 1000);
    crate::config::files::parse_expires(&text)?;
    Ok(Some(text))
}

/// An `allow`/`deny` target: `all`, an address or a network.
pub(super) fn access_target(who: &str) -> Result<String, String> {
    if who == "all" {
        return Ok(who.to_string());
    }
    if let Ok(n) = who.parse::<ipnet::IpNet>() {
        return Ok(n.to_string());
    }
    if let Ok(ip) = who.parse::<std::net::IpAddr>() {
        return Ok(ip.to_string());
    }
    Err(format!("`{who}` is not an address or network"))
}

/// `error_page CODE... [=[CODE]] URI`.
pub(super) fn error_page(d: &Directive) -> Result<ErrorPage, String> {
    let args = d.arg_texts();
    let Some((uri, rest)) = args.split_last() else {
        return Err("`error_page` needs statuses and a URI".into());
    };
    let mut status = Vec::new();
    let mut code = None;
    for a in rest {
        if let Some(c) = a.strip_prefix('=') {
            if c.is_empty() {
                return Err(
                    "`=` (the status the page's own answer has) has no equivalent; write `=CODE`"
                        .into(),
                );
            }
            code = Some(
                c.parse::<u16>()
                    .ok()
                    .filter(|c| (200..=599).contains(c))
                    .ok_or_else(|| format!("`{a}` is not a status"))?,
            );
        } else {
            let s = a
                .parse::<u16>()
                .ok()
                .filter(|s| (300..=599).contains(s))
                .ok_or_else(|| format!("`{a}` is not an error status"))?;
            status.push(s);
        }
    }
    if status.is_empty() {
        return Err("`error_page` needs statuses".into());
    }
    if uri.starts_with("http://") || uri.starts_with("https://") || uri.starts_with('$') {
        return Err("an error page that redirects elsewhere has no equivalent".into());
    }
    let path = uri.split('?').next().unwrap_or_default();
    let named = uri.starts_with('@') && uri.len() > 1;
    if !named && crate::path::normalize(path).ok().as_deref() != Some(path) {
        return Err(format!("`{uri}` is not a normalised path"));
    }
    Ok(ErrorPage {
        status,
        uri: uri.to_string(),
        code,
        directive: Some(d.clone()),
    })
}

pub(super) fn innermost<'a>(levels: &[&'a [Directive]], name: &str) -> Option<&'a Directive> {
    levels
        .iter()
        .rev()
        .find_map(|l| l.iter().rev().find(|d| d.name == name))
}

/// The directives named `names` of the innermost level that has any.
pub(super) fn innermost_of<'a>(levels: &[&'a [Directive]], names: &[&str]) -> Vec<&'a Directive> {
    levels
        .iter()
        .rev()
        .map(|l| {
            l.iter()
                .filter(|d| names.contains(&d.name.as_str()))
                .collect::<Vec<_>>()
        })
        .find(|v| !v.is_empty())
        .unwrap_or_default()
}

/// A regex-safe text.
pub(super) fn escape(text: &str) -> String {
    regex::escape(text)
}
