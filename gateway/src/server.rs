//! The public listener's worker threads and accept loops: HTTP/1.1 (keep-alive, pipelining,
//! half-close) and HTTP/2 prior knowledge on one port, slow-head
//! protection, and the graceful drain on shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::state::Shared;

/// The connection builder for client connections.
fn builder(shared: &Shared) -> auto::Builder<TokioExecutor> {
    let config = shared.active.load().config.clone();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // hyper answers a bare 431 past its buffer; below it (twice the limit)
    // the proxy answers 431 with a problem body.
    let buffer = usize::try_from(config.header_limit.saturating_mul(2))
        .unwrap_or(usize::MAX)
        .max(16 * 1024);
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.timeouts.header_read)
        .keep_alive(true)
        .half_close(true)
        .max_buf_size(buffer);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(buffer).unwrap_or(u32::MAX))
        // Pings find dead HTTP/2 clients; idle HTTP/1 connections end at the
        // header-read timeout (hyper starts it when waiting for the next head).
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(20));
    builder
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
    let builder = Arc::new(builder(&shared));
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
        serve_connection(&builder, &graceful, stream, peer, Arc::clone(&shared));
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
    builder: &Arc<auto::Builder<TokioExecutor>>,
    graceful: &GracefulShutdown,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
) {
    // hyper closes a connection whose request head is too slow without a
    // response; a duplicate of the socket lets us still write the 408.
    let spare = socket2::SockRef::from(&stream).try_clone().ok();
    let served = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&served);
    let client = Arc::new(crate::headers::Peer::new(peer.ip()));
    let service = service_fn(move |req| {
        counter.fetch_add(1, Ordering::Relaxed);
        crate::proxy::handle(Arc::clone(&shared), Arc::clone(&client), req)
    });
    let conn = builder
        .serve_connection(TokioIo::new(stream), service)
        .into_owned();
    let conn = graceful.watch(conn);
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            let slow_head = e
                .downcast_ref::<hyper::Error>()
                .is_some_and(hyper::Error::is_timeout);
            // Only a connection still waiting for its first request gets a 408;
            // an idle keep-alive connection is simply closed.
            if slow_head
                && served.load(Ordering::Relaxed) == 0
                && let Some(spare) = &spare
            {
                write_final(spare, &crate::failure::request_timeout_bytes());
            }
            tracing::debug!(%peer, error = %e, "client connection ended with an error");
        }
        drop(spare);
    });
}

/// Write `bytes` if the socket takes them now, then close the write side.
fn write_final(socket: &socket2::Socket, bytes: &[u8]) {
    let _ = socket.send(bytes);
    let _ = socket.shutdown(std::net::Shutdown::Write);
}
