//! The settings a route inherits from `http`, `server` and `location`,
//! with NGINX's inheritance: a scalar from the innermost level that sets
//! it; `proxy_set_header`, `add_header`, `proxy_hide_header` and
//! `limit_req` from the innermost level that has any (a location with one
//! `add_header` drops every server-level one).

use std::collections::BTreeMap;

use super::super::emit::{Section, Value};
use super::super::parse::Directive;
use super::super::values;
use super::model::Route;

/// Names read here, wherever they are written.
pub const INHERITED: &[&str] = &[
    "proxy_set_header",
    "add_header",
    "proxy_hide_header",
    "gzip",
    "gzip_types",
    "gzip_min_length",
    "gzip_comp_level",
    "client_max_body_size",
    "proxy_read_timeout",
    "proxy_connect_timeout",
    "limit_req",
    "limit_req_status",
];

/// Headers the route table owns or refuses in rules (`config/policies/header_rules.rs`).
const RESERVED: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "transfer-encoding",
    "upgrade",
    "trailer",
    "content-length",
    "host",
    "x-request-id",
];

/// What the routes need to know about the rest of the file.
#[derive(Debug, Default)]
pub struct Context {
    /// `limit_req_zone` by zone name: (route-table key, rate).
    pub zones: BTreeMap<String, (String, String)>,
    /// Variables made by the WebSocket `map $http_upgrade $x {...}` idiom.
    pub upgrade_vars: Vec<String>,
    /// The port the server listens on, when only one.
    pub port: Option<u16>,
}

/// A `proxy_set_header` the gateway already does by itself.
fn built_in_request_header(name: &str, value: &str, ctx: &Context) -> bool {
    let upgrade_var = value
        .strip_prefix('$')
        .is_some_and(|v| ctx.upgrade_vars.iter().any(|u| u == v));
    match name.to_ascii_lowercase().as_str() {
        "host" => matches!(value, "$host" | "$http_host" | "$proxy_host"),
        "x-real-ip" => value == "$remote_addr",
        "x-forwarded-for" => matches!(value, "$proxy_add_x_forwarded_for" | "$remote_addr"),
        "x-forwarded-proto" | "x-forwarded-scheme" => value == "$scheme",
        "x-forwarded-host" => matches!(value, "$host" | "$http_host" | "$server_name"),
        "upgrade" => value == "$http_upgrade",
        "connection" => upgrade_var || value.eq_ignore_ascii_case("upgrade") || value.is_empty(),
        "x-request-id" => value == "$request_id",
        _ => false,
    }
}

/// A header the route table accepts in a rule.
fn header_ok(name: &str, value: Option<&str>) -> Result<(), String> {
    if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(format!("`{name}` is not a header name"));
    }
    if value.is_some_and(|v| http::HeaderValue::from_str(v).is_err()) {
        return Err(format!("the value of `{name}` is not a header value"));
    }
    Ok(())
}

/// A `gzip_types` entry the route table accepts (`type/subtype`).
fn content_type_ok(t: &str) -> bool {
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-*".contains(&b))
    };
    t == "*"
        || t.split_once('/')
            .is_some_and(|(ty, sub)| token(ty) && ty != "*" && token(sub))
}

/// Whether this inherited directive can be translated, and why not.
pub fn check(d: &Directive, ctx: &Context) -> Result<(), String> {
    let args = d.arg_texts();
    if matches!(
        d.name.as_str(),
        "proxy_set_header" | "add_header" | "proxy_hide_header"
    ) {
        header_ok(d.arg(0), args.get(1).copied())?;
    }
    match (d.name.as_str(), args.as_slice()) {
        ("proxy_set_header", [name, value]) => {
            if built_in_request_header(name, value, ctx) {
                return Ok(());
            }
            if name.eq_ignore_ascii_case("x-forwarded-port") && *value == "$server_port" {
                return ctx
                    .port
                    .map(|_| ())
                    .ok_or_else(|| "$server_port with several listen ports".to_string());
            }
            if RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
                return Err(format!(
                    "`{name}: {value}` cannot be expressed (the gateway owns `{name}`)"
                ));
            }
            if values::has_request_variable(value) {
                return Err(values::variable_why("header values", value));
            }
            Ok(())
        }
        ("add_header", [name, value] | [name, value, "always"]) => {
            if RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
                return Err(format!("the gateway owns `{name}`"));
            }
            if values::has_request_variable(value) {
                return Err(values::variable_why("header values", value));
            }
            Ok(())
        }
        ("proxy_hide_header", [name]) => {
            if RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
                return Err(format!("the gateway owns `{name}`"));
            }
            Ok(())
        }
        ("gzip", ["on" | "off"]) => Ok(()),
        ("gzip_types", types) if !types.is_empty() => {
            match types.iter().find(|t| !content_type_ok(t)) {
                Some(t) => Err(format!("`{t}` is not a content type")),
                None => Ok(()),
            }
        }
        ("gzip_min_length", [n]) if values::size(n).is_some() => Ok(()),
        ("gzip_comp_level", [n]) if n.parse::<u32>().is_ok_and(|l| (1..=9).contains(&l)) => Ok(()),
        ("client_max_body_size", [n]) if values::size(n).is_some() => Ok(()),
        ("proxy_read_timeout" | "proxy_connect_timeout", [t])
            if values::time_ms(t).is_some_and(|ms| ms > 0 && ms <= values::MAX_TIME_MS) =>
        {
            Ok(())
        }
        ("limit_req", args) => limit_req(args, ctx).map(|_| ()),
        ("limit_req_status", ["429"]) => Ok(()),
        ("limit_req_status", [_]) => {
            Err("the gateway always answers 429 to a client over its rate".into())
        }
        _ => Err(format!("`{} {}` is not understood", d.name, args.join(" "))),
    }
}

/// `limit_req zone=NAME [burst=N] [nodelay]` as (key, rate, burst).
fn limit_req(args: &[&str], ctx: &Context) -> Result<(String, String, u32), String> {
    let mut zone = None;
    let mut burst = 0u32;
    let mut nodelay = false;
    for a in args {
        if let Some(z) = a.strip_prefix("zone=") {
            zone = Some(z);
        } else if let Some(b) = a.strip_prefix("burst=") {
            burst = b.parse().map_err(|_| format!("`{a}` is not a number"))?;
        } else if *a == "nodelay" {
            nodelay = true;
        } else {
            return Err(format!(
                "`{a}`: delayed requests (`delay=`) are never queued by the gateway"
            ));
        }
    }
    if !nodelay {
        return Err("without `nodelay` NGINX queues requests over the rate; the gateway refuses them (it always behaves like `nodelay`)".into());
    }
    let zone = zone.ok_or("no zone=")?;
    let (key, rate) = ctx
        .zones
        .get(zone)
        .ok_or_else(|| format!("zone `{zone}` has no translatable limit_req_zone"))?;
    Ok((key.clone(), rate.clone(), burst.max(1)))
}

fn innermost<'a>(levels: &[&'a [Directive]], name: &str) -> Option<&'a Directive> {
    levels
        .iter()
        .rev()
        .find_map(|l| l.iter().rev().find(|d| d.name == name))
}

fn innermost_all<'a>(levels: &[&'a [Directive]], name: &str) -> Vec<&'a Directive> {
    levels
        .iter()
        .rev()
        .map(|l| l.iter().filter(|d| d.name == name).collect::<Vec<_>>())
        .find(|v| !v.is_empty())
        .unwrap_or_default()
}

/// Fill `route` from `levels` (http, server, location). Values from the
/// `http` level are the table's defaults (`[limits]`, `[timeouts]`), so
/// only `server` and `location` give per-route ones.
pub fn apply(levels: &[&[Directive]], ctx: &Context, route: &mut Route) {
    let ok = |d: &&Directive| check(d, ctx).is_ok();
    let own = levels.get(1..).unwrap_or_default();
    if let Some(d) = innermost(own, "client_max_body_size").filter(ok) {
        route.body_limit = values::size(d.arg(0)).map(body_limit_text);
    }
    if let Some(d) = innermost(own, "proxy_read_timeout").filter(ok) {
        route.response_timeout = values::time_ms(d.arg(0)).map(values::time_text);
    }
    let set_headers = innermost_all(levels, "proxy_set_header");
    route.upstream_host = !set_headers
        .iter()
        .any(|d| d.arg(0).eq_ignore_ascii_case("host"));
    if set_headers
        .iter()
        .any(|d| d.arg(0).eq_ignore_ascii_case("host") && d.arg(1) == "$proxy_host")
    {
        route.upstream_host = true;
    }
    route.upgrades = set_headers
        .iter()
        .any(|d| d.arg(0).eq_ignore_ascii_case("upgrade") && d.arg(1) == "$http_upgrade");
    for d in set_headers.into_iter().filter(ok) {
        let (name, value) = (d.arg(0), d.arg(1));
        if name.eq_ignore_ascii_case("x-forwarded-port") && value == "$server_port" {
            if let Some(port) = ctx.port {
                route
                    .headers
                    .request_set
                    .push((name.into(), port.to_string()));
            }
        } else if built_in_request_header(name, value, ctx) {
        } else if value.is_empty() {
            route.headers.request_remove.push(name.into());
        } else {
            set_once(&mut route.headers.request_set, name, value);
        }
    }
    for d in innermost_all(levels, "add_header").into_iter().filter(ok) {
        set_once(&mut route.headers.response_add, d.arg(0), d.arg(1));
    }
    for d in innermost_all(levels, "proxy_hide_header")
        .into_iter()
        .filter(ok)
    {
        route.headers.response_remove.push(d.arg(0).into());
    }
    if innermost(levels, "gzip")
        .filter(ok)
        .is_some_and(|d| d.arg(0) == "on")
    {
        route.compression = Some(compression(levels, ok));
    }
    if let Some(d) = innermost_all(levels, "limit_req").into_iter().find(ok)
        && let Ok((key, rate, burst)) = limit_req(&d.arg_texts(), ctx)
    {
        let mut s = Section::new("");
        s.set("rate", rate);
        s.set("burst", Value::Int(i64::from(burst)));
        if key != "client_ip" {
            s.set("key", key);
        }
        route.rate_limit = Some(s);
    }
}

/// `client_max_body_size` as a `body_limit`; `0` (no limit) as the largest.
pub fn body_limit_text(bytes: u64) -> String {
    if bytes == 0 {
        "1024GiB".into()
    } else {
        values::size_text(bytes)
    }
}

fn set_once(list: &mut Vec<(String, String)>, name: &str, value: &str) {
    if !list.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
        list.push((name.into(), value.into()));
    }
}

fn compression(levels: &[&[Directive]], ok: impl Fn(&&Directive) -> bool) -> Section {
    let mut s = Section::new("");
    s.set("algorithms", Value::Array(vec!["gzip".into()]));
    let level = innermost(levels, "gzip_comp_level")
        .filter(&ok)
        .and_then(|d| d.arg(0).parse::<i64>().ok())
        .unwrap_or(1);
    s.set_noted(
        "gzip_level",
        Value::Int(level),
        "gzip_comp_level (NGINX's default 1)",
    );
    let min = innermost(levels, "gzip_min_length")
        .filter(&ok)
        .and_then(|d| values::size(d.arg(0)))
        .unwrap_or(20);
    s.set("min_size", values::size_text(min));
    let mut types = vec![Value::from("text/html")];
    if let Some(d) = innermost(levels, "gzip_types").filter(&ok) {
        if d.args.iter().any(|w| w.text == "*") {
            s.set_noted(
                "types",
                Value::Array(vec![
                    "text/*".into(),
                    "application/*".into(),
                    "image/svg+xml".into(),
                ]),
                "gzip_types *",
            );
            return s;
        }
        for w in &d.args {
            let t = Value::from(w.text.to_ascii_lowercase());
            if !types.contains(&t) {
                types.push(t);
            }
        }
    }
    s.set("types", Value::Array(types));
    s
}
