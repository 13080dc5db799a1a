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
    /// `[[routes]]`.
    pub routes: Vec<Route>,
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
    /// `(url, weight)`.
    pub endpoints: Vec<(String, u32)>,
    /// `round_robin` or `p2c`.
    pub balance: Option<String>,
    /// `connect_timeout`.
    pub connect_timeout: Option<String>,
    /// `[outlier]`: consecutive failures and ejection.
    pub outlier: Option<(u32, String)>,
}

/// One route.
#[derive(Debug, Default, Clone)]
pub struct Route {
    /// Comments above it (the location, and what was not translated).
    pub comments: Vec<String>,
    /// `prefix`.
    pub prefix: String,
    /// `upstream`.
    pub upstream: String,
    /// `strip_prefix`.
    pub strip_prefix: bool,
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
            out.extend(r.sections());
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
            .map(|(url, w)| match w {
                1 => Value::Str(url.clone()),
                w => Value::Inline(vec![
                    ("url".into(), Value::Str(url.clone())),
                    ("weight".into(), Value::Int(i64::from(*w))),
                ]),
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
    fn sections(&self) -> Vec<Section> {
        let mut s = Section::new("[[routes]]");
        s.comments = self.comments.clone();
        s.set("prefix", self.prefix.as_str());
        s.set("upstream", self.upstream.as_str());
        if !self.strip_prefix {
            s.set("strip_prefix", Value::Bool(false));
        }
        if self.upstream_host {
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
        let mut hs = Section::new("[routes.headers]");
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
            ("[routes.compression]", &self.compression),
            ("[routes.rate_limit]", &self.rate_limit),
            ("[routes.cors]", &self.cors),
        ] {
            if let Some(t) = t {
                let mut t = t.clone();
                t.header = name.to_string();
                out.push(t);
            }
        }
        out
    }
}
