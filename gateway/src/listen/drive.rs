//! Driving one served connection to its end: the stop signal and the idle
//! timer ask it to finish (hyper's graceful shutdown), and how it ended is
//! noted and logged.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::Poll;
use std::time::Duration;

use crate::stop::Stop;

use super::client_io::ConnState;

/// Serve a connection to its end; on `stop`, or when it has carried no
/// request for `idle` (between `idle` and twice that), ask it to finish
/// (`graceful_shutdown`: no new requests, the ones in flight complete;
/// HTTP/2 sends `GOAWAY`). hyper closes a connection whose request head is
/// too slow without a response; the socket answers `408` when it is
/// dropped, which happens at the end of this function, after the flag is
/// set.
pub(super) async fn drive<C>(
    conn: C,
    mut graceful_shutdown: impl FnMut(Pin<&mut C>),
    mut stop: Stop,
    idle: Duration,
    state: &ConnState,
    peer: SocketAddr,
) where
    C: Future<Output = Result<(), hyper::Error>>,
{
    let mut conn = std::pin::pin!(conn);
    let mut stopped = std::pin::pin!(stop.stopped());
    let mut idle_timer = std::pin::pin!(tokio::time::sleep(idle));
    let mut served = state.served.load(Ordering::Relaxed);
    // Neither `stopped` nor the timer is polled once the connection is
    // finishing: a completed `async fn` panics when polled again.
    let mut finishing = false;
    let ended = std::future::poll_fn(|cx| {
        if let Poll::Ready(ended) = conn.as_mut().poll(cx) {
            return Poll::Ready(ended);
        }
        if finishing {
            return Poll::Pending;
        }
        let mut finish = stopped.as_mut().poll(cx).is_ready();
        if !finish && idle_timer.as_mut().poll(cx).is_ready() {
            let now = state.served.load(Ordering::Relaxed);
            if now == served && state.in_flight.load(Ordering::Relaxed) == 0 {
                tracing::debug!(%peer, ?idle, "idle connection closed");
                finish = true;
            } else {
                served = now;
                idle_timer
                    .as_mut()
                    .reset(tokio::time::Instant::now() + idle);
                let _ = idle_timer.as_mut().poll(cx);
            }
        }
        if finish {
            finishing = true;
            graceful_shutdown(conn.as_mut());
            return conn.as_mut().poll(cx);
        }
        Poll::Pending
    })
    .await;
    state.note_end(&ended);
    report(ended, peer);
}

/// Log how a connection ended (an HTTP/1.1 turn has already noted a head
/// timeout for the `408`: `keep_alive.rs`).
pub(super) fn report(ended: Result<(), hyper::Error>, peer: SocketAddr) {
    if let Err(e) = ended {
        tracing::debug!(%peer, error = %e, "client connection ended with an error");
    }
}
