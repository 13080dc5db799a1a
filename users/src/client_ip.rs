//! The client's address, for throttling. The service is reachable only
//! through the gateway, which sets `X-Real-IP` and appends the address it
//! saw to `X-Forwarded-For` (discarding what untrusted clients sent), so
//! those are used first and the TCP peer last.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use http::HeaderMap;
use http::request::Parts;

/// The address a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        Ok(ClientIp(
            from_headers(&parts.headers)
                .or(peer)
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        ))
    }
}

fn from_headers(headers: &HeaderMap) -> Option<IpAddr> {
    let real_ip = headers
        .get("x-real-ip")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    // The right-most entry is the one the gateway appended.
    let forwarded_for = || {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|v| v.trim().parse().ok())
            .next_back()
    };
    real_ip.or_else(forwarded_for)
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

    #[test]
    fn real_ip_wins_then_the_last_forwarded_for() {
        let h = headers(&[("x-real-ip", "10.0.0.9"), ("x-forwarded-for", "1.1.1.1")]);
        assert_eq!(from_headers(&h), Some("10.0.0.9".parse().expect("ip")));
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 2.2.2.2")]);
        assert_eq!(from_headers(&h), Some("2.2.2.2".parse().expect("ip")));
        assert_eq!(from_headers(&headers(&[("x-real-ip", "junk")])), None);
    }
}
