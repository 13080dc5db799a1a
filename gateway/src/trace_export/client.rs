//! The HTTP client the OTLP exporter sends with: one HTTP/1.1 exchange
//! per batch over hyper, run on the gateway's runtime.
//!
//! The SDK exports from its own thread and waits there; the exchange is
//! spawned onto the gateway's tokio runtime and its join handle awaited,
//! so no second HTTP client stack (reqwest) is built into the gateway.
//! Plain `http://` only: the collector is expected on the private network.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use opentelemetry_http::{HttpClient, HttpError};
use tokio::net::TcpStream;
use tokio::runtime::Handle;

/// The largest collector answer read (an OTLP answer is a few bytes).
const MAX_ANSWER: usize = 64 * 1024;

/// Sends OTLP exports on `runtime`, each within `timeout`.
#[derive(Debug, Clone)]
pub(crate) struct OtlpHttpClient {
    runtime: Handle,
    timeout: Duration,
}

impl OtlpHttpClient {
    /// A client for the current tokio runtime.
    pub(crate) fn current(timeout: Duration) -> OtlpHttpClient {
        OtlpHttpClient {
            runtime: Handle::current(),
            timeout,
        }
    }
}

type Answer = Result<Response<Bytes>, HttpError>;

impl HttpClient for OtlpHttpClient {
    fn send_bytes<'a, 'b>(
        &'a self,
        request: Request<Bytes>,
    ) -> Pin<Box<dyn Future<Output = Answer> + Send + 'b>>
    where
        'a: 'b,
        Self: 'b,
    {
        let timeout = self.timeout;
        // Built inside the task: a timer needs the runtime, and this runs
        // on the SDK's thread.
        let task = self
            .runtime
            .spawn(async move { tokio::time::timeout(timeout, exchange(request)).await });
        Box::pin(async move {
            match task.await {
                Ok(Ok(answer)) => answer,
                Ok(Err(_)) => Err("the OTLP collector did not answer in time".into()),
                Err(join) => Err(Box::new(join) as HttpError),
            }
        })
    }
}

/// One request on a fresh connection.
async fn exchange(request: Request<Bytes>) -> Answer {
    let (mut parts, body) = request.into_parts();
    if parts.uri.scheme_str() != Some("http") {
        return Err(format!("{}: the gateway exports over http:// only", parts.uri).into());
    }
    let authority = parts
        .uri
        .authority()
        .cloned()
        .ok_or_else(|| format!("{}: no host", parts.uri))?;
    let port = authority.port_u16().unwrap_or(80);
    let stream = TcpStream::connect((authority.host(), port)).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    parts.headers.insert(
        header::HOST,
        http::HeaderValue::from_str(authority.as_str())?,
    );
    parts.uri = parts
        .uri
        .path_and_query()
        .map_or_else(|| "/".parse(), |pq| pq.as_str().parse())?;
    let response = sender
        .send_request(Request::from_parts(parts, Full::new(body)))
        .await?;
    let (parts, body) = response.into_parts();
    let body = Limited::new(body, MAX_ANSWER).collect().await?.to_bytes();
    Ok(Response::from_parts(parts, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_sends_from_a_thread_outside_the_runtime() {
        // What the SDK does: export from its own thread, waiting there.
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let client = runtime.block_on(async { OtlpHttpClient::current(Duration::from_secs(5)) });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let collector = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut socket, _) = listener.accept().expect("accept");
            let mut seen = Vec::new();
            let mut buf = [0u8; 1024];
            while !seen.ends_with(b"span-bytes") {
                let n = socket.read(&mut buf).expect("read");
                assert!(n > 0, "closed early");
                seen.extend_from_slice(&buf[..n]);
            }
            socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .expect("write");
            String::from_utf8_lossy(&seen).into_owned()
        });
        let request = Request::post(format!("http://{addr}/v1/traces"))
            .header("content-type", "application/x-protobuf")
            .body(Bytes::from_static(b"span-bytes"))
            .expect("request");
        let answer =
            std::thread::spawn(move || futures_executor_block_on(client.send_bytes(request)))
                .join()
                .expect("exporting thread");
        let answer = answer.expect("answered");
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.body().as_ref(), b"ok");
        let seen = collector.join().expect("collector");
        assert!(seen.starts_with("POST /v1/traces HTTP/1.1\r\n"), "{seen}");
        assert!(
            seen.to_ascii_lowercase().contains(&format!("host: {addr}")),
            "{seen}"
        );
    }

    /// A minimal executor for one future on this thread (as the SDK's).
    fn futures_executor_block_on<F: Future>(future: F) -> F::Output {
        use std::sync::Arc;
        use std::task::{Context, Poll, Wake};
        struct Unpark(std::thread::Thread);
        impl Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Arc::new(Unpark(std::thread::current())).into();
        let mut cx = Context::from_waker(&waker);
        let mut future = std::pin::pin!(future);
        loop {
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return out;
            }
            std::thread::park();
        }
    }

    #[tokio::test]
    async fn an_https_collector_is_refused() {
        let client = OtlpHttpClient::current(Duration::from_secs(1));
        let request = Request::post("https://127.0.0.1:4318/v1/traces")
            .body(Bytes::new())
            .expect("request");
        let err = client.send_bytes(request).await.expect_err("refused");
        assert!(err.to_string().contains("http:// only"), "{err}");
    }

    #[tokio::test]
    async fn a_closed_port_is_an_error_not_a_hang() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let client = OtlpHttpClient::current(Duration::from_secs(5));
        let request = Request::post(format!("http://127.0.0.1:{port}/v1/traces"))
            .body(Bytes::new())
            .expect("request");
        assert!(client.send_bytes(request).await.is_err());
    }
}
