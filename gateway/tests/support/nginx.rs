//! The differential harness against NGINX: Debian's `nginx` (path from the
//! build, `NGINX_BIN`) started without root (`-p` prefix and `-c` config in
//! a temporary directory, `daemon off`, `master_process off`, errors on
//! standard error, its pid file in the directory), the gateway started with
//! the equivalent route table, both in front of the same loopback upstream
//! and document root; the same raw requests sent to both and their answers
//! compared.
//!
//! Reusable with any pair: [`Parity::start`] takes the `server { ... }`
//! blocks of an nginx.conf and a route table, both with the placeholders
//! `{LISTEN}` (the listen address, replaced per side), `{UPSTREAM}`
//! (`127.0.0.1:port` of the shared upstream) and `{ROOT}` (the shared
//! document root).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::TestGateway;
use super::parity_upstream::ParityUpstream;

/// A running nginx, stopped when dropped.
pub struct Nginx {
    /// Where it listens.
    pub addr: SocketAddr,
    child: Child,
    _dir: tempfile::TempDir,
}

/// The nginx binary found at build time.
pub fn nginx_bin() -> &'static str {
    option_env!("NGINX_BIN").unwrap_or("nginx")
}

impl Nginx {
    /// Start nginx serving `servers` (the contents of its `http { }` block,
    /// `{LISTEN}` already replaced by `addr`).
    pub async fn start(servers: &str, addr: SocketAddr) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let conf = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log stderr error;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n access_log off;\n client_body_temp_path {d}/body;\n proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi;\n uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n\
             include /etc/nginx/mime.types;\n default_type application/octet-stream;\n\
             {servers}\n}}\n"
        );
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, &conf).unwrap();
        let mut child = Command::new(nginx_bin())
            .arg("-e")
            .arg("stderr")
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("nginx starts");
        for _ in 0..100 {
            if TcpStream::connect(addr).await.is_ok() {
                return Nginx {
                    addr,
                    child,
                    _dir: dir,
                };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("nginx did not listen on {addr} with:\n{conf}");
    }

    /// Whether nginx accepts `servers` (`nginx -t`): its error output on refusal.
    pub fn check(servers: &str) -> Result<(), String> {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let conf = format!(
            "pid {d}/nginx.pid;\nerror_log stderr error;\nevents {{ }}\nhttp {{\n{servers}\n}}\n"
        );
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, conf).unwrap();
        let out = Command::new(nginx_bin())
            .args(["-e", "stderr", "-t", "-q", "-p"])
            .arg(dir.path())
            .arg("-c")
            .arg(&path)
            .output()
            .expect("nginx runs");
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port (bound, then released for the server to take).
pub fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// One side's answer, as the comparison sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status.
    pub status: u16,
    /// Header values by lowercase name (several joined with `, `).
    pub headers: BTreeMap<String, String>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
}

impl Answer {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// NGINX and the gateway with equivalent configurations.
pub struct Parity {
    /// NGINX.
    pub nginx: Nginx,
    /// The gateway.
    pub gateway: TestGateway,
    /// The shared upstream.
    pub upstream: ParityUpstream,
    /// The directory holding the shared document root (`docroot/`).
    pub root: tempfile::TempDir,
    /// The headers compared besides status and `Location` (when NGINX
    /// sends them; `content-type` only on successful answers; `Expires`
    /// is a clock reading, not compared).
    pub compared: Vec<&'static str>,
}

/// `text` with the placeholders replaced.
pub fn fill(text: &str, listen: SocketAddr, upstream: SocketAddr, root: &Path) -> String {
    text.replace("{LISTEN}", &listen.to_string())
        .replace("{UPSTREAM}", &upstream.to_string())
        .replace("{ROOT}", &root.display().to_string())
}

impl Parity {
    /// Start both sides: `nginx_servers` (the `server` blocks) and
    /// `route_table` (the gateway's TOML), with the placeholders of the
    /// module's documentation. `files` are written under the document
    /// root first.
    pub async fn start(nginx_servers: &str, route_table: &str, files: &[(&str, &str)]) -> Parity {
        Self::start_with(nginx_servers, route_table, files, |_| {}).await
    }

    /// [`Parity::start`], with `setup` called on the document root first
    /// (its parent directory is the test's own, e.g. for an htpasswd file
    /// outside the root: `{ROOT}/../htpasswd`).
    pub async fn start_with(
        nginx_servers: &str,
        route_table: &str,
        files: &[(&str, &str)],
        setup: impl FnOnce(&Path),
    ) -> Parity {
        let base = tempfile::tempdir().unwrap();
        let docroot = base.path().join("docroot");
        std::fs::create_dir_all(&docroot).unwrap();
        setup(&docroot);
        for (path, contents) in files {
            let at: PathBuf = docroot.join(path);
            std::fs::create_dir_all(at.parent().unwrap()).unwrap();
            std::fs::write(at, contents).unwrap();
        }
        let upstream = ParityUpstream::start().await;
        let nginx_addr = free_addr();
        let nginx = Nginx::start(
            &fill(nginx_servers, nginx_addr, upstream.addr, &docroot),
            nginx_addr,
        )
        .await;
        let gateway = TestGateway::start(&fill(
            route_table,
            "127.0.0.1:0".parse().unwrap(),
            upstream.addr,
            &docroot,
        ))
        .await;
        Parity {
            nginx,
            gateway,
            upstream,
            root: base,
            compared: vec![
                "etag",
                "last-modified",
                "cache-control",
                "accept-ranges",
                "content-range",
                "content-type",
                "www-authenticate",
            ],
        }
    }

    /// Send `request` (raw HTTP/1.1 head, `Connection: close` added) to
    /// both: `(nginx, gateway)`.
    pub async fn both(&self, request: &str) -> (Answer, Answer) {
        let n = exchange(self.nginx.addr, request).await;
        let g = exchange(self.gateway.addr, request).await;
        (n, g)
    }

    /// `GET path` with `Host: parity.test` to both, asserting equal
    /// answers ([`Parity::assert_same`]); the gateway's answer.
    pub async fn same_get(&self, path: &str) -> Answer {
        self.same(&format!("GET {path} HTTP/1.1\r\nHost: parity.test\r\n"))
            .await
    }

    /// `request` to both, asserting equal answers; the gateway's answer.
    pub async fn same(&self, request: &str) -> Answer {
        let (n, g) = self.both(request).await;
        self.assert_same(request, &n, &g);
        g
    }

    /// Equal status, `Location` (each side's own `http://host:port`
    /// removed: NGINX makes its redirects absolute), the compared headers
    /// when NGINX sends them, and bodies of successful answers (error
    /// bodies differ: the gateway's are problem+json).
    pub fn assert_same(&self, request: &str, n: &Answer, g: &Answer) {
        let what = request.lines().next().unwrap_or_default();
        assert_eq!(
            n.status, g.status,
            "{what}: status (nginx {n:?}\ngateway {g:?})"
        );
        let nl = n.header("location").map(|l| relative(l, self.nginx.addr));
        let gl = g.header("location").map(|l| relative(l, self.gateway.addr));
        assert_eq!(nl, gl, "{what}: location");
        for name in &self.compared {
            // Error answers differ in type: the gateway's are problem+json.
            if *name == "content-type" && n.status >= 300 {
                continue;
            }
            if let Some(value) = n.header(name) {
                let value = value.split(';').next().unwrap_or_default().trim();
                let ours = g
                    .header(name)
                    .map(|v| v.split(';').next().unwrap_or_default().trim());
                assert_eq!(Some(value), ours, "{what}: header {name}");
            }
        }
        if n.status < 300 {
            assert_eq!(
                String::from_utf8_lossy(&n.body),
                String::from_utf8_lossy(&g.body),
                "{what}: body"
            );
        }
    }
}

/// `location` without the `http://host[:port]` of a redirect to the
/// server itself (NGINX's `absolute_redirect`).
fn relative(location: &str, addr: SocketAddr) -> String {
    for host in ["parity.test", "127.0.0.1"] {
        for authority in [format!("{host}:{}", addr.port()), host.to_string()] {
            if let Some(rest) = location.strip_prefix(&format!("http://{authority}"))
                && rest.starts_with('/')
            {
                return rest.to_string();
            }
        }
    }
    location.to_string()
}

/// Send `request` (a head without its blank line) and read the whole answer.
pub async fn exchange(addr: SocketAddr, request: &str) -> Answer {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!("{request}Connection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw))
        .await
        .expect("answer in time")
        .unwrap();
    parse(&raw, request.starts_with("HEAD "))
}

fn parse(raw: &[u8], head_only: bool) -> Answer {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head")
        + 4;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').unwrap();
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim().to_string();
        headers
            .entry(name)
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    let rest = &raw[end..];
    let body = if head_only {
        Vec::new()
    } else if headers
        .get("transfer-encoding")
        .is_some_and(|t| t.contains("chunked"))
    {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Answer {
        status,
        headers,
        body,
    }
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&rest[..line_end])
                .split(';')
                .next()
                .unwrap()
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            return out;
        }
        let start = line_end + 2;
        out.extend_from_slice(&rest[start..start + size]);
        rest = &rest[start + size + 2..];
    }
}

/// Run `gateway check` on `toml`: its standard error when it refuses
/// (panics when it accepts).
pub fn gateway_check(toml: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.toml");
    std::fs::write(&path, toml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .arg("check")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success(), "gateway check accepted:\n{toml}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}
