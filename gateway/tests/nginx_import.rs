//! `gateway import-nginx` as tools call it: the exit codes, the report on
//! standard error, `-o`, and the table's life afterwards (`gateway check`,
//! `gateway -c OUT run` serving it).

#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn gateway() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gateway"))
}

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/nginx_corpus")
        .join(name)
}

fn import(args: &[&str]) -> Output {
    gateway().arg("import-nginx").args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn a_fully_translated_file_exits_0_with_the_table_on_stdout() {
    let out = import(&[corpus("original.conf").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(
        table.contains("[[routes]]\nprefix = \"/users/\"\nupstream = \"users\""),
        "{table}"
    );
}

#[test]
fn untranslated_directives_exit_2_listed_as_file_line_directive_why() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("nginx.conf");
    std::fs::write(
        &conf,
        "events {}\nhttp {\n  server {\n    listen 8080;\n    location /api/ { proxy_pass http://api:9000/; sub_filter a b; }\n    location = /gone { if ($http_x_a) { return 403; } return 410; }\n  }\n}\n",
    )
    .unwrap();
    let out_file = dir.path().join("gateway.toml");
    let out = import(&[conf.to_str().unwrap(), "-o", out_file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "-o writes the file, not stdout");
    let c = conf.display();
    assert_eq!(
        text(&out.stderr),
        format!(
            "{c}:5: sub_filter: response body rewriting has no equivalent\n{c}:6: if: `if` beyond the recognised idioms has no equivalent\n"
        )
    );
    let table = std::fs::read_to_string(&out_file).unwrap();
    assert!(
        table.contains(&format!("# UNTRANSLATED {c}:5: sub_filter")),
        "{table}"
    );
    let check = gateway().arg("check").arg(&out_file).output().unwrap();
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
}

#[test]
fn a_syntax_error_exits_1_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("nginx.conf");
    std::fs::write(&conf, "http {\n  server {\n    listen 80\n  }\n").unwrap();
    let out = import(&[conf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        text(&out.stderr),
        format!("gateway: {}:4:3: unexpected \"}}\"\n", conf.display())
    );
    let missing = import(&[dir.path().join("none.conf").to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn every_corpus_file_imports_and_passes_gateway_check() {
    // The TLS file names certificates relative to itself: make them.
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&corpus(""), dir.path());
    std::fs::create_dir_all(dir.path().join("certs")).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["shop.example.test".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    std::fs::write(dir.path().join("certs/shop.crt"), cert.pem()).unwrap();
    std::fs::write(dir.path().join("certs/shop.key"), key.serialize_pem()).unwrap();
    // The document roots named by absolute paths: made under the copy.
    let roots = [
        "/var/www/shop/public",
        "/var/www/shop/static/",
        "/var/www/social/public",
        "/srv/files/",
        "/usr/share/nginx/html",
    ];
    for root in roots {
        std::fs::create_dir_all(dir.path().join(root.trim_start_matches('/'))).unwrap();
    }
    for name in [
        "compose-spa.conf",
        "vm-tls-static.conf",
        "selfhosted-streaming.conf",
        "xaccel-downloads.conf",
    ] {
        let path = dir.path().join(name);
        let mut text = std::fs::read_to_string(&path).unwrap();
        for root in roots {
            let moved = dir.path().join(root.trim_start_matches('/'));
            let moved = format!(
                "{}{}",
                moved.display(),
                if root.ends_with('/') { "/" } else { "" }
            );
            text = text.replace(root, &moved);
        }
        std::fs::write(&path, text).unwrap();
    }
    let mut reports = Vec::new();
    for name in [
        "original.conf",
        "api-proxy.conf",
        "api-errors.conf",
        "compose-spa.conf",
        "admin-protect.conf",
        "ingress-rewrites.conf",
        "xaccel-downloads.conf",
        "vm-tls-static.conf",
        "selfhosted-streaming.conf",
        "vhosts/nginx.conf",
        "certbot-vm.conf",
    ] {
        let out_file = dir.path().join(format!("{}.toml", name.replace('/', "_")));
        let out = import(&[
            dir.path().join(name).to_str().unwrap(),
            "-o",
            out_file.to_str().unwrap(),
        ]);
        let report = text(&out.stderr).replace(&format!("{}/", dir.path().display()), "");
        reports.push((name, out.status.code(), report));
        let check = gateway().arg("check").arg(&out_file).output().unwrap();
        assert_eq!(
            check.status.code(),
            Some(0),
            "{name}: {}\n{}",
            text(&check.stderr),
            std::fs::read_to_string(&out_file).unwrap_or_default()
        );
    }
    for (name, code, report) in &reports {
        assert_eq!((*code, report.as_str()), (Some(0), ""), "{name}");
    }
}

#[test]
fn the_translated_original_is_served_by_gateway_run() {
    let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream_addr = upstream.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in upstream.incoming().flatten() {
            answer_with_the_path(stream);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("gateway.toml");
    let out = import(&[
        corpus("original.conf").to_str().unwrap(),
        "-o",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let public = free_port();
    let admin = free_port();
    let mut child = gateway()
        .arg("-c")
        .arg(&out_file)
        .arg("run")
        .env("GATEWAY_LISTEN", format!("127.0.0.1:{public}"))
        .env("GATEWAY_ADMIN_LISTEN", format!("127.0.0.1:{admin}"))
        .env("USERS_UPSTREAM", format!("http://{upstream_addr}"))
        .env("PRODUCTS_UPSTREAM", format!("http://{upstream_addr}"))
        .env("LOG_FORMAT", "json")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let answer = get_when_up(public, "/users/auth/login?x=1");
    let _ = child.kill();
    let _ = child.wait();
    let answer = answer.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("\r\n\r\n/auth/login?x=1"), "{answer}");
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn answer_with_the_path(mut stream: TcpStream) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let line = text(&head);
    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{path}",
        path.len()
    );
}

fn get_when_up(port: u16, path: &str) -> Result<String, String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            write!(
                s,
                "GET {path} HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            let mut out = Vec::new();
            let _ = s.read_to_end(&mut out);
            return Ok(text(&out));
        }
        if Instant::now() > deadline {
            return Err("the gateway did not listen within 20s".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
