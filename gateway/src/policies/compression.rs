//! Compression (`[routes.compression]`): the response body encoded with
//! gzip (flate2), brotli or zstd, whichever the client's `Accept-Encoding`
//! rates highest (q-values honoured, `*` and `q=0` too; the route's order
//! breaks ties), streamed frame by frame with [`Encoder`].
//!
//! Only a response that may be transformed is: a body (not `HEAD`, `204`,
//! `304`, `1xx`), not a range (`206`, `Content-Range`), not encoded already
//! (`Content-Encoding`), not `Cache-Control: no-transform`, of a listed
//! content type, and not declared shorter than `min_size`. Such a response
//! gets `Vary: Accept-Encoding` whether or not this client's is compressed,
//! so that caches keep the two apart.
//!
//! BREACH hygiene: a response marked `Cache-Control: no-store` or
//! `private`, or carrying `Set-Cookie`, is never compressed. Those are the
//! responses that carry a user's secrets (tokens, profiles, session
//! cookies); compressing them next to text an attacker can reflect lets the
//! compressed length leak the secret byte by byte.
//!
//! A compressed response loses `Content-Length` (the length is not known
//! before the end) and `Accept-Ranges`, and a strong `ETag` becomes weak
//! (`"x"` -> `W/"x"`, as NGINX does): the compressed bytes are not the
//! bytes the upstream tagged, and a strong tag promises byte equality
//! (ranges, caches). So that a conditional write still matches the tag a
//! compressed `GET` returned, a weak tag in the `If-Match` of a request on
//! the route goes upstream strong again (`W/"x"` -> `"x"`): the gateway
//! gives back what it took. (`If-None-Match` needs nothing: it compares
//! weakly.)

mod encoder;

use http::header::{self, HeaderMap};
use http::{Method, StatusCode};
use metrics::Counter;

use crate::config::policies::compression::{Algorithm, CompressionConfig};

pub(crate) use encoder::Encoder;

use super::counters;
use super::{Hooks, OutgoingResponse, Policy, add_vary};

/// The counters of one encoding on one route.
#[derive(Debug, Clone)]
pub(crate) struct EncodingCounters {
    responses: Counter,
    bytes_in: Counter,
    bytes_out: Counter,
}

/// One route's compression.
#[derive(Debug)]
pub(crate) struct Compression {
    config: CompressionConfig,
    /// Indexed like [`Algorithm`]'s variants: gzip, br, zstd.
    counters: [Option<EncodingCounters>; 3],
}

fn slot(a: Algorithm) -> usize {
    match a {
        Algorithm::Gzip => 0,
        Algorithm::Brotli => 1,
        Algorithm::Zstd => 2,
    }
}

impl Compression {
    /// The policy `config` on the route labelled `route`.
    pub(crate) fn new(config: &CompressionConfig, route: &str) -> Self {
        let mut counters: [Option<EncodingCounters>; 3] = [None, None, None];
        for &a in &config.algorithms {
            let c = |name| counters::labelled(name, route, "encoding", a.token());
            counters[slot(a)] = Some(EncodingCounters {
                responses: c(counters::COMPRESSED),
                bytes_in: c(counters::COMPRESSION_IN),
                bytes_out: c(counters::COMPRESSION_OUT),
            });
        }
        Compression {
            config: config.clone(),
            counters,
        }
    }

    /// Whether the response may be compressed at all (whatever the client
    /// accepts).
    fn eligible(
        &self,
        method: &Method,
        status: StatusCode,
        headers: &HeaderMap,
        body_len: Option<u64>,
    ) -> bool {
        if method == Method::HEAD
            || status.is_informational()
            || matches!(
                status,
                StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED | StatusCode::PARTIAL_CONTENT
            )
            || headers.contains_key(header::CONTENT_RANGE)
        {
            return false;
        }
        let encoded = headers
            .get_all(header::CONTENT_ENCODING)
            .iter()
            .any(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"));
        if encoded {
            return false;
        }
        let no_transform = cache_control_has(headers, &["no-transform"]);
        if no_transform {
            return false;
        }
        if headers.contains_key(header::SET_COOKIE)
            || cache_control_has(headers, &["no-store", "private"])
        {
            return false;
        }
        let Some(content_type) = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        if !compressible(&self.config.types, content_type) {
            return false;
        }
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .or(body_len);
        declared.is_none_or(|n| n >= self.config.min_size)
    }

    fn level(&self, a: Algorithm) -> i32 {
        match a {
            Algorithm::Gzip => i32::try_from(self.config.gzip_level).unwrap_or(6),
            Algorithm::Brotli => i32::try_from(self.config.brotli_level).unwrap_or(4),
            Algorithm::Zstd => self.config.zstd_level,
        }
    }
}

impl Policy for Compression {
    fn hooks(&self) -> Hooks {
        Hooks {
            upstream_request: true,
            response: true,
            ..Hooks::default()
        }
    }

    fn on_upstream_request(&self, headers: &mut HeaderMap, _facts: &super::RequestFacts<'_>) {
        strengthen_if_match(headers);
    }

    fn on_response(&self, response: &mut OutgoingResponse<'_>) {
        let head = &mut *response.head;
        if response.encoder.is_some()
            || !self.eligible(
                &response.facts.method,
                head.status,
                &head.headers,
                response.body_len,
            )
        {
            return;
        }
        add_vary(&mut head.headers, "Accept-Encoding");
        let Some(algorithm) = choose(
            response
                .facts
                .accept_encoding
                .as_ref()
                .and_then(|v| v.to_str().ok()),
            &self.config.algorithms,
        ) else {
            return;
        };
        let Some(counters) = self.counters[slot(algorithm)].clone() else {
            return;
        };
        let Some(encoder) = Encoder::new(algorithm, self.level(algorithm), counters) else {
            return;
        };
        head.headers.remove(header::CONTENT_LENGTH);
        head.headers.remove(header::ACCEPT_RANGES);
        head.headers.insert(
            header::CONTENT_ENCODING,
            http::HeaderValue::from_static(algorithm.token()),
        );
        weaken_etag(&mut head.headers);
        response.encoder = Some(encoder);
    }
}

/// Whether a `Cache-Control` line of `headers` names one of `directives`
/// (a directive with an argument, `private="set-cookie"`, counts).
fn cache_control_has(headers: &HeaderMap, directives: &[&str]) -> bool {
    headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|d| d.split('=').next().unwrap_or_default().trim())
        .any(|d| directives.iter().any(|w| d.eq_ignore_ascii_case(w)))
}

/// A strong `ETag` (`"x"`) becomes weak (`W/"x"`); a weak one stays.
fn weaken_etag(headers: &mut HeaderMap) {
    let Some(tag) = headers.get(header::ETAG) else {
        return;
    };
    if tag.as_bytes().starts_with(b"\"") {
        let mut weak = Vec::with_capacity(tag.len() + 2);
        weak.extend_from_slice(b"W/");
        weak.extend_from_slice(tag.as_bytes());
        if let Ok(value) = http::HeaderValue::from_bytes(&weak) {
            headers.insert(header::ETAG, value);
        }
    }
}

/// Weak tags in `If-Match` go upstream strong (see the module
/// documentation); every other tag, and `*`, as they are.
fn strengthen_if_match(headers: &mut HeaderMap) {
    if !headers
        .get_all(header::IF_MATCH)
        .iter()
        .any(|v| v.as_bytes().windows(3).any(|w| w == b"W/\""))
    {
        return;
    }
    let lines: Vec<http::HeaderValue> = headers
        .get_all(header::IF_MATCH)
        .iter()
        .map(|v| match v.to_str() {
            Ok(text) => {
                let tags: Vec<&str> = text
                    .split(',')
                    .map(|t| {
                        let t = t.trim();
                        t.strip_prefix("W/")
                            .filter(|s| s.starts_with('"'))
                            .unwrap_or(t)
                    })
                    .collect();
                http::HeaderValue::from_str(&tags.join(", ")).unwrap_or_else(|_| v.clone())
            }
            Err(_) => v.clone(),
        })
        .collect();
    headers.remove(header::IF_MATCH);
    for line in lines {
        headers.append(header::IF_MATCH, line);
    }
}

/// Whether `content_type` (parameters ignored) matches one of `patterns`:
/// exact (`application/json`), any subtype (`text/*`) or a structured
/// suffix (`application/*+json`).
fn compressible(patterns: &[String], content_type: &str) -> bool {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let Some((ty, sub)) = media.split_once('/') else {
        return false;
    };
    patterns.iter().any(|p| {
        let Some((pty, psub)) = p.split_once('/') else {
            return false;
        };
        pty == ty
            && (psub == sub
                || psub == "*"
                || psub
                    .strip_prefix('*')
                    .is_some_and(|suffix| sub.ends_with(suffix)))
    })
}

/// The encoding `accept` (an `Accept-Encoding` value) rates highest among
/// `offered`, the first offered winning ties; `None` when the client wants
/// none of them (or sent no `Accept-Encoding`: RFC 9110 allows any coding
/// then, but curl and health checkers that send none expect plain bodies).
fn choose(accept: Option<&str>, offered: &[Algorithm]) -> Option<Algorithm> {
    let accept = accept?;
    // q-values in thousandths; `None`: not named.
    let mut named: [Option<u16>; 3] = [None; 3];
    let mut star: Option<u16> = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| {
                let (k, v) = p.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("q")
                    .then(|| parse_q(v.trim()))
            })
            .next()
            .unwrap_or(Some(1000))
            .unwrap_or(0);
        match coding.as_str() {
            "gzip" | "x-gzip" => named[0] = Some(q),
            "br" => named[1] = Some(q),
            "zstd" => named[2] = Some(q),
            "*" => star = Some(q),
            _ => {}
        }
    }
    let mut best: Option<(u16, Algorithm)> = None;
    for &a in offered {
        let q = named[slot(a)].or(star).unwrap_or(0);
        if q > 0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, a));
        }
    }
    best.map(|(_, a)| a)
}

/// A q-value (`0`, `0.5`, `1`, `1.000`) in thousandths; `None` if invalid.
fn parse_q(text: &str) -> Option<u16> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u16 = match int {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    let mut thousandths = 0u16;
    for (i, b) in frac.bytes().enumerate() {
        thousandths += u16::from(b - b'0') * [100, 10, 1][i];
    }
    if whole == 1000 && thousandths > 0 {
        return None;
    }
    Some(whole + thousandths)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Algorithm::{Brotli, Gzip, Zstd};

    const ALL: &[Algorithm] = &[Zstd, Brotli, Gzip];

    #[test]
    fn the_highest_q_wins_and_the_route_order_breaks_ties() {
        assert_eq!(choose(Some("gzip, deflate, br, zstd"), ALL), Some(Zstd));
        assert_eq!(choose(Some("gzip, br"), ALL), Some(Brotli));
        assert_eq!(choose(Some("gzip;q=1, br;q=0.5"), ALL), Some(Gzip));
        assert_eq!(choose(Some("x-gzip"), ALL), Some(Gzip));
        assert_eq!(choose(Some("GZIP;Q=0.8, zstd;q=0.81"), ALL), Some(Zstd));
        assert_eq!(choose(Some("gzip, br"), &[Gzip, Brotli]), Some(Gzip));
    }

    #[test]
    fn q_zero_star_and_identity_are_honoured() {
        assert_eq!(choose(Some("*"), ALL), Some(Zstd));
        assert_eq!(choose(Some("*;q=0.5, zstd;q=0"), ALL), Some(Brotli));
        assert_eq!(choose(Some("gzip;q=0, *;q=0"), ALL), None);
        assert_eq!(choose(Some("identity"), ALL), None);
        assert_eq!(choose(Some("deflate"), ALL), None);
        assert_eq!(choose(Some(""), ALL), None);
        assert_eq!(choose(None, ALL), None);
        assert_eq!(choose(Some("gzip;q=2"), ALL), None);
        assert_eq!(choose(Some("gzip;q=0.0001"), ALL), None);
    }

    #[test]
    fn cache_control_directives_are_found_with_or_without_arguments() {
        let mut h = HeaderMap::new();
        h.append(header::CACHE_CONTROL, "max-age=0".parse().expect("value"));
        assert!(!cache_control_has(&h, &["no-store", "private"]));
        h.append(
            header::CACHE_CONTROL,
            "Private=\"set-cookie\"".parse().expect("value"),
        );
        assert!(cache_control_has(&h, &["no-store", "private"]));
        let mut h = HeaderMap::new();
        h.insert(
            header::CACHE_CONTROL,
            "no-cache, No-Store".parse().expect("v"),
        );
        assert!(cache_control_has(&h, &["no-store"]));
        assert!(!cache_control_has(&h, &["private"]));
    }

    #[test]
    fn a_strong_etag_becomes_weak_and_if_match_gets_it_back() {
        let mut h = HeaderMap::new();
        h.insert(header::ETAG, "\"7-3\"".parse().expect("value"));
        weaken_etag(&mut h);
        assert_eq!(h[header::ETAG], "W/\"7-3\"");
        weaken_etag(&mut h);
        assert_eq!(h[header::ETAG], "W/\"7-3\"");

        let mut h = HeaderMap::new();
        h.append(header::IF_MATCH, "W/\"7-3\", \"8-1\"".parse().expect("v"));
        h.append(header::IF_MATCH, "\"9-W/\"".parse().expect("v"));
        strengthen_if_match(&mut h);
        let lines: Vec<_> = h.get_all(header::IF_MATCH).iter().collect();
        assert_eq!(lines, ["\"7-3\", \"8-1\"", "\"9-W/\""]);
        let mut star = HeaderMap::new();
        star.insert(header::IF_MATCH, "*".parse().expect("v"));
        strengthen_if_match(&mut star);
        assert_eq!(star[header::IF_MATCH], "*");
    }

    #[test]
    fn content_types_match_exactly_by_subtype_or_by_suffix() {
        let patterns: Vec<String> = ["text/*", "application/json", "application/*+json"]
            .map(String::from)
            .to_vec();
        for yes in [
            "application/json",
            "application/json; charset=utf-8",
            "Text/HTML",
            "application/problem+json",
        ] {
            assert!(compressible(&patterns, yes), "{yes}");
        }
        for no in [
            "image/png",
            "application/octet-stream",
            "json",
            "application/jsonx",
        ] {
            assert!(!compressible(&patterns, no), "{no}");
        }
    }
}
