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
use super::model::{Return, Rewrite, Route, Upstream};
use super::route::{self, Context};
use super::{Prefixes, Report, UpstreamNames, catalog, cors, upstream};
use crate::config::pattern::Pattern;

pub use super::directives::{CONTENT_INHERITED, Kind, check_content, kind, return_of, rewrite_of};
use super::directives::{
    access_target, error_page, escape, expires, innermost, innermost_of, template,
};
pub use super::error_pages::resolve_error_pages;

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
            "limit_conn" => fail(
                "a connection limit per location has no equivalent: the gateway's `limits.connections_per_client` caps a client's connections on the whole listener (`limit_conn` at server or http level translates to it)",
            ),
            "proxy_ignore_headers" => {
                if let Err(why) = catalog::ignored_headers(c) {
                    fail(&why);
                }
            }
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
        .filter(|ms| *ms > 0 && *ms <= values::MAX_TIME_MS)
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
