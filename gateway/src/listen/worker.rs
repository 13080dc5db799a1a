//! One worker thread of the public listener: its own single-threaded event
//! loop accepting from the shared socket, and every connection it accepts
//! served on it to the end (HTTP/1.1 with keep-alive, pipelining and
//! half-close, or HTTP/2 prior knowledge), with the graceful drain on
//! shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};

use crate::headers::Peer;
use crate::state::Shared;
use crate::stop::Stop;

use super::client_io::{ClientIo, ConnState};
use super::first_read::{self, Opening};
use super::tls::TlsListener;

/// What a worker thread hands to everything it runs: the values the
/// request path would otherwise reach for globally.
pub(super) struct Worker {
    /// Which worker this is: its requests use the upstream connections of
    /// this index.
    pub(super) index: usize,
    /// The gateway's state.
    pub(super) shared: Arc<Shared>,
    /// The shutdown signal.
    pub(super) stop: Stop,
    /// How long the drain may take.
    pub(super) grace: Duration,
}

/// How client connections are served, per protocol.
struct Builders {
    http1: http1::Builder,
    http2: http2::Builder<TokioExecutor>,
    /// The wait for a request head (and for a new connection's first bytes).
    header_read: Duration,
}

/// The connection builders for client connections.
fn builders(shared: &Shared) -> Builders {
    let config = shared.active.load().config.clone();
    // hyper answers a bare 431 past its buffer; below it (twice the limit)
    // the proxy answers 431 with a problem body.
    let buffer = usize::try_from(config.header_limit.saturating_mul(2))
        .unwrap_or(usize::MAX)
        .max(16 * 1024);
    let mut h1 = http1::Builder::new();
    h1.timer(TokioTimer::new())
        .header_read_timeout(config.timeouts.header_read)
        .keep_alive(true)
        .half_close(true)
        .max_buf_size(buffer);
    let mut h2 = http2::Builder::new(TokioExecutor::new());
    h2.timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(buffer).unwrap_or(u32::MAX))
        // Pings find dead HTTP/2 clients; idle HTTP/1 connections end at the
        // header-read timeout (hyper starts it when waiting for the next head).
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(20));
    Builders {
        http1: h1,
        http2: h2,
        header_read: config.timeouts.header_read,
    }
}

impl Worker {
    /// Accept (from the plain listener and, when on, the HTTPS one) and
    /// serve until the stop signal, then drain for at most the grace period.
    pub(super) async fn accept_loop(
        mut self,
        listener: TcpListener,
        tls: Option<(TcpListener, TlsListener)>,
    ) {
        let builders = Arc::new(builders(&self.shared));
        let graceful = GracefulShutdown::new();
        loop {
            let (accepted, over_tls) = tokio::select! {
                accepted = listener.accept() => (accepted, None),
                accepted = accept_tls(tls.as_ref()) => accepted,
                () = self.stop.stopped() => break,
            };
            let (stream, peer) = match accepted {
                Ok(conn) => conn,
                // Another worker took it.
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            self.serve_connection(&builders, over_tls, graceful.watcher(), stream, peer);
        }
        drop(listener);
        drop(tls);
        tracing::debug!(
            connections = graceful.count(),
            worker = self.index,
            "draining connections"
        );
        let grace = self.grace;
        if tokio::time::timeout(grace, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(?grace, "grace period over; closing remaining connections");
        }
    }

    /// Serve one connection on this worker to its end: on the plain
    /// listener the first read tells HTTP/2 from HTTP/1.1; on the HTTPS one
    /// (`tls`) the handshake does (ALPN).
    fn serve_connection(
        &self,
        builders: &Arc<Builders>,
        tls: Option<&TlsListener>,
        watcher: Watcher,
        stream: TcpStream,
        peer: SocketAddr,
    ) {
        let builders = Arc::clone(builders);
        let shared = Arc::clone(&self.shared);
        let stop = self.stop.clone();
        let worker = self.index;
        let tls = tls.cloned();
        tokio::spawn(async move {
            let state = Arc::new(ConnState::default());
            let conn = {
                let state = Arc::clone(&state);
                move |client| Conn {
                    shared,
                    worker,
                    client,
                    peer,
                    state,
                }
            };
            if let Some(tls) = tls {
                let Some(stream) = tls.handshake(stream, stop).await else {
                    return;
                };
                let http2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                let io = ClientIo::new(stream, Vec::new(), !http2, state);
                let conn = conn(Peer::over_tls(peer.ip()));
                conn.serve(&builders, watcher, io, http2).await;
                return;
            }
            let opening = first_read::open(stream, builders.header_read, state, stop).await;
            let (io, http2) = match opening {
                Opening::Http1(io) => (io, false),
                Opening::Http2(io) => (io, true),
                Opening::Closed | Opening::TimedOut => return,
            };
            let conn = conn(Peer::new(peer.ip()));
            conn.serve(&builders, watcher, io, http2).await;
        });
    }
}

/// One accepted connection, past its first read or handshake.
struct Conn {
    shared: Arc<Shared>,
    worker: usize,
    client: Peer,
    peer: SocketAddr,
    state: Arc<ConnState>,
}

impl Conn {
    /// Serve `io` with hyper's HTTP/2 or HTTP/1.1 server to its end, every
    /// request through [`crate::proxy::handle`].
    async fn serve<I>(self, builders: &Builders, watcher: Watcher, io: I, http2: bool)
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let Conn {
            shared,
            worker,
            client,
            peer,
            state,
        } = self;
        let counter = Arc::clone(&state);
        let client = Arc::new(client);
        let service = service_fn(move |req| {
            counter.served.fetch_add(1, Ordering::Relaxed);
            crate::proxy::handle(Arc::clone(&shared), Arc::clone(&client), worker, req)
        });
        if http2 {
            let conn = watcher.watch(builders.http2.serve_connection(io, service));
            drive(conn, &state, peer).await;
        } else {
            let conn = watcher.watch(builders.http1.serve_connection(io, service));
            drive(conn, &state, peer).await;
        }
    }
}

/// The next connection on the HTTPS listener, with its handshake settings;
/// never when there is none.
async fn accept_tls(
    tls: Option<&(TcpListener, TlsListener)>,
) -> (
    std::io::Result<(TcpStream, SocketAddr)>,
    Option<&TlsListener>,
) {
    match tls {
        Some((listener, handshake)) => (listener.accept().await, Some(handshake)),
        None => std::future::pending().await,
    }
}

/// Serve a connection to its end. hyper closes a connection whose request
/// head is too slow without a response; the socket answers `408` when it is
/// dropped, which happens at the end of this function, after the flag is set.
async fn drive(
    conn: impl Future<Output = Result<(), hyper::Error>>,
    state: &ConnState,
    peer: SocketAddr,
) {
    let mut conn = std::pin::pin!(conn);
    if let Err(e) = conn.as_mut().await {
        if e.is_timeout() {
            state.answer_timeout.store(true, Ordering::Relaxed);
        }
        tracing::debug!(%peer, error = %e, "client connection ended with an error");
    }
}
