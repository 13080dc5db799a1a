//! Slow clients: an upstream connection whose response the client stopped
//! taking is given up after `timeouts.client_send`, so a few clients that
//! stop reading (a slow HTTP/1 reader, an HTTP/2 client that never opens
//! its flow-control window) cannot hold the per-endpoint connections.
//!
//! The response body cannot notice by itself: once the client stops
//! taking bytes, hyper stops polling it (its write buffer is full, or the
//! HTTP/2 stream has no window). So the response body only leaves marks
//! in the connection's [`Link`] (a poll count and whether its last poll
//! handed the client a chunk), and the task that already drives each
//! upstream connection also watches those marks ([`guard`]): a chunk
//! handed out and no poll since for `client_send` means the client stopped
//! reading. The connection is then closed (the response body fails, so
//! the client sees a cut-off response, never a short complete one) and its
//! place under `max_connections_per_endpoint` freed.
//!
//! Nothing of this runs per request beyond a few relaxed atomic stores:
//! the watch wakes once per quarter of the timeout per upstream connection.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// The shortest check interval (tests use short timeouts).
const MIN_TICK: Duration = Duration::from_millis(10);

/// What the response body in progress on one upstream connection tells
/// the connection's watch.
#[derive(Debug, Default)]
pub(crate) struct Link {
    /// `timeouts.client_send` in milliseconds while a response body is on
    /// its way to the client; 0 otherwise.
    timeout_ms: AtomicU64,
    /// Polls of that response body so far.
    polls: AtomicU64,
    /// Its last poll handed the client a chunk: hyper polls again only
    /// once the client took room for more.
    handed: AtomicBool,
    /// The watch gave the connection up and freed its place under the cap.
    released: AtomicBool,
}

impl Link {
    /// A response body starts streaming to a client who must take its
    /// bytes within `timeout`.
    pub(crate) fn body_started(&self, timeout: Duration) {
        let ms = u64::try_from(timeout.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        self.handed.store(false, Ordering::Relaxed);
        self.timeout_ms.store(ms, Ordering::Relaxed);
    }

    /// The response body is being polled (the client has room): one
    /// writer, so a load and a store rather than a locked add.
    pub(crate) fn body_polled(&self) {
        let polls = self.polls.load(Ordering::Relaxed);
        self.polls.store(polls.wrapping_add(1), Ordering::Relaxed);
        self.handed.store(false, Ordering::Relaxed);
    }

    /// The last poll handed the client a chunk.
    pub(crate) fn body_handed(&self) {
        self.handed.store(true, Ordering::Relaxed);
    }

    /// The response body ended or was dropped.
    pub(crate) fn body_done(&self) {
        self.timeout_ms.store(0, Ordering::Relaxed);
        self.handed.store(false, Ordering::Relaxed);
    }

    /// Whether the watch gave this connection up.
    pub(crate) fn released(&self) -> bool {
        self.released.load(Ordering::Relaxed)
    }

    /// Mark the connection given up; `false` if it already was.
    pub(super) fn release(&self) -> bool {
        !self.released.swap(true, Ordering::Relaxed)
    }

    fn timeout(&self) -> Option<Duration> {
        match self.timeout_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(Duration::from_millis(ms)),
        }
    }
}

/// The client stopped taking a response for `client_send`.
#[derive(Debug)]
pub(super) struct Stalled;

/// Drive `conn` (an upstream connection's task) while watching `link`;
/// `Err(Stalled)` (and `conn` dropped, which closes it) when a response
/// body on it was handed out and not polled again within its timeout.
/// `tick` is the check interval until a body says otherwise.
pub(super) async fn guard<F: Future>(
    conn: F,
    link: &Link,
    mut tick: Duration,
) -> Result<F::Output, Stalled> {
    let watch = async {
        let mut last_polls = u64::MAX;
        let mut since = Instant::now();
        loop {
            tokio::time::sleep(tick.max(MIN_TICK)).await;
            let now = Instant::now();
            let Some(timeout) = link.timeout() else {
                since = now;
                continue;
            };
            tick = timeout / 4;
            let polls = link.polls.load(Ordering::Relaxed);
            if !link.handed.load(Ordering::Relaxed) || polls != last_polls {
                last_polls = polls;
                since = now;
            } else if now.duration_since(since) >= timeout {
                return;
            }
        }
    };
    tokio::select! {
        out = conn => Ok(out),
        () = watch => Err(Stalled),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_handed_chunk_not_taken_within_the_timeout_stalls() {
        let link = Link::default();
        link.body_started(Duration::from_millis(40));
        link.body_polled();
        link.body_handed();
        let outcome = guard(
            std::future::pending::<()>(),
            &link,
            Duration::from_millis(10),
        )
        .await;
        assert!(outcome.is_err());
    }

    #[tokio::test]
    async fn a_body_waiting_on_the_upstream_never_stalls() {
        let link = Link::default();
        link.body_started(Duration::from_millis(40));
        // Polled, nothing handed: the upstream is the slow one.
        link.body_polled();
        let conn = tokio::time::sleep(Duration::from_millis(300));
        assert!(guard(conn, &link, Duration::from_millis(10)).await.is_ok());
    }

    #[tokio::test]
    async fn an_idle_connection_never_stalls() {
        let link = Link::default();
        link.body_started(Duration::from_millis(40));
        link.body_handed();
        link.body_done();
        let conn = tokio::time::sleep(Duration::from_millis(300));
        assert!(guard(conn, &link, Duration::from_millis(10)).await.is_ok());
    }

    #[test]
    fn a_connection_is_released_once() {
        let link = Link::default();
        assert!(!link.released());
        assert!(link.release());
        assert!(!link.release());
        assert!(link.released());
    }
}
