//! `upstream` blocks and the addresses of `proxy_pass`.

use std::collections::BTreeMap;

use super::super::parse::Directive;
use super::super::values;
use super::Report;
use super::model::Upstream;

/// A name the route table accepts (letters, digits, `-`, `_`).
pub fn table_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() {
        "upstream".into()
    } else {
        cleaned
    }
}

/// `host[:port]` as an endpoint URL (`http://host:port`), or why not.
pub fn endpoint_url(address: &str) -> Result<String, String> {
    if address.starts_with("unix:") {
        return Err("UNIX-socket upstreams are not supported".into());
    }
    if values::has_request_variable(address) {
        return Err(values::variable_why("addresses", address));
    }
    if values::has_placeholder(address) {
        // `${API_HOST}:8000`: checked when the table is read, after the
        // placeholder is replaced (port 80 when none).
        return Ok(format!("http://{address}"));
    }
    let with_port = if address.starts_with('[') {
        if address.contains("]:") {
            address.to_string()
        } else {
            format!("{address}:80")
        }
    } else if address.contains(':') {
        address.to_string()
    } else {
        format!("{address}:80")
    };
    let url = format!("http://{with_port}");
    let host_ok = |u: &http::Uri| {
        u.authority().is_some_and(|a| {
            !a.as_str().contains('@') && !a.host().trim_matches(['[', ']']).is_empty()
        })
    };
    match url.parse::<http::Uri>() {
        Ok(u)
            if u.port_u16().is_some() && u.path() == "/" && u.query().is_none() && host_ok(&u) =>
        {
            Ok(url)
        }
        _ => Err(format!("`{address}` is not a host and port")),
    }
}

/// Translate an `upstream NAME { ... }` block.
pub fn block(d: &Directive, report: &mut Report) -> Upstream {
    let mut u = Upstream {
        comments: vec![format!("upstream {} ({})", d.arg(0), report.place(d))],
        balance: Some("round_robin".into()),
        ..Upstream::default()
    };
    let mut failures: Vec<(u32, String)> = Vec::new();
    for s in d.children() {
        match s.name.as_str() {
            "server" => match server(s, &mut failures) {
                Ok(Some(e)) => u.endpoints.push(e),
                Ok(None) => u
                    .comments
                    .push(format!("{}: `down`, left out", report.place(s))),
                Err(why) => u.comments.push(report.untranslated(s, &why)),
            },
            "least_conn" => u.balance = Some("p2c".into()),
            "random" if s.arg(0) == "two" => u.balance = Some("p2c".into()),
            "keepalive" | "keepalive_timeout" | "keepalive_requests" | "keepalive_time"
            | "zone" => {}
            _ => {
                let why = match s.name.as_str() {
                    "ip_hash" | "hash" | "sticky" | "random" => {
                        "session affinity by address or key has no equivalent".to_string()
                    }
                    name => super::catalog::why_not(name).to_string(),
                };
                u.comments.push(report.untranslated(s, &why));
            }
        }
    }
    failures.dedup();
    if let Some(first) = failures.first() {
        u.outlier = Some(first.clone());
    }
    if failures.len() > 1 {
        u.comments.push(format!(
            "{}: servers with different max_fails/fail_timeout: the first is used",
            report.place(d)
        ));
    }
    u
}

/// One `server` line: its endpoint, `None` when `down`.
fn server(
    s: &Directive,
    failures: &mut Vec<(u32, String)>,
) -> Result<Option<(String, u32, bool)>, String> {
    let url = endpoint_url(s.arg(0))?;
    let mut weight = 1u32;
    let mut backup = false;
    let mut max_fails: Option<u32> = None;
    let mut fail_timeout: Option<u64> = None;
    for p in s.args.iter().skip(1).map(|w| w.text.as_str()) {
        if let Some(v) = p.strip_prefix("weight=") {
            weight = v
                .parse()
                .ok()
                .filter(|w| (1..=1000).contains(w))
                .ok_or_else(|| format!("`{p}`: weight must be 1 to 1000"))?;
        } else if let Some(v) = p.strip_prefix("max_fails=") {
            max_fails = Some(
                v.parse()
                    .ok()
                    .filter(|n| *n <= 1000)
                    .ok_or_else(|| format!("`{p}`: max_fails must be 0 to 1000"))?,
            );
        } else if let Some(v) = p.strip_prefix("fail_timeout=") {
            fail_timeout = Some(
                values::time_ms(v)
                    .filter(|ms| *ms >= 10 && *ms <= values::MAX_TIME_MS)
                    .ok_or_else(|| {
                        format!("`{p}`: fail_timeout must be a time from 10ms to 365 days")
                    })?,
            );
        } else if p == "down" {
            return Ok(None);
        } else if p == "backup" {
            backup = true;
        } else if p.starts_with("max_conns=") || p == "resolve" || p.starts_with("service=") {
            // connection caps and re-resolution are the gateway's own settings
        } else {
            return Err(format!("`{p}` is not understood"));
        }
    }
    match (max_fails, fail_timeout) {
        (Some(0), _) => {}
        (None, None) => {}
        (fails, timeout) => failures.push((
            fails.unwrap_or(1),
            values::time_text(timeout.unwrap_or(10_000).max(1)),
        )),
    }
    Ok(Some((url, weight, backup)))
}

/// The upstream a `proxy_pass` address goes to: an `upstream` block of that
/// name, or one made for the address (named after its host).
pub fn for_address(
    address: &str,
    blocks: &BTreeMap<String, String>,
    upstreams: &mut BTreeMap<String, Upstream>,
) -> Result<String, String> {
    if let Some(table) = blocks.get(address) {
        return Ok(table.clone());
    }
    let url = endpoint_url(address)?;
    let host = address
        .trim_start_matches('[')
        .split([']', ':'])
        .next()
        .unwrap_or(address);
    let wanted = Upstream {
        comments: vec![format!("from proxy_pass http://{address}")],
        endpoints: vec![(url, 1, false)],
        ..Upstream::default()
    };
    let base = if values::has_placeholder(host) {
        table_name(&host.replace("${", "").replace('}', "").to_ascii_lowercase())
    } else {
        table_name(host)
    };
    let mut name = base.clone();
    let mut n = 2;
    loop {
        match upstreams.get(&name) {
            None => {
                upstreams.insert(name.clone(), wanted);
                return Ok(name);
            }
            // `upstream users { server users:8000; }` with `proxy_pass http://users:8000`
            Some(u) if u.endpoints == wanted.endpoints => return Ok(name),
            Some(_) => {
                name = format!("{base}-{n}");
                n += 1;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn addresses_become_endpoint_urls() {
        assert_eq!(endpoint_url("users:8000").unwrap(), "http://users:8000");
        assert_eq!(endpoint_url("backend").unwrap(), "http://backend:80");
        assert_eq!(endpoint_url("[::1]:81").unwrap(), "http://[::1]:81");
        assert!(endpoint_url("unix:/run/app.sock").is_err());
        assert!(endpoint_url("$backend").is_err());
        assert!(endpoint_url("a b:80").is_err());
        assert!(endpoint_url("@10.0.0.1:80").is_err());
        assert!(endpoint_url(":80").is_err());
    }

    #[test]
    fn names_are_made_acceptable() {
        assert_eq!(table_name("api.internal"), "api_internal");
        assert_eq!(table_name("users"), "users");
    }

    #[test]
    fn direct_addresses_share_an_upstream_per_host_and_port() {
        let mut ups = BTreeMap::new();
        let blocks = BTreeMap::new();
        assert_eq!(
            for_address("users:8000", &blocks, &mut ups).unwrap(),
            "users"
        );
        assert_eq!(
            for_address("users:8000", &blocks, &mut ups).unwrap(),
            "users"
        );
        assert_eq!(
            for_address("users:9000", &blocks, &mut ups).unwrap(),
            "users-2"
        );
    }
}
