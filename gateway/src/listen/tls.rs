//! The HTTPS listener's handshake, bounded in time and in how many run at
//! once, so a slowloris over TLS cannot tie up the gateway. The worker
//! (`worker.rs`) then lets ALPN pick hyper's HTTP/2 or HTTP/1.1 server,
//! and the requests take the same path as plain ones
//! ([`crate::proxy::handle`]), marked as TLS (`X-Forwarded-Proto: https`,
//! HSTS).
//!
//! Unlike the plain listener there is no first read of our own: a TLS
//! client says its protocol in the handshake. The decrypted stream is then
//! wrapped like a plain socket (`client_io.rs`), so a request head that is
//! too slow gets its `408` and hyper's bare refusals their problem body,
//! written through TLS ([`ClientSocket`] below).

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::stop::Stop;
use crate::tls::TlsState;

use super::client_io::ClientSocket;

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
    pub(super) async fn handshake(
        &self,
        stream: TcpStream,
        mut stop: Stop,
    ) -> Option<TlsStream<TcpStream>> {
        let Ok(permit) = Arc::clone(&self.handshakes).try_acquire_owned() else {
            crate::metrics::tls_handshake("refused");
            return None;
        };
        let mut accept = std::pin::pin!(tokio::time::timeout(
            self.timeout,
            self.acceptor.accept(stream)
        ));
        let accepted = tokio::select! {
            accepted = accept.as_mut() => accepted,
            () = stop.stopped() => return None,
        };
        // The slot is free before a failed connection is closed (when
        // `accept` is dropped), so a client that saw the close can retry.
        drop(permit);
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

impl ClientSocket for TlsStream<TcpStream> {
    /// Encrypt `bytes` and a close_notify, send what the socket takes now.
    fn write_final(&mut self, bytes: &[u8]) {
        let (tcp, conn) = self.get_mut();
        if std::io::Write::write_all(&mut conn.writer(), bytes).is_err() {
            return;
        }
        conn.send_close_notify();
        let mut socket = TryWrite(tcp);
        while conn.wants_write() {
            match conn.write_tls(&mut socket) {
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
        let _ = socket2::SockRef::from(&*tcp).shutdown(std::net::Shutdown::Write);
    }

    /// The TCP socket's readiness: a parked connection's last read found
    /// no decrypted bytes and an empty socket, so anything new arrives there.
    fn poll_read_ready(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        self.get_ref().0.poll_read_ready(cx)
    }
}

/// The socket as a `std::io::Write` that never waits.
struct TryWrite<'a>(&'a TcpStream);

impl std::io::Write for TryWrite<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.try_write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
