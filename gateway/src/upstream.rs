//! Upstream pools: the resolved endpoints of one named upstream, which one
//! takes the next request (round robin, skipping endpoints that just failed
//! to connect), periodic re-resolution of host names, and the keep-alive
//! connection pool used to reach them (one per worker thread: a connection
//! is taken for one exchange and handed back when the response body ends).
//!
//! Each worker opens at most `max_connections_per_endpoint` connections to
//! one address; past that, requests wait in line (first come, first served)
//! for a connection to come back, bounded by the route's response timeout.
//! A thousand client connections then cost a few hundred upstream ones
//! instead of a thousand, and the upstream sees a bounded concurrency.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

use crate::body::RequestBody;
use crate::config::UpstreamConfig;
use crate::failure::UpstreamFailure;

type Sender = SendRequest<RequestBody>;

/// The connections of one worker to one endpoint address.
#[derive(Debug)]
struct Slot {
    /// Connections waiting for a request, the most recently used last.
    idle: Vec<(Sender, Instant)>,
    /// Connections open or being opened (idle ones included).
    open: usize,
    /// Most connections open at once.
    max: usize,
    /// Requests waiting for a connection, oldest first. Never non-empty
    /// while `idle` is: a returned connection goes to the oldest waiter.
    waiters: VecDeque<oneshot::Sender<Handoff>>,
}

type SharedSlot = Arc<Mutex<Slot>>;

fn lock(slot: &SharedSlot) -> MutexGuard<'_, Slot> {
    // The slot holds no invariant a panic could break halfway.
    slot.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What a waiting request is handed.
#[derive(Debug)]
enum Handoff {
    /// A connection that just finished an exchange.
    Connection(Connection),
    /// The right to open a new connection (one closed).
    Open(Lease),
}

/// One unit of a slot's `open` count, released (or passed to the next
/// waiter) when dropped.
#[derive(Debug)]
struct Lease {
    slot: Option<SharedSlot>,
}

impl Lease {
    fn new(slot: SharedSlot) -> Self {
        Lease { slot: Some(slot) }
    }

    /// Keep the count without this lease (it moved elsewhere).
    fn disarm(mut self) {
        self.slot = None;
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(slot) = self.slot.take() else {
            return;
        };
        let mut state = lock(&slot);
        while let Some(waiter) = state.waiters.pop_front() {
            match waiter.send(Handoff::Open(Lease::new(Arc::clone(&slot)))) {
                Ok(()) => return,
                // That request gave up waiting: try the next one.
                Err(Handoff::Open(lease)) => lease.disarm(),
                Err(Handoff::Connection(conn)) => conn.lease.disarm(),
            }
        }
        state.open = state.open.saturating_sub(1);
    }
}

/// A keep-alive HTTP/1.1 connection to an endpoint, counted against the
/// worker's limit for that endpoint until dropped or handed back.
#[derive(Debug)]
pub struct Connection {
    sender: Sender,
    lease: Lease,
}

impl Connection {
    /// Whether the connection is closed.
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// Wait until the connection can take a request.
    pub async fn ready(&mut self) -> hyper::Result<()> {
        self.sender.ready().await
    }

    /// Send a request; on failure the error may carry it back unsent.
    pub fn try_send_request(
        &mut self,
        request: http::Request<RequestBody>,
    ) -> impl Future<
        Output = Result<
            http::Response<hyper::body::Incoming>,
            hyper::client::conn::TrySendError<http::Request<RequestBody>>,
        >,
    > {
        self.sender.try_send_request(request)
    }
}

/// Slots of one worker, by endpoint address.
type Slots = HashMap<SocketAddr, SharedSlot>;

/// One resolved address of an upstream.
#[derive(Debug)]
pub struct Endpoint {
    /// The address connections go to.
    pub addr: SocketAddr,
    /// `ip:port`, for the request URI (the pool key).
    pub authority: http::uri::Authority,
    /// The configured `host:port` this address was resolved from.
    pub configured_authority: String,
    /// When it last failed to connect (ms since the pool's epoch; 0 = never).
    failed_at_ms: AtomicU64,
}

/// The endpoints of one upstream and the connection pool to them.
#[derive(Debug)]
pub struct UpstreamPool {
    /// The configuration this pool was built from.
    pub config: UpstreamConfig,
    endpoints: ArcSwap<Vec<Arc<Endpoint>>>,
    next: AtomicUsize,
    epoch: Instant,
    /// Connections per worker thread, so a request and its upstream
    /// connection live on the same event loop (each lock is uncontended).
    slots: Vec<Mutex<Slots>>,
    /// `Host` for routes that send the upstream's authority (the first
    /// configured endpoint's `host:port`).
    host: Option<http::HeaderValue>,
}

impl UpstreamPool {
    /// A pool with the endpoints that resolve now (host names resolve in the
    /// background when `spawn_resolver` runs).
    pub fn new(config: UpstreamConfig, workers: usize) -> Arc<Self> {
        let slots = (0..workers.max(1)).map(|_| Mutex::default()).collect();
        let literal: Vec<Arc<Endpoint>> = config
            .endpoints
            .iter()
            .filter_map(|e| {
                e.host
                    .parse::<IpAddr>()
                    .ok()
                    .map(|ip| endpoint(SocketAddr::new(ip, e.port), e.authority()))
            })
            .flatten()
            .collect();
        let host = config
            .endpoints
            .first()
            .map(|e| crate::headers::shared_value(e.authority()));
        Arc::new(UpstreamPool {
            host,
            config,
            endpoints: ArcSwap::from_pointee(literal),
            next: AtomicUsize::new(0),
            epoch: Instant::now(),
            slots,
        })
    }

    /// The `Host` header for routes with the upstream host policy.
    pub fn host_header(&self) -> Option<http::HeaderValue> {
        self.host.clone()
    }

    /// The upstream's name.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// This worker's slot for `addr`.
    fn slot(&self, addr: SocketAddr) -> SharedSlot {
        let worker = &self.slots[crate::server::worker_index() % self.slots.len()];
        let mut slots = worker
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(slots.entry(addr).or_insert_with(|| {
            Arc::new(Mutex::new(Slot {
                idle: Vec::new(),
                open: 0,
                max: self.config.max_connections_per_endpoint.max(1),
                waiters: VecDeque::new(),
            }))
        }))
    }

    /// A connection to `addr` for one exchange, and whether it was reused:
    /// an idle one of this worker if one is still open and not older than
    /// the idle timeout, else a new one while under the limit, else the
    /// next one handed back (waiting in line).
    pub async fn acquire(&self, addr: SocketAddr) -> Result<(Connection, bool), UpstreamFailure> {
        let slot = self.slot(addr);
        let waiting = {
            let mut state = lock(&slot);
            while let Some((sender, since)) = state.idle.pop() {
                if !sender.is_closed() && since.elapsed() < self.config.idle_timeout {
                    let lease = Lease::new(Arc::clone(&slot));
                    return Ok((Connection { sender, lease }, true));
                }
                state.open = state.open.saturating_sub(1);
            }
            if state.open < state.max {
                state.open += 1;
                None
            } else {
                let (tx, rx) = oneshot::channel();
                state.waiters.push_back(tx);
                Some(rx)
            }
        };
        let lease = match waiting {
            None => Lease::new(slot),
            Some(rx) => match rx.await {
                Ok(Handoff::Connection(conn)) => return Ok((conn, true)),
                Ok(Handoff::Open(lease)) => lease,
                // The slot went away with its pool (not while we hold it).
                Err(_) => return Err(UpstreamFailure::Protocol),
            },
        };
        let sender = self.connect(addr).await?;
        Ok((Connection { sender, lease }, false))
    }

    /// Replace a connection found closed by a new one to `addr`, keeping
    /// its place under the limit.
    pub async fn reconnect(
        &self,
        addr: SocketAddr,
        conn: Connection,
    ) -> Result<Connection, UpstreamFailure> {
        let Connection { sender, lease } = conn;
        drop(sender);
        let sender = self.connect(addr).await?;
        Ok(Connection { sender, lease })
    }

    /// Hand a connection back after its response body ended: to the oldest
    /// waiting request, else to the idle list.
    pub fn checkin(&self, conn: Connection) {
        if conn.is_closed() {
            return;
        }
        let Some(slot) = conn.lease.slot.clone() else {
            return;
        };
        let mut state = lock(&slot);
        let mut conn = conn;
        while let Some(waiter) = state.waiters.pop_front() {
            match waiter.send(Handoff::Connection(conn)) {
                Ok(()) => return,
                Err(Handoff::Connection(back)) => conn = back,
                Err(Handoff::Open(lease)) => {
                    // Never sent here; keep the count as it is.
                    lease.disarm();
                    return;
                }
            }
        }
        // The count stays with the slot: idle connections are open ones.
        let Connection { sender, lease } = conn;
        lease.disarm();
        if state.idle.len() < self.config.max_idle_per_endpoint {
            state.idle.push((sender, Instant::now()));
        } else {
            state.open = state.open.saturating_sub(1);
        }
    }

    /// Open a new connection to `addr` (TCP_NODELAY, connect timeout).
    async fn connect(&self, addr: SocketAddr) -> Result<Sender, UpstreamFailure> {
        let stream = match tokio::time::timeout(
            self.config.connect_timeout,
            tokio::net::TcpStream::connect(addr),
        )
        .await
        {
            Err(_) => return Err(UpstreamFailure::ConnectTimeout),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::TimedOut => {
                return Err(UpstreamFailure::ConnectTimeout);
            }
            Ok(Err(_)) => return Err(UpstreamFailure::Connect),
            Ok(Ok(stream)) => stream,
        };
        let _ = stream.set_nodelay(true);
        let (conn, driver) = hyper::client::conn::http1::Builder::new()
            // hyper's default read buffer may grow to ~400 KiB per connection
            // while streaming large bodies; 64 KiB costs no throughput.
            .max_buf_size(64 * 1024)
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|_| UpstreamFailure::Protocol)?;
        let name = self.config.name.clone();
        tokio::spawn(async move {
            if let Err(e) = driver.await {
                tracing::debug!(upstream = %name, error = %e, "upstream connection ended with an error");
            }
        });
        Ok(conn)
    }

    /// The current endpoints.
    pub fn endpoints(&self) -> Arc<Vec<Arc<Endpoint>>> {
        self.endpoints.load_full()
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    /// The endpoint for the next request: round robin over the endpoints
    /// that have not failed within the cooldown; when all have, round robin
    /// over all (an upstream coming back must be found again).
    pub fn pick(&self, avoid: Option<&Endpoint>) -> Option<Arc<Endpoint>> {
        let endpoints = self.endpoints.load();
        let n = endpoints.len();
        if n == 0 {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let now = self.now_ms();
        let cooldown = u64::try_from(self.config.failure_cooldown.as_millis()).unwrap_or(u64::MAX);
        for i in 0..n {
            let ep = &endpoints[(start + i) % n];
            let failed = ep.failed_at_ms.load(Ordering::Relaxed);
            let healthy = failed == 0 || now.saturating_sub(failed) >= cooldown;
            let avoided = avoid.is_some_and(|a| a.addr == ep.addr) && n > 1;
            if healthy && !avoided {
                return Some(Arc::clone(ep));
            }
        }
        Some(Arc::clone(&endpoints[start % n]))
    }

    /// Skip `ep` for the failure cooldown (passive health check).
    pub fn mark_failed(&self, ep: &Endpoint) {
        ep.failed_at_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    /// A successful exchange clears the failure mark.
    pub fn mark_ok(&self, ep: &Endpoint) {
        if ep.failed_at_ms.load(Ordering::Relaxed) != 0 {
            ep.failed_at_ms.store(0, Ordering::Relaxed);
        }
    }

    /// Whether any endpoint uses a host name (and so needs re-resolving).
    fn has_names(&self) -> bool {
        self.config
            .endpoints
            .iter()
            .any(|e| e.host.parse::<IpAddr>().is_err())
    }

    /// Resolve every endpoint URL now; a name that fails to resolve keeps
    /// its previous addresses.
    pub async fn resolve(&self) {
        let current = self.endpoints.load_full();
        let mut next: Vec<Arc<Endpoint>> = Vec::new();
        for url in &self.config.endpoints {
            let configured = url.authority();
            let addrs: Vec<SocketAddr> = match url.host.parse::<IpAddr>() {
                Ok(ip) => vec![SocketAddr::new(ip, url.port)],
                Err(_) => match tokio::net::lookup_host((url.host.as_str(), url.port)).await {
                    Ok(found) => found.collect(),
                    Err(e) => {
                        tracing::warn!(upstream = %self.config.name, host = %url.host, error = %e, "cannot resolve upstream host; keeping its previous addresses");
                        current
                            .iter()
                            .filter(|ep| ep.configured_authority == configured)
                            .map(|ep| ep.addr)
                            .collect()
                    }
                },
            };
            for addr in addrs {
                if next.iter().any(|ep| ep.addr == addr) {
                    continue;
                }
                // Keep the existing entry (and its failure mark) when unchanged.
                match current.iter().find(|ep| ep.addr == addr) {
                    Some(ep) => next.push(Arc::clone(ep)),
                    None => next.extend(endpoint(addr, configured.clone())),
                }
            }
        }
        let changed = next.len() != current.len()
            || next
                .iter()
                .zip(current.iter())
                .any(|(a, b)| a.addr != b.addr);
        if changed {
            let list: Vec<String> = next.iter().map(|e| e.addr.to_string()).collect();
            tracing::info!(upstream = %self.config.name, endpoints = %list.join(","), "upstream endpoints resolved");
            self.endpoints.store(Arc::new(next));
        }
    }

    /// Re-resolve host names every `resolve_interval` while the pool is alive.
    pub fn spawn_resolver(self: &Arc<Self>) {
        if !self.has_names() {
            return;
        }
        let weak: Weak<Self> = Arc::downgrade(self);
        let interval = self.config.resolve_interval.max(Duration::from_millis(100));
        tokio::spawn(async move {
            loop {
                match weak.upgrade() {
                    Some(pool) => pool.resolve().await,
                    None => return,
                }
                tokio::time::sleep(interval).await;
            }
        });
    }
}

fn endpoint(addr: SocketAddr, configured_authority: String) -> Option<Arc<Endpoint>> {
    let authority = http::uri::Authority::try_from(addr.to_string()).ok()?;
    Some(Arc::new(Endpoint {
        addr,
        authority,
        configured_authority,
        failed_at_ms: AtomicU64::new(0),
    }))
}
