//! The client's request body on its way upstream: streamed frame by frame,
//! cut off past the route's body limit (the upstream never receives more
//! than the limit), with the reason it stopped reported to the proxy.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;

/// Why the client's request body stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFault {
    /// Nothing went wrong (yet).
    None,
    /// The body grew past the limit.
    TooLarge,
    /// The client sent a malformed body (bad chunk size) or went away.
    Malformed,
}

/// Shared between the request body and the proxy phase that maps errors.
#[derive(Debug, Default)]
pub(crate) struct BodyFaultCell(AtomicU8);

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
    pub(crate) fn get(&self) -> BodyFault {
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
pub(crate) struct BodyRefused(pub BodyFault);

/// The client's body on its way upstream, cut off past `limit` bytes.
#[derive(Debug)]
pub(crate) struct RequestBody {
    inner: Option<Incoming>,
    limit: u64,
    seen: u64,
    fault: Arc<BodyFaultCell>,
}

impl RequestBody {
    /// Wrap `inner` with a byte limit; faults are reported through `fault`.
    pub(crate) fn new(inner: Incoming, limit: u64, fault: Arc<BodyFaultCell>) -> Self {
        RequestBody {
            inner: Some(inner),
            limit,
            seen: 0,
            fault,
        }
    }

    /// An empty body (a retried request that had none).
    pub(crate) fn empty() -> Self {
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
