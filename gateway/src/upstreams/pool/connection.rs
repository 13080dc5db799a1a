//! The connection types' own behaviour (`pool.rs` defines them): a
//! connection's place and link, the hand-off between requests, and a
//! slot as the home a hyper connection's task parks into (`driver.rs`).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::net::TcpStream;

use super::{Connection, Handoff, Lease, Place, RequestBody, SharedSlot, Slot, lock};
use crate::upstreams::driver::Home;
use crate::upstreams::health::Outstanding;
use crate::upstreams::share::Share;
use crate::upstreams::stall::Link;

impl Home for Mutex<Slot> {
    fn take_to_park(&self, link: &Arc<Link>) -> Option<Instant> {
        let taken = {
            let mut state = lock(self);
            let at = state
                .idle
                .iter()
                .position(|(conn, _)| Arc::ptr_eq(&conn.place.link, link))?;
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

impl Drop for Place {
    fn drop(&mut self) {
        // Its watch gave it up and freed its place already.
        if self.link.released() {
            self.lease.disarm();
        }
    }
}

impl<T> Connection<T> {
    pub(super) fn new(io: T, lease: Lease, link: Arc<Link>) -> Self {
        Connection {
            io,
            place: Place { lease, link },
            outstanding: None,
            share: None,
        }
    }

    /// The marks the response body on this connection leaves for its
    /// watch (slow clients).
    pub(crate) fn link(&self) -> &Link {
        &self.place.link
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

    /// Its request is over, wherever it goes next: the slot it is counted
    /// in, if any.
    pub(super) fn release_request(&mut self) -> Option<SharedSlot> {
        self.outstanding = None;
        self.share = None;
        self.place.lease.slot.clone()
    }

    /// Into an idle list (the slot counts it there, not its lease).
    pub(super) fn into_idle(mut self) -> (Self, Instant) {
        self.place.lease.disarm();
        self.place.link.checked_in();
        (self, Instant::now())
    }

    /// Out of an idle list for an exchange, holding a place in `slot`.
    pub(super) fn checked_out(&mut self, slot: &SharedSlot) {
        self.place.link.checked_out();
        self.place.lease = Lease::new(Arc::clone(slot));
        self.outstanding = None;
        self.share = None;
    }

    /// Its place, taken out (the connection is dropped or turned into
    /// another kind).
    pub(super) fn take_lease(&mut self) -> Lease {
        Lease {
            slot: self.place.lease.slot.take(),
        }
    }
}

impl Connection {
    /// Whether the connection is closed.
    pub(super) fn is_closed(&self) -> bool {
        self.io.is_closed()
    }

    /// Wait until the connection can take a request.
    pub(crate) async fn ready(&mut self) -> hyper::Result<()> {
        self.io.ready().await
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
        self.io.try_send_request(request)
    }
}

impl Handoff {
    /// Keep the count without the place it carries (dropped while the
    /// slot is locked, or counted elsewhere).
    pub(super) fn disarm(&mut self) {
        match self {
            Handoff::Connection(conn) => conn.place.lease.disarm(),
            Handoff::Wire(conn) => conn.place.lease.disarm(),
            Handoff::Open(lease) => lease.disarm(),
        }
    }
}
