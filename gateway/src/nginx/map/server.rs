//! `server` blocks: listeners, certificates, and each `location` with a
//! `proxy_pass` as a route (NGINX's prefix-replacement rules).

use super::super::emit::Value;
use super::super::parse::Directive;
use super::super::values;
use super::location;
use super::model::{Return, Route, Server};
use super::route::{self, Context};
use super::{Prefixes, Report, Table, UpstreamNames, global};

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
    let primary: Vec<&Directive> = servers
        .iter()
        .copied()
        .filter(|s| !is_https_redirect(s))
        .collect();
    let default = primary.iter().position(|s| {
        s.children()
            .iter()
            .any(|d| d.name == "listen" && d.args.iter().any(|w| w.text == "default_server"))
    });
    let Some(main) = primary.get(default.unwrap_or(0)).copied() else {
        for r in redirects {
            let c = report.untranslated(
                r,
                "a server that only redirects to HTTPS, with no HTTPS server to go to",
            );
            table.comments.push(c);
        }
        return;
    };
    let mut listens = listens(main, report, table);
    for r in &redirects {
        listens.plain.extend(listens_of(r, report, table).plain);
    }
    let chosen_plain: Vec<String> = listens.plain.iter().map(|(a, _)| a.clone()).collect();
    let chosen_tls = listens.tls.clone();
    choose_listeners(main, listens, ctx, table, report);
    for other in primary.iter().filter(|s| !std::ptr::eq(**s, main)) {
        let l = listens_of(other, report, table);
        let extra_plain = l.plain.iter().any(|(a, _)| !chosen_plain.contains(a));
        let extra_tls = l.tls.iter().any(|a| !chosen_tls.contains(a));
        let no_listen = l.plain.is_empty() && l.tls.is_empty();
        let default_port = no_listen && !chosen_plain.iter().any(|a| a.ends_with(":80"));
        if extra_plain || extra_tls || default_port {
            let c = report.untranslated(
                other,
                "its `listen` differs from the default server's: a listen per server is not built, so every virtual server answers on the table's listeners",
            );
            table.comments.push(c);
        }
    }
    for s in &primary {
        certificates(http, s, prefixes, table, report);
    }
    if table.certificates.is_empty() {
        table.tls.entries.retain(|(k, _, _)| k != "listen");
    }
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
                "redirect_https answers 308 where this answers {} (and sends a host the certificate does not name to the certificate's first name); a server per listener is not built, so this server cannot be kept apart",
                ret.arg(0)
            );
            let c = report.untranslated(ret, &why);
            table.tls.comments.push(c);
            table.tls.set("redirect_https", Value::Bool(true));
        }
    }
    if primary.len() == 1 {
        let (routes, comments) = server_routes(main, http, names, ctx, prefixes, table, report);
        table.comments.extend(comments);
        table.routes = routes;
        return;
    }
    let mut seen: Vec<String> = Vec::new();
    for (i, s) in primary.iter().enumerate() {
        let (routes, mut comments) = server_routes(s, http, names, ctx, prefixes, table, report);
        comments.insert(0, format!("server ({})", report.place(s)));
        let is_default = Some(i) == default || (default.is_none() && i == 0);
        let mut server_names = Vec::new();
        for d in s.children().iter().filter(|d| d.name == "server_name") {
            for name in d.arg_texts() {
                if name.is_empty() || name == "_" {
                    continue;
                }
                if values::has_request_variable(name) && !name.starts_with('~') {
                    let why = format!("the server name `{name}` uses a variable");
                    comments.push(report.untranslated(d, &why));
                    continue;
                }
                let key = if values::has_placeholder(name) {
                    name.to_string()
                } else {
                    name.to_ascii_lowercase()
                };
                if let Err(why) = server_name_ok(name) {
                    comments.push(report.untranslated(d, &why));
                    continue;
                }
                if seen.contains(&key) {
                    comments.push(format!(
                        "{}: `{name}` is named by an earlier server, which NGINX keeps (conflicting server name)",
                        report.place(d)
                    ));
                    continue;
                }
                seen.push(key.clone());
                server_names.push(if name.starts_with('~') {
                    name.to_string()
                } else {
                    key
                });
            }
        }
        if server_names.is_empty() && !is_default {
            let c = report.untranslated(
                s,
                "a server with no name the gateway can match, and not the default: NGINX reaches it only through a listen of its own",
            );
            table.comments.push(c);
            continue;
        }
        table.servers.push(Server {
            comments,
            names: server_names,
            default: is_default,
            routes,
        });
    }
}

/// A `server_name` the route table accepts (as `config/servers.rs` reads it).
fn server_name_ok(name: &str) -> Result<(), String> {
    if let Some(regex) = name.strip_prefix('~') {
        return crate::config::pattern::Pattern::parse(regex, false).map(|_| ());
    }
    let lower = values::without_placeholders(name).to_ascii_lowercase();
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
    };
    let ok = match (
        lower.strip_prefix("*."),
        lower.strip_suffix(".*"),
        lower.strip_prefix('.'),
    ) {
        (Some(suffix), _, _) => valid(suffix),
        (None, Some(prefix), _) => valid(prefix),
        (None, None, Some(domain)) => valid(domain),
        (None, None, None) => valid(&lower),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("`{name}` is not a server name the gateway matches"))
    }
}

/// The routes of one server, and the comments for its place.
fn server_routes(
    server: &Directive,
    http: &[Directive],
    names: &UpstreamNames,
    ctx: &Context,
    prefixes: &Prefixes,
    table: &mut Table,
    report: &mut Report,
) -> (Vec<Route>, Vec<String>) {
    let level = server.children();
    let mut routes: Vec<Route> = Vec::new();
    let mut comments: Vec<String> = Vec::new();
    let server_return = level.iter().find(|d| d.name == "return");
    let env = location::Env {
        outer: [http, level],
        names,
        ctx,
        prefixes,
    };
    for d in level {
        match d.name.as_str() {
            "listen" | "server_name" | "ssl_certificate" | "ssl_certificate_key" | "return" => {}
            "location" if server_return.is_some() => {}
            "location" => match location::translate(d, &env, &mut table.upstreams, report) {
                Ok(r) => {
                    let path = |o: &Route| o.location.clone().unwrap_or_else(|| o.prefix.clone());
                    let same = |o: &Route| path(o) == path(&r);
                    if routes.iter().any(same) {
                        comments.push(report.untranslated(d, "a second location with the same path"));
                    } else {
                        routes.push(r);
                    }
                }
                Err(c) => comments.extend(c),
            },
            name if location::CONTENT_INHERITED.contains(&name) => {
                if let Err(why) = location::check_content(d) {
                    comments.push(report.untranslated(d, &why));
                }
            }
            name if route::INHERITED.contains(&name) => {
                if let Err(why) = route::check(d, ctx) {
                    comments.push(report.untranslated(d, &why));
                }
            }
            "rewrite" => comments.push(report.untranslated(
                d,
                "a server-level rewrite (before the location search) has no equivalent: write it in the locations",
            )),
            _ => {
                if let Err(why) = global::setting(d, table, ctx) {
                    comments.push(report.untranslated(d, &why));
                }
            }
        }
    }
    if let Some(ret) = server_return {
        // Every request of the server gets this answer.
        let mut r = Route {
            comments: vec![format!("return ({}): every request", report.place(ret))],
            location: Some("/".into()),
            ..Route::default()
        };
        match location::return_of(ret, &[]) {
            Ok(x) => r.ret = Some(x),
            Err(why) => {
                r.comments
                    .push(report.untranslated(ret, &format!("{why}: answered with 404 instead")));
                r.ret = Some(Return {
                    status: 404,
                    location: None,
                    body: None,
                });
            }
        }
        route::apply(&[http, level], ctx, &mut r);
        routes = vec![r];
    } else if !level.iter().any(|d| d.name == "location") {
        // No location: NGINX serves the server's root for every path.
        let implicit = Directive {
            name: "location".into(),
            args: vec![super::super::lexer::Word {
                text: "/".into(),
                quoted: false,
                pos: server.pos,
            }],
            block: Some(Vec::new()),
            file: server.file,
            pos: server.pos,
        };
        match location::translate(&implicit, &env, &mut table.upstreams, report) {
            Ok(r) => routes.push(r),
            Err(c) => comments.extend(c),
        }
    }
    location::resolve_error_pages(&mut routes, report);
    if routes.is_empty() {
        // Every location was left out (each reported): a server needs a route.
        routes.push(Route {
            comments: vec!["No location translated: every request answers 404.".into()],
            location: Some("/".into()),
            ret: Some(Return {
                status: 404,
                location: None,
                body: None,
            }),
            ..Route::default()
        });
    }
    (routes, comments)
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
            "several plain listen addresses: the gateway has one public listener",
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
    let ssl = main
        .children()
        .iter()
        .any(|d| d.name == "listen" && d.args.iter().skip(1).any(|w| w.text == "ssl"));
    if table.tls.entries.iter().all(|(k, _, _)| k != "listen") || !ssl {
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
        if values::has_request_variable(c.arg(0)) || values::has_request_variable(k.arg(0)) {
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
        let pair = (prefixes.conf_path(c.arg(0)), prefixes.conf_path(k.arg(0)));
        if !table
            .certificates
            .iter()
            .any(|(a, b, _)| (a, b) == (&pair.0, &pair.1))
        {
            let from = format!("ssl_certificate {}", report.place(c));
            table.certificates.push((pair.0, pair.1, from));
        }
    }
    if certs.is_empty() {
        let c = report.untranslated(
            main,
            "`listen ... ssl` without a translatable ssl_certificate: the TLS listener is left out",
        );
        table.comments.push(c);
    }
}
