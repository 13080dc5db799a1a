//! Idle HTTP/1.1 keep-alive connections are parked between requests (no
//! HTTP state, no buffers) and served again when the client speaks:
//! requests after a pause, heads split across the pause, pipelined
//! requests, `timeouts.client_idle`, the header-read limit after a pause,
//! shutdown, and TLS.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use support::tls::*;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const GET: &[u8] = b"GET /users/me HTTP/1.1\r\nHost: t\r\n\r\n";

/// Read one response (head and `content-length` body) from `stream`.
async fn one_response<S: AsyncReadExt + Unpin>(stream: &mut S) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Some(end) = out.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&out[..end]).to_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                if out.len() >= end + 4 + length {
                    return;
                }
            }
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&out));
            out.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("a whole response in time");
    String::from_utf8_lossy(&out).to_string()
}

/// The idle-connection gauge is one per test process: the tests that read
/// it take turns.
static GAUGE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The number of parked connections the gateway reports.
async fn idle_connections(gw: &TestGateway) -> f64 {
    metric(&gw.metrics().await, "gateway_client_connections_idle").unwrap()
}

/// Wait until the gateway reports `n` parked connections.
async fn wait_idle(gw: &TestGateway, n: f64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while idle_connections(gw).await != n {
        assert!(Instant::now() < deadline, "never {n} idle connections");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether the peer closes `stream` within `wait`, having sent nothing.
async fn closed_silently(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(wait, stream.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test]
async fn an_idle_connection_is_parked_and_serves_its_next_requests() {
    let _turn = GAUGE.lock().await;
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    for _ in 0..3 {
        stream.write_all(GET).await.unwrap();
        let resp = one_response(&mut stream).await;
        assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
        wait_idle(&gw, 1.0).await;
    }
    // A POST with a body after the pause, on the same connection.
    stream
        .write_all(b"POST /users/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello")
        .await
        .unwrap();
    let resp = one_response(&mut stream).await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert_eq!(users.requests(), 4);
    assert_eq!(users.connections(), 1);
    drop(stream);
    wait_idle(&gw, 0.0).await;
}

#[tokio::test]
async fn many_parked_connections_are_each_served_again_when_their_client_speaks() {
    let _turn = GAUGE.lock().await;
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let mut streams = Vec::new();
    for _ in 0..20 {
        let mut stream = TcpStream::connect(gw.addr).await.unwrap();
        stream.write_all(GET).await.unwrap();
        assert!(one_response(&mut stream).await.starts_with("HTTP/1.1 200"));
        streams.push(stream);
    }
    wait_idle(&gw, 20.0).await;
    // The clients speak in another order than they parked; each gets its
    // own answer, and the others stay parked meanwhile.
    for (served, stream) in streams.iter_mut().rev().step_by(2).enumerate() {
        stream.write_all(GET).await.unwrap();
        let resp = one_response(stream).await;
        assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
        assert!(idle_connections(&gw).await >= 19.0 - served as f64);
    }
    wait_idle(&gw, 20.0).await;
    streams.truncate(5);
    wait_idle(&gw, 5.0).await;
    drop(streams);
    wait_idle(&gw, 0.0).await;
    assert_eq!(users.requests(), 30);
}

#[tokio::test]
async fn a_connection_parks_at_once_unless_its_client_came_back_quickly() {
    let _turn = GAUGE.lock().await;
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    stream.write_all(GET).await.unwrap();
    assert!(one_response(&mut stream).await.starts_with("HTTP/1.1 200"));
    // Not known to be busy: parked at once (well within the half second a
    // busy connection waits).
    let start = Instant::now();
    wait_idle(&gw, 1.0).await;
    let parked = start.elapsed();
    assert!(
        parked < Duration::from_millis(450),
        "parked after {parked:?}"
    );
    // Back at once: busy, so the next pause must last half a second
    // before the connection parks again.
    stream.write_all(GET).await.unwrap();
    assert!(one_response(&mut stream).await.starts_with("HTTP/1.1 200"));
    let back = start.elapsed();
    let still_served = idle_connections(&gw).await == 0.0;
    // Only meaningful when the test itself was quick (a loaded machine may
    // take longer than the delay to get here).
    if back < Duration::from_millis(300) {
        assert!(still_served, "a busy connection parked at once");
    }
    wait_idle(&gw, 1.0).await;
}

#[tokio::test]
async fn a_head_split_across_a_pause_is_served_within_the_header_timeout() {
    let _turn = GAUGE.lock().await;
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "[timeouts]\nheader_read = \"5s\"")).await;
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    stream.write_all(GET).await.unwrap();
    one_response(&mut stream).await;
    wait_idle(&gw, 1.0).await;
    stream
        .write_all(b"GET /users/me HTTP/1.1\r\nHo")
        .await
        .unwrap();
    wait_idle(&gw, 0.0).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stream.write_all(b"st: t\r\n\r\n").await.unwrap();
    let resp = one_response(&mut stream).await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert_eq!(users.requests(), 2);
}

#[tokio::test]
async fn pipelined_requests_are_all_answered_in_order() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    let three = [GET, GET, b"GET /users/nope HTTP/1.1\r\nHost: t\r\n\r\n"].concat();
    stream.write_all(&three).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.extend(statuses(&one_response(&mut stream).await));
    }
    assert_eq!(seen[..2], [200, 200]);
    assert_eq!(seen.len(), 3);
    // A request, then half of the next one in the same write.
    let split = [GET, &b"GET /users/me HTTP/1.1\r\nHo"[..]].concat();
    stream.write_all(&split).await.unwrap();
    let resp = one_response(&mut stream).await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    stream.write_all(b"st: t\r\n\r\n").await.unwrap();
    let resp = one_response(&mut stream).await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert_eq!(users.requests(), 5);
}

#[tokio::test]
async fn an_idle_connection_outlives_the_header_timeout_and_closes_at_client_idle() {
    let _turn = GAUGE.lock().await;
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(
        &users.url(),
        "[timeouts]\nheader_read = \"200ms\"\nclient_idle = \"1500ms\"",
    ))
    .await;
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    stream.write_all(GET).await.unwrap();
    one_response(&mut stream).await;
    // Idle for longer than the header timeout: still served.
    tokio::time::sleep(Duration::from_millis(600)).await;
    stream.write_all(GET).await.unwrap();
    let resp = one_response(&mut stream).await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    // Then closed, without a response, once idle for client_idle.
    let started = Instant::now();
    assert!(closed_silently(&mut stream, Duration::from_secs(5)).await);
    assert!(started.elapsed() >= Duration::from_millis(1000));
    wait_idle(&gw, 0.0).await;
}

#[tokio::test]
async fn a_slow_head_after_a_pause_is_cut_at_the_header_timeout() {
    let _turn = GAUGE.lock().await;
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(
        &users.url(),
        "[timeouts]\nheader_read = \"300ms\"\nclient_idle = \"30s\"",
    ))
    .await;
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    stream.write_all(GET).await.unwrap();
    one_response(&mut stream).await;
    wait_idle(&gw, 1.0).await;
    // One byte, then nothing: the head's clock runs from that byte.
    stream.write_all(b"G").await.unwrap();
    assert!(closed_silently(&mut stream, Duration::from_secs(5)).await);
    assert_eq!(users.requests(), 1);
}

#[tokio::test]
async fn the_client_idle_timeout_is_shown_and_documented() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(
        &users.url(),
        "[timeouts]\nclient_idle = \"75s\"",
    ))
    .await;
    assert_eq!(gw.config_json().await["timeouts"]["client_idle"], "75000ms");
    let docs = include_str!("../../docs/CONFIGURATION-GATEWAY.md");
    assert!(docs.contains("| `client_idle` |"));
}

#[tokio::test]
async fn shutdown_closes_parked_connections_at_once() {
    let _turn = GAUGE.lock().await;
    let users = Upstream::start("users").await;
    let mut gw = TestGateway::start(&one_route(
        &users.url(),
        "[timeouts]\nshutdown_grace = \"20s\"",
    ))
    .await;
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    stream.write_all(GET).await.unwrap();
    one_response(&mut stream).await;
    wait_idle(&gw, 1.0).await;
    let started = Instant::now();
    gw.shutdown().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(closed_silently(&mut stream, Duration::from_secs(2)).await);
}

#[tokio::test]
async fn a_tls_connection_is_parked_and_served_again() {
    let _turn = GAUGE.lock().await;
    use tokio_rustls::TlsConnector;
    use tokio_rustls::rustls::pki_types::ServerName;

    let ca = test_ca();
    let dir = tempfile::tempdir().unwrap();
    let pair = localhost_pair(&ca, dir.path());
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), &tls_section(&[pair], ""))).await;
    let tls_addr = gw.tls.expect("the HTTPS listener");
    let config = client_config(ca.cert_pem(), &[b"http/1.1"]);
    let tcp = TcpStream::connect(tls_addr).await.unwrap();
    let name = ServerName::try_from("localhost".to_string()).unwrap();
    let mut tls = TlsConnector::from(config).connect(name, tcp).await.unwrap();
    for _ in 0..2 {
        tls.write_all(GET).await.unwrap();
        let resp = one_response(&mut tls).await;
        assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
        wait_idle(&gw, 1.0).await;
    }
    assert_eq!(users.requests(), 2);
}

#[tokio::test]
async fn the_unread_body_of_a_request_answered_early_is_never_taken_for_a_request() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "[limits]\nbody = \"1KiB\"")).await;
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    // A first request, so that the connection has been idle once.
    stream.write_all(GET).await.unwrap();
    one_response(&mut stream).await;
    stream
        .write_all(b"POST /users/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2048\r\n\r\n")
        .await
        .unwrap();
    let resp = one_response(&mut stream).await;
    assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The body the gateway refused to read carries a request of its own.
    let mut body = b"GET /users/smuggled HTTP/1.1\r\nHost: t\r\n\r\n".to_vec();
    body.resize(2048, b'x');
    let _ = stream.write_all(&body).await;
    let rest = read_all(&mut stream, Duration::from_secs(2)).await;
    assert!(statuses(&rest).is_empty(), "{rest}");
    assert_eq!(users.requests(), 1);
}
