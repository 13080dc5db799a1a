//! The client's address, for throttling.
//!
//! `X-Real-IP` and `X-Forwarded-For` are believed only when the TCP peer is
//! inside `TRUSTED_PROXIES` (the gateway's addresses): anyone else could
//! send any value and so pick their own throttling bucket. From an
//! untrusted peer the peer address itself is the client.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use http::HeaderMap;
use http::request::Parts;
use ipnet::IpNet;
use serde::{Deserialize, Deserializer};

/// The address a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The networks whose forwarding headers are believed (`TRUSTED_PROXIES`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Whether `peer` is one of the trusted proxies.
    pub fn contains(&self, peer: IpAddr) -> bool {
        let peer = peer.to_canonical();
        self.0.iter().any(|net| net.contains(&peer))
    }
}

impl Default for TrustedProxies {
    /// Loopback only: the local run, where the gateway is on the same host.
    fn default() -> Self {
        Self(vec![
            IpNet::new_assert(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)), 8),
            IpNet::from(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        ])
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// Comma-separated CIDR networks or bare addresses; empty trusts nobody.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                IpNet::from_str(s)
                    .map(|net| net.trunc())
                    .or_else(|_| IpAddr::from_str(s).map(IpNet::from))
                    .map_err(|_| format!("`{s}` is not an IP address or CIDR network"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let texts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&texts.join(","))
    }
}

impl<'de> Deserialize<'de> for TrustedProxies {
    /// A comma-separated string (environment) or a list (TOML file).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            List(Vec<String>),
        }
        let text = match Raw::deserialize(deserializer)? {
            Raw::Text(t) => t,
            Raw::List(l) => l.join(","),
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl<S> FromRequestParts<S> for ClientIp
where
    S: Send + Sync,
    Arc<TrustedProxies>: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let trusted = Arc::<TrustedProxies>::from_ref(state);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_canonical());
        let ip = match peer {
            Some(peer) if trusted.contains(peer) => {
                from_headers(&parts.headers, &trusted).unwrap_or(peer)
            }
            Some(peer) => peer,
            // Only a server started without connect info (never ours).
            None => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        };
        Ok(ClientIp(ip))
    }
}

/// The client named by a trusted proxy: `X-Real-IP` (the gateway sets it),
/// else the right-most `X-Forwarded-For` entry that is not itself a trusted
/// proxy (entries further left were written by the client).
fn from_headers(headers: &HeaderMap, trusted: &TrustedProxies) -> Option<IpAddr> {
    let real_ip = headers
        .get("x-real-ip")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<IpAddr>().ok());
    let forwarded_for = || {
        let entries: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map_while(|v| v.trim().parse().ok())
            .collect();
        entries.into_iter().rev().find(|ip| !trusted.contains(*ip))
    };
    real_ip.or_else(forwarded_for).map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().expect("value"));
        }
        h
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    fn trusted(text: &str) -> TrustedProxies {
        text.parse().expect("networks")
    }

    #[test]
    fn real_ip_wins_then_the_last_untrusted_forwarded_for() {
        let t = trusted("10.0.0.0/8");
        let h = headers(&[("x-real-ip", "192.0.2.9"), ("x-forwarded-for", "1.1.1.1")]);
        assert_eq!(from_headers(&h, &t), Some(ip("192.0.2.9")));
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 2.2.2.2, 10.0.0.3")]);
        assert_eq!(from_headers(&h, &t), Some(ip("2.2.2.2")));
        assert_eq!(from_headers(&headers(&[("x-real-ip", "junk")]), &t), None);
    }

    #[test]
    fn networks_and_bare_addresses_are_trusted_as_written() {
        let t = trusted(" 10.0.0.0/8, fd00::/8 ,192.0.2.10");
        assert!(t.contains(ip("10.200.0.1")));
        assert!(t.contains(ip("::ffff:10.0.0.1")));
        assert!(t.contains(ip("fd12::1")));
        assert!(t.contains(ip("192.0.2.10")));
        assert!(!t.contains(ip("192.0.2.11")));
        assert!(!t.contains(ip("127.0.0.1")));
        assert_eq!(t.to_string(), "10.0.0.0/8,fd00::/8,192.0.2.10/32");
    }

    #[test]
    fn the_default_trusts_loopback_only() {
        let t = TrustedProxies::default();
        assert!(t.contains(ip("127.0.0.1")));
        assert!(t.contains(ip("127.9.9.9")));
        assert!(t.contains(ip("::1")));
        assert!(!t.contains(ip("10.0.0.1")));
        assert_eq!(t.to_string(), "127.0.0.0/8,::1/128");
    }

    #[test]
    fn malformed_networks_are_refused_by_text() {
        assert_eq!(
            "10.0.0.0/33".parse::<TrustedProxies>(),
            Err("`10.0.0.0/33` is not an IP address or CIDR network".to_string())
        );
        assert!("gateway".parse::<TrustedProxies>().is_err());
        assert_eq!("".parse::<TrustedProxies>(), Ok(TrustedProxies(vec![])));
    }
}
