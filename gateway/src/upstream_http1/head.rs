//! An upstream's response head: status line and fields parsed with
//! `httparse`, informational responses skipped, and the framing of the
//! body that follows decided (hyper's `Client::parse` and
//! `Client::decoder`).

use std::ops::Range;

use bytes::{Bytes, BytesMut};
use http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version};

/// Most fields in one head (hyper's default, `h1_max_headers` unset).
const MAX_FIELDS: usize = 100;

/// A field name this long or longer makes the head too large.
const MAX_NAME: usize = 1 << 16;

/// Largest `Content-Length` (hyper keeps the two values above it as
/// markers for chunked and close-delimited bodies).
const MAX_LENGTH: u64 = u64::MAX - 2;

/// How large a response head may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadLimits {
    /// The connection's read buffer: a head that does not fit is refused
    /// (hyper's `max_buf_size`; the gateway uses 80 KiB).
    pub max_head: usize,
}

/// How the body after a head ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// Exactly this many bytes (zero for the responses that have no body).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Everything until the upstream closes the connection.
    CloseDelimited,
}

/// A parsed response head.
#[derive(Debug, Clone)]
pub struct ResponseHead {
    /// The status code (never informational, except `101`).
    pub status: StatusCode,
    /// HTTP/1.1 or HTTP/1.0.
    pub version: Version,
    /// The reason phrase when it differs from the status code's canonical
    /// one (hyper keeps it as `hyper::ext::ReasonPhrase`).
    pub reason: Option<Bytes>,
    /// The header fields, in the order received.
    pub headers: HeaderMap,
    /// How the body ends.
    pub framing: BodyFraming,
    /// Whether the connection may carry another exchange after this one
    /// (HTTP/1.1 without `Connection: close`, or HTTP/1.0 with
    /// `Connection: keep-alive`; never after an upgrade).
    pub keep_alive: bool,
    /// The connection now belongs to another protocol (`101`, or a `2xx`
    /// to `CONNECT`).
    pub upgrade: bool,
}

/// Why a response head was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    /// Longer than the read buffer, more than 100 fields, or a field name
    /// of 64 KiB or more.
    #[error("message head is too large")]
    TooLarge,
    /// A malformed field (name, value or line ending).
    #[error("invalid HTTP header parsed")]
    Header,
    /// A malformed or out-of-range status code.
    #[error("invalid HTTP status-code parsed")]
    Status,
    /// Not `HTTP/1.0` or `HTTP/1.1`.
    #[error("invalid HTTP version parsed")]
    Version,
    /// `Content-Length` values that are not one decimal number.
    #[error("invalid content-length parsed")]
    ContentLength,
    /// `Transfer-Encoding` on an HTTP/1.0 response.
    #[error("unexpected transfer-encoding parsed")]
    TransferEncodingUnexpected,
}

impl From<httparse::Error> for HeadError {
    fn from(e: httparse::Error) -> Self {
        match e {
            httparse::Error::Status => HeadError::Status,
            httparse::Error::TooManyHeaders => HeadError::TooLarge,
            httparse::Error::Version => HeadError::Version,
            httparse::Error::HeaderName
            | httparse::Error::HeaderValue
            | httparse::Error::NewLine
            | httparse::Error::Token => HeadError::Header,
        }
    }
}

/// Parse the response head at the start of `buf`, the answer to a
/// `method` request. Informational responses (`1xx` but `101`) are taken
/// out of `buf` and skipped. `Ok(None)` when more bytes are needed; on
/// success the head's bytes are taken out of `buf` (the body's follow).
///
/// Only the first `limits.max_head` bytes are looked at, so the outcome
/// does not depend on how much of the stream has arrived.
pub fn parse_response_head(
    buf: &mut BytesMut,
    method: &Method,
    limits: &HeadLimits,
) -> Result<Option<ResponseHead>, HeadError> {
    loop {
        let Some(raw) = parse_raw(buf, limits)? else {
            return Ok(None);
        };
        if let Some(head) = raw.into_head(method)? {
            return Ok(Some(head));
        }
        // An informational response, skipped.
        if buf.is_empty() {
            return Ok(None);
        }
    }
}

/// Where each field's name and value lie in the head's bytes.
type FieldSpans = [(Range<usize>, Range<usize>); MAX_FIELDS];

/// A complete head, its fields not yet typed.
struct RawHead {
    bytes: Bytes,
    code: u16,
    version: u8,
    reason: Option<Bytes>,
    spans: FieldSpans,
    fields: usize,
}

fn parse_raw(buf: &mut BytesMut, limits: &HeadLimits) -> Result<Option<RawHead>, HeadError> {
    let window = &buf[..buf.len().min(limits.max_head)];
    let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
    let mut response = httparse::Response::new(&mut fields);
    let len = match response.parse(window)? {
        httparse::Status::Complete(len) => len,
        httparse::Status::Partial if window.len() >= limits.max_head => {
            return Err(HeadError::TooLarge);
        }
        httparse::Status::Partial => return Ok(None),
    };
    // httparse hands out slices of `window`; their offsets survive the
    // split below.
    let span = |part: &[u8]| {
        let start = (part.as_ptr() as usize).checked_sub(window.as_ptr() as usize)?;
        Some(start..start + part.len())
    };
    let mut spans: FieldSpans = std::array::from_fn(|_| (0..0, 0..0));
    for (field, slot) in response.headers.iter().zip(spans.iter_mut()) {
        if field.name.len() >= MAX_NAME {
            return Err(HeadError::TooLarge);
        }
        let (Some(name), Some(value)) = (span(field.name.as_bytes()), span(field.value)) else {
            return Err(HeadError::Header);
        };
        *slot = (name, value);
    }
    let code = response.code.unwrap_or_default();
    let canonical = StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason());
    // Kept only when it says something else (rare): copied, as hyper does.
    let reason = response
        .reason
        .filter(|r| Some(*r) != canonical)
        .map(|r| Bytes::copy_from_slice(r.as_bytes()));
    let (version, fields) = (response.version.unwrap_or_default(), response.headers.len());
    Ok(Some(RawHead {
        bytes: buf.split_to(len).freeze(),
        code,
        version,
        reason,
        spans,
        fields,
    }))
}

impl RawHead {
    /// The typed head, or `None` for an informational response.
    fn into_head(self, method: &Method) -> Result<Option<ResponseHead>, HeadError> {
        let status = StatusCode::from_u16(self.code).map_err(|_| HeadError::Status)?;
        let version = if self.version == 1 {
            Version::HTTP_11
        } else {
            Version::HTTP_10
        };
        let mut headers = HeaderMap::with_capacity(self.fields);
        let mut keep_alive = version == Version::HTTP_11;
        let mut saw_close = false;
        for (name, value) in &self.spans[..self.fields] {
            let name =
                HeaderName::from_bytes(&self.bytes[name.clone()]).map_err(|_| HeadError::Header)?;
            let value = HeaderValue::from_maybe_shared(self.bytes.slice(value.clone()))
                .map_err(|_| HeadError::Header)?;
            if name == CONNECTION {
                // Once one `Connection` line asks to close, a later
                // `keep-alive` does not undo it.
                if saw_close || list_has(&value, "close") {
                    saw_close = true;
                    keep_alive = false;
                } else if !keep_alive {
                    keep_alive = list_has(&value, "keep-alive");
                }
            }
            headers.append(name, value);
        }
        let Some((framing, upgrade)) = framing(status, version, method, &headers)? else {
            return Ok(None);
        };
        Ok(Some(ResponseHead {
            status,
            version,
            reason: self.reason,
            headers,
            framing,
            keep_alive: keep_alive && !upgrade,
            upgrade,
        }))
    }
}

/// How the body of a response with this status, version and fields to a
/// `method` request ends, and whether it is an upgrade; `None` for an
/// informational response (skipped).
fn framing(
    status: StatusCode,
    version: Version,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Option<(BodyFraming, bool)>, HeadError> {
    match status.as_u16() {
        101 => return Ok(Some((BodyFraming::Length(0), true))),
        100..=199 => return Ok(None),
        204 | 304 => return Ok(Some((BodyFraming::Length(0), false))),
        _ => {}
    }
    if method == Method::HEAD {
        return Ok(Some((BodyFraming::Length(0), false)));
    }
    if method == Method::CONNECT && status.is_success() {
        return Ok(Some((BodyFraming::Length(0), true)));
    }
    if headers.contains_key(TRANSFER_ENCODING) {
        if version == Version::HTTP_10 {
            return Err(HeadError::TransferEncodingUnexpected);
        }
        let chunked = headers
            .get_all(TRANSFER_ENCODING)
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        let framing = if chunked {
            BodyFraming::Chunked
        } else {
            BodyFraming::CloseDelimited
        };
        return Ok(Some((framing, false)));
    }
    if !headers.contains_key(CONTENT_LENGTH) {
        return Ok(Some((BodyFraming::CloseDelimited, false)));
    }
    match content_length(headers) {
        Some(len) if len <= MAX_LENGTH => Ok(Some((BodyFraming::Length(len), false))),
        Some(_) => Err(HeadError::TooLarge),
        None => Err(HeadError::ContentLength),
    }
}

/// The one value of every `Content-Length` field (comma-separated lists
/// included), or `None` when one is not a decimal number or two differ.
fn content_length(headers: &HeaderMap) -> Option<u64> {
    let mut found = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        for item in value.to_str().ok()?.split(',') {
            let n = decimal(item.trim().as_bytes())?;
            if found.is_some_and(|f| f != n) {
                return None;
            }
            found = Some(n);
        }
    }
    found
}

/// Digits only: no sign, no space, no empty string; `None` on overflow.
fn decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        d.is_ascii_digit()
            .then(|| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))
            .flatten()
    })
}

/// Whether a comma-separated `value` lists `token` (case-insensitive).
fn list_has(value: &HeaderValue, token: &str) -> bool {
    value
        .to_str()
        .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
