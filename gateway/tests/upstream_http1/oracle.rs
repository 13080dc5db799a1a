//! The differential harness for `gateway::upstream_http1`: the same
//! upstream byte stream read by hyper's HTTP/1 client (the oracle) and by
//! the gateway's codec, each reduced to an [`Outcome`] to compare. Shared
//! by `tests/upstream_http1_differential.rs` and the fuzz target in
//! `gateway/fuzz/`.

use std::io::ErrorKind;

use bytes::{Bytes, BytesMut};
use gateway::upstream_http1::{BodyDecoder, Decoded, HeadLimits, parse_response_head};
use http::{HeaderMap, Method, Version};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The read buffer both sides get: hyper's smallest `max_buf_size`, so
/// generated heads can outgrow it cheaply (the gateway uses 80 KiB).
pub const MAX_HEAD: usize = 8192;

/// Fields as `(name, value)` in order, comparable.
pub type Fields = Vec<(String, Blob)>;

/// Bytes compared whole but shown short (a failing case stays readable).
#[derive(Clone, PartialEq, Eq)]
pub struct Blob(pub Vec<u8>);

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = &self.0[..self.0.len().min(48)];
        write!(f, "{:?}", String::from_utf8_lossy(shown))?;
        if self.0.len() > shown.len() {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            self.0.hash(&mut h);
            write!(f, "..({} bytes, hash {:x})", self.0.len(), h.finish())?;
        }
        Ok(())
    }
}

/// What a client made of one response stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The head was refused, or the stream ended before it was complete
    /// (`"incomplete"`); hyper's error description otherwise.
    HeadError(String),
    /// A head, and what its body turned out to be.
    Response {
        /// Status code.
        status: u16,
        /// HTTP/1.0 or HTTP/1.1.
        version: Version,
        /// A non-canonical reason phrase.
        reason: Option<Blob>,
        /// The head's fields.
        headers: Fields,
        /// The body bytes delivered (before an error, if any).
        body: Blob,
        /// A chunked body's trailer fields.
        trailers: Option<Fields>,
        /// How the body failed, if it did.
        body_error: Option<ErrorKind>,
    },
}

fn fields(map: &HeaderMap) -> Fields {
    map.iter()
        .map(|(n, v)| (n.as_str().to_owned(), Blob(v.as_bytes().to_vec())))
        .collect()
}

/// hyper's client, over an in-memory connection: the request head is read,
/// `stream` written back, the connection closed.
pub fn hyper_outcome(stream: &[u8], method: &Method) -> Outcome {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(hyper_exchange(
        Bytes::copy_from_slice(stream),
        method.clone(),
    ))
}

async fn hyper_exchange(stream: Bytes, method: Method) -> Outcome {
    let (client, mut server) = tokio::io::duplex(16 * 1024);
    let upstream = tokio::spawn(async move {
        let mut request = Vec::new();
        let mut chunk = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            match server.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => request.extend_from_slice(&chunk[..n]),
            }
        }
        // The client may stop reading early (a refused head): a failed
        // write is part of the scenario.
        let _ = server.write_all(&stream).await;
        let _ = server.shutdown().await;
    });
    let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
        .max_buf_size(MAX_HEAD)
        .handshake::<_, Empty<Bytes>>(TokioIo::new(client))
        .await
        .expect("handshake");
    let driver = tokio::spawn(conn.with_upgrades());
    let request = http::Request::builder()
        .method(method)
        .uri("/")
        .header("host", "upstream")
        .body(Empty::new())
        .expect("request");
    let outcome = match sender.send_request(request).await {
        Err(e) if e.is_incomplete_message() => Outcome::HeadError("incomplete".into()),
        Err(e) => Outcome::HeadError(e.to_string()),
        Ok(response) => {
            let (parts, mut body) = response.into_parts();
            let mut data = Vec::new();
            let mut trailers = None;
            let mut body_error = None;
            while let Some(frame) = body.frame().await {
                match frame {
                    Ok(frame) => match frame.into_data() {
                        Ok(d) => data.extend_from_slice(&d),
                        Err(frame) => trailers = frame.into_trailers().ok().map(|t| fields(&t)),
                    },
                    Err(e) => {
                        let kind = std::error::Error::source(&e)
                            .and_then(|s| s.downcast_ref::<std::io::Error>())
                            .map_or(ErrorKind::Other, std::io::Error::kind);
                        body_error = Some(kind);
                        break;
                    }
                }
            }
            Outcome::Response {
                status: parts.status.as_u16(),
                version: parts.version,
                reason: parts
                    .extensions
                    .get::<hyper::ext::ReasonPhrase>()
                    .map(|r| Blob(r.as_bytes().to_vec())),
                headers: fields(&parts.headers),
                body: Blob(data),
                trailers,
                body_error,
            }
        }
    };
    driver.abort();
    upstream.abort();
    outcome
}

/// hyper's outcome, or why the codec, fed `stream` in reads of `piece`
/// bytes, disagrees with it.
///
/// One difference is by design: hyper's head limit is soft. It refuses a
/// head that is still incomplete once its read buffer holds `max_buf_size`
/// bytes, but a read may fill the buffer's whole spare capacity, so a
/// longer head is accepted or refused depending on how the bytes arrived
/// (up to about twice the limit). The codec refuses every head longer than
/// the limit; where hyper accepted one, the codec must read it the same
/// way with a limit large enough for it.
pub fn compare(stream: &[u8], method: &Method, piece: usize) -> Result<Outcome, String> {
    let expected = hyper_outcome(stream, method);
    let ours = codec_outcome(stream, method, piece, MAX_HEAD);
    if ours == expected {
        return Ok(expected);
    }
    let too_large = ours == Outcome::HeadError("message head is too large".into());
    if too_large && codec_outcome(stream, method, piece, 4 * MAX_HEAD) == expected {
        return Ok(expected);
    }
    Err(format!(
        "{method} {} in reads of {piece}:\n  hyper: {expected:?}\n  codec: {ours:?}",
        Blob(stream.to_vec()).describe()
    ))
}

impl Blob {
    fn describe(&self) -> String {
        if self.0.len() <= 400 {
            format!("{:?}", String::from_utf8_lossy(&self.0))
        } else {
            format!("{self:?}")
        }
    }
}

/// The gateway's codec with a head limit of `max_head`, fed `stream` in
/// reads of `piece` bytes (at least one), the end of the stream marking
/// the close of the connection.
pub fn codec_outcome(stream: &[u8], method: &Method, piece: usize, max_head: usize) -> Outcome {
    let limits = HeadLimits { max_head };
    let mut pieces = stream.chunks(piece.max(1));
    let mut buf = BytesMut::new();
    let head = loop {
        match parse_response_head(&mut buf, method, &limits) {
            Err(e) => return Outcome::HeadError(e.to_string()),
            Ok(Some(head)) => break head,
            Ok(None) => match pieces.next() {
                Some(p) => buf.extend_from_slice(p),
                None => return Outcome::HeadError("incomplete".into()),
            },
        }
    };
    let mut decoder = BodyDecoder::new(head.framing);
    let mut data = Vec::new();
    let mut trailers = None;
    let mut body_error = None;
    let mut closed = false;
    loop {
        match decoder.decode(&mut buf, closed) {
            Ok(Decoded::Data(d)) => data.extend_from_slice(&d),
            Ok(Decoded::Trailers(t)) => trailers = Some(fields(&t)),
            Ok(Decoded::End) => break,
            Ok(Decoded::NeedMore) => match pieces.next() {
                Some(p) => buf.extend_from_slice(p),
                None => closed = true,
            },
            Err(e) => {
                body_error = Some(e.kind());
                break;
            }
        }
    }
    Outcome::Response {
        status: head.status.as_u16(),
        version: head.version,
        reason: head.reason.map(|r| Blob(r.to_vec())),
        headers: fields(&head.headers),
        body: Blob(data),
        trailers,
        body_error,
    }
}
