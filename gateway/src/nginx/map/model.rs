//! The route table being built, in the shape of the gateway's schema
//! (`config/schema.rs`), and its rendering as TOML sections.

use std::collections::BTreeMap;

use super::super::emit::{Section, Value};

/// The whole table.
#[derive(Debug, Default)]
pub struct Table {
    /// Comments at the top (the report).
    pub comments: Vec<String>,
    /// `trusted_proxies`.
    pub trusted_proxies: Vec<String>,
    /// `[listen] public`.
    pub listen: Option<(String, String)>,
    /// `[limits]` keys.
    pub limits: Section,
    /// `[timeouts]` keys.
    pub timeouts: Section,
    /// `[log]` keys.
    pub log: Section,
    /// `[upstreams.<name>]`.
    pub upstreams: BTreeMap<String, Upstream>,
    /// `[[routes]]` (the default server's, when only one server).
    pub routes: Vec<Route>,
    /// `[[servers]]`, when the file has several virtual servers.
    pub servers: Vec<Server>,
    /// `[tls]` keys other than certificates.
    pub tls: Section,
    /// `[[tls.certificates]]`: cert, key, where from.
    pub certificates: Vec<(String, String, String)>,
}

/// One upstream.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Upstream {
    /// Comments above it.
    pub comments: Vec<String>,
    /// `(url, weight, backup)`.
    pub endpoints: Vec<(String, u32, bool)>,
    /// `round_robin` or `p2c`.
    pub balance: Option<String>,
    /// `connect_timeout`.
    pub connect_timeout: Option<String>,
    /// `[outlier]`: consecutive failures and ejection.
    pub outlier: Option<(u32, String)>,
}

/// One `[[servers]]`.
#[derive(Debug, Default, Clone)]
pub struct Server {
    /// Comments above it (the server block).
    pub comments: Vec<String>,
    /// `names`.
    pub names: Vec<String>,
    /// `default`.
    pub default: bool,
    /// Its own plain listeners (`listen`); none: the table's.
    pub listen: Vec<String>,
    /// Its own TLS listeners (`listen_tls`).
    pub listen_tls: Vec<String>,
    /// `[[servers.routes]]`.
    pub routes: Vec<Route>,
}

/// `return`: status, redirect location, body.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Return {
    /// The status.
    pub status: u16,
    /// `location` of a redirect.
    pub location: Option<String>,
    /// `body` of another status.
    pub body: Option<String>,
}

/// One `rewrite`: regex, replacement, flag.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Rewrite {
    /// The regex.
    pub regex: String,
    /// The replacement.
    pub replacement: String,
    /// `last`, `break`, `redirect`, `permanent`.
    pub flag: Option<String>,
}

/// One `error_page`: statuses, target, replacement status.
#[derive(Debug, Default, Clone)]
pub struct ErrorPage {
    /// Where it is written (for the report).
    pub directive: Option<super::super::parse::Directive>,
    /// The statuses.
    pub status: Vec<u16>,
    /// The URI or `@name`.
    pub uri: String,
    /// `=CODE`.
    pub code: Option<u16>,
}

/// One route.
#[derive(Debug, Default, Clone)]
pub struct Route {
    /// Comments above it (the location, and what was not translated).
    pub comments: Vec<String>,
    /// `prefix` (when `location` is not set).
    pub prefix: String,
    /// `location`: NGINX's location as written after the keyword.
    pub location: Option<String>,
    /// `upstream` (empty: no proxy).
    pub upstream: String,
    /// `strip_prefix`.
    pub strip_prefix: bool,
    /// `upstream_path`.
    pub upstream_path: Option<String>,
    /// `return`.
    pub ret: Option<Return>,
    /// `rewrite`.
    pub rewrite: Vec<Rewrite>,
    /// `access`.
    pub access: Vec<String>,
    /// `internal`.
    pub internal: bool,
    /// `files`.
    pub files: Option<Section>,
    /// `basic_auth`: realm, file.
    pub basic_auth: Option<(String, String)>,
    /// `error_pages`.
    pub error_pages: Vec<ErrorPage>,
    /// `intercept_errors`.
    pub intercept_errors: bool,
    /// `upgrades`.
    pub upgrades: bool,
    /// `[routes.proxy_redirect]`.
    pub proxy_redirect: Option<Section>,
    /// `host = "upstream"` when true.
    pub upstream_host: bool,
    /// `body_limit`.
    pub body_limit: Option<String>,
    /// `response_timeout`.
    pub response_timeout: Option<String>,
    /// `[routes.headers]`.
    pub headers: Headers,
    /// `[routes.compression]`.
    pub compression: Option<Section>,
    /// `[routes.rate_limit]`.
    pub rate_limit: Option<Section>,
    /// `[routes.cors]`.
    pub cors: Option<Section>,
}

/// `[routes.headers]`.
#[derive(Debug, Default, Clone)]
pub struct Headers {
    /// `request_set`.
    pub request_set: Vec<(String, String)>,
    /// `request_remove`.
    pub request_remove: Vec<String>,
    /// `response_add`.
    pub response_add: Vec<(String, String)>,
    /// `response_remove`.
    pub response_remove: Vec<String>,
}

fn pairs(list: &[(String, String)]) -> Value {
    Value::Inline(
        list.iter()
            .map(|(k, v)| (k.clone(), Value::Str(v.clone())))
            .collect(),
    )
}

fn strings(list: &[String]) -> Value {
    Value::Array(list.iter().map(|s| Value::Str(s.clone())).collect())
}

impl Table {
    /// The sections in the order `gateway.toml` has them.
    pub fn sections(&self) -> Vec<Section> {
        let mut out = Vec::new();
        let mut top = Section::new("");
        top.comments = self.comments.clone();
        top.set("trusted_proxies", strings(&self.trusted_proxies));
        out.push(top);
        let mut listen = Section::new("[listen]");
        if let Some((addr, from)) = &self.listen {
            listen.set_noted("public", addr.as_str(), from.as_str());
        }
        out.push(listen);
        for (name, s) in [
            ("[limits]", &self.limits),
            ("[timeouts]", &self.timeouts),
            ("[log]", &self.log),
        ] {
            let mut s = s.clone();
            s.header = name.to_string();
            out.push(s);
        }
        for (name, u) in &self.upstreams {
            out.extend(u.sections(name));
        }
        for r in &self.routes {
            out.extend(r.sections("routes"));
        }
        for server in &self.servers {
            let mut s = Section::new("[[servers]]");
            s.comments = server.comments.clone();
            if !server.names.is_empty() {
                s.set("names", strings(&server.names));
            }
            if server.default {
                s.set("default", Value::Bool(true));
            }
            if !server.listen.is_empty() {
                s.set("listen", strings(&server.listen));
            }
            if !server.listen_tls.is_empty() {
                s.set("listen_tls", strings(&server.listen_tls));
            }
            out.push(s);
            for r in &server.routes {
                out.extend(r.sections("servers.routes"));
            }
        }
        let mut tls = self.tls.clone();
        tls.header = "[tls]".into();
        out.push(tls);
        for (cert, key, from) in &self.certificates {
            let mut s = Section::new("[[tls.certificates]]");
            s.comments.push(from.clone());
            s.set("cert", cert.as_str());
            s.set("key", key.as_str());
            out.push(s);
        }
        out
    }
}

impl Upstream {
    fn sections(&self, name: &str) -> Vec<Section> {
        let header = super::super::emit::key(name);
        let mut s = Section::new(format!("[upstreams.{header}]"));
        s.comments = self.comments.clone();
        let endpoints = self
            .endpoints
            .iter()
            .map(|(url, w, backup)| match (w, backup) {
                (1, false) => Value::Str(url.clone()),
                (w, backup) => {
                    let mut t = vec![("url".into(), Value::Str(url.clone()))];
                    if *w != 1 {
                        t.push(("weight".into(), Value::Int(i64::from(*w))));
                    }
                    if *backup {
                        t.push(("backup".into(), Value::Bool(true)));
                    }
                    Value::Inline(t)
                }
            })
            .collect();
        s.set("endpoints", Value::Array(endpoints));
        if let Some(b) = self.balance.as_ref().filter(|_| self.endpoints.len() > 1) {
            s.set("balance", b.as_str());
        }
        if let Some(t) = &self.connect_timeout {
            s.set("connect_timeout", t.as_str());
        }
        let mut out = vec![s];
        if let Some((fails, ejection)) = &self.outlier {
            let mut o = Section::new(format!("[upstreams.{header}.outlier]"));
            o.set(
                "consecutive_connect_failures",
                Value::Int(i64::from(*fails)),
            );
            o.set("base_ejection", ejection.as_str());
            out.push(o);
        }
        out
    }
}

impl Route {
    fn sections(&self, at: &str) -> Vec<Section> {
        let mut s = Section::new(format!("[[{at}]]"));
        s.comments = self.comments.clone();
        match &self.location {
            Some(l) => s.set("location", l.as_str()),
            None => s.set("prefix", self.prefix.as_str()),
        }
        if !self.upstream.is_empty() {
            s.set("upstream", self.upstream.as_str());
            if self.location.is_none() && !self.strip_prefix {
                s.set("strip_prefix", Value::Bool(false));
            }
            if self.location.is_some() && self.strip_prefix {
                s.set("strip_prefix", Value::Bool(true));
            }
        }
        if let Some(p) = &self.upstream_path {
            s.set("upstream_path", p.as_str());
        }
        if self.internal {
            s.set("internal", Value::Bool(true));
        }
        if let Some(r) = &self.ret {
            let mut fields = vec![("status".to_string(), Value::Int(i64::from(r.status)))];
            if let Some(l) = &r.location {
                fields.push(("location".into(), Value::Str(l.clone())));
            }
            if let Some(b) = &r.body {
                fields.push(("body".into(), Value::Str(b.clone())));
            }
            s.set("return", Value::Inline(fields));
        }
        if !self.rewrite.is_empty() {
            let items = self
                .rewrite
                .iter()
                .map(|r| {
                    let mut f = vec![
                        ("regex".to_string(), Value::Str(r.regex.clone())),
                        ("replacement".to_string(), Value::Str(r.replacement.clone())),
                    ];
                    if let Some(flag) = &r.flag {
                        f.push(("flag".into(), Value::Str(flag.clone())));
                    }
                    Value::Inline(f)
                })
                .collect();
            s.set("rewrite", Value::Array(items));
        }
        if !self.access.is_empty() {
            s.set("access", strings(&self.access));
        }
        if let Some((realm, file)) = &self.basic_auth {
            s.set(
                "basic_auth",
                Value::Inline(vec![
                    ("realm".into(), Value::Str(realm.clone())),
                    ("file".into(), Value::Str(file.clone())),
                ]),
            );
        }
        if !self.error_pages.is_empty() {
            let items = self
                .error_pages
                .iter()
                .map(|p| {
                    let mut f = vec![
                        (
                            "status".to_string(),
                            Value::Array(
                                p.status.iter().map(|s| Value::Int(i64::from(*s))).collect(),
                            ),
                        ),
                        ("uri".to_string(), Value::Str(p.uri.clone())),
                    ];
                    if let Some(c) = p.code {
                        f.push(("code".into(), Value::Int(i64::from(c))));
                    }
                    Value::Inline(f)
                })
                .collect();
            s.set("error_pages", Value::Array(items));
        }
        if self.intercept_errors {
            s.set("intercept_errors", Value::Bool(true));
        }
        if self.upgrades {
            s.set("upgrades", Value::Bool(true));
        }
        if self.upstream_host && !self.upstream.is_empty() {
            s.set_noted(
                "host",
                "upstream",
                "no `proxy_set_header Host`: NGINX sends $proxy_host",
            );
        }
        if let Some(b) = &self.body_limit {
            s.set("body_limit", b.as_str());
        }
        if let Some(t) = &self.response_timeout {
            s.set("response_timeout", t.as_str());
        }
        let mut out = vec![s];
        let h = &self.headers;
        let mut hs = Section::new(format!("[{at}.headers]"));
        if !h.request_set.is_empty() {
            hs.set("request_set", pairs(&h.request_set));
        }
        if !h.request_remove.is_empty() {
            hs.set("request_remove", strings(&h.request_remove));
        }
        if !h.response_add.is_empty() {
            hs.set("response_add", pairs(&h.response_add));
        }
        if !h.response_remove.is_empty() {
            hs.set("response_remove", strings(&h.response_remove));
        }
        out.push(hs);
        for (name, t) in [
            ("compression", &self.compression),
            ("rate_limit", &self.rate_limit),
            ("cors", &self.cors),
            ("files", &self.files),
            ("proxy_redirect", &self.proxy_redirect),
        ] {
            if let Some(t) = t {
                let mut t = t.clone();
                t.header = format!("[{at}.{name}]");
                out.push(t);
            }
        }
        out
    }
}
