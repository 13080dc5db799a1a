//! [`Encoder`]: a response body compressed as it streams. Upstream frames
//! are fed to the compressor as they come, without a flush, so small
//! frames still compress well; whenever the upstream has nothing more to
//! give right now, what is pending is flushed and sent, so a slow or
//! streaming upstream (server-sent events) is never held back. Nothing is
//! buffered beyond the compressor's own window and one output chunk.

use std::io::Write;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::HeaderMap;
use http_body::Frame;

use crate::config::policies::compression::Algorithm;

use super::EncodingCounters;

/// Output sent as soon as this much is ready.
const OUT_CHUNK: usize = 16 * 1024;
/// Input taken in one poll before yielding what is ready.
const IN_BUDGET: usize = 256 * 1024;
/// brotli's window (log2 bytes) and internal buffer.
const BROTLI_WINDOW: u32 = 22;
const BROTLI_BUFFER: usize = 4096;

enum Codec {
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
    Brotli(Box<brotli::CompressorWriter<Vec<u8>>>),
    Zstd(zstd::stream::write::Encoder<'static, Vec<u8>>),
}

impl Codec {
    fn output(&mut self) -> &mut Vec<u8> {
        match self {
            Codec::Gzip(e) => e.get_mut(),
            Codec::Brotli(e) => e.get_mut(),
            Codec::Zstd(e) => e.get_mut(),
        }
    }

    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Codec::Gzip(e) => e,
            Codec::Brotli(e) => e.as_mut(),
            Codec::Zstd(e) => e,
        }
    }

    fn finish(self) -> std::io::Result<Vec<u8>> {
        match self {
            Codec::Gzip(e) => e.finish(),
            Codec::Brotli(e) => Ok(e.into_inner()),
            Codec::Zstd(e) => e.finish(),
        }
    }
}

/// A body being compressed.
pub(crate) struct Encoder {
    /// `None` once finished.
    codec: Option<Codec>,
    /// Input written since the last flush.
    unflushed: bool,
    /// Trailers of the upstream body, sent after the last data.
    trailers: Option<HeaderMap>,
    counters: EncodingCounters,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("finished", &self.codec.is_none())
            .finish_non_exhaustive()
    }
}

impl Encoder {
    /// An encoder for `algorithm` at `level`; `None` if the compressor
    /// cannot be set up (the response then goes out as it is).
    pub(crate) fn new(
        algorithm: Algorithm,
        level: i32,
        counters: EncodingCounters,
    ) -> Option<Self> {
        let level_u32 = u32::try_from(level).unwrap_or(0);
        let codec = match algorithm {
            Algorithm::Gzip => Codec::Gzip(flate2::write::GzEncoder::new(
                Vec::new(),
                flate2::Compression::new(level_u32),
            )),
            Algorithm::Brotli => Codec::Brotli(Box::new(brotli::CompressorWriter::new(
                Vec::new(),
                BROTLI_BUFFER,
                level_u32,
                BROTLI_WINDOW,
            ))),
            Algorithm::Zstd => match zstd::stream::write::Encoder::new(Vec::new(), level) {
                Ok(e) => Codec::Zstd(e),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot start a zstd encoder; sending the body as it is");
                    return None;
                }
            },
        };
        counters.responses.increment(1);
        Some(Encoder {
            codec: Some(codec),
            unflushed: false,
            trailers: None,
            counters,
        })
    }

    /// Whether everything, trailers included, has been returned.
    pub(crate) fn is_done(&self) -> bool {
        self.codec.is_none() && self.trailers.is_none()
    }

    /// Whether the upstream body has ended (the compressed stream is
    /// complete or being handed out).
    pub(crate) fn is_finished(&self) -> bool {
        self.codec.is_none()
    }

    fn take_output(&mut self) -> Option<Bytes> {
        let out = std::mem::take(self.codec.as_mut()?.output());
        self.emit(out)
    }

    fn emit(&self, out: Vec<u8>) -> Option<Bytes> {
        if out.is_empty() {
            return None;
        }
        self.counters.bytes_out.increment(out.len() as u64);
        Some(Bytes::from(out))
    }

    fn pending_output(&mut self) -> usize {
        self.codec.as_mut().map_or(0, |c| c.output().len())
    }

    fn fail(&mut self, e: &std::io::Error) {
        // Writing to memory does not fail; if a compressor ever does, the
        // stream ends here and the client's decoder sees it cut short.
        tracing::error!(error = %e, "response compression failed; the body is cut short");
        self.codec = None;
        self.trailers = None;
    }

    /// The next compressed frame, polling the upstream body with `inner`.
    pub(crate) fn poll_encoded<E>(
        &mut self,
        cx: &mut Context<'_>,
        mut inner: impl FnMut(&mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, E>>>,
    ) -> Poll<Option<Result<Frame<Bytes>, E>>> {
        if self.codec.is_none() {
            return Poll::Ready(self.trailers.take().map(|t| Ok(Frame::trailers(t))));
        }
        let mut taken = 0usize;
        loop {
            match inner(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => {
                        taken += data.len();
                        self.counters.bytes_in.increment(data.len() as u64);
                        let Some(codec) = self.codec.as_mut() else {
                            return Poll::Ready(None);
                        };
                        if let Err(e) = codec.writer().write_all(&data) {
                            self.fail(&e);
                            return Poll::Ready(None);
                        }
                        self.unflushed = true;
                        let ready = self.pending_output();
                        if (ready >= OUT_CHUNK || (taken >= IN_BUDGET && ready > 0))
                            && let Some(out) = self.take_output()
                        {
                            return Poll::Ready(Some(Ok(Frame::data(out))));
                        }
                    }
                    Err(frame) => {
                        if let Ok(trailers) = frame.into_trailers() {
                            self.trailers = Some(trailers);
                        }
                    }
                },
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => {
                    let Some(codec) = self.codec.take() else {
                        return Poll::Ready(None);
                    };
                    return match codec.finish() {
                        Ok(out) => match self.emit(out) {
                            Some(out) => Poll::Ready(Some(Ok(Frame::data(out)))),
                            None => {
                                Poll::Ready(self.trailers.take().map(|t| Ok(Frame::trailers(t))))
                            }
                        },
                        Err(e) => {
                            self.fail(&e);
                            Poll::Ready(None)
                        }
                    };
                }
                Poll::Pending => {
                    if self.unflushed {
                        self.unflushed = false;
                        if let Some(codec) = self.codec.as_mut()
                            && let Err(e) = codec.writer().flush()
                        {
                            self.fail(&e);
                            return Poll::Ready(None);
                        }
                        if let Some(out) = self.take_output() {
                            return Poll::Ready(Some(Ok(Frame::data(out))));
                        }
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}
