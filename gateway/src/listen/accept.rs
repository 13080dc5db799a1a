//! Accepting from every listener of a worker: the public one, the HTTPS
//! one when on, and the servers' own (`[[servers]] listen`, `listen_tls`).

use std::net::SocketAddr;
use std::task::Poll;

use tokio::net::{TcpListener, TcpStream};

use crate::client_limit::Refused;

use super::tls::TlsListener;

/// One listening socket of a worker: its index in the bound listeners and,
/// for a TLS one, its handshake settings.
pub(super) struct Listening {
    pub(super) socket: TcpListener,
    pub(super) index: usize,
    pub(super) tls: Option<TlsListener>,
}

/// The next connection on any of `listeners`, and the listener it came
/// from. The search starts after the listener that gave the last one
/// (`next`), so a busy listener cannot starve the others.
pub(super) async fn accept_any<'l>(
    listeners: &'l [Listening],
    next: &mut usize,
) -> (std::io::Result<(TcpStream, SocketAddr)>, &'l Listening) {
    std::future::poll_fn(|cx| {
        let count = listeners.len();
        for step in 0..count {
            let i = (*next + step) % count;
            if let Poll::Ready(accepted) = listeners[i].socket.poll_accept(cx) {
                *next = (i + 1) % count;
                return Poll::Ready((accepted, &listeners[i]));
            }
        }
        Poll::Pending
    })
    .await
}

/// The raw answer to a connection refused at accept: `503` (with
/// `Retry-After`) when the gateway is full, `429` for a client over its cap.
pub(super) fn refusal(refused: Refused) -> Vec<u8> {
    match refused {
        Refused::Full(limit) => {
            let mut answer = crate::proxy::raw_problem(
                http::StatusCode::SERVICE_UNAVAILABLE,
                &format!("the gateway holds as many connections as it may ({limit}); try again"),
            );
            let status_line = answer.iter().position(|b| *b == b'\n').map_or(0, |i| i + 1);
            answer.splice(
                status_line..status_line,
                b"retry-after: 1\r\n".iter().copied(),
            );
            answer
        }
        Refused::PerClient(limit) => crate::proxy::raw_problem(
            http::StatusCode::TOO_MANY_REQUESTS,
            &format!("too many connections from this address (at most {limit})"),
        ),
    }
}
