//! Idle upstream connections are parked as bare sockets (hyper's client
//! state dropped) after a second or two unused, and revived for the next
//! request on the same TCP connection; a parked socket the upstream closed
//! is never used; an `Upgrade` request gets a connection of its own, even
//! when the pool's only place is held by an idle connection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The counter `name` of upstream `upstream` (each test names its own
/// upstream: the metrics recorder is one per test process, and `cargo
/// test` runs the tests of a file in one process).
async fn counter(gw: &TestGateway, name: &str, upstream: &str) -> Option<f64> {
    let series = format!("gateway_upstream_connections_{name}_total{{upstream=\"{upstream}\"}}");
    metric(&gw.metrics().await, &series)
}

/// Wait until the gateway has parked `n` connections to `upstream` in all.
async fn wait_parked(gw: &TestGateway, upstream: &str, n: f64) {
    let parked = poll_until(
        || async { counter(gw, "parked", upstream).await.unwrap_or(0.0) },
        |v| *v >= n,
    )
    .await;
    assert!(parked >= n, "parked {parked}, wanted {n}");
}

/// A gateway with one worker (so one pool) routing `/users/` to `addr`,
/// upstream `upstream`.
async fn one_worker_gateway(addr: SocketAddr, upstream: &str) -> TestGateway {
    TestGateway::start(&format!(
        r#"
[listen]
workers = 1
[upstreams.{upstream}]
endpoints = ["http://{addr}"]
[[routes]]
prefix = "/users/"
upstream = "{upstream}"
"#
    ))
    .await
}

/// The status of a GET of `path` through `gw`.
async fn get(c: &reqwest::Client, gw: &TestGateway, path: &str) -> u16 {
    c.get(gw.url(path)).send().await.unwrap().status().as_u16()
}

/// The status of a small JSON POST through `gw`.
async fn post(c: &reqwest::Client, gw: &TestGateway) -> u16 {
    let resp = c.post(gw.url("/users/orders")).body("{\"n\":1}").send();
    resp.await.unwrap().status().as_u16()
}

/// Read a request or response head (up to the blank line).
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&head).to_lowercase())
}

/// A raw keep-alive upstream: `200 ok` to every request (its body, if
/// any, is a `content-length` one and read), `101` and an echo to a
/// WebSocket upgrade. Counts connections and request heads; every
/// connection closes when `close` turns true.
async fn raw_upstream() -> (
    SocketAddr,
    Arc<AtomicUsize>,
    Arc<AtomicUsize>,
    watch::Sender<bool>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let conns = Arc::new(AtomicUsize::new(0));
    let heads = Arc::new(AtomicUsize::new(0));
    let (close, closed) = watch::channel(false);
    let (c, h) = (Arc::clone(&conns), Arc::clone(&heads));
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            c.fetch_add(1, Ordering::SeqCst);
            let heads = Arc::clone(&h);
            let mut closed = closed.clone();
            tokio::spawn(async move {
                let serve = async {
                    while let Some(head) = read_head(&mut stream).await {
                        heads.fetch_add(1, Ordering::SeqCst);
                        if head.contains("upgrade: websocket") {
                            stream
                                .write_all(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
                                .await
                                .unwrap();
                            let (mut read, mut write) = stream.split();
                            let _ = tokio::io::copy(&mut read, &mut write).await;
                            return;
                        }
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length: "))
                            .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                        let mut body = vec![0u8; length];
                        stream.read_exact(&mut body).await.unwrap();
                        stream
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                            .await
                            .unwrap();
                    }
                };
                tokio::select! {
                    () = serve => {}
                    _ = closed.wait_for(|c| *c) => {}
                }
            });
        }
    });
    (addr, conns, heads, close)
}

#[tokio::test]
async fn an_idle_upstream_connection_is_parked_then_revived_on_the_same_socket() {
    let (addr, conns, heads, _close) = raw_upstream().await;
    let gw = one_worker_gateway(addr, "revived").await;
    let c = client();
    let resp = c.get(gw.url("/users/a")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "ok");
    wait_parked(&gw, "revived", 1.0).await;
    assert_eq!(counter(&gw, "revived", "revived").await, None);
    // The next requests (a POST too: its body goes out on the revived
    // connection) reuse the parked socket: still one upstream connection.
    let resp = c.get(gw.url("/users/b")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "ok");
    assert_eq!(post(&c, &gw).await, 200);
    assert_eq!(conns.load(Ordering::SeqCst), 1);
    assert_eq!(heads.load(Ordering::SeqCst), 3);
    assert_eq!(counter(&gw, "revived", "revived").await, Some(1.0));
    // Parked again once idle, revived again.
    wait_parked(&gw, "revived", 2.0).await;
    assert_eq!(get(&c, &gw, "/users/c").await, 200);
    assert_eq!(conns.load(Ordering::SeqCst), 1);
    assert_eq!(counter(&gw, "revived", "revived").await, Some(2.0));
}

#[tokio::test]
async fn a_parked_connection_the_upstream_closed_is_not_used() {
    let (addr, conns, heads, close) = raw_upstream().await;
    let gw = one_worker_gateway(addr, "closed").await;
    let c = client();
    assert_eq!(get(&c, &gw, "/users/a").await, 200);
    wait_parked(&gw, "closed", 1.0).await;
    // The upstream closes its side of the parked connection.
    close.send_replace(true);
    tokio::time::sleep(Duration::from_millis(200)).await;
    close.send_replace(false);
    // A POST is never replayed: had it gone out on the closed socket, it
    // would fail with a 502. It goes out on a new connection instead.
    assert_eq!(post(&c, &gw).await, 200);
    assert_eq!(conns.load(Ordering::SeqCst), 2);
    assert_eq!(heads.load(Ordering::SeqCst), 2);
    assert_eq!(counter(&gw, "revived", "closed").await, None);
}

#[tokio::test]
async fn an_upgrade_gets_its_own_connection_even_when_an_idle_one_holds_the_only_place() {
    let (addr, conns, _heads, _close) = raw_upstream().await;
    let gw = TestGateway::start(&format!(
        r#"
[listen]
workers = 1
[upstreams.users]
endpoints = ["http://{addr}"]
max_connections_per_endpoint = 1
[[routes]]
prefix = "/users/"
upstream = "users"
upgrades = true
"#
    ))
    .await;
    let c = client();
    assert_eq!(get(&c, &gw, "/users/a").await, 200);
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    stream
        .write_all(
            b"GET /users/chat HTTP/1.1\r\nHost: shop.test\r\nUpgrade: websocket\r\n\
              Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
              Sec-WebSocket-Version: 13\r\n\r\n",
        )
        .await
        .unwrap();
    let head = tokio::time::timeout(Duration::from_secs(5), read_head(&mut stream))
        .await
        .expect("the upgrade answered without waiting for a place")
        .unwrap();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    stream.write_all(b"ping").await.unwrap();
    let mut back = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut back))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&back, b"ping");
    // The idle connection made room: two connections in all.
    assert_eq!(conns.load(Ordering::SeqCst), 2);
    drop(stream);
    // Its place is free again once the tunnel closed.
    let resp = poll_until(|| get(&c, &gw, "/users/b"), |s| *s == 200).await;
    assert_eq!(resp, 200);
}
