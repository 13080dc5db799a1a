//! The public listener's worker threads and accept loops: HTTP/1.1 (keep-alive, pipelining,
//! half-close) and HTTP/2 prior knowledge on one port, slow-head
//! protection, and the graceful drain on shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::client_io::{self, ConnState, Opening};
use crate::state::Shared;

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

thread_local! {
    static WORKER: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The index of the worker thread running the caller (0 outside workers).
pub fn worker_index() -> usize {
    WORKER.with(std::cell::Cell::get)
}

/// Serve the public listener on `workers` threads, each with its own
/// single-threaded event loop, until `stop` flips; then drain for at most
/// `grace`. A connection, its requests and their upstream connections stay
/// on one thread (no cross-thread wake-ups), like NGINX's worker processes.
pub async fn serve(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
    grace: Duration,
    workers: usize,
) {
    let mut done = Vec::new();
    for index in 0..workers.max(1) {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        done.push(rx);
        let listener = match listener.try_clone() {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "cannot share the listener with a worker");
                continue;
            }
        };
        let shared = Arc::clone(&shared);
        let stop = stop.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("gateway-worker-{index}"))
            .spawn(move || {
                WORKER.with(|w| w.set(index));
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                match runtime {
                    Ok(rt) => rt.block_on(async move {
                        match TcpListener::from_std(listener) {
                            Ok(l) => accept_loop(l, shared, stop, grace).await,
                            Err(e) => tracing::error!(error = %e, "worker cannot use the listener"),
                        }
                    }),
                    Err(e) => tracing::error!(error = %e, "cannot start a worker event loop"),
                }
                let _ = tx.send(());
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start a worker thread");
        }
    }
    drop(listener);
    for rx in done {
        let _ = rx.await;
    }
}

/// One worker: accept and serve until `stop` flips, then drain for at most `grace`.
async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    grace: Duration,
) {
    let builders = Arc::new(builders(&shared));
    let graceful = GracefulShutdown::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = crate::stopped(&mut stop) => break,
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
        serve_connection(
            &builders,
            graceful.watcher(),
            stream,
            peer,
            Arc::clone(&shared),
            stop.clone(),
        );
    }
    drop(listener);
    tracing::debug!(
        connections = graceful.count(),
        worker = worker_index(),
        "draining connections"
    );
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(?grace, "grace period over; closing remaining connections");
    }
}

fn serve_connection(
    builders: &Arc<Builders>,
    watcher: Watcher,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
) {
    let builders = Arc::clone(builders);
    tokio::spawn(async move {
        let state = Arc::new(ConnState::default());
        let opening = client_io::open(stream, builders.header_read, Arc::clone(&state), stop).await;
        let (io, http2) = match opening {
            Opening::Http1(io) => (io, false),
            Opening::Http2(io) => (io, true),
            Opening::Closed | Opening::TimedOut => return,
        };
        let counter = Arc::clone(&state);
        let client = Arc::new(crate::headers::Peer::new(peer.ip()));
        let service = service_fn(move |req| {
            counter.served.fetch_add(1, Ordering::Relaxed);
            crate::proxy::handle(Arc::clone(&shared), Arc::clone(&client), req)
        });
        if http2 {
            let conn = watcher.watch(builders.http2.serve_connection(io, service));
            drive(conn, &state, peer).await;
        } else {
            let conn = watcher.watch(builders.http1.serve_connection(io, service));
            drive(conn, &state, peer).await;
        }
    });
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
