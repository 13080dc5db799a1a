//! Parked upstream sockets are swept on a timer, not only when a
//! connection is handed back to the same worker's slot: after a burst of
//! 50 concurrent requests, with no traffic to that address any more and
//! the upstream gone, the gateway's descriptors and its `CLOSE_WAIT`
//! sockets are back to their baseline within `upstream_idle` (plus the
//! sweep's period). Alone in its file: it counts the process's
//! descriptors. (The address leaving the upstream's set at a
//! re-resolution is tested in `upstreams/pool/sweep_tests.rs`.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Open descriptors of this process (the gateway runs in it).
fn descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Sockets in `CLOSE_WAIT` whose peer is `peer` (IPv4, `/proc/net/tcp`).
fn close_wait_to(peer: SocketAddr) -> usize {
    let SocketAddr::V4(v4) = peer else {
        panic!("IPv4 only")
    };
    let ip = u32::from_le_bytes(v4.ip().octets());
    let remote = format!("{ip:08X}:{:04X}", v4.port());
    std::fs::read_to_string("/proc/net/tcp")
        .unwrap()
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // `08` is TCP_CLOSE_WAIT.
            fields.get(2) == Some(&remote.as_str()) && fields.get(3) == Some(&"08")
        })
        .count()
}

/// A keep-alive upstream answering `200 ok` after 200 ms (so concurrent
/// requests each take a connection); every connection is dropped, and the
/// listener with them, once `stop` turns true.
async fn upstream() -> (SocketAddr, watch::Sender<bool>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = watch::channel(false);
    let mut accepting = stopped.clone();
    tokio::spawn(async move {
        loop {
            let mut stream = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => stream,
                    Err(_) => return,
                },
                _ = accepting.wait_for(|s| *s) => return,
            };
            let mut stopped = stopped.clone();
            tokio::spawn(async move {
                let serve = async {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 1024];
                    loop {
                        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                            match stream.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        buf.clear();
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                        if stream.write_all(ok).await.is_err() {
                            return;
                        }
                    }
                };
                tokio::select! {
                    () = serve => {}
                    _ = stopped.wait_for(|s| *s) => {}
                }
            });
        }
    });
    (addr, stop)
}

/// One `GET` on a connection of its own (`Connection: close`); the status.
async fn get(gw: SocketAddr, n: usize) -> u16 {
    let mut stream = TcpStream::connect(gw).await.unwrap();
    let request =
        format!("GET /users/{n} HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let answer = read_all(&mut stream, Duration::from_secs(10)).await;
    statuses(&answer).first().copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parked_sockets_of_a_burst_are_closed_after_upstream_idle_without_more_traffic() {
    let (a, stop_a) = upstream().await;
    let gw = TestGateway::start(&format!(
        r#"
[listen]
workers = 2
[timeouts]
upstream_idle = "1s"
[upstreams.swept]
endpoints = ["http://{a}"]
[[routes]]
prefix = "/users/"
upstream = "swept"
"#
    ))
    .await;
    // Let the gateway's own descriptors settle (listeners, timers).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let baseline = descriptors();
    assert_eq!(close_wait_to(a), 0);

    let burst: Vec<_> = (0..50).map(|n| tokio::spawn(get(gw.addr, n))).collect();
    for request in burst {
        assert_eq!(request.await.unwrap(), 200);
    }
    let during = descriptors();
    assert!(
        during >= baseline + 40,
        "the burst opened upstream connections: {baseline} -> {during}"
    );
    // Idle for a second or two: parked as bare sockets.
    let series = "gateway_upstream_connections_parked_total{upstream=\"swept\"}";
    let parked = poll_until(
        || async { metric(&gw.metrics().await, series).unwrap_or(0.0) },
        |n| *n >= 40.0,
    )
    .await;
    assert!(parked >= 40.0, "parked {parked}");
    // The upstream goes away: the parked sockets see its FIN.
    stop_a.send_replace(true);
    let stopped_at = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    eprintln!(
        "after the upstream stopped: {} descriptors (baseline {baseline}), {} in CLOSE_WAIT",
        descriptors(),
        close_wait_to(a)
    );
    // No request comes for that address again: the sweep closes them
    // within `upstream_idle` plus its period (a quarter of it).
    let mut last = (usize::MAX, usize::MAX);
    while stopped_at.elapsed() < Duration::from_secs(8) {
        last = (descriptors(), close_wait_to(a));
        if last.0 <= baseline && last.1 == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "{:?} after the upstream stopped: {} descriptors (baseline {baseline}), {} in CLOSE_WAIT",
        stopped_at.elapsed(),
        last.0,
        last.1
    );
    assert_eq!(last.1, 0, "sockets left in CLOSE_WAIT");
    assert!(
        last.0 <= baseline,
        "descriptors {} > baseline {baseline}",
        last.0
    );
}
