//! A file's bytes as an HTTP body: small files (read whole while the file
//! was opened, on the blocking pool) in one frame, larger ones streamed in
//! [`CHUNK`]-byte frames, each read on the blocking pool, never held whole
//! in memory. The body is polled only as fast as the client takes it.

use std::io::Read;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::task::JoinHandle;

/// Bytes read per frame of a streamed file.
pub(crate) const CHUNK: usize = 64 * 1024;

/// Files up to this size are read when opened and sent in one frame.
pub(crate) const SMALL: u64 = 64 * 1024;

/// One chunk read on the blocking pool: the file comes back with it.
type ChunkRead = JoinHandle<(std::fs::File, std::io::Result<Vec<u8>>)>;

enum Source {
    Bytes(Option<Bytes>),
    /// The file, between reads.
    Idle(std::fs::File),
    /// A read in flight.
    Reading(ChunkRead),
    /// Ended (or failed).
    Done,
}

/// The body of a files response: `Data = Bytes`, `Error = std::io::Error`
/// (a file that shrank or failed while being read ends the response early).
///
/// Each chunk is read into a buffer of its own on the blocking pool and
/// handed to hyper without a copy; between polls the body holds no buffer,
/// so a client that stops reading costs the chunk hyper is writing, not
/// more.
pub(crate) struct FileBody {
    source: Source,
    remaining: u64,
}

impl std::fmt::Debug for FileBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileBody")
            .field("remaining", &self.remaining)
            .finish_non_exhaustive()
    }
}

impl FileBody {
    /// No body (`HEAD`, `304`).
    pub(crate) fn empty() -> Self {
        FileBody {
            source: Source::Bytes(None),
            remaining: 0,
        }
    }

    /// Bytes already in memory.
    pub(crate) fn bytes(bytes: Bytes) -> Self {
        FileBody {
            remaining: bytes.len() as u64,
            source: Source::Bytes(Some(bytes)),
        }
    }

    /// `len` bytes of `file` from its current position.
    pub(crate) fn file(file: std::fs::File, len: u64) -> Self {
        FileBody {
            source: Source::Idle(file),
            remaining: len,
        }
    }
}

fn read_chunk(mut file: std::fs::File, want: usize) -> ChunkRead {
    tokio::task::spawn_blocking(move || {
        let mut buf = vec![0u8; want];
        let mut filled = 0;
        let result = loop {
            match file.read(&mut buf[filled..]) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    filled += n;
                    if filled == want {
                        break Ok(());
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        buf.truncate(filled);
        (file, result.map(|()| buf))
    })
}

impl Body for FileBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = &mut *self;
        loop {
            if this.remaining == 0 {
                this.source = Source::Done;
                return Poll::Ready(None);
            }
            match &mut this.source {
                Source::Bytes(bytes) => {
                    this.remaining = 0;
                    return Poll::Ready(
                        bytes
                            .take()
                            .filter(|b| !b.is_empty())
                            .map(|b| Ok(Frame::data(b))),
                    );
                }
                Source::Done => return Poll::Ready(None),
                Source::Idle(_) => {
                    let Source::Idle(file) = std::mem::replace(&mut this.source, Source::Done)
                    else {
                        return Poll::Ready(None);
                    };
                    let want = usize::try_from(this.remaining).map_or(CHUNK, |r| r.min(CHUNK));
                    this.source = Source::Reading(read_chunk(file, want));
                }
                Source::Reading(task) => {
                    let joined = ready!(Pin::new(task).poll(cx));
                    this.source = Source::Done;
                    let (file, result) = match joined {
                        Ok(done) => done,
                        Err(e) => {
                            this.remaining = 0;
                            return Poll::Ready(Some(Err(std::io::Error::other(e))));
                        }
                    };
                    let chunk = match result {
                        Ok(chunk) if !chunk.is_empty() => chunk,
                        Ok(_) => {
                            this.remaining = 0;
                            return Poll::Ready(Some(Err(std::io::Error::new(
                                std::io::ErrorKind::UnexpectedEof,
                                "the file shrank while it was being sent",
                            ))));
                        }
                        Err(e) => {
                            this.remaining = 0;
                            return Poll::Ready(Some(Err(e)));
                        }
                    };
                    this.remaining = this.remaining.saturating_sub(chunk.len() as u64);
                    this.source = Source::Idle(file);
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from(chunk)))));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use std::io::{Seek, SeekFrom, Write};

    #[tokio::test]
    async fn streams_a_file_in_chunks_from_an_offset() {
        let mut f = tempfile::tempfile().expect("temp file");
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        f.write_all(&data).expect("write");
        f.seek(SeekFrom::Start(10)).expect("seek");
        let mut body = FileBody::file(f, 150_000);
        assert_eq!(body.size_hint().exact(), Some(150_000));
        let mut got = Vec::new();
        let mut frames = 0;
        while let Some(frame) = body.frame().await {
            let chunk = frame.expect("frame").into_data().expect("data");
            assert!(chunk.len() <= CHUNK);
            got.extend_from_slice(&chunk);
            frames += 1;
        }
        assert!(frames >= 3, "{frames}");
        assert_eq!(got, &data[10..150_010]);
        assert!(body.is_end_stream());
    }

    #[tokio::test]
    async fn a_file_that_shrank_ends_with_an_error() {
        let mut f = tempfile::tempfile().expect("temp file");
        f.write_all(b"short").expect("write");
        f.seek(SeekFrom::Start(0)).expect("seek");
        let mut body = FileBody::file(f, 100);
        let first = body.frame().await.expect("frame").expect("data");
        assert_eq!(
            first.into_data().expect("data"),
            Bytes::from_static(b"short")
        );
        assert!(body.frame().await.expect("frame").is_err());
        assert!(body.frame().await.is_none());
    }

    #[tokio::test]
    async fn bytes_and_empty() {
        let body = FileBody::bytes(Bytes::from_static(b"hi"));
        assert_eq!(body.size_hint().exact(), Some(2));
        let all = body.collect().await.expect("body").to_bytes();
        assert_eq!(all, Bytes::from_static(b"hi"));
        let empty = FileBody::empty();
        assert!(empty.is_end_stream());
        assert_eq!(empty.collect().await.expect("body").to_bytes().len(), 0);
    }
}
