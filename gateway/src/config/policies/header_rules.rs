//! `[routes.headers]`: headers set, added and removed on the request going
//! upstream and on the response going to the client. Headers that frame
//! the message or that the gateway itself owns cannot be touched.

use std::collections::BTreeMap;

use http::{HeaderName, HeaderValue};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use super::super::error::{Checker, ConfigError};

/// Headers no rule may name: message framing, hop-by-hop, and what the
/// gateway sets itself (`Host` has the route's `host` key).
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

/// `[routes.headers]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HeaderRulesSection {
    /// Request headers replaced (or created).
    #[serde(default)]
    pub(crate) request_set: BTreeMap<String, String>,
    /// Request headers appended to (kept if present).
    #[serde(default)]
    pub(crate) request_add: BTreeMap<String, String>,
    /// Request headers removed.
    #[serde(default)]
    pub(crate) request_remove: Vec<String>,
    /// Response headers replaced (or created).
    #[serde(default)]
    pub(crate) response_set: BTreeMap<String, String>,
    /// Response headers appended to.
    #[serde(default)]
    pub(crate) response_add: BTreeMap<String, String>,
    /// Response headers removed.
    #[serde(default)]
    pub(crate) response_remove: Vec<String>,
}

/// Rules for one direction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct HeaderEdits {
    /// Replaced.
    #[serde(serialize_with = "redacted")]
    pub(crate) set: Vec<(HeaderName, HeaderValue)>,
    /// Appended.
    #[serde(serialize_with = "redacted")]
    pub(crate) add: Vec<(HeaderName, HeaderValue)>,
    /// Removed.
    #[serde(serialize_with = "names")]
    pub(crate) remove: Vec<HeaderName>,
}

impl HeaderEdits {
    /// Whether there is nothing to do.
    pub(crate) fn is_empty(&self) -> bool {
        self.set.is_empty() && self.add.is_empty() && self.remove.is_empty()
    }
}

/// A validated `[routes.headers]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct HeaderRulesConfig {
    /// On the request to the upstream.
    pub(crate) request: HeaderEdits,
    /// On the response to the client.
    pub(crate) response: HeaderEdits,
}

/// Validate `[routes.headers]`.
pub(super) fn validate(
    c: &Checker<'_>,
    key: &str,
    s: &HeaderRulesSection,
) -> Result<HeaderRulesConfig, ConfigError> {
    Ok(HeaderRulesConfig {
        request: edits(
            c,
            key,
            "request",
            &s.request_set,
            &s.request_add,
            &s.request_remove,
        )?,
        response: edits(
            c,
            key,
            "response",
            &s.response_set,
            &s.response_add,
            &s.response_remove,
        )?,
    })
}

fn edits(
    c: &Checker<'_>,
    key: &str,
    side: &str,
    set: &BTreeMap<String, String>,
    add: &BTreeMap<String, String>,
    remove: &[String],
) -> Result<HeaderEdits, ConfigError> {
    let pairs = |field: &str, map: &BTreeMap<String, String>| {
        map.iter()
            .map(|(n, v)| {
                let k = format!("{key}.{side}_{field}.{n}");
                let name = name(c, &k, n, side)?;
                let value = HeaderValue::from_str(v).map_err(|_| {
                    c.err(
                        &k,
                        "the value must be visible ASCII text (no control characters)",
                    )
                })?;
                Ok((name, value))
            })
            .collect::<Result<Vec<_>, ConfigError>>()
    };
    let set = pairs("set", set)?;
    let add = pairs("add", add)?;
    let mut removed = Vec::new();
    for (i, n) in remove.iter().enumerate() {
        let k = format!("{key}.{side}_remove[{i}]");
        let name = name(c, &k, n, side)?;
        if set.iter().chain(&add).any(|(s, _)| *s == name) {
            return Err(c.err(k, format!("`{n}` is both removed and set or added")));
        }
        removed.push(name);
    }
    Ok(HeaderEdits {
        set,
        add,
        remove: removed,
    })
}

fn name(c: &Checker<'_>, key: &str, text: &str, side: &str) -> Result<HeaderName, ConfigError> {
    let name = HeaderName::from_bytes(text.trim().as_bytes())
        .map_err(|_| c.err(key, format!("`{text}` is not a valid header name")))?;
    if RESERVED.contains(&name.as_str())
        || (side == "response" && name == http::header::CONTENT_ENCODING)
    {
        return Err(c.err(
            key,
            format!("`{name}` is managed by the gateway (framing, hop-by-hop, Host, request id, encoding) and cannot be changed by a rule"),
        ));
    }
    Ok(name)
}

/// Whether a header's value may be a credential, shown as `[redacted]` in
/// `/config`.
fn is_sensitive(name: &HeaderName) -> bool {
    let n = name.as_str();
    matches!(
        n,
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    ) || ["token", "secret", "key", "password", "auth", "session"]
        .iter()
        .any(|s| n.contains(s))
}

fn redacted<S: Serializer>(pairs: &[(HeaderName, HeaderValue)], s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(pairs.len()))?;
    for (n, v) in pairs {
        let shown = if is_sensitive(n) {
            "[redacted]"
        } else {
            v.to_str().unwrap_or("[binary]")
        };
        map.serialize_entry(n.as_str(), shown)?;
    }
    map.end()
}

fn names<S: Serializer>(names: &[HeaderName], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(names.iter().map(HeaderName::as_str))
}
