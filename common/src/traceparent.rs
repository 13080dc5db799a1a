//! The W3C Trace Context `traceparent` header (version `00`): parsed from
//! what a client sent, started fresh, and written for the next hop.
//!
//! The gateway accepts a client's trace or starts one, and the services
//! continue it; both read the header with [`TraceParent::from_headers`] so
//! an invalid header is refused the same way everywhere. The rules are the
//! W3C recommendation's: lower-case hex only, the all-zero trace id and
//! parent id are invalid, version `ff` is invalid, a later version is read
//! by its first 55 characters, and more than one `traceparent` header makes
//! the whole thing invalid (a new trace starts).

use std::fmt;

use http::{HeaderMap, HeaderName, HeaderValue};
use rand::RngCore;

/// The header name.
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
/// The companion header, vendor state; dropped when the trace restarts.
pub const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// The `sampled` bit of the trace flags.
pub const SAMPLED: u8 = 0x01;

/// A trace id (16 bytes, never all zero).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceId(pub [u8; 16]);

/// A span id (8 bytes, never all zero).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpanId(pub [u8; 8]);

/// A valid `traceparent`: the trace, the caller's span, the flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    /// The trace the request belongs to.
    pub trace_id: TraceId,
    /// The span of the caller (the next hop's parent).
    pub parent_id: SpanId,
    /// Trace flags; only [`SAMPLED`] is defined (others are zeroed, as
    /// version `00` requires).
    pub flags: u8,
}

impl TraceParent {
    /// The one valid `traceparent` among `headers`; `None` when absent,
    /// repeated or invalid.
    pub fn from_headers(headers: &HeaderMap) -> Option<TraceParent> {
        let mut values = headers.get_all(TRACEPARENT).iter();
        let first = values.next()?;
        if values.next().is_some() {
            return None;
        }
        TraceParent::parse(first.as_bytes())
    }

    /// Parse one header value.
    pub fn parse(value: &[u8]) -> Option<TraceParent> {
        if value.len() < 55 {
            return None;
        }
        let version = hex_byte(&value[0..2])?;
        if version == 0xff || value[2] != b'-' || value[35] != b'-' || value[52] != b'-' {
            return None;
        }
        // Version 00 is exactly 55 characters; a later version may carry
        // more after another dash, and is read as 00.
        if (version == 0 && value.len() != 55) || (value.len() > 55 && value[55] != b'-') {
            return None;
        }
        let mut trace_id = [0u8; 16];
        hex_into(&value[3..35], &mut trace_id)?;
        let mut parent_id = [0u8; 8];
        hex_into(&value[36..52], &mut parent_id)?;
        let flags = hex_byte(&value[53..55])?;
        if trace_id == [0; 16] || parent_id == [0; 8] {
            return None;
        }
        Some(TraceParent {
            trace_id: TraceId(trace_id),
            parent_id: SpanId(parent_id),
            flags: flags & SAMPLED,
        })
    }

    /// A new trace (random trace id and span id) with `flags`.
    pub fn start(flags: u8) -> TraceParent {
        TraceParent {
            trace_id: TraceId::random(),
            parent_id: SpanId::random(),
            flags: flags & SAMPLED,
        }
    }

    /// The same trace with `span` as the parent of the next hop.
    pub fn child(self, span: SpanId) -> TraceParent {
        TraceParent {
            parent_id: span,
            ..self
        }
    }

    /// Whether the caller may have recorded (the `sampled` flag).
    pub fn sampled(self) -> bool {
        self.flags & SAMPLED != 0
    }

    /// The header value (`00-<trace>-<span>-<flags>`).
    pub fn to_header_value(self) -> HeaderValue {
        let mut out = [0u8; 55];
        out[0] = b'0';
        out[1] = b'0';
        out[2] = b'-';
        write_hex(&self.trace_id.0, &mut out[3..35]);
        out[35] = b'-';
        write_hex(&self.parent_id.0, &mut out[36..52]);
        out[52] = b'-';
        write_hex(&[self.flags], &mut out[53..55]);
        // Only hex digits and dashes: always a valid header value.
        HeaderValue::from_bytes(&out).unwrap_or_else(|_| HeaderValue::from_static("-"))
    }
}

impl TraceId {
    /// A random, non-zero trace id.
    pub fn random() -> TraceId {
        let mut bytes = [0u8; 16];
        while bytes == [0; 16] {
            rand::rng().fill_bytes(&mut bytes);
        }
        TraceId(bytes)
    }

    /// The 32 lower-case hex digits, without allocating.
    pub fn to_hex(self) -> HexId<32> {
        let mut out = [0u8; 32];
        write_hex(&self.0, &mut out);
        HexId(out)
    }
}

impl SpanId {
    /// A random, non-zero span id.
    pub fn random() -> SpanId {
        let mut bytes = [0u8; 8];
        while bytes == [0; 8] {
            rand::rng().fill_bytes(&mut bytes);
        }
        SpanId(bytes)
    }

    /// The 16 lower-case hex digits, without allocating.
    pub fn to_hex(self) -> HexId<16> {
        let mut out = [0u8; 16];
        write_hex(&self.0, &mut out);
        HexId(out)
    }
}

/// An id as lower-case hex, kept inline (log fields and span attributes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HexId<const N: usize>([u8; N]);

impl<const N: usize> HexId<N> {
    /// The digits as text.
    pub fn as_str(&self) -> &str {
        // Written by `write_hex` only: ASCII.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl<const N: usize> fmt::Display for HexId<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<const N: usize> fmt::Debug for HexId<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.to_hex().as_str())
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.to_hex().as_str())
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn write_hex(bytes: &[u8], out: &mut [u8]) {
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 0x0f)];
    }
}

/// One lower-case hex digit (the spec refuses upper case).
fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

fn hex_byte(pair: &[u8]) -> Option<u8> {
    Some(hex_digit(pair[0])? << 4 | hex_digit(pair[1])?)
}

fn hex_into(digits: &[u8], out: &mut [u8]) -> Option<()> {
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = hex_byte(&digits[2 * i..2 * i + 2])?;
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_valid_header_is_read_and_written_back_unchanged() {
        let tp = TraceParent::parse(VALID.as_bytes()).expect("valid");
        assert_eq!(tp.trace_id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(tp.parent_id.to_string(), "00f067aa0ba902b7");
        assert!(tp.sampled());
        assert_eq!(tp.to_header_value(), VALID);
    }

    #[test]
    fn invalid_headers_are_refused() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            // Upper case.
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            // All-zero trace id / parent id.
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            // Version ff, non-hex version.
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            // Version 00 with anything after the flags.
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            // Wrong separators, non-hex flags.
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
            // A later version whose extra part is not dash-separated.
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
        ] {
            assert_eq!(TraceParent::parse(bad.as_bytes()), None, "{bad:?}");
        }
    }

    #[test]
    fn a_later_version_is_read_by_its_first_55_characters() {
        let tp = TraceParent::parse(
            b"cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds",
        )
        .expect("future version");
        assert_eq!(tp.to_header_value(), VALID);
    }

    #[test]
    fn unknown_flags_are_zeroed() {
        let tp = TraceParent::parse(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff")
            .expect("valid");
        assert_eq!(tp.flags, SAMPLED);
    }

    #[test]
    fn two_traceparent_headers_are_refused() {
        let mut headers = HeaderMap::new();
        headers.append(TRACEPARENT, HeaderValue::from_static(VALID));
        assert!(TraceParent::from_headers(&headers).is_some());
        headers.append(TRACEPARENT, HeaderValue::from_static(VALID));
        assert_eq!(TraceParent::from_headers(&headers), None);
    }

    #[test]
    fn a_started_trace_is_valid_and_a_child_keeps_the_trace() {
        let tp = TraceParent::start(SAMPLED);
        let again = TraceParent::parse(tp.to_header_value().as_bytes()).expect("valid");
        assert_eq!(again, tp);
        let span = SpanId::random();
        let child = tp.child(span);
        assert_eq!(child.trace_id, tp.trace_id);
        assert_eq!(child.parent_id, span);
        assert_ne!(TraceParent::start(0).trace_id, tp.trace_id);
    }
}
