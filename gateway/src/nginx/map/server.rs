//! `server` blocks: listeners, certificates, and each `location` with a
//! `proxy_pass` as a route (NGINX's prefix-replacement rules).

use super::super::emit::Value;
use super::super::parse::Directive;
use super::super::values;
use super::model::Route;
use super::route::{self, Context};
use super::{Prefixes, Report, Table, UpstreamNames, catalog, cors, global, upstream};

/// What a server listens on.
struct Listens {
    plain: Vec<(String, &'static str)>,
    tls: Vec<String>,
}

/// Translate the servers of the `http` level.
pub fn servers(
    servers: &[&Directive],
    http: &[Directive],
    names: &UpstreamNames,
    ctx: &mut Context,
    prefixes: &Prefixes,
    table: &mut Table,
    report: &mut Report,
) {
    let redirects: Vec<&&Directive> = servers.iter().filter(|s| is_https_redirect(s)).collect();
    let mut primary: Vec<&Directive> = servers
        .iter()
        .copied()
        .filter(|s| !is_https_redirect(s))
        .collect();
    if let Some(i) = primary.iter().position(|s| {
        s.children()
            .iter()
            .any(|d| d.name == "listen" && d.args.iter().any(|w| w.text == "default_server"))
    }) {
        let chosen = primary.remove(i);
        primary.insert(0, chosen);
    }
    let Some(main) = primary.first().copied() else {
        for r in redirects {
            let c = report.untranslated(
                r,
                "a server that only redirects to HTTPS, with no HTTPS server to go to",
            );
            table.comments.push(c);
        }
        return;
    };
    for other in primary.iter().skip(1) {
        let c = report.untranslated(
            other,
            "several virtual servers need host-based routing (issue 29); the first (or default_server) one is translated",
        );
        table.comments.push(c);
    }
    let mut listens = listens(main, report, table);
    for r in &redirects {
        listens.plain.extend(listens_of(r, report, table).plain);
    }
    choose_listeners(main, listens, ctx, table, report);
    certificates(http, main, prefixes, table, report);
    let has_tls = table.tls.entries.iter().any(|(k, _, _)| k == "listen");
    for ret in redirects
        .iter()
        .flat_map(|r| r.children().iter().filter(|d| d.name == "return"))
    {
        if !has_tls {
            let c = report.untranslated(ret, "a redirect to HTTPS with no HTTPS server translated");
            table.comments.push(c);
        } else if ret.arg(0) == "308" {
            table
                .tls
                .set_noted("redirect_https", Value::Bool(true), report.place(ret));
        } else {
            let why = format!(
                "redirect_https answers 308 where this answers {}",
                ret.arg(0)
            );
            let c = report.untranslated(ret, &why);
            table.tls.comments.push(c);
            table.tls.set("redirect_https", Value::Bool(true));
        }
    }
    let server_level = main.children();
    for d in server_level {
        match d.name.as_str() {
            "listen" | "server_name" | "ssl_certificate" | "ssl_certificate_key" => {}
            "location" => location(d, &[http, server_level], names, ctx, table, report),
            name if route::INHERITED.contains(&name) => {
                if let Err(why) = route::check(d, ctx) {
                    let c = report.untranslated(d, &why);
                    table.comments.push(c);
                }
            }
            _ => {
                if let Err(why) = global::setting(d, table, ctx) {
                    let c = report.untranslated(d, &why);
                    table.comments.push(c);
                }
            }
        }
    }
}

fn is_https_redirect(s: &Directive) -> bool {
    let mut has_return = false;
    for d in s.children() {
        match d.name.as_str() {
            "listen" if !d.args.iter().any(|w| w.text == "ssl") => {}
            "server_name" => {}
            "return" => {
                has_return = matches!(d.arg(0), "301" | "302" | "307" | "308")
                    && d.arg(1).starts_with("https://")
                    && d.arg(1).ends_with("$request_uri")
            }
            _ => return false,
        }
    }
    has_return
}

fn listens_of(s: &Directive, report: &mut Report, table: &mut Table) -> Listens {
    let mut out = Listens {
        plain: Vec::new(),
        tls: Vec::new(),
    };
    for d in s.children().iter().filter(|d| d.name == "listen") {
        let addr = match values::listen_address(d.arg(0)) {
            Ok(a) => a,
            Err(why) => {
                let c = report.untranslated(d, &why);
                table.comments.push(c);
                continue;
            }
        };
        let mut ssl = false;
        for opt in d.args.iter().skip(1).map(|w| w.text.as_str()) {
            match opt {
                "ssl" => ssl = true,
                "proxy_protocol" | "quic" => {
                    let c = report.untranslated(d, &format!("`{opt}` has no equivalent"));
                    table.comments.push(c);
                }
                _ => {}
            }
        }
        if ssl {
            out.tls.push(addr);
        } else {
            out.plain.push((addr, ""));
        }
    }
    out
}

fn listens(main: &Directive, report: &mut Report, table: &mut Table) -> Listens {
    let l = listens_of(main, report, table);
    if l.plain.is_empty() && l.tls.is_empty() {
        return Listens {
            plain: vec![("0.0.0.0:80".into(), "NGINX's default `listen *:80`")],
            tls: Vec::new(),
        };
    }
    l
}

/// One plain listener and one TLS listener: `0.0.0.0:P` with `[::]:P` is
/// `[::]:P` (dual stack); anything more is reported.
fn choose_listeners(
    main: &Directive,
    mut l: Listens,
    ctx: &mut Context,
    table: &mut Table,
    report: &mut Report,
) {
    l.plain.dedup();
    let ports = |a: &str| a.rsplit(':').next().and_then(|p| p.parse::<u16>().ok());
    if let [(a, _), (b, _)] = l.plain.as_slice()
        && ports(a) == ports(b)
        && a.starts_with("0.0.0.0:") != b.starts_with("0.0.0.0:")
        && (a.starts_with("[::]:") || b.starts_with("[::]:"))
    {
        let port = ports(a).unwrap_or(80);
        l.plain = vec![(format!("[::]:{port}"), "IPv4 and IPv6 (dual stack)")];
    }
    if let Some((addr, note)) = l.plain.first() {
        let note = if note.is_empty() {
            "listen".to_string()
        } else {
            note.to_string()
        };
        ctx.port = ports(addr);
        table.listen = Some((addr.clone(), note));
    }
    if l.plain.len() > 1 {
        let c = report.untranslated(
            main,
            "several plain listen addresses: the gateway has one (issue 29)",
        );
        table.comments.push(c);
    }
    l.tls.dedup();
    if let Some(addr) = l.tls.first() {
        table.tls.set("listen", addr.as_str());
        if l.plain.is_empty() {
            ctx.port = ports(addr);
            // The plain listener cannot be switched off: keep it on loopback.
            table.listen = Some((
                "127.0.0.1:0".into(),
                "no plain listener in NGINX: loopback, any port".into(),
            ));
        } else {
            ctx.port = None;
        }
    }
    if l.tls.len() > 1 {
        let c = report.untranslated(main, "several TLS listen addresses: the gateway has one");
        table.comments.push(c);
    }
}

fn certificates(
    http: &[Directive],
    main: &Directive,
    prefixes: &Prefixes,
    table: &mut Table,
    report: &mut Report,
) {
    if table.tls.entries.iter().all(|(k, _, _)| k != "listen") {
        return;
    }
    let level = |name: &str| -> Vec<&Directive> {
        let own: Vec<&Directive> = main.children().iter().filter(|d| d.name == name).collect();
        if own.is_empty() {
            http.iter().filter(|d| d.name == name).collect()
        } else {
            own
        }
    };
    let certs = level("ssl_certificate");
    let keys = level("ssl_certificate_key");
    for (i, (c, k)) in certs.iter().zip(keys.iter()).enumerate() {
        if values::has_variable(c.arg(0)) || values::has_variable(k.arg(0)) {
            let comment =
                report.untranslated(c, "certificates chosen by variables have no equivalent");
            table.comments.push(comment);
            continue;
        }
        if i > 0 {
            let comment = report.untranslated(
                c,
                "a second certificate for the same names (RSA + ECDSA) has no equivalent",
            );
            table.comments.push(comment);
            continue;
        }
        table.certificates.push((
            prefixes.conf_path(c.arg(0)),
            prefixes.conf_path(k.arg(0)),
            format!("ssl_certificate {}", report.place(c)),
        ));
    }
    if table.certificates.is_empty() {
        let c = report.untranslated(
            main,
            "`listen ... ssl` without a translatable ssl_certificate: the TLS listener is left out",
        );
        table.comments.push(c);
        table.tls.entries.retain(|(k, _, _)| k != "listen");
    }
}

/// A `location` with `proxy_pass`: a route.
fn location(
    d: &Directive,
    outer: &[&[Directive]; 2],
    names: &UpstreamNames,
    ctx: &Context,
    table: &mut Table,
    report: &mut Report,
) {
    let (mut path, modifier) = match d.arg_texts().as_slice() {
        [p] if !p.starts_with('@')
            && !d
                .args
                .first()
                .is_some_and(|w| w.quoted && w.text.is_empty()) =>
        {
            (p.to_string(), "")
        }
        ["^~", p] => (p.to_string(), "^~ "),
        _ => {
            let c = report.untranslated(d, "exact (`=`), regex (`~`, `~*`) and named (`@`) locations need the location matcher of issue 29");
            table.comments.push(c);
            return;
        }
    };
    let mut comments = vec![format!("location {modifier}{path} ({})", report.place(d))];
    let mut pass: Option<&Directive> = None;
    let mut cors_section = None;
    for c in d.children() {
        match c.name.as_str() {
            "proxy_pass" => pass = Some(c),
            "if" if cors::is_preflight_if(c) => match cors::section(c, d.children()) {
                Ok(s) => cors_section = Some(s),
                Err(why) => comments.push(report.untranslated(c, &why)),
            },
            name if route::INHERITED.contains(&name) => {
                if let Err(why) = route::check(c, ctx) {
                    comments.push(report.untranslated(c, &why));
                }
            }
            "proxy_redirect" if c.arg(0) == "off" => {}
            "proxy_next_upstream"
                if matches!(c.arg_texts().as_slice(), ["error", "timeout"] | ["error"]) => {}
            "access_log" if c.arg(0) == "off" => comments.push(report.untranslated(
                c,
                "the access log is switched for the whole table, not per route",
            )),
            "access_log" | "log_not_found" => {}
            name if catalog::needs_no_translation(name) => {}
            name => comments.push(report.untranslated(c, catalog::why_not(name))),
        }
    }
    let Some(pass) = pass else {
        let c = report.untranslated(
            d,
            "no proxy_pass: static files, returns and rewrites need issue 29",
        );
        table.comments.extend(comments.into_iter().skip(1));
        table.comments.push(c);
        return;
    };
    let target = pass.arg(0);
    if values::has_variable(target) {
        comments
            .push(report.untranslated(pass, &values::variable_why("proxy_pass targets", target)));
        table.comments.extend(comments);
        return;
    }
    let Some(rest) = target.strip_prefix("http://") else {
        comments.push(report.untranslated(pass, "the gateway forwards to http:// upstreams only"));
        table.comments.extend(comments);
        return;
    };
    let (address, uri) = match rest.find('/') {
        Some(i) => (
            rest.get(..i).unwrap_or(rest),
            Some(rest.get(i..).unwrap_or("/")),
        ),
        None => (rest, None),
    };
    let strip = match (path.ends_with('/'), uri) {
        (true, None) => false,
        (true, Some("/")) => path != "/",
        // `location /auth/ { proxy_pass http://a/auth/; }` replaces the prefix by itself
        (true, Some(u)) if u == path => false,
        (true, Some(u)) => {
            let why = format!(
                "proxy_pass with the URI `{u}` replacing `{path}` needs the rewrites of issue 29"
            );
            comments.push(report.untranslated(pass, &why));
            table.comments.extend(comments);
            return;
        }
        (false, None) => {
            // The nearest route serves `{path}/...` alike; reported all the same.
            let why = format!(
                "the route table's prefixes end with `/`: translated as `{path}/`, but NGINX also sends `{path}` and `{path}x` upstream (issue 29)"
            );
            comments.push(report.untranslated(d, &why));
            path.push('/');
            false
        }
        (false, Some(_)) => {
            let why = format!(
                "the route table's prefixes end with `/`: `{path}` also matches `{path}x`, and `{path}` itself would be redirected (issue 29)"
            );
            comments.push(report.untranslated(d, &why));
            table.comments.extend(comments);
            return;
        }
    };
    if crate::path::normalize(&path).ok().as_deref() != Some(path.as_str()) {
        comments.push(report.untranslated(d, "the prefix is not a normalised path"));
        table.comments.extend(comments);
        return;
    }
    if table.routes.iter().any(|r| r.prefix == path) {
        comments.push(report.untranslated(d, "a second location with the same prefix"));
        table.comments.extend(comments);
        return;
    }
    let upstream = match upstream::for_address(address, names, &mut table.upstreams) {
        Ok(u) => u,
        Err(why) => {
            comments.push(report.untranslated(pass, &why));
            table.comments.extend(comments);
            return;
        }
    };
    let levels = [outer[0], outer[1], d.children()];
    if let Some(t) = levels[1..]
        .iter()
        .rev()
        .find_map(|l| l.iter().rev().find(|x| x.name == "proxy_connect_timeout"))
        .and_then(|x| values::time_ms(x.arg(0)))
        && let Some(u) = table.upstreams.get_mut(&upstream)
    {
        u.connect_timeout = Some(values::time_text(t));
    }
    let mut r = Route {
        comments,
        prefix: path,
        upstream,
        strip_prefix: strip,
        ..Route::default()
    };
    route::apply(&levels, ctx, &mut r);
    if let Some(c) = cors_section {
        // The CORS policy writes these headers itself.
        r.headers
            .response_add
            .retain(|(name, _)| !name.to_ascii_lowercase().starts_with("access-control-"));
        r.cors = Some(c);
    }
    table.routes.push(r);
}
