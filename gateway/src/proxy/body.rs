//! The response body sent to the client: the upstream's, streamed (its
//! connection handed back to the pool once read to the end), or the
//! gateway's own; counted, with the access-log record written when it ends.
//!
//! An upstream body comes through hyper's client ([`Incoming`]) or is read
//! from the upstream socket right here, when hyper's server polls it
//! (`upstreams/wire.rs`): in the client connection's task.
//!
//! While it streams, every poll leaves a mark on the upstream connection
//! (`upstreams/stall.rs`): a client that stops taking bytes stops the
//! polls, and the connection's watch gives the upstream connection up
//! after `timeouts.client_send`.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;

use crate::access_log::Completion;
use crate::files::FileBody;
use crate::policies::Encoder;
use crate::upstreams::{Connection, UpstreamPool, Wire, WireBody};

/// Why a body stopped short: hyper's client error, or the socket's.
type BodyError = Box<dyn std::error::Error + Send + Sync>;

enum Source {
    Upstream(Incoming),
    /// Read from the upstream socket when polled.
    Wire(WireSource),
    Fixed(Option<Bytes>),
    File(FileBody),
}

/// An upstream body read through the direct exchange, its connection, and
/// the pool it goes back to when the body ended cleanly.
struct WireSource {
    body: WireBody,
    conn: Connection<Wire>,
    pool: Arc<UpstreamPool>,
}

/// The body sent to the client: the upstream's, streamed, or the gateway's own.
pub(crate) struct ResponseBody {
    source: Source,
    completion: Option<Completion>,
    /// The upstream connection, handed back to its pool once the body has
    /// been read to the end (dropped, and so closed, otherwise).
    connection: Option<(Arc<UpstreamPool>, Connection)>,
    ended: bool,
    /// The route's compression, when it chose to encode this body (boxed:
    /// most bodies have none).
    encoder: Option<Box<Encoder>>,
}

impl Drop for ResponseBody {
    fn drop(&mut self) {
        if let Source::Wire(_) = &self.source
            && let Source::Wire(mut wire) = std::mem::replace(&mut self.source, Source::Fixed(None))
        {
            wire.conn.link().body_done();
            if wire.conn.reusable_after(&wire.body) {
                wire.pool.checkin_wire(wire.conn);
            }
        }
        if let Some((pool, conn)) = self.connection.take() {
            conn.link().body_done();
            let finished = self.ended
                || matches!(&self.source, Source::Upstream(inner) if inner.is_end_stream());
            if finished {
                pool.checkin(conn);
            }
        }
    }
}

impl ResponseBody {
    /// Stream the upstream's body.
    pub(crate) fn upstream(inner: Incoming) -> Self {
        ResponseBody {
            source: Source::Upstream(inner),
            completion: None,
            connection: None,
            ended: false,
            encoder: None,
        }
    }

    /// Hand `conn` back to `pool` when this body has been read to the end;
    /// give it up if the client takes no bytes for `client_send`.
    pub(crate) fn with_connection(
        mut self,
        pool: Arc<UpstreamPool>,
        conn: Connection,
        client_send: Duration,
    ) -> Self {
        conn.link().body_started(client_send);
        self.connection = Some((pool, conn));
        self
    }

    /// Stream an upstream body read through the direct exchange on `conn`,
    /// handed back to `pool` when read to the end; given up if the client
    /// takes no bytes for `client_send`.
    pub(crate) fn wire(
        body: WireBody,
        pool: Arc<UpstreamPool>,
        conn: Connection<Wire>,
        client_send: Duration,
    ) -> Self {
        conn.link().body_started(client_send);
        ResponseBody {
            source: Source::Wire(WireSource { body, conn, pool }),
            completion: None,
            connection: None,
            ended: false,
            encoder: None,
        }
    }

    /// A body the gateway produced.
    pub(crate) fn fixed(bytes: Bytes) -> Self {
        ResponseBody {
            source: Source::Fixed(Some(bytes)),
            completion: None,
            connection: None,
            ended: false,
            encoder: None,
        }
    }

    /// A static file's body (the files handler's).
    pub(crate) fn file(body: FileBody) -> Self {
        ResponseBody {
            source: Source::File(body),
            completion: None,
            connection: None,
            ended: false,
            encoder: None,
        }
    }

    /// Send the body through `encoder` (compression).
    pub(crate) fn with_encoder(mut self, encoder: Encoder) -> Self {
        self.encoder = Some(Box::new(encoder));
        self
    }

    /// Log and count the request when the body is done (or dropped).
    pub(crate) fn with_completion(mut self, completion: Completion) -> Self {
        self.completion = Some(completion);
        self
    }

    /// Mark the upstream connection's link (`upstreams/stall.rs`): a poll,
    /// or (`handed`) a chunk handed to the client.
    fn mark(&self, handed: bool) {
        let link = match (&self.connection, &self.source) {
            (Some((_, conn)), _) => conn.link(),
            (None, Source::Wire(wire)) => wire.conn.link(),
            (None, _) => return,
        };
        if handed {
            link.body_handed();
        } else {
            link.body_polled();
        }
    }

    fn count(&mut self, n: usize) {
        if let Some(c) = self.completion.as_mut() {
            c.bytes = c.bytes.saturating_add(n as u64);
        }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = &mut *self;
        this.mark(false);
        let polled = match this.encoder.as_deref_mut() {
            None => poll_source(&mut this.source, cx),
            Some(encoder) => {
                let source = &mut this.source;
                let polled = encoder.poll_encoded(cx, |cx| poll_source(source, cx));
                if encoder.is_finished() {
                    // The upstream body was read to its end.
                    this.ended = true;
                }
                polled
            }
        };
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let n = data.len();
                    this.count(n);
                    this.mark(true);
                }
            }
            Poll::Ready(None) => this.ended = true,
            Poll::Ready(Some(Err(e))) => {
                tracing::warn!(error = %e, "upstream response body failed mid-stream");
                if let Some(c) = this.completion.as_mut() {
                    c.aborted = true;
                }
            }
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        if let Some(encoder) = &self.encoder {
            return encoder.is_done();
        }
        match &self.source {
            Source::Upstream(inner) => inner.is_end_stream(),
            Source::Wire(wire) => wire.body.is_end_stream(),
            Source::Fixed(bytes) => bytes.as_ref().is_none_or(Bytes::is_empty),
            Source::File(file) => file.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        if self.encoder.is_some() {
            return SizeHint::default();
        }
        match &self.source {
            Source::Upstream(inner) => inner.size_hint(),
            Source::Wire(wire) => wire.body.size_hint(),
            Source::Fixed(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            Source::File(file) => file.size_hint(),
        }
    }
}

fn poll_source(
    source: &mut Source,
    cx: &mut Context<'_>,
) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
    match source {
        Source::Upstream(inner) => Pin::new(inner)
            .poll_frame(cx)
            .map(|frame| frame.map(|r| r.map_err(BodyError::from))),
        Source::Wire(wire) => wire
            .conn
            .poll_body(&mut wire.body, cx)
            .map(|frame| frame.map(|r| r.map_err(BodyError::from))),
        Source::Fixed(bytes) => Poll::Ready(
            bytes
                .take()
                .filter(|b| !b.is_empty())
                .map(|b| Ok(Frame::data(b))),
        ),
        // A file that fails mid-read (it shrank, the disk failed) ends the
        // body early: hyper then closes the connection, the declared
        // length not reached.
        Source::File(file) => match Pin::new(file).poll_frame(cx) {
            Poll::Ready(Some(Err(e))) => {
                tracing::warn!(error = %e, "static file failed mid-read");
                Poll::Ready(None)
            }
            Poll::Ready(Some(Ok(frame))) => Poll::Ready(Some(Ok(frame))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        },
    }
}
