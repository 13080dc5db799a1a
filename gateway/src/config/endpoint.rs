//! Upstream endpoint URLs: `http://host[:port]`, without path, query or
//! credentials, as written in `endpoints` or in `<NAME>_UPSTREAM`, each
//! with its balancing weight.

use std::fmt;

use serde::Serialize;

/// An `http://host:port` endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct EndpointUrl {
    /// Host name or IP literal (IPv6 without brackets).
    pub(crate) host: String,
    /// Port (80 when the URL has none).
    pub(crate) port: u16,
    /// Share of the upstream's requests relative to the other endpoints
    /// (every address a host name resolves to gets it).
    pub(crate) weight: u32,
    /// A backup (NGINX's `server ... backup`): sent requests only when no
    /// other endpoint of the upstream can take them (all unhealthy,
    /// ejected, or already tried by the request).
    pub(crate) backup: bool,
}

/// The largest endpoint or split weight: keeps the precomputed weighted
/// round-robin schedules small.
pub(crate) const MAX_WEIGHT: u32 = 1000;

impl EndpointUrl {
    /// Parse `http://host[:port][/]` (weight 1).
    pub(crate) fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        let uri: http::Uri = url
            .parse()
            .map_err(|e| format!("`{url}` is not a URL: {e}"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(other) => {
                return Err(format!(
                    "`{url}`: scheme `{other}` is not supported (use http://)"
                ));
            }
            None => return Err(format!("`{url}` needs a scheme (http://host:port)")),
        }
        let authority = uri
            .authority()
            .ok_or_else(|| format!("`{url}` has no host"))?;
        if authority.as_str().contains('@') {
            return Err(format!(
                "`{url}`: credentials in upstream URLs are not supported"
            ));
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(format!(
                "`{url}`: an upstream URL has no path (routes decide the path)"
            ));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        if host.is_empty() {
            return Err(format!("`{url}` has no host"));
        }
        Ok(EndpointUrl {
            host,
            port: authority.port_u16().unwrap_or(80),
            weight: 1,
            backup: false,
        })
    }

    /// `host:port` as a `Host` header value.
    pub(crate) fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for EndpointUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}", self.authority())
    }
}

/// Parse a comma-separated list of endpoint URLs (the `<NAME>_UPSTREAM` format).
pub(super) fn parse_endpoint_list(list: &str) -> Result<Vec<EndpointUrl>, String> {
    let endpoints: Vec<EndpointUrl> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(EndpointUrl::parse)
        .collect::<Result<_, _>>()?;
    if endpoints.is_empty() {
        return Err("no endpoint URL given".to_string());
    }
    Ok(endpoints)
}

/// One entry of `endpoints` as written: a URL, or a table with a weight.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(
    untagged,
    expecting = "expected an endpoint URL (\"http://host:port\") or a table { url = \"http://host:port\", weight = 1, backup = false }"
)]
pub(crate) enum EndpointEntry {
    /// `"http://host:port"`, weight 1.
    Url(String),
    /// `{ url = "http://host:port", weight = 3, backup = true }`.
    Weighted(WeightedEndpoint),
}

/// `{ url, weight, backup }`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WeightedEndpoint {
    /// The endpoint URL.
    url: String,
    /// Its weight (default 1).
    weight: Option<u32>,
    /// A backup endpoint (default false).
    #[serde(default)]
    backup: bool,
}

impl EndpointEntry {
    /// The validated endpoint, or the problem with it.
    pub(super) fn parse(&self) -> Result<EndpointUrl, String> {
        match self {
            EndpointEntry::Url(url) => EndpointUrl::parse(url),
            EndpointEntry::Weighted(w) => {
                let mut endpoint = EndpointUrl::parse(&w.url)?;
                let weight = w.weight.unwrap_or(1);
                if !(1..=MAX_WEIGHT).contains(&weight) {
                    return Err(format!(
                        "weight {weight} of `{}` must be between 1 and {MAX_WEIGHT}",
                        w.url
                    ));
                }
                endpoint.weight = weight;
                endpoint.backup = w.backup;
                Ok(endpoint)
            }
        }
    }
}
