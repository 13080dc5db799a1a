//! Test harness: real upstream servers on port 0, a gateway on port 0 with a
//! route table written to a temporary file, and a raw TCP client for
//! protocol-level checks.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub mod nginx;
pub mod parity_upstream;
pub mod scripted;
pub mod tls;

use bytes::Bytes;
use gateway::{Gateway, LaunchOptions};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

/// What an upstream saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// Requests received (heads).
    pub requests: AtomicUsize,
    /// Body bytes received in total.
    pub body_bytes: AtomicUsize,
    /// TCP connections accepted.
    pub connections: AtomicUsize,
}

/// A real HTTP/1.1 upstream on 127.0.0.1:0.
///
/// Paths it understands (after the gateway stripped the prefix):
/// - anything else: `200` with a JSON echo `{method, path, headers, body_len}`
/// - `/status/N`: answers `N` with a problem+json body
/// - `/cookies`: two `Set-Cookie` headers
/// - `/slow?chunks=N&ms=M`: N chunks `M` ms apart (streaming)
/// - `/sleep?ms=M`: waits before answering
/// - `/upload`: reports the first body chunk on `first_chunk` before reading the rest
/// - `/big?bytes=N`: N bytes of `x`
pub struct Upstream {
    /// Its address.
    pub addr: SocketAddr,
    /// Counters.
    pub seen: Arc<Seen>,
    /// Notified with the size of the first body chunk of `/upload`.
    pub first_chunk: mpsc::UnboundedReceiver<usize>,
    /// A label returned in the `x-upstream` response header.
    pub name: String,
}

impl Upstream {
    /// Start an upstream named `name`.
    pub async fn start(name: &str) -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener, name).await
    }

    /// Serve on a given listener.
    pub async fn serve(listener: TcpListener, name: &str) -> Upstream {
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Seen::default());
        let (tx, rx) = mpsc::unbounded_channel();
        let label = name.to_string();
        let seen2 = Arc::clone(&seen);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                seen2.connections.fetch_add(1, Ordering::SeqCst);
                let seen = Arc::clone(&seen2);
                let tx = tx.clone();
                let label = label.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| {
                        answer(req, Arc::clone(&seen), tx.clone(), label.clone())
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Upstream {
            addr,
            seen,
            first_chunk: rx,
            name: name.to_string(),
        }
    }

    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received.
    pub fn requests(&self) -> usize {
        self.seen.requests.load(Ordering::SeqCst)
    }

    /// TCP connections accepted.
    pub fn connections(&self) -> usize {
        self.seen.connections.load(Ordering::SeqCst)
    }
}

type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).boxed()
}

fn query_num(req: &Request<Incoming>, key: &str, default: u64) -> u64 {
    req.uri()
        .query()
        .and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(default)
}

async fn answer(
    req: Request<Incoming>,
    seen: Arc<Seen>,
    first_chunk: mpsc::UnboundedSender<usize>,
    label: String,
) -> Result<Response<Body>, Infallible> {
    seen.requests.fetch_add(1, Ordering::SeqCst);
    let path = req.uri().path().to_string();
    let mut resp = match path.as_str() {
        p if p.starts_with("/status/") => {
            let code: u16 = p["/status/".len()..].parse().unwrap_or(500);
            let mut r = Response::new(full(format!(
                "{{\"type\":\"about:blank\",\"status\":{code},\"detail\":\"from upstream\"}}"
            )));
            *r.status_mut() = hyper::StatusCode::from_u16(code).unwrap();
            r.headers_mut()
                .insert("content-type", "application/problem+json".parse().unwrap());
            r
        }
        "/cookies" => {
            let mut r = Response::new(full("cookies"));
            r.headers_mut()
                .append("set-cookie", "a=1; Path=/".parse().unwrap());
            r.headers_mut()
                .append("set-cookie", "b=2; Path=/; HttpOnly".parse().unwrap());
            r
        }
        "/slow" => {
            let chunks = query_num(&req, "chunks", 3);
            let ms = query_num(&req, "ms", 200);
            let (tx, rx) = mpsc::channel::<Result<Frame<Bytes>, Infallible>>(1);
            tokio::spawn(async move {
                for i in 0..chunks {
                    if i > 0 {
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                    }
                    if tx
                        .send(Ok(Frame::data(Bytes::from(format!("chunk{i};")))))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
            let stream = tokio_stream(rx);
            Response::new(BodyExt::boxed(StreamBody::new(stream)))
        }
        "/sleep" => {
            tokio::time::sleep(Duration::from_millis(query_num(&req, "ms", 1000))).await;
            Response::new(full("slept"))
        }
        "/big" => Response::new(full(vec![b'x'; query_num(&req, "bytes", 65536) as usize])),
        "/upload" => {
            let mut body = req.into_body();
            let mut total = 0usize;
            let mut first = true;
            while let Some(frame) = body.frame().await {
                let Ok(frame) = frame else { break };
                if let Some(d) = frame.data_ref() {
                    total += d.len();
                    if first {
                        first = false;
                        let _ = first_chunk.send(d.len());
                    }
                }
            }
            seen.body_bytes.fetch_add(total, Ordering::SeqCst);
            return Ok(Response::new(full(format!("{{\"received\":{total}}}"))));
        }
        _ => {
            let method = req.method().to_string();
            let version = format!("{:?}", req.version());
            let uri = req.uri().to_string();
            let headers: Vec<(String, String)> = req
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.to_string(),
                        String::from_utf8_lossy(v.as_bytes()).to_string(),
                    )
                })
                .collect();
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            seen.body_bytes.fetch_add(body.len(), Ordering::SeqCst);
            let json = serde_json::json!({
                "method": method,
                "path": uri,
                "version": version,
                "headers": headers,
                "body_len": body.len(),
            });
            let mut r = Response::new(full(json.to_string()));
            r.headers_mut()
                .insert("content-type", "application/json".parse().unwrap());
            r
        }
    };
    resp.headers_mut()
        .insert("x-upstream", label.parse().unwrap());
    Ok(resp)
}

fn tokio_stream(
    mut rx: mpsc::Receiver<Result<Frame<Bytes>, Infallible>>,
) -> impl futures_util::Stream<Item = Result<Frame<Bytes>, Infallible>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// The echo body as JSON.
pub fn echo(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not an echo ({e}): {body}"))
}

/// Every value of header `name` in an echo.
pub fn echoed(echo: &serde_json::Value, name: &str) -> Vec<String> {
    echo["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h[0].as_str().unwrap().eq_ignore_ascii_case(name))
        .map(|h| h[1].as_str().unwrap().to_string())
        .collect()
}

/// A running gateway.
pub struct TestGateway {
    /// Public address.
    pub addr: SocketAddr,
    /// Admin address.
    pub admin: SocketAddr,
    /// HTTPS address, when `[tls]` sets one.
    pub tls: Option<SocketAddr>,
    /// The route table file.
    pub config_path: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), gateway::GatewayError>>>,
    _dir: tempfile::TempDir,
}

impl TestGateway {
    /// Start a gateway with `toml` as its route table (listeners on port 0).
    pub async fn start(toml: &str) -> TestGateway {
        Self::start_with(toml, |_| {}).await
    }

    /// Start with options adjusted by `adjust`.
    pub async fn start_with(toml: &str, adjust: impl FnOnce(&mut LaunchOptions)) -> TestGateway {
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("gateway.toml");
        std::fs::write(&config_path, toml).unwrap();
        let mut opts = LaunchOptions::new(&config_path);
        opts.listen = Some("127.0.0.1:0".parse().unwrap());
        opts.admin_listen = Some("127.0.0.1:0".parse().unwrap());
        opts.watch = false;
        adjust(&mut opts);
        let gw = Gateway::bind(opts).await.expect("gateway binds");
        let addr = gw.local_addr();
        let admin = gw.admin_addr();
        let tls = gw.tls_addr();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(gw.run(async move {
            let _ = rx.await;
        }));
        TestGateway {
            addr,
            admin,
            tls,
            config_path,
            stop: Some(tx),
            task: Some(task),
            _dir: dir,
        }
    }

    /// `http://addr{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The admin listener's `/metrics` text.
    pub async fn metrics(&self) -> String {
        client()
            .get(format!("http://{}/metrics", self.admin))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The admin listener's `/config` as JSON.
    pub async fn config_json(&self) -> serde_json::Value {
        client()
            .get(format!("http://{}/config", self.admin))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Signal shutdown and wait for `run` to return.
    pub async fn shutdown(&mut self) -> Result<(), gateway::GatewayError> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(t) => t.await.expect("gateway task"),
            None => Ok(()),
        }
    }

    /// Start shutdown without waiting.
    pub fn begin_shutdown(&mut self) -> tokio::task::JoinHandle<Result<(), gateway::GatewayError>> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.task.take().expect("running")
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// The usual two-route table, pointing at the given upstream URLs.
pub fn two_routes(users: &str, products: &str) -> String {
    format!(
        r#"
[upstreams.users]
endpoints = ["{users}"]
[upstreams.products]
endpoints = ["{products}"]
[[routes]]
prefix = "/users/"
upstream = "users"
[[routes]]
prefix = "/products/"
upstream = "products"
"#
    )
}

/// One route `/users/` to `url`, plus extra TOML.
pub fn one_route(url: &str, extra: &str) -> String {
    format!(
        r#"
{extra}
[upstreams.users]
endpoints = ["{url}"]
[[routes]]
prefix = "/users/"
upstream = "users"
"#
    )
}

/// A reqwest client (HTTP/1.1, no redirects followed).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

/// Send raw bytes, read until the server closes or `wait` passes.
pub async fn raw(addr: SocketAddr, request: &[u8], wait: Duration) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    read_all(&mut stream, wait).await
}

/// Read until EOF or `wait` passes.
pub async fn read_all(stream: &mut TcpStream, wait: Duration) -> String {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(wait, async {
        let mut buf = [0u8; 8192];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    String::from_utf8_lossy(&out).to_string()
}

/// The status codes of every response in a raw HTTP/1.1 byte stream.
pub fn statuses(raw: &str) -> Vec<u16> {
    raw.match_indices("HTTP/1.1 ")
        .filter_map(|(i, _)| raw[i + 9..].get(..3).and_then(|s| s.parse().ok()))
        .collect()
}

/// The problem+json body of a raw single response.
pub fn raw_body(raw: &str) -> &str {
    raw.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// A TCP port nothing listens on.
pub async fn closed_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = l.local_addr().unwrap();
    drop(l);
    a
}

/// The value of the series `series` (name and labels, as printed) in a
/// Prometheus text, if present.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

/// Run `probe` until `done` accepts its value (every 50 ms, at most 100
/// times: 5 s plus the probes' own time); the last value either way.
pub async fn poll_until<T, Fut>(mut probe: impl FnMut() -> Fut, done: impl Fn(&T) -> bool) -> T
where
    Fut: std::future::Future<Output = T>,
{
    let mut value = probe().await;
    for _ in 0..100 {
        if done(&value) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        value = probe().await;
    }
    value
}

/// An HTTP/2 (prior knowledge) connection to `addr` after one `GET path`
/// answered `200` on it, so the server's settings have arrived: the
/// handle and the connection, for what they tell of those settings.
pub async fn h2_after_one_get(
    addr: SocketAddr,
    path: &str,
) -> (
    h2::client::SendRequest<Bytes>,
    h2::client::Connection<TcpStream, Bytes>,
) {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut h2, mut conn) = h2::client::handshake(tcp).await.unwrap();
    let request = http::Request::get(format!("http://{addr}{path}"))
        .body(())
        .unwrap();
    let (response, _) = h2.send_request(request, true).unwrap();
    let response = tokio::select! {
        response = response => response.unwrap(),
        ended = &mut conn => panic!("connection ended: {ended:?}"),
    };
    assert_eq!(response.status(), 200);
    (h2, conn)
}
