//! A response body's framing: how many of the bytes that follow the head
//! belong to it, and where it ends.

use bytes::BytesMut;

use super::chunked::Chunked;
use super::frame::{BodyError, Decoded};
use super::head::BodyFraming;

/// Where one response body stands.
#[derive(Debug)]
pub struct BodyDecoder(Kind);

#[derive(Debug)]
enum Kind {
    /// This many bytes are still to come.
    Length(u64),
    Chunked(Box<Chunked>),
    /// Until the connection closes; `true` once it did.
    Eof(bool),
}

impl BodyDecoder {
    /// The decoder for a body framed as `framing`.
    pub fn new(framing: BodyFraming) -> Self {
        BodyDecoder(match framing {
            BodyFraming::Length(n) => Kind::Length(n),
            BodyFraming::Chunked => Kind::Chunked(Box::new(Chunked::new())),
            BodyFraming::CloseDelimited => Kind::Eof(false),
        })
    }

    /// Whether the body is complete.
    pub fn is_end(&self) -> bool {
        match &self.0 {
            Kind::Length(n) => *n == 0,
            Kind::Chunked(c) => c.is_end(),
            Kind::Eof(closed) => *closed,
        }
    }

    /// Take the body's next part out of `buf`. `eof`: the connection is
    /// closed, nothing more will come after what `buf` holds.
    pub fn decode(&mut self, buf: &mut BytesMut, eof: bool) -> Result<Decoded, BodyError> {
        match &mut self.0 {
            Kind::Length(0) => Ok(Decoded::End),
            Kind::Length(left) => {
                if buf.is_empty() {
                    return if eof {
                        Err(BodyError::INCOMPLETE)
                    } else {
                        Ok(Decoded::NeedMore)
                    };
                }
                let take = usize::try_from(*left).unwrap_or(usize::MAX).min(buf.len());
                *left -= take as u64;
                Ok(Decoded::Data(buf.split_to(take).freeze()))
            }
            Kind::Chunked(chunked) => chunked.decode(buf, eof),
            Kind::Eof(true) => Ok(Decoded::End),
            Kind::Eof(closed) => {
                if !buf.is_empty() {
                    Ok(Decoded::Data(buf.split().freeze()))
                } else if eof {
                    *closed = true;
                    Ok(Decoded::End)
                } else {
                    Ok(Decoded::NeedMore)
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
