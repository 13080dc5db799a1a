//! The gateway never rewrites bytes it forwards: an upstream body (or
//! tunnelled bytes) that looks exactly like the head hyper writes for an
//! unparseable request reaches the client as it is, and the keep-alive
//! connection's responses stay framed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use support::*;

/// Exactly the 47 bytes of hyper's own answer to a bad request head.
const LOOKALIKE: &[u8] = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";

/// An upstream answering every request `200 text/plain` with [`LOOKALIKE`].
async fn lookalike_upstream() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let svc = service_fn(|_req: Request<hyper::body::Incoming>| async {
                    let mut resp = Response::new(Full::new(Bytes::from_static(LOOKALIKE)));
                    resp.headers_mut()
                        .insert("content-type", "text/plain".parse().unwrap());
                    Ok::<_, Infallible>(resp)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

/// Read from `stream` until `want` complete responses with a
/// `content-length` body have arrived (or the wait is over).
async fn read_responses(stream: &mut tokio::net::TcpStream, want: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut buf = [0u8; 4096];
    while framed(&got).len() < want {
        let Ok(Ok(n)) = tokio::time::timeout_at(deadline, stream.read(&mut buf)).await else {
            break;
        };
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    got
}

/// The responses in `bytes`, each as (head, body), framed by their
/// `content-length`.
fn framed(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while let Some(end) = rest.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&rest[..end]).into_owned();
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .unwrap_or(0);
        let body_start = end + 4;
        if rest.len() < body_start + length {
            break;
        }
        out.push((head, rest[body_start..body_start + length].to_vec()));
        rest = &rest[body_start + length..];
    }
    out
}

#[tokio::test]
async fn an_upstream_body_that_looks_like_a_bad_request_answer_is_forwarded_as_it_is() {
    let upstream = lookalike_upstream().await;
    let gw = TestGateway::start(&one_route(&upstream, "")).await;
    let mut stream = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    stream
        .write_all(b"GET /users/a HTTP/1.1\r\nhost: shop\r\n\r\nGET /users/b HTTP/1.1\r\nhost: shop\r\n\r\n")
        .await
        .unwrap();
    let got = read_responses(&mut stream, 2).await;
    let responses = framed(&got);
    assert_eq!(
        responses.len(),
        2,
        "two well-framed responses: {}",
        String::from_utf8_lossy(&got)
    );
    for (head, body) in &responses {
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(
            body.as_slice(),
            LOOKALIKE,
            "the upstream's bytes, unchanged"
        );
    }
    let consumed: usize = responses
        .iter()
        .map(|(head, body)| head.len() + 4 + body.len())
        .sum();
    assert_eq!(consumed, got.len(), "nothing else on the connection");
}

#[tokio::test]
async fn a_bad_request_head_still_gets_the_gateways_problem_answer() {
    let upstream = lookalike_upstream().await;
    let gw = TestGateway::start(&one_route(&upstream, "")).await;
    // After a good exchange on the same connection, then on a fresh one.
    let mut stream = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    stream
        .write_all(b"GET /users/a HTTP/1.1\r\nhost: shop\r\n\r\n")
        .await
        .unwrap();
    let first = read_responses(&mut stream, 1).await;
    assert_eq!(framed(&first).len(), 1);
    stream
        .write_all(b"GET /users/ b HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    let text = String::from_utf8_lossy(&rest);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
    let fresh = raw(
        gw.addr,
        b"GET /users/ b HTTP/1.1\r\n\r\n",
        Duration::from_secs(3),
    )
    .await;
    assert!(fresh.starts_with("HTTP/1.1 400"), "{fresh}");
    assert!(fresh.contains("application/problem+json"), "{fresh}");
}
