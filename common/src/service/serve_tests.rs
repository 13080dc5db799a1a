//! The drain at a stop, against a real server on a real socket: the shared
//! layers, the real `/health` and `/ready` routes on an SQLite database.

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{BaseConfig, StopTimes, apply_layers, serve};
use crate::config::{Sources, load};

const DRAIN: Duration = Duration::from_secs(3);
const GRACE: Duration = Duration::from_secs(5);

/// One response read off a connection: status, head (lower-cased) and
/// whether the server closed the connection after it.
struct Answer {
    status: u16,
    head: String,
    closed_after: bool,
}

impl Answer {
    fn says_close(&self) -> bool {
        self.head.contains("\r\nconnection: close\r\n")
    }
}

/// Send `GET path` on `conn` and read one response; then see whether the
/// server closes the connection (EOF within 1 s).
async fn get_on(conn: &mut TcpStream, path: &str) -> Answer {
    let request = format!("GET {path} HTTP/1.1\r\nhost: test\r\n\r\n");
    conn.write_all(request.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut chunk))
            .await
            .expect("response head in time")
            .expect("read");
        assert!(n > 0, "connection closed before a response to {path}");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status = head[9..12].parse().expect("status");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .map_or(0, |v| v.trim().parse().expect("content-length"));
    let mut body = buf.len() - head_end;
    while body < length {
        let mut chunk = [0u8; 4096];
        let n = conn.read(&mut chunk).await.expect("body");
        assert!(n > 0, "body cut short");
        body += n;
    }
    let mut probe = [0u8; 1];
    let closed_after = matches!(
        tokio::time::timeout(Duration::from_secs(1), conn.read(&mut probe)).await,
        Ok(Ok(0) | Err(_))
    );
    Answer {
        status,
        head,
        closed_after,
    }
}

async fn fresh(addr: std::net::SocketAddr, path: &str) -> Answer {
    let mut conn = TcpStream::connect(addr).await.expect("connect");
    get_on(&mut conn, path).await
}

#[tokio::test]
async fn a_stop_drains_not_ready_and_closing_each_connection_then_shuts_down() {
    let db = sea_orm::Database::connect("sqlite::memory:")
        .await
        .expect("sqlite");
    let (health, _) = crate::health::router().with_state(db).split_for_parts();
    let slow = get(|| async {
        tokio::time::sleep(Duration::from_millis(800)).await;
        "done"
    });
    let config: BaseConfig = load(&Sources::only(Vec::<(String, String)>::new())).expect("config");
    let router = apply_layers(Router::new().merge(health).route("/slow", slow), &config);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let times = StopTimes {
        drain_delay: DRAIN,
        grace: GRACE,
    };
    let server = tokio::spawn(serve(
        listener,
        router,
        async move {
            let _ = stopped.await;
        },
        times,
    ));

    // Before the stop: ready, connections kept alive.
    let mut pooled = TcpStream::connect(addr).await.expect("connect");
    let before = get_on(&mut pooled, "/ready").await;
    assert_eq!(before.status, 200);
    assert!(
        !before.says_close() && !before.closed_after,
        "{}",
        before.head
    );
    let mut in_flight = TcpStream::connect(addr).await.expect("connect");
    in_flight
        .write_all(b"GET /slow HTTP/1.1\r\nhost: test\r\n\r\n")
        .await
        .expect("write");
    tokio::time::sleep(Duration::from_millis(100)).await;

    let signalled = Instant::now();
    stop.send(()).expect("server running");
    tokio::time::sleep(Duration::from_millis(100)).await;

    // During the drain: not ready, still serving, every connection closed
    // after its answer (a fresh one, the one idle since before the stop,
    // and the one whose request was in flight).
    let ready = fresh(addr, "/ready").await;
    assert_eq!(ready.status, 503, "{}", ready.head);
    assert!(
        ready.head.contains("application/problem+json"),
        "{}",
        ready.head
    );
    assert!(ready.says_close() && ready.closed_after, "{}", ready.head);
    let health = fresh(addr, "/health").await;
    assert_eq!(health.status, 200);
    assert!(
        health.says_close() && health.closed_after,
        "{}",
        health.head
    );
    let reused = get_on(&mut pooled, "/health").await;
    assert_eq!(reused.status, 200, "a kept-alive connection is served");
    assert!(
        reused.says_close() && reused.closed_after,
        "{}",
        reused.head
    );
    let missing = fresh(addr, "/no-such-thing").await;
    assert_eq!(missing.status, 404);
    assert!(missing.says_close(), "{}", missing.head);
    let mut slow_answer = Vec::new();
    tokio::time::timeout(
        Duration::from_secs(5),
        in_flight.read_to_end(&mut slow_answer),
    )
    .await
    .expect("in-flight answer in time")
    .expect("read");
    let slow_answer = String::from_utf8_lossy(&slow_answer).to_ascii_lowercase();
    assert!(slow_answer.starts_with("http/1.1 200"), "{slow_answer}");
    assert!(slow_answer.contains("connection: close"), "{slow_answer}");
    assert!(
        signalled.elapsed() < DRAIN,
        "the checks above ran past the drain ({:?}); the test proves nothing",
        signalled.elapsed()
    );

    // After the drain: the server stops (nothing is in flight) and the
    // port no longer accepts.
    let result = tokio::time::timeout(DRAIN + GRACE, server)
        .await
        .expect("the server stopped within drain + grace")
        .expect("server task");
    result.expect("serve");
    assert!(
        signalled.elapsed() >= DRAIN,
        "stopped {:?} after the signal, before the drain delay",
        signalled.elapsed()
    );
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the listener still accepts after the stop"
    );
}

#[tokio::test]
async fn without_a_drain_delay_a_stop_starts_the_graceful_shutdown_at_once() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let router = Router::new().route("/health", get(crate::health::health));
    let times = StopTimes {
        drain_delay: Duration::ZERO,
        grace: GRACE,
    };
    let started = Instant::now();
    let result = tokio::time::timeout(
        Duration::from_secs(2),
        serve(listener, router, std::future::ready(()), times),
    )
    .await
    .expect("stopped at once");
    result.expect("serve");
    assert!(started.elapsed() < Duration::from_secs(2));
}
