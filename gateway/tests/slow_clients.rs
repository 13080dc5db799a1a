//! Slow clients: a client that stops taking its response (a slow HTTP/1
//! reader, an HTTP/2 client that never opens its window) gives its
//! upstream connection up after `timeouts.client_send`, while other
//! clients keep being served; an upstream that is slow itself is waited for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// One worker and one connection per endpoint: a client holding the
/// upstream connection would stall everyone else.
fn one_connection(url: &str, client_send: &str) -> String {
    format!(
        r#"
[listen]
workers = 1
[timeouts]
client_send = "{client_send}"
response = "20s"
[upstreams.users]
endpoints = ["{url}"]
max_connections_per_endpoint = 1
[[routes]]
prefix = "/users/"
upstream = "users"
"#
    )
}

/// Wait (5 s at most) until `upstream` has seen `n` requests.
async fn requests_seen(upstream: &Upstream, n: usize) {
    let seen = poll_until(|| async { upstream.requests() }, |seen| *seen >= n).await;
    assert!(seen >= n, "the upstream saw {seen} requests, not {n}");
}

/// `gateway_client_send_timeouts_total` of `kinds` together, once at
/// least 1 (5 s).
async fn send_timeouts(gw: &TestGateway, kinds: &[&str]) -> f64 {
    let count = || async {
        let text = gw.metrics().await;
        kinds
            .iter()
            .filter_map(|kind| {
                let series = format!("gateway_client_send_timeouts_total{{kind=\"{kind}\"}}");
                metric(&text, &series)
            })
            .sum::<f64>()
    };
    poll_until(count, |seen| *seen >= 1.0).await
}

const BIG: usize = 16 * 1024 * 1024;

#[tokio::test]
async fn a_slow_http1_reader_releases_its_upstream_connection() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_connection(&users.url(), "500ms")).await;
    // A small receive buffer: the gateway's writes block soon.
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut slow = socket.connect(gw.addr).await.unwrap();
    slow.write_all(format!("GET /users/big?bytes={BIG} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
        .await
        .unwrap();
    requests_seen(&users, 1).await;

    // The only upstream connection is the slow reader's, until the timeout.
    let resp = client().get(gw.url("/users/me")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-upstream"], "users");
    assert!(send_timeouts(&gw, &["connection", "response"]).await >= 1.0);

    // The slow reader's response was cut off, never completed.
    let mut got = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match slow.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the slow reader's connection was closed");
    assert!(got < BIG, "{got} bytes");
}

#[tokio::test]
async fn a_zero_window_http2_client_releases_its_upstream_connection() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_connection(&users.url(), "500ms")).await;
    let tcp = TcpStream::connect(gw.addr).await.unwrap();
    let (mut h2, conn) = h2::client::Builder::new()
        .initial_window_size(0)
        .handshake::<_, bytes::Bytes>(tcp)
        .await
        .unwrap();
    tokio::spawn(conn);
    let request = http::Request::get(format!("http://{}/users/big?bytes=1048576", gw.addr))
        .body(())
        .unwrap();
    let (response, _) = h2.send_request(request, true).unwrap();
    // The head needs no window; the body never gets one.
    let response = response.await.unwrap();
    assert_eq!(response.status(), 200);
    let _unread = response.into_body();

    let resp = client().get(gw.url("/users/me")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(send_timeouts(&gw, &["response"]).await >= 1.0);
    assert_eq!(users.requests(), 2);
}

#[tokio::test]
async fn a_slow_upstream_is_waited_for_however_long_its_pauses() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_connection(&users.url(), "200ms")).await;
    // Pauses four times the client-send timeout: the client reads all along.
    let resp = client()
        .get(gw.url("/users/slow?chunks=3&ms=800"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.text().await.unwrap(), "chunk0;chunk1;chunk2;");
}

#[tokio::test]
async fn a_reader_that_keeps_up_gets_the_whole_body() {
    let users = Upstream::start("users").await;
    // Short, but with room for a test client starved of CPU for a moment.
    let gw = TestGateway::start(&one_connection(&users.url(), "2s")).await;
    let body = client()
        .get(gw.url(&format!("/users/big?bytes={BIG}")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.len(), BIG);
    // The connection went back to the pool: the next request reuses it.
    let resp = client().get(gw.url("/users/me")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(users.connections(), 1);
}

#[tokio::test]
async fn the_client_send_timeout_is_shown_in_config() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_connection(&users.url(), "1500ms")).await;
    assert_eq!(gw.config_json().await["timeouts"]["client_send"], "1500ms");
}

#[tokio::test]
async fn a_pool_replaced_by_a_reload_closes_its_idle_connections() {
    // A keep-alive upstream that reports when the gateway closes a connection.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let old = listener.local_addr().unwrap();
    let (closed_tx, mut closed) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let closed_tx = closed_tx.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut pending = Vec::new();
                loop {
                    while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                        pending.drain(..end + 4);
                        let answer =
                            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-upstream: old\r\n\r\nok";
                        stream.write_all(answer).await.unwrap();
                    }
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => pending.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = closed_tx.send(());
            });
        }
    });
    let new = Upstream::start("new").await;
    let gw = TestGateway::start_with(&one_connection(&format!("http://{old}"), "30s"), |o| {
        o.watch = true;
    })
    .await;
    let resp = client().get(gw.url("/users/x")).send().await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "ok");

    std::fs::write(&gw.config_path, one_connection(&new.url(), "30s")).unwrap();
    let label = poll_until(
        || async {
            let resp = client().get(gw.url("/users/x")).send().await.unwrap();
            resp.headers()["x-upstream"].to_str().unwrap().to_string()
        },
        |label| label == "new",
    )
    .await;
    assert_eq!(label, "new");
    let gone = tokio::time::timeout(Duration::from_secs(10), closed.recv()).await;
    assert!(
        matches!(gone, Ok(Some(()))),
        "the old pool's idle connection was closed"
    );
}
