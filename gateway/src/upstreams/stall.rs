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
//!
//! The same watch parks an idle pooled connection ([`Watch::Park`]): one
//! that sat in its pool through two ticks in a row, unused in between,
//! is handed back to the pool as a bare socket (`pool.rs`), so a burst's
//! upstream connections do not keep hyper's state (a request channel,
//! read and write buffers, a task: ~40 KiB each) while nothing uses them.

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
    /// The connection may be parked when idle (its task drives it without
    /// shutting its socket down; an upgradeable one never parks).
    parkable: bool,
    /// The connection is in its pool's idle list.
    idle: AtomicBool,
    /// Times the connection went into its pool's idle list.
    checkins: AtomicU64,
}

impl Link {
    /// The link of a connection that parks when idle.
    pub(super) fn parkable() -> Self {
        Link {
            parkable: true,
            ..Link::default()
        }
    }

    /// Whether the connection parks when idle.
    pub(super) fn is_parkable(&self) -> bool {
        self.parkable
    }

    /// The connection went into its pool's idle list.
    pub(super) fn checked_in(&self) {
        let n = self.checkins.load(Ordering::Relaxed);
        self.checkins.store(n.wrapping_add(1), Ordering::Relaxed);
        self.idle.store(true, Ordering::Relaxed);
    }

    /// The connection left its pool's idle list for an exchange.
    pub(super) fn checked_out(&self) {
        self.idle.store(false, Ordering::Relaxed);
    }

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

    /// `timeouts.client_send` while a response body streams.
    pub(super) fn timeout(&self) -> Option<Duration> {
        match self.timeout_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(Duration::from_millis(ms)),
        }
    }
}

/// What a watch last saw of a response body: its poll count, and since
/// when the client has not taken a chunk handed to it.
#[derive(Debug)]
pub(super) struct Progress {
    last_polls: u64,
    since: Instant,
}

impl Progress {
    /// Nothing seen yet, at `now`.
    pub(super) fn new(now: Instant) -> Self {
        Progress {
            last_polls: u64::MAX,
            since: now,
        }
    }

    /// Look at `link` at `now`: whether a chunk was handed out and the
    /// body not polled again for `timeout` (the client stopped reading).
    pub(super) fn stalled(&mut self, link: &Link, timeout: Duration, now: Instant) -> bool {
        let polls = link.polls.load(Ordering::Relaxed);
        if !link.handed.load(Ordering::Relaxed) || polls != self.last_polls {
            self.last_polls = polls;
            self.since = now;
            false
        } else {
            now.duration_since(self.since) >= timeout
        }
    }

    /// No body in progress at `now`: nothing to hold against the client.
    pub(super) fn idle(&mut self, now: Instant) {
        self.since = now;
    }
}

/// Why the watch stopped driving a connection.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Watch {
    /// The client stopped taking a response for `client_send`.
    Stalled,
    /// The connection sat idle in its pool through two ticks in a row
    /// (only a parkable one).
    Park,
}

/// Drive `conn` (an upstream connection's task) while watching `link`;
/// `Err(Watch::Stalled)` (and `conn` dropped, which closes it) when a
/// response body on it was handed out and not polled again within its
/// timeout; `Err(Watch::Park)` when a parkable connection was idle in its
/// pool at two ticks in a row and not used in between. `tick` is the
/// check interval until a body says otherwise.
pub(super) async fn guard<F: Future>(
    conn: F,
    link: &Link,
    mut tick: Duration,
) -> Result<F::Output, Watch> {
    let watch = async {
        let mut progress = Progress::new(Instant::now());
        // The checkin count at the last tick that found it idle.
        let mut idle_at: Option<u64> = None;
        loop {
            tokio::time::sleep(tick.max(MIN_TICK)).await;
            let now = Instant::now();
            let Some(timeout) = link.timeout() else {
                progress.idle(now);
                if link.parkable && link.idle.load(Ordering::Relaxed) {
                    let checkins = link.checkins.load(Ordering::Relaxed);
                    if idle_at == Some(checkins) {
                        return Watch::Park;
                    }
                    idle_at = Some(checkins);
                } else {
                    idle_at = None;
                }
                continue;
            };
            idle_at = None;
            tick = timeout / 4;
            if progress.stalled(link, timeout, now) {
                return Watch::Stalled;
            }
        }
    };
    tokio::select! {
        out = conn => Ok(out),
        why = watch => Err(why),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

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
        assert_eq!(outcome.err(), Some(Watch::Stalled));
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

    #[tokio::test]
    async fn a_parkable_connection_idle_through_two_ticks_parks() {
        let link = Link::parkable();
        link.checked_in();
        let outcome = guard(
            std::future::pending::<()>(),
            &link,
            Duration::from_millis(10),
        )
        .await;
        assert_eq!(outcome.err(), Some(Watch::Park));
    }

    #[tokio::test]
    async fn a_connection_in_use_or_not_parkable_never_parks() {
        // Not parkable (an upgradeable connection), idle all along.
        let link = Link::default();
        link.checked_in();
        let conn = tokio::time::sleep(Duration::from_millis(200));
        assert!(guard(conn, &link, Duration::from_millis(10)).await.is_ok());
        // Parkable, but out of the pool (an exchange in progress).
        let link = Link::parkable();
        link.checked_in();
        link.checked_out();
        let conn = tokio::time::sleep(Duration::from_millis(200));
        assert!(guard(conn, &link, Duration::from_millis(10)).await.is_ok());
    }

    #[tokio::test]
    async fn a_connection_used_between_two_ticks_does_not_park() {
        let link = Arc::new(Link::parkable());
        link.checked_in();
        // Checked out and in again every 5 ms: never idle through two
        // 30 ms ticks with the same checkin count.
        let busy = Arc::clone(&link);
        let churn = async move {
            for _ in 0..60 {
                tokio::time::sleep(Duration::from_millis(5)).await;
                busy.checked_out();
                busy.checked_in();
            }
        };
        assert!(guard(churn, &link, Duration::from_millis(30)).await.is_ok());
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
