//! Slow readers do not stall everyone else: clients that ask for a large
//! body and never read it each hold an upstream connection until
//! `timeouts.client_send` cuts them; with `max_connections_per_client`
//! (the upstream's fair share per client) they hold at most that many
//! each, and a request from another address is answered at once instead
//! of waiting for `client_send`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use support::*;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// The big body: 32 MiB, far more than the sockets in between hold.
const BIG: u64 = 32 * 1024 * 1024;

/// `left` bytes of `x`, in 64 KiB chunks of one shared buffer.
struct Big {
    chunk: Bytes,
    left: u64,
}

impl Body for Big {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let n = self.left.min(self.chunk.len() as u64);
        self.left -= n;
        Poll::Ready(Some(Ok(Frame::data(self.chunk.slice(..n as usize)))))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}

/// An upstream answering `/big` with [`BIG`] bytes and anything else with
/// `ok`; counts the `/big` requests it received.
async fn upstream() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let bigs = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&bigs);
    let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (seen, chunk) = (Arc::clone(&seen), chunk.clone());
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let big = req.uri().path() == "/big";
                    if big {
                        seen.fetch_add(1, Ordering::SeqCst);
                    }
                    let left = if big { BIG } else { 0 };
                    let body = if big {
                        Big {
                            chunk: chunk.clone(),
                            left,
                        }
                    } else {
                        Big {
                            chunk: Bytes::from_static(b"ok"),
                            left: 2,
                        }
                    };
                    async move { Ok::<_, Infallible>(hyper::Response::new(body)) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (addr, bigs)
}

/// A connection to `gw` from the loopback address `from`.
async fn connect_from(from: &str, gw: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    socket.connect(gw).await.unwrap()
}

/// A gateway (one worker, 8 connections to the endpoint) in front of
/// `upstream`, with `share` as the upstream's extra settings.
async fn gateway(upstream: SocketAddr, share: &str) -> TestGateway {
    TestGateway::start(&format!(
        r#"
[listen]
workers = 1
[timeouts]
client_send = "20s"
[upstreams.users]
endpoints = ["http://{upstream}"]
max_connections_per_endpoint = 8
{share}
[[routes]]
prefix = "/users/"
upstream = "users"
"#
    ))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_never_read_a_big_body_do_not_hold_every_upstream_connection() {
    let (upstream, bigs) = upstream().await;
    let gw = gateway(upstream, "max_connections_per_client = 2").await;
    // Twelve clients from two addresses ask for the big body and never
    // read a byte of it.
    let mut readers = Vec::new();
    for n in 0..12 {
        let from = if n % 2 == 0 { "127.0.0.2" } else { "127.0.0.3" };
        let mut stream = connect_from(from, gw.addr).await;
        stream
            .write_all(b"GET /users/big HTTP/1.1\r\nHost: shop.test\r\n\r\n")
            .await
            .unwrap();
        readers.push(stream);
    }
    // Their share (2 each) is streaming; the others wait in line for it.
    let started = poll_until(|| async { bigs.load(Ordering::SeqCst) }, |n| *n >= 4).await;
    assert_eq!(started, 4, "two per client address");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        bigs.load(Ordering::SeqCst),
        4,
        "still two per client address"
    );

    // A third address is answered at once, well before `client_send`.
    let began = Instant::now();
    let mut stream = connect_from("127.0.0.4", gw.addr).await;
    stream
        .write_all(b"GET /users/small HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = read_all(&mut stream, Duration::from_secs(25)).await;
    let took = began.elapsed();
    eprintln!("a third client's request with 12 non-reading clients: {took:?}");
    assert_eq!(statuses(&answer), [200], "{answer}");
    assert!(raw_body(&answer).ends_with("ok"), "{answer}");
    assert!(
        took < Duration::from_secs(5),
        "answered in {took:?}, well before client_send (20 s)"
    );
    drop(readers);
}
