//! `Transfer-Encoding: chunked`, byte by byte through the same states as
//! hyper's `ChunkedState` (`hyper/src/proto/h1/decode.rs`), so that a
//! malformed body fails at the same byte, with the same kind of error.

use std::io::ErrorKind;

use bytes::{BufMut, Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue};

use super::frame::{BodyError, Decoded};

/// Most bytes of chunk extensions in one body (they are ignored).
const EXTENSIONS_LIMIT: u64 = 16 * 1024;

/// Most bytes of trailer fields.
const TRAILER_LIMIT: usize = 16 * 1024;

/// Most trailer fields.
const TRAILER_FIELDS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    Size,
    SizeLws,
    Extension,
    SizeLf,
    Body,
    BodyCr,
    BodyLf,
    Trailer,
    TrailerLf,
    EndCr,
    EndLf,
    End,
}

/// Where a chunked body stands.
#[derive(Debug)]
pub(super) struct Chunked {
    state: State,
    /// The current chunk's size, then what is left of it.
    size: u64,
    extensions: u64,
    trailers: Option<BytesMut>,
    trailer_lines: usize,
}

/// What one step read.
enum Step {
    /// Go on in this state.
    Next(State),
    /// These bytes of a chunk, and the state after them.
    Data(Bytes, State),
}

const EOF_IN_LINE: BodyError = BodyError::new(
    ErrorKind::UnexpectedEof,
    "unexpected EOF during chunk size line",
);

impl Chunked {
    pub(super) fn new() -> Self {
        Chunked {
            state: State::Start,
            size: 0,
            extensions: 0,
            trailers: None,
            trailer_lines: 0,
        }
    }

    /// Whether the last chunk and the trailers (if any) were read.
    pub(super) fn is_end(&self) -> bool {
        self.state == State::End && self.trailers.is_none()
    }

    /// Decode from `buf` (with `eof`: nothing more will come) up to the
    /// next chunk data, the trailers or the end.
    pub(super) fn decode(&mut self, buf: &mut BytesMut, eof: bool) -> Result<Decoded, BodyError> {
        loop {
            if self.state == State::End {
                return Ok(match self.trailers.take() {
                    Some(raw) => Decoded::Trailers(trailer_fields(&raw, self.trailer_lines)?),
                    None => Decoded::End,
                });
            }
            if buf.is_empty() {
                if !eof {
                    return Ok(Decoded::NeedMore);
                }
                return Err(if self.state == State::Body {
                    BodyError::INCOMPLETE
                } else {
                    EOF_IN_LINE
                });
            }
            match self.step(buf)? {
                Step::Next(state) => self.state = state,
                Step::Data(data, state) => {
                    self.state = state;
                    return Ok(Decoded::Data(data));
                }
            }
        }
    }

    /// One step from the current state; `buf` is not empty.
    fn step(&mut self, buf: &mut BytesMut) -> Result<Step, BodyError> {
        use State::*;
        if self.state == Body {
            let take = usize::try_from(self.size)
                .unwrap_or(usize::MAX)
                .min(buf.len());
            self.size -= take as u64;
            let next = if self.size > 0 { Body } else { BodyCr };
            return Ok(Step::Data(buf.split_to(take).freeze(), next));
        }
        let byte = buf[0];
        bytes::Buf::advance(buf, 1);
        let invalid = |what| Err(BodyError::new(ErrorKind::InvalidInput, what));
        let next = match (self.state, byte) {
            (Start | Size, b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F') => {
                self.size = self
                    .size
                    .checked_mul(16)
                    .and_then(|s| s.checked_add(u64::from(hex(byte))))
                    .ok_or(BodyError::new(
                        ErrorKind::InvalidData,
                        "invalid chunk size: overflow",
                    ))?;
                Size
            }
            (Start, _) => return invalid("Invalid chunk size line: missing size digit"),
            (Size | SizeLws, b'\t' | b' ') => SizeLws,
            (Size | SizeLws, b';') => Extension,
            (Size | SizeLws, b'\r') => SizeLf,
            (Size, _) => return invalid("Invalid chunk size line: Invalid Size"),
            (SizeLws, _) => return invalid("Invalid chunk size linear white space"),
            (Extension, b'\r') => SizeLf,
            (Extension, b'\n') => {
                return Err(BodyError::new(
                    ErrorKind::InvalidData,
                    "invalid chunk extension contains newline",
                ));
            }
            (Extension, _) => {
                self.extensions += 1;
                if self.extensions >= EXTENSIONS_LIMIT {
                    return Err(BodyError::new(
                        ErrorKind::InvalidData,
                        "chunk extensions over limit",
                    ));
                }
                Extension
            }
            (SizeLf, b'\n') if self.size == 0 => EndCr,
            (SizeLf, b'\n') => Body,
            (SizeLf, _) => return invalid("Invalid chunk size LF"),
            (BodyCr, b'\r') => BodyLf,
            (BodyCr, _) => return invalid("Invalid chunk body CR"),
            (BodyLf, b'\n') => Start,
            (BodyLf, _) => return invalid("Invalid chunk body LF"),
            (Trailer, _) => {
                self.keep_trailer_byte(byte)?;
                if byte == b'\r' { TrailerLf } else { Trailer }
            }
            (TrailerLf, b'\n') => {
                if self.trailer_lines >= TRAILER_FIELDS {
                    return Err(BodyError::new(
                        ErrorKind::InvalidData,
                        "chunk trailers count overflow",
                    ));
                }
                self.trailer_lines += 1;
                self.keep_trailer_byte(byte)?;
                EndCr
            }
            (TrailerLf, _) => return invalid("Invalid trailer end LF"),
            (EndCr, b'\r') => {
                if self.trailers.is_some() {
                    self.keep_trailer_byte(byte)?;
                }
                EndLf
            }
            (EndCr, _) => {
                match self.trailers.as_mut() {
                    // hyper checks no limit on a trailer's first byte.
                    None => {
                        let mut raw = BytesMut::with_capacity(64);
                        raw.put_u8(byte);
                        self.trailers = Some(raw);
                    }
                    Some(_) => self.keep_trailer_byte(byte)?,
                }
                Trailer
            }
            (EndLf, b'\n') => {
                if self.trailers.is_some() {
                    self.keep_trailer_byte(byte)?;
                }
                End
            }
            (EndLf, _) => return invalid("Invalid chunk end LF"),
            // Handled before a byte is read.
            (Body | End, _) => self.state,
        };
        Ok(Step::Next(next))
    }

    fn keep_trailer_byte(&mut self, byte: u8) -> Result<(), BodyError> {
        let raw = self.trailers.get_or_insert_with(BytesMut::new);
        raw.put_u8(byte);
        if raw.len() >= TRAILER_LIMIT {
            return Err(BodyError::new(
                ErrorKind::InvalidData,
                "chunk trailers bytes over limit",
            ));
        }
        Ok(())
    }
}

fn hex(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => digit - b'A' + 10,
    }
}

/// The trailer fields collected in `raw` (`lines` CRLF-ended lines).
fn trailer_fields(raw: &[u8], lines: usize) -> Result<HeaderMap, BodyError> {
    let invalid = BodyError::new(ErrorKind::InvalidInput, "invalid trailer fields");
    let mut fields = vec![httparse::EMPTY_HEADER; lines];
    let Ok(httparse::Status::Complete((_, fields))) = httparse::parse_headers(raw, &mut fields)
    else {
        return Err(invalid);
    };
    let mut trailers = HeaderMap::with_capacity(fields.len());
    for field in fields.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes()).map_err(|_| invalid)?;
        let value = HeaderValue::from_bytes(field.value).map_err(|_| invalid)?;
        trailers.append(name, value);
    }
    Ok(trailers)
}
