//! The first read of a client connection: the gateway reads the first
//! bytes itself (up to 4 KiB, within `timeouts.header_read`) to tell HTTP/2
//! prior knowledge from HTTP/1, and hands them back to hyper in front of
//! the socket's own ([`ClientIo`]).
//!
//! Reading the first bytes ourselves (instead of hyper-util's `auto`
//! builder, which reads exactly 24 bytes and then lets hyper read the rest)
//! saves one `recv` per new connection, bounds the wait for those first
//! bytes by the header-read timeout (the `auto` builder waits for them
//! forever), and keeps the socket at hand for the `408` without duplicating
//! its file descriptor.
//!
//! A TLS listener would complete its handshake (ALPN chooses the protocol)
//! before this point and hand the decrypted stream to the same servers.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::proxy::request_timeout_bytes;
use crate::stop::Stop;

use super::client_io::{ClientIo, ConnState, write_final};

/// The HTTP/2 connection preface (RFC 9113 §3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// How many bytes the first read may take: most request heads fit, so hyper
/// usually parses the first request without a `recv` of its own.
const FIRST_READ: usize = 4096;

/// How a connection starts.
pub(super) enum Opening {
    /// The HTTP/2 preface: serve HTTP/2.
    Http2(ClientIo),
    /// Anything else: serve HTTP/1.1 (hyper refuses what is not HTTP).
    Http1(ClientIo),
    /// The client closed before sending anything.
    Closed,
    /// Nothing (or only part of the preface) arrived within the
    /// header-read timeout; the `408` has been written.
    TimedOut,
}

/// Read the first bytes of `stream` (for at most `timeout`, and only until
/// `stop` flips) and say which protocol it speaks; the client must then
/// take response bytes within `client_send`.
pub(super) async fn open(
    mut stream: TcpStream,
    timeout: Duration,
    state: Arc<ConnState>,
    mut stop: Stop,
    client_send: Duration,
) -> Opening {
    let mut first = Vec::with_capacity(FIRST_READ);
    let read = async {
        loop {
            // Reads into the spare capacity: no zeroing.
            let n = stream.read_buf(&mut first).await?;
            if n == 0 {
                return Ok::<bool, io::Error>(false);
            }
            // Stop as soon as the bytes cannot be (or are all of) the preface.
            if first.len() >= H2_PREFACE.len() || !H2_PREFACE.starts_with(&first) {
                return Ok(true);
            }
        }
    };
    let read = tokio::select! {
        read = tokio::time::timeout(timeout, read) => read,
        () = stop.stopped() => return Opening::Closed,
    };
    match read {
        Ok(Ok(true)) => {}
        Ok(Ok(false) | Err(_)) => return Opening::Closed,
        Err(_) => {
            write_final(&stream, &request_timeout_bytes());
            return Opening::TimedOut;
        }
    }
    let is_h2 = first.starts_with(H2_PREFACE);
    let io = ClientIo::new(stream, first, !is_h2, state, client_send);
    if is_h2 {
        Opening::Http2(io)
    } else {
        Opening::Http1(io)
    }
}
