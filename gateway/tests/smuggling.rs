//! Request smuggling attempts are refused and never reach the upstream as
//! two requests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use support::*;

#[tokio::test]
async fn content_length_with_transfer_encoding_never_becomes_two_requests() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    // Framed by Content-Length, the body hides a second request; framed by
    // chunked it is one request. Either way the upstream must see one.
    let req = "POST /users/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n\
               0\r\n\r\nGET /users/smuggled HTTP/1.1\r\nHost: t\r\n\r\n";
    let resp = raw(gw.addr, req.as_bytes(), Duration::from_secs(3)).await;
    assert!(!resp.contains("smuggled"), "{resp}");
    assert!(
        users.requests() <= 1,
        "upstream saw {} requests",
        users.requests()
    );
    assert!(statuses(&resp).len() <= 1, "{resp}");
}

#[tokio::test]
async fn conflicting_content_lengths_are_refused_with_400() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let req = "POST /users/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 30\r\n\r\n\
               helloGET /users/smuggled HTTP/1.1\r\n\r\n";
    let resp = raw(gw.addr, req.as_bytes(), Duration::from_secs(3)).await;
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");
    assert_eq!(users.requests(), 0);
}

#[tokio::test]
async fn a_bad_chunk_size_is_refused_with_400() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let req = "POST /users/upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n\
               zz\r\nhello\r\n0\r\n\r\nGET /users/smuggled HTTP/1.1\r\nHost: t\r\n\r\n";
    let resp = raw(gw.addr, req.as_bytes(), Duration::from_secs(3)).await;
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");
    assert!(!resp.contains("smuggled"), "{resp}");
    assert!(users.requests() <= 1);
}

#[tokio::test]
async fn a_transfer_encoding_other_than_chunked_is_refused_with_400() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let req = "POST /users/echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    let resp = raw(gw.addr, req.as_bytes(), Duration::from_secs(3)).await;
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");
    assert_eq!(users.requests(), 0);
}

/// `Content-Length` together with `Transfer-Encoding` never reaches the
/// proxy as such: hyper drops the `Content-Length` (RFC 9112 §6.3), frames
/// the body as chunked and closes the connection after the response, so
/// the request is forwarded once, with its chunked body, and whatever
/// follows it on the connection is not read as a second request.
#[tokio::test]
async fn content_length_with_transfer_encoding_is_framed_as_chunked_then_the_connection_closes() {
    for framing in [
        "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n",
    ] {
        let users = Upstream::start("users").await;
        let gw = TestGateway::start(&one_route(&users.url(), "")).await;
        let req = format!(
            "POST /users/echo HTTP/1.1\r\nHost: t\r\n{framing}\r\n5\r\nhello\r\n0\r\n\r\n\
             GET /users/second HTTP/1.1\r\nHost: t\r\n\r\n"
        );
        let resp = raw(gw.addr, req.as_bytes(), Duration::from_secs(3)).await;
        assert_eq!(statuses(&resp), [200], "{framing}: {resp}");
        assert!(resp.contains("connection: close"), "{resp}");
        let echo = echo(raw_body(&resp));
        assert_eq!(echo["body_len"], 5, "{echo}");
        assert!(echoed(&echo, "content-length").is_empty(), "{echo}");
        assert_eq!(users.requests(), 1);
    }
}

/// Over HTTP/2, `Transfer-Encoding` is a connection-specific header and
/// the request is malformed (RFC 9113 §8.2.2): the HTTP/2 layer resets the
/// stream before the proxy sees it.
#[tokio::test]
async fn http2_transfer_encoding_is_refused_before_the_proxy() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = u32::try_from(payload.len()).unwrap().to_be_bytes();
        let mut f = vec![len[1], len[2], len[3], kind, flags];
        f.extend_from_slice(&stream.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }
    const HEADERS: u8 = 0x1;
    const RST_STREAM: u8 = 0x3;
    const SETTINGS: u8 = 0x4;
    const GOAWAY: u8 = 0x7;
    const END_HEADERS: u8 = 0x4;
    const PROTOCOL_ERROR: u32 = 0x1;

    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    // HPACK "literal without indexing, new name" fields: no table, no Huffman.
    let mut block = Vec::new();
    for (name, value) in [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/users/echo"),
        (":authority", "t"),
        ("content-length", "5"),
        ("transfer-encoding", "chunked"),
    ] {
        block.push(0x00);
        block.push(u8::try_from(name.len()).unwrap());
        block.extend_from_slice(name.as_bytes());
        block.push(u8::try_from(value.len()).unwrap());
        block.extend_from_slice(value.as_bytes());
    }
    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    out.extend(frame(SETTINGS, 0, 0, &[]));
    out.extend(frame(HEADERS, END_HEADERS, 1, &block));
    let mut stream = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    stream.write_all(&out).await.unwrap();

    let mut seen = Vec::new();
    let mut reset = None;
    let _ = tokio::time::timeout(Duration::from_secs(3), async {
        let mut buf = [0u8; 4096];
        loop {
            let Ok(n) = stream.read(&mut buf).await else {
                return;
            };
            if n == 0 {
                return;
            }
            seen.extend_from_slice(&buf[..n]);
            let mut at = 0;
            while seen.len() >= at + 9 {
                let len = usize::from(seen[at]) << 16
                    | usize::from(seen[at + 1]) << 8
                    | usize::from(seen[at + 2]);
                if seen.len() < at + 9 + len {
                    break;
                }
                let (kind, id) = (
                    seen[at + 3],
                    u32::from_be_bytes(seen[at + 5..at + 9].try_into().unwrap()) & 0x7fff_ffff,
                );
                let payload = &seen[at + 9..at + 9 + len];
                assert!(!(kind == HEADERS && id == 1), "the request was answered");
                if kind == RST_STREAM && id == 1 {
                    reset = Some(u32::from_be_bytes(payload[..4].try_into().unwrap()));
                    return;
                }
                if kind == GOAWAY {
                    reset = Some(u32::from_be_bytes(payload[4..8].try_into().unwrap()));
                    return;
                }
                at += 9 + len;
            }
        }
    })
    .await;
    assert_eq!(reset, Some(PROTOCOL_ERROR));
    assert_eq!(users.requests(), 0);
}
