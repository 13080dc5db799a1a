//! Listening: the public listener's socket, its worker threads and accept
//! loops ([`worker`]), the first read that tells the protocol
//! ([`first_read`]) and the client socket as hyper sees it ([`client_io`]).
//!
//! `listen.workers` threads (default one per core) each run a
//! single-threaded event loop and accept from the shared socket; a
//! connection, its requests and the upstream connections they use then stay
//! on that thread, as in NGINX's worker processes.
//!
//! The HTTPS listener ([`tls`]) is served by the same workers: each also
//! accepts from its socket, completes the handshake (ALPN picks HTTP/2 or
//! HTTP/1.1), then uses the same connection builders and
//! [`crate::proxy::handle`].

mod client_io;
mod first_read;
mod keep_alive;
mod parking;
mod tls;
mod worker;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::client_limit::ClientConnections;
use crate::error::GatewayError;
use crate::panics::PanicWatch;
use crate::state::Shared;
use crate::stop::Stop;

pub(crate) use tls::TlsListener;
use worker::Worker;

/// Serve the public listener on `workers` threads, each with its own
/// single-threaded event loop, until `stop`; then drain for at most
/// `grace`. A connection, its requests and their upstream connections stay
/// on one thread (no cross-thread wake-ups), like NGINX's worker processes.
pub(crate) async fn serve(
    listener: std::net::TcpListener,
    tls: Option<(std::net::TcpListener, TlsListener)>,
    shared: Arc<Shared>,
    stop: Stop,
    grace: Duration,
    workers: usize,
    panics: &PanicWatch,
) {
    let mut done = Vec::new();
    let clients = Arc::new(ClientConnections::default());
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
        let tls = match &tls {
            Some((socket, handshake)) => match socket.try_clone() {
                Ok(socket) => Some((socket, handshake.clone())),
                Err(e) => {
                    tracing::error!(error = %e, "cannot share the HTTPS listener with a worker");
                    None
                }
            },
            None => None,
        };
        let worker = Worker {
            index,
            shared: Arc::clone(&shared),
            stop: stop.clone(),
            grace,
            clients: Arc::clone(&clients),
        };
        let panics = panics.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("gateway-worker-{index}"))
            .spawn(move || {
                panics.enter();
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                match runtime {
                    Ok(rt) => rt.block_on(async move {
                        let tls = match tls {
                            Some((socket, handshake)) => match TcpListener::from_std(socket) {
                                Ok(l) => Some((l, handshake)),
                                Err(e) => {
                                    tracing::error!(error = %e, "worker cannot use the HTTPS listener");
                                    None
                                }
                            },
                            None => None,
                        };
                        match TcpListener::from_std(listener) {
                            Ok(l) => worker.accept_loop(l, tls).await,
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
    drop(tls);
    for rx in done {
        let _ = rx.await;
    }
}

/// Bind `addr` for the listener named by `setting` (for the message).
pub(crate) fn bind(
    addr: SocketAddr,
    setting: &'static str,
) -> Result<std::net::TcpListener, GatewayError> {
    listen(addr).map_err(|source| GatewayError::Bind {
        setting,
        addr,
        source,
    })
}

/// A listening socket with a deep accept queue (bursts of new connections
/// wait in the kernel instead of being refused; capped by `somaxconn`).
/// `TCP_NODELAY` is set on it once: Linux copies it to every accepted
/// socket, which saves a `setsockopt` per connection.
fn listen(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.set_tcp_nodelay(true)?;
    socket.bind(&addr.into())?;
    socket.listen(4096)?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use std::net::TcpStream;

    #[test]
    #[cfg(target_os = "linux")]
    fn accepted_sockets_inherit_no_delay_from_the_listener() {
        let listener = super::listen("127.0.0.1:0".parse().expect("address")).expect("bound");
        listener.set_nonblocking(false).expect("blocking");
        let addr = listener.local_addr().expect("address");
        let _client = TcpStream::connect(addr).expect("connected");
        let (accepted, _) = listener.accept().expect("accepted");
        assert!(accepted.nodelay().expect("TCP_NODELAY read"));
    }
}
