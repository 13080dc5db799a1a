//! The upstream used by `bench/gateway`: a minimal hyper HTTP/1.1 server.
//!
//! `GET .../64k` answers 64 KiB, any other `GET` a short text; a `POST`
//! body is read completely and answered with a short text.
//! Usage: `bench_upstream 127.0.0.1:18080`.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

async fn answer(req: Request<Incoming>, big: Bytes) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.method() == Method::POST {
        let n = req
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes().len())
            .unwrap_or(0);
        return Ok(Response::new(Full::new(Bytes::from(format!(
            "received {n}\n"
        )))));
    }
    if req.uri().path().ends_with("/64k") {
        return Ok(Response::new(Full::new(big)));
    }
    Ok(Response::new(Full::new(Bytes::from_static(
        b"hello, world\n",
    ))))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18080".to_string())
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let listener = TcpListener::bind(addr).await?;
    let big = Bytes::from(vec![b'x'; 64 * 1024]);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let big = big.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| answer(req, big.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
