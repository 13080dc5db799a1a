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
