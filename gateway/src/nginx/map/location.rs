//! One `location` block as a route: how it matches (`=`, prefix, `^~`,
//! `~`, `~*`, `@name`), what answers it (`return`, `proxy_pass` with
//! NGINX's prefix-replacement rules, or static files from `root`/`alias`),
//! and what it inherits from `server` and `http` (rewrites, access rules,
//! basic auth, error pages, header rules, limits).

use std::collections::BTreeMap;
use std::path::Path;

use super::super::emit::{Section, Value};
use super::super::parse::Directive;
use super::super::values;
use super::model::{ErrorPage, Return, Rewrite, Route, Upstream};
use super::route::{self, Context};
use super::{Prefixes, Report, UpstreamNames, catalog, cors, upstream};
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
fn template(text: &str, groups: &[String]) -> Result<(), String> {
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
        return Err(
            "`return 444` closes the connection without an answer; the gateway always answers"
                .into(),
        );
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
                if n.contains('/') || n.is_empty() {
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
fn expires(t: &str) -> Result<Option<String>, String> {
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
fn access_target(who: &str) -> Result<String, String> {
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
fn error_page(d: &Directive) -> Result<ErrorPage, String> {
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

fn innermost<'a>(levels: &[&'a [Directive]], name: &str) -> Option<&'a Directive> {
    levels
        .iter()
        .rev()
        .find_map(|l| l.iter().rev().find(|d| d.name == name))
}

/// The directives named `names` of the innermost level that has any.
fn innermost_of<'a>(levels: &[&'a [Directive]], names: &[&str]) -> Vec<&'a Directive> {
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
fn escape(text: &str) -> String {
    regex::escape(text)
}

/// Everything a location needs from outside itself.
pub struct Env<'a> {
    /// `http` and `server` levels.
    pub outer: [&'a [Directive]; 2],
    /// Upstream blocks by name.
    pub names: &'a UpstreamNames,
    /// Zones, WebSocket variables, the port.
    pub ctx: &'a Context,
    /// Where relative paths start.
    pub prefixes: &'a Prefixes,
}

/// Translate a `location`: the route, or the comments saying why not.
pub fn translate(
    d: &Directive,
    env: &Env<'_>,
    upstreams: &mut BTreeMap<String, Upstream>,
    report: &mut Report,
) -> Result<Route, Vec<String>> {
    let (kind, path) = match kind(d) {
        Ok(k) => k,
        Err(why) => return Err(vec![report.untranslated(d, &why)]),
    };
    let mut comments = vec![format!(
        "location {} ({})",
        d.arg_texts().join(" "),
        report.place(d)
    )];
    let own = d.children();
    let levels: [&[Directive]; 3] = [env.outer[0], env.outer[1], own];
    let mut groups: Vec<String> = match kind {
        Kind::Regex { caseless } => Pattern::parse(&path, caseless)
            .map(|p| p.group_names().map(str::to_string).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let mut pass: Option<&Directive> = None;
    let mut ret: Option<Return> = None;
    let mut rewrites: Vec<Rewrite> = Vec::new();
    let mut cors_section = None;
    let mut internal = false;
    let mut try_files: Option<&Directive> = None;
    let mut alias: Option<&Directive> = None;
    // `return` and `break` end the rewrite phase: what follows never runs.
    let mut rewriting = true;
    for c in own {
        let mut fail = |why: &str| comments.push(report.untranslated(c, why));
        match c.name.as_str() {
            "proxy_pass" => pass = Some(c),
            "return" if rewriting => match return_of(c, &groups) {
                Ok(r) => {
                    ret = Some(r);
                    rewriting = false;
                }
                Err(why) => fail(&why),
            },
            "rewrite" if rewriting => match rewrite_of(c, &mut groups) {
                Ok(r) => rewrites.push(r),
                Err(why) => fail(&why),
            },
            "return" | "rewrite" => {}
            "break" if c.args.is_empty() => rewriting = false,
            "if" if cors::is_preflight_if(c) => match cors::section(c, own) {
                Ok(s) => cors_section = Some(s),
                Err(why) => fail(&why),
            },
            "internal" => internal = true,
            "try_files" => match check_content(c) {
                Ok(()) => try_files = Some(c),
                Err(why) => fail(&why),
            },
            "alias" => match check_content(c) {
                Ok(()) => alias = Some(c),
                Err(why) => fail(&why),
            },
            "location" => fail("a location inside a location is not translated: write it beside its parent"),
            name if CONTENT_INHERITED.contains(&name) => {
                if let Err(why) = check_content(c) {
                    fail(&why);
                }
            }
            name if route::INHERITED.contains(&name) => {
                if let Err(why) = route::check(c, env.ctx) {
                    fail(&why);
                }
            }
            "proxy_next_upstream"
                if matches!(c.arg_texts().as_slice(), ["error", "timeout"] | ["error"]) => {}
            "access_log" if c.arg(0) == "off" => comments.push(format!(
                "{}: access_log off: the gateway logs every route (its access log is switched for the whole table)",
                report.place(c)
            )),
            "access_log" | "log_not_found" => {}
            name if catalog::needs_no_translation(name) => {}
            name => fail(catalog::why_not(name)),
        }
    }
    let mut r = Route {
        prefix: String::new(),
        location: Some(kind.text(&path)),
        rewrite: rewrites,
        internal,
        ..Route::default()
    };
    if let Some(ret) = ret {
        r.ret = Some(ret);
    } else if let Some(pass) = pass {
        if let Err(why) = proxy(pass, kind, &path, env, upstreams, &mut r) {
            comments.push(report.untranslated(pass, &why));
            return Err(comments);
        }
        if let Some(u) = proxy_timeout(&levels)
            && let Some(up) = upstreams.get_mut(&r.upstream)
        {
            up.connect_timeout = Some(u);
        }
    } else {
        match files(&levels, alias, try_files, kind, env.prefixes) {
            Ok(s) => r.files = Some(s),
            Err((_, None)) if try_files.is_none() => {
                // NGINX's default root (`html` under the prefix) is not
                // there: NGINX finds no file, so every path it serves is 404.
                comments.push(format!(
                    "No root: NGINX's default `{}/html` does not exist, so files answer 404.",
                    env.prefixes.prefix.display()
                ));
                if r.rewrite.is_empty() {
                    r.ret = Some(Return {
                        status: 404,
                        location: None,
                        body: None,
                    });
                }
            }
            Err((why, at)) => {
                comments.push(report.untranslated(at.unwrap_or(d), &why));
                r.ret = Some(Return {
                    status: 404,
                    location: None,
                    body: None,
                });
            }
        }
    }
    r.comments = comments;
    policies(&levels, env, &mut r, report);
    route::apply(&levels, env.ctx, &mut r);
    if r.upstream.is_empty() {
        r.upgrades = false;
    }
    // `proxy_redirect off` where the gateway rewrites nothing anyway.
    if !r.upstream_host
        && r.proxy_redirect.as_ref().is_some_and(|s| {
            s.entries.len() == 1 && s.entries.iter().all(|(_, v, _)| *v == Value::Bool(false))
        })
    {
        r.proxy_redirect = None;
    }
    if let Some(files) = r.files.as_mut() {
        cache_control_of_files(&levels, files, &mut r.headers.response_add);
    }
    if let Some(c) = cors_section {
        // The CORS policy writes these headers itself.
        r.headers
            .response_add
            .retain(|(name, _)| !name.to_ascii_lowercase().starts_with("access-control-"));
        r.cors = Some(c);
    }
    Ok(r)
}

/// `add_header Cache-Control ...` without `always` on a files route: NGINX
/// sends it on successful answers only, as the files table's
/// `cache_control` does (after `expires`'s `max-age`, as NGINX's two
/// headers read together).
fn cache_control_of_files(
    levels: &[&[Directive]; 3],
    files: &mut Section,
    response_add: &mut Vec<(String, String)>,
) {
    let headers = innermost_of(levels, &["add_header"]);
    let Some(d) = headers
        .iter()
        .find(|d| d.arg(0).eq_ignore_ascii_case("cache-control"))
    else {
        return;
    };
    let value = d.arg(1).trim();
    let expires = files.entries.iter().any(|(k, _, _)| k == "expires");
    let max_age = value
        .split(',')
        .any(|x| x.trim().to_ascii_lowercase().starts_with("max-age"));
    if d.arg(2) == "always"
        || value.is_empty()
        || !value.is_ascii()
        || http::HeaderValue::from_str(value).is_err()
        || expires && max_age
    {
        return;
    }
    files.set("cache_control", value);
    response_add.retain(|(n, _)| !n.eq_ignore_ascii_case("cache-control"));
}

fn proxy_timeout(levels: &[&[Directive]; 3]) -> Option<String> {
    levels[1..]
        .iter()
        .rev()
        .find_map(|l| l.iter().rev().find(|x| x.name == "proxy_connect_timeout"))
        .and_then(|x| values::time_ms(x.arg(0)))
        .filter(|ms| *ms > 0)
        .map(values::time_text)
}

/// `proxy_pass`: the upstream, and the path it receives as NGINX builds
/// it (the URI part replaces the matched prefix).
fn proxy(
    pass: &Directive,
    kind: Kind,
    path: &str,
    env: &Env<'_>,
    upstreams: &mut BTreeMap<String, Upstream>,
    r: &mut Route,
) -> Result<(), String> {
    let target = pass.arg(0);
    let rest = target
        .strip_prefix("http://")
        .ok_or("the gateway forwards to http:// upstreams only")?;
    let (address, uri) = match rest.find('/') {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    if values::has_request_variable(address) {
        return Err(values::variable_why("proxy_pass addresses", address));
    }
    r.upstream = upstream::for_address(address, env.names, upstreams)?;
    let uri_vars = uri.is_some_and(|u| values::has_variable(&values::without_placeholders(u)));
    match (kind, uri) {
        (_, None) => {
            // The request's path as it is (after rewrites).
            if kind == Kind::Prefix && path.ends_with('/') {
                r.location = None;
                r.prefix = path.to_string();
            }
        }
        (Kind::Named, Some(_)) => {
            return Err("a named location's proxy_pass has no URI part in NGINX".into());
        }
        (_, Some(u)) if uri_vars => {
            // NGINX sends exactly this URI: the client's query only where it says.
            let u = u.strip_suffix("$is_args$args").unwrap_or(u);
            if u.contains("$args") || u.contains("$query_string") || u.contains("$is_args") {
                return Err(
                    "a proxy_pass URI using the query other than at its end (`$is_args$args`)"
                        .into(),
                );
            }
            if !target.ends_with("$is_args$args") {
                return Err("a proxy_pass URI with variables sends no query unless it says `$is_args$args`; the gateway's upstream_path always keeps the client's".into());
            }
            template(u, &groups_of(kind, path))?;
            r.upstream_path = Some(u.to_string());
        }
        (Kind::Regex { .. }, Some(_)) => {
            return Err("NGINX refuses a URI part in a regex location's proxy_pass".into());
        }
        (Kind::Exact, Some(u)) => r.upstream_path = Some(u.to_string()),
        (Kind::Prefix | Kind::Caret, Some(u)) if !r.rewrite.is_empty() => {
            return Err(format!(
                "rewrites beside a proxy_pass URI (`{u}`) replacing the prefix have no equivalent"
            ));
        }
        (Kind::Prefix | Kind::Caret, Some(u)) if u == path => {}
        (Kind::Prefix, Some("/")) if path.ends_with('/') && path != "/" => {
            r.location = None;
            r.prefix = path.to_string();
            r.strip_prefix = true;
        }
        (Kind::Caret, Some("/")) if path.ends_with('/') && path != "/" => r.strip_prefix = true,
        (Kind::Prefix | Kind::Caret, Some(u)) => {
            // `location /p/ { proxy_pass http://a/x/; }`: `/p/y` goes as `/x/y`.
            r.rewrite.push(Rewrite {
                regex: format!("^{}(.*)$", escape(path)),
                replacement: format!("{u}$1"),
                flag: Some("break".into()),
            });
        }
    }
    Ok(())
}

fn groups_of(kind: Kind, path: &str) -> Vec<String> {
    match kind {
        Kind::Regex { caseless } => Pattern::parse(path, caseless)
            .map(|p| p.group_names().map(str::to_string).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The files table: `root` or `alias`, `index`, `try_files`, `expires`,
/// `gzip_static`; or why not (and the directive to blame).
fn files<'a>(
    levels: &[&'a [Directive]; 3],
    alias: Option<&'a Directive>,
    try_files: Option<&'a Directive>,
    kind: Kind,
    prefixes: &Prefixes,
) -> Result<Section, (String, Option<&'a Directive>)> {
    let ok = |d: &&Directive| check_content(d).is_ok();
    let mut s = Section::new("");
    let resolve = |p: &str| -> String {
        if Path::new(p).is_absolute() || p.starts_with("${") {
            p.to_string()
        } else {
            prefixes.prefix.join(p).display().to_string()
        }
    };
    let (key, dir, from) = match alias {
        Some(a) => {
            if matches!(kind, Kind::Regex { .. } | Kind::Named) {
                return Err((
                    "`alias` in a regex location (NGINX builds the file name from captures) has no equivalent".into(),
                    Some(a),
                ));
            }
            ("alias", resolve(a.arg(0)), Some(a))
        }
        None => {
            let root = innermost(levels, "root").filter(ok);
            ("root", resolve(root.map_or("html", |d| d.arg(0))), root)
        }
    };
    if !dir.starts_with("${") && !Path::new(&dir).is_dir() {
        return Err((
            format!(
                "the directory `{dir}` does not exist here (the gateway checks it): import where NGINX runs, or create it; the route answers 404 meanwhile"
            ),
            from,
        ));
    }
    s.set(key, dir);
    if let Some(index) = innermost(levels, "index").filter(ok) {
        let names = index.arg_texts();
        if names != ["index.html"] {
            s.set(
                "index",
                Value::Array(names.into_iter().map(Value::from).collect()),
            );
        }
    }
    if let Some(t) = try_files {
        s.set(
            "try_files",
            Value::Array(t.arg_texts().into_iter().map(Value::from).collect()),
        );
    }
    if let Some(e) = innermost(levels, "expires").filter(ok)
        && let Ok(Some(text)) = expires(e.arg(0))
    {
        s.set("expires", text);
    }
    if innermost(levels, "gzip_static")
        .filter(ok)
        .is_some_and(|d| d.arg(0) == "on")
    {
        s.set("precompressed", Value::Bool(true));
    }
    Ok(s)
}

/// Access rules, basic auth, error pages, `proxy_intercept_errors`,
/// `proxy_redirect`, inherited as NGINX inherits them.
fn policies(levels: &[&[Directive]; 3], env: &Env<'_>, r: &mut Route, report: &mut Report) {
    let ok = |d: &&Directive| check_content(d).is_ok();
    for d in innermost_of(levels, &["allow", "deny"]).into_iter() {
        match access_target(d.arg(0)) {
            Ok(who) => r.access.push(format!("{} {who}", d.name)),
            // Reported where it is written; refuse rather than open up.
            Err(_) => r.access.push("deny all".into()),
        }
    }
    let realm = innermost(levels, "auth_basic").filter(ok);
    if let Some(realm) = realm.filter(|d| d.arg(0) != "off") {
        match innermost(levels, "auth_basic_user_file").filter(ok) {
            Some(f) => {
                let file = env.prefixes.conf_path(f.arg(0));
                if file.starts_with("${") || Path::new(&file).is_file() {
                    r.basic_auth = Some((realm.arg(0).to_string(), file));
                } else {
                    let why = format!(
                        "the password file `{file}` does not exist here (the gateway reads it): the route refuses everyone (`deny all`) until it does"
                    );
                    r.comments.push(report.untranslated(f, &why));
                    r.access = vec!["deny all".into()];
                }
            }
            None => {
                let why = "`auth_basic` without a translatable `auth_basic_user_file`: the route refuses everyone (`deny all`)";
                r.comments.push(report.untranslated(realm, why));
                r.access = vec!["deny all".into()];
            }
        }
    }
    for d in innermost_of(levels, &["error_page"]) {
        if let Ok(mut page) = error_page(d) {
            page.status
                .retain(|s| !r.error_pages.iter().any(|p| p.status.contains(s)));
            if !page.status.is_empty() {
                r.error_pages.push(page);
            }
        }
    }
    if r.upstream.is_empty() {
        return;
    }
    r.intercept_errors = innermost(levels, "proxy_intercept_errors")
        .filter(ok)
        .is_some_and(|d| d.arg(0) == "on");
    let redirects: Vec<&Directive> = innermost_of(levels, &["proxy_redirect"])
        .into_iter()
        .filter(ok)
        .collect();
    if redirects.is_empty() {
        return;
    }
    let mut s = Section::new("");
    let mut default = false;
    let mut pairs = Vec::new();
    for d in &redirects {
        match d.arg_texts().as_slice() {
            ["default"] => default = true,
            [from, to] => pairs.push(Value::Inline(vec![
                ("from".into(), Value::from(*from)),
                ("to".into(), Value::from(*to)),
            ])),
            _ => {}
        }
    }
    s.set("default", Value::Bool(default));
    if !pairs.is_empty() {
        s.set("rewrite", Value::Array(pairs));
    }
    r.proxy_redirect = Some(s);
}

/// The route of `routes` that answers the internal URI `uri` (NGINX's
/// location search: exact, longest prefix, `^~`, regexes in order).
fn target<'a>(routes: &'a [Route], uri: &str) -> Option<&'a Route> {
    if uri.starts_with('@') {
        return routes.iter().find(|r| r.location.as_deref() == Some(uri));
    }
    let path = uri.split('?').next().unwrap_or_default();
    let mut best: Option<(&Route, usize, bool)> = None;
    for r in routes {
        let (prefix, stop) = match r.location.as_deref() {
            None => (r.prefix.as_str(), false),
            Some(l) => {
                if let Some(p) = l.strip_prefix("= ") {
                    if p == path {
                        return Some(r);
                    }
                    continue;
                }
                if let Some(p) = l.strip_prefix("^~ ") {
                    (p, true)
                } else if l.starts_with('/') {
                    (l, false)
                } else {
                    continue;
                }
            }
        };
        if path.starts_with(prefix) && best.is_none_or(|(_, len, _)| prefix.len() > len) {
            best = Some((r, prefix.len(), stop));
        }
    }
    if let Some((r, _, true)) = best {
        return Some(r);
    }
    for r in routes {
        let Some(l) = r.location.as_deref() else {
            continue;
        };
        let pattern = if let Some(re) = l.strip_prefix("~* ") {
            Pattern::parse(re, true)
        } else if let Some(re) = l.strip_prefix("~ ") {
            Pattern::parse(re, false)
        } else {
            continue;
        };
        if pattern.is_ok_and(|p| p.regex().is_match(path)) {
            return Some(r);
        }
    }
    best.map(|(r, _, _)| r)
}

/// Keep the error pages the gateway serves (a `return` route); report the
/// others at their `error_page`.
pub fn resolve_error_pages(routes: &mut [Route], report: &mut Report) {
    let answers: Vec<Vec<bool>> = routes
        .iter()
        .map(|r| {
            r.error_pages
                .iter()
                .map(|p| target(routes, &p.uri).is_some_and(|t| t.ret.is_some()))
                .collect()
        })
        .collect();
    for (r, answers) in routes.iter_mut().zip(answers) {
        let mut kept = Vec::new();
        for (page, served) in std::mem::take(&mut r.error_pages).into_iter().zip(answers) {
            if served {
                kept.push(page);
            } else if let Some(d) = &page.directive {
                let why = format!(
                    "the page `{}` is not answered by a `return` location: the gateway serves error pages from `return` routes only (the original status stays, with the gateway's own error body)",
                    page.uri
                );
                let c = report.untranslated(d, &why);
                if !r.comments.contains(&c) {
                    r.comments.push(c);
                }
            }
        }
        r.error_pages = kept;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn expiry_times_become_the_files_table_s() {
        assert_eq!(expires("30d").unwrap().as_deref(), Some("2592000s"));
        assert_eq!(expires("-1h").unwrap().as_deref(), Some("-3600s"));
        assert_eq!(expires("max").unwrap().as_deref(), Some("max"));
        assert_eq!(expires("off").unwrap(), None);
        assert!(expires("500ms").is_err());
        assert!(expires("soon").is_err());
    }

    #[test]
    fn envsubst_placeholders_are_not_request_variables() {
        assert!(template("/${API_PREFIX}/$1", &[]).is_ok());
        assert!(template("$host$request_uri", &[]).is_ok());
        assert!(template("$http_x_user", &[]).is_err());
        assert!(template("/$rest", &["rest".into()]).is_ok());
    }
}
