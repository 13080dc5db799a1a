//! The HTTPS listener's connections: the TLS handshake (bounded in time and
//! in how many run at once, so a slowloris over TLS cannot tie up the
//! gateway), then ALPN picks hyper's HTTP/2 or HTTP/1.1 server, and the
//! requests take the same path as plain ones ([`crate::proxy::handle`]),
//! marked as TLS (`X-Forwarded-Proto: https`, HSTS).
//!
//! Unlike the plain listener there is no first read of our own: a TLS
//! client says its protocol in the handshake. A request head that is too
//! slow after the handshake closes the connection without a `408`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::Watcher;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::headers::Peer;
use crate::stop::Stop;
use crate::tls::TlsState;

use super::client_io::ConnState;
use super::worker::{Builders, Worker, drive};

/// What every worker's HTTPS accept loop shares.
#[derive(Clone)]
pub(crate) struct TlsListener {
    acceptor: TlsAcceptor,
    /// Handshakes in progress, across workers.
    handshakes: Arc<Semaphore>,
    timeout: Duration,
}

impl TlsListener {
    /// Handshakes with `state`'s configuration, at most `max_handshakes`
    /// at once, each within `timeout`.
    pub(crate) fn new(state: &TlsState, max_handshakes: usize, timeout: Duration) -> Self {
        TlsListener {
            acceptor: TlsAcceptor::from(Arc::clone(&state.server)),
            handshakes: Arc::new(Semaphore::new(max_handshakes)),
            timeout,
        }
    }

    /// Complete the handshake on `stream`; `None` (and the connection
    /// closed) when refused, failed, too slow, or on shutdown.
    async fn handshake(&self, stream: TcpStream, mut stop: Stop) -> Option<TlsStream<TcpStream>> {
        let Ok(_permit) = Arc::clone(&self.handshakes).try_acquire_owned() else {
            crate::metrics::tls_handshake("refused");
            return None;
        };
        let accepted = tokio::select! {
            accepted = tokio::time::timeout(self.timeout, self.acceptor.accept(stream)) => accepted,
            () = stop.stopped() => return None,
        };
        match accepted {
            Ok(Ok(stream)) => {
                crate::metrics::tls_handshake("success");
                Some(stream)
            }
            Ok(Err(e)) => {
                crate::metrics::tls_handshake("failure");
                tracing::debug!(error = %e, "TLS handshake failed");
                None
            }
            Err(_) => {
                crate::metrics::tls_handshake("timeout");
                None
            }
        }
    }
}

impl Worker {
    /// Serve one HTTPS connection on this worker: handshake, then HTTP/2
    /// when ALPN chose `h2`, else HTTP/1.1.
    pub(super) fn serve_tls_connection(
        &self,
        builders: &Arc<Builders>,
        tls: &TlsListener,
        watcher: Watcher,
        stream: TcpStream,
        peer: SocketAddr,
    ) {
        let builders = Arc::clone(builders);
        let shared = Arc::clone(&self.shared);
        let stop = self.stop.clone();
        let worker = self.index;
        let tls = tls.clone();
        tokio::spawn(async move {
            let Some(stream) = tls.handshake(stream, stop).await else {
                return;
            };
            let http2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
            let io = TokioIo::new(stream);
            // No 408 over TLS: the flag it would set is not read.
            let state = ConnState::default();
            let client = Arc::new(Peer::over_tls(peer.ip()));
            let service = service_fn(move |req| {
                crate::proxy::handle(Arc::clone(&shared), Arc::clone(&client), worker, req)
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
}
