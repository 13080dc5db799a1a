//! The upstream used by `bench/gateway`: a minimal hyper HTTP/1.1 server.
//!
//! `GET .../64k` answers 64 KiB, `GET .../json` a 16 KiB JSON page of
//! products (`application/json`, for the compression scenario), any other
//! `GET` a short text; a `POST` body is read completely and answered with a
//! short text.
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

/// Bodies built once.
#[derive(Clone)]
struct Bodies {
    big: Bytes,
    json: Bytes,
}

/// A catalogue page as the products service answers it: 16 KiB of JSON
/// whose fields vary from item to item (so that it compresses like real
/// data, not like a run of one byte).
fn catalogue_page() -> Bytes {
    let mut out = String::from("{\"items\":[");
    let mut i: u64 = 0;
    while out.len() < 16 * 1024 - 200 {
        let sku = i.wrapping_mul(2_654_435_761) % 1_000_000;
        out.push_str(&format!(
            "{{\"id\":\"0193a2b4-{i:04x}-7000-8000-{sku:012}\",\"sku\":\"SKU-{sku:06}\",\"name\":\"Product {i} model {}\",\"price\":\"{}.{:02}\",\"stock\":{},\"category\":\"{}\"}},",
            sku % 97,
            sku % 500,
            sku % 100,
            sku % 37,
            ["books", "garden", "kitchen", "toys", "tools"][(sku % 5) as usize]
        ));
        i += 1;
    }
    out.pop();
    out.push_str("],\"page\":1,\"per_page\":100}");
    Bytes::from(out)
}

async fn answer(
    req: Request<Incoming>,
    bodies: Bodies,
) -> Result<Response<Full<Bytes>>, Infallible> {
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
        return Ok(Response::new(Full::new(bodies.big)));
    }
    if req.uri().path().ends_with("/json") {
        let mut response = Response::new(Full::new(bodies.json));
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        return Ok(response);
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
    let bodies = Bodies {
        big: Bytes::from(vec![b'x'; 64 * 1024]),
        json: catalogue_page(),
    };
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let bodies = bodies.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| answer(req, bodies.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
