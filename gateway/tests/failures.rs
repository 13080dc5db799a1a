//! Every failure status, each a problem+json body with the request id.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use support::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

async fn assert_problem(resp: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(resp.status(), status);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert_eq!(body["request_id"], id.as_str());
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    body
}

/// An address whose accept queue is full, so connecting hangs.
async fn unresponsive_endpoint() -> (SocketAddr, Vec<std::net::TcpStream>, socket2::Socket) {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    socket.listen(0).unwrap();
    let addr = socket.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(s) = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            fillers.push(s);
        }
    }
    (addr, fillers, socket)
}

#[tokio::test]
async fn refused_upstream_is_a_502() {
    let dead = closed_port().await;
    let gw = TestGateway::start(&one_route(&format!("http://{dead}"), "")).await;
    let resp = client().get(gw.url("/users/me")).send().await.unwrap();
    assert_problem(resp, 502).await;
}

#[tokio::test]
async fn upstream_connect_timeout_is_a_504() {
    let (addr, _fillers, _socket) = unresponsive_endpoint().await;
    let gw = TestGateway::start(&one_route(
        &format!("http://{addr}"),
        "[timeouts]\nconnect = \"300ms\"",
    ))
    .await;
    let resp = client().get(gw.url("/users/me")).send().await.unwrap();
    let body = assert_problem(resp, 504).await;
    assert!(
        body["detail"].as_str().unwrap().contains("connection"),
        "{body}"
    );
}

#[tokio::test]
async fn upstream_response_timeout_is_a_504() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "[timeouts]\nresponse = \"300ms\"")).await;
    let resp = client()
        .get(gw.url("/users/sleep?ms=3000"))
        .send()
        .await
        .unwrap();
    let body = assert_problem(resp, 504).await;
    assert!(
        body["detail"].as_str().unwrap().contains("in time"),
        "{body}"
    );
}

#[tokio::test]
async fn a_route_can_have_its_own_response_timeout() {
    let users = Upstream::start("users").await;
    let toml = format!(
        r#"
[upstreams.users]
endpoints = ["{}"]
[[routes]]
prefix = "/users/"
upstream = "users"
response_timeout = "200ms"
"#,
        users.url()
    );
    let gw = TestGateway::start(&toml).await;
    let resp = client()
        .get(gw.url("/users/sleep?ms=2000"))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 504).await;
}

#[tokio::test]
async fn declared_body_over_the_limit_is_a_413_before_the_upstream() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "[limits]\nbody = \"1KiB\"")).await;
    let resp = client()
        .post(gw.url("/users/echo"))
        .body(vec![b'x'; 2048])
        .send()
        .await
        .unwrap();
    assert_problem(resp, 413).await;
    assert_eq!(users.requests(), 0);
}

#[tokio::test]
async fn streamed_body_over_the_limit_is_a_413_and_the_upstream_never_sees_more() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "[limits]\nbody = 10000")).await;
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    stream
        .write_all(b"POST /users/upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        .await
        .unwrap();
    for _ in 0..5 {
        let chunk = vec![b'z'; 4000];
        let _ = stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .await;
        let _ = stream.write_all(&chunk).await;
        let _ = stream.write_all(b"\r\n").await;
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let resp = read_all(&mut stream, Duration::from_secs(5)).await;
    assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");
    assert!(resp.contains("application/problem+json"), "{resp}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        users
            .seen
            .body_bytes
            .load(std::sync::atomic::Ordering::SeqCst)
            <= 10000
    );
}

#[tokio::test]
async fn a_route_can_raise_its_body_limit() {
    let users = Upstream::start("users").await;
    let toml = format!(
        r#"
[limits]
body = 100
[upstreams.users]
endpoints = ["{}"]
[[routes]]
prefix = "/users/"
upstream = "users"
body_limit = "64KiB"
"#,
        users.url()
    );
    let gw = TestGateway::start(&toml).await;
    let resp = client()
        .post(gw.url("/users/echo"))
        .body(vec![b'x'; 50_000])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(echo(&resp.text().await.unwrap())["body_len"], 50_000);
}

#[tokio::test]
async fn headers_over_the_limit_are_a_431() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "[limits]\nheaders = \"4KiB\"")).await;
    let resp = client()
        .get(gw.url("/users/me"))
        .header("x-big", "y".repeat(5000))
        .send()
        .await
        .unwrap();
    assert_problem(resp, 431).await;
    assert_eq!(users.requests(), 0);
}

#[tokio::test]
async fn huge_headers_are_a_431_even_past_the_read_buffer() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "[limits]\nheaders = \"4KiB\"")).await;
    let req = format!(
        "GET /users/me HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n",
        "y".repeat(100_000)
    );
    let resp = raw(gw.addr, req.as_bytes(), Duration::from_secs(5)).await;
    assert!(resp.starts_with("HTTP/1.1 431"), "{resp}");
    // hyper refuses this head itself; the answer is still a problem.
    assert!(resp.contains("application/problem+json"), "{resp}");
    assert!(raw_body(&resp).contains("\"request_id\""), "{resp}");
    assert_eq!(users.requests(), 0);
}

/// Send `first` (possibly nothing) to a gateway with a 300 ms header-read
/// timeout and stall: the answer must be a 408 problem, and the upstream
/// must see nothing.
async fn stall_after(first: &[u8]) {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(
        &users.url(),
        "[timeouts]\nheader_read = \"300ms\"",
    ))
    .await;
    let started = std::time::Instant::now();
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    stream.write_all(first).await.unwrap();
    let resp = read_all(&mut stream, Duration::from_secs(5)).await;
    assert!(resp.starts_with("HTTP/1.1 408"), "{resp}");
    assert!(resp.contains("application/problem+json"), "{resp}");
    assert!(raw_body(&resp).contains("\"request_id\""), "{resp}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(users.requests(), 0);
}

#[tokio::test]
async fn a_client_too_slow_sending_headers_gets_408() {
    stall_after(b"GET /users/me HTTP/1.1\r\nHost: t\r\nX-Slow:").await;
}

#[tokio::test]
async fn a_connection_that_sends_nothing_gets_408_after_the_header_timeout() {
    stall_after(b"").await;
}

#[tokio::test]
async fn a_connection_that_stalls_inside_the_http2_preface_gets_408() {
    stall_after(b"PRI * HTTP/2.0\r\n").await;
}

/// What a fresh gateway in front of a fresh upstream answers to `request`
/// sent raw, and the upstream.
async fn raw_answer(request: &[u8]) -> (String, Upstream) {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    (raw(gw.addr, request, Duration::from_secs(3)).await, users)
}

#[tokio::test]
async fn a_malformed_request_line_is_a_400() {
    let (resp, users) = raw_answer(b"GET /users/me HTTP/9.9 extra\r\n\r\n").await;
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");
    assert!(resp.contains("application/problem+json"), "{resp}");
    assert!(raw_body(&resp).contains("\"request_id\""), "{resp}");
    assert_eq!(users.requests(), 0);
}

#[tokio::test]
async fn garbage_after_a_pipelined_request_is_a_400_problem_after_its_answer() {
    let (resp, users) =
        raw_answer(b"GET /users/first HTTP/1.1\r\nHost: t\r\n\r\nNOT HTTP AT ALL\r\n\r\n").await;
    assert_eq!(statuses(&resp), vec![200, 400], "{resp}");
    let second = &resp[resp.find("HTTP/1.1 400").unwrap()..];
    assert!(second.contains("application/problem+json"), "{second}");
    assert!(raw_body(second).contains("\"status\":400"), "{second}");
    assert_eq!(users.requests(), 1);
}

#[tokio::test]
async fn a_post_that_reached_a_dying_upstream_is_not_replayed() {
    // An upstream that reads the request and closes without answering.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = tokio::io::AsyncReadExt::read(&mut s, &mut buf).await;
            drop(s);
        }
    });
    let gw = TestGateway::start(&one_route(&format!("http://{addr}"), "")).await;
    let resp = client()
        .post(gw.url("/users/orders"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(resp, 502).await;
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// An upstream that answers the first request of each connection and
/// closes the connection, unanswered, on the second.
async fn answers_once_per_connection()
-> (SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let heads = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = heads.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let mut answered = false;
                loop {
                    let Ok(n) = s.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if answered {
                        return; // close under the second request
                    }
                    answered = true;
                    let _ = s
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .await;
                }
            });
        }
    });
    (addr, heads)
}

#[tokio::test]
async fn a_get_failing_on_a_pooled_connection_is_retried_on_a_fresh_one() {
    let (addr, heads) = answers_once_per_connection().await;
    let gw = TestGateway::start(&one_route(
        &format!("http://{addr}"),
        "[listen]\nworkers = 1",
    ))
    .await;
    let c = client();
    assert_eq!(
        c.get(gw.url("/users/a")).send().await.unwrap().status(),
        200
    );
    // Goes out on the pooled connection, which the upstream closes: retried.
    let resp = c.get(gw.url("/users/b")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(heads.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_post_failing_on_a_pooled_connection_is_not_replayed() {
    let (addr, heads) = answers_once_per_connection().await;
    let gw = TestGateway::start(&one_route(
        &format!("http://{addr}"),
        "[listen]\nworkers = 1",
    ))
    .await;
    let c = client();
    assert_eq!(
        c.get(gw.url("/users/a")).send().await.unwrap().status(),
        200
    );
    let resp = c
        .post(gw.url("/users/orders"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(resp, 502).await;
    assert_eq!(heads.load(std::sync::atomic::Ordering::SeqCst), 2);
}
