//! The pool's side of the direct exchange (`wire.rs`): wires taken,
//! replaced and handed back, and the pool's watch over them (a wire has
//! no task of its own).

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::Frame;
use tokio::net::TcpStream;

use super::{
    Acquired, Connection, ConnectionPool, Handoff, Lease, SharedSlot, Took, Watched, lock,
};
use crate::upstreams::driver::Home;
use crate::upstreams::failure::UpstreamFailure;
use crate::upstreams::stall::{Link, Progress};
use crate::upstreams::wire::{Wire, WireBody};

/// An idle wire unused this long is parked (as hyper's connections are
/// after one to two seconds, `driver.rs`).
const PARK_WIRE_AFTER: Duration = Duration::from_secs(1);

impl ConnectionPool {
    /// A connection to `addr` for one exchange of a request the direct
    /// exchange can carry, and whether it was reused: as [`Self::acquire`],
    /// but an idle wire first, and a new or parked socket becomes a wire.
    pub(in crate::upstreams) async fn acquire_wire(
        &self,
        worker: usize,
        addr: SocketAddr,
    ) -> Result<(Acquired, bool), UpstreamFailure> {
        let slot = self.slot(worker, addr);
        let (lease, parked) = match self.take(&slot, false, true) {
            Took::Idle(found) => return Ok((found, true)),
            Took::Parked(stream) => (Lease::new(slot), Some(stream)),
            Took::Open => (Lease::new(slot), None),
            Took::Wait(rx) => match rx.await {
                Ok(Handoff::Connection(conn)) => return Ok((Acquired::Hyper(conn), true)),
                Ok(Handoff::Wire(conn)) => return Ok((Acquired::Wire(conn), true)),
                Ok(Handoff::Open(lease)) => (lease, None),
                // The slot went away with its pool (not while we hold it).
                Err(_) => return Err(UpstreamFailure::Protocol),
            },
        };
        match parked {
            Some(stream) => {
                crate::metrics::upstream_parking(&self.name, true);
                Ok((Acquired::Wire(self.wire(stream, lease)), true))
            }
            None => {
                // Boxed, as the handshakes in `acquire` are.
                let stream = Box::pin(self.open(addr)).await?;
                Ok((Acquired::Wire(self.wire(stream, lease)), false))
            }
        }
    }

    /// A wire over `stream`, holding `lease`, watched by the pool.
    fn wire(&self, stream: TcpStream, lease: Lease) -> Connection<Wire> {
        let wire = Wire::new(stream);
        let link = Arc::new(Link::default());
        self.watch_wire(&wire, &link, lease.slot.as_ref());
        Connection::new(wire, lease, link)
    }

    /// Keep an eye on `wire` (see [`Self::watch`]).
    fn watch_wire(&self, wire: &Wire, link: &Arc<Link>, slot: Option<&SharedSlot>) {
        let watched = Watched {
            link: Arc::downgrade(link),
            stream: Arc::downgrade(wire.stream()),
            slot: slot.map_or_else(Weak::new, Arc::downgrade),
            progress: Progress::new(tokio::time::Instant::now()),
        };
        self.watched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(watched);
    }

    /// Replace a wire that failed under a request by a new one to `addr`,
    /// keeping its place under the limit.
    pub(in crate::upstreams) async fn reconnect_wire(
        &self,
        addr: SocketAddr,
        mut conn: Connection<Wire>,
    ) -> Result<Connection<Wire>, UpstreamFailure> {
        let stream = Box::pin(self.open(addr)).await?;
        let wire = Wire::new(stream);
        let link = Arc::new(Link::default());
        self.watch_wire(&wire, &link, conn.place.lease.slot.as_ref());
        conn.io = wire;
        conn.place.link = link;
        Ok(conn)
    }

    /// Hand a wire back after its response body ended cleanly (the caller
    /// checked [`Connection::reusable_after`]).
    pub(in crate::upstreams) fn checkin_wire(&self, conn: Connection<Wire>) {
        self.hand_back(Handoff::Wire(conn));
    }

    /// The pool's watch over its wires (they have no task of their own),
    /// every [`WATCH_TICK`]: a wire whose response body was handed to a
    /// client that took nothing for `client_send` is given up (its socket
    /// shut down, so the body fails and the client's response is cut off;
    /// its place freed), as hyper's connections are by their own task
    /// (`stall.rs`); an idle wire unused for a second is parked.
    pub(in crate::upstreams) fn watch(&self) {
        let now = tokio::time::Instant::now();
        let mut stalled = Vec::new();
        {
            let mut watched = self
                .watched
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            watched.retain_mut(|w| {
                let (Some(link), Some(stream)) = (w.link.upgrade(), w.stream.upgrade()) else {
                    return false;
                };
                match link.timeout() {
                    None => w.progress.idle(now),
                    Some(timeout) if w.progress.stalled(&link, timeout, now) => {
                        stalled.push((link, stream, w.slot.upgrade()));
                        return false;
                    }
                    Some(_) => {}
                }
                true
            });
        }
        for (link, stream, slot) in stalled {
            crate::metrics::client_send_timeout("response");
            tracing::info!(upstream = %self.name, "client stopped reading; upstream connection released");
            if link.release()
                && let Some(slot) = slot
            {
                slot.free_place();
            }
            let _ = socket2::SockRef::from(&*stream).shutdown(std::net::Shutdown::Both);
        }
        self.park_wires();
    }

    /// Park the wires idle for [`PARK_WIRE_AFTER`] (bare sockets already:
    /// they only move to the parked list, and count as parked).
    fn park_wires(&self) {
        for worker in &self.slots {
            let slots: Vec<SharedSlot> = worker
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .values()
                .map(Arc::clone)
                .collect();
            for slot in slots {
                let mut state = lock(&slot);
                let Some(cut) = state
                    .wires
                    .iter()
                    .position(|(_, since)| since.elapsed() < PARK_WIRE_AFTER)
                    .or(Some(state.wires.len()))
                    .filter(|cut| *cut > 0)
                else {
                    continue;
                };
                let old: Vec<_> = state.wires.drain(..cut).collect();
                for (conn, since) in old {
                    let Connection { io, .. } = conn;
                    match io.into_stream() {
                        Some(stream) => {
                            state.parked.push((stream, since));
                            crate::metrics::upstream_parking(&self.name, false);
                        }
                        None => state.open = state.open.saturating_sub(1),
                    }
                }
            }
        }
    }
}

impl Connection<Wire> {
    /// The connection's wire.
    pub(crate) fn wire(&mut self) -> &mut Wire {
        &mut self.io
    }

    /// The next frame of `body`, read from the socket as needed.
    pub(crate) fn poll_body(
        &mut self,
        body: &mut WireBody,
        cx: &mut Context<'_>,
    ) -> Poll<Option<io::Result<Frame<Bytes>>>> {
        self.io.poll_body(body, cx)
    }

    /// See [`Wire::reusable_after`].
    pub(crate) fn reusable_after(&mut self, body: &WireBody) -> bool {
        self.io.reusable_after(body)
    }
}
