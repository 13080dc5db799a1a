//! The CORS recipe: `if ($request_method = OPTIONS) { add_header
//! Access-Control-...; return 204; }` beside `add_header
//! Access-Control-Allow-Origin ... always;` becomes `[routes.cors]`.

use super::super::emit::{Section, Value};
use super::super::parse::Directive;

/// Whether `d` is `if ($request_method = OPTIONS) {...}`.
pub fn is_preflight_if(d: &Directive) -> bool {
    let cond: String = d
        .arg_texts()
        .concat()
        .chars()
        .filter(|c| !matches!(c, '(' | ')' | ' '))
        .collect();
    d.name == "if" && cond == "$request_method=OPTIONS"
}

fn origin_ok(o: &str) -> bool {
    if o == "*" {
        return true;
    }
    let Some(rest) = o
        .strip_prefix("https://")
        .or_else(|| o.strip_prefix("http://"))
    else {
        return false;
    };
    let (host, port) = rest.split_once(':').unwrap_or((rest, "1"));
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && port.parse::<u16>().is_ok_and(|p| p > 0)
}

/// A comma-separated list, each entry once (compared case-insensitively).
fn list(v: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(item)) {
            out.push(item.to_string());
        }
    }
    out
}

/// `[routes.cors]` from the preflight block and the location's own
/// `add_header Access-Control-*` lines, or why not.
pub fn section(preflight: &Directive, location: &[Directive]) -> Result<Section, String> {
    let mut origin = None;
    let mut methods = Vec::new();
    let mut headers = Vec::new();
    let mut expose = Vec::new();
    let mut max_age = None;
    let mut credentials = false;
    let mut returns = false;
    let outer = location.iter().filter(|d| d.name == "add_header");
    for d in preflight.children().iter().chain(outer) {
        match (d.name.as_str(), d.arg(0).to_ascii_lowercase().as_str()) {
            ("add_header", "access-control-allow-origin") => origin = Some(d.arg(1).to_string()),
            ("add_header", "access-control-allow-methods") => methods = list(d.arg(1)),
            ("add_header", "access-control-allow-headers") => headers = list(d.arg(1)),
            ("add_header", "access-control-expose-headers") => expose = list(d.arg(1)),
            ("add_header", "access-control-allow-credentials") => credentials = d.arg(1) == "true",
            ("add_header", "access-control-max-age") => {
                max_age = Some(
                    d.arg(1)
                        .parse::<u64>()
                        .map_err(|_| "Access-Control-Max-Age is not a number")?,
                )
            }
            ("add_header", "content-type" | "content-length" | "vary") => {}
            ("add_header", _) if !preflight.children().iter().any(|x| std::ptr::eq(x, d)) => {}
            ("return", _) if matches!(d.arg(0), "200" | "204") => returns = true,
            _ => {
                return Err(format!(
                    "`{}` in the OPTIONS block is beyond the CORS recipe",
                    d.name
                ));
            }
        }
    }
    let origin = origin.ok_or("no Access-Control-Allow-Origin")?;
    if !returns {
        return Err("the OPTIONS block does not answer 204".into());
    }
    if !origin_ok(&origin) || (origin == "*" && credentials) {
        return Err(format!("the origin `{origin}` has no equivalent"));
    }
    let token = |s: &String| http::HeaderName::from_bytes(s.as_bytes()).is_ok() && s != "*";
    if !methods
        .iter()
        .all(|m| http::Method::from_bytes(m.to_ascii_uppercase().as_bytes()).is_ok() && m != "*")
        || !headers.iter().all(token)
        || !expose.iter().all(token)
    {
        return Err("methods or headers beyond a plain list".into());
    }
    let mut s = Section::new("");
    s.set_noted(
        "allow_origins",
        Value::Array(vec![origin.into()]),
        "the gateway checks Origin and answers only real preflights",
    );
    if !methods.is_empty() {
        let upper: Vec<String> = methods.iter().map(|m| m.to_ascii_uppercase()).collect();
        s.set(
            "allow_methods",
            Value::Array(upper.into_iter().map(Value::Str).collect()),
        );
    }
    if !headers.is_empty() {
        s.set(
            "allow_headers",
            Value::Array(headers.into_iter().map(Value::Str).collect()),
        );
    }
    if !expose.is_empty() {
        s.set(
            "expose_headers",
            Value::Array(expose.into_iter().map(Value::Str).collect()),
        );
    }
    if credentials {
        s.set("allow_credentials", Value::Bool(true));
    }
    if let Some(age) = max_age {
        s.set("max_age", format!("{age}s"));
    }
    Ok(s)
}
