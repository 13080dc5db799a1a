//! Bucket names: what one counter counts.
//!
//! A client is its IPv4 address, or the /64 network of its IPv6 address:
//! one subscriber usually gets a whole /64, so counting single IPv6
//! addresses would give each client 2^64 buckets.

use std::net::IpAddr;

use ipnet::{IpNet, Ipv6Net};

/// Failed logins (and wrong current passwords) of one account.
pub fn login_email(email: &str) -> String {
    format!("login-email:{email}")
}

/// Failed logins from one client.
pub fn login_client(ip: IpAddr) -> String {
    format!("login-ip:{}", client_network(ip))
}

/// Registrations from one client.
pub fn registration_client(ip: IpAddr) -> String {
    format!("register-ip:{}", client_network(ip))
}

/// The network a client is counted by: the IPv4 address itself (also when
/// written IPv4-mapped), the /64 of an IPv6 address.
pub fn client_network(ip: IpAddr) -> IpNet {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpNet::V6(Ipv6Net::new_assert(v6, 64).trunc()),
        v4 => IpNet::from(v4),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(text: &str) -> String {
        client_network(text.parse().expect("ip")).to_string()
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(network("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(
            network("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            "2001:db8:1:2::/64"
        );
        assert_eq!(network("2001:db8:1:3::1"), "2001:db8:1:3::/64");
    }

    #[test]
    fn ipv4_clients_are_counted_by_their_address_even_when_mapped() {
        assert_eq!(network("203.0.113.7"), "203.0.113.7/32");
        assert_eq!(network("::ffff:203.0.113.7"), "203.0.113.7/32");
    }

    #[test]
    fn buckets_of_different_kinds_never_collide() {
        let ip = "203.0.113.7".parse().expect("ip");
        assert_ne!(login_client(ip), registration_client(ip));
        assert_eq!(login_client(ip), "login-ip:203.0.113.7/32");
        assert_eq!(login_email("a@b.co"), "login-email:a@b.co");
    }
}
