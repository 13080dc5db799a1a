//! The keep-alive connection pool to an upstream's endpoints, one per
//! worker thread: a connection is taken for one exchange and handed back
//! when the response body ends.
//!
//! Each worker opens at most `max_connections_per_endpoint` connections to
//! one address; past that, requests wait in line (first come, first served)
//! for a connection to come back, bounded by the route's response timeout.
//! An idle connection unused for 1-2 s is parked as a bare socket and
//! revived later (`driver.rs`); an `Upgrade` gets a connection of its own.
//!
//! Two kinds of connection share a slot's places: hyper's client
//! ([`Connection`], driven by a task of its own) and the direct exchange
//! (`Connection<Wire>`, `wire.rs`, driven by the request's task). A
//! request takes an idle one of either kind rather than open another;
//! hyper's requests turn an idle wire into a hyper connection (its bare
//! socket, as when reviving a parked one). Wires have no task: the pool's
//! watch ([`ConnectionPool::watch`], every [`WATCH_TICK`]) parks the idle
//! ones and gives up those whose client stopped reading (`stall.rs`).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
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
use super::wire::{UPSTREAM_READ_BUFFER, Wire};

pub(crate) use super::health::Outstanding;
use super::share::Share;
use super::stall::{Link, Progress};

mod connection;
mod sweep;
mod wires;

type Sender = SendRequest<RequestBody>;

/// How often the pool's watch looks at its wires.
pub(super) const WATCH_TICK: Duration = Duration::from_millis(100);

/// The connections of one worker to one endpoint address.
#[derive(Debug)]
struct Slot {
    /// Connections waiting for a request (their leases inert), the most
    /// recently used last.
    idle: Vec<(Connection, Instant)>,
    /// Idle wires (the direct exchange's connections), the most recently
    /// used last.
    wires: Vec<(Connection<Wire>, Instant)>,
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
    /// A wire that just finished an exchange.
    Wire(Connection<Wire>),
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
                Err(mut back) => back.disarm(),
            }
        }
        state.open = state.open.saturating_sub(1);
    }
}

/// A keep-alive HTTP/1.1 connection to an endpoint, counted against the
/// worker's limit for that endpoint until dropped or handed back: hyper's
/// client (`T` its request sender, the default) or a [`Wire`].
#[derive(Debug)]
pub(crate) struct Connection<T = Sender> {
    io: T,
    place: Place,
    /// The request on it, counted at its endpoint until its response ends.
    outstanding: Option<Outstanding>,
    /// Its place in its client's share (`share.rs`), until its response
    /// ends (boxed: most upstreams set no share, and the connection is
    /// part of every request's future).
    share: Option<Box<Share>>,
}

/// A connection's place under the limit, and what the response body on
/// it tells its watch (`stall.rs`).
#[derive(Debug)]
struct Place {
    lease: Lease,
    link: Arc<Link>,
}

/// A connection for a request the direct exchange can carry: a wire, or
/// an idle hyper connection found first.
#[derive(Debug)]
pub(crate) enum Acquired {
    /// hyper's client.
    Hyper(Connection),
    /// The direct exchange.
    Wire(Connection<Wire>),
}

/// Slots of one worker, by endpoint address.
type Slots = HashMap<SocketAddr, SharedSlot>;

/// A wire the pool's watch keeps an eye on (weakly: the request or the
/// idle list owns it).
#[derive(Debug)]
struct Watched {
    link: Weak<Link>,
    stream: Weak<TcpStream>,
    slot: Weak<Mutex<Slot>>,
    progress: Progress,
}

/// What a slot has for a request, as [`ConnectionPool::take`] found it.
enum Took {
    /// An idle connection.
    Idle(Acquired),
    /// A parked socket (its place counted).
    Parked(TcpStream),
    /// A place for a new connection (counted).
    Open,
    /// A place in line.
    Wait(oneshot::Receiver<Handoff>),
}

/// What a request that found no idle connection of its kind gets.
enum Got {
    /// A hyper connection that finished an exchange.
    Hyper(Connection),
    /// A wire that finished an exchange.
    Wire(Connection<Wire>),
    /// A parked socket to revive (its place counted).
    Parked(TcpStream, Lease),
    /// A place to open a new connection in.
    Open(Lease),
}

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
    /// Every open wire, for the watch.
    watched: Mutex<Vec<Watched>>,
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
            watched: Mutex::default(),
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
                wires: Vec::new(),
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
        let got = match self.take(&slot, upgrade, false) {
            Took::Idle(Acquired::Hyper(conn)) => return Ok((conn, true)),
            Took::Idle(Acquired::Wire(conn)) => Got::Wire(conn),
            Took::Parked(stream) => Got::Parked(stream, Lease::new(slot)),
            Took::Open => Got::Open(Lease::new(slot)),
            Took::Wait(rx) => match rx.await {
                Ok(Handoff::Connection(conn)) => Got::Hyper(conn),
                Ok(Handoff::Wire(conn)) => Got::Wire(conn),
                Ok(Handoff::Open(lease)) => Got::Open(lease),
                // The slot went away with its pool (not while we hold it).
                Err(_) => return Err(UpstreamFailure::Protocol),
            },
        };
        let (lease, stream, reused) = match got {
            Got::Hyper(mut conn) if upgrade => {
                // Its place goes to a connection that can be upgraded.
                (conn.take_lease(), None, false)
            }
            Got::Hyper(conn) => return Ok((conn, true)),
            Got::Wire(mut conn) if upgrade => (conn.take_lease(), None, false),
            Got::Wire(mut conn) => {
                // An idle wire's socket gets a hyper handshake, as a
                // parked one does (a new connection when it cannot).
                let lease = conn.take_lease();
                let stream = conn.io.into_stream();
                let reused = stream.is_some();
                (lease, stream, reused)
            }
            Got::Parked(stream, lease) => {
                crate::metrics::upstream_parking(&self.name, true);
                (lease, Some(stream), true)
            }
            Got::Open(lease) => (lease, None, false),
        };
        // The handshakes are boxed: this future is part of every request's,
        // which is moved in memory as a whole, and most requests find an
        // idle connection and never get here.
        let (sender, link) = match stream {
            Some(stream) => Box::pin(self.attach(addr, stream, lease.slot.as_ref(), false)).await?,
            None => Box::pin(self.connect(addr, lease.slot.as_ref(), upgrade)).await?,
        };
        Ok((Connection::new(sender, lease, link), reused))
    }

    /// What `slot` has for a request: an idle connection (a wire first
    /// when `wire_first`, else a hyper one first; none for an `upgrade`),
    /// else a parked socket, else a place for a new connection while under
    /// the limit, else a place in line.
    fn take(&self, slot: &SharedSlot, upgrade: bool, wire_first: bool) -> Took {
        let mut state = lock(slot);
        if !upgrade {
            for wires in [wire_first, !wire_first] {
                if wires {
                    while let Some((mut conn, since)) = state.wires.pop() {
                        if since.elapsed() < self.idle_timeout && conn.io.still_open() {
                            conn.checked_out(slot);
                            return Took::Idle(Acquired::Wire(conn));
                        }
                        state.open = state.open.saturating_sub(1);
                    }
                } else {
                    while let Some((mut conn, since)) = state.idle.pop() {
                        if !conn.is_closed() && since.elapsed() < self.idle_timeout {
                            conn.checked_out(slot);
                            return Took::Idle(Acquired::Hyper(conn));
                        }
                        state.open = state.open.saturating_sub(1);
                    }
                }
            }
            while let Some((stream, since)) = state.parked.pop() {
                if since.elapsed() < self.idle_timeout && still_open(&stream) {
                    return Took::Parked(stream);
                }
                state.open = state.open.saturating_sub(1);
            }
        } else if state.open >= state.max {
            // Make room: an idle connection of this slot is closed rather
            // than kept past the limit.
            if !state.parked.is_empty() {
                state.parked.remove(0);
                state.open -= 1;
            } else if !state.idle.is_empty() {
                state.idle.remove(0);
                state.open -= 1;
            } else if !state.wires.is_empty() {
                state.wires.remove(0);
                state.open -= 1;
            }
        }
        if state.open < state.max {
            state.open += 1;
            Took::Open
        } else {
            let (tx, rx) = oneshot::channel();
            state.waiters.push_back(tx);
            Took::Wait(rx)
        }
    }

    /// Replace a connection found closed by a new one to `addr`, keeping
    /// its place under the limit.
    pub(super) async fn reconnect(
        &self,
        addr: SocketAddr,
        mut conn: Connection,
    ) -> Result<Connection, UpstreamFailure> {
        let upgrade = !conn.place.link.is_parkable();
        // Boxed, as in `acquire`: rare, and part of every request's future.
        let (sender, link) =
            Box::pin(self.connect(addr, conn.place.lease.slot.as_ref(), upgrade)).await?;
        conn.io = sender;
        conn.place.link = link;
        Ok(conn)
    }

    /// Hand a connection back after its response body ended: to the oldest
    /// waiting request, else to the idle list.
    pub(super) fn checkin(&self, conn: Connection) {
        if !conn.is_closed() {
            self.hand_back(Handoff::Connection(conn));
        }
    }

    /// A connection back from an exchange: to the oldest waiting request,
    /// else to its idle list.
    fn hand_back(&self, mut back: Handoff) {
        let slot = match &mut back {
            Handoff::Connection(conn) => conn.release_request(),
            Handoff::Wire(conn) => conn.release_request(),
            Handoff::Open(_) => None,
        };
        let Some(slot) = slot else {
            return;
        };
        let mut state = lock(&slot);
        while let Some(waiter) = state.waiters.pop_front() {
            match waiter.send(back) {
                Ok(()) => return,
                Err(Handoff::Open(mut lease)) => {
                    // Never sent here; keep the count as it is.
                    lease.disarm();
                    return;
                }
                Err(again) => back = again,
            }
        }
        state.expire_parked(self.idle_timeout);
        let room = state.idle.len() + state.wires.len() + state.parked.len() < self.max_idle;
        // The count stays with the slot: idle connections are open ones.
        match back {
            Handoff::Connection(conn) if room => state.idle.push(conn.into_idle()),
            Handoff::Wire(conn) if room => state.wires.push(conn.into_idle()),
            mut closed => {
                closed.disarm();
                state.open = state.open.saturating_sub(1);
            }
        }
    }

    /// Open a TCP connection to `addr` (TCP_NODELAY, connect timeout).
    async fn open(&self, addr: SocketAddr) -> Result<TcpStream, UpstreamFailure> {
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
        Ok(stream)
    }

    /// Open a new connection to `addr`, counted in `slot` (see
    /// [`Self::attach`]).
    async fn connect(
        &self,
        addr: SocketAddr,
        slot: Option<&SharedSlot>,
        upgrade: bool,
    ) -> Result<(Sender, Arc<Link>), UpstreamFailure> {
        let stream = self.open(addr).await?;
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
