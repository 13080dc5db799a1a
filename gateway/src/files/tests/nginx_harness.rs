//! The two servers of the NGINX comparison ([`super::nginx`]): an NGINX
//! on a loopback port with one `location` per files configuration, and
//! [`serve`] behind hyper with a longest-prefix router that carries out
//! internal redirects; and what is compared of an answer.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use super::super::{FileRequest, FilesOutcome, serve};
use crate::config::files::FilesConfig;

/// One location: prefix, NGINX block body, the equivalent files settings.
pub(super) type Location = (&'static str, String, FilesConfig);

/// NGINX (a single process, `master_process off`), stopped when dropped.
pub(crate) struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// NGINX serving `locs` under `root`, its files in `dir`; `None` when
/// NGINX is not installed.
pub(super) fn start_nginx(dir: &Path, root: &Path, locs: &[Location]) -> Option<(Nginx, u16)> {
    let mut blocks = format!("    root {};\n", root.display());
    for (prefix, body, _) in locs {
        blocks.push_str(&format!("    location {prefix} {{ {body} }}\n"));
    }
    start_nginx_with(dir, &blocks)
}

/// NGINX with `server_body` in its one `server` block (after `listen`), its
/// files in `dir`; the port it listens on. `None` when NGINX is not
/// installed.
pub(crate) fn start_nginx_with(dir: &Path, server_body: &str) -> Option<(Nginx, u16)> {
    // Set by build.rs when nginx was found (cfg `nginx_tests`); the tests
    // that call this are ignored otherwise.
    let bin = option_env!("NGINX_BIN")?;
    let port = free_port();
    let d = dir.display();
    let conf = format!(
        "worker_processes 1;\nerror_log {d}/error.log;\npid {d}/nginx.pid;\nevents {{}}\nhttp {{\n  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n  access_log off;\n  sendfile on;\n  client_body_temp_path {d}/t1; proxy_temp_path {d}/t2; fastcgi_temp_path {d}/t3; uwsgi_temp_path {d}/t4; scgi_temp_path {d}/t5;\n  server {{\n    listen 127.0.0.1:{port};\n{server_body}  }}\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), conf).expect("nginx.conf");
    let child = Command::new(bin)
        .args(["-e", &format!("{d}/error.log"), "-p"])
        .arg(dir)
        // One process (no master): killing it leaves no orphaned worker
        // behind (one holding the test's inherited file descriptors once
        // kept a lock of the benchmark harness for 15 minutes).
        .args([
            "-c",
            &format!("{d}/nginx.conf"),
            "-g",
            "daemon off; master_process off;",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("nginx starts");
    let guard = Nginx(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((guard, port));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "nginx did not listen on {port}: {:?}",
        std::fs::read_to_string(dir.join("error.log"))
    );
}

/// The files handler behind hyper, with a longest-prefix router that
/// carries out internal redirects.
pub(super) async fn start_ours(locs: Arc<Vec<Location>>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let configs: Arc<Vec<(&'static str, Arc<FilesConfig>)>> = Arc::new(
        locs.iter()
            .map(|(p, _, c)| (*p, Arc::new(c.clone())))
            .collect(),
    );
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let configs = Arc::clone(&configs);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let configs = Arc::clone(&configs);
                    async move { Ok::<_, std::convert::Infallible>(answer(&configs, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

async fn answer(
    configs: &[(&'static str, Arc<FilesConfig>)],
    req: Request<Incoming>,
) -> Response<Full<bytes::Bytes>> {
    let mut target = req
        .uri()
        .path_and_query()
        .map_or("/".to_string(), |p| p.to_string());
    for _ in 0..10 {
        let (raw, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (target.clone(), None),
        };
        let Ok(path) = crate::path::normalize(&raw) else {
            return plain(StatusCode::BAD_REQUEST, HeaderMap::new());
        };
        let (prefix, config) = configs
            .iter()
            .filter(|(p, _)| path.starts_with(p))
            .max_by_key(|(p, _)| p.len())
            .unwrap_or(&configs[0]);
        let fr = FileRequest {
            method: req.method(),
            path: &path,
            query: query.as_deref(),
            prefix,
            headers: req.headers(),
        };
        match serve(config, &fr).await {
            FilesOutcome::Response(r) => {
                let (parts, body) = r.into_parts();
                let bytes = body
                    .collect()
                    .await
                    .map(|c| c.to_bytes())
                    .unwrap_or_default();
                return Response::from_parts(parts, Full::new(bytes));
            }
            FilesOutcome::Status(s, h) => return plain(s, h),
            FilesOutcome::Internal(u) => target = u,
            FilesOutcome::Named(_) => {
                return plain(StatusCode::INTERNAL_SERVER_ERROR, HeaderMap::new());
            }
        }
    }
    plain(StatusCode::INTERNAL_SERVER_ERROR, HeaderMap::new())
}

fn plain(status: StatusCode, headers: HeaderMap) -> Response<Full<bytes::Bytes>> {
    let mut r = Response::new(Full::new(bytes::Bytes::new()));
    *r.status_mut() = status;
    *r.headers_mut() = headers;
    r
}

/// A request: method, path and query, headers.
pub(super) type Case = (Method, String, Vec<(&'static str, &'static str)>);

/// What is compared of one answer.
#[derive(Debug, PartialEq)]
pub(super) struct Seen {
    pub(super) status: u16,
    pub(super) headers: BTreeMap<&'static str, String>,
    pub(super) body: Option<Vec<u8>>,
}

const COMPARED: [&str; 10] = [
    "location",
    "etag",
    "last-modified",
    "cache-control",
    "content-range",
    "content-type",
    "content-encoding",
    "accept-ranges",
    "vary",
    "content-length",
];

pub(super) async fn fetch(
    client: &reqwest::Client,
    base: &str,
    method: &Method,
    path: &str,
    headers: &[(&'static str, &str)],
) -> (Seen, Option<u64>) {
    let mut rb = client.request(method.clone(), format!("{base}{path}"));
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    let r = rb.send().await.expect("answer");
    let status = r.status().as_u16();
    let mut seen = BTreeMap::new();
    for name in COMPARED {
        // Error answers are rendered by the router (problem+json or an
        // error page): their type and cache headers are not the handler's.
        let rendered = status >= 300 && status != 304;
        if (name == "content-length" && !(200..300).contains(&status))
            || (rendered && name == "content-type")
            || (status >= 400 && name == "cache-control")
        {
            continue;
        }
        if let Some(v) = r.headers().get(name).and_then(|v| v.to_str().ok()) {
            let v = if name == "location" {
                v.strip_prefix(base).unwrap_or(v).to_string()
            } else {
                v.to_string()
            };
            seen.insert(name, v);
        }
    }
    let expires = (status < 400)
        .then(|| r.headers().get("expires"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs());
    let body = r.bytes().await.expect("body").to_vec();
    let body = (200..300).contains(&status).then_some(body);
    (
        Seen {
            status,
            headers: seen,
            body,
        },
        expires,
    )
}
