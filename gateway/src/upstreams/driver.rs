//! The task of one upstream connection: it drives hyper's client
//! connection, watches for a client that stopped reading (`stall.rs`) and
//! parks the connection when it sat idle in its pool (`pool.rs`): hyper's
//! state is dropped and the bare socket handed back to the pool.
//!
//! Parking: an idle connection unused through two of its watch's ticks
//! (one to two seconds) is taken out of its pool's idle list by its own
//! task, hyper's client state dropped (`poll_without_shutdown`,
//! `into_parts`) and the bare socket kept in the pool's `parked` list; the
//! next request that finds no hot idle connection takes a parked one
//! ([`still_open`] first) and gives it a new hyper handshake and task. A
//! burst then leaves ~300 bytes per upstream connection instead of ~40 KiB
//! (hyper's request channel alone allocates two 10 KiB blocks). A busy
//! connection never parks; an `Upgrade` connection (hyper's
//! `with_upgrades`, which shuts the socket down at the end) never does.

use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::body::RequestBody;
use super::stall::{self, Link, Watch};

/// Where a connection's place is counted (its pool's slot, `pool.rs`).
pub(super) trait Home: Send + Sync {
    /// Take the idle connection watched through `link` out of the idle
    /// list (and drop it) to park it; when it was last used, or `None`
    /// when it is not there (a request just took it).
    fn take_to_park(&self, link: &Arc<Link>) -> Option<Instant>;

    /// Keep `stream`, last used at `since`, as a parked connection; with
    /// no stream (closed, or stray bytes), or when a request waits in line
    /// (it came while hyper let go of the socket), its place is freed or
    /// handed to that request instead. Whether the socket was kept.
    fn keep_parked(self: Arc<Self>, stream: Option<TcpStream>, since: Instant) -> bool;

    /// Free the place of a connection given up (or hand it to the next
    /// request in line).
    fn free_place(self: Arc<Self>);
}

/// How often a connection's watch looks at it before a response body
/// says what the client-send timeout is (then a quarter of it); an idle
/// connection parks after one to two of these.
const STALL_TICK: Duration = Duration::from_secs(1);

/// What drives one upstream connection (its task).
pub(super) struct Driver {
    /// The upstream's name (for logs).
    name: String,
    addr: SocketAddr,
    link: Arc<Link>,
    slot: Option<Weak<dyn Home>>,
}

type Http1Driver = hyper::client::conn::http1::Connection<TokioIo<TcpStream>, RequestBody>;

impl Driver {
    /// The task of the connection to `addr` watched through `link`,
    /// counted in `slot`.
    pub(super) fn new(
        name: String,
        addr: SocketAddr,
        link: Arc<Link>,
        slot: Option<Weak<dyn Home>>,
    ) -> Self {
        Driver {
            name,
            addr,
            link,
            slot,
        }
    }

    /// Spawn the task: a connection whose link is not parkable (one for
    /// an upgrade) is driven with hyper's upgrades (it shuts the socket
    /// down at the end, so it never parks); any other parks when idle.
    pub(super) fn spawn(self, driver: Http1Driver) {
        if !self.link.is_parkable() {
            tokio::spawn(async move {
                let outcome = stall::guard(driver.with_upgrades(), &self.link, STALL_TICK).await;
                self.ended(outcome);
            });
        } else {
            tokio::spawn(self.drive(driver));
        }
    }

    /// Drive a parkable connection until it ends, parking it when its
    /// watch says it sat idle.
    async fn drive(self, mut driver: Http1Driver) {
        loop {
            let run = std::future::poll_fn(|cx| driver.poll_without_shutdown(cx));
            match stall::guard(run, &self.link, STALL_TICK).await {
                Err(Watch::Park) => {
                    let Some(slot) = self.slot.as_ref().and_then(Weak::upgrade) else {
                        return;
                    };
                    // Without its sender (dropped by `take_to_park`),
                    // hyper's dispatcher ends at once (the connection is
                    // idle) and gives the socket back.
                    let Some(since) = slot.take_to_park(&self.link) else {
                        // A request took it meanwhile: go on driving it.
                        continue;
                    };
                    let parked =
                        match std::future::poll_fn(|cx| driver.poll_without_shutdown(cx)).await {
                            Ok(()) => {
                                let parts = driver.into_parts();
                                parts.read_buf.is_empty().then(|| parts.io.into_inner())
                            }
                            Err(_) => None,
                        };
                    if slot.keep_parked(parked, since) {
                        crate::metrics::upstream_parking(&self.name, false);
                    }
                    return;
                }
                outcome => {
                    self.ended(outcome);
                    return;
                }
            }
        }
    }

    /// The connection's task ends with `outcome`.
    fn ended(self, outcome: Result<hyper::Result<()>, Watch>) {
        match outcome {
            Ok(Ok(())) | Err(Watch::Park) => {}
            Ok(Err(e)) => {
                tracing::debug!(upstream = %self.name, error = %e, "upstream connection ended with an error");
            }
            Err(Watch::Stalled) => {
                crate::metrics::client_send_timeout("response");
                tracing::info!(upstream = %self.name, endpoint = %self.addr, "client stopped reading; upstream connection released");
                if self.link.release() {
                    // Dropping a lease frees its place (or hands it to
                    // the next waiter); the connection's own is inert now.
                    if let Some(slot) = self.slot.and_then(|slot| slot.upgrade()) {
                        slot.free_place();
                    }
                }
            }
        }
    }
}

/// Whether a parked socket is still fit for a request: no close and no
/// stray bytes from the upstream since it was parked. The reactor marks
/// it readable when either arrived; a socket not marked costs no syscall.
pub(super) fn still_open(stream: &TcpStream) -> bool {
    let mut probe = [0u8; 1];
    matches!(stream.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}
