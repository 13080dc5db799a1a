//! Basic authentication against NGINX's `auth_basic` (Debian's NGINX 1.22,
//! whose libxcrypt checks bcrypt): the same htpasswd file, the same
//! requests, equal statuses and `WWW-Authenticate`. Argon2id (which NGINX
//! cannot check) and the weak schemes (which the gateway refuses at
//! `gateway check`) are not compared.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use super::*;
use crate::files::tests::nginx_harness::start_nginx_with;

async fn ours(auth: Arc<BasicAuth>) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let auth = Arc::clone(&auth);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let auth = Arc::clone(&auth);
                    async move {
                        let head = RequestHead::of(&req);
                        let facts = RequestFacts {
                            host: None,
                            path: req.uri().path(),
                            client_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
                        };
                        let mut response = Response::new(Full::new(bytes::Bytes::new()));
                        if let Err(Verdict::Refuse(p)) = auth.on_request(&head, &facts).await {
                            *response.status_mut() = p.status_code();
                            for (name, value) in p.headers {
                                response.headers_mut().append(name, value);
                            }
                        }
                        Ok::<_, std::convert::Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_answers_as_nginx() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root).expect("mkdir");
    std::fs::write(root.join("ok.txt"), "ok").expect("write");
    let file = dir.path().join("htpasswd");
    std::fs::write(
        &file,
        format!(
            "# staff\nalice:{}\nyann:{}\n",
            bcrypt::hash("open sesame", 5).expect("bcrypt"),
            bcrypt::hash("p:w", 5)
                .expect("bcrypt")
                .replacen("$2b$", "$2y$", 1)
        ),
    )
    .expect("write");
    for (p, mode) in [
        (dir.path(), 0o755),
        (root.as_path(), 0o755),
        (file.as_path(), 0o644),
    ] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    let server = format!(
        "    location /p/ {{ auth_basic \"Staff only\"; auth_basic_user_file {}; alias {}/; }}\n",
        file.display(),
        root.display()
    );
    let Some((_nginx, port)) = start_nginx_with(dir.path(), &server) else {
        eprintln!("nginx is not installed: the comparison with NGINX was skipped");
        return;
    };
    let config = BasicAuthConfig {
        realm: "Staff only".into(),
        file,
    };
    let mine = ours(Arc::new(BasicAuth::new(&config, "/basic-nginx/", None))).await;
    let client = reqwest::Client::builder()
        .http1_only()
        .build()
        .expect("client");
    let b = |u: &str, p: &str| format!("Basic {}", STANDARD.encode(format!("{u}:{p}")));
    let cases: Vec<Option<String>> = vec![
        None,
        Some("Bearer abc".into()),
        Some("Basic !!!".into()),
        Some(format!("Basic {}", STANDARD.encode("nocolon"))),
        Some(b("alice", "wrong")),
        Some(b("alice", "")),
        Some(b("alice", "open sesame")),
        Some(b("alice", "open sesame").replacen("Basic", "basic", 1)),
        Some(b("Alice", "open sesame")),
        Some(b("mallory", "open sesame")),
        Some(b("yann", "p:w")),
        Some(b("yann", "p")),
    ];
    let mut differences = Vec::new();
    for auth in &cases {
        let mut answers = Vec::new();
        for base in [format!("http://127.0.0.1:{port}"), format!("http://{mine}")] {
            let mut rb = client.get(format!("{base}/p/ok.txt"));
            if let Some(a) = auth {
                rb = rb.header("authorization", a);
            }
            let r = rb.send().await.expect("answer");
            let challenge = r
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            answers.push((r.status().as_u16(), challenge));
        }
        if answers[0] != answers[1] {
            differences.push(format!(
                "{auth:?}: nginx {:?}, ours {:?}",
                answers[0], answers[1]
            ));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
