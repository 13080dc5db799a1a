//! The upstream HTTP/1.1 exchange driven in the request's own task
//! (Pingora's design), in place of hyper's client for the usual request:
//! no dispatcher task, no request channel, no response oneshot.
//!
//! - the request head is written straight from the rewritten request's
//!   method, target and fields into a buffer reused by the worker thread;
//! - the response head is read and parsed with [`crate::upstream_http1`]
//!   (hyper 1's client rules, checked against hyper by a differential
//!   test and a fuzz target);
//! - the body is read from the socket when the client's side polls it
//!   ([`Wire::poll_body`]), in the client connection's task, into a
//!   read buffer the worker thread reuses (each read handed on as
//!   [`Bytes`] and written to the client at once), and the connection goes
//!   back to its pool when the body ended cleanly.
//!
//! Used for requests without a body that do not ask for an upgrade (and
//! are not `CONNECT`); the others go through hyper's client (`pool.rs`).
//! An idle connection here is a bare socket: nothing to drop when it
//! parks.

use std::cell::RefCell;
use std::io;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use http::header::HeaderMap;
use http::{Method, Response, Uri};
use http_body::{Frame, SizeHint};
use tokio::net::TcpStream;

use crate::upstream_http1::{
    BodyDecoder, BodyFraming, Decoded, HeadLimits, ResponseHead, parse_response_head,
};

/// The most an upstream connection's read buffer grows to (hyper's
/// default lets it reach ~400 KiB per connection while streaming large
/// bodies), and so the longest response head either kind of connection
/// takes (`pool.rs`). 64 KiB of body *and* its response head fit in one
/// read of hyper's: at exactly 64 KiB, every 64 KiB response took two
/// reads, two client writes and two hand-offs between the tasks, and the
/// second read went into a freshly allocated buffer (the first chunk was
/// still queued for the client), whose pages faulted in (pinned 64 KiB
/// GET, 1 worker: 74 -> 60 µs of CPU per request, NGINX 58).
pub(super) const UPSTREAM_READ_BUFFER: usize = 80 * 1024;

/// The most a response head may take.
const LIMITS: HeadLimits = HeadLimits {
    max_head: UPSTREAM_READ_BUFFER,
};

/// How much one read asks for at most.
const READ_SIZE: usize = 32 * 1024;

/// Below this much room, a read gets a fresh [`READ_SIZE`] first.
const MIN_READ_ROOM: usize = 4 * 1024;

thread_local! {
    /// The buffer request heads are encoded into, reused by the thread.
    static HEAD_BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// The room reads go into, reused by the thread: a chunk handed to the
    /// client is written at once, so its memory is soon free again.
    static READ_BUFFER: RefCell<BytesMut> = RefCell::new(BytesMut::new());
}

/// One upstream connection of the direct exchange.
#[derive(Debug)]
pub(crate) struct Wire {
    /// Shared with the pool's watch, which shuts it down when a client
    /// stops taking the response (`stall.rs`); no one else holds it.
    stream: Arc<TcpStream>,
    /// Bytes read and not consumed yet (usually empty between reads).
    buf: BytesMut,
    /// The upstream closed its side.
    eof: bool,
}

/// Why an exchange failed once begun: the request may have reached the
/// upstream (a reused connection is retried only for an idempotent request).
#[derive(Debug, thiserror::Error)]
pub(crate) enum WireError {
    /// The socket failed.
    #[error("upstream connection failed: {0}")]
    Io(#[from] io::Error),
    /// The connection closed before a complete response head.
    #[error("upstream closed the connection before a response head")]
    Closed,
    /// The response head was refused.
    #[error("upstream response head refused: {0}")]
    Head(#[from] crate::upstream_http1::HeadError),
}

impl Wire {
    /// A wire over a new or revived socket.
    pub(super) fn new(stream: TcpStream) -> Self {
        Wire {
            stream: Arc::new(stream),
            buf: BytesMut::new(),
            eof: false,
        }
    }

    /// The socket, for the pool's watch.
    pub(super) fn stream(&self) -> &Arc<TcpStream> {
        &self.stream
    }

    /// The bare socket, when it is fit for another exchange (nothing left
    /// unread, not closed, held by no one else).
    pub(super) fn into_stream(self) -> Option<TcpStream> {
        if !self.buf.is_empty() || self.eof {
            return None;
        }
        Arc::try_unwrap(self.stream).ok()
    }

    /// Whether an idle connection is still fit for a request (no close and
    /// no stray bytes since its last exchange).
    pub(super) fn still_open(&self) -> bool {
        self.buf.is_empty() && !self.eof && super::driver::still_open(&self.stream)
    }

    /// Send a request head (the request has no body) and read the
    /// response head; the body's bytes stay in the buffer.
    pub(crate) async fn exchange(
        &mut self,
        method: &Method,
        target: &Uri,
        headers: &HeaderMap,
    ) -> Result<ResponseHead, WireError> {
        let mut head = HEAD_BUFFER.with(|b| std::mem::take(&mut *b.borrow_mut()));
        head.clear();
        encode_head(&mut head, method, target, headers);
        let written = write_all(&self.stream, &head).await;
        HEAD_BUFFER.with(|b| {
            let mut kept = b.borrow_mut();
            if kept.capacity() < head.capacity() {
                *kept = head;
            }
        });
        written?;
        loop {
            if let Some(head) = parse_response_head(&mut self.buf, method, &LIMITS)? {
                return Ok(head);
            }
            if self.eof {
                return Err(WireError::Closed);
            }
            std::future::poll_fn(|cx| self.poll_fill(cx)).await?;
        }
    }

    /// Read what the socket has into the buffer (`eof` set when closed).
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.buf.is_empty() && self.buf.capacity() < MIN_READ_ROOM {
            self.buf = READ_BUFFER.with(|b| std::mem::take(&mut *b.borrow_mut()));
        }
        if self.buf.capacity() - self.buf.len() < MIN_READ_ROOM {
            self.buf.reserve(READ_SIZE);
        }
        loop {
            match self.stream.try_read_buf(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Poll::Ready(Ok(()));
                }
                Ok(_) => return Poll::Ready(Ok(())),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    ready!(self.stream.poll_read_ready(cx))?;
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Hand the read buffer's room back to the thread once consumed.
    fn recycle(&mut self) {
        if !self.buf.is_empty() || self.buf.capacity() < MIN_READ_ROOM {
            return;
        }
        let room = std::mem::take(&mut self.buf);
        READ_BUFFER.with(|b| {
            let mut kept = b.borrow_mut();
            if kept.capacity() < room.capacity() {
                *kept = room;
            }
        });
    }
}

/// Write all of `bytes` to `stream`.
async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match stream.try_write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => stream.writable().await?,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The request head as hyper's client encodes it for a request without a
/// body: request line, each field as `name: value` (names as stored,
/// lower case), an empty line.
fn encode_head(dst: &mut Vec<u8>, method: &Method, target: &Uri, headers: &HeaderMap) {
    dst.extend_from_slice(method.as_str().as_bytes());
    dst.push(b' ');
    let target = target.path_and_query().map_or("/", |pq| pq.as_str());
    dst.extend_from_slice(target.as_bytes());
    dst.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in headers {
        dst.extend_from_slice(name.as_str().as_bytes());
        dst.extend_from_slice(b": ");
        dst.extend_from_slice(value.as_bytes());
        dst.extend_from_slice(b"\r\n");
    }
    dst.extend_from_slice(b"\r\n");
}

/// Where a response body read through a [`Wire`] stands.
#[derive(Debug)]
pub(crate) struct WireBody {
    decoder: BodyDecoder,
    /// Bytes still to come of a body with a declared length.
    left: Option<u64>,
    /// The connection may carry another exchange once the body ended.
    keep_alive: bool,
    /// The body's end was read.
    ended: bool,
}

impl WireBody {
    /// Whether the body is complete (a declared length reached, or its
    /// end read): what hyper's `Incoming::is_end_stream` says, and after
    /// the end of any body.
    pub(crate) fn is_end_stream(&self) -> bool {
        self.ended || self.left == Some(0)
    }

    /// The body's size as hyper's client reports it: exact (what is left)
    /// for a declared length, unknown otherwise.
    pub(crate) fn size_hint(&self) -> SizeHint {
        match self.left {
            Some(n) => SizeHint::with_exact(n),
            None => SizeHint::default(),
        }
    }
}

/// The response with a body read through its wire.
pub(crate) fn response(head: ResponseHead) -> Response<WireBody> {
    let left = match head.framing {
        BodyFraming::Length(n) => Some(n),
        BodyFraming::Chunked | BodyFraming::CloseDelimited => None,
    };
    let body = WireBody {
        decoder: BodyDecoder::new(head.framing),
        left,
        keep_alive: head.keep_alive,
        ended: false,
    };
    let mut response = Response::new(body);
    *response.status_mut() = head.status;
    *response.version_mut() = head.version;
    *response.headers_mut() = head.headers;
    if let Some(reason) = head.reason
        && let Ok(reason) = hyper::ext::ReasonPhrase::try_from(reason)
    {
        response.extensions_mut().insert(reason);
    }
    response
}

impl Wire {
    /// The next frame of `body`, read from the socket as needed.
    pub(crate) fn poll_body(
        &mut self,
        body: &mut WireBody,
        cx: &mut Context<'_>,
    ) -> Poll<Option<io::Result<Frame<Bytes>>>> {
        loop {
            if body.ended {
                return Poll::Ready(None);
            }
            match body.decoder.decode(&mut self.buf, self.eof) {
                Ok(Decoded::Data(data)) => {
                    if let Some(left) = body.left.as_mut() {
                        *left = left.saturating_sub(data.len() as u64);
                    }
                    self.recycle();
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Ok(Decoded::Trailers(fields)) => {
                    return Poll::Ready(Some(Ok(Frame::trailers(fields))));
                }
                Ok(Decoded::End) => {
                    body.ended = true;
                    self.recycle();
                    return Poll::Ready(None);
                }
                Ok(Decoded::NeedMore) => {
                    if let Err(e) = ready!(self.poll_fill(cx)) {
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                Err(e) => return Poll::Ready(Some(Err(e.into()))),
            }
        }
    }

    /// Whether the connection may carry another exchange now that `body`
    /// is over: its end read (or its declared length reached) on a
    /// keep-alive response, nothing after it, the upstream still there.
    pub(crate) fn reusable_after(&mut self, body: &WireBody) -> bool {
        let complete = body.ended || body.decoder.is_end() || body.left == Some(0);
        let reusable = body.keep_alive && complete && self.buf.is_empty() && !self.eof;
        self.recycle();
        reusable
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
