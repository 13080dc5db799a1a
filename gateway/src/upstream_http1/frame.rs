//! What reading a body yields, and how it fails (shared by the framings).

use std::io::ErrorKind;

use bytes::Bytes;
use http::HeaderMap;

/// What [`BodyDecoder::decode`](super::BodyDecoder::decode) found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// Body bytes (never empty).
    Data(Bytes),
    /// The trailer fields of a chunked body; [`Decoded::End`] follows.
    Trailers(HeaderMap),
    /// The body is complete; bytes left in the buffer belong to whatever
    /// comes next on the connection.
    End,
    /// More bytes are needed.
    NeedMore,
}

/// Why a body could not be read to its end. Its kind is the one hyper's
/// client reports (`UnexpectedEof` for a body cut short, `InvalidInput`
/// or `InvalidData` for malformed chunked framing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{what}")]
pub struct BodyError {
    kind: ErrorKind,
    what: &'static str,
}

impl BodyError {
    /// The connection closed before the body's end.
    pub(super) const INCOMPLETE: BodyError = BodyError::new(
        ErrorKind::UnexpectedEof,
        "end of file before message length reached",
    );

    pub(super) const fn new(kind: ErrorKind, what: &'static str) -> Self {
        BodyError { kind, what }
    }

    /// The I/O error kind hyper's client reports for the same fault.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl From<BodyError> for std::io::Error {
    fn from(e: BodyError) -> Self {
        std::io::Error::new(e.kind, e)
    }
}
