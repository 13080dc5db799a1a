//! The upstream both NGINX and the gateway proxy to in the differential
//! tests: answers that do not depend on who forwarded the request.
//!
//! - anything: `200 text/plain`, body `METHOD TARGET` (the target as received);
//! - a path containing `/status/N`: status `N`, body `status N`;
//! - a path containing `/self-redirect`: `302` to its own URL
//!   (`http://127.0.0.1:port/moved`), and `Refresh: 0; url=` the same;
//! - a path containing `/accel`: `200` with `X-Accel-Redirect` set to the
//!   query's `to=` value and `Content-Type: application/x-app`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The shared upstream.
pub struct ParityUpstream {
    /// Its address.
    pub addr: SocketAddr,
}

impl ParityUpstream {
    /// Start it on 127.0.0.1:0.
    pub async fn start() -> ParityUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let service =
                        service_fn(
                            move |req| async move { Ok::<_, Infallible>(answer(&req, addr)) },
                        );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        ParityUpstream { addr }
    }
}

fn answer(req: &Request<Incoming>, addr: SocketAddr) -> Response<Full<Bytes>> {
    let target = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let path = req.uri().path();
    let mut response = Response::builder().header("content-type", "text/plain");
    if let Some(at) = path.find("/status/") {
        let code: u16 = path[at + 8..]
            .split('/')
            .next()
            .unwrap()
            .parse()
            .unwrap_or(500);
        return response
            .status(code)
            .body(Full::new(Bytes::from(format!("status {code}"))))
            .unwrap();
    }
    if path.contains("/self-redirect") {
        let own = format!("http://{addr}/moved");
        response = response
            .status(302)
            .header("location", own.as_str())
            .header("refresh", format!("0; url={own}"));
        return response.body(Full::new(Bytes::new())).unwrap();
    }
    if path.contains("/accel") {
        let to = req
            .uri()
            .query()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("to=")))
            .unwrap_or("/");
        return Response::builder()
            .header("x-accel-redirect", to)
            .header("content-type", "application/x-app")
            .body(Full::new(Bytes::from("from the app")))
            .unwrap();
    }
    response
        .body(Full::new(Bytes::from(format!("{} {target}", req.method()))))
        .unwrap()
}
