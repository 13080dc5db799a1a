//! Compression over real TCP: the encoding chosen by `Accept-Encoding`
//! (gzip, brotli, zstd; q-values, `*`, `q=0`), bodies that round-trip,
//! the responses left alone (small, encoded, ranges, `no-transform`,
//! `HEAD`, other types), streaming without buffering, and a reload.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod policy_support;
mod support;

use std::convert::Infallible;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use policy_support::*;
use support::*;
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc};

type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// `n` bytes of JSON-like text that compresses well.
fn payload(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 64);
    let mut i = 0;
    while out.len() < n {
        out.extend_from_slice(
            format!("{{\"id\":{i},\"name\":\"product {i}\",\"price\":\"9.99\"}},").as_bytes(),
        );
        i += 1;
    }
    out.truncate(n);
    out
}

/// An upstream answering `/gen?bytes=N&type=T&header=name:value&status=S`
/// with `N` bytes of [`payload`]; `&stream=1` sends it in two halves
/// without a length, the second one only once `release` is notified.
async fn generator(release: Arc<Notify>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let release = Arc::clone(&release);
            tokio::spawn(async move {
                let svc = service_fn(move |req| generate(req, Arc::clone(&release)));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

async fn generate(
    req: Request<Incoming>,
    release: Arc<Notify>,
) -> Result<Response<Body>, Infallible> {
    let query = req.uri().query().unwrap_or_default().to_string();
    let params: Vec<(&str, &str)> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let get = |k: &str| params.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
    let body = payload(get("bytes").and_then(|b| b.parse().ok()).unwrap_or(4096));
    let mut response = if get("stream") == Some("1") {
        let (tx, rx) = mpsc::channel::<Result<Frame<Bytes>, Infallible>>(2);
        let (first, second) = body.split_at(body.len() / 2);
        let (first, second) = (
            Bytes::copy_from_slice(first),
            Bytes::copy_from_slice(second),
        );
        tokio::spawn(async move {
            let _ = tx.send(Ok(Frame::data(first))).await;
            release.notified().await;
            let _ = tx.send(Ok(Frame::data(second))).await;
        });
        let mut rx = rx;
        let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
        Response::new(BodyExt::boxed(StreamBody::new(stream)))
    } else {
        Response::new(Full::new(Bytes::from(body)).boxed())
    };
    let content_type = get("type")
        .unwrap_or("application/json")
        .replace("%2B", "+");
    response
        .headers_mut()
        .insert("content-type", content_type.parse().unwrap());
    response
        .headers_mut()
        .insert("etag", "\"7-3\"".parse().unwrap());
    response
        .headers_mut()
        .insert("accept-ranges", "bytes".parse().unwrap());
    for (_, value) in params.iter().filter(|(n, _)| *n == "header") {
        let (n, v) = value.split_once(':').unwrap();
        response.headers_mut().insert(
            hyper::header::HeaderName::from_bytes(n.as_bytes()).unwrap(),
            v.replace("%20", " ").parse().unwrap(),
        );
    }
    if let Some(status) = get("status") {
        *response.status_mut() = hyper::StatusCode::from_u16(status.parse().unwrap()).unwrap();
    }
    Ok(response)
}

fn decode(encoding: &str, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        "gzip" => {
            flate2::read::GzDecoder::new(data)
                .read_to_end(&mut out)
                .unwrap();
        }
        "br" => {
            brotli::Decompressor::new(data, 4096)
                .read_to_end(&mut out)
                .unwrap();
        }
        "zstd" => out = zstd::stream::decode_all(data).unwrap(),
        other => panic!("unexpected encoding {other}"),
    }
    out
}

async fn started(tables: &str) -> (TestGateway, Arc<Notify>) {
    let release = Arc::new(Notify::new());
    let addr = generator(Arc::clone(&release)).await;
    let gw = TestGateway::start_with(&route_with(&format!("http://{addr}"), tables), |o| {
        o.watch = true
    })
    .await;
    (gw, release)
}

const ON: &str = "[routes.compression]\n";

#[tokio::test]
async fn each_encoding_is_chosen_by_accept_encoding_and_round_trips() {
    let (gw, _) = started(ON).await;
    let c = client();
    for (accept, want) in [
        ("gzip", "gzip"),
        ("br", "br"),
        ("zstd", "zstd"),
        ("gzip, deflate, br, zstd", "zstd"),
        ("gzip;q=0.5, br;q=0.9", "br"),
        ("*;q=0.1, gzip", "gzip"),
        ("*", "zstd"),
        ("zstd;q=0, *", "br"),
    ] {
        let r = c
            .get(gw.url("/users/gen?bytes=20000"))
            .header("accept-encoding", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let h = r.headers().clone();
        assert_eq!(h["content-encoding"], want, "{accept}");
        assert!(h.get("content-length").is_none(), "{accept}");
        assert!(h.get("accept-ranges").is_none(), "{accept}");
        // The compressed bytes are not the ones the upstream tagged.
        assert_eq!(h["etag"], "W/\"7-3\"");
        assert_eq!(h["vary"], "Accept-Encoding");
        let compressed = r.bytes().await.unwrap();
        assert!(
            compressed.len() < 20000 / 4,
            "{accept}: {}",
            compressed.len()
        );
        assert_eq!(decode(want, &compressed), payload(20000), "{accept}");
    }
    let m = gw.metrics().await;
    for encoding in ["gzip", "br", "zstd"] {
        let series = |name: &str| format!("{name}{{route=\"/users/\",encoding=\"{encoding}\"}}");
        let bytes_in = metric(&m, &series("gateway_compression_bytes_in_total")).unwrap();
        let bytes_out = metric(&m, &series("gateway_compression_bytes_out_total")).unwrap();
        assert!(
            bytes_in >= 20000.0 && bytes_out > 0.0 && bytes_out < bytes_in,
            "{m}"
        );
        assert!(metric(&m, &series("gateway_compressed_responses_total")).unwrap() >= 1.0);
    }
}

#[tokio::test]
async fn responses_that_must_not_be_compressed_go_out_as_they_are() {
    let (gw, _) = started(ON).await;
    let c = client();
    for (query, vary) in [
        // Below min_size: still eligible for others, so `Vary` stays off.
        ("bytes=1000", false),
        ("bytes=20000&type=image/png", false),
        ("bytes=20000&header=content-encoding:br", false),
        (
            "bytes=20000&header=cache-control:public,%20no-transform",
            false,
        ),
        (
            "bytes=20000&status=206&header=content-range:bytes%200-19999/40000",
            false,
        ),
        // BREACH hygiene: a user's secrets are never compressed.
        ("bytes=20000&header=cache-control:no-store", false),
        (
            "bytes=20000&header=cache-control:max-age=0,%20private",
            false,
        ),
        (
            "bytes=20000&header=set-cookie:session=s3cret;%20HttpOnly",
            false,
        ),
    ] {
        let r = c
            .get(gw.url(&format!("/users/gen?{query}")))
            .header("accept-encoding", "gzip, br, zstd")
            .send()
            .await
            .unwrap();
        let h = r.headers().clone();
        let already = query.contains("content-encoding");
        assert_eq!(h.get("content-encoding").is_some(), already, "{query}");
        assert_eq!(h.get("vary").is_some(), vary, "{query}");
        if !already {
            // The upstream's tag as it was.
            assert_eq!(h["etag"], "\"7-3\"", "{query}");
            assert_eq!(
                r.bytes().await.unwrap().len(),
                query[6..]
                    .split('&')
                    .next()
                    .unwrap()
                    .parse::<usize>()
                    .unwrap(),
                "{query}"
            );
        }
    }
    // Compressible, but this client accepts no encoding we offer: plain,
    // with `Vary` so that caches keep the variants apart.
    for accept in [
        None,
        Some("identity"),
        Some("gzip;q=0, br;q=0, zstd;q=0"),
        Some("deflate"),
    ] {
        let mut req = c.get(gw.url("/users/gen?bytes=20000"));
        if let Some(a) = accept {
            req = req.header("accept-encoding", a);
        }
        let r = req.send().await.unwrap();
        assert!(r.headers().get("content-encoding").is_none(), "{accept:?}");
        assert_eq!(r.headers()["vary"], "Accept-Encoding", "{accept:?}");
        assert_eq!(r.headers()["content-length"], "20000", "{accept:?}");
    }
    let r = c
        .head(gw.url("/users/gen?bytes=20000"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn a_streamed_body_is_compressed_as_it_arrives() {
    let (gw, release) = started(ON).await;
    let mut r = client()
        .get(gw.url("/users/gen?bytes=20000&stream=1"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
    // The first half arrives, decodable, while the upstream still holds
    // the second one back: nothing waits for the whole body.
    let mut decoder = flate2::write::GzDecoder::new(Vec::new());
    let first = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let chunk = r.chunk().await.unwrap().expect("more data");
            std::io::Write::write_all(&mut decoder, &chunk).unwrap();
            std::io::Write::flush(&mut decoder).unwrap();
            if decoder.get_ref().len() >= 10000 {
                break;
            }
        }
    })
    .await;
    assert!(first.is_ok(), "the first half was held back");
    assert_eq!(decoder.get_ref()[..], payload(20000)[..10000]);
    release.notify_one();
    while let Some(chunk) = r.chunk().await.unwrap() {
        std::io::Write::write_all(&mut decoder, &chunk).unwrap();
    }
    assert_eq!(decoder.finish().unwrap(), payload(20000));
}

#[tokio::test]
async fn a_reload_switches_compression_on_with_its_settings() {
    let (gw, _) = started("").await;
    let c = client();
    let get = || {
        c.get(gw.url("/users/gen?bytes=3000"))
            .header("accept-encoding", "gzip, br")
            .send()
    };
    assert!(
        get()
            .await
            .unwrap()
            .headers()
            .get("content-encoding")
            .is_none()
    );
    let tables =
        "[routes.compression]\nalgorithms = [\"gzip\"]\nmin_size = \"2KiB\"\ngzip_level = 1\n";
    let upstream = gw.config_json().await["upstreams"]["users"]["endpoints"][0].clone();
    let url = format!(
        "http://{}:{}",
        upstream["host"].as_str().unwrap(),
        upstream["port"]
    );
    reload(&gw, &route_with(&url, tables), |c| {
        !shown(c, "compression").is_null()
    })
    .await;
    let config = gw.config_json().await;
    assert_eq!(shown(&config, "compression")["algorithms"][0], "gzip");
    assert_eq!(shown(&config, "compression")["min_size"], 2048);
    let r = get().await.unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert_eq!(decode("gzip", &r.bytes().await.unwrap()), payload(3000));
}

#[tokio::test]
async fn the_gateways_own_small_problems_are_not_compressed() {
    let tables = format!("{ON}[routes.rate_limit]\nrate = \"1/m\"\nburst = 1\n");
    let (gw, _) = started(&tables).await;
    let c = client();
    let get = || {
        c.get(gw.url("/users/gen?bytes=20000"))
            .header("accept-encoding", "gzip")
            .send()
    };
    assert_eq!(get().await.unwrap().headers()["content-encoding"], "gzip");
    let r = get().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("content-encoding").is_none());
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], 429);
}

#[tokio::test]
async fn a_weakened_tag_in_if_match_goes_upstream_strong_again() {
    let up = Upstream::start("users").await;
    let gw = TestGateway::start(&route_with(&up.url(), ON)).await;
    let r = client()
        .put(gw.url("/users/x"))
        .header("if-match", "W/\"7-3\", \"8-1\"")
        .header("if-none-match", "W/\"7-3\"")
        .send()
        .await
        .unwrap();
    let e = echo(&r.text().await.unwrap());
    assert_eq!(echoed(&e, "if-match"), ["\"7-3\", \"8-1\""]);
    assert_eq!(echoed(&e, "if-none-match"), ["W/\"7-3\""]);
}
