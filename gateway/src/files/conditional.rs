//! Validators and conditional requests as NGINX's static module answers
//! them: `ETag` `"<mtime hex>-<size hex>"`, `Last-Modified`,
//! `If-Match` / `If-Unmodified-Since` (`412`), `If-None-Match` /
//! `If-Modified-Since` (`304`; the date compared exactly, NGINX's default
//! `if_modified_since exact`), one `Range` (`206` / `416`, `If-Range`), and
//! the `expires` headers.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue, header};

use crate::config::files::Expires;

/// What the validators are made of: the file's size and modification time
/// (whole seconds since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Validators {
    /// Size in bytes.
    pub(crate) size: u64,
    /// Modification time, seconds since the epoch.
    pub(crate) mtime: u64,
}

impl Validators {
    /// From a file's metadata.
    pub(crate) fn of(meta: &std::fs::Metadata) -> Self {
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        Validators {
            size: meta.len(),
            mtime,
        }
    }

    /// `"<mtime hex>-<size hex>"`, as NGINX writes it.
    pub(crate) fn etag(&self) -> String {
        format!("\"{:x}-{:x}\"", self.mtime, self.size)
    }

    /// The `Last-Modified` date.
    pub(crate) fn last_modified(&self) -> String {
        httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(self.mtime))
    }
}

/// What the conditional headers decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Precondition {
    /// Serve the representation.
    Serve,
    /// `304 Not Modified`.
    NotModified,
    /// `412 Precondition Failed`.
    Failed,
}

fn text(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn date(headers: &HeaderMap, name: header::HeaderName) -> Option<u64> {
    parse_date(text(headers, name)?)
}

/// An HTTP date in seconds since the epoch. As NGINX, a wrong day of the
/// week (`Fri, 02 Jan 2025`) is not held against the date.
pub(crate) fn parse_date(text: &str) -> Option<u64> {
    let text = text.trim();
    let secs = |t: SystemTime| t.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs());
    if let Ok(t) = httpdate::parse_http_date(text) {
        return secs(t);
    }
    let rest = text.get(3..).filter(|r| r.starts_with(", "))?;
    ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        .iter()
        .find_map(|day| httpdate::parse_http_date(&format!("{day}{rest}")).ok())
        .and_then(secs)
}

/// Whether an `If-Match`/`If-None-Match` list matches `etag` (`*` always
/// does; `weak`: `W/"x"` matches `"x"`).
fn list_matches(list: &str, etag: &str, weak: bool) -> bool {
    list.split(',').map(str::trim).any(|tag| {
        if tag == "*" {
            return true;
        }
        match tag.strip_prefix("W/") {
            Some(t) => weak && t == etag,
            None => tag == etag,
        }
    })
}

/// Evaluate the preconditions in RFC 9110 §13.2.2 order.
pub(crate) fn precondition(headers: &HeaderMap, v: &Validators) -> Precondition {
    let etag = v.etag();
    if let Some(list) = text(headers, header::IF_MATCH) {
        if !list_matches(list, &etag, false) {
            return Precondition::Failed;
        }
    } else if let Some(since) = date(headers, header::IF_UNMODIFIED_SINCE)
        && v.mtime > since
    {
        return Precondition::Failed;
    }
    if let Some(list) = text(headers, header::IF_NONE_MATCH) {
        if list_matches(list, &etag, true) {
            return Precondition::NotModified;
        }
        return Precondition::Serve;
    }
    if date(headers, header::IF_MODIFIED_SINCE) == Some(v.mtime) {
        return Precondition::NotModified;
    }
    Precondition::Serve
}

/// What the `Range` header asks of a body of a given size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RangeAnswer {
    /// No usable range: the whole body, `200` (no `Range`, another unit,
    /// several ranges, or an `If-Range` that does not match).
    Whole,
    /// `206` with bytes `start..=end`.
    Part {
        /// First byte.
        start: u64,
        /// Last byte (inclusive).
        end: u64,
    },
    /// `416` (`Content-Range: bytes */size`).
    Unsatisfiable,
}

/// The answer to `Range` (and `If-Range`) for the representation `v`.
pub(crate) fn range(headers: &HeaderMap, v: &Validators) -> RangeAnswer {
    let Some(value) = headers.get(header::RANGE) else {
        return RangeAnswer::Whole;
    };
    if let Some(cond) = headers.get(header::IF_RANGE) {
        let ok = cond.to_str().is_ok_and(|c| {
            let c = c.trim();
            if c.starts_with('"') {
                c == v.etag()
            } else {
                parse_date(c) == Some(v.mtime)
            }
        });
        if !ok {
            return RangeAnswer::Whole;
        }
    }
    let Ok(value) = value.to_str() else {
        return RangeAnswer::Unsatisfiable;
    };
    let Some(spec) = value
        .get(..6)
        .filter(|p| p.eq_ignore_ascii_case("bytes="))
        .map(|_| &value[6..])
    else {
        return RangeAnswer::Whole;
    };
    let mut parts = spec.split(',').map(str::trim);
    let first = parts.next().unwrap_or("");
    let several = parts.next().is_some();
    let Some(one) = parse_one(first, v.size) else {
        return RangeAnswer::Unsatisfiable;
    };
    if several {
        // NGINX answers several ranges with multipart/byteranges; the
        // gateway sends the whole body (RFC 9110 §14.2 allows ignoring
        // Range), see docs/FROM-NGINX.md.
        return RangeAnswer::Whole;
    }
    one
}

fn parse_one(spec: &str, size: u64) -> Option<RangeAnswer> {
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let number = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    if a.is_empty() {
        let n = number(b)?;
        if n == 0 || size == 0 {
            return Some(RangeAnswer::Unsatisfiable);
        }
        return Some(RangeAnswer::Part {
            start: size.saturating_sub(n),
            end: size - 1,
        });
    }
    let start = number(a)?;
    let end = if b.is_empty() { u64::MAX } else { number(b)? };
    if start > end || start >= size {
        return Some(RangeAnswer::Unsatisfiable);
    }
    Some(RangeAnswer::Part {
        start,
        end: end.min(size - 1),
    })
}

/// Add the `expires` headers (`Expires`, `Cache-Control`) and the extra
/// `Cache-Control` directives to `headers`, at `now`.
pub(crate) fn expires_headers(
    headers: &mut HeaderMap,
    expires: Expires,
    extra: Option<&str>,
    now: SystemTime,
) {
    let (when, control): (Option<SystemTime>, Option<String>) = match expires {
        Expires::Off => (None, None),
        Expires::Epoch => (
            Some(UNIX_EPOCH + Duration::from_secs(1)),
            Some("no-cache".into()),
        ),
        Expires::Max => (
            // NGINX's "Thu, 31 Dec 2037 23:55:55 GMT".
            Some(UNIX_EPOCH + Duration::from_secs(2_145_916_555)),
            Some("max-age=315360000".into()),
        ),
        Expires::Seconds(s) if s < 0 => (
            Some(now - Duration::from_secs(s.unsigned_abs())),
            Some("no-cache".into()),
        ),
        Expires::Seconds(s) => (
            Some(now + Duration::from_secs(s.unsigned_abs())),
            Some(format!("max-age={s}")),
        ),
    };
    if let Some(t) = when
        && let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(t))
    {
        headers.insert(header::EXPIRES, v);
    }
    let control = match (control, extra) {
        (Some(c), Some(e)) => Some(format!("{c}, {e}")),
        (Some(c), None) => Some(c),
        (None, Some(e)) => Some(e.to_string()),
        (None, None) => None,
    };
    if let Some(c) = control
        && let Ok(v) = HeaderValue::from_str(&c)
    {
        headers.insert(header::CACHE_CONTROL, v);
    }
}

#[cfg(test)]
#[path = "conditional_tests.rs"]
mod tests;
