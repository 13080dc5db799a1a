//! Streaming bodies: the request body sent upstream (with the size limit
//! enforced while it streams) and the response body sent to the client
//! (counted, with the access-log line written when it ends).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;

use crate::access_log::Completion;
use crate::upstream::{Connection, UpstreamPool};

/// Why the client's request body stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFault {
    /// Nothing went wrong (yet).
    None,
    /// The body grew past the limit.
    TooLarge,
    /// The client sent a malformed body (bad chunk size) or went away.
    Malformed,
}

/// Shared between the request body and the proxy phase that maps errors.
#[derive(Debug, Default)]
pub struct BodyFaultCell(AtomicU8);

impl BodyFaultCell {
    fn set(&self, fault: BodyFault) {
        let v = match fault {
            BodyFault::None => 0,
            BodyFault::TooLarge => 1,
            BodyFault::Malformed => 2,
        };
        self.0.store(v, Ordering::Relaxed);
    }

    /// The fault seen so far.
    pub fn get(&self) -> BodyFault {
        match self.0.load(Ordering::Relaxed) {
            1 => BodyFault::TooLarge,
            2 => BodyFault::Malformed,
            _ => BodyFault::None,
        }
    }
}

/// The error a refused request body reports to the upstream client.
#[derive(Debug, thiserror::Error)]
#[error("request body refused: {0:?}")]
pub struct BodyRefused(pub BodyFault);

/// The client's body on its way upstream, cut off past `limit` bytes.
#[derive(Debug)]
pub struct RequestBody {
    inner: Option<Incoming>,
    limit: u64,
    seen: u64,
    fault: Arc<BodyFaultCell>,
}

impl RequestBody {
    /// Wrap `inner` with a byte limit; faults are reported through `fault`.
    pub fn new(inner: Incoming, limit: u64, fault: Arc<BodyFaultCell>) -> Self {
        RequestBody {
            inner: Some(inner),
            limit,
            seen: 0,
            fault,
        }
    }

    /// An empty body (a retried request that had none).
    pub fn empty() -> Self {
        RequestBody {
            inner: None,
            limit: 0,
            seen: 0,
            fault: Arc::default(),
        }
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = BodyRefused;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyRefused>>> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match Pin::new(inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.seen = this.seen.saturating_add(data.len() as u64);
                    if this.seen > this.limit {
                        this.fault.set(BodyFault::TooLarge);
                        this.inner = None;
                        return Poll::Ready(Some(Err(BodyRefused(BodyFault::TooLarge))));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(_))) => {
                this.fault.set(BodyFault::Malformed);
                this.inner = None;
                Poll::Ready(Some(Err(BodyRefused(BodyFault::Malformed))))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

enum Source {
    Upstream(Incoming),
    Fixed(Option<Bytes>),
}

/// The body sent to the client: the upstream's, streamed, or the gateway's own.
pub struct ResponseBody {
    source: Source,
    completion: Option<Completion>,
    /// The upstream connection, handed back to its pool once the body has
    /// been read to the end (dropped, and so closed, otherwise).
    connection: Option<(Arc<UpstreamPool>, Connection)>,
    ended: bool,
}

impl Drop for ResponseBody {
    fn drop(&mut self) {
        if let Some((pool, conn)) = self.connection.take() {
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
    pub fn upstream(inner: Incoming) -> Self {
        ResponseBody {
            source: Source::Upstream(inner),
            completion: None,
            connection: None,
            ended: false,
        }
    }

    /// Hand `conn` back to `pool` when this body has been read to the end.
    pub fn with_connection(mut self, pool: Arc<UpstreamPool>, conn: Connection) -> Self {
        self.connection = Some((pool, conn));
        self
    }

    /// A body the gateway produced.
    pub fn fixed(bytes: Bytes) -> Self {
        ResponseBody {
            source: Source::Fixed(Some(bytes)),
            completion: None,
            connection: None,
            ended: false,
        }
    }

    /// An empty body.
    pub fn empty() -> Self {
        Self::fixed(Bytes::new())
    }

    /// Log and count the request when the body is done (or dropped).
    pub fn with_completion(mut self, completion: Completion) -> Self {
        self.completion = Some(completion);
        self
    }

    fn count(&mut self, n: usize) {
        if let Some(c) = self.completion.as_mut() {
            c.bytes = c.bytes.saturating_add(n as u64);
        }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        let polled = match &mut this.source {
            Source::Upstream(inner) => Pin::new(inner).poll_frame(cx),
            Source::Fixed(bytes) => Poll::Ready(
                bytes
                    .take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::data(b))),
            ),
        };
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let n = data.len();
                    this.count(n);
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
        match &self.source {
            Source::Upstream(inner) => inner.is_end_stream(),
            Source::Fixed(bytes) => bytes.as_ref().is_none_or(Bytes::is_empty),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.source {
            Source::Upstream(inner) => inner.size_hint(),
            Source::Fixed(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
        }
    }
}
