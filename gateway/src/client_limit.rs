//! Caps on client connections, checked at accept, before any byte is read
//! or a TLS handshake starts:
//!
//! * `limits.connections`: all clients together. Past it a new connection
//!   is refused (plain listener: `503` problem+json with `Retry-After`,
//!   then closed; HTTPS listener: closed) with a warning line at most every
//!   ten seconds and `gateway_client_connections_refused_total{reason="connection_limit"}`,
//!   instead of running out of file descriptors (`EMFILE`), which would
//!   also stop upstream connections, certificate reloads and the access
//!   log. The default follows the process's open-files limit.
//! * `limits.connections_per_client` (off by default): one client, an IPv4
//!   address or an IPv6 /64 (a host gets a whole /64, so counting per
//!   address would let it open as many as it likes), like NGINX's
//!   `limit_conn` on `$binary_remote_addr`. Trusted proxies are exempt:
//!   behind a load balancer every client arrives from its few addresses,
//!   and per-client limits then belong to the request path (rate limits
//!   keyed on the client address from `X-Forwarded-For`). It is off by
//!   default because an office or a carrier-grade NAT puts hundreds of
//!   browsers behind one address (NGINX, HAProxy and Envoy have no
//!   per-client cap by default either); `examples/edge.toml` turns it on.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

/// Why a connection was refused at accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// `limits.connections`: the gateway holds as many as it may.
    Full(usize),
    /// `limits.connections_per_client`: this client holds as many as it may.
    PerClient(usize),
}

/// Client connections open, in all and per client.
#[derive(Debug, Default)]
pub(crate) struct ClientConnections {
    total: AtomicUsize,
    open: Mutex<HashMap<IpAddr, usize>>,
    /// When the last "connection limit reached" line was logged (Unix seconds).
    logged_full: AtomicU64,
}

/// One accepted client connection: counted open, in all and (unless its
/// peer is trusted) for its client, until dropped.
#[derive(Debug)]
pub(crate) struct Admitted {
    clients: Arc<ClientConnections>,
    counted: Option<IpAddr>,
}

/// The key a client's connections are counted under: an IPv4 address, or
/// the /64 of an IPv6 one (IPv4-mapped IPv6 addresses count as IPv4).
pub(crate) fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

impl ClientConnections {
    /// Admit a connection from `ip` while the gateway holds fewer than
    /// `total_cap` and its client fewer than `per_client` (if set);
    /// `exempt` (a trusted proxy) is not counted against a per-client cap.
    pub(crate) fn admit(
        self: &Arc<Self>,
        ip: IpAddr,
        total_cap: usize,
        per_client: Option<usize>,
        exempt: bool,
    ) -> Result<Admitted, Refused> {
        if self.total.fetch_add(1, Ordering::Relaxed) >= total_cap {
            self.total.fetch_sub(1, Ordering::Relaxed);
            crate::metrics::client_refused("connection_limit");
            self.log_full(total_cap);
            return Err(Refused::Full(total_cap));
        }
        // Counted per client even without a cap, so that a cap turned on
        // by a reload sees the connections already open.
        let counted = if exempt {
            None
        } else {
            let key = client_key(ip);
            let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
            let held = open.entry(key).or_insert(0);
            if let Some(limit) = per_client
                && *held >= limit
            {
                drop(open);
                self.total.fetch_sub(1, Ordering::Relaxed);
                crate::metrics::client_refused("per_client_limit");
                return Err(Refused::PerClient(limit));
            }
            *held += 1;
            Some(key)
        };
        crate::metrics::client_connections().increment(1.0);
        Ok(Admitted {
            clients: Arc::clone(self),
            counted,
        })
    }

    /// Log that the gateway is full, at most every ten seconds.
    fn log_full(&self, cap: usize) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let last = self.logged_full.load(Ordering::Relaxed);
        if now >= last + 10
            && self
                .logged_full
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                limit = cap,
                "limits.connections reached: new client connections are refused until some close \
                 (see gateway_client_connections_refused_total{{reason=\"connection_limit\"}})"
            );
        }
    }

    /// Client connections open now.
    #[cfg(test)]
    fn total(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    /// Connections the client of `ip` holds open.
    #[cfg(test)]
    fn held(&self, ip: IpAddr) -> usize {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(&client_key(ip)).copied().unwrap_or(0)
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        crate::metrics::client_connections().decrement(1.0);
        self.clients.total.fetch_sub(1, Ordering::Relaxed);
        if let Some(key) = self.counted.take() {
            let mut open = self
                .clients
                .open
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(held) = open.get_mut(&key) {
                *held = held.saturating_sub(1);
                if *held == 0 {
                    // Bounded by the clients connected now, not ever.
                    open.remove(&key);
                }
            }
        }
    }
}

/// The process's soft limit on open files (`/proc/self/limits`), if known.
pub(crate) fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_files_limit(&limits)
}

fn parse_open_files_limit(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line["Max open files".len()..].split_whitespace().next()?;
    match soft {
        "unlimited" => Some(u64::MAX),
        n => n.parse().ok(),
    }
}

/// `limits.connections` when not set: seven eighths of the open-files
/// limit (the rest stays for upstream connections, which are capped per
/// endpoint, and for files and logs), at least 64; 65,536 when the limit
/// cannot be read; at most 1,000,000.
pub(crate) fn default_connection_cap(open_files: Option<u64>) -> usize {
    let Some(files) = open_files else {
        return 65_536;
    };
    let cap = (files / 8).saturating_mul(7).clamp(64, 1_000_000);
    usize::try_from(cap).unwrap_or(1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn a_client_holds_at_most_its_cap_and_gets_its_places_back() {
        let clients = Arc::new(ClientConnections::default());
        let (one, other) = (ip("192.0.2.1"), ip("192.0.2.2"));
        let first = clients.admit(one, 100, Some(2), false).expect("first");
        let second = clients.admit(one, 100, Some(2), false).expect("second");
        assert_eq!(
            clients
                .admit(one, 100, Some(2), false)
                .expect_err("refused"),
            Refused::PerClient(2)
        );
        assert!(
            clients.admit(other, 100, Some(2), false).is_ok(),
            "caps are per client"
        );
        drop(first);
        assert_eq!(clients.held(one), 1);
        let third = clients
            .admit(one, 100, Some(2), false)
            .expect("a place came back");
        drop((second, third));
        assert_eq!(clients.held(one), 0);
        assert!(
            clients.open.lock().expect("lock").is_empty(),
            "no entry is left behind"
        );
        assert_eq!(clients.total(), 0);
    }

    #[test]
    fn an_ipv6_client_is_counted_per_64() {
        let clients = Arc::new(ClientConnections::default());
        let a = ip("2001:db8:1:2::1");
        let b = ip("2001:db8:1:2:ffff:ffff:ffff:ffff");
        let elsewhere = ip("2001:db8:1:3::1");
        let held = clients.admit(a, 100, Some(1), false).expect("first");
        assert_eq!(
            clients.admit(b, 100, Some(1), false).expect_err("refused"),
            Refused::PerClient(1),
            "another address of the same /64 is the same client"
        );
        assert!(clients.admit(elsewhere, 100, Some(1), false).is_ok());
        drop(held);
        assert_eq!(client_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
    }

    #[test]
    fn without_a_per_client_cap_one_address_may_hold_many() {
        let clients = Arc::new(ClientConnections::default());
        let held: Vec<_> = (0..500)
            .map(|_| {
                clients
                    .admit(ip("192.0.2.9"), 1_000, None, false)
                    .expect("no cap")
            })
            .collect();
        assert_eq!(held.len(), 500);
        assert_eq!(
            clients.held(ip("192.0.2.9")),
            500,
            "counted, for a cap turned on by a reload"
        );
        assert!(
            clients
                .admit(ip("192.0.2.9"), 1_000, Some(500), false)
                .is_err(),
            "a cap turned on sees the connections already open"
        );
    }

    #[test]
    fn trusted_proxies_are_not_counted_per_client() {
        let clients = Arc::new(ClientConnections::default());
        let held: Vec<_> = (0..5)
            .map(|_| {
                clients
                    .admit(ip("10.0.0.1"), 100, Some(1), true)
                    .expect("exempt")
            })
            .collect();
        assert_eq!(held.len(), 5);
        assert_eq!(clients.held(ip("10.0.0.1")), 0);
    }

    #[test]
    fn the_total_cap_counts_every_client_and_frees_places() {
        let clients = Arc::new(ClientConnections::default());
        let a = clients.admit(ip("192.0.2.1"), 2, None, false).expect("a");
        let b = clients.admit(ip("192.0.2.2"), 2, None, true).expect("b");
        assert_eq!(
            clients
                .admit(ip("192.0.2.3"), 2, None, false)
                .expect_err("refused"),
            Refused::Full(2),
            "trusted proxies count in the total too"
        );
        drop(a);
        let c = clients
            .admit(ip("192.0.2.3"), 2, None, false)
            .expect("a place came back");
        drop((b, c));
        assert_eq!(clients.total(), 0);
    }

    #[test]
    fn a_refusal_per_client_gives_back_its_place_in_the_total() {
        let clients = Arc::new(ClientConnections::default());
        let _held = clients
            .admit(ip("192.0.2.1"), 10, Some(1), false)
            .expect("first");
        for _ in 0..20 {
            assert!(clients.admit(ip("192.0.2.1"), 10, Some(1), false).is_err());
        }
        assert_eq!(clients.total(), 1);
    }

    #[test]
    fn the_default_total_follows_the_open_files_limit() {
        let proc_limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                           Max cpu time              unlimited            unlimited            seconds   \n\
                           Max open files            20000                1048576              files     \n";
        assert_eq!(parse_open_files_limit(proc_limits), Some(20_000));
        assert_eq!(default_connection_cap(Some(20_000)), 17_500);
        assert_eq!(default_connection_cap(Some(1_024)), 896);
        assert_eq!(default_connection_cap(Some(16)), 64);
        assert_eq!(default_connection_cap(Some(u64::MAX)), 1_000_000);
        assert_eq!(default_connection_cap(None), 65_536);
        assert_eq!(
            parse_open_files_limit(
                "Max open files            unlimited            unlimited            files\n"
            ),
            Some(u64::MAX)
        );
        assert_eq!(parse_open_files_limit("nothing here"), None);
    }
}
