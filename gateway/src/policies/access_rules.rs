//! NGINX's `allow` / `deny`: the rules tested in order against the client
//! address the gateway derived (the right-most untrusted `X-Forwarded-For`
//! entry behind trusted proxies, else the peer); the first that matches
//! decides, `403` when it denies; no rule matching lets the request in.

use common::Problem;

use crate::config::AccessRule;

use super::{Hooks, Policy, RequestFacts, RequestHead, Verdict};

/// A route's access rules.
#[derive(Debug)]
pub(crate) struct AccessRules {
    rules: Box<[AccessRule]>,
}

impl AccessRules {
    /// The rules, in order.
    pub(crate) fn new(rules: &[AccessRule]) -> Self {
        AccessRules {
            rules: rules.into(),
        }
    }

    /// Whether `ip` may pass.
    fn allows(&self, ip: std::net::IpAddr) -> bool {
        let ip = match ip {
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
            v4 => v4,
        };
        self.rules
            .iter()
            .find(|r| r.network.is_none_or(|n| n.contains(&ip)))
            .is_none_or(|r| r.allow)
    }
}

impl Policy for AccessRules {
    fn hooks(&self) -> Hooks {
        Hooks::REQUEST
    }

    async fn on_request(
        &self,
        _: &RequestHead<'_>,
        facts: &RequestFacts<'_>,
    ) -> Result<(), Verdict> {
        if self.allows(facts.client_ip) {
            Ok(())
        } else {
            Err(
                Problem::forbidden("access to this route is denied for the client's address")
                    .into(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(list: &[(&str, Option<&str>)]) -> AccessRules {
        let rules: Vec<AccessRule> = list
            .iter()
            .map(|(verb, net)| AccessRule {
                allow: *verb == "allow",
                network: net.map(|n| n.parse().expect("network")),
            })
            .collect();
        AccessRules::new(&rules)
    }

    #[test]
    fn the_first_matching_rule_decides() {
        let r = rules(&[
            ("deny", Some("10.0.0.1/32")),
            ("allow", Some("10.0.0.0/8")),
            ("deny", None),
        ]);
        assert!(!r.allows("10.0.0.1".parse().expect("ip")));
        assert!(r.allows("10.2.3.4".parse().expect("ip")));
        assert!(!r.allows("192.168.1.1".parse().expect("ip")));
        assert!(
            r.allows("::ffff:10.2.3.4".parse().expect("ip")),
            "mapped addresses count as IPv4"
        );
        assert!(
            rules(&[("deny", Some("10.0.0.0/8"))]).allows("127.0.0.1".parse().expect("ip")),
            "no match lets in"
        );
    }
}
