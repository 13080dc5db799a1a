//! What one client may hold open: connections per address
//! (`limits.connections_per_client`, trusted proxies exempt) and streams
//! per HTTP/2 connection (`limits.http2_max_concurrent_streams`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A `GET /users/me` on a new connection; the raw answer.
async fn get_on_new_connection(gw: &TestGateway) -> String {
    raw(
        gw.addr,
        b"GET /users/me HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    )
    .await
}

#[tokio::test]
async fn a_client_over_its_connection_limit_is_refused_with_429() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(
        &users.url(),
        "[limits]\nconnections_per_client = 2",
    ))
    .await;
    refused_until_a_place_comes_back(
        &gw,
        429,
        "too many connections from this address (at most 2)",
        "per_client_limit",
        "",
    )
    .await;
}

/// With two connections held, a third gets `status` (a problem+json saying
/// `message`, with `header_line` in its head), counted as refused for
/// `reason`; once one of the two closes, a new connection is served.
async fn refused_until_a_place_comes_back(
    gw: &TestGateway,
    status: u16,
    message: &str,
    reason: &str,
    header_line: &str,
) {
    let first = TcpStream::connect(gw.addr).await.unwrap();
    let _second = TcpStream::connect(gw.addr).await.unwrap();
    let refused = get_on_new_connection(gw).await;
    assert_eq!(statuses(&refused), [status], "{refused}");
    assert!(refused.contains("application/problem+json"), "{refused}");
    assert!(refused.contains(header_line), "{refused}");
    assert!(raw_body(&refused).contains(message), "{refused}");
    let series = format!("gateway_client_connections_refused_total{{reason=\"{reason}\"}}");
    assert!(metric(&gw.metrics().await, &series).unwrap() >= 1.0);

    // A closed connection gives its place back.
    drop(first);
    let answer = poll_until(
        || get_on_new_connection(gw),
        |answer| statuses(answer) == [200],
    )
    .await;
    assert_eq!(statuses(&answer), [200], "{answer}");
}

#[tokio::test]
async fn trusted_proxies_are_not_limited() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(
        &users.url(),
        "trusted_proxies = [\"127.0.0.1\"]\n[limits]\nconnections_per_client = 1",
    ))
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(gw.addr).await.unwrap());
    }
    for stream in &mut held {
        stream
            .write_all(b"GET /users/me HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
    }
    for stream in &mut held {
        let answer = read_all(stream, Duration::from_secs(5)).await;
        assert_eq!(statuses(&answer), [200], "{answer}");
    }
}

#[tokio::test]
async fn open_client_connections_are_counted() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let _held = TcpStream::connect(gw.addr).await.unwrap();
    let open = poll_until(
        || async { metric(&gw.metrics().await, "gateway_client_connections_open") },
        |open| open.is_some_and(|n| n >= 1.0),
    )
    .await;
    assert!(open.is_some_and(|n| n >= 1.0), "{open:?}");
}

/// The `SETTINGS_MAX_CONCURRENT_STREAMS` a new HTTP/2 connection to `gw`
/// is given (after one request, so the server's settings have arrived).
async fn advertised_streams(gw: &TestGateway) -> usize {
    let (_, conn) = h2_after_one_get(gw.addr, "/users/me").await;
    conn.max_concurrent_send_streams()
}

#[tokio::test]
async fn http2_streams_per_connection_are_capped_as_configured_and_reloaded() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start_with(&one_route(&users.url(), ""), |o| o.watch = true).await;
    assert_eq!(advertised_streams(&gw).await, 128, "the default");
    std::fs::write(
        &gw.config_path,
        one_route(&users.url(), "[limits]\nhttp2_max_concurrent_streams = 3"),
    )
    .unwrap();
    let advertised = poll_until(|| advertised_streams(&gw), |n| *n == 3).await;
    assert_eq!(advertised, 3, "new connections get the reloaded limit");
    assert_eq!(
        gw.config_json().await["client_limits"]["http2_max_concurrent_streams"],
        3
    );
}

#[tokio::test]
async fn the_connection_limit_is_reloaded() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start_with(&one_route(&users.url(), ""), |o| o.watch = true).await;
    assert_eq!(
        gw.config_json().await["client_limits"]["connections_per_client"],
        serde_json::Value::Null,
        "no per-client cap by default"
    );
    std::fs::write(
        &gw.config_path,
        one_route(&users.url(), "[limits]\nconnections_per_client = 1"),
    )
    .unwrap();
    let _held = TcpStream::connect(gw.addr).await.unwrap();
    let answer = poll_until(
        || get_on_new_connection(&gw),
        |answer| statuses(answer) == [429],
    )
    .await;
    assert_eq!(statuses(&answer), [429], "{answer}");
}

#[tokio::test]
async fn the_limit_counts_both_listeners_and_the_https_one_closes_without_an_answer() {
    use support::tls::*;
    let users = Upstream::start("users").await;
    let ca = test_ca();
    let dir = tempfile::tempdir().unwrap();
    let pair = localhost_pair(&ca, dir.path());
    let extra = format!(
        "[limits]\nconnections_per_client = 1\n{}",
        tls_section(&[pair], "")
    );
    let gw = TestGateway::start(&one_route(&users.url(), &extra)).await;
    let https = gw.tls.expect("https listener");
    let config = client_config(ca.cert_pem(), &[b"http/1.1"]);

    // One request answered on the plain connection: it has been accepted
    // (and holds the address's one place) before the HTTPS attempt.
    let mut plain = TcpStream::connect(gw.addr).await.unwrap();
    plain
        .write_all(b"GET /users/me HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let mut head = [0u8; 12];
    plain.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    let refused = https_get(https, &config, "localhost", "/users/me").await;
    assert!(refused.is_err(), "{:?}", refused.map(|f| f.status));

    drop(plain);
    let served = poll_until(
        || https_get(https, &config, "localhost", "/users/me"),
        Result::is_ok,
    )
    .await;
    assert_eq!(served.map(|f| f.status), Ok(200));
}

/// The default is safe for an office or a carrier-grade NAT: 300
/// connections from one address are all served (issue 31: the old default
/// of 256 refused 209 of them with `429`).
#[tokio::test]
async fn by_default_one_address_may_hold_hundreds_of_connections() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let mut held = Vec::new();
    for _ in 0..300 {
        held.push(TcpStream::connect(gw.addr).await.unwrap());
    }
    for stream in &mut held {
        stream
            .write_all(b"GET /users/me HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
    }
    let mut ok = 0;
    for stream in &mut held {
        let answer = read_all(stream, Duration::from_secs(10)).await;
        if statuses(&answer) == [200] {
            ok += 1;
        }
    }
    assert_eq!(ok, 300);
}

/// `limits.connections` caps all clients together: past it a new
/// connection gets `503` with `Retry-After` and is closed, and a place
/// comes back when a connection closes.
#[tokio::test]
async fn past_the_total_connection_cap_new_connections_get_503() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(
        &users.url(),
        // Trusted proxies count in the total too.
        "trusted_proxies = [\"127.0.0.1\"]\n[limits]\nconnections = 2",
    ))
    .await;
    refused_until_a_place_comes_back(
        &gw,
        503,
        "the gateway holds as many connections as it may (2)",
        "connection_limit",
        "retry-after: 1\r\n",
    )
    .await;
}

/// An HTTP/2 connection that carries no request for `timeouts.client_idle`
/// is sent `GOAWAY` and closed (it used to be pinged forever); one with a
/// request in flight is not.
#[tokio::test]
async fn an_idle_http2_connection_is_closed_after_client_idle() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(
        &users.url(),
        "[timeouts]\nclient_idle = \"300ms\"",
    ))
    .await;
    let (_h2, conn) = h2_after_one_get(gw.addr, "/users/me").await;
    let ended = tokio::time::timeout(Duration::from_secs(5), conn)
        .await
        .expect("the gateway closes the idle connection");
    assert!(ended.is_ok(), "closed gracefully (GOAWAY): {ended:?}");

    // A request lasting longer than `client_idle` is not cut.
    let (mut h2, mut conn) = h2_after_one_get(gw.addr, "/users/me").await;
    let request = http::Request::get(format!("http://{}/users/sleep?ms=1000", gw.addr))
        .body(())
        .unwrap();
    let (response, _) = h2.send_request(request, true).unwrap();
    let response = tokio::select! {
        response = response => response.unwrap(),
        ended = &mut conn => panic!("connection ended first: {ended:?}"),
    };
    assert_eq!(response.status(), 200);
}
