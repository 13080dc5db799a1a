//! The pool's housekeeping, on a timer rather than on the next check-in:
//! a worker's slot for an address that gets no more traffic (the address
//! left the upstream's set at a re-resolution, or the burst that filled
//! it is over) would otherwise keep its parked sockets forever, in
//! `CLOSE_WAIT` once the upstream closed its side (a rollout behind
//! headless discovery leaves up to `max_idle_per_endpoint` x workers per
//! vanished pod).
//!
//! - every slot: parked sockets unused for `upstream_idle` are closed;
//! - a slot whose address is no longer among the upstream's endpoints is
//!   dropped from its worker's map, its idle and parked connections closed
//!   at once. Exchanges still in flight on it finish; their connections
//!   then go back to the dropped slot, which nothing can find any more,
//!   and close with it when the last one is handed back;
//! - an empty slot (no connection open or being opened, nobody waiting,
//!   no request holding it) is dropped too: the next request recreates it.

use std::net::SocketAddr;
use std::sync::Arc;

use super::{ConnectionPool, SharedSlot, lock};

impl ConnectionPool {
    /// Sweep every worker's slots: expire parked sockets, drop the slots
    /// of addresses not in `current` and the empty ones. Returns how many
    /// sockets were closed.
    pub(in crate::upstreams) fn sweep(&self, current: &[SocketAddr]) -> usize {
        let mut closed = 0;
        for worker in &self.slots {
            let (gone, kept): (Vec<SharedSlot>, Vec<SharedSlot>) = {
                let mut slots = worker
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let vanished: Vec<SocketAddr> = slots
                    .keys()
                    .filter(|addr| !current.contains(addr))
                    .copied()
                    .collect();
                let gone = vanished
                    .iter()
                    .filter_map(|addr| slots.remove(addr))
                    .collect();
                // Only the map holds an empty slot nobody is about to use
                // (a request that found it holds a clone until it counted
                // its connection in it), and the map is locked.
                slots.retain(|_, slot| {
                    let state = lock(slot);
                    Arc::strong_count(slot) > 1 || state.open > 0 || !state.waiters.is_empty()
                });
                (gone, slots.values().map(Arc::clone).collect())
            };
            for slot in gone {
                // Closed outside the slot's lock (dropping an idle
                // connection ends its hyper task).
                let (parked, idle, wires) = {
                    let mut state = lock(&slot);
                    let parked = std::mem::take(&mut state.parked);
                    let idle = std::mem::take(&mut state.idle);
                    let wires = std::mem::take(&mut state.wires);
                    state.open = state
                        .open
                        .saturating_sub(parked.len() + idle.len() + wires.len());
                    (parked, idle, wires)
                };
                closed += parked.len() + idle.len() + wires.len();
                drop((parked, idle, wires));
            }
            for slot in kept {
                closed += lock(&slot).expire_parked(self.idle_timeout);
            }
        }
        closed
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::path::Path;
    use std::time::{Duration, Instant};

    use http_body_util::BodyExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;
    use tokio::sync::watch;

    use super::*;
    use crate::config::{Config, Overrides};
    use crate::upstreams::{RequestBody, UpstreamPool, resolve};

    /// A keep-alive upstream answering `200 ok` after 100 ms; its
    /// connections and listener are dropped when `stop` turns true.
    async fn upstream() -> (SocketAddr, watch::Sender<bool>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = watch::channel(false);
        let mut accepting = stopped.clone();
        tokio::spawn(async move {
            loop {
                let mut stream = tokio::select! {
                    Ok((stream, _)) = listener.accept() => stream,
                    _ = accepting.wait_for(|s| *s) => return,
                };
                let mut stopped = stopped.clone();
                tokio::spawn(async move {
                    let serve = async {
                        let mut buf = Vec::new();
                        let mut chunk = [0u8; 1024];
                        loop {
                            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                                match stream.read(&mut chunk).await {
                                    Ok(0) | Err(_) => return,
                                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                                }
                            }
                            buf.clear();
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                            if stream.write_all(ok).await.is_err() {
                                return;
                            }
                        }
                    };
                    tokio::select! {
                        () = serve => {}
                        _ = stopped.wait_for(|s| *s) => {}
                    }
                });
            }
        });
        (addr, stop)
    }

    /// The upstream `swept` of a table whose only endpoint is `addr`.
    fn config(addr: SocketAddr) -> crate::config::UpstreamConfig {
        let text = format!(
            "[timeouts]\nupstream_idle = \"1s\"\n[upstreams.swept]\nendpoints = [\"http://{addr}\"]\n\
             [[routes]]\nprefix = \"/\"\nupstream = \"swept\"\n"
        );
        let config = Config::parse(Path::new("T"), &text, &Overrides::default()).unwrap();
        config.upstreams["swept"].clone()
    }

    /// This process's sockets to `peer` that are not closed yet
    /// (`ESTABLISHED` or `CLOSE_WAIT`, from `/proc/net/tcp`).
    fn sockets_to(peer: SocketAddr) -> usize {
        let SocketAddr::V4(v4) = peer else {
            panic!("IPv4 only")
        };
        let ip = u32::from_le_bytes(v4.ip().octets());
        let remote = format!("{ip:08X}:{:04X}", v4.port());
        std::fs::read_to_string("/proc/net/tcp")
            .unwrap()
            .lines()
            .skip(1)
            .filter(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                fields.get(2) == Some(&remote.as_str())
                    && matches!(fields.get(3), Some(&"01") | Some(&"08"))
            })
            .count()
    }

    /// Parked sockets in every worker's slot for `addr`.
    fn parked(pool: &UpstreamPool, addr: SocketAddr) -> usize {
        pool.connections
            .slots
            .iter()
            .filter_map(|w| w.lock().unwrap().get(&addr).map(Arc::clone))
            .map(|slot| lock(&slot).parked.len())
            .sum()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_slots_of_an_address_that_left_the_set_are_closed() {
        let (a, stop_a) = upstream().await;
        let (b, _stop_b) = upstream().await;
        let pool = UpstreamPool::new(config(a), 2, None);
        let exchanges: Vec<_> = (0..50)
            .map(|n| {
                let pool = Arc::clone(&pool);
                tokio::spawn(async move {
                    let (mut conn, _) = pool.acquire(n % 2, a, false).await.unwrap();
                    conn.ready().await.unwrap();
                    let request = http::Request::get("/").body(RequestBody::empty()).unwrap();
                    let response = conn.try_send_request(request).await.unwrap();
                    let body = response.into_body().collect().await.unwrap();
                    assert_eq!(&body.to_bytes()[..], b"ok");
                    pool.checkin(conn);
                })
            })
            .collect();
        for exchange in exchanges {
            exchange.await.unwrap();
        }
        assert!(sockets_to(a) >= 40, "{} connections to A", sockets_to(a));
        // Idle for a second or two: parked.
        let waited = Instant::now();
        while parked(&pool, a) < 40 && waited.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(parked(&pool, a) >= 40, "{} parked", parked(&pool, a));
        // Re-resolved to B; A stops.
        pool.set_endpoints(resolve::initial_endpoints(&config(b), &[]));
        stop_a.send_replace(true);
        let stopped = Instant::now();
        let mut left = sockets_to(a);
        while left > 0 && stopped.elapsed() < Duration::from_millis(1500) {
            tokio::time::sleep(Duration::from_millis(50)).await;
            left = sockets_to(a);
        }
        assert_eq!(left, 0, "sockets to A left after upstream_idle");
        assert!(
            pool.connections
                .slots
                .iter()
                .all(|w| !w.lock().unwrap().contains_key(&a)),
            "a slot for A is kept"
        );
    }
}
