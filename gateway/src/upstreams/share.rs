//! A fair share of an endpoint's connections per client
//! (`max_connections_per_client`, off by default): the connections one
//! client's requests hold to one endpoint, per worker thread, are capped
//! below `max_connections_per_endpoint`, so a few clients that ask for
//! large bodies and never read them (each holding its upstream connection
//! until `timeouts.client_send` cuts it) cannot take every place: the
//! other clients' requests still find one at once.
//!
//! A request past its client's share waits in line, first come first
//! served, for one of that client's own connections to be handed back
//! (within the route's response timeout, like a wait for a place), and
//! holds no place under the endpoint's cap while it waits. A client is
//! its address (an IPv6 one by its /64), as the gateway believes it
//! behind trusted proxies. An entry exists only while its client holds a
//! connection: the memory is bounded by the connections and the waiting
//! requests.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

/// One endpoint address and one client network.
type Key = (SocketAddr, IpAddr);

/// A worker's shares, by endpoint and client.
type Map = Mutex<HashMap<Key, Entry>>;

/// One client's connections to one endpoint (on one worker).
#[derive(Debug, Default)]
struct Entry {
    /// Shares held.
    held: usize,
    /// Requests of that client waiting for one, oldest first.
    waiters: VecDeque<oneshot::Sender<Share>>,
}

/// The shares of every worker for one upstream.
#[derive(Debug)]
pub(super) struct Shares {
    /// Connections per client, endpoint and worker; 0 when off.
    limit: usize,
    workers: Vec<Arc<Map>>,
}

/// One connection's place in its client's share, given back (or passed to
/// that client's next waiting request) when dropped.
#[derive(Debug)]
pub(crate) struct Share {
    map: Option<Arc<Map>>,
    key: Key,
}

fn lock(map: &Map) -> MutexGuard<'_, HashMap<Key, Entry>> {
    // The map holds no invariant a panic could break halfway.
    map.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The network a client is counted by: its IPv4 address, its IPv6 /64.
fn network(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX))),
        },
    }
}

impl Shares {
    /// Shares of `limit` connections (0: off) for `workers` workers.
    pub(super) fn new(limit: usize, workers: usize) -> Self {
        Shares {
            limit,
            workers: (0..workers.max(1)).map(|_| Arc::default()).collect(),
        }
    }

    /// A place in `client`'s share of `addr` on `worker`, waiting for one
    /// of its connections to come back when it holds its whole share;
    /// `None` when shares are off.
    pub(super) async fn take(
        &self,
        worker: usize,
        addr: SocketAddr,
        client: IpAddr,
    ) -> Option<Share> {
        if self.limit == 0 {
            return None;
        }
        let map = &self.workers[worker % self.workers.len()];
        let key = (addr, network(client));
        let waiting = {
            let mut shares = lock(map);
            let entry = shares.entry(key).or_default();
            if entry.held < self.limit {
                entry.held += 1;
                return Some(Share {
                    map: Some(Arc::clone(map)),
                    key,
                });
            }
            let (tx, rx) = oneshot::channel();
            entry.waiters.push_back(tx);
            rx
        };
        // The sender lives in the entry while that client holds a share;
        // a dropped one can only mean the entry went with its last share.
        waiting.await.ok()
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        let Some(map) = self.map.take() else {
            return;
        };
        let mut shares = lock(&map);
        let Some(entry) = shares.get_mut(&self.key) else {
            return;
        };
        while let Some(waiter) = entry.waiters.pop_front() {
            let passed = Share {
                map: Some(Arc::clone(&map)),
                key: self.key,
            };
            match waiter.send(passed) {
                Ok(()) => return,
                // That request gave up waiting: try the next one.
                Err(mut back) => back.map = None,
            }
        }
        entry.held = entry.held.saturating_sub(1);
        if entry.held == 0 {
            shares.remove(&self.key);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn addr() -> SocketAddr {
        SocketAddr::from(([10, 0, 0, 1], 8000))
    }

    #[tokio::test]
    async fn a_client_past_its_share_waits_for_its_own_connection() {
        let shares = Shares::new(2, 1);
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.3".parse().unwrap();
        let first = shares.take(0, addr(), a).await;
        let _second = shares.take(0, addr(), a).await;
        assert!(first.is_some());
        // The third of `a` waits; `b` does not.
        let third = shares.take(0, addr(), a);
        tokio::pin!(third);
        let waited = tokio::time::timeout(Duration::from_millis(50), &mut third).await;
        assert!(waited.is_err(), "a third share for the same client");
        let other = tokio::time::timeout(Duration::from_millis(50), shares.take(0, addr(), b));
        assert!(other.await.unwrap().is_some());
        // `a` hands one back: its waiting request gets it.
        drop(first);
        let third = tokio::time::timeout(Duration::from_millis(50), third).await;
        assert!(third.unwrap().is_some());
    }

    #[tokio::test]
    async fn entries_go_with_their_last_share_and_off_means_none() {
        let shares = Shares::new(1, 2);
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8::2".parse().unwrap();
        let held = shares.take(1, addr(), v6).await;
        assert!(held.is_some());
        // The same /64 is the same client.
        let blocked =
            tokio::time::timeout(Duration::from_millis(50), shares.take(1, addr(), same_64));
        assert!(blocked.await.is_err());
        drop(held);
        assert!(lock(&shares.workers[1]).is_empty());
        assert!(Shares::new(0, 1).take(0, addr(), v6).await.is_none());
    }
}
