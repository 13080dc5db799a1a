//! Bodies stream both ways; HTTP/1.1 connection behaviours (pipelining,
//! 100-continue, half-close).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use bytes::Bytes;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn a_slow_upstreams_first_bytes_reach_the_client_before_the_last_are_produced() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    // 3 chunks, 1.5 s apart: the first must arrive long before the body ends.
    let mut resp = client()
        .get(gw.url("/users/slow?chunks=3&ms=1500"))
        .send()
        .await
        .unwrap();
    let first = tokio::time::timeout(Duration::from_millis(1000), resp.chunk())
        .await
        .expect("first chunk arrives while the upstream is still producing")
        .unwrap()
        .unwrap();
    assert_eq!(first, Bytes::from("chunk0;"));
    let mut rest = Vec::new();
    while let Some(c) = resp.chunk().await.unwrap() {
        rest.extend_from_slice(&c);
    }
    assert_eq!(rest, b"chunk1;chunk2;");
}

#[tokio::test]
async fn a_large_upload_reaches_the_upstream_while_still_being_sent() {
    let mut users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    stream
        .write_all(b"POST /users/upload HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 200000\r\n\r\n")
        .await
        .unwrap();
    stream.write_all(&[b'a'; 50_000]).await.unwrap();
    // The upstream sees the first bytes although 150 000 are still unsent.
    let first = tokio::time::timeout(Duration::from_secs(5), users.first_chunk.recv())
        .await
        .expect("upstream received body bytes before the upload finished")
        .unwrap();
    assert!(first > 0);
    stream.write_all(&[b'b'; 150_000]).await.unwrap();
    let resp = read_all(&mut stream, Duration::from_secs(5)).await;
    assert!(resp.contains("{\"received\":200000}"), "{resp}");
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let req = "GET /users/sleep?ms=300 HTTP/1.1\r\nHost: t\r\nX-Request-Id: first\r\n\r\n\
               GET /users/one HTTP/1.1\r\nHost: t\r\nX-Request-Id: second\r\n\r\n\
               GET /users/two HTTP/1.1\r\nHost: t\r\nX-Request-Id: third\r\nConnection: close\r\n\r\n";
    let resp = raw(gw.addr, req.as_bytes(), Duration::from_secs(5)).await;
    assert_eq!(statuses(&resp), [200, 200, 200], "{resp}");
    let a = resp.find("x-request-id: first").unwrap();
    let b = resp.find("x-request-id: second").unwrap();
    let c = resp.find("x-request-id: third").unwrap();
    assert!(a < b && b < c, "{resp}");
}

#[tokio::test]
async fn expect_continue_is_answered_then_the_body_forwarded() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    stream
        .write_all(b"POST /users/echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("100 Continue arrives before the body is sent")
        .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 100 Continue"));
    stream.write_all(b"hello").await.unwrap();
    let resp = read_all(&mut stream, Duration::from_secs(2)).await;
    assert!(resp.contains("HTTP/1.1 200"), "{resp}");
    let e = echo(raw_body(&resp));
    assert_eq!(e["body_len"], 5);
    assert!(echoed(&e, "expect").is_empty());
}

#[tokio::test]
async fn expect_continue_for_an_oversized_body_gets_413_without_100() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "[limits]\nbody = 1000")).await;
    let resp = raw(
        gw.addr,
        b"POST /users/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n",
        Duration::from_secs(2),
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");
    assert!(!resp.contains("100 Continue"), "{resp}");
    assert_eq!(users.requests(), 0);
}

#[tokio::test]
async fn expect_continue_for_an_unknown_route_gets_404_without_100() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let resp = raw(
        gw.addr,
        b"POST /nowhere/x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
        Duration::from_secs(2),
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 404"), "{resp}");
    assert!(!resp.contains("100 Continue"), "{resp}");
}

#[tokio::test]
async fn a_half_closed_client_still_gets_its_response() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    stream
        .write_all(b"GET /users/sleep?ms=200 HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    stream.shutdown().await.unwrap();
    let resp = read_all(&mut stream, Duration::from_secs(5)).await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.ends_with("slept"), "{resp}");
}

#[tokio::test]
async fn large_responses_stream_through_intact() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let body = client()
        .get(gw.url("/users/big?bytes=3000000"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.len(), 3_000_000);
    assert!(body.iter().all(|b| *b == b'x'));
}
