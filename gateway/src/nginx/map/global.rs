//! The `http` level: upstream blocks, zones, the WebSocket `map`, the
//! table-wide settings (`[limits]`, `[timeouts]`, `trusted_proxies`,
//! `[log]`); the servers are translated after it (`server.rs`).

use super::super::emit::Value;
use super::super::parse::Directive;
use super::super::values;
use super::route::{self, Context};
use super::{Report, Table, UpstreamNames, catalog, upstream};

/// What the `http` level hands to its servers' translation
/// ([`super::server::servers`]).
pub struct HttpLevel<'a> {
    /// The `server` blocks, in order.
    pub servers: Vec<&'a Directive>,
    /// Upstream blocks by name.
    pub names: UpstreamNames,
    /// Zones, WebSocket variables.
    pub ctx: Context,
}

/// Translate the `http` level's own directives; its servers are left to
/// the caller.
pub fn http<'a>(http: &'a [Directive], table: &mut Table, report: &mut Report) -> HttpLevel<'a> {
    let mut ctx = Context::default();
    let mut names = UpstreamNames::new();
    let mut servers: Vec<&Directive> = Vec::new();
    for d in http {
        match d.name.as_str() {
            "upstream" if d.block.is_some() => {
                let name = upstream::table_name(d.arg(0));
                let u = upstream::block(d, report);
                if u.endpoints.iter().all(|(_, _, backup)| *backup) {
                    let c = report.untranslated(
                        d,
                        "no translatable server in the upstream other than backups",
                    );
                    table.comments.push(c);
                    continue;
                }
                names.insert(d.arg(0).to_string(), name.clone());
                table.upstreams.insert(name, u);
            }
            "server" if d.block.is_some() => servers.push(d),
            "map" => {
                if let Some(var) = websocket_map(d) {
                    ctx.upgrade_vars.push(var);
                } else {
                    let c = report
                        .untranslated(d, "`map` beyond the WebSocket idiom has no equivalent");
                    table.comments.push(c);
                }
            }
            "limit_req_zone" => match zone(d) {
                Ok((name, key, rate)) => {
                    ctx.zones.insert(name, (key, rate));
                }
                Err(why) => {
                    let c = report.untranslated(d, &why);
                    table.comments.push(c);
                }
            },
            _ => {
                if let Err(why) = setting(d, table, &ctx) {
                    let c = report.untranslated(d, &why);
                    table.comments.push(c);
                }
            }
        }
    }
    HttpLevel {
        servers,
        names,
        ctx,
    }
}

/// A directive that may be written at `http` or `server` level: apply it
/// to the table, or say why not.
pub fn setting(d: &Directive, table: &mut Table, ctx: &Context) -> Result<(), String> {
    let a0 = d.arg(0);
    let time = || {
        values::time_ms(a0)
            .filter(|ms| *ms > 0 && *ms <= values::MAX_TIME_MS)
            .map(values::time_text)
            .ok_or_else(|| format!("`{a0}` is not a time above zero and at most 365 days"))
    };
    match d.name.as_str() {
        "client_max_body_size" => {
            route::check(d, ctx)?;
            let bytes = values::size(a0).unwrap_or(0);
            table.limits.set("body", route::body_limit_text(bytes));
        }
        "proxy_read_timeout" => table.timeouts.set("response", time()?),
        "proxy_connect_timeout" => table.timeouts.set("connect", time()?),
        "client_header_timeout" => table.timeouts.set("header_read", time()?),
        "send_timeout" => table.timeouts.set("client_send", time()?),
        "keepalive_timeout" => {
            let t = time()?;
            table.timeouts.set("client_idle", t);
        }
        "set_real_ip_from" => {
            if a0.parse::<ipnet::IpNet>().is_ok() {
                table.trusted_proxies.push(a0.to_string());
            } else if let Ok(ip) = a0.parse::<std::net::IpAddr>() {
                table
                    .trusted_proxies
                    .push(ipnet::IpNet::from(ip).to_string());
            } else {
                return Err(format!("`{a0}` is not an address or network"));
            }
        }
        "real_ip_header" if a0.eq_ignore_ascii_case("x-forwarded-for") => {}
        "real_ip_header" => {
            return Err("the gateway reads the client from X-Forwarded-For only".into());
        }
        "real_ip_recursive" => {}
        "access_log" if a0 == "off" => table.log.set("access", Value::Bool(false)),
        "access_log" => table.log.set_noted(
            "format",
            "json",
            "access_log: one JSON line per request (fixed fields)",
        ),
        "limit_conn" => {
            let n: u64 = d
                .arg(1)
                .parse()
                .map_err(|_| format!("`{}` is not a number", d.arg(1)))?;
            table
                .limits
                .set("connections_per_client", Value::Int(n as i64));
        }
        "limit_conn_zone" if a0 == "$binary_remote_addr" || a0 == "$remote_addr" => {}
        "limit_conn_zone" => {
            return Err("only per-address connection limits have an equivalent".into());
        }
        "http2_max_concurrent_streams" => {
            let n: u32 = a0
                .parse()
                .ok()
                .filter(|n| (1..=10_000).contains(n))
                .ok_or_else(|| format!("`{a0}` is not a number from 1 to 10000"))?;
            table
                .limits
                .set("http2_max_concurrent_streams", Value::Int(i64::from(n)));
        }
        "large_client_header_buffers" => {
            let size = values::size(d.arg(1)).ok_or("not a size")?;
            let n: u64 = a0.parse().map_err(|_| "not a number")?;
            let total = size.saturating_mul(n).max(1024);
            if total > 1024 * 1024 {
                return Err("request heads above 1MiB have no equivalent".into());
            }
            table.limits.set_noted(
                "headers",
                values::size_text(total),
                "large_client_header_buffers: number x size",
            );
        }
        // read by the server that listens with `ssl`
        "ssl_certificate" | "ssl_certificate_key" => {}
        name if route::INHERITED.contains(&name) => route::check(d, ctx)?,
        name if super::location::CONTENT_INHERITED.contains(&name) => {
            super::location::check_content(d)?
        }
        "proxy_ignore_headers" => catalog::ignored_headers(d)?,
        name if catalog::needs_no_translation(name) => {}
        name => return Err(catalog::why_not(name).to_string()),
    }
    Ok(())
}

/// `map $http_upgrade $connection_upgrade { default upgrade; '' close; }`:
/// the variable it sets.
fn websocket_map(d: &Directive) -> Option<String> {
    if d.arg(0) != "$http_upgrade" {
        return None;
    }
    let var = d.arg(1).strip_prefix('$')?;
    let entries: Vec<Vec<&str>> = d
        .children()
        .iter()
        .map(|e| {
            let mut v = vec![e.name.as_str()];
            v.extend(e.arg_texts());
            v
        })
        .collect();
    let upgrade = entries
        .iter()
        .any(|e| matches!(e.as_slice(), ["default", v] if v.eq_ignore_ascii_case("upgrade")));
    let close = entries
        .iter()
        .all(|e| matches!(e.as_slice(), ["default", _] | ["", "close" | ""]));
    (upgrade && close).then(|| var.to_string())
}

/// `limit_req_zone KEY zone=NAME:SIZE rate=R` as (name, table key, rate).
fn zone(d: &Directive) -> Result<(String, String, String), String> {
    let key = match d.arg(0) {
        "$binary_remote_addr" | "$remote_addr" => "client_ip".to_string(),
        k => match k.strip_prefix("$http_") {
            Some(h) if !h.is_empty() => format!("header:{}", h.replace('_', "-")),
            _ => {
                return Err(format!(
                    "zone key `{k}` has no equivalent (client address or a header)"
                ));
            }
        },
    };
    let mut name = None;
    let mut rate = None;
    for a in d.arg_texts().into_iter().skip(1) {
        if let Some(z) = a.strip_prefix("zone=") {
            name = z.split(':').next().map(str::to_string);
        } else if let Some(r) = a.strip_prefix("rate=") {
            let ok = r
                .strip_suffix("r/s")
                .or_else(|| r.strip_suffix("r/m"))
                .is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n > 0));
            if !ok {
                return Err(format!("`{a}` is not a rate"));
            }
            rate = Some(r.to_string());
        } else if a != "sync" {
            return Err(format!("`{a}` is not understood"));
        }
    }
    Ok((name.ok_or("no zone=")?, key, rate.ok_or("no rate=")?))
}
