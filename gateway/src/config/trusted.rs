//! `trusted_proxies` (env `GATEWAY_TRUSTED_PROXIES`): the networks whose
//! forwarding headers are believed, as CIDR networks or bare addresses.

use std::net::IpAddr;

use ipnet::IpNet;

use super::error::{Checker, ConfigError};
use super::overlay::Env;

/// Validate `trusted_proxies`; the environment variable replaces the list
/// (the file's entries must still be valid).
pub(super) fn validate(
    c: &Checker<'_>,
    networks: &[String],
    env: Env<'_>,
) -> Result<Vec<IpNet>, ConfigError> {
    let from_file = networks
        .iter()
        .enumerate()
        .map(|(i, net)| parse_network(net).map_err(|p| c.err(format!("trusted_proxies[{i}]"), p)))
        .collect::<Result<Vec<_>, _>>()?;
    match env.get("GATEWAY_TRUSTED_PROXIES") {
        None => Ok(from_file),
        Some(v) => v
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(parse_network)
            .collect::<Result<_, _>>()
            .map_err(|p| Checker::env_err("GATEWAY_TRUSTED_PROXIES", p)),
    }
}

/// `10.0.0.0/8`, `fd00::/8`, or a bare address (a network of one).
///
/// An IPv4-mapped IPv6 network (`::ffff:10.0.0.0/104`) is stored as the
/// IPv4 network it maps (`10.0.0.0/8`), because peers are compared in their
/// canonical form (an IPv4 client on a dual-stack socket is an IPv4 peer).
fn parse_network(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| format!("`{text}` is not an IP address or CIDR network"))?;
    let max: u8 = if addr.is_ipv4() { 32 } else { 128 };
    let len = match len {
        None => max,
        Some(l) => l
            .parse::<u8>()
            .ok()
            .filter(|l| *l <= max)
            .ok_or_else(|| format!("`{text}`: prefix length must be 0 to {max}"))?,
    };
    let (addr, len) = match addr.to_canonical() {
        IpAddr::V4(v4) if addr.is_ipv6() && len >= 96 => (IpAddr::V4(v4), len - 96),
        _ => (addr, len),
    };
    IpNet::new(addr, len).map_err(|_| format!("`{text}`: prefix length must be 0 to {max}"))
}

/// Serialise networks as their text (`10.0.0.0/8`), for `/config`.
pub(super) fn serialize_networks<S: serde::Serializer>(
    networks: &[IpNet],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(networks.iter().map(ToString::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(net: &str, ip: &str) -> bool {
        let net = parse_network(net).expect("network");
        net.contains(&ip.parse::<IpAddr>().expect("ip").to_canonical())
    }

    #[test]
    fn networks_contain_their_addresses_only() {
        assert!(contains("10.1.0.0/16", "10.1.200.3"));
        assert!(!contains("10.1.0.0/16", "10.2.0.1"));
        assert!(contains("10.1.0.0/16", "::ffff:10.1.0.9"));
        assert!(contains("127.0.0.1", "127.0.0.1"));
        assert!(!contains("127.0.0.1", "127.0.0.2"));
        assert!(contains("0.0.0.0/0", "8.8.8.8"));
        assert!(contains("fd00::/8", "fd12::1"));
        assert!(!contains("fd00::/8", "10.0.0.1"));
        assert!(contains("::ffff:10.0.0.0/104", "10.9.9.9"));
        assert!(!contains("::ffff:10.0.0.0/104", "11.0.0.1"));
        assert!(contains("::ffff:10.0.0.1", "10.0.0.1"));
        assert!(!contains("::ffff:10.0.0.1", "10.0.0.2"));
    }

    #[test]
    fn networks_show_as_written() {
        for (text, shown) in [
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("192.0.2.10", "192.0.2.10/32"),
            ("fd00::/8", "fd00::/8"),
        ] {
            assert_eq!(parse_network(text).expect("network").to_string(), shown);
        }
    }

    #[test]
    fn malformed_networks_are_refused() {
        assert_eq!(
            parse_network("10.0.0.0/33"),
            Err("`10.0.0.0/33`: prefix length must be 0 to 32".to_string())
        );
        assert_eq!(
            parse_network("ten/8"),
            Err("`ten/8` is not an IP address or CIDR network".to_string())
        );
        assert!(parse_network("10.0.0.0/x").is_err());
        assert!(parse_network("::1/129").is_err());
    }
}
