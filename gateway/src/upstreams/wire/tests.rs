use http::header::{HOST, HeaderValue};
use http::{HeaderMap, Method, StatusCode, Uri};
use http_body::Frame;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

/// An upstream that reads one request head, answers with `answer` (in
/// the given pieces) and keeps the connection open until the peer closes
/// it or `close` is set; what it read comes back through the handle.
async fn upstream(
    answer: &'static [&'static [u8]],
    close: bool,
) -> (TcpStream, tokio::task::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut seen = Vec::new();
        let mut chunk = [0u8; 1024];
        while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut chunk).await.unwrap() {
                0 => return seen,
                n => seen.extend_from_slice(&chunk[..n]),
            }
        }
        for piece in answer {
            stream.write_all(piece).await.unwrap();
            stream.flush().await.unwrap();
            tokio::task::yield_now().await;
        }
        if !close {
            // Until the gateway's side closes.
            while stream.read(&mut chunk).await.unwrap_or(0) > 0 {}
        }
        seen
    });
    (TcpStream::connect(addr).await.unwrap(), served)
}

/// A wire to an upstream answering `answer`, with the response head to
/// a `method` request to `/` read, and its body.
async fn exchanged(
    answer: &'static [&'static [u8]],
    method: Method,
    close: bool,
) -> (Wire, WireBody) {
    let (stream, _served) = upstream(answer, close).await;
    let mut wire = Wire::new(stream);
    let head = wire
        .exchange(&method, &Uri::from_static("/"), &HeaderMap::new())
        .await
        .unwrap();
    (wire, response(head).into_body())
}

/// Every frame of `body` read through `wire`.
async fn frames(wire: &mut Wire, body: &mut WireBody) -> Vec<Frame<Bytes>> {
    let mut out = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| wire.poll_body(body, cx)).await {
        out.push(frame.unwrap());
    }
    out
}

fn fields() -> HeaderMap {
    let mut fields = HeaderMap::new();
    fields.insert(HOST, HeaderValue::from_static("shop.test"));
    fields.append("x-a", HeaderValue::from_static("1"));
    fields.append("x-a", HeaderValue::from_static("2"));
    fields
}

#[test]
fn the_request_head_is_written_as_hyper_writes_a_request_without_a_body() {
    let mut head = Vec::new();
    encode_head(
        &mut head,
        &Method::GET,
        &Uri::from_static("/users/me?x=1"),
        &fields(),
    );
    assert_eq!(
        head,
        b"GET /users/me?x=1 HTTP/1.1\r\nhost: shop.test\r\nx-a: 1\r\nx-a: 2\r\n\r\n"
    );
}

#[tokio::test]
async fn a_chunked_response_with_trailers_is_read_to_its_end_and_the_wire_kept() {
    let (stream, served) = upstream(
        &[
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel",
            b"lo\r\n0\r\nx-t: 1\r\n\r\n",
        ],
        false,
    )
    .await;
    let mut wire = Wire::new(stream);
    let head = wire
        .exchange(&Method::GET, &Uri::from_static("/a"), &fields())
        .await
        .unwrap();
    let (parts, mut body) = response(head).into_parts();
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(parts.headers["transfer-encoding"], "chunked");
    assert!(!body.is_end_stream());
    let frames = frames(&mut wire, &mut body).await;
    let data: Vec<u8> = frames
        .iter()
        .filter_map(|f| f.data_ref())
        .flat_map(|d| d.to_vec())
        .collect();
    assert_eq!(data, b"hello");
    let trailers = frames.last().and_then(|f| f.trailers_ref()).unwrap();
    assert_eq!(trailers["x-t"], "1");
    assert!(body.is_end_stream());
    assert!(wire.reusable_after(&body));
    drop(wire);
    assert_eq!(
        served.await.unwrap(),
        b"GET /a HTTP/1.1\r\nhost: shop.test\r\nx-a: 1\r\nx-a: 2\r\n\r\n"
    );
}

#[tokio::test]
async fn a_body_of_declared_length_ends_there_with_an_exact_size_hint() {
    let answer: &[&[u8]] = &[b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"];
    let (mut wire, mut body) = exchanged(answer, Method::GET, false).await;
    assert_eq!(body.size_hint().exact(), Some(5));
    let frames = frames(&mut wire, &mut body).await;
    assert_eq!(frames.len(), 1);
    assert_eq!(body.size_hint().exact(), Some(0));
    assert!(wire.reusable_after(&body));
}

#[tokio::test]
async fn bytes_after_the_body_make_the_wire_unfit_for_reuse() {
    let answer: &[&[u8]] = &[b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n"];
    let (mut wire, mut body) = exchanged(answer, Method::GET, false).await;
    let frames = frames(&mut wire, &mut body).await;
    assert_eq!(frames[0].data_ref().unwrap().as_ref(), b"ok");
    assert!(!wire.reusable_after(&body));
}

#[tokio::test]
async fn a_connection_close_response_is_not_reused() {
    let answer: &[&[u8]] =
        &[b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok"];
    let (mut wire, mut body) = exchanged(answer, Method::GET, false).await;
    frames(&mut wire, &mut body).await;
    assert!(body.is_end_stream());
    assert!(!wire.reusable_after(&body));
}

#[tokio::test]
async fn a_close_before_the_response_head_fails_the_exchange() {
    let (stream, _served) = upstream(&[b"HTTP/1.1 200 OK\r\n"], true).await;
    let mut wire = Wire::new(stream);
    let failed = wire
        .exchange(&Method::GET, &Uri::from_static("/"), &HeaderMap::new())
        .await;
    assert!(matches!(failed, Err(WireError::Closed)), "{failed:?}");
}

#[tokio::test]
async fn a_body_cut_short_fails_with_unexpected_eof() {
    let answer: &[&[u8]] = &[b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello"];
    let (mut wire, mut body) = exchanged(answer, Method::GET, true).await;
    let first = std::future::poll_fn(|cx| wire.poll_body(&mut body, cx)).await;
    assert_eq!(
        first.unwrap().unwrap().data_ref().unwrap().as_ref(),
        b"hello"
    );
    let cut = std::future::poll_fn(|cx| wire.poll_body(&mut body, cx)).await;
    assert_eq!(
        cut.unwrap().unwrap_err().kind(),
        std::io::ErrorKind::UnexpectedEof
    );
    assert!(!wire.reusable_after(&body));
}

#[tokio::test]
async fn a_head_response_has_no_body_whatever_its_length() {
    let answer: &[&[u8]] = &[b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n"];
    let (mut wire, body) = exchanged(answer, Method::HEAD, false).await;
    assert!(body.is_end_stream());
    assert_eq!(body.size_hint().exact(), Some(0));
    assert!(wire.reusable_after(&body));
}
