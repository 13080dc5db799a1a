//! The client's address: who the gateway believes sent a request. Behind
//! trusted proxies it is the right-most `X-Forwarded-For` entry not inside
//! `trusted_proxies` (NGINX's `real_ip_recursive on`); from anyone else it
//! is the TCP peer. The access log shows it, `X-Real-IP` always carries it,
//! and policies (rate limits per client) key on it
//! (`RequestCtx::client` in `crate::proxy`).

use std::net::IpAddr;

use http::HeaderMap;
use http::header::HeaderValue;
use ipnet::IpNet;

use crate::headers::{Peer, X_FORWARDED_FOR, is_trusted, shared_value};

/// Who the gateway believes sent a request.
#[derive(Debug, Clone)]
pub(crate) struct ClientAddr {
    /// The client's address: the TCP peer, or behind trusted proxies the
    /// right-most `X-Forwarded-For` entry not inside `trusted_proxies`.
    pub(crate) ip: IpAddr,
    /// The address as a header value (`X-Real-IP`).
    pub(crate) value: HeaderValue,
    /// Whether the TCP peer is a trusted proxy (its forwarding headers are
    /// kept and appended to).
    pub(crate) peer_trusted: bool,
}

/// The client's address for a request from `peer` with `headers`.
///
/// From a peer outside `trusted` it is the peer. From a trusted one the
/// `X-Forwarded-For` entries are walked from the right (the nearest hop
/// first): the first entry not inside `trusted` is the client; when every
/// entry is trusted, the left-most is. An entry that is not an address
/// (`unknown`, garbage) ends the walk at the trusted hop to its right,
/// since nothing further left can be believed. Costs nothing beyond a
/// reference count unless the peer is trusted.
pub(crate) fn client_addr(headers: &HeaderMap, peer: &Peer, trusted: &[IpNet]) -> ClientAddr {
    if !is_trusted(peer.ip, trusted) {
        return ClientAddr {
            ip: peer.ip,
            value: peer.value.clone(),
            peer_trusted: false,
        };
    }
    let mut client = peer.ip;
    'walk: for line in headers.get_all(&X_FORWARDED_FOR).iter().rev() {
        for entry in line.as_bytes().rsplit(|&b| b == b',') {
            let entry = entry.trim_ascii();
            if entry.is_empty() {
                continue;
            }
            let Some(ip) = forwarded_ip(entry) else {
                break 'walk;
            };
            client = ip;
            if !is_trusted(ip, trusted) {
                break 'walk;
            }
        }
    }
    let value = if client == peer.ip {
        peer.value.clone()
    } else {
        shared_value(client.to_string())
    };
    ClientAddr {
        ip: client,
        value,
        peer_trusted: true,
    }
}

/// An `X-Forwarded-For` entry as an address: `203.0.113.7`, `2001:db8::1`,
/// or with a port (`203.0.113.7:4711`, `[2001:db8::1]:4711`) or brackets.
fn forwarded_ip(entry: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(entry).ok()?;
    let ip = text
        .parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            text.strip_prefix('[')?
                .strip_suffix(']')?
                .parse::<IpAddr>()
                .ok()
        })?;
    Some(ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().expect("network")).collect()
    }

    fn client_of(peer: &str, xff: &[&str], trusted: &[&str]) -> ClientAddr {
        let mut h = HeaderMap::new();
        for line in xff {
            h.append(
                &X_FORWARDED_FOR,
                HeaderValue::from_str(line).expect("value"),
            );
        }
        let peer = Peer::new(peer.parse().expect("ip"));
        client_addr(&h, &peer, &nets(trusted))
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let c = client_of("198.51.100.1", &["203.0.113.7"], &["10.0.0.0/8"]);
        assert_eq!(c.ip, ip("198.51.100.1"));
        assert_eq!(c.value, "198.51.100.1");
        assert!(!c.peer_trusted);
    }

    #[test]
    fn behind_trusted_hops_the_right_most_untrusted_entry_is_the_client() {
        // spoofed, real client, inner proxy; the peer is the outer proxy.
        let c = client_of(
            "10.0.0.2",
            &["6.6.6.6, 203.0.113.7, 10.0.0.9"],
            &["10.0.0.0/8"],
        );
        assert_eq!(c.ip, ip("203.0.113.7"));
        assert_eq!(c.value, "203.0.113.7");
        assert!(c.peer_trusted);
        // Several header lines are one list, the last line right-most.
        let c = client_of(
            "10.0.0.2",
            &["6.6.6.6", "203.0.113.7", "10.0.0.9"],
            &["10.0.0.0/8"],
        );
        assert_eq!(c.ip, ip("203.0.113.7"));
    }

    #[test]
    fn when_every_hop_is_trusted_the_left_most_is_the_client() {
        let c = client_of("10.0.0.2", &["10.1.1.1, 10.0.0.9"], &["10.0.0.0/8"]);
        assert_eq!(c.ip, ip("10.1.1.1"));
        let c = client_of("10.0.0.2", &[], &["10.0.0.0/8"]);
        assert_eq!(c.ip, ip("10.0.0.2"));
        assert_eq!(c.value, "10.0.0.2");
    }

    #[test]
    fn an_entry_that_is_no_address_ends_the_walk_at_the_trusted_hop() {
        let c = client_of(
            "10.0.0.2",
            &["203.0.113.7, unknown, 10.0.0.9"],
            &["10.0.0.0/8"],
        );
        assert_eq!(c.ip, ip("10.0.0.9"));
        let c = client_of("10.0.0.2", &["203.0.113.7, , 10.0.0.9"], &["10.0.0.0/8"]);
        assert_eq!(c.ip, ip("203.0.113.7"), "empty entries are skipped");
    }

    #[test]
    fn entries_with_ports_brackets_or_mapped_addresses_are_read() {
        assert_eq!(forwarded_ip(b"203.0.113.7:4711"), Some(ip("203.0.113.7")));
        assert_eq!(forwarded_ip(b"[2001:db8::1]:4711"), Some(ip("2001:db8::1")));
        assert_eq!(forwarded_ip(b"[2001:db8::1]"), Some(ip("2001:db8::1")));
        assert_eq!(forwarded_ip(b"::ffff:10.0.0.1"), Some(ip("10.0.0.1")));
        assert_eq!(forwarded_ip(b"unknown"), None);
        assert_eq!(forwarded_ip(b"\xff"), None);
        // A mapped entry inside a trusted IPv4 network is trusted.
        let c = client_of(
            "10.0.0.2",
            &["203.0.113.7, ::ffff:10.0.0.9"],
            &["10.0.0.0/8"],
        );
        assert_eq!(c.ip, ip("203.0.113.7"));
    }
}
