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
//! the connection can even serve the next request. Each chunk is dropped as
//! soon as it is read: a drain holds one chunk at a time, never the body, so
//! many early answers at once cost no memory beyond hyper's read buffers.

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
                let _ = tokio::time::timeout(DRAIN_TIMEOUT, discard(body, limit)).await;
            });
        }
    }
}

/// How a [`discard`] ended.
#[derive(Debug, PartialEq, Eq)]
enum Discarded {
    /// The body ended after this many data bytes.
    End(usize),
    /// More than the limit arrived: the rest is left to hyper's close.
    OverLimit,
    /// The body failed (the client went away).
    Failed,
}

/// Read `body` to its end, dropping every chunk as soon as it is read, and
/// stop once more than `limit` bytes have come.
async fn discard(mut body: Body, limit: usize) -> Discarded {
    let mut read = 0usize;
    loop {
        let frame =
            std::future::poll_fn(|cx| http_body::Body::poll_frame(Pin::new(&mut body), cx)).await;
        match frame {
            None => return Discarded::End(read),
            Some(Err(_)) => return Discarded::Failed,
            Some(Ok(frame)) => {
                read = read.saturating_add(frame.data_ref().map_or(0, Bytes::len));
                if read > limit {
                    return Discarded::OverLimit;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A body of `left` one-byte chunks that counts the chunks read and
    /// records the most chunks alive (read and not yet dropped) at once.
    struct Counted {
        left: usize,
        read: Arc<AtomicUsize>,
        alive: Arc<AtomicUsize>,
        most_alive: Arc<AtomicUsize>,
    }

    /// A chunk's bytes, counted alive until dropped.
    struct Tracked(Arc<AtomicUsize>);

    impl AsRef<[u8]> for Tracked {
        fn as_ref(&self) -> &[u8] {
            b"x"
        }
    }

    impl Drop for Tracked {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
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
            let alive = self.alive.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_alive.fetch_max(alive, Ordering::SeqCst);
            let chunk = Bytes::from_owner(Tracked(self.alive.clone()));
            Poll::Ready(Some(Ok(Frame::data(chunk))))
        }
    }

    fn counted(chunks: usize) -> (Counted, Arc<AtomicUsize>) {
        let read = Arc::new(AtomicUsize::new(0));
        let body = Counted {
            left: chunks,
            read: read.clone(),
            alive: Arc::new(AtomicUsize::new(0)),
            most_alive: Arc::new(AtomicUsize::new(0)),
        };
        (body, read)
    }

    fn request(chunks: usize, limit: usize) -> (Request, Arc<AtomicUsize>) {
        let (body, read) = counted(chunks);
        (
            drain_unread_body(Request::new(Body::new(body)), limit),
            read,
        )
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

    #[tokio::test]
    async fn a_drain_holds_one_chunk_at_a_time() {
        let (body, read) = counted(200);
        let most_alive = body.most_alive.clone();
        let alive = body.alive.clone();
        drop(drain_unread_body(Request::new(Body::new(body)), 1024));
        settle().await;
        assert_eq!(read.load(Ordering::SeqCst), 200);
        assert_eq!(
            most_alive.load(Ordering::SeqCst),
            1,
            "chunks kept while draining"
        );
        assert_eq!(
            alive.load(Ordering::SeqCst),
            0,
            "chunks kept after draining"
        );
    }

    #[tokio::test]
    async fn discard_reports_the_end_the_limit_and_a_failure() {
        let (body, _) = counted(5);
        assert_eq!(discard(Body::new(body), 5).await, Discarded::End(5));
        let (body, read) = counted(50);
        assert_eq!(discard(Body::new(body), 5).await, Discarded::OverLimit);
        assert_eq!(read.load(Ordering::SeqCst), 6);
        let failing = Body::new(Failing);
        assert_eq!(discard(failing, 5).await, Discarded::Failed);
    }

    /// A body whose first frame is an error (the client went away).
    struct Failing;

    impl http_body::Body for Failing {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Ready(Some(Err(std::io::Error::other("reset"))))
        }
    }
}
