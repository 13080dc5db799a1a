//! Idle HTTP/1.1 keep-alive connections, waiting without a task of their
//! own: a worker's parking lot.
//!
//! A connection idle between requests has given hyper's state back
//! (`keep_alive.rs`); what is left is its socket and a few shared
//! pointers. A task per idle connection would still cost its future and
//! its timers (about 2 KiB each), so the connection's task ends instead and
//! the connection is handed to its worker's lot, one task per worker:
//!
//! - each parked connection gets a waker of its own, which tells the lot
//!   which connection the client spoke on; the lot then hands it back to a
//!   new task of its own (`Parked::resume`), which serves it with a new
//!   hyper connection;
//! - a connection parked for `timeouts.client_idle` is closed (the lot
//!   looks for them at most every [`SWEEP`], so between `client_idle` and
//!   `client_idle` + 100 ms), like NGINX's `keepalive_timeout`;
//! - on shutdown every parked connection is closed at once, and so is
//!   every connection parked later.
//!
//! A parked connection costs its entry in the lot (80 bytes), its waker
//! (40 bytes), the connection's own state, boxed (`worker.rs`, about 250
//! bytes), and what lives as long as the connection anyway (tokio's
//! registration of the socket, 256 bytes; the client's address): about
//! 880 bytes in all (`docs/benchmarks/gateway.md`).

use std::io;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use slab::Slab;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use crate::stop::Stop;

/// How often at most the lot looks for connections idle for too long.
const SWEEP: Duration = Duration::from_millis(100);

/// A connection that can wait in the lot.
pub(super) trait Parked: Send + 'static {
    /// Ready when the client has sent something (bytes or the end).
    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Serve the connection again, in a task of its own; it was parked
    /// for `parked`.
    fn resume(self: Box<Self>, parked: Duration);
}

/// Hands connections to a worker's lot; clone it for each connection.
#[derive(Clone)]
pub(super) struct Lot(mpsc::UnboundedSender<(Box<dyn Parked>, Duration)>);

impl Lot {
    /// A lot and the task that keeps it, to run on the worker's event loop
    /// until `stop`.
    pub(super) fn new(stop: Stop) -> (Self, impl Future<Output = ()> + Send + 'static) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Lot(tx), keep(rx, stop))
    }

    /// Park `conn` for at most `idle`; closed at once (dropped) when the
    /// gateway is stopping.
    pub(super) fn park(&self, conn: Box<dyn Parked>, idle: Duration) {
        // A send fails only once the lot is gone (shutdown): the connection
        // is dropped with the error, which closes it.
        let _ = self.0.send((conn, idle));
    }
}

/// The connections whose wakers were called since the lot last looked.
#[derive(Default)]
struct Woken {
    entries: Mutex<Vec<(usize, u64)>>,
    notify: Notify,
}

/// One parked connection's waker: tells the lot which one to look at.
struct EntryWaker {
    woken: Arc<Woken>,
    key: usize,
    serial: u64,
}

impl Wake for EntryWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((self.key, self.serial));
        self.woken.notify.notify_one();
    }
}

/// A connection in the lot.
struct Entry {
    conn: Box<dyn Parked>,
    /// Tells a reused slot from the connection a late wake was meant for.
    serial: u64,
    /// When it was parked.
    parked_at: Instant,
    /// When it is closed if the client stays silent.
    deadline: Instant,
    waker: Waker,
    _counted: Counted,
}

/// The parked connections of one worker.
struct Connections {
    entries: Slab<Entry>,
    woken: Arc<Woken>,
    serial: u64,
}

impl Connections {
    /// Park `conn` until its client speaks, or serve it now if it has.
    fn park(&mut self, conn: Box<dyn Parked>, idle: Duration, now: Instant) -> Option<Instant> {
        self.serial += 1;
        let vacant = self.entries.vacant_entry();
        let waker = Waker::from(Arc::new(EntryWaker {
            woken: Arc::clone(&self.woken),
            key: vacant.key(),
            serial: self.serial,
        }));
        match conn.poll_ready(&mut Context::from_waker(&waker)) {
            Poll::Ready(Ok(())) => {
                conn.resume(Duration::ZERO);
                None
            }
            // Dropped: closed.
            Poll::Ready(Err(_)) => None,
            Poll::Pending => {
                let deadline = now + idle;
                vacant.insert(Entry {
                    conn,
                    serial: self.serial,
                    parked_at: now,
                    deadline,
                    waker,
                    _counted: Counted::new(),
                });
                Some(deadline)
            }
        }
    }

    /// Serve (or close, on a socket error) the woken connections whose
    /// clients spoke.
    fn look_at_woken(&mut self, woken: &mut Vec<(usize, u64)>) {
        std::mem::swap(
            woken,
            &mut *self
                .woken
                .entries
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        for (key, serial) in woken.drain(..) {
            let Some(entry) = self.entries.get(key) else {
                continue;
            };
            if entry.serial != serial {
                continue;
            }
            match entry
                .conn
                .poll_ready(&mut Context::from_waker(&entry.waker))
            {
                Poll::Pending => {}
                Poll::Ready(ready) => {
                    let entry = self.entries.remove(key);
                    if ready.is_ok() {
                        entry.conn.resume(entry.parked_at.elapsed());
                    }
                }
            }
        }
    }

    /// Close the connections idle past their deadline; the next deadline.
    fn close_expired(&mut self, now: Instant) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        self.entries.retain(|_, entry| {
            if entry.deadline <= now {
                return false;
            }
            next = Some(next.map_or(entry.deadline, |n| n.min(entry.deadline)));
            true
        });
        next
    }
}

/// The lot's task: park what is handed over, resume what is woken, close
/// what stays idle too long; on `stop`, close everything.
async fn keep(mut parked: mpsc::UnboundedReceiver<(Box<dyn Parked>, Duration)>, mut stop: Stop) {
    let woken = Arc::new(Woken::default());
    let mut lot = Connections {
        entries: Slab::new(),
        woken: Arc::clone(&woken),
        serial: 0,
    };
    let mut spare = Vec::new();
    let mut stopped = pin!(stop.stopped());
    let mut sweep = pin!(tokio::time::sleep(Duration::ZERO));
    // The earliest deadline in the lot, and when the lot last looked.
    let mut next_deadline: Option<Instant> = None;
    let mut last_sweep = Instant::now();
    loop {
        if let Some(deadline) = next_deadline {
            let at = deadline.max(last_sweep + SWEEP);
            if sweep.deadline() != at {
                sweep.as_mut().reset(at);
            }
        }
        tokio::select! {
            biased;
            () = stopped.as_mut() => break,
            () = woken.notify.notified() => lot.look_at_woken(&mut spare),
            handed = parked.recv() => {
                let Some((conn, idle)) = handed else { break };
                let now = Instant::now();
                if let Some(deadline) = lot.park(conn, idle, now) {
                    next_deadline = Some(next_deadline.map_or(deadline, |d| d.min(deadline)));
                }
            }
            () = sweep.as_mut(), if next_deadline.is_some() => {
                last_sweep = Instant::now();
                next_deadline = lot.close_expired(last_sweep);
            }
        }
    }
    // Shutdown: close what is parked, and what is handed over from now on.
    parked.close();
    drop(lot);
    while parked.try_recv().is_ok() {}
}

/// One parked connection in `gateway_client_connections_idle`.
struct Counted;

impl Counted {
    fn new() -> Self {
        crate::metrics::client_idle().increment(1.0);
        Counted
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        crate::metrics::client_idle().decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    /// A parked test connection: its server side, reported (with its id)
    /// when the lot resumes it.
    struct Conn {
        id: usize,
        stream: TcpStream,
        resumed: mpsc::UnboundedSender<(usize, TcpStream)>,
    }

    impl Parked for Conn {
        fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.stream.poll_read_ready(cx)
        }

        fn resume(self: Box<Self>, _parked: Duration) {
            let _ = self.resumed.send((self.id, self.stream));
        }
    }

    /// `n` connected pairs over loopback: (client, server).
    async fn pairs(n: usize) -> Vec<(TcpStream, TcpStream)> {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut out = Vec::new();
        for _ in 0..n {
            let client = TcpStream::connect(addr).await.expect("connect");
            let (server, _) = listener.accept().await.expect("accept");
            out.push((client, server));
        }
        out
    }

    struct Harness {
        lot: Lot,
        stop: crate::stop::StopSender,
        resumed: mpsc::UnboundedReceiver<(usize, TcpStream)>,
        resumed_tx: mpsc::UnboundedSender<(usize, TcpStream)>,
    }

    fn harness() -> Harness {
        let (stop, stopped) = crate::stop::channel();
        let (lot, keeper) = Lot::new(stopped);
        tokio::spawn(keeper);
        let (resumed_tx, resumed) = mpsc::unbounded_channel();
        Harness {
            lot,
            stop,
            resumed,
            resumed_tx,
        }
    }

    impl Harness {
        /// Park `stream`, read up to now as a served connection's is (until
        /// it would block: a fresh socket counts as readable until then).
        fn park(&self, id: usize, stream: TcpStream, idle: Duration) {
            let mut scratch = [0u8; 16];
            assert!(stream.try_read(&mut scratch).is_err(), "nothing sent yet");
            self.park_as_is(id, stream, idle);
        }

        fn park_as_is(&self, id: usize, stream: TcpStream, idle: Duration) {
            let conn = Conn {
                id,
                stream,
                resumed: self.resumed_tx.clone(),
            };
            self.lot.park(Box::new(conn), idle);
        }

        async fn next_resumed(&mut self) -> (usize, TcpStream) {
            tokio::time::timeout(Duration::from_secs(5), self.resumed.recv())
                .await
                .expect("a connection is resumed")
                .expect("channel open")
        }

        /// Nothing resumed, after the lot had time to look.
        async fn none_resumed(&mut self) {
            tokio::time::sleep(Duration::from_millis(150)).await;
            assert!(
                self.resumed.try_recv().is_err(),
                "nothing should be resumed"
            );
        }
    }

    /// The client's side sees the connection closed within five seconds.
    async fn closed(client: &mut TcpStream) -> bool {
        let mut byte = [0u8; 1];
        matches!(
            tokio::time::timeout(Duration::from_secs(5), client.read(&mut byte)).await,
            Ok(Ok(0) | Err(_))
        )
    }

    const LONG: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn only_the_connection_whose_client_speaks_is_resumed() {
        let mut h = harness();
        let mut clients = Vec::new();
        for (id, (client, server)) in pairs(3).await.into_iter().enumerate() {
            h.park(id, server, LONG);
            clients.push(client);
        }
        h.none_resumed().await;
        clients[1].write_all(b"GET").await.expect("write");
        let (id, mut server) = h.next_resumed().await;
        assert_eq!(id, 1);
        let mut got = [0u8; 3];
        server
            .read_exact(&mut got)
            .await
            .expect("the bytes wait for the resumed task");
        assert_eq!(&got, b"GET");
        h.none_resumed().await;
        clients[2].write_all(b"x").await.expect("write");
        clients[0].write_all(b"y").await.expect("write");
        let mut ids = [h.next_resumed().await.0, h.next_resumed().await.0];
        ids.sort_unstable();
        assert_eq!(ids, [0, 2]);
    }

    #[tokio::test]
    async fn a_connection_with_bytes_already_waiting_is_resumed_at_once() {
        let mut h = harness();
        let (mut client, server) = pairs(1).await.pop().expect("pair");
        client.write_all(b"GET").await.expect("write");
        tokio::time::sleep(Duration::from_millis(50)).await;
        h.park_as_is(7, server, LONG);
        assert_eq!(h.next_resumed().await.0, 7);
    }

    #[tokio::test]
    async fn a_client_that_closes_gets_its_connection_resumed_to_see_the_end() {
        let mut h = harness();
        let (client, server) = pairs(1).await.pop().expect("pair");
        h.park(3, server, LONG);
        drop(client);
        let (id, mut server) = h.next_resumed().await;
        assert_eq!(id, 3);
        let mut byte = [0u8; 1];
        assert_eq!(server.read(&mut byte).await.expect("read"), 0);
    }

    #[tokio::test]
    async fn a_connection_idle_past_its_deadline_is_closed_and_others_are_kept() {
        let mut h = harness();
        let mut pairs = pairs(2).await;
        let (mut kept, kept_server) = pairs.pop().expect("pair");
        let (mut short, short_server) = pairs.pop().expect("pair");
        h.park(0, short_server, Duration::from_millis(200));
        h.park(1, kept_server, LONG);
        assert!(closed(&mut short).await, "closed after its idle time");
        h.none_resumed().await;
        kept.write_all(b"still here").await.expect("write");
        assert_eq!(h.next_resumed().await.0, 1);
    }

    #[tokio::test]
    async fn a_late_wake_for_a_reused_slot_leaves_its_new_connection_parked() {
        let mut h = harness();
        let mut pairs = pairs(2).await;
        let (mut second, second_server) = pairs.pop().expect("pair");
        let (mut first, first_server) = pairs.pop().expect("pair");
        h.park(0, first_server, LONG);
        first.write_all(b"a").await.expect("write");
        // Resumed: the first connection leaves its slot, and keeps its
        // socket, whose readiness still calls the first waker.
        let (_, mut first_server) = h.next_resumed().await;
        let mut byte = [0u8; 1];
        first_server.read_exact(&mut byte).await.expect("read");
        // The second connection takes the slot.
        h.park(1, second_server, LONG);
        first.write_all(b"b").await.expect("write");
        h.none_resumed().await;
        second.write_all(b"c").await.expect("write");
        assert_eq!(h.next_resumed().await.0, 1);
    }

    #[tokio::test]
    async fn stop_closes_parked_connections_and_those_parked_later() {
        let mut h = harness();
        let mut pairs = pairs(2).await;
        let (mut later, later_server) = pairs.pop().expect("pair");
        let (mut parked, parked_server) = pairs.pop().expect("pair");
        h.park(0, parked_server, LONG);
        tokio::time::sleep(Duration::from_millis(50)).await;
        h.stop.stop();
        assert!(closed(&mut parked).await, "closed at shutdown");
        h.park(1, later_server, LONG);
        assert!(
            closed(&mut later).await,
            "closed when parked after shutdown"
        );
        h.none_resumed().await;
    }
}
