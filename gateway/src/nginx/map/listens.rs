//! `listen` across `server` blocks: each server's addresses as NGINX
//! binds them, which server is the default of each address, and what the
//! gateway's listeners (one socket per address) cannot keep apart.

use super::super::parse::Directive;
use super::super::values;
use super::{Report, Table};

/// What a server listens on, as NGINX binds it: plain and TLS addresses,
/// and the ones it is the `default_server` of.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Listens {
    pub(super) plain: Vec<String>,
    pub(super) tls: Vec<String>,
    pub(super) defaults: Vec<String>,
}

impl Listens {
    pub(super) fn all(&self) -> impl Iterator<Item = &String> {
        self.plain.iter().chain(&self.tls)
    }

    /// The port, when every address has the same one.
    pub(super) fn port(&self) -> Option<u16> {
        let mut ports = self.all().map(|a| port_of(a));
        let first = ports.next()??;
        ports.all(|p| p == Some(first)).then_some(first)
    }
}

fn port_of(addr: &str) -> Option<u16> {
    addr.rsplit(':').next().and_then(|p| p.parse::<u16>().ok())
}

/// NGINX's default server of each address: the one whose `listen` says
/// `default_server`, else the first server listening there.
pub(super) fn nginx_defaults(listens: &[Listens]) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    for (i, l) in listens.iter().enumerate() {
        for a in &l.defaults {
            out.entry(a.clone()).or_insert(i);
        }
    }
    for (i, l) in listens.iter().enumerate() {
        for a in l.all() {
            out.entry(a.clone()).or_insert(i);
        }
    }
    out
}

/// What NGINX keeps apart but the gateway's listeners (one socket per
/// address) cannot: each server's addresses made bindable, what is left
/// out reported at the server.
pub(super) fn make_bindable(
    servers: &[&Directive],
    listens: &mut [Listens],
    report: &mut Report,
    table: &mut Table,
) {
    dual_stack(listens);
    one_protocol_per_address(servers, listens, report, table);
    no_specific_beside_wildcard(servers, listens, report, table);
}

impl Listens {
    /// Leave out the addresses `drop` says, reporting `why` at `server`.
    fn leave_out(
        &mut self,
        drop: impl Fn(&String) -> bool,
        why: &str,
        server: &Directive,
        report: &mut Report,
        table: &mut Table,
    ) {
        let c = report.untranslated(server, why);
        table.comments.push(c);
        for list in [&mut self.plain, &mut self.tls, &mut self.defaults] {
            list.retain(|a| !drop(a));
        }
    }
}

/// The gateway's `[::]:P` is one dual-stack socket: another server's (or
/// the same server's) `0.0.0.0:P` is on it.
fn dual_stack(listens: &mut [Listens]) {
    let v6_ports: Vec<String> = listens
        .iter()
        .flat_map(|l| l.all())
        .filter_map(|a| a.strip_prefix("[::]:").map(str::to_string))
        .collect();
    for l in listens.iter_mut() {
        for list in [&mut l.plain, &mut l.tls, &mut l.defaults] {
            for a in list.iter_mut() {
                if let Some(p) = a.strip_prefix("0.0.0.0:")
                    && v6_ports.iter().any(|v| v == p)
                {
                    *a = format!("[::]:{p}");
                }
            }
            let mut seen = Vec::new();
            list.retain(|a| {
                let new = !seen.contains(a);
                seen.push(a.clone());
                new
            });
        }
    }
}

/// An address speaks plain HTTP or TLS: within a server the plain use is
/// kept, across servers the first server's.
fn one_protocol_per_address(
    servers: &[&Directive],
    listens: &mut [Listens],
    report: &mut Report,
    table: &mut Table,
) {
    let mut used: Vec<(String, bool)> = Vec::new();
    for (s, l) in servers.iter().zip(listens.iter_mut()) {
        let both: Vec<String> = l
            .tls
            .iter()
            .filter(|a| l.plain.contains(a))
            .cloned()
            .collect();
        if !both.is_empty() {
            let why = format!(
                "{} is both plain HTTP and TLS in this server: the gateway's listener speaks one of them (plain is kept)",
                both.join(", ")
            );
            let c = report.untranslated(s, &why);
            table.comments.push(c);
            l.tls.retain(|a| !both.contains(a));
        }
        let other_use = |a: &String, tls: bool| used.iter().any(|(b, t)| a == b && *t != tls);
        let clashing: Vec<String> = l
            .plain
            .iter()
            .filter(|a| other_use(a, false))
            .chain(l.tls.iter().filter(|a| other_use(a, true)))
            .cloned()
            .collect();
        if !clashing.is_empty() {
            let why = format!(
                "{} is plain HTTP for one server and TLS for another: the gateway's listener speaks one of them (the first server's is kept)",
                clashing.join(", ")
            );
            l.leave_out(|a| clashing.contains(a), &why, s, report, table);
        }
        used.extend(l.plain.iter().map(|a| (a.clone(), false)));
        used.extend(l.tls.iter().map(|a| (a.clone(), true)));
    }
}

/// NGINX binds a wildcard `*:P` once and tells `127.0.0.1:P` apart by the
/// connection's local address; the gateway binds every address, and a
/// specific one on a wildcard's port cannot be bound beside it.
fn no_specific_beside_wildcard(
    servers: &[&Directive],
    listens: &mut [Listens],
    report: &mut Report,
    table: &mut Table,
) {
    let wildcard = |a: &str| a.starts_with("0.0.0.0:") || a.starts_with("[::]:");
    let wildcard_ports: Vec<u16> = listens
        .iter()
        .flat_map(|l| l.all())
        .filter(|a| wildcard(a))
        .filter_map(|a| port_of(a))
        .collect();
    let specific = |a: &String| {
        !(wildcard(a) || a.contains("${"))
            && port_of(a).is_some_and(|p| wildcard_ports.contains(&p))
    };
    for (s, l) in servers.iter().zip(listens.iter_mut()) {
        if l.all().any(specific) {
            l.leave_out(
                specific,
                "a specific address on a port another server listens on with a wildcard: the gateway binds each address, so this one is left out (the server answers on its other addresses)",
                s,
                report,
                table,
            );
        }
    }
}

/// A server's addresses: `listen` (NGINX's `*:80` without one).
pub(super) fn listens_of(s: &Directive, report: &mut Report, table: &mut Table) -> Listens {
    let mut out = Listens::default();
    let mut any = false;
    for d in s.children().iter().filter(|d| d.name == "listen") {
        any = true;
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
                "default_server" | "default" => out.defaults.push(addr.clone()),
                "proxy_protocol" | "quic" => {
                    let c = report.untranslated(d, &format!("`{opt}` has no equivalent"));
                    table.comments.push(c);
                }
                _ => {}
            }
        }
        let list = if ssl { &mut out.tls } else { &mut out.plain };
        if !list.contains(&addr) {
            list.push(addr);
        }
    }
    if !any {
        out.plain.push("0.0.0.0:80".into());
    }
    out
}
