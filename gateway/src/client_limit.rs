//! `limits.connections_per_client`: how many connections one client
//! address may hold open, across all workers and both listeners (like
//! NGINX's `limit_conn` keyed on `$binary_remote_addr`). Checked at accept,
//! before any byte is read or a TLS handshake starts, so a single address
//! cannot take the gateway's file descriptors and memory. Trusted proxies
//! are exempt: behind a load balancer every client arrives from its few
//! addresses, and per-client limits then belong to the request path (rate
//! limits keyed on the client address from `X-Forwarded-For`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// Connections open per client address.
#[derive(Debug, Default)]
pub(crate) struct ClientConnections {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One accepted client connection: counted open (and, unless its peer is
/// trusted, against its address's limit) until dropped.
#[derive(Debug)]
pub(crate) struct Admitted {
    counted: Option<(Arc<ClientConnections>, IpAddr)>,
}

impl ClientConnections {
    /// Admit a connection from `ip` while it holds fewer than `limit`;
    /// `exempt` (a trusted proxy) is admitted without counting. `None` when
    /// over the limit (counted in `gateway_client_connections_refused_total`).
    pub(crate) fn admit(
        self: &Arc<Self>,
        ip: IpAddr,
        limit: usize,
        exempt: bool,
    ) -> Option<Admitted> {
        let counted = if exempt {
            None
        } else {
            let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
            let held = open.entry(ip).or_insert(0);
            if *held >= limit {
                drop(open);
                crate::metrics::client_refused("per_client_limit");
                return None;
            }
            *held += 1;
            Some((Arc::clone(self), ip))
        };
        crate::metrics::client_connections().increment(1.0);
        Some(Admitted { counted })
    }

    /// Connections `ip` holds open.
    #[cfg(test)]
    fn held(&self, ip: IpAddr) -> usize {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(&ip).copied().unwrap_or(0)
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        crate::metrics::client_connections().decrement(1.0);
        if let Some((clients, ip)) = self.counted.take() {
            let mut open = clients.open.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(held) = open.get_mut(&ip) {
                *held = held.saturating_sub(1);
                if *held == 0 {
                    // Bounded by the addresses connected now, not ever.
                    open.remove(&ip);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_at_most_the_limit_and_gets_its_places_back() {
        let clients = Arc::new(ClientConnections::default());
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let other: IpAddr = "192.0.2.2".parse().expect("ip");
        let first = clients.admit(ip, 2, false).expect("first");
        let second = clients.admit(ip, 2, false).expect("second");
        assert!(clients.admit(ip, 2, false).is_none());
        assert!(
            clients.admit(other, 2, false).is_some(),
            "limits are per address"
        );
        drop(first);
        assert_eq!(clients.held(ip), 1);
        let third = clients.admit(ip, 2, false).expect("a place came back");
        drop((second, third));
        assert_eq!(clients.held(ip), 0);
        assert!(
            clients.open.lock().expect("lock").is_empty(),
            "no entry is left behind"
        );
    }

    #[test]
    fn trusted_proxies_are_not_counted() {
        let clients = Arc::new(ClientConnections::default());
        let ip: IpAddr = "10.0.0.1".parse().expect("ip");
        let held: Vec<_> = (0..5)
            .map(|_| clients.admit(ip, 1, true).expect("exempt"))
            .collect();
        assert_eq!(held.len(), 5);
        assert_eq!(clients.held(ip), 0);
    }
}
