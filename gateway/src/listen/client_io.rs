//! The client socket as hyper sees it: the bytes of the first read are
//! handed back to hyper before the socket's own; a request head that hyper
//! gave up waiting for is answered `408` when the socket is dropped; and
//! the bare response hyper writes by itself for a request it cannot parse
//! (status line, `content-length: 0`, nothing else) is replaced by a
//! problem+json one, like every other refusal. The socket is a TCP stream,
//! or a TLS stream over one (`listen/tls.rs`).
//!
//! A client that takes no bytes for `timeouts.client_send` while the
//! gateway has some to write (its receive window stays full) fails the
//! write, and hyper closes the connection: with it go every response on
//! it and their upstream connections. The timer exists only once a write
//! had to wait; a write that goes through costs nothing more.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use http::StatusCode;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use crate::proxy::{request_timeout_bytes, unparseable_request_bytes};

/// What the connection's task, its requests and its socket share. The
/// connection lives on one worker thread; the atomics are only there
/// because tasks must be `Send`.
#[derive(Debug, Default)]
pub(super) struct ConnState {
    /// Requests handed to the proxy so far.
    pub(super) served: AtomicU64,
    /// Answer `408` when the socket is dropped (the head timed out).
    pub(super) answer_timeout: AtomicBool,
    /// Requests whose response hyper has not finished with.
    pub(super) in_flight: AtomicU32,
    /// Responses hyper has finished with (their bodies dropped): their
    /// last bytes may still wait in hyper's write buffer until it flushes.
    pub(super) finished: AtomicU64,
    /// A `101` was answered: the socket now belongs to the tunnel.
    pub(super) upgraded: AtomicBool,
    /// Bytes reached hyper since the last response ended: a request head
    /// is on its way (hyper times it), the connection is not idle.
    pub(super) idle_bytes: AtomicBool,
    /// Set by the socket when hyper waits for a next request that has
    /// not started ([`ClientIo`]'s read): the connection can be parked.
    pub(super) idle: AtomicBool,
    /// hyper is being stopped to park the connection: its shutdown must
    /// leave the socket open.
    pub(super) parking: AtomicBool,
    /// The client's last pause between requests was short (it came back
    /// from the lot within the parking delay): the connection is busy, and
    /// parks only after staying idle for that delay
    /// (`listen/keep_alive.rs`).
    pub(super) busy: AtomicBool,
}

impl ConnState {
    /// A request was handed to the proxy.
    pub(super) fn request_started(&self) {
        self.served.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.idle_bytes.store(false, Ordering::Relaxed);
    }

    /// hyper is done with a response (its body was dropped).
    pub(super) fn response_finished(&self) {
        self.finished.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// A request was served since `served` was `turn_start`, nothing is in
    /// flight and no next request has started: what hyper reads now would
    /// be the first byte of a new request.
    fn between_requests(&self, turn_start: u64) -> bool {
        self.served.load(Ordering::Relaxed) > turn_start
            && self.in_flight.load(Ordering::Relaxed) == 0
            && !self.upgraded.load(Ordering::Relaxed)
    }

    /// Still idle since the `served`-th request: no request since, none in
    /// flight, no byte of a next one.
    pub(super) fn idle_since(&self, served: u64) -> bool {
        self.served.load(Ordering::Relaxed) == served
            && self.in_flight.load(Ordering::Relaxed) == 0
            && !self.upgraded.load(Ordering::Relaxed)
            && !self.idle_bytes.load(Ordering::Relaxed)
    }

    /// Note how hyper's connection ended, before the socket is dropped: a
    /// request head that timed out is answered `408` then.
    pub(super) fn note_end(&self, ended: &Result<(), hyper::Error>) {
        if let Err(e) = ended
            && e.is_timeout()
        {
            self.answer_timeout.store(true, Ordering::Relaxed);
        }
    }
}

/// The client socket under [`ClientIo`]: a TCP stream or a TLS stream over
/// one.
pub(super) trait ClientSocket {
    /// Write `bytes` if the socket takes them now, then close the write
    /// side (the last response, e.g. the `408`, as the socket is dropped).
    fn write_final(&mut self, bytes: &[u8]);

    /// Ready when the peer has sent something (bytes or the end), for a
    /// parked connection.
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
}

impl ClientSocket for TcpStream {
    fn write_final(&mut self, bytes: &[u8]) {
        write_final(self, bytes);
    }

    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        TcpStream::poll_read_ready(self, cx)
    }
}

/// The client socket with its first bytes put back in front.
pub(super) struct ClientIo<S: ClientSocket = TcpStream> {
    /// HTTP/1.1 (the `408` and the replacement of hyper's bare responses
    /// apply); HTTP/2 otherwise.
    http1: bool,
    first: Vec<u8>,
    consumed: usize,
    io: TokioIo<S>,
    state: Arc<ConnState>,
    /// The problem response standing in for hyper's bare one, and how much
    /// of it has been written.
    substitute: Vec<u8>,
    substituted: usize,
    /// `timeouts.client_send`.
    send_timeout: Duration,
    /// Runs out `send_timeout` after a write first had to wait; made on
    /// the first wait, re-armed on later ones.
    stall: Option<Pin<Box<Sleep>>>,
    /// A write is waiting (the timer is armed).
    waiting: bool,
    /// Tell the connection when it is idle between requests (HTTP/1.1
    /// served with parking, `listen/keep_alive.rs`).
    park: bool,
    /// [`ConnState::served`] when the current hyper connection started:
    /// only one that has served a request is idle between requests.
    turn_start: u64,
    /// [`ConnState::finished`] when hyper last flushed: hyper flushes only
    /// once its write buffer is empty, so every response finished by then
    /// has been written out in full.
    flushed_finished: u64,
}

impl<S: ClientSocket + AsyncRead + AsyncWrite + Unpin> ClientIo<S> {
    /// `stream` with `first` (already read) in front; `http1` when it
    /// speaks HTTP/1.
    /// The client must take bytes within `send_timeout` whenever some wait.
    pub(super) fn new(
        stream: S,
        first: Vec<u8>,
        http1: bool,
        state: Arc<ConnState>,
        send_timeout: Duration,
    ) -> Self {
        ClientIo {
            http1,
            first,
            consumed: 0,
            io: TokioIo::new(stream),
            state,
            substitute: Vec::new(),
            substituted: 0,
            send_timeout,
            stall: None,
            waiting: false,
            park: false,
            turn_start: 0,
            flushed_finished: 0,
        }
    }

    /// Whether what hyper writes now can only be hyper's own answer to an
    /// unparseable request: HTTP/1.1, nothing handed to the proxy is in
    /// flight or waiting in hyper's write buffer, and the socket is not a
    /// tunnel. Decided from the connection's state, never from the bytes:
    /// an upstream body (or tunnelled bytes) may look exactly like
    /// hyper's head, and replacing it would desynchronise the client's
    /// response stream.
    fn writes_own_answer(&self) -> bool {
        self.http1
            && self.state.in_flight.load(Ordering::Relaxed) == 0
            && !self.state.upgraded.load(Ordering::Relaxed)
            && self.state.finished.load(Ordering::Relaxed) == self.flushed_finished
    }

    /// A new hyper connection starts on this socket.
    pub(super) fn begin_turn(&mut self) {
        self.turn_start = self.state.served.load(Ordering::Relaxed);
    }

    /// Report idleness between requests to the connection ([`ConnState::idle`]).
    pub(super) fn with_parking(mut self) -> Self {
        self.park = self.http1;
        self
    }

    /// Put `bytes` (read by hyper but not yet parsed) back in front of the
    /// socket's own.
    pub(super) fn push_front(&mut self, bytes: &[u8]) {
        let mut first = Vec::with_capacity(bytes.len() + self.first.len() - self.consumed);
        first.extend_from_slice(bytes);
        first.extend_from_slice(&self.first[self.consumed..]);
        self.first = first;
        self.consumed = 0;
    }

    /// Ready when the client has sent something, or closed.
    pub(super) fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.consumed < self.first.len() {
            return Poll::Ready(Ok(()));
        }
        self.io.inner().poll_read_ready(cx)
    }

    /// [`Self::poll_substitute`], within the send timeout while it waits.
    fn poll_substitute_within(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.poll_substitute(cx) {
            Poll::Pending => self.within_send_timeout(cx, Poll::Pending),
            // Nothing (more) to substitute says nothing of the client.
            ready => ready,
        }
    }

    /// `polled` (a write, flush or shutdown), failed with `TimedOut` once
    /// writes have waited for `send_timeout`.
    fn within_send_timeout<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if polled.is_ready() {
            self.waiting = false;
            return polled;
        }
        let deadline = Instant::now() + self.send_timeout;
        let stall = match &mut self.stall {
            Some(stall) => {
                if !self.waiting {
                    stall.as_mut().reset(deadline);
                }
                stall
            }
            None => self
                .stall
                .insert(Box::pin(tokio::time::sleep_until(deadline))),
        };
        self.waiting = true;
        if stall.as_mut().poll(cx).is_ready() {
            crate::metrics::client_send_timeout("connection");
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client took no bytes within timeouts.client_send",
            )));
        }
        Poll::Pending
    }

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

/// The replacement for `bytes`, written when only hyper can be writing
/// ([`ClientIo::writes_own_answer`]), if they are its head for an
/// unparseable request: `HTTP/1.1 400|414|431`, then only
/// `content-length: 0`, `date` and `connection` lines.
fn automatic_response(own: bool, bytes: &[u8]) -> Option<Vec<u8>> {
    if !own || !bytes.starts_with(b"HTTP/1.1 4") || !bytes.ends_with(b"\r\n\r\n") {
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
    unparseable_request_bytes(StatusCode::from_u16(status).ok()?)
}

impl<S: ClientSocket> Drop for ClientIo<S> {
    fn drop(&mut self) {
        // Only a connection still waiting for its first request gets a 408;
        // an idle keep-alive connection is simply closed.
        if self.http1
            && self.state.answer_timeout.load(Ordering::Relaxed)
            && self.state.served.load(Ordering::Relaxed) == 0
        {
            self.io.inner_mut().write_final(&request_timeout_bytes());
        }
    }
}

/// Write `bytes` if the socket takes them now, then close the write side.
pub(super) fn write_final(stream: &TcpStream, bytes: &[u8]) {
    let _ = stream.try_write(bytes);
    let _ = socket2::SockRef::from(stream).shutdown(std::net::Shutdown::Write);
}

impl<S: ClientSocket + AsyncRead + AsyncWrite + Unpin> Read for ClientIo<S> {
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
            if this.park && this.state.between_requests(this.turn_start) {
                this.state.idle_bytes.store(true, Ordering::Relaxed);
            }
            return Poll::Ready(Ok(()));
        }
        let read = Pin::new(&mut this.io).poll_read(cx, buf);
        if this.park && this.state.between_requests(this.turn_start) {
            match read {
                // Nothing has come since the last response, and nothing is
                // left to send: hyper holds no request and no response, so
                // the connection can give up hyper's buffers until the
                // client speaks again (`listen/keep_alive.rs`).
                Poll::Pending => {
                    if !this.waiting && !this.state.idle_bytes.load(Ordering::Relaxed) {
                        this.state.idle.store(true, Ordering::Relaxed);
                    }
                }
                Poll::Ready(_) => this.state.idle_bytes.store(true, Ordering::Relaxed),
            }
        }
        read
    }
}

impl<S: ClientSocket + AsyncRead + AsyncWrite + Unpin> Write for ClientIo<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        std::task::ready!(this.poll_substitute_within(cx))?;
        if let Some(replacement) = automatic_response(this.writes_own_answer(), buf) {
            return this.poll_replace(cx, buf, replacement);
        }
        let written = Pin::new(&mut this.io).poll_write(cx, buf);
        this.within_send_timeout(cx, written)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        std::task::ready!(this.poll_substitute_within(cx))?;
        // hyper writes its own response head as one buffer, after whatever
        // responses were still queued: send those first (hyper calls again
        // with the rest), then the replacement.
        let bufs = match bufs.iter().position(|b| !b.is_empty()) {
            Some(first) => &bufs[first..],
            None => bufs,
        };
        if let Some(last) = bufs.last()
            && let Some(replacement) = automatic_response(this.writes_own_answer(), last)
        {
            if bufs.len() == 1 {
                return this.poll_replace(cx, last, replacement);
            }
            let written = Pin::new(&mut this.io).poll_write_vectored(cx, &bufs[..bufs.len() - 1]);
            return this.within_send_timeout(cx, written);
        }
        let written = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.within_send_timeout(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        this.flushed_finished = this.state.finished.load(Ordering::Relaxed);
        std::task::ready!(this.poll_substitute_within(cx))?;
        let flushed = Pin::new(&mut this.io).poll_flush(cx);
        this.within_send_timeout(cx, flushed)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.state.parking.load(Ordering::Relaxed) {
            // hyper is stopped to park the connection, not to close it.
            return Poll::Ready(Ok(()));
        }
        std::task::ready!(this.poll_substitute_within(cx))?;
        let shut = Pin::new(&mut this.io).poll_shutdown(cx);
        this.within_send_timeout(cx, shut)
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
