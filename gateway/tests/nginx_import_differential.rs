//! Equivalence by oracle for the corpus files that translate fully today:
//! NGINX runs the original (its upstream addresses pointed at a local echo
//! server, process paths moved to a temp dir), the gateway runs the
//! imported table (the same echo server through `<NAME>_UPSTREAM`), and the
//! same requests must get the same statuses, `Location`, the headers that
//! matter, and the same bodies (what the upstream saw). Skipped when no
//! `nginx` binary is installed (CI installs it).

#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/nginx_corpus")
        .join(name)
}

/// NGINX, found on the PATH when the tests were built (`build.rs`); the
/// tests are compiled as ignored without it, never counted as passed.
#[cfg(nginx_tests)]
fn nginx_binary() -> PathBuf {
    PathBuf::from(env!("NGINX_BIN"))
}

#[cfg(not(nginx_tests))]
fn nginx_binary() -> PathBuf {
    PathBuf::from("nginx")
}

/// An upstream that answers with what it received: method, target, and
/// the headers named in `shown`; `/big` answers 4 KiB of JSON; `/accel`
/// answers `X-Accel-Redirect` with the query's `to=` value; `/status/N`
/// answers with status `N`.
fn echo_upstream(shown: &'static [&'static str]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || echo(stream, shown));
        }
    });
    addr
}

fn echo(mut stream: TcpStream, shown: &[&str]) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.lines();
    let request_line = lines.next().unwrap_or("").to_string();
    let target = request_line
        .rsplit_once(' ')
        .map_or("", |(a, _)| a)
        .to_string();
    let mut seen = vec![target.clone()];
    for l in lines {
        if let Some((name, value)) = l.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            if shown.contains(&name.as_str()) {
                seen.push(format!("{name}: {}", value.trim()));
            }
        }
    }
    seen.sort();
    let mut body = seen.join("\n");
    let mut extra = String::new();
    if request_line.contains("/big") {
        body = format!("{{\"pad\":\"{}\"}}", "x".repeat(4096));
    }
    if let Some((_, to)) = target.split_once("/accel?to=") {
        extra = format!("X-Accel-Redirect: {to}\r\n");
    }
    let status = target
        .split_once("/status/")
        .and_then(|(_, n)| n.get(..3))
        .and_then(|n| n.parse::<u16>().ok())
        .unwrap_or(200);
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nX-Powered-By: echo\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A port free now and never handed out before in this process (the
/// cases run one at a time, see [`ONE_AT_A_TIME`], but a released port may
/// come back from the kernel at once).
fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// The cases start NGINX and the gateway on ports chosen by
/// [`free_port`]; run side by side, one case's process could take a port
/// another case chose but had not bound yet.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A TLS client trusting `ca_pem` only, sending SNI `shop.example.test`.
fn tls_client(ca_pem: &str) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

/// Status, the compared headers, and the body of `GET path`, over TLS
/// when `tls` is given.
fn get(port: u16, path: &str, extra: &str, tls: Option<&Arc<rustls::ClientConfig>>) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut s = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(e) if Instant::now() > deadline => panic!("port {port}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let host = if extra.to_ascii_lowercase().contains("host:") {
        ""
    } else {
        "Host: shop.test\r\n"
    };
    let request = format!("GET {path} HTTP/1.1\r\n{host}{extra}Connection: close\r\n\r\n");
    let mut out = Vec::new();
    match tls {
        None => {
            s.write_all(request.as_bytes()).unwrap();
            let _ = s.read_to_end(&mut out);
        }
        Some(config) => {
            let name = rustls::pki_types::ServerName::try_from("shop.example.test").unwrap();
            let conn = rustls::ClientConnection::new(config.clone(), name).unwrap();
            let mut stream = rustls::StreamOwned::new(conn, s);
            stream.write_all(request.as_bytes()).unwrap();
            let _ = stream.read_to_end(&mut out);
        }
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap_or("")
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_string();
    let mut kept = vec![format!("status {status}")];
    // Repeated header lines read as one list (`Cache-Control: a` and
    // `Cache-Control: b` are `a, b`).
    let mut joined: Vec<(String, String)> = Vec::new();
    for l in lines {
        if let Some((name, value)) = l.split_once(':') {
            let name = name.trim().to_ascii_lowercase();
            match joined.iter_mut().find(|(n, _)| *n == name) {
                Some((_, v)) => {
                    v.push_str(", ");
                    v.push_str(value.trim());
                }
                None => joined.push((name, value.trim().to_string())),
            }
        }
    }
    for (name, value) in &joined {
        let value = value.as_str();
        match name.as_str() {
            // Absolute (NGINX) and relative (gateway) redirects to the same URL are equal.
            "location" => kept.push(format!(
                "location: {}",
                value
                    .trim_start_matches(&format!("http://shop.test:{port}"))
                    .trim_start_matches(&format!("https://shop.example.test:{port}"))
            )),
            "x-frame-options"
            | "x-content-type-options"
            | "content-encoding"
            | "x-powered-by"
            | "cache-control"
            | "strict-transport-security"
            | "www-authenticate" => kept.push(format!("{name}: {value}")),
            _ => {}
        }
    }
    kept.sort();
    // Bodies of successes; of errors, only the pages the cases serve from
    // files (`oops`): the two proxies' own error bodies differ by design.
    let page = body.contains("oops");
    if (status.starts_with('2') || page)
        && !body.starts_with("{\"pad")
        && !body.contains('\u{fffd}')
    {
        kept.push(body.to_string());
    }
    kept.join("\n")
}

/// A child process stopped with SIGTERM when dropped: NGINX's master then
/// stops its workers (SIGKILL would leave them running, orphaned).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One corpus file's comparison.
struct Case<'a> {
    /// The file, under `tests/nginx_corpus`.
    name: &'a str,
    /// Text replaced in every `.conf` of its directory; in the
    /// replacements `ECHO` is the echo upstream, `PORT` NGINX's port and
    /// `DOCROOT` a directory holding `files`.
    replace: &'a [(&'a str, &'a str)],
    /// Files under `DOCROOT`.
    files: &'a [(&'a str, &'a str)],
    /// Request headers the echo upstream shows in its body.
    shown: &'static [&'static str],
    /// The import's exit code (2: its report lists what differs).
    code: i32,
    /// Requests: path and extra header lines.
    requests: &'a [(&'a str, &'a str)],
    /// The file is a `sites-available` one (no `http {}`): NGINX runs a
    /// main file including it, the importer reads it alone.
    site: bool,
    /// Send the requests over TLS (`TLSPORT` in the replacements; the
    /// certificate `certs/shop.crt` for `shop.example.test` is made),
    /// except those written `plain:/path`.
    tls: bool,
}

/// Run NGINX on the corpus file (its directory copied, the replacements
/// made) and the gateway on the import of that same copy; compare the
/// requests.
fn compare(case: &Case<'_>) {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let nginx = nginx_binary();
    let echo = echo_upstream(case.shown);
    let dir = tempfile::tempdir().unwrap();
    let nginx_port = free_port();
    let docroot = dir.path().join("docroot");
    std::fs::create_dir_all(&docroot).unwrap();
    for (path, contents) in case.files {
        let at = docroot.join(path);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::fs::write(at, contents).unwrap();
    }
    let nginx_tls_port = free_port();
    let source = corpus(case.name);
    let conf_dir = dir.path().join("conf");
    copy_dir(source.parent().unwrap(), &conf_dir, &|text: String| {
        let mut text = text;
        for (from, to) in case.replace {
            text = text.replace(
                from,
                &to.replace("ECHO", &echo.to_string())
                    .replace("TLSPORT", &nginx_tls_port.to_string())
                    .replace("PORT", &nginx_port.to_string())
                    .replace("DOCROOT", &docroot.display().to_string()),
            );
        }
        text
    });
    let conf = conf_dir.join(source.file_name().unwrap());
    let ca = gateway::local_ca::LocalCa::generate("import test CA").unwrap();
    let client = case.tls.then(|| tls_client(ca.cert_pem()));
    if case.tls {
        let pair = ca.issue(&["shop.example.test"], 30).unwrap();
        std::fs::create_dir_all(conf_dir.join("certs")).unwrap();
        std::fs::write(conf_dir.join("certs/shop.crt"), &pair.cert_pem).unwrap();
        std::fs::write(conf_dir.join("certs/shop.key"), &pair.key_pem).unwrap();
    }
    let nginx_conf = if case.site {
        let main = conf_dir.join("nginx-main.conf");
        std::fs::write(
            &main,
            format!(
                "events {{}}\nhttp {{\n include /etc/nginx/mime.types;\n include {};\n}}\n",
                conf.display()
            ),
        )
        .unwrap();
        main
    } else {
        conf.clone()
    };
    let _nginx = Killed(
        Command::new(nginx)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&nginx_conf)
            .arg("-g")
            .arg(format!(
                "daemon off; pid {}/nginx.pid; error_log {}/error.log;",
                dir.path().display(),
                dir.path().display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let table = dir.path().join("gateway.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["import-nginx", conf.to_str().unwrap(), "-p"])
        .arg(dir.path())
        .arg("-o")
        .arg(&table)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(case.code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let gw_port = free_port();
    let gw_tls_port = free_port();
    // The servers' own listeners name NGINX's ports: the gateway's instead.
    let translated = std::fs::read_to_string(&table)
        .unwrap()
        .replace(
            &format!("127.0.0.1:{nginx_tls_port}"),
            &format!("127.0.0.1:{gw_tls_port}"),
        )
        .replace(
            &format!("127.0.0.1:{nginx_port}"),
            &format!("127.0.0.1:{gw_port}"),
        );
    std::fs::write(&table, translated).unwrap();
    let mut gw = Command::new(env!("CARGO_BIN_EXE_gateway"));
    if case.tls {
        gw.env("GATEWAY_TLS_LISTEN", format!("127.0.0.1:{gw_tls_port}"));
    }
    gw.arg("-c")
        .arg(&table)
        .arg("run")
        .env("GATEWAY_LISTEN", format!("127.0.0.1:{gw_port}"))
        .env("GATEWAY_ADMIN_LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("gateway.stderr")).unwrap());
    let mut gw = Killed(gw.spawn().unwrap());
    // Ready when it accepts; a gateway that exited says why.
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", gw_port)).is_err() {
        if let Ok(Some(status)) = gw.0.try_wait() {
            panic!(
                "{}: the gateway exited ({status}): {}",
                case.name,
                std::fs::read_to_string(dir.path().join("gateway.stderr")).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "{}: the gateway did not listen",
            case.name
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let _gw = gw;
    let name = case.name;
    for (path, extra) in case.requests {
        // `plain:/path`: over plain HTTP even in a TLS case.
        let (path, tls) = match path.strip_prefix("plain:") {
            Some(plain) => (plain, false),
            None => (*path, case.tls),
        };
        let (theirs_port, ours_port) = if tls {
            (nginx_tls_port, gw_tls_port)
        } else {
            (nginx_port, gw_port)
        };
        let client = client.as_ref().filter(|_| tls);
        let mut theirs = get(theirs_port, path, extra, client);
        let mut ours = get(ours_port, path, extra, client);
        if theirs.starts_with("location:") && ours.starts_with("location:")
            || path.starts_with("/elsewhere")
        {
            // Known difference (the gateway's routing): its own answers (the
            // trailing-slash 301, the 404 of a path no route matches) carry
            // no header rules; NGINX adds a server's `always` headers to
            // them. Status and Location are compared.
            let redirect = |s: &str| {
                s.lines()
                    .filter(|l| l.starts_with("location") || l.starts_with("status"))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            theirs = redirect(&theirs);
            ours = redirect(&ours);
        }
        eprintln!("{name}: GET {path}:\n{ours}\n");
        assert_eq!(
            ours,
            theirs,
            "{name}: GET {path} {extra}\n{}",
            std::fs::read_to_string(&table).unwrap_or_default()
        );
    }
}

/// Copy `from` into `to`, each `.conf` through `edit`.
fn copy_dir(from: &Path, to: &Path, edit: &dyn Fn(String) -> String) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target, edit);
        } else if e.path().extension().is_some_and(|x| x == "conf") {
            let text = std::fs::read_to_string(e.path()).unwrap();
            std::fs::write(target, edit(text)).unwrap();
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// What the echo upstream shows by default.
const FORWARDED: &[&str] = &["host", "x-forwarded-proto", "x-env"];

#[test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx")]
fn the_original_nginx_conf_and_its_translation_answer_alike() {
    compare(&Case {
        name: "original.conf",
        replace: &[
            ("users:8000", "ECHO"),
            ("products:8000", "ECHO"),
            ("listen 80;", "listen 127.0.0.1:PORT;"),
        ],
        files: &[],
        shown: FORWARDED,
        code: 0,
        site: false,
        tls: false,
        requests: &[
            ("/users/auth/login?x=1", ""),
            ("/products/items/7?page=2", ""),
            ("/users", ""),
            ("/users?q=1", ""),
            ("/products/", ""),
            ("/nothing/here", ""),
        ],
    });
}

#[test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx")]
fn the_api_proxy_corpus_file_and_its_translation_answer_alike() {
    compare(&Case {
        name: "api-proxy.conf",
        replace: &[
            ("user nginx;", ""),
            ("pid /run/nginx.pid;", ""),
            ("error_log /var/log/nginx/error.log warn;", ""),
            (
                "access_log /var/log/nginx/access.log main;",
                "access_log off;",
            ),
            ("orders-1:9000", "ECHO"),
            ("orders-2:9000", "ECHO"),
            ("accounts:8000", "ECHO"),
            ("notifier:7000", "ECHO"),
            (
                "listen 80 default_server;",
                "listen 127.0.0.1:PORT default_server;",
            ),
        ],
        files: &[],
        shown: FORWARDED,
        code: 0,
        site: false,
        tls: false,
        requests: &[
            ("/orders/42?full=1", ""),
            ("/auth/login", ""),
            ("/accounts/me", ""),
            ("/accounts", ""),
            ("/events/stream", ""),
            ("/orders/big", "Accept-Encoding: gzip\r\n"),
            ("/auth/big", ""),
            ("/elsewhere", ""),
        ],
    });
}

/// The SPA's files (try_files falling back to `/index.html`, cached
/// assets), its API with the prefix replaced, the WebSocket location and
/// the health check.
#[test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx")]
fn the_compose_spa_corpus_file_and_its_translation_answer_alike() {
    compare(&Case {
        name: "compose-spa.conf",
        replace: &[
            ("backend:3000", "ECHO"),
            ("listen 80;", "listen 127.0.0.1:PORT;"),
            ("listen [::]:80;", ""),
            ("/usr/share/nginx/html", "DOCROOT"),
        ],
        files: &[
            ("index.html", "<h1>shop</h1>"),
            ("robots.txt", "User-agent: *"),
            ("assets/app.js", "console.log(1)"),
            ("docs/index.html", "<h1>docs</h1>"),
        ],
        shown: &["host"],
        code: 0,
        site: false,
        tls: false,
        requests: &[
            ("/", ""),
            ("/index.html", ""),
            ("/robots.txt", ""),
            ("/catalogue/shoes?page=2", ""),
            ("/docs", ""),
            ("/docs/", ""),
            ("/assets/app.js", ""),
            ("/assets/missing.js", ""),
            ("/api/users/7?full=1", ""),
            ("/api", ""),
            ("/socket.io/?EIO=4&transport=polling", ""),
            ("/healthz", ""),
            ("/healthz?x=1", ""),
        ],
    });
}

/// The admin area refused by address (the client is loopback), the API,
/// the robots file answered by `return`.
#[test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx")]
fn the_admin_protect_corpus_file_and_its_translation_answer_alike() {
    compare(&Case {
        name: "admin-protect.conf",
        replace: &[
            ("listen 127.0.0.1:8081;", "listen 127.0.0.1:PORT;"),
            ("app:8000", "ECHO"),
        ],
        files: &[],
        shown: &["host", "authorization"],
        code: 0,
        site: false,
        tls: false,
        requests: &[
            ("/api/orders?x=1", ""),
            ("/api", ""),
            ("/admin/", ""),
            ("/admin/users", "Authorization: Basic YWRtaW46c2VjcmV0\r\n"),
            ("/robots.txt", ""),
            ("/nothing", ""),
        ],
    });
}

/// The same file with loopback allowed: basic auth decides (no
/// credentials, wrong ones, right ones).
#[test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx")]
fn the_admin_area_asks_for_the_password_alike() {
    compare(&Case {
        name: "admin-protect.conf",
        replace: &[
            ("listen 127.0.0.1:8081;", "listen 127.0.0.1:PORT;"),
            ("app:8000", "ECHO"),
            ("allow 10.0.0.0/8;", "allow 10.0.0.0/8; allow 127.0.0.1;"),
        ],
        files: &[],
        shown: &["host", "authorization"],
        code: 0,
        site: false,
        tls: false,
        requests: &[
            ("/admin/", ""),
            ("/admin/users", "Authorization: Basic YWRtaW46d3Jvbmc=\r\n"),
            (
                "/admin/users?page=2",
                "Authorization: Basic YWRtaW46c2VjcmV0\r\n",
            ),
            ("/admin", "Authorization: Basic YWRtaW46c2VjcmV0\r\n"),
        ],
    });
}

/// Regex locations with captures, a `break` rewrite, a permanent rewrite
/// with the query kept, the CORS location.
#[test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx")]
fn the_ingress_rewrites_corpus_file_and_its_translation_answer_alike() {
    compare(&Case {
        name: "ingress-rewrites.conf",
        replace: &[
            ("billing:8080", "ECHO"),
            ("catalog:8080", "ECHO"),
            ("listen 80;", "listen 127.0.0.1:PORT;"),
        ],
        files: &[],
        shown: &["host"],
        code: 0,
        site: false,
        tls: false,
        requests: &[
            ("/billing/invoices/3?x=1", ""),
            ("/billing", ""),
            ("/BILLING/Invoices", ""),
            ("/billingx", ""),
            ("/v2/catalog/items?page=3", ""),
            ("/v10/catalog/", ""),
            ("/vx/catalog/items", ""),
            ("/legacy/a/b?c=1", ""),
            ("/legacy/", ""),
            ("/new/x?y=2", ""),
            ("/new", ""),
            ("/", ""),
        ],
    });
}

/// Downloads: the application answers `X-Accel-Redirect` to an internal
/// location served from an alias; clients cannot reach it directly.
#[test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx")]
fn the_xaccel_corpus_file_and_its_translation_answer_alike() {
    compare(&Case {
        name: "xaccel-downloads.conf",
        replace: &[
            ("files-app:5000", "ECHO"),
            ("listen 80;", "listen 127.0.0.1:PORT;"),
            ("/srv/files/", "DOCROOT/"),
        ],
        files: &[("report.txt", "quarterly figures"), ("sub/a.txt", "a")],
        shown: &["host", "x-real-ip"],
        code: 0,
        site: false,
        tls: false,
        requests: &[
            ("/downloads/accel?to=/protected/report.txt", ""),
            ("/downloads/accel?to=/protected/sub/a.txt", ""),
            ("/downloads/accel?to=/protected/missing.txt", ""),
            ("/downloads/list?page=1", ""),
            ("/protected/report.txt", ""),
            ("/downloads", ""),
        ],
    });
}

/// Virtual hosts from `conf.d/*.conf`: each name to its own upstream path;
/// an unknown host reaches the default server's `return 444` (the
/// connection closed without an answer, by both).
#[test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx")]
fn the_vhosts_corpus_file_and_its_translation_answer_alike() {
    compare(&Case {
        name: "vhosts/nginx.conf",
        replace: &[
            (
                "listen 80 default_server;",
                "listen 127.0.0.1:PORT default_server;",
            ),
            ("listen 80;", "listen 127.0.0.1:PORT;"),
            ("blog:2368", "ECHO"),
            ("shop:8000", "ECHO/shop"),
        ],
        files: &[],
        shown: &["host"],
        code: 0,
        site: false,
        tls: false,
        requests: &[
            ("/posts/1", "Host: blog.example.test\r\n"),
            ("/posts/1", "Host: en.blog.example.test\r\n"),
            ("/cart?x=1", "Host: shop.example.test\r\n"),
            ("/", "Host: a.b.blog.example.test\r\n"),
            ("/", "Host: unknown.example.test\r\n"),
            ("/cart", "Host: 10.0.0.1\r\n"),
        ],
    });
}

/// The pool and the streaming endpoint; with the pool's two servers down,
/// its backup answers; with all three down, the error page is the file
/// `500.html` with the status 502.
#[test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx")]
fn the_selfhosted_corpus_file_and_its_translation_answer_alike() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_addr = closed.local_addr().unwrap().to_string();
    drop(closed);
    fn replace(pool: [&str; 3]) -> [(&str, &str); 7] {
        [
            ("10.0.1.10:3000", pool[0]),
            ("10.0.1.11:3000", pool[1]),
            ("10.0.1.12:3000", pool[2]),
            ("10.0.1.20:4000", "ECHO"),
            ("10.0.1.21:4000", "ECHO"),
            ("listen 8080;", "listen 127.0.0.1:PORT;"),
            ("/var/www/social/public", "DOCROOT"),
        ]
    }
    let files: &[(&str, &str)] = &[("500.html", "<h1>oops</h1>")];
    compare(&Case {
        name: "selfhosted-streaming.conf",
        replace: &replace(["ECHO", "ECHO", "ECHO"]),
        files,
        shown: &["host"],
        code: 0,
        site: false,
        tls: false,
        requests: &[
            ("/api/v1/streaming?stream=user", ""),
            ("/api/v1/streaming/health", ""),
            ("/api/v1/streamingx", ""),
            ("/500.html", ""),
        ],
    });
    // `/` sets `X-Forwarded-Proto https` and removes `Proxy`.
    compare(&Case {
        name: "selfhosted-streaming.conf",
        replace: &replace(["ECHO", "ECHO", "ECHO"]),
        files,
        shown: &["host", "x-forwarded-proto", "proxy"],
        code: 0,
        site: false,
        tls: false,
        requests: &[("/", "Proxy: http://evil\r\n"), ("/@accounts/1?x=1", "")],
    });
    // The primary servers refuse connections: the backup answers.
    compare(&Case {
        name: "selfhosted-streaming.conf",
        replace: &replace([&closed_addr, &closed_addr, "ECHO"]),
        files,
        shown: &["host"],
        code: 0,
        site: false,
        tls: false,
        requests: &[("/a?x=1", ""), ("/b", ""), ("/c", "")],
    });
    // Nothing answers: 502, the error page from the files.
    compare(&Case {
        name: "selfhosted-streaming.conf",
        replace: &replace([&closed_addr, &closed_addr, &closed_addr]),
        files,
        shown: &["host"],
        code: 0,
        site: false,
        tls: false,
        requests: &[("/a", ""), ("/api/v1/streamingx", "")],
    });
}

/// One domain over TLS: the alias'd assets with their expiry, the favicon
/// from the root, the application, HSTS on every answer; on the plain
/// listener, the redirect server's 301 to HTTPS.
#[test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx")]
fn the_vm_tls_static_corpus_file_and_its_translation_answer_alike() {
    compare(&Case {
        name: "vm-tls-static.conf",
        replace: &[
            (
                "listen 443 ssl http2;",
                "listen 127.0.0.1:TLSPORT ssl http2;",
            ),
            ("listen 80;", "listen 127.0.0.1:PORT;"),
            ("listen [::]:80;", ""),
            ("127.0.0.1:8000", "ECHO"),
            ("/var/www/shop/", "DOCROOT/"),
        ],
        files: &[("static/app.css", "body{}"), ("public/favicon.ico", "icon")],
        shown: &["host", "x-forwarded-proto"],
        code: 0,
        site: true,
        tls: true,
        requests: &[
            ("plain:/account?x=1", "Host: shop.example.test\r\n"),
            ("plain:/", "Host: www.shop.example.test\r\n"),
            ("/static/app.css", "Host: shop.example.test\r\n"),
            ("/static/missing.css", "Host: shop.example.test\r\n"),
            ("/favicon.ico", "Host: shop.example.test\r\n"),
            ("/", "Host: shop.example.test\r\n"),
            ("/account?x=1", "Host: shop.example.test\r\n"),
            ("/static", "Host: shop.example.test\r\n"),
        ],
    });
}

/// A site as Certbot leaves it: the application over HTTPS (dual-stack
/// TLS listener, Certbot's TLS options include), and on the plain listener
/// the `if ($host = NAME) { return 301 ...; }` blocks for the site's names,
/// `404` for any other host.
#[test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx")]
fn the_certbot_corpus_file_and_its_translation_answer_alike() {
    compare(&Case {
        name: "certbot-vm.conf",
        replace: &[
            ("listen [::]:443 ssl ipv6only=on;", ""),
            ("listen 443 ssl;", "listen 127.0.0.1:TLSPORT ssl;"),
            ("listen 80;", "listen 127.0.0.1:PORT;"),
            ("listen [::]:80;", ""),
            ("127.0.0.1:3000", "ECHO"),
            // NGINX refuses to start without the file; the importer's
            // handling of it is pinned by `nginx_import.rs`.
            ("include /etc/letsencrypt/options-ssl-nginx.conf;", ""),
        ],
        files: &[],
        // Not `connection`: NGINX sends the literal `Connection: upgrade`
        // on every request, the gateway only with an upgrade
        // (docs/FROM-NGINX.md, differences).
        shown: &["host", "upgrade"],
        code: 0,
        site: true,
        tls: true,
        requests: &[
            ("/dashboard?tab=2", "Host: shop.example.test\r\n"),
            ("/", "Host: www.shop.example.test\r\n"),
            ("plain:/dashboard?tab=2", "Host: shop.example.test\r\n"),
            ("plain:/", "Host: www.shop.example.test\r\n"),
            ("plain:/", "Host: other.example.test\r\n"),
            ("plain:/x", "Host: SHOP.example.test\r\n"),
        ],
    });
}

/// Error pages answered by `return` locations: the upstream's own 404
/// (intercepted) becomes `200 []`, its 503 and an unreachable upstream the
/// JSON page with their own status, and `return 503` too.
#[test]
#[cfg_attr(not(nginx_tests), ignore = "needs nginx")]
fn the_api_errors_corpus_file_and_its_translation_answer_alike() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_addr = closed.local_addr().unwrap().to_string();
    drop(closed);
    compare(&Case {
        name: "api-errors.conf",
        replace: &[
            ("api:8080", "ECHO"),
            ("legacy:8080", &closed_addr),
            ("listen 80;", "listen 127.0.0.1:PORT;"),
        ],
        files: &[],
        shown: &["host"],
        code: 0,
        site: false,
        tls: false,
        requests: &[
            ("/api/items?x=1", ""),
            ("/api/status/404", ""),
            ("/api/status/503", ""),
            ("/api/status/500", ""),
            ("/legacy-api/items", ""),
            ("/maintenance", ""),
        ],
    });
}
