//! The keep-alive connection pool to an upstream's endpoints, one per
//! worker thread: a connection is taken for one exchange and handed back
//! when the response body ends.
//!
//! Each worker opens at most `max_connections_per_endpoint` connections to
//! one address; past that, requests wait in line (first come, first served)
//! for a connection to come back, bounded by the route's response timeout.
//! An idle connection unused for 1-2 s is parked as a bare socket and
//! revived later (`driver.rs`); an `Upgrade` gets a connection of its own.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use crate::config::UpstreamConfig;

use super::body::RequestBody;
use super::driver::{Driver, Home, still_open};
use super::failure::UpstreamFailure;
use super::health::EndpointState;
use super::share::Share;
use super::stall::Link;

mod sweep;

type Sender = SendRequest<RequestBody>;

/// The most an upstream connection's read buffer grows to (hyper's
/// default lets it reach ~400 KiB per connection while streaming large
/// bodies). 64 KiB of body *and* its response head fit in one read: at
/// exactly 64 KiB, every 64 KiB response took two reads, two client
/// writes and two hand-offs between the tasks, and the second read went
/// into a freshly allocated buffer (the first chunk was still queued for
/// the client), whose pages faulted in (pinned 64 KiB GET, 1 worker:
/// 74 -> 60 µs of CPU per request, NGINX 58).
const UPSTREAM_READ_BUFFER: usize = 80 * 1024;

/// The connections of one worker to one endpoint address.
#[derive(Debug)]
struct Slot {
    /// Connections waiting for a request (their leases inert), the most
    /// recently used last.
    idle: Vec<(Connection, Instant)>,
    /// Idle connections parked as bare sockets, the most recently parked
    /// last, with the time they were last used.
    parked: Vec<(TcpStream, Instant)>,
    /// Connections open or being opened (idle and parked ones included).
    open: usize,
    /// Most connections open at once.
    max: usize,
    /// Requests waiting for a connection, oldest first. Never non-empty
    /// while `idle` is: a returned connection goes to the oldest waiter.
    waiters: VecDeque<oneshot::Sender<Handoff>>,
}

type SharedSlot = Arc<Mutex<Slot>>;

impl Home for Mutex<Slot> {
    fn take_to_park(&self, link: &Arc<Link>) -> Option<Instant> {
        let taken = {
            let mut state = lock(self);
            let at = state
                .idle
                .iter()
                .position(|(conn, _)| Arc::ptr_eq(&conn.link, link))?;
            state.idle.remove(at)
        };
        // Dropped outside the lock: its sender goes, which ends hyper's
        // dispatcher.
        let (conn, since) = taken;
        drop(conn);
        Some(since)
    }

    fn keep_parked(self: Arc<Self>, stream: Option<TcpStream>, since: Instant) -> bool {
        {
            let mut state = lock(&self);
            if let Some(stream) = stream
                && state.waiters.is_empty()
            {
                state.parked.push((stream, since));
                return true;
            }
        }
        drop(Lease::new(self));
        false
    }

    fn free_place(self: Arc<Self>) {
        // Dropping a lease frees its place (or hands it to the next
        // waiter); the connection's own is inert now.
        drop(Lease::new(self));
    }
}

impl Slot {
    /// Close the parked sockets unused for `idle_timeout`; how many.
    fn expire_parked(&mut self, idle_timeout: Duration) -> usize {
        let before = self.parked.len();
        self.parked
            .retain(|(_, since)| since.elapsed() < idle_timeout);
        let stale = before - self.parked.len();
        self.open = self.open.saturating_sub(stale);
        stale
    }
}

fn lock(slot: &Mutex<Slot>) -> MutexGuard<'_, Slot> {
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

/// What a request that found no idle connection does next.
enum Next {
    /// Revive this parked socket (its place already counted).
    Revive(TcpStream),
    /// Open a new connection (its place counted).
    Open,
    /// Wait in line for a connection or a place.
    Wait(oneshot::Receiver<Handoff>),
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
    fn disarm(&mut self) {
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
                Err(Handoff::Open(mut lease)) => lease.disarm(),
                Err(Handoff::Connection(mut conn)) => conn.lease.disarm(),
            }
        }
        state.open = state.open.saturating_sub(1);
    }
}

/// One request counted as outstanding at an endpoint until dropped (the
/// load power of two choices compares).
#[derive(Debug)]
pub(crate) struct Outstanding(Arc<EndpointState>);

impl Outstanding {
    pub(super) fn new(state: Arc<EndpointState>) -> Self {
        state.outstanding.fetch_add(1, Ordering::Relaxed);
        Outstanding(state)
    }
}

impl Drop for Outstanding {
    fn drop(&mut self) {
        self.0.outstanding.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A keep-alive HTTP/1.1 connection to an endpoint, counted against the
/// worker's limit for that endpoint until dropped or handed back.
#[derive(Debug)]
pub(crate) struct Connection {
    sender: Sender,
    lease: Lease,
    /// The request on it, counted at its endpoint until its response ends.
    outstanding: Option<Outstanding>,
    /// Its place in its client's share (`share.rs`), until its response
    /// ends (boxed: most upstreams set no share, and the connection is
    /// part of every request's future).
    share: Option<Box<Share>>,
    /// What the response body on it tells its watch (`stall.rs`).
    link: Arc<Link>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        // Its watch gave it up and freed its place already.
        if self.link.released() {
            self.lease.disarm();
        }
    }
}

impl Connection {
    /// The marks the response body on this connection leaves for its
    /// watch (slow clients).
    pub(crate) fn link(&self) -> &Link {
        &self.link
    }

    /// Whether the connection is closed.
    fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// Count the request on this connection as outstanding until the
    /// connection is handed back or dropped.
    pub(crate) fn track(&mut self, outstanding: Option<Outstanding>) {
        self.outstanding = outstanding;
    }

    /// Count this connection in its client's share until it is handed
    /// back or dropped.
    pub(crate) fn hold(&mut self, share: Option<Share>) {
        self.share = share.map(Box::new);
    }

    /// Wait until the connection can take a request.
    pub(crate) async fn ready(&mut self) -> hyper::Result<()> {
        self.sender.ready().await
    }

    /// Send a request; on failure the error may carry it back unsent.
    pub(crate) fn try_send_request(
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

/// The connections of every worker to one upstream's endpoints.
#[derive(Debug)]
pub(super) struct ConnectionPool {
    /// The upstream's name (for logs).
    name: String,
    /// Connections per worker thread, so a request and its upstream
    /// connection live on the same event loop (each lock is uncontended).
    slots: Vec<Mutex<Slots>>,
    max_connections: usize,
    max_idle: usize,
    idle_timeout: Duration,
    connect_timeout: Duration,
}

impl ConnectionPool {
    /// An empty pool for `workers` worker threads.
    pub(super) fn new(config: &UpstreamConfig, workers: usize) -> Self {
        ConnectionPool {
            name: config.name.clone(),
            slots: (0..workers.max(1)).map(|_| Mutex::default()).collect(),
            max_connections: config.max_connections_per_endpoint.max(1),
            max_idle: config.max_idle_per_endpoint,
            idle_timeout: config.idle_timeout,
            connect_timeout: config.connect_timeout,
        }
    }

    /// Worker `worker`'s slot for `addr`.
    fn slot(&self, worker: usize, addr: SocketAddr) -> SharedSlot {
        let worker = &self.slots[worker % self.slots.len()];
        let mut slots = worker
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(slots.entry(addr).or_insert_with(|| {
            Arc::new(Mutex::new(Slot {
                idle: Vec::new(),
                parked: Vec::new(),
                open: 0,
                max: self.max_connections,
                waiters: VecDeque::new(),
            }))
        }))
    }

    /// A connection to `addr` for one exchange, and whether it was reused:
    /// an idle one of this worker if one is still open and not older than
    /// the idle timeout, else a parked one (revived), else a new one while
    /// under the limit, else the next one handed back (waiting in line).
    /// An `upgrade` request gets a new connection that can be upgraded.
    pub(super) async fn acquire(
        &self,
        worker: usize,
        addr: SocketAddr,
        upgrade: bool,
    ) -> Result<(Connection, bool), UpstreamFailure> {
        let slot = self.slot(worker, addr);
        let waiting = {
            let mut state = lock(&slot);
            while !upgrade && let Some((mut conn, since)) = state.idle.pop() {
                if !conn.is_closed() && since.elapsed() < self.idle_timeout {
                    conn.link.checked_out();
                    conn.lease = Lease::new(Arc::clone(&slot));
                    conn.outstanding = None;
                    conn.share = None;
                    return Ok((conn, true));
                }
                state.open = state.open.saturating_sub(1);
            }
            let mut revived = None;
            while !upgrade && let Some((stream, since)) = state.parked.pop() {
                if since.elapsed() < self.idle_timeout && still_open(&stream) {
                    revived = Some(stream);
                    break;
                }
                state.open = state.open.saturating_sub(1);
            }
            if upgrade {
                // Make room: an idle connection of this slot is closed
                // rather than kept past the limit.
                let full = state.open >= state.max;
                if full && !state.parked.is_empty() {
                    state.parked.remove(0);
                    state.open -= 1;
                } else if full && !state.idle.is_empty() {
                    state.idle.remove(0);
                    state.open -= 1;
                }
            }
            if let Some(stream) = revived {
                Next::Revive(stream)
            } else if state.open < state.max {
                state.open += 1;
                Next::Open
            } else {
                let (tx, rx) = oneshot::channel();
                state.waiters.push_back(tx);
                Next::Wait(rx)
            }
        };
        let (lease, parked) = match waiting {
            Next::Revive(stream) => (Lease::new(slot), Some(stream)),
            Next::Open => (Lease::new(slot), None),
            Next::Wait(rx) => match rx.await {
                Ok(Handoff::Connection(mut conn)) if upgrade => {
                    // Its place goes to a connection that can be upgraded.
                    let lease = Lease {
                        slot: conn.lease.slot.take(),
                    };
                    drop(conn);
                    (lease, None)
                }
                Ok(Handoff::Connection(conn)) => return Ok((conn, true)),
                Ok(Handoff::Open(lease)) => (lease, None),
                // The slot went away with its pool (not while we hold it).
                Err(_) => return Err(UpstreamFailure::Protocol),
            },
        };
        let reused = parked.is_some();
        // The handshakes are boxed: this future is part of every request's,
        // which is moved in memory as a whole, and most requests find an
        // idle connection and never get here.
        let (sender, link) = match parked {
            Some(stream) => {
                let revived =
                    Box::pin(self.attach(addr, stream, lease.slot.as_ref(), false)).await?;
                crate::metrics::upstream_parking(&self.name, true);
                revived
            }
            None => Box::pin(self.connect(addr, lease.slot.as_ref(), upgrade)).await?,
        };
        Ok((
            Connection {
                sender,
                lease,
                outstanding: None,
                share: None,
                link,
            },
            reused,
        ))
    }

    /// Replace a connection found closed by a new one to `addr`, keeping
    /// its place under the limit.
    pub(super) async fn reconnect(
        &self,
        addr: SocketAddr,
        mut conn: Connection,
    ) -> Result<Connection, UpstreamFailure> {
        let upgrade = !conn.link.is_parkable();
        // Boxed, as in `acquire`: rare, and part of every request's future.
        let (sender, link) =
            Box::pin(self.connect(addr, conn.lease.slot.as_ref(), upgrade)).await?;
        conn.sender = sender;
        conn.link = link;
        Ok(conn)
    }

    /// Hand a connection back after its response body ended: to the oldest
    /// waiting request, else to the idle list.
    pub(super) fn checkin(&self, mut conn: Connection) {
        // Its request is over, wherever the connection goes next.
        conn.outstanding = None;
        conn.share = None;
        if conn.is_closed() {
            return;
        }
        let Some(slot) = conn.lease.slot.clone() else {
            return;
        };
        let mut state = lock(&slot);
        while let Some(waiter) = state.waiters.pop_front() {
            match waiter.send(Handoff::Connection(conn)) {
                Ok(()) => return,
                Err(Handoff::Connection(back)) => conn = back,
                Err(Handoff::Open(mut lease)) => {
                    // Never sent here; keep the count as it is.
                    lease.disarm();
                    return;
                }
            }
        }
        // The count stays with the slot: idle connections are open ones.
        conn.lease.disarm();
        state.expire_parked(self.idle_timeout);
        if state.idle.len() + state.parked.len() < self.max_idle {
            conn.link.checked_in();
            state.idle.push((conn, Instant::now()));
        } else {
            state.open = state.open.saturating_sub(1);
        }
    }

    /// Open a new connection to `addr` (TCP_NODELAY, connect timeout),
    /// counted in `slot` (see [`Self::attach`]).
    async fn connect(
        &self,
        addr: SocketAddr,
        slot: Option<&SharedSlot>,
        upgrade: bool,
    ) -> Result<(Sender, Arc<Link>), UpstreamFailure> {
        let stream =
            match tokio::time::timeout(self.connect_timeout, TcpStream::connect(addr)).await {
                Err(_) => return Err(UpstreamFailure::ConnectTimeout),
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::TimedOut => {
                    return Err(UpstreamFailure::ConnectTimeout);
                }
                Ok(Err(_)) => return Err(UpstreamFailure::Connect),
                Ok(Ok(stream)) => stream,
            };
        let _ = stream.set_nodelay(true);
        self.attach(addr, stream, slot, upgrade).await
    }

    /// Start HTTP/1.1 on `stream` (new, or a parked one), counted in
    /// `slot`: its task drives it and gives it up, freeing its place in
    /// `slot`, when a client stops taking its response (`stall.rs`). An
    /// `upgrade` connection is driven with upgrades and never parks; any
    /// other parks when idle (its socket back in `slot`'s parked list).
    async fn attach(
        &self,
        addr: SocketAddr,
        stream: TcpStream,
        slot: Option<&SharedSlot>,
        upgrade: bool,
    ) -> Result<(Sender, Arc<Link>), UpstreamFailure> {
        // Weak: the slot holds this connection while it is idle, and a
        // pool dropped by a reload must take its idle connections along.
        let slot: Option<Weak<Mutex<Slot>>> = slot.map(Arc::downgrade);
        let (conn, driver) = hyper::client::conn::http1::Builder::new()
            .max_buf_size(UPSTREAM_READ_BUFFER)
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|_| UpstreamFailure::Protocol)?;
        let link = Arc::new(if upgrade {
            Link::default()
        } else {
            Link::parkable()
        });
        let home = slot.map(|slot| slot as Weak<dyn Home>);
        let task = Driver::new(self.name.clone(), addr, Arc::clone(&link), home);
        task.spawn(driver);
        Ok((conn, link))
    }
}
