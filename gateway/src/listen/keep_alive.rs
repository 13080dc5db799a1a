//! HTTP/1.1 keep-alive without hyper's buffers while idle.
//!
//! hyper gives each HTTP/1 connection an 8 KiB read buffer and an 8 KiB
//! write buffer for its whole life, plus its dispatcher state: about
//! 18 KiB per connection, idle or not. Most connections a gateway holds
//! in front of browsers are idle keep-alive connections, so an idle one
//! gives all of that back and waits as a bare socket instead ("parked"):
//!
//! 1. [`ClientIo`] tells when hyper asks for the first byte of a next
//!    request while nothing is in flight, nothing is left to send and no
//!    byte has come since the last response ([`ConnState::idle`]); the
//!    connection is then parked, at once, or, when it is busy (its client
//!    came back within [`PARK_AFTER`] the last time it was parked:
//!    [`ConnState::busy`]), if no request comes for [`PARK_AFTER`] (half a
//!    second; less when `timeouts.header_read` is short): the gaps between
//!    the requests of a busy connection are not worth parking for;
//! 2. the hyper connection is then stopped (`graceful_shutdown`, which
//!    closes an idle hyper connection at once, leaving the socket open) and
//!    taken apart: bytes hyper had read but not parsed (a pipelined
//!    request) go back in front of the socket and a new hyper connection
//!    serves them at once;
//! 3. otherwise the connection's task ends and the socket waits in its
//!    worker's parking lot (`listen/parking.rs`) for the client's next
//!    bytes (a new task and hyper connection then serve them, with its own
//!    `timeouts.header_read`), for `timeouts.client_idle` (then it is
//!    closed, like NGINX's `keepalive_timeout`), or for the shutdown signal
//!    (closed at once).

use std::future::poll_fn;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::HttpService;
use tokio::io::{AsyncRead, AsyncWrite};

use tokio::time::Instant;

use crate::content::returns::CloseWithoutAnswer;
use crate::proxy::ResponseBody;
use crate::stop::Stop;

use super::client_io::{ClientIo, ClientSocket, ConnState};

/// How long a connection must stay idle between requests before it is
/// parked (between this and twice this), unless `timeouts.header_read` is
/// shorter: hyper's head timer runs until then.
const PARK_AFTER: Duration = Duration::from_millis(500);

/// The wait before parking under `header_read`: [`PARK_AFTER`], or a third
/// of the head timeout when that is shorter.
pub(super) fn park_after(header_read: Duration) -> Duration {
    PARK_AFTER.min(header_read / 3)
}

/// A response body that tells the connection when hyper is done with it
/// (dropped after its last frame, or when the exchange is given up).
pub(super) struct Tracked {
    body: ResponseBody,
    state: Arc<ConnState>,
}

impl Tracked {
    /// `body`, counted in flight on `state` until dropped.
    pub(super) fn new(body: ResponseBody, state: Arc<ConnState>) -> Self {
        Tracked { body, state }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.state.response_finished();
    }
}

impl Body for Tracked {
    type Data = Bytes;
    type Error = <ResponseBody as Body>::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// How one hyper connection's turn ended.
enum Turn<S: ClientSocket> {
    /// The connection is over (closed by either side, failed, or stopped).
    Ended(Result<(), hyper::Error>),
    /// Idle between requests, nothing unread: park the socket.
    Idle(ClientIo<S>),
    /// hyper had read (not parsed) the start of a next request: serve it.
    Pipelined(ClientIo<S>),
}

/// How an HTTP/1.1 connection's service ended.
pub(super) enum Served<S: ClientSocket> {
    /// The connection is over (closed by either side, failed, or stopped).
    Ended(Result<(), hyper::Error>),
    /// Idle between requests, nothing unread, hyper gone: park the socket
    /// (`listen/parking.rs`).
    Idle(ClientIo<S>),
}

/// Serve an HTTP/1.1 client connection until it ends, or until it is idle
/// between requests (module docs).
pub(super) async fn serve_http1<S, Svc>(
    builder: &http1::Builder,
    mut io: ClientIo<S>,
    service: Svc,
    state: &ConnState,
    park_after: Duration,
    stop: &mut Stop,
) -> Served<S>
where
    S: ClientSocket + AsyncRead + AsyncWrite + Unpin + Send + 'static,
    Svc: HttpService<Incoming, ResBody = Tracked, Error = CloseWithoutAnswer> + Clone + Unpin,
{
    loop {
        match turn(builder, io, service.clone(), state, park_after, stop).await {
            Turn::Ended(result) => return Served::Ended(result),
            Turn::Pipelined(next) => io = next,
            Turn::Idle(idle) => return Served::Idle(idle),
        }
    }
}

/// Serve `io` with one hyper connection until it ends or is idle.
async fn turn<S, Svc>(
    builder: &http1::Builder,
    mut io: ClientIo<S>,
    service: Svc,
    state: &ConnState,
    park_after: Duration,
    stop: &mut Stop,
) -> Turn<S>
where
    S: ClientSocket + AsyncRead + AsyncWrite + Unpin + Send + 'static,
    Svc: HttpService<Incoming, ResBody = Tracked, Error = CloseWithoutAnswer> + Unpin,
{
    io.begin_turn();
    let mut conn = builder.serve_connection(io, service).with_upgrades();
    let idle = {
        let mut stopped = pin!(stop.stopped());
        // Parking is for connections idle for a while, not for the gaps
        // between requests of a busy one (taking hyper apart and building
        // it again for every request costs more CPU than it saves memory).
        // A connection not known to be busy parks as soon as it is idle;
        // a busy one (back from the lot within `park_after` last time) is
        // looked at again after `park_after`, and parked if no request came
        // meanwhile. One timer per `park_after` at most, not one per
        // request.
        let mut park_timer = pin!(tokio::time::sleep(park_after));
        let mut armed: Option<u64> = None;
        // `stopped` is polled until it completes, never after: a finished
        // `async fn` panics when polled again, and this closure runs again
        // at every wake-up while in-flight requests finish.
        let mut stopping = false;
        poll_fn(|cx| {
            if let Poll::Ready(result) = Pin::new(&mut conn).poll(cx) {
                return Poll::Ready(Some(result));
            }
            if state.idle.swap(false, Ordering::Relaxed) && armed.is_none() {
                let served = state.served.load(Ordering::Relaxed);
                if !state.busy.load(Ordering::Relaxed) && state.idle_since(served) {
                    return Poll::Ready(None);
                }
                armed = Some(served);
                park_timer.as_mut().reset(Instant::now() + park_after);
            }
            if let Some(served) = armed
                && park_timer.as_mut().poll(cx).is_ready()
            {
                if state.idle_since(served) {
                    return Poll::Ready(None);
                }
                let now_served = state.served.load(Ordering::Relaxed);
                if state.idle_since(now_served) {
                    // Requests came and went: look again later.
                    armed = Some(now_served);
                    park_timer.as_mut().reset(Instant::now() + park_after);
                    let _ = park_timer.as_mut().poll(cx);
                } else {
                    // Busy: the next idle moment arms it again.
                    armed = None;
                }
            }
            if !stopping && stopped.as_mut().poll(cx).is_ready() {
                stopping = true;
                // In-flight requests finish; an idle connection closes.
                Pin::new(&mut conn).graceful_shutdown();
                if let Poll::Ready(result) = Pin::new(&mut conn).poll(cx) {
                    return Poll::Ready(Some(result));
                }
            }
            Poll::Pending
        })
        .await
    };
    if let Some(result) = idle {
        return turn_ended(state, result);
    }
    // An idle hyper connection closes at once when told to shut down
    // (its socket left open: `parking`). One that does not was busy after
    // all (e.g. still reading the body of a request answered early): it
    // finishes that exchange and closes for real, never parked, so bytes
    // it left unread can never be taken for a next request.
    state.parking.store(true, Ordering::Relaxed);
    Pin::new(&mut conn).graceful_shutdown();
    let closed = poll_fn(|cx| Poll::Ready(Pin::new(&mut conn).poll(cx))).await;
    state.parking.store(false, Ordering::Relaxed);
    match closed {
        Poll::Ready(Ok(())) => {}
        Poll::Ready(Err(e)) => return turn_ended(state, Err(e)),
        Poll::Pending => {
            let result = (&mut conn).await;
            return turn_ended(state, result);
        }
    }
    // `None` only after an upgrade, which an idle connection never had.
    let Some(parts) = conn.into_parts() else {
        return Turn::Ended(Ok(()));
    };
    let mut io = parts.io;
    if parts.read_buf.is_empty() {
        return Turn::Idle(io);
    }
    io.push_front(&parts.read_buf);
    Turn::Pipelined(io)
}

/// The end of a turn, noted while hyper's connection (and with it the
/// socket) still exists: a request head that timed out is answered `408`
/// when the socket is dropped (`client_io.rs`).
fn turn_ended<S: ClientSocket>(state: &ConnState, result: Result<(), hyper::Error>) -> Turn<S> {
    state.note_end(&result);
    Turn::Ended(result)
}
