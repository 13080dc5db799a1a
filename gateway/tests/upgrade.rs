//! WebSocket and other HTTP/1.1 `Upgrade` requests: passed through both
//! ways, joined byte for byte after `101`, closed when idle, drained on
//! shutdown; refused (left HTTP) when the upstream does not switch. (A
//! route without `upgrades = true`, and tunnels under the endpoint cap:
//! `upgrade_switch.rs`.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// A WebSocket-like upstream on 127.0.0.1:0: reads a request head,
/// answers `101 Switching Protocols` (`Upgrade: websocket`), then echoes
/// every byte. Each request head it read is sent on the channel.
async fn upgrading_upstream() -> (SocketAddr, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                let head = read_head(&mut stream).await;
                let _ = tx.send(head);
                stream
                    .write_all(
                        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                          Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
                    )
                    .await
                    .unwrap();
                let (mut read, mut write) = stream.split();
                let _ = tokio::io::copy(&mut read, &mut write).await;
            });
        }
    });
    (addr, rx)
}

/// Read up to the end of a request or response head.
async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte)).await {
            Ok(Ok(1)) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).to_string()
}

/// [`one_route`] with upgrades switched on for its route.
fn ws_route(url: &str, extra: &str) -> String {
    format!("{}upgrades = true\n", one_route(url, extra))
}

const WEBSOCKET_REQUEST: &[u8] = b"GET /users/chat HTTP/1.1\r\nHost: shop.test\r\n\
    Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// Open a WebSocket through `gw`; the response head and the stream.
async fn open_websocket(gw: &TestGateway) -> (String, TcpStream) {
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    stream.write_all(WEBSOCKET_REQUEST).await.unwrap();
    let head = read_head(&mut stream).await;
    (head, stream)
}

/// Send `message` and read the same number of bytes back.
async fn echo_through(stream: &mut TcpStream, message: &[u8]) -> Vec<u8> {
    stream.write_all(message).await.unwrap();
    let mut back = vec![0u8; message.len()];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut back))
        .await
        .expect("echo within 5 s")
        .unwrap();
    back
}

/// Whether the peer closed `stream` (within 10 s).
async fn closed(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

/// Poll `/metrics` until `series` reaches at least `want` (5 s).
async fn metric_reaches(gw: &TestGateway, series: &str, want: f64) -> f64 {
    let value = || async { metric(&gw.metrics().await, series).unwrap_or(0.0) };
    poll_until(value, |seen| *seen >= want).await
}

#[tokio::test]
async fn a_websocket_passes_through_both_ways_over_http1() {
    let (upstream, mut heads) = upgrading_upstream().await;
    let gw = TestGateway::start(&ws_route(&format!("http://{upstream}"), "")).await;
    let (head, mut ws) = open_websocket(&gw).await;
    assert!(
        head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{head}"
    );
    let lower = head.to_ascii_lowercase();
    assert!(lower.contains("\r\nupgrade: websocket\r\n"), "{head}");
    assert!(lower.contains("\r\nconnection: upgrade\r\n"), "{head}");
    assert!(
        lower.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{head}"
    );
    assert!(lower.contains("\r\nx-request-id: "), "{head}");

    let sent = heads.recv().await.unwrap().to_ascii_lowercase();
    assert!(sent.starts_with("get /chat http/1.1\r\n"), "{sent}");
    assert!(sent.contains("\r\nupgrade: websocket\r\n"), "{sent}");
    assert!(sent.contains("\r\nconnection: upgrade\r\n"), "{sent}");
    assert!(
        sent.contains("\r\nsec-websocket-key: dghlihnhbxbszsbub25jzq==\r\n"),
        "{sent}"
    );

    assert_eq!(echo_through(&mut ws, b"hello").await, b"hello");
    let big = vec![b'w'; 256 * 1024];
    assert_eq!(echo_through(&mut ws, &big).await, big);
    assert!(metric_reaches(&gw, "gateway_upgraded_connections_total", 1.0).await >= 1.0);
    assert!(metric_reaches(&gw, "gateway_upgraded_connections_open", 1.0).await >= 1.0);
    drop(ws);
    let closed_series = "gateway_upgraded_connections_closed_total{reason=\"closed\"}";
    assert!(metric_reaches(&gw, closed_series, 1.0).await >= 1.0);
}

#[tokio::test]
async fn an_upgrade_to_an_upstream_that_does_not_switch_gets_its_answer_and_stays_http() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&ws_route(&users.url(), "")).await;
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    stream.write_all(WEBSOCKET_REQUEST).await.unwrap();
    stream
        .write_all(b"GET /users/after HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let resp = read_all(&mut stream, Duration::from_secs(5)).await;
    // The upstream's own answer, then the next request on the same connection.
    assert_eq!(statuses(&resp), [200, 200], "{resp}");
    let first = resp.split("HTTP/1.1 200").nth(1).unwrap();
    let e = echo(first.split_once("\r\n\r\n").unwrap().1.trim_end());
    assert_eq!(
        echoed(&e, "upgrade"),
        ["websocket"],
        "the upstream was asked"
    );
    assert!(resp.contains("\"path\":\"/after\""), "{resp}");
}

#[tokio::test]
async fn an_h2c_upgrade_is_never_passed_on() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&ws_route(&users.url(), "")).await;
    let req = b"GET /users/x HTTP/1.1\r\nHost: shop.test\r\nUpgrade: h2c\r\n\
                Connection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n";
    let resp = raw(gw.addr, req, Duration::from_secs(2)).await;
    assert_eq!(statuses(&resp), [200], "{resp}");
    let e = echo(raw_body(&resp).trim_end());
    assert!(echoed(&e, "upgrade").is_empty(), "{e}");
    assert!(echoed(&e, "http2-settings").is_empty(), "{e}");
}

#[tokio::test]
async fn an_upgrade_over_http_1_0_is_not_passed_on() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&ws_route(&users.url(), "")).await;
    let req = b"GET /users/x HTTP/1.0\r\nHost: shop.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    let resp = raw(gw.addr, req, Duration::from_secs(2)).await;
    assert!(resp.starts_with("HTTP/1.0 200 OK\r\n"), "{resp}");
    let e = echo(raw_body(&resp).trim_end());
    assert!(echoed(&e, "upgrade").is_empty(), "{e}");
}

#[tokio::test]
async fn a_switch_the_client_did_not_ask_for_is_refused() {
    let (upstream, _heads) = upgrading_upstream().await;
    let gw = TestGateway::start(&ws_route(
        &format!("http://{upstream}"),
        "[timeouts]\nresponse = \"2s\"",
    ))
    .await;
    let resp = client().get(gw.url("/users/plain")).send().await.unwrap();
    assert_eq!(resp.status(), 502);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let body = resp.text().await.unwrap();
    assert!(body.contains("switched protocols unasked"), "{body}");
}

#[tokio::test]
async fn an_idle_upgraded_connection_is_closed() {
    let (upstream, _heads) = upgrading_upstream().await;
    let gw = TestGateway::start(&ws_route(
        &format!("http://{upstream}"),
        "[timeouts]\nupgrade_idle = \"1s\"",
    ))
    .await;
    let (head, mut ws) = open_websocket(&gw).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert_eq!(echo_through(&mut ws, b"ping").await, b"ping");
    assert!(closed(&mut ws).await, "the idle tunnel was closed");
    let series = "gateway_upgraded_connections_closed_total{reason=\"idle_timeout\"}";
    assert!(metric_reaches(&gw, series, 1.0).await >= 1.0);
}

#[tokio::test]
async fn the_upgrade_idle_timeout_is_shown_and_reloaded() {
    let (upstream, _heads) = upgrading_upstream().await;
    let url = format!("http://{upstream}");
    let gw = TestGateway::start_with(&ws_route(&url, ""), |o| o.watch = true).await;
    assert_eq!(
        gw.config_json().await["timeouts"]["upgrade_idle"],
        "60000ms"
    );
    std::fs::write(
        &gw.config_path,
        ws_route(&url, "[timeouts]\nupgrade_idle = \"1s\""),
    )
    .unwrap();
    let shown = poll_until(
        || async { gw.config_json().await["timeouts"]["upgrade_idle"].clone() },
        |shown| shown == "1000ms",
    )
    .await;
    assert_eq!(shown, "1000ms");
    let (_, mut ws) = open_websocket(&gw).await;
    assert!(closed(&mut ws).await, "the new idle timeout applies");
}

#[tokio::test]
async fn an_upgraded_connection_is_drained_then_closed_at_the_grace_period() {
    let (upstream, _heads) = upgrading_upstream().await;
    let mut gw = TestGateway::start(&ws_route(
        &format!("http://{upstream}"),
        "[timeouts]\nshutdown_grace = \"1s\"",
    ))
    .await;
    let (head, mut ws) = open_websocket(&gw).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    let stopped = gw.begin_shutdown();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Draining: the tunnel still carries bytes.
    assert_eq!(echo_through(&mut ws, b"still here").await, b"still here");
    // The grace period ends it; shutdown does not wait longer.
    let result = tokio::time::timeout(Duration::from_secs(10), stopped)
        .await
        .expect("the gateway stops once the grace period is over")
        .unwrap();
    assert!(result.is_ok());
    assert!(closed(&mut ws).await);
}

#[tokio::test]
async fn a_websocket_client_that_stops_reading_is_cut_off() {
    let (upstream, _heads) = upgrading_upstream().await;
    let gw = TestGateway::start(&ws_route(
        &format!("http://{upstream}"),
        "[timeouts]\nclient_send = \"500ms\"",
    ))
    .await;
    let (head, ws) = open_websocket(&gw).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    // Send much more than the sockets hold, never reading the echo back.
    let (mut read, mut write) = ws.into_split();
    let writer = tokio::spawn(async move {
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..1024 {
            if write.write_all(&chunk).await.is_err() {
                return false;
            }
        }
        true
    });
    let series = "gateway_client_send_timeouts_total{kind=\"connection\"}";
    assert!(metric_reaches(&gw, series, 1.0).await >= 1.0);
    let wrote_all = tokio::time::timeout(Duration::from_secs(10), writer)
        .await
        .expect("the writer stops once the connection is closed")
        .unwrap();
    assert!(
        !wrote_all,
        "the gateway closed the connection before 64 MiB went through"
    );
    let errors = "gateway_upgraded_connections_closed_total{reason=\"error\"}";
    assert!(metric_reaches(&gw, errors, 1.0).await >= 1.0);
    let mut buf = vec![0u8; 64 * 1024];
    let drained = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(drained.is_ok(), "the connection ends");
}

#[tokio::test]
async fn http2_clients_are_not_offered_websockets() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&ws_route(&users.url(), "")).await;
    let (h2, _conn) = h2_after_one_get(gw.addr, "/users/me").await;
    // No RFC 8441 extended CONNECT: HTTP/2 has no `Upgrade` either.
    assert!(!h2.is_extended_connect_protocol_enabled());
}
