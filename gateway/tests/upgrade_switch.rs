//! Upgrades per route: a route passes `Upgrade` requests through only
//! with `upgrades = true`; elsewhere the request goes upstream as a plain
//! one (no `Upgrade`, no `Connection: upgrade`), as NGINX sends it
//! without `proxy_set_header Upgrade`. A tunnel keeps its place under
//! `max_connections_per_endpoint` until it closes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const WEBSOCKET_REQUEST: &[u8] = b"GET /users/chat HTTP/1.1\r\nHost: shop.test\r\n\
    Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// Read a head (up to the blank line), lower-cased; `None` at EOF.
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

/// A keep-alive upstream: `101` and an echo to a WebSocket upgrade,
/// `200 ok` to anything else.
async fn upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                while let Some(head) = read_head(&mut stream).await {
                    if head.contains("upgrade: websocket") {
                        let switched = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
                        stream.write_all(switched).await.unwrap();
                        let (mut read, mut write) = stream.split();
                        let _ = tokio::io::copy(&mut read, &mut write).await;
                        return;
                    }
                    let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                    if stream.write_all(ok).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn an_upgrade_on_a_route_without_upgrades_goes_upstream_as_a_plain_request() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let mut stream = TcpStream::connect(gw.addr).await.unwrap();
    stream.write_all(WEBSOCKET_REQUEST).await.unwrap();
    stream
        .write_all(b"GET /users/after HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let resp = read_all(&mut stream, Duration::from_secs(5)).await;
    // The upstream's answer to a plain GET, and the connection stays HTTP.
    assert_eq!(statuses(&resp), [200, 200], "{resp}");
    let first = resp.split("HTTP/1.1 200").nth(1).unwrap();
    assert!(!first.to_lowercase().contains("\r\nupgrade:"), "{first}");
    let e = echo(first.split_once("\r\n\r\n").unwrap().1.trim_end());
    assert!(
        echoed(&e, "upgrade").is_empty(),
        "the upstream saw an upgrade: {e}"
    );
    assert!(
        echoed(&e, "connection")
            .iter()
            .all(|c| !c.to_lowercase().contains("upgrade")),
        "{e}"
    );
    assert!(resp.contains("\"path\":\"/after\""), "{resp}");
}

#[tokio::test]
async fn a_tunnel_holds_its_place_under_the_endpoint_cap_until_it_closes() {
    let addr = upstream().await;
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
response_timeout = "1s"
upgrades = true
"#
    ))
    .await;
    let c = client();
    let mut tunnel = TcpStream::connect(gw.addr).await.unwrap();
    tunnel.write_all(WEBSOCKET_REQUEST).await.unwrap();
    let head = read_head(&mut tunnel).await.unwrap();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    tunnel.write_all(b"ping").await.unwrap();
    let mut back = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(5), tunnel.read_exact(&mut back))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&back, b"ping");
    // The tunnel holds the only place: a request waits for it, and its
    // response timeout runs out.
    let status = c.get(gw.url("/users/a")).send().await.unwrap().status();
    assert_eq!(
        status, 504,
        "a request went past the cap while the tunnel is open"
    );
    // Closed: the place is free again.
    drop(tunnel);
    let status = poll_until(
        || async {
            c.get(gw.url("/users/b"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        },
        |s| *s == 200,
    )
    .await;
    assert_eq!(status, 200);
}
