//! The files handler against NGINX itself (Debian's `nginx`, which
//! `.ci/run` installs): the same tree served by an NGINX on a loopback
//! port and by [`serve`](super::super::serve) behind a tiny hyper server
//! with the equivalent settings, the same requests sent to both, and the
//! statuses, `Location` (path part: NGINX's is absolute), validators,
//! cache, range, type and encoding headers, and successful bodies
//! compared. Error bodies are not compared (NGINX's are HTML, the
//! gateway's problem+json).
//!
//! Documented differences are not asked (docs/FROM-NGINX.md): dotfiles,
//! symlinks leading out of the root, several ranges, `Vary` without
//! `gzip_vary`, and the MIME types in [`TYPE_DIFFERENCES`]. The two servers
//! are in [`super::nginx_harness`].

use std::path::Path;
use std::sync::Arc;

use http::Method;

use super::nginx_harness::{Case, Location, fetch, start_nginx, start_ours};
use super::*;
use crate::config::files::{Expires, FilesBase, FilesConfig, TryFallback};

/// Extensions whose type differs between `mime_guess` and NGINX's
/// `mime.types` (compared to be sure the list stays true).
const TYPE_DIFFERENCES: &[&str] = &["js", "mjs"];

/// The locations both sides serve: (prefix, NGINX block body, our config).
fn locations(root: &Path) -> Vec<Location> {
    let r = root.display();
    let alias = |f: &dyn Fn(&mut FilesConfig)| {
        let mut c = config_at(root);
        c.base = FilesBase::Alias(root.to_path_buf());
        f(&mut c);
        c
    };
    vec![
        ("/", format!("root {r};"), config_at(root)),
        (
            "/spa/",
            format!("alias {r}/; try_files $uri $uri/ /index.html;"),
            spa(alias(&|_| {})),
        ),
        (
            "/tf/",
            format!("alias {r}/; try_files $uri =404;"),
            alias(&|c| {
                c.try_files = spa(c.clone()).try_files.map(|mut t| {
                    t.candidates.truncate(1);
                    t.fallback = TryFallback::Status(404);
                    t
                });
            }),
        ),
        (
            "/exp/",
            format!("alias {r}/; expires 1h;"),
            alias(&|c| c.expires = Expires::Seconds(3600)),
        ),
        (
            "/max/",
            format!("alias {r}/; expires max;"),
            alias(&|c| c.expires = Expires::Max),
        ),
        (
            "/epoch/",
            format!("alias {r}/; expires epoch;"),
            alias(&|c| c.expires = Expires::Epoch),
        ),
        (
            "/neg/",
            format!("alias {r}/; expires -1h;"),
            alias(&|c| c.expires = Expires::Seconds(-3600)),
        ),
        (
            "/gz/",
            format!("alias {r}/; gzip_static on; gzip_vary on;"),
            alias(&|c| c.precompressed = true),
        ),
        (
            "/idx/",
            format!("alias {r}/; index x.txt index.html;"),
            alias(&|c| c.index = vec!["x.txt".into(), "index.html".into()]),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_answers_as_nginx() {
    let t = Tree::new();
    for (name, data) in [
        ("t.css", "a{}"),
        ("t.html", "<p>"),
        ("t.json", "{}"),
        ("t.svg", "<svg/>"),
        ("t.png", "png"),
        ("t.txt", "x"),
        ("t.woff2", "w"),
        ("t.pdf", "%PDF"),
        ("t.js", "1"),
        ("t.mjs", "1"),
        ("t.xml", "<a/>"),
        ("t.ico", "i"),
        ("t.wasm", "w"),
        ("t.mp3", "m"),
        ("t.webp", "w"),
        ("t.jpg", "j"),
        ("t.gif", "g"),
        ("noext", "n"),
        ("T.HTML", "u"),
    ] {
        std::fs::write(t.root().join(name), data).expect("write");
    }
    // NGINX's worker may run as `nobody`: let it read the tree.
    for entry in [t.dir.path().to_path_buf(), t.root()] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let locs = locations(&t.root());
    let Some((_nginx, port)) = start_nginx(t.dir.path(), &t.root(), &locs) else {
        eprintln!("nginx is not installed: the comparison with NGINX was skipped");
        return;
    };
    let ours = start_ours(Arc::new(locs.clone())).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .http1_only()
        .build()
        .expect("client");
    let theirs = format!("http://127.0.0.1:{port}");
    let mine = format!("http://{ours}");

    let g = Method::GET;
    let mut cases: Vec<Case> = Vec::new();
    let mut add = |m: &Method, p: &str, h: &[(&'static str, &'static str)]| {
        cases.push((m.clone(), p.to_string(), h.to_vec()))
    };
    for p in [
        "/a.txt",
        "/dir",
        "/dir/",
        "/dir?x=1",
        "/noindex/",
        "/noindex",
        "/missing",
        "/missing/",
        "/",
        "/big.bin",
        "/inside.txt",
        "/latest.html",
        "/sp%20ace",
        "/sp%20ace/f%2520.txt",
        "/caf%C3%A9.txt",
        "/a%2etxt",
        "/dir/index.html",
    ] {
        add(&g, p, &[]);
    }
    for p in [
        "/spa/dir",
        "/spa/dir/",
        "/spa/noindex/",
        "/spa/noindex",
        "/spa/nothing",
        "/spa/a.txt",
        "/spa/deep/route?x=1",
        "/tf/a.txt",
        "/tf/nope",
        "/tf/dir",
        "/idx/noindex/",
        "/idx/dir/",
        "/idx/",
    ] {
        add(&g, p, &[]);
    }
    for p in [
        "/exp/a.txt",
        "/max/a.txt",
        "/epoch/a.txt",
        "/neg/a.txt",
        "/exp/dir/",
        "/exp/dir",
        "/exp/nope",
    ] {
        add(&g, p, &[]);
    }
    add(&g, "/gz/a.txt", &[("accept-encoding", "gzip")]);
    add(
        &g,
        "/gz/a.txt",
        &[("accept-encoding", "gzip"), ("range", "bytes=0-1")],
    );
    add(&g, "/gz/a.txt", &[]);
    add(&g, "/gz/index.html", &[("accept-encoding", "gzip")]);
    add(&Method::HEAD, "/a.txt", &[]);
    add(&Method::HEAD, "/big.bin", &[]);
    add(&Method::POST, "/a.txt", &[]);
    add(&Method::POST, "/nothere", &[]);
    add(&Method::PUT, "/a.txt", &[]);
    add(&Method::DELETE, "/nothere", &[]);
    let conditionals: &[(&'static str, &'static str)] = &[
        ("if-none-match", "\"695735a5-c\""),
        ("if-none-match", "W/\"695735a5-c\""),
        ("if-none-match", "*"),
        ("if-none-match", "\"x\""),
        ("if-modified-since", "Fri, 02 Jan 2026 03:04:05 GMT"),
        ("if-modified-since", "Fri, 02 Jan 2026 03:04:06 GMT"),
        ("if-match", "\"zz\""),
        ("if-match", "\"695735a5-c\""),
        ("if-unmodified-since", "Fri, 02 Jan 2025 03:04:05 GMT"),
        ("range", "bytes=0-3"),
        ("range", "bytes=-3"),
        ("range", "bytes=5-"),
        ("range", "bytes=5-100"),
        ("range", "bytes=0-0"),
        ("range", "bytes=20-30"),
        ("range", "bytes=-0"),
        ("range", "bytes=3-1"),
        ("range", "bytes=x"),
        ("range", "items=0-1"),
    ];
    for h in conditionals {
        add(&g, "/a.txt", std::slice::from_ref(h));
        add(&g, "/exp/a.txt", std::slice::from_ref(h));
    }
    add(
        &g,
        "/a.txt",
        &[
            ("if-none-match", "\"x\""),
            ("if-modified-since", "Fri, 02 Jan 2026 03:04:05 GMT"),
        ],
    );
    add(
        &g,
        "/a.txt",
        &[("if-range", "\"695735a5-c\""), ("range", "bytes=0-1")],
    );
    add(
        &g,
        "/a.txt",
        &[("if-range", "\"zz\""), ("range", "bytes=0-1")],
    );
    add(
        &g,
        "/a.txt",
        &[
            ("if-range", "Fri, 02 Jan 2026 03:04:05 GMT"),
            ("range", "bytes=0-1"),
        ],
    );
    add(&g, "/big.bin", &[("range", "bytes=100000-150000")]);
    for name in [
        "t.css", "t.html", "t.json", "t.svg", "t.png", "t.txt", "t.woff2", "t.pdf", "t.webp",
        "t.jpg", "t.gif", "t.xml", "t.ico", "t.wasm", "t.mp3", "noext", "T.HTML",
    ] {
        add(&g, &format!("/{name}"), &[]);
    }

    eprintln!("{} requests compared with NGINX", cases.len());
    let mut differences = Vec::new();
    for (m, p, h) in &cases {
        let (a, ea) = fetch(&client, &theirs, m, p, h).await;
        let (b, eb) = fetch(&client, &mine, m, p, h).await;
        if a != b {
            differences.push(format!("{m} {p} {h:?}\n  nginx: {a:?}\n  ours:  {b:?}"));
        }
        let close = match (ea, eb) {
            (Some(x), Some(y)) => x.abs_diff(y) <= 2,
            (None, None) => true,
            _ => false,
        };
        if !close {
            differences.push(format!("{m} {p} {h:?}: Expires {ea:?} vs {eb:?}"));
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} requests differ:\n{}",
        differences.len(),
        cases.len(),
        differences.join("\n")
    );

    // The type table's known differences are still differences.
    let mut same = Vec::new();
    for ext in TYPE_DIFFERENCES {
        let (a, _) = fetch(&client, &theirs, &g, &format!("/t.{ext}"), &[]).await;
        let (b, _) = fetch(&client, &mine, &g, &format!("/t.{ext}"), &[]).await;
        let (a, b) = (a.headers.get("content-type"), b.headers.get("content-type"));
        eprintln!("t.{ext}: nginx {a:?}, ours {b:?}");
        if a == b {
            same.push(*ext);
        }
    }
    assert!(
        same.is_empty(),
        "{same:?}: now the same, update TYPE_DIFFERENCES and docs/FROM-NGINX.md"
    );
}
