//! The client socket as hyper sees it: the first bytes of the connection,
//! read by the gateway itself to tell HTTP/2 prior knowledge from HTTP/1,
//! are handed back to hyper before the socket's own; a request head that
//! hyper gave up waiting for is answered `408` when the socket is dropped;
//! and the bare response hyper writes by itself for a request it cannot
//! parse (status line, `content-length: 0`, nothing else) is replaced by a
//! problem+json one, like every other refusal.
//!
//! Reading the first bytes ourselves (instead of hyper-util's `auto`
//! builder, which reads exactly 24 bytes and then lets hyper read the rest)
//! saves one `recv` per new connection, bounds the wait for those first
//! bytes by the header-read timeout (the `auto` builder waits for them
//! forever), and keeps the socket at hand for the `408` without duplicating
//! its file descriptor.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use http::StatusCode;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// The HTTP/2 connection preface (RFC 9113 §3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// How many bytes the first read may take: most request heads fit, so hyper
/// usually parses the first request without a `recv` of its own.
const FIRST_READ: usize = 4096;

/// What the connection's task and its socket share.
#[derive(Debug, Default)]
pub struct ConnState {
    /// Requests handed to the proxy so far.
    pub served: AtomicU64,
    /// Answer `408` when the socket is dropped (the head timed out).
    pub answer_timeout: AtomicBool,
}

/// How a connection starts.
pub enum Opening {
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
/// `stop` flips) and say which protocol it speaks.
pub async fn open(
    mut stream: TcpStream,
    timeout: Duration,
    state: Arc<ConnState>,
    mut stop: tokio::sync::watch::Receiver<bool>,
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
        () = crate::stopped(&mut stop) => return Opening::Closed,
    };
    match read {
        Ok(Ok(true)) => {}
        Ok(Ok(false) | Err(_)) => return Opening::Closed,
        Err(_) => {
            write_final(&stream, &crate::failure::request_timeout_bytes());
            return Opening::TimedOut;
        }
    }
    let is_h2 = first.starts_with(H2_PREFACE);
    let io = ClientIo {
        http1: !is_h2,
        first,
        consumed: 0,
        io: TokioIo::new(stream),
        state,
        substitute: Vec::new(),
        substituted: 0,
    };
    if is_h2 {
        Opening::Http2(io)
    } else {
        Opening::Http1(io)
    }
}

/// The client socket with its first bytes put back in front.
pub struct ClientIo {
    /// HTTP/1.1 (the `408` and the replacement of hyper's bare responses
    /// apply); HTTP/2 otherwise.
    http1: bool,
    first: Vec<u8>,
    consumed: usize,
    io: TokioIo<TcpStream>,
    state: Arc<ConnState>,
    /// The problem response standing in for hyper's bare one, and how much
    /// of it has been written.
    substitute: Vec<u8>,
    substituted: usize,
}

impl ClientIo {
    /// Write what is left of the substitute response; ready when none is.
    fn poll_substitute(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.substituted < self.substitute.len() {
            let rest = &self.substitute[self.substituted..];
            let n = std::task::ready!(Pin::new(&mut self.io).poll_write(cx, rest))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.substituted += n;
        }
        Poll::Ready(Ok(()))
    }

    /// Take `bytes` (hyper's whole write) as written, sending the problem
    /// response in their place.
    fn poll_replace(
        &mut self,
        cx: &mut Context<'_>,
        bytes: &[u8],
        replacement: Vec<u8>,
    ) -> Poll<io::Result<usize>> {
        self.substitute = replacement;
        self.substituted = 0;
        // Whatever the socket does not take now goes out on flush/shutdown.
        if let Poll::Ready(Err(e)) = self.poll_substitute(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(bytes.len()))
    }
}

/// The replacement for `bytes` if they are exactly a response head hyper
/// writes by itself for an unparseable request: `HTTP/1.1 400|414|431`,
/// then only `content-length: 0`, `date` and `connection` lines. Responses
/// of the proxy always carry `x-request-id`, so they never match.
fn automatic_response(http1: bool, bytes: &[u8]) -> Option<Vec<u8>> {
    if !http1 || !bytes.starts_with(b"HTTP/1.1 4") || !bytes.ends_with(b"\r\n\r\n") {
        return None;
    }
    let text = std::str::from_utf8(&bytes[..bytes.len() - 4]).ok()?;
    let mut lines = text.split("\r\n");
    let status = lines.next()?.get(9..12)?.parse::<u16>().ok()?;
    let mut empty_body = false;
    for line in lines {
        match line.split_once(": ")? {
            ("content-length", "0") => empty_body = true,
            ("date" | "connection", _) => {}
            _ => return None,
        }
    }
    if !empty_body {
        return None;
    }
    crate::failure::unparseable_request_bytes(StatusCode::from_u16(status).ok()?)
}

impl Drop for ClientIo {
    fn drop(&mut self) {
        // Only a connection still waiting for its first request gets a 408;
        // an idle keep-alive connection is simply closed.
        if self.http1
            && self.state.answer_timeout.load(Ordering::Relaxed)
            && self.state.served.load(Ordering::Relaxed) == 0
        {
            write_final(self.io.inner(), &crate::failure::request_timeout_bytes());
        }
    }
}

/// Write `bytes` if the socket takes them now, then close the write side.
fn write_final(stream: &TcpStream, bytes: &[u8]) {
    let _ = stream.try_write(bytes);
    let _ = socket2::SockRef::from(stream).shutdown(std::net::Shutdown::Write);
}

impl Read for ClientIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.consumed < this.first.len() {
            let rest = &this.first[this.consumed..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.consumed += n;
            if this.consumed == this.first.len() {
                // Give the buffer back now; the connection may live long.
                this.first = Vec::new();
                this.consumed = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.io).poll_read(cx, buf)
    }
}

impl Write for ClientIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        std::task::ready!(this.poll_substitute(cx))?;
        if let Some(replacement) = automatic_response(this.http1, buf) {
            return this.poll_replace(cx, buf, replacement);
        }
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        std::task::ready!(this.poll_substitute(cx))?;
        // hyper writes its own response head as one buffer, after whatever
        // responses were still queued: send those first (hyper calls again
        // with the rest), then the replacement.
        let bufs = match bufs.iter().position(|b| !b.is_empty()) {
            Some(first) => &bufs[first..],
            None => bufs,
        };
        if let Some(last) = bufs.last()
            && let Some(replacement) = automatic_response(this.http1, last)
        {
            if bufs.len() == 1 {
                return this.poll_replace(cx, last, replacement);
            }
            return Pin::new(&mut this.io).poll_write_vectored(cx, &bufs[..bufs.len() - 1]);
        }
        Pin::new(&mut this.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_substitute(cx))?;
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_substitute(cx))?;
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hypers_own_bare_heads_are_replaced() {
        let bare = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ndate: Sun, 29 Nov 2026 23:00:00 GMT\r\n\r\n";
        let replaced =
            String::from_utf8(automatic_response(true, bare).expect("replaced")).expect("utf-8");
        assert!(
            replaced.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{replaced}"
        );
        assert!(replaced.contains("application/problem+json"), "{replaced}");
        assert!(replaced.contains("\"request_id\""), "{replaced}");
        let too_large = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        assert!(automatic_response(true, too_large).is_some());
        // HTTP/2 connections carry frames, never HTTP/1.1 heads.
        assert!(automatic_response(false, bare).is_none());

        for kept in [
            // The proxy's own responses carry a request id.
            &b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nx-request-id: a\r\n\r\n"[..],
            // An upstream's bodiless 404 passes as it is.
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nx-request-id: a\r\n\r\n",
            // Not a status hyper produces itself.
            b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n",
            // A body, or a head with a body to follow.
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 5\r\n\r\n",
            b"{\"HTTP/1.1 400\": 1}",
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
        ] {
            assert!(
                automatic_response(true, kept).is_none(),
                "{}",
                String::from_utf8_lossy(kept)
            );
        }
    }
}
