//! The gateway's upstream HTTP/1 codec (`gateway::upstream_http1`) against
//! hyper's client: the same upstream byte streams, the same outcome
//! (status, fields, body bytes, trailers, and the same errors at the same
//! place), however the stream is cut into reads. Named cases for each
//! framing rule, then generated streams (proptest: well-formed responses
//! with malformed parts, and byte-level mutations of them). The fuzz
//! target in `gateway/fuzz/` runs the same comparison on libFuzzer's
//! inputs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "upstream_http1/oracle.rs"]
mod oracle;

use http::Method;
use oracle::{MAX_HEAD, Outcome, compare};
use proptest::prelude::*;

/// hyper's outcome, after checking that the codec reaches the same one
/// with the stream whole, in 7-byte reads and byte by byte.
fn agree(stream: &[u8], method: &Method) -> Outcome {
    let mut outcome = None;
    for piece in [stream.len().max(1), 7, 1] {
        outcome = Some(compare(stream, method, piece).unwrap_or_else(|e| panic!("{e}")));
    }
    outcome.expect("three reads")
}

fn body_of(outcome: &Outcome) -> (&[u8], Option<std::io::ErrorKind>) {
    match outcome {
        Outcome::Response {
            body, body_error, ..
        } => (body.0.as_slice(), *body_error),
        Outcome::HeadError(e) => panic!("head refused: {e}"),
    }
}

fn head_error(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::HeadError(e) => e,
        Outcome::Response { .. } => panic!("head accepted: {outcome:?}"),
    }
}

#[test]
fn content_length_bodies_end_at_their_length() {
    let o = agree(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\n",
        &Method::GET,
    );
    assert_eq!(body_of(&o), (&b"hello"[..], None));
    let short = agree(
        b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhello",
        &Method::GET,
    );
    assert_eq!(
        body_of(&short),
        (&b"hello"[..], Some(std::io::ErrorKind::UnexpectedEof))
    );
}

#[test]
fn chunked_bodies_with_extensions_and_trailers() {
    let o = agree(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
          4;a=b;c=\"d\"\r\nWiki\r\n5 \r\npedia\r\n0\r\nExpires: never\r\nX-Sum: 9\r\n\r\n",
        &Method::GET,
    );
    assert_eq!(body_of(&o), (&b"Wikipedia"[..], None));
    let Outcome::Response { trailers, .. } = &o else {
        unreachable!()
    };
    assert_eq!(trailers.as_ref().map(Vec::len), Some(2));
}

#[test]
fn close_delimited_bodies_run_to_the_close() {
    for stream in [
        &b"HTTP/1.1 200 OK\r\n\r\nuntil the end"[..],
        b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nuntil the end",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nuntil the end",
    ] {
        let o = agree(stream, &Method::GET);
        assert_eq!(body_of(&o), (&b"until the end"[..], None));
    }
}

#[test]
fn informational_responses_are_skipped() {
    let o = agree(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n\
          HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        &Method::GET,
    );
    assert_eq!(body_of(&o), (&b"ok"[..], None));
    let only = agree(b"HTTP/1.1 100 Continue\r\n\r\n", &Method::GET);
    assert_eq!(head_error(&only), "incomplete");
}

#[test]
fn no_body_after_204_304_or_a_head_request() {
    for (stream, method) in [
        (
            &b"HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\nabc"[..],
            Method::GET,
        ),
        (
            b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
            Method::GET,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
            Method::HEAD,
        ),
        (
            b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            Method::HEAD,
        ),
    ] {
        let o = agree(stream, &method);
        assert_eq!(body_of(&o), (&b""[..], None));
    }
}

#[test]
fn conflicting_or_malformed_content_lengths_refuse_the_head() {
    for field in [
        "Content-Length: 3\r\nContent-Length: 4",
        "Content-Length: 3, 4",
        "Content-Length: -3",
        "Content-Length: 3 3",
        "Content-Length: 1e3",
        "Content-Length:",
    ] {
        let stream = format!("HTTP/1.1 200 OK\r\n{field}\r\n\r\nabcd");
        let o = agree(stream.as_bytes(), &Method::GET);
        assert_eq!(head_error(&o), "invalid content-length parsed", "{field}");
    }
    let same = agree(
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3,3\r\n\r\nabc",
        &Method::GET,
    );
    assert_eq!(body_of(&same), (&b"abc"[..], None));
}

#[test]
fn transfer_encoding_overrides_content_length_and_is_refused_on_http10() {
    let o = agree(
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        &Method::GET,
    );
    assert_eq!(body_of(&o), (&b"abc"[..], None));
    let old = agree(
        b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        &Method::GET,
    );
    assert_eq!(head_error(&old), "unexpected transfer-encoding parsed");
}

#[test]
fn bad_chunk_sizes_fail_the_body() {
    for chunk in [
        "x\r\n",
        "-1\r\n",
        "0x3\r\nabc",
        "3\nabc",
        "fffffffffffffffff\r\n",
        "3\r\nabcd",
    ] {
        let stream = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{chunk}");
        let o = agree(stream.as_bytes(), &Method::GET);
        assert!(body_of(&o).1.is_some(), "{chunk:?}");
    }
}

#[test]
fn oversized_heads_are_too_large() {
    let big = format!(
        "HTTP/1.1 200 OK\r\nX-Big: {}\r\nContent-Length: 0\r\n\r\n",
        "b".repeat(MAX_HEAD)
    );
    assert_eq!(
        head_error(&agree(big.as_bytes(), &Method::GET)),
        "message head is too large"
    );
    let many: String = (0..101).map(|i| format!("X-{i}: v\r\n")).collect();
    let stream = format!("HTTP/1.1 200 OK\r\n{many}\r\n");
    assert_eq!(
        head_error(&agree(stream.as_bytes(), &Method::GET)),
        "message head is too large"
    );
}

#[test]
fn malformed_heads_fail_alike() {
    for stream in [
        &b"HTTP/1.1 20 OK\r\n\r\n"[..],
        b"HTTP/1.1 099 Low\r\n\r\n",
        b"HTTP/2 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\x7fb\r\n\r\n",
        b"",
        b"HTTP/1.1 200 OK\r\nContent-Le",
    ] {
        let o = agree(stream, &Method::GET);
        assert!(matches!(o, Outcome::HeadError(_)), "{o:?}");
    }
}

#[test]
fn upgrades_have_no_body() {
    let o = agree(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello",
        &Method::GET,
    );
    assert_eq!(body_of(&o), (&b""[..], None));
}

/// Field lines that matter for framing, and some that are just noise.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..48).prop_map(|n| format!("Content-Length: {n}")),
        Just("Content-Length: 4, 4".to_string()),
        Just("Content-Length: 4,5".to_string()),
        Just("Content-Length: +4".to_string()),
        Just("Content-Length: ".to_string()),
        Just("Content-Length: 18446744073709551614".to_string()),
        Just("Content-Length: 18446744073709551615".to_string()),
        Just("Content-Length: 99999999999999999999".to_string()),
        Just("Transfer-Encoding: chunked".to_string()),
        Just("Transfer-Encoding: gzip, chunked".to_string()),
        Just("Transfer-Encoding: chunked, gzip".to_string()),
        Just("Transfer-Encoding: CHUNKED ".to_string()),
        Just("Transfer-Encoding: identity".to_string()),
        Just("Transfer-Encoding: ".to_string()),
        Just("Transfer-Encoding: \u{e9}chunked".to_string()),
        Just("Connection: close".to_string()),
        Just("Connection: keep-alive".to_string()),
        Just("Set-Cookie: a=1".to_string()),
        "[A-Za-z][A-Za-z0-9-]{0,10}: [ -~]{0,16}",
        "[ -~]{0,12}: [\t -~]{0,8}",
        Just("X-Folded: a\r\n b".to_string()),
        Just("X-Ctl: a\u{1}b".to_string()),
        Just("X-Obs: caf\u{e9}".to_string()),
        (1usize..10_000).prop_map(|n| format!("X-Big: {}", "b".repeat(n))),
    ]
}

fn status_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("HTTP/1.1 200 OK".to_string()),
        Just("HTTP/1.0 200 OK".to_string()),
        Just("HTTP/1.1 204 No Content".to_string()),
        Just("HTTP/1.1 304 Not Modified".to_string()),
        Just("HTTP/1.1 101 Switching Protocols".to_string()),
        Just("HTTP/1.1 200".to_string()),
        Just("HTTP/1.1 404 Nope".to_string()),
        Just("HTTP/1.1 502 Bad Gateway".to_string()),
        Just("HTTP/1.1 099 Low".to_string()),
        Just("HTTP/1.1 999 High".to_string()),
        Just("HTTP/1.2 200 OK".to_string()),
        Just("HTTP/1.1 200 caf\u{e9}".to_string()),
        (100u16..1000, "[ -~]{0,10}").prop_map(|(c, r)| format!("HTTP/1.1 {c} {r}")),
    ]
}

fn informational() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just(String::new()),
        1 => Just("HTTP/1.1 100 Continue\r\n\r\n".to_string()),
        1 => Just("HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n".to_string()),
        1 => Just("HTTP/1.0 102 Processing\r\n\r\n".to_string()),
    ]
}

/// A chunked body, well-formed or broken in one of the ways upstreams
/// break it.
fn chunked_body() -> impl Strategy<Value = Vec<u8>> {
    let chunk = (
        proptest::collection::vec(any::<u8>(), 1..24),
        prop_oneof![
            3 => Just(String::new()),
            1 => Just(";a=b".to_string()),
            1 => Just(" ;x".to_string()),
            1 => "[;=a-z\" ]{0,12}",
        ],
        prop_oneof![8 => Just(true), 1 => Just(false)],
    );
    let last = prop_oneof![
        4 => Just("0\r\n\r\n".to_string()),
        2 => Just("0\r\nExpires: never\r\nX-Sum: 1\r\n\r\n".to_string()),
        1 => Just("0;ext\r\nT: v\r\n\r\n".to_string()),
        1 => Just("0\r\nBad Name: v\r\n\r\n".to_string()),
        1 => Just("0\r\nT: v\r\n".to_string()),
        1 => Just("0\r\n\n".to_string()),
        1 => Just("x\r\n".to_string()),
        1 => Just("fffffffffffffffff\r\n".to_string()),
        1 => Just("5\r\nab".to_string()),
        1 => Just(String::new()),
    ];
    (proptest::collection::vec(chunk, 0..4), last).prop_map(|(chunks, last)| {
        let mut out = Vec::new();
        for (data, ext, honest) in chunks {
            let size = if honest { data.len() } else { data.len() + 1 };
            out.extend_from_slice(format!("{size:x}{ext}\r\n").as_bytes());
            out.extend_from_slice(&data);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(last.as_bytes());
        out
    })
}

fn response() -> impl Strategy<Value = (Vec<u8>, Method)> {
    (
        informational(),
        status_line(),
        proptest::collection::vec(field(), 0..6),
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..48),
            chunked_body(),
        ],
        prop_oneof![4 => Just(Method::GET), 1 => Just(Method::HEAD)],
    )
        .prop_map(|(info, status, fields, body, method)| {
            let mut out = info.into_bytes();
            out.extend_from_slice(status.as_bytes());
            out.extend_from_slice(b"\r\n");
            for f in fields {
                out.extend_from_slice(f.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&body);
            (out, method)
        })
}

/// A few byte-level changes: replace, insert or delete at a position.
fn mutated() -> impl Strategy<Value = (Vec<u8>, Method)> {
    let edit = (any::<proptest::sample::Index>(), 0u8..3, any::<u8>());
    (response(), proptest::collection::vec(edit, 1..4)).prop_map(|((mut bytes, method), edits)| {
        for (at, op, byte) in edits {
            if bytes.is_empty() {
                bytes.push(byte);
                continue;
            }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => {
                    bytes.remove(i);
                }
            }
        }
        (bytes, method)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn generated_responses_read_the_same((stream, method) in response(), piece in 1usize..64) {
        let pieces = compare(&stream, &method, piece);
        prop_assert!(pieces.is_ok(), "{}", pieces.unwrap_err());
        let whole = compare(&stream, &method, stream.len());
        prop_assert!(whole.is_ok(), "{}", whole.unwrap_err());
    }

    #[test]
    fn mutated_responses_read_the_same((stream, method) in mutated(), piece in 1usize..64) {
        let outcome = compare(&stream, &method, piece);
        prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
    }

    #[test]
    fn cut_responses_read_the_same((stream, method) in response(), cut in any::<proptest::sample::Index>()) {
        let stream = &stream[..cut.index(stream.len() + 1)];
        let outcome = compare(stream, &method, 5);
        prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
    }
}
