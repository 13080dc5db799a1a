//! One access-log line, formatted straight into a byte buffer: the same
//! JSON object, key for key and byte for byte, as tracing-subscriber's JSON
//! formatter wrote for the `gateway::access` event (`flatten_event`), so
//! log pipelines see no change, without its per-event field visitor,
//! `BTreeMap` and `serde_json::Value`s.

use std::cell::RefCell;
use std::io::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::time::{SystemTime, UNIX_EPOCH};

/// The fields of one access-log line.
#[derive(Debug, Clone)]
pub(crate) struct Line<'a> {
    /// When the line is written (the JSON `timestamp`).
    pub(crate) time: SystemTime,
    /// The request id.
    pub(crate) request_id: &'a str,
    /// The trace id, or `-`.
    pub(crate) trace_id: &'a str,
    /// The client's address.
    pub(crate) client_ip: IpAddr,
    /// The method.
    pub(crate) method: &'a str,
    /// The path, without the query.
    pub(crate) path: &'a str,
    /// The route prefix, or `-`.
    pub(crate) route: &'a str,
    /// The endpoint that answered (`-` when none).
    pub(crate) upstream: Option<SocketAddr>,
    /// The response status.
    pub(crate) status: u16,
    /// Response body bytes sent.
    pub(crate) bytes: u64,
    /// Time from request head to the end of the response, in milliseconds.
    pub(crate) duration_ms: f64,
    /// The upstream's body broke off.
    pub(crate) aborted: bool,
}

/// Append `line` to `out` as one JSON object and a newline.
pub(crate) fn format(out: &mut Vec<u8>, line: &Line<'_>) {
    out.extend_from_slice(b"{\"timestamp\":\"");
    timestamp(out, line.time);
    out.extend_from_slice(b"\",\"level\":\"INFO\",\"message\":\"request\"");
    strings(
        out,
        &[("request_id", line.request_id), ("trace_id", line.trace_id)],
    );
    key(out, "client_ip");
    address(out, &line.client_ip);
    strings(
        out,
        &[
            ("method", line.method),
            ("path", line.path),
            ("route", line.route),
        ],
    );
    key(out, "upstream");
    match &line.upstream {
        Some(addr) => address(out, addr),
        None => out.extend_from_slice(b"\"-\""),
    }
    key(out, "status");
    out.extend_from_slice(itoa::Buffer::new().format(line.status).as_bytes());
    key(out, "bytes");
    out.extend_from_slice(itoa::Buffer::new().format(line.bytes).as_bytes());
    key(out, "duration_ms");
    number(out, line.duration_ms);
    key(out, "aborted");
    out.extend_from_slice(if line.aborted { b"true" } else { b"false" });
    out.extend_from_slice(b",\"target\":\"gateway::access\"}\n");
}

/// The same line as a tracing event, for the pretty format without a file
/// (`target` and `message` as above; the subscriber adds the time).
pub(crate) fn trace(line: &Line<'_>) {
    let upstream = line
        .upstream
        .map_or_else(|| "-".to_string(), |a| a.to_string());
    tracing::info!(
        target: "gateway::access",
        request_id = line.request_id,
        trace_id = line.trace_id,
        client_ip = %line.client_ip,
        method = line.method,
        path = %line.path,
        route = %line.route,
        upstream = %upstream,
        status = line.status,
        bytes = line.bytes,
        duration_ms = line.duration_ms,
        aborted = line.aborted,
        "request"
    );
}

/// `,"name":` (the names are plain ASCII: nothing to escape).
fn key(out: &mut Vec<u8>, name: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
}

/// `,"name":"value"` for each pair.
fn strings(out: &mut Vec<u8>, fields: &[(&str, &str)]) {
    for (name, value) in fields {
        key(out, name);
        string(out, value);
    }
}

/// An address as a JSON string: digits, dots, colons, brackets and `%`,
/// nothing to escape.
fn address(out: &mut Vec<u8>, addr: &dyn std::fmt::Display) {
    out.push(b'"');
    let _ = write!(out, "{addr}");
    out.push(b'"');
}

/// A float as serde_json writes it (ryu's shortest form; `null` when not
/// finite, which a duration never is).
fn number(out: &mut Vec<u8>, value: f64) {
    if value.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(value).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// A JSON string, escaped as serde_json does: `"`, `\` and the control
/// characters; everything else (UTF-8 included) as is.
fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        start = i + 1;
        if short.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(short);
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

thread_local! {
    /// The second last formatted and its `YYYY-MM-DDTHH:MM:SS.` text:
    /// the calendar arithmetic runs once a second per thread.
    static SECOND: RefCell<(u64, Vec<u8>)> = const { RefCell::new((u64::MAX, Vec::new())) };
}

/// `time` in UTC as tracing-subscriber prints it: RFC 3339 with
/// microseconds and `Z` (`2026-11-30T22:40:46.123456Z`).
fn timestamp(out: &mut Vec<u8>, time: SystemTime) {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    SECOND.with(|cell| {
        let mut cached = cell.borrow_mut();
        let (second, text) = &mut *cached;
        if *second != secs {
            text.clear();
            second_prefix(text, secs);
            *second = secs;
        }
        out.extend_from_slice(text);
    });
    let micros = since.subsec_micros();
    let mut digits = [b'0'; 6];
    let mut rest = micros;
    for d in digits.iter_mut().rev() {
        // `rest % 10` is below 10: the cast cannot truncate.
        *d = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    out.extend_from_slice(&digits);
    out.push(b'Z');
}

/// `YYYY-MM-DDTHH:MM:SS.` for `secs` after the Unix epoch.
fn second_prefix(out: &mut Vec<u8>, secs: u64) {
    let days = secs / 86_400;
    let of_day = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    );
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard
/// Hinnant's `civil_from_days`, for non-negative days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn sample() -> Line<'static> {
        Line {
            time: UNIX_EPOCH + Duration::from_micros(1_796_078_446_000_042),
            request_id: "id-1",
            trace_id: "-",
            client_ip: IpAddr::from([127, 0, 0, 1]),
            method: "GET",
            path: "/users/me",
            route: "/users/",
            upstream: Some(SocketAddr::from(([10, 0, 0, 2], 8080))),
            status: 200,
            bytes: 1234,
            duration_ms: 0.25,
            aborted: false,
        }
    }

    #[test]
    fn a_line_is_the_json_object_tracing_wrote() {
        let mut out = Vec::new();
        format(&mut out, &sample());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"timestamp\":\"2026-11-30T22:40:46.000042Z\",\"level\":\"INFO\",\"message\":\"request\",\
             \"request_id\":\"id-1\",\"trace_id\":\"-\",\"client_ip\":\"127.0.0.1\",\"method\":\"GET\",\
             \"path\":\"/users/me\",\"route\":\"/users/\",\"upstream\":\"10.0.0.2:8080\",\"status\":200,\
             \"bytes\":1234,\"duration_ms\":0.25,\"aborted\":false,\"target\":\"gateway::access\"}\n"
        );
    }

    /// What tracing-subscriber's JSON formatter (set up as
    /// `common::telemetry` does) writes for the same event.
    fn through_tracing(line: &Line<'_>) -> String {
        #[derive(Clone, Default)]
        struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Capture {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let capture = Capture::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_target(true)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || trace(line));
        String::from_utf8(capture.0.lock().unwrap().clone()).unwrap()
    }

    /// The line without its timestamp's value (tracing reads the clock itself).
    fn untimed(text: &str) -> String {
        let start = text.find("\"timestamp\":\"").unwrap() + 13;
        let end = start + text[start..].find('"').unwrap();
        format!("{}{}", &text[..start], &text[end..])
    }

    #[test]
    fn lines_are_byte_for_byte_what_tracing_wrote() {
        let v6 = SocketAddr::from(([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], 443));
        let mut lines = vec![sample()];
        let mut other = sample();
        other.path = "/odd \"path\"\\\u{1}é\t";
        other.client_ip = v6.ip();
        other.upstream = Some(v6);
        other.duration_ms = 1.0;
        other.aborted = true;
        lines.push(other);
        let mut tiny = sample();
        tiny.duration_ms = 0.000_012_3;
        tiny.upstream = None;
        tiny.bytes = u64::MAX;
        lines.push(tiny);
        let mut long = sample();
        long.duration_ms = 123_456.789_012_345;
        long.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
        lines.push(long);
        for line in &lines {
            let mut out = Vec::new();
            format(&mut out, line);
            let ours = String::from_utf8(out).unwrap();
            assert_eq!(untimed(&ours), untimed(&through_tracing(line)));
        }
    }

    #[test]
    fn strings_are_escaped_as_serde_json_does() {
        let nasty = "a\"b\\c\nd\te\u{1}f\u{7f}é\r\u{8}\u{c}";
        let mut line = sample();
        line.path = nasty;
        line.upstream = None;
        line.aborted = true;
        line.duration_ms = 1.0;
        let mut out = Vec::new();
        format(&mut out, &line);
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(&format!(
            "\"path\":{}",
            serde_json::to_string(nasty).unwrap()
        )));
        assert!(text.contains("\"upstream\":\"-\""));
        assert!(text.contains("\"duration_ms\":1.0,\"aborted\":true"));
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["path"], nasty);
    }

    #[test]
    fn timestamps_match_the_calendar() {
        for (secs, text) in [
            (0, "1970-01-01T00:00:00."),
            (951_782_400, "2000-02-29T00:00:00."),
            (4_107_542_399, "2100-02-28T23:59:59."),
            (1_709_251_199, "2024-02-29T23:59:59."),
        ] {
            let mut out = Vec::new();
            second_prefix(&mut out, secs);
            assert_eq!(String::from_utf8(out).unwrap(), text);
        }
    }
}
