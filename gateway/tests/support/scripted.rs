//! An upstream whose answers a test sets while it runs: one status for
//! `/health` (what active checks see) and one for every other path, each
//! counted; and the gateway's health as `/metrics` and `/readyz` show it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::{TestGateway, client, metric};

/// What a [`Scripted`] upstream answers and has seen.
#[derive(Debug)]
pub struct Script {
    /// Status of `/health`.
    pub health: AtomicU16,
    /// Status of every other path.
    pub status: AtomicU16,
    /// `/health` requests seen.
    pub checks: AtomicUsize,
    /// Other requests seen.
    pub requests: AtomicUsize,
}

/// A running scripted upstream on 127.0.0.1:0.
pub struct Scripted {
    /// Its address.
    pub addr: SocketAddr,
    /// Its answers and counts.
    pub script: Arc<Script>,
}

impl Scripted {
    /// Start one answering 200 everywhere.
    pub async fn start() -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let script = Arc::new(Script {
            health: AtomicU16::new(200),
            status: AtomicU16::new(200),
            checks: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
        });
        let shared = Arc::clone(&script);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let script = Arc::clone(&shared);
                tokio::spawn(async move {
                    let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                        let script = Arc::clone(&script);
                        async move {
                            let status = if req.uri().path() == "/health" {
                                script.checks.fetch_add(1, Ordering::SeqCst);
                                script.health.load(Ordering::SeqCst)
                            } else {
                                script.requests.fetch_add(1, Ordering::SeqCst);
                                script.status.load(Ordering::SeqCst)
                            };
                            let mut r = Response::new(Full::new(Bytes::from("scripted")));
                            *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                            r.headers_mut()
                                .insert("x-upstream", "scripted".parse().unwrap());
                            Ok::<_, Infallible>(r)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Scripted { addr, script }
    }

    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answer `status` on `/health` from now on.
    pub fn set_health(&self, status: u16) {
        self.script.health.store(status, Ordering::SeqCst);
    }

    /// Answer `status` on every other path from now on.
    pub fn set_status(&self, status: u16) {
        self.script.status.store(status, Ordering::SeqCst);
    }

    /// Requests seen, `/health` aside.
    pub fn requests(&self) -> usize {
        self.script.requests.load(Ordering::SeqCst)
    }

    /// `/health` requests seen.
    pub fn checks(&self) -> usize {
        self.script.checks.load(Ordering::SeqCst)
    }
}

/// The `gateway_upstream_endpoint_healthy` series of `endpoint`.
pub fn healthy_series(upstream: &str, endpoint: SocketAddr) -> String {
    format!("gateway_upstream_endpoint_healthy{{upstream=\"{upstream}\",endpoint=\"{endpoint}\"}}")
}

/// Poll `/metrics` until `series` has `value` (5 s at most).
pub async fn wait_for_metric(gw: &TestGateway, series: &str, value: f64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = gw.metrics().await;
        if metric(&text, series) == Some(value) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{series} never became {value}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The admin listener's `/readyz`: status and body.
pub async fn readyz(gw: &TestGateway) -> (u16, String) {
    let resp = client()
        .get(format!("http://{}/readyz", gw.admin))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}
