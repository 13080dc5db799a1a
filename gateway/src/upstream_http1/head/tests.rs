use super::*;

const LIMITS: HeadLimits = HeadLimits { max_head: 1024 };

fn parse(raw: &str, method: Method) -> Result<Option<ResponseHead>, HeadError> {
    let mut buf = BytesMut::from(raw);
    parse_response_head(&mut buf, &method, &LIMITS)
}

fn head(raw: &str) -> ResponseHead {
    parse(raw, Method::GET)
        .expect("a valid head")
        .expect("a complete head")
}

#[test]
fn a_content_length_frames_the_body_and_the_head_leaves_the_buffer() {
    let mut buf = BytesMut::from("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    let head = parse_response_head(&mut buf, &Method::GET, &LIMITS)
        .unwrap()
        .unwrap();
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.framing, BodyFraming::Length(5));
    assert!(head.keep_alive);
    assert!(head.reason.is_none());
    assert_eq!(&buf[..], b"hello");
}

#[test]
fn a_partial_head_asks_for_more_and_leaves_the_buffer_alone() {
    let mut buf = BytesMut::from("HTTP/1.1 200 OK\r\nContent-Len");
    assert!(matches!(
        parse_response_head(&mut buf, &Method::GET, &LIMITS),
        Ok(None)
    ));
    assert_eq!(buf.len(), 28);
}

#[test]
fn informational_responses_are_skipped_but_101_is_an_upgrade() {
    let h = head(
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    );
    assert_eq!(h.status, StatusCode::NO_CONTENT);
    assert!(!h.headers.contains_key("link"));
    let up = head(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
    );
    assert!(up.upgrade);
    assert!(!up.keep_alive);
    assert_eq!(up.framing, BodyFraming::Length(0));
    let only_1xx = parse("HTTP/1.1 100 Continue\r\n\r\n", Method::GET);
    assert!(matches!(only_1xx, Ok(None)));
}

#[test]
fn no_body_for_204_304_and_head_whatever_the_fields_say() {
    for raw in [
        "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
    ] {
        assert_eq!(head(raw).framing, BodyFraming::Length(0));
    }
    let h = parse(
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
        Method::HEAD,
    )
    .unwrap()
    .unwrap();
    assert_eq!(h.framing, BodyFraming::Length(0));
}

#[test]
fn transfer_encoding_wins_over_content_length_and_must_end_in_chunked() {
    let both = head("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
    assert_eq!(both.framing, BodyFraming::Chunked);
    let gzip_last = head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n");
    assert_eq!(gzip_last.framing, BodyFraming::CloseDelimited);
    let two_lines =
        head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: CHUNKED\r\n\r\n");
    assert_eq!(two_lines.framing, BodyFraming::Chunked);
    let http10 = parse(
        "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        Method::GET,
    );
    assert_eq!(http10.unwrap_err(), HeadError::TransferEncodingUnexpected);
}

#[test]
fn content_length_values_must_agree_and_be_plain_digits() {
    assert_eq!(
        head("HTTP/1.1 200 OK\r\nContent-Length: 4, 4\r\nContent-Length: 4\r\n\r\n").framing,
        BodyFraming::Length(4)
    );
    for bad in [
        "Content-Length: 4\r\nContent-Length: 5",
        "Content-Length: +4",
        "Content-Length: 4,",
        "Content-Length: 0x10",
        "Content-Length: ",
        "Content-Length: 99999999999999999999999",
    ] {
        let raw = format!("HTTP/1.1 200 OK\r\n{bad}\r\n\r\n");
        assert_eq!(
            parse(&raw, Method::GET).unwrap_err(),
            HeadError::ContentLength,
            "{bad}"
        );
    }
    let max = parse(
        "HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n",
        Method::GET,
    );
    assert_eq!(max.unwrap_err(), HeadError::TooLarge);
}

#[test]
fn no_length_means_until_close() {
    assert_eq!(
        head("HTTP/1.1 200 OK\r\n\r\n").framing,
        BodyFraming::CloseDelimited
    );
}

#[test]
fn keep_alive_follows_the_version_and_every_connection_line() {
    assert!(!head("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
    assert!(
        head("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n").keep_alive
    );
    assert!(
        !head("HTTP/1.1 200 OK\r\nConnection: te, close\r\nContent-Length: 0\r\n\r\n").keep_alive
    );
    assert!(
        !head("HTTP/1.0 200 OK\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n").keep_alive
    );
}

#[test]
fn a_head_larger_than_the_buffer_or_with_too_many_fields_is_too_large() {
    let long = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", "a".repeat(2000));
    assert_eq!(parse(&long, Method::GET).unwrap_err(), HeadError::TooLarge);
    let partial = format!("HTTP/1.1 200 OK\r\nX: {}", "a".repeat(1100));
    assert_eq!(
        parse(&partial, Method::GET).unwrap_err(),
        HeadError::TooLarge
    );
    let many: String = (0..101).map(|i| format!("X{i}: y\r\n")).collect();
    let raw = format!("HTTP/1.1 200 OK\r\n{many}\r\n");
    let mut buf = BytesMut::from(raw.as_str());
    let limits = HeadLimits { max_head: 8192 };
    assert_eq!(
        parse_response_head(&mut buf, &Method::GET, &limits).unwrap_err(),
        HeadError::TooLarge
    );
}

#[test]
fn malformed_heads_are_refused_with_hyper_kinds() {
    for (raw, kind) in [
        ("HTTP/2.0 200 OK\r\n\r\n", HeadError::Version),
        ("HTTP/1.1 2000 OK\r\n\r\n", HeadError::Status),
        ("HTTP/1.1 099 Low\r\n\r\n", HeadError::Status),
        ("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", HeadError::Header),
        (
            "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
            HeadError::Header,
        ),
        ("HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n", HeadError::Header),
    ] {
        assert_eq!(parse(raw, Method::GET).unwrap_err(), kind, "{raw:?}");
    }
}

#[test]
fn a_reason_phrase_is_kept_only_when_it_is_not_the_canonical_one() {
    assert!(head("HTTP/1.1 404 Not Found\r\n\r\n").reason.is_none());
    let odd = head("HTTP/1.1 404 Nope\r\n\r\n");
    assert_eq!(odd.reason.as_deref(), Some(&b"Nope"[..]));
}

#[test]
fn multi_valued_fields_pass_in_order() {
    let h =
        head("HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n");
    let cookies: Vec<_> = h.headers.get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
}
