//! The public listener's accept loop: HTTP/1.1 (keep-alive, pipelining,
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
use crate::stream::ClientStream;

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

/// Accept and serve until `stop` flips, then drain for at most `grace`.
pub async fn serve(
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
    tracing::info!(connections = graceful.count(), "draining connections");
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
    let client = ClientStream::new(stream);
    let served = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&served);
    let service = service_fn(move |req| {
        counter.fetch_add(1, Ordering::Relaxed);
        crate::proxy::handle(Arc::clone(&shared), peer, req)
    });
    let conn = builder
        .serve_connection(TokioIo::new(client.clone()), service)
        .into_owned();
    let conn = graceful.watch(conn);
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            let slow_head = e
                .downcast_ref::<hyper::Error>()
                .is_some_and(hyper::Error::is_timeout);
            // Only a connection still waiting for its first request gets a 408;
            // an idle keep-alive connection is simply closed.
            if slow_head && served.load(Ordering::Relaxed) == 0 {
                client.write_final(&crate::failure::request_timeout_bytes());
            }
            tracing::debug!(%peer, error = %e, "client connection ended with an error");
        }
    });
}
