//! `server` blocks: listeners, certificates, and each `location` with a
//! `proxy_pass` as a route (NGINX's prefix-replacement rules).

use super::super::parse::Directive;
use super::super::values;
use super::host_if;
use super::listens::{self, Listens};
use super::location;
use super::model::{Return, Route, Server};
use super::route::{self, Context};
use super::{Prefixes, Report, Table, UpstreamNames, global};

/// Translate the servers of the `http` level: each `server` block a
/// `[[servers]]` on its own listeners (the default server's listeners are
/// the table's `[listen] public` and `tls.listen`), or, for a file with
/// one server on those, the top-level `[[routes]]`.
pub fn servers(
    servers: &[&Directive],
    http: &[Directive],
    names: &UpstreamNames,
    ctx: &mut Context,
    prefixes: &Prefixes,
    table: &mut Table,
    report: &mut Report,
) {
    if servers.is_empty() {
        return;
    }
    let mut listens: Vec<Listens> = servers
        .iter()
        .map(|s| listens::listens_of(s, report, table))
        .collect();
    listens::make_bindable(servers, &mut listens, report, table);
    for (s, l) in servers.iter().zip(&listens) {
        if !l.tls.is_empty() {
            certificates(http, s, prefixes, table, report);
        }
    }
    if table.certificates.is_empty() {
        // Each TLS server was reported by `certificates`: no TLS listener.
        for l in &mut listens {
            l.tls.clear();
        }
    }
    let main = listens
        .iter()
        .position(|l| !l.defaults.is_empty())
        .unwrap_or(0);
    let first = |tls: bool| {
        std::iter::once(&listens[main])
            .chain(&listens)
            .find_map(|l| if tls { l.tls.first() } else { l.plain.first() })
            .cloned()
    };
    let (plain_default, tls_default) = (first(false), first(true));
    match &plain_default {
        Some(addr) => table.listen = Some((addr.clone(), "listen".into())),
        // The plain listener cannot be switched off: keep it on loopback.
        None => {
            table.listen = Some((
                "127.0.0.1:0".into(),
                "no plain listener in NGINX: loopback, any port".into(),
            ))
        }
    }
    if let Some(addr) = &tls_default {
        table.tls.set("listen", addr.as_str());
    }
    let on_defaults = |l: &Listens| {
        let mut mine: Vec<&String> = l.all().collect();
        mine.sort();
        let mut defaults: Vec<&String> = plain_default.iter().chain(&tls_default).collect();
        defaults.sort();
        mine == defaults
    };
    if servers.len() == 1 && on_defaults(&listens[0]) && host_if::host_ifs(servers[0]).is_empty() {
        ctx.port = listens[0].port();
        let (routes, comments) =
            server_routes(servers[0], http, names, ctx, prefixes, table, report);
        table.comments.extend(comments);
        table.routes = routes;
        return;
    }
    let defaults = listens::nginx_defaults(&listens);
    let mut kept: Vec<(usize, Vec<String>)> = Vec::new();
    let mut table_defaults: Vec<usize> = Vec::new();
    for (i, s) in servers.iter().enumerate() {
        if listens[i].all().next().is_none() {
            // Every address was left out (each reported above).
            table.comments.push(format!(
                "{}: server left out: none of its addresses is translated",
                report.place(s)
            ));
            continue;
        }
        ctx.port = listens[i].port();
        let (routes, mut comments) = server_routes(s, http, names, ctx, prefixes, table, report);
        comments.insert(0, format!("server ({})", report.place(s)));
        let default_of: Vec<&String> = listens[i]
            .all()
            .filter(|a| defaults.get(*a) == Some(&i))
            .collect();
        // The gateway's default of a listener: the server saying
        // `default = true` on it, else its first server. NGINX's: the one
        // with `default_server` on that address, else its first.
        let is_default = !listens[i].defaults.is_empty();
        if is_default && default_of.len() != listens[i].all().count() {
            comments.push(report.untranslated(
                s,
                "`default_server` on some of its addresses only, another server being the first on the rest: the gateway's `default` covers all of a server's listeners",
            ));
        }
        let idioms = host_if::host_ifs(s);
        let shares = |j: usize| listens[j].all().any(|a| listens[i].all().any(|b| a == b));
        let mut if_servers: Vec<Server> = Vec::new();
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
                let entry = if name.starts_with('~') {
                    name.to_string()
                } else {
                    key.clone()
                };
                if server_names.contains(&entry) || idioms.iter().any(|(n, _)| *n == entry) {
                    // Named twice by this server (once is enough), or
                    // answered by its `if ($host = NAME)`.
                    continue;
                }
                if kept
                    .iter()
                    .any(|(j, names)| shares(*j) && names.contains(&key))
                {
                    comments.push(format!(
                        "{}: `{name}` is named by an earlier server on the same address, which NGINX keeps (conflicting server name)",
                        report.place(d)
                    ));
                    continue;
                }
                server_names.push(entry);
            }
        }
        let own = !on_defaults(&listens[i]);
        let (listen, listen_tls) = if own {
            (listens[i].plain.clone(), listens[i].tls.clone())
        } else {
            (Vec::new(), Vec::new())
        };
        for (if_names, ret) in host_if::by_return(&idioms) {
            let mut r = Route {
                comments: vec![format!(
                    "if ($host = ...) {{ return }} ({}): every request for these names",
                    report.place(ret)
                )],
                location: Some("/".into()),
                ..Route::default()
            };
            match location::return_of(ret, &[]) {
                Ok(x) => r.ret = Some(x),
                Err(why) => {
                    let c = report.untranslated(ret, &why);
                    table.comments.push(c);
                    continue;
                }
            }
            route::apply(&[http, s.children()], ctx, &mut r);
            let if_names: Vec<String> = if_names
                .into_iter()
                .filter(|n| {
                    !kept
                        .iter()
                        .any(|(j, names)| shares(*j) && names.contains(n))
                })
                .collect();
            if if_names.is_empty() {
                continue;
            }
            if_servers.push(Server {
                comments: vec![format!(
                    "server ({}), its `if ($host = ...)`",
                    report.place(s)
                )],
                names: if_names,
                default: false,
                listen: listen.clone(),
                listen_tls: listen_tls.clone(),
                routes: vec![r],
            });
        }
        if server_names.is_empty() && default_of.is_empty() {
            if if_servers.is_empty() {
                let c = report.untranslated(
                    s,
                    "a server with no name the gateway can match, and the default of none of its addresses",
                );
                table.comments.push(c);
            }
            push_if_servers(&mut kept, &mut if_servers, table, i);
            continue;
        }
        // A server without a name is reached as a default only.
        let default = is_default || server_names.is_empty();
        if let Some((j, _)) = kept.iter().find(|(j, _)| {
            table_defaults.contains(j)
                && listens[*j].all().any(|a| listens[i].all().any(|b| a == b))
        }) && default
        {
            let why = format!(
                "the default of an address a server before it (line {}) is the default of too: the gateway's `default` covers all of a server's listeners",
                servers[*j].pos.line
            );
            let c = report.untranslated(s, &why);
            table.comments.push(c);
            push_if_servers(&mut kept, &mut if_servers, table, i);
            continue;
        }
        if default {
            table_defaults.push(i);
        }
        kept.push((i, server_names.clone()));
        table.servers.push(Server {
            comments,
            names: server_names,
            default,
            listen,
            listen_tls,
            routes,
        });
        push_if_servers(&mut kept, &mut if_servers, table, i);
    }
}

/// After a server, the virtual servers of its `if ($host = NAME)` idioms.
fn push_if_servers(
    kept: &mut Vec<(usize, Vec<String>)>,
    if_servers: &mut Vec<Server>,
    table: &mut Table,
    i: usize,
) {
    for server in if_servers.drain(..) {
        kept.push((i, server.names.clone()));
        table.servers.push(server);
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
    let idioms = host_if::host_ifs(server);
    let env = location::Env {
        outer: [http, level],
        names,
        ctx,
        prefixes,
    };
    for d in level {
        match d.name.as_str() {
            "listen" | "server_name" | "ssl_certificate" | "ssl_certificate_key" | "return" => {}
            // Answered by a virtual server of its own (`host_if`).
            "if" if !idioms.is_empty() => {}
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

/// The certificate of `main`, a server with TLS addresses (its own
/// `ssl_certificate`, else the http level's).
fn certificates(
    http: &[Directive],
    main: &Directive,
    prefixes: &Prefixes,
    table: &mut Table,
    report: &mut Report,
) {
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
