//! Reading what a handler left of a request body, so its answer arrives.
//!
//! A handler may answer before it reads the body: an extractor's `401`, a
//! `405`, a `404`, a `422` from the path. hyper then closes the connection
//! with the rest of the body unread, and closing a TCP socket with unread
//! data sends a reset, which can destroy the answer on its way: the gateway
//! sees a reset instead of the `405` and has to report `502`. (NGINX calls
//! the cure "lingering close".) So every request body is wrapped: dropped
//! before its end, its rest is read and discarded by a task, up to the body
//! limit and for at most [`DRAIN_TIMEOUT`]. The answer is then delivered and
//! the connection can even serve the next request.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use http_body::{Frame, SizeHint};

/// The longest a dropped body is read for.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Wrap the request's body so that, dropped unread, its rest is drained.
pub fn drain_unread_body(req: Request, limit: usize) -> Request {
    req.map(|body| {
        Body::new(DrainOnDrop {
            inner: Some(body),
            limit,
        })
    })
}

/// A request body that reads the rest of itself when dropped early.
struct DrainOnDrop {
    inner: Option<Body>,
    /// How many more bytes are worth reading: past this, hyper's close (and
    /// the reset) is the right answer to a client that sends too much.
    limit: usize,
}

impl http_body::Body for DrainOnDrop {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            // Read to its end (or failed): nothing left to drain.
            self.inner = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner
            .as_ref()
            .is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), http_body::Body::size_hint)
    }
}

impl Drop for DrainOnDrop {
    fn drop(&mut self) {
        let Some(body) = self.inner.take() else {
            return;
        };
        if http_body::Body::is_end_stream(&body) {
            return;
        }
        let limit = self.limit;
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                // Either outcome ends the drain; a body over the limit or
                // too slow is dropped and hyper closes the connection.
                let _ =
                    tokio::time::timeout(DRAIN_TIMEOUT, axum::body::to_bytes(body, limit)).await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A body of `left` one-byte chunks that counts the chunks read.
    struct Counted {
        left: usize,
        read: Arc<AtomicUsize>,
    }

    impl http_body::Body for Counted {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            if self.left == 0 {
                return Poll::Ready(None);
            }
            self.left -= 1;
            self.read.fetch_add(1, Ordering::SeqCst);
            Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"x")))))
        }
    }

    fn request(chunks: usize, limit: usize) -> (Request, Arc<AtomicUsize>) {
        let read = Arc::new(AtomicUsize::new(0));
        let body = Body::new(Counted {
            left: chunks,
            read: read.clone(),
        });
        (drain_unread_body(Request::new(body), limit), read)
    }

    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn a_body_dropped_unread_is_read_to_its_end() {
        let (req, read) = request(3, 1024);
        drop(req);
        settle().await;
        assert_eq!(read.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_body_read_by_the_handler_is_not_read_again() {
        let (req, read) = request(3, 1024);
        let bytes = axum::body::to_bytes(req.into_body(), 1024)
            .await
            .expect("body");
        assert_eq!(bytes.len(), 3);
        settle().await;
        assert_eq!(read.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn draining_stops_past_the_limit() {
        let (req, read) = request(100, 10);
        drop(req);
        settle().await;
        let n = read.load(Ordering::SeqCst);
        assert!(
            (11..100).contains(&n),
            "read {n} chunks of 100 with a limit of 10"
        );
    }
}
