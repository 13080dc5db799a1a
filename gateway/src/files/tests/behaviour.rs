//! What each request gets, case by case.

use http::{Method, StatusCode, header};

use super::super::{FilesOutcome, Plan};
use super::*;
use crate::config::files::{Expires, FilesBase, TryFallback};

fn status_of(p: &Plan) -> StatusCode {
    match p {
        Plan::Serve(s, _, _) | Plan::Status(s, _) => *s,
        other => panic!("no status: {other:?}"),
    }
}

fn header_of(p: &Plan, name: header::HeaderName) -> Option<&str> {
    match p {
        Plan::Serve(_, h, _) | Plan::Status(_, h) => h.get(name).and_then(|v| v.to_str().ok()),
        _ => None,
    }
}

const GET: &Method = &Method::GET;

#[test]
fn serves_a_file_with_nginx_headers() {
    let t = Tree::new();
    let mut p = run(&t.config(), GET, "/a.txt", "/", &[]);
    assert_eq!(status_of(&p), StatusCode::OK);
    assert_eq!(header_of(&p, header::CONTENT_TYPE), Some("text/plain"));
    assert_eq!(header_of(&p, header::CONTENT_LENGTH), Some("12"));
    assert_eq!(header_of(&p, header::ETAG), Some("\"695735a5-c\""));
    assert_eq!(
        header_of(&p, header::LAST_MODIFIED),
        Some("Fri, 02 Jan 2026 03:04:05 GMT")
    );
    assert_eq!(header_of(&p, header::ACCEPT_RANGES), Some("bytes"));
    assert_eq!(header_of(&p, header::VARY), None);
    assert_eq!(header_of(&p, header::EXPIRES), None);
    assert_eq!(body_of(&mut p), b"hello world\n");
}

#[test]
fn head_has_the_length_and_no_body() {
    let t = Tree::new();
    let mut p = run(&t.config(), &Method::HEAD, "/a.txt", "/", &[]);
    assert_eq!(status_of(&p), StatusCode::OK);
    assert_eq!(header_of(&p, header::CONTENT_LENGTH), Some("12"));
    assert!(body_of(&mut p).is_empty());
}

#[test]
fn directories_index_and_slash_redirect() {
    let t = Tree::new();
    let c = t.config();
    let mut p = run(&c, GET, "/dir/", "/", &[]);
    assert_eq!(status_of(&p), StatusCode::OK);
    assert_eq!(header_of(&p, header::CONTENT_TYPE), Some("text/html"));
    assert_eq!(body_of(&mut p), b"dir idx\n");
    let p = run(&c, GET, "/dir?x=1", "/", &[]);
    assert_eq!(status_of(&p), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(header_of(&p, header::LOCATION), Some("/dir/?x=1"));
    assert_eq!(
        status_of(&run(&c, GET, "/noindex/", "/", &[])),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status_of(&run(&c, GET, "/missing/", "/", &[])),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status_of(&run(&c, GET, "/missing", "/", &[])),
        StatusCode::NOT_FOUND
    );
    let mut p = run(&c, GET, "/", "/", &[]);
    assert_eq!(body_of(&mut p), b"<h1>idx</h1>\n");
    // No index at all: every directory is 403.
    let mut none = t.config();
    none.index.clear();
    assert_eq!(
        status_of(&run(&none, GET, "/dir/", "/", &[])),
        StatusCode::FORBIDDEN
    );
    // Index names are tried in order.
    let mut two = t.config();
    two.index = vec!["x.txt".into(), "index.html".into()];
    let mut p = run(&two, GET, "/noindex/", "/", &[]);
    assert_eq!(body_of(&mut p), b"x\n");
    let p = run(&two, GET, "/caf%C3%A9.txt/", "/", &[]);
    assert_eq!(status_of(&p), StatusCode::NOT_FOUND);
}

#[test]
fn location_is_encoded() {
    let t = Tree::new();
    let p = run(&t.config(), GET, "/sp%20ace", "/", &[]);
    assert_eq!(header_of(&p, header::LOCATION), Some("/sp%20ace/"));
    let mut p = run(&t.config(), GET, "/sp%20ace/f%2520.txt", "/", &[]);
    assert_eq!(body_of(&mut p), b"odd\n");
    let mut p = run(&t.config(), GET, "/caf%C3%A9.txt", "/", &[]);
    assert_eq!(body_of(&mut p), b"cafe\n");
    let mut p = run(&t.config(), GET, "/caf\u{e9}.txt", "/", &[]);
    assert_eq!(body_of(&mut p), b"cafe\n");
}

#[test]
fn methods() {
    let t = Tree::new();
    let c = t.config();
    let p = run(&c, &Method::POST, "/a.txt", "/", &[]);
    assert_eq!(status_of(&p), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header_of(&p, header::ALLOW), Some("GET, HEAD"));
    assert_eq!(
        status_of(&run(&c, &Method::POST, "/nothere", "/", &[])),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status_of(&run(&c, &Method::PUT, "/a.txt", "/", &[])),
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        status_of(&run(&c, &Method::DELETE, "/nothere", "/", &[])),
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        status_of(&run(&c, &Method::POST, "/dir/", "/", &[])),
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[test]
fn alias_replaces_the_prefix() {
    let t = Tree::new();
    let mut c = t.config();
    c.base = FilesBase::Alias(t.root());
    let mut p = run(&c, GET, "/static/a.txt", "/static/", &[]);
    assert_eq!(body_of(&mut p), b"hello world\n");
    let mut p = run(&c, GET, "/static/", "/static/", &[]);
    assert_eq!(body_of(&mut p), b"<h1>idx</h1>\n");
    let p = run(&c, GET, "/static/dir", "/static/", &[]);
    assert_eq!(header_of(&p, header::LOCATION), Some("/static/dir/"));
    // Root keeps the whole URI.
    let p = run(&t.config(), GET, "/static/a.txt", "/static/", &[]);
    assert_eq!(status_of(&p), StatusCode::NOT_FOUND);
}

#[test]
fn try_files_spa() {
    let t = Tree::new();
    let c = spa(t.config());
    let mut p = run(&c, GET, "/a.txt", "/", &[]);
    assert_eq!(body_of(&mut p), b"hello world\n");
    // A directory without the slash: 301; with it and no index: 403.
    let p = run(&c, GET, "/noindex", "/", &[]);
    assert_eq!(header_of(&p, header::LOCATION), Some("/noindex/"));
    assert_eq!(
        status_of(&run(&c, GET, "/noindex/", "/", &[])),
        StatusCode::FORBIDDEN
    );
    let mut p = run(&c, GET, "/dir/", "/", &[]);
    assert_eq!(body_of(&mut p), b"dir idx\n");
    match run(&c, GET, "/app/route?x=1", "/", &[]) {
        Plan::Internal(u) => assert_eq!(u, "/index.html"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn try_files_fallbacks() {
    let t = Tree::new();
    let mut c = spa(t.config());
    let set = |c: &mut crate::config::files::FilesConfig, f: TryFallback| {
        if let Some(tf) = c.try_files.as_mut() {
            tf.fallback = f;
        }
    };
    set(&mut c, TryFallback::Status(404));
    assert_eq!(
        status_of(&run(&c, GET, "/nope", "/", &[])),
        StatusCode::NOT_FOUND
    );
    set(&mut c, TryFallback::Status(418));
    assert_eq!(status_of(&run(&c, GET, "/nope", "/", &[])).as_u16(), 418);
    set(&mut c, TryFallback::Named("app".into()));
    assert!(matches!(run(&c, GET, "/nope", "/", &[]), Plan::Named(n) if n == "app"));
    set(&mut c, TryFallback::Uri("/index.php?q=$uri&$args".into()));
    match run(&c, GET, "/a%20b?x=1", "/", &[]) {
        Plan::Internal(u) => assert_eq!(u, "/index.php?q=/a%20b&x=1"),
        other => panic!("{other:?}"),
    }
    // PUT to a missing file takes the fallback, as in NGINX (try_files
    // runs before the content handler).
    assert!(matches!(
        run(&c, &Method::PUT, "/nope", "/", &[]),
        Plan::Internal(_)
    ));
}

#[test]
fn dotfiles_refused_unless_allowed() {
    let t = Tree::new();
    let c = t.config();
    for p in [
        "/.env",
        "/.git/config",
        "/public/config",
        "/%2Eenv",
        "/.git/",
    ] {
        assert_eq!(
            status_of(&run(&c, GET, p, "/", &[])),
            StatusCode::NOT_FOUND,
            "{p}"
        );
    }
    // A hidden path never reaches the try_files fallback.
    assert_eq!(
        status_of(&run(&spa(t.config()), GET, "/.env", "/", &[])),
        StatusCode::NOT_FOUND
    );
    let mut p = run(&c, GET, "/.well-known/security.txt", "/", &[]);
    assert_eq!(body_of(&mut p), b"Contact: x\n");
    let mut open = t.config();
    open.dotfiles = true;
    let mut p = run(&open, GET, "/.env", "/", &[]);
    assert_eq!(body_of(&mut p), b"secret\n");
    let mut p = run(&open, GET, "/public/config", "/", &[]);
    assert_eq!(body_of(&mut p), b"[core]\n");
}

#[test]
fn symlinks_inside_served_outside_refused() {
    let t = Tree::new();
    let c = t.config();
    let mut p = run(&c, GET, "/inside.txt", "/", &[]);
    assert_eq!(body_of(&mut p), b"hello world\n");
    // The type comes from the name asked for, as in NGINX.
    let p = run(&c, GET, "/latest.html", "/", &[]);
    assert_eq!(header_of(&p, header::CONTENT_TYPE), Some("text/html"));
    for p in ["/escape.txt", "/escape/secret.txt", "/escape", "/escape/"] {
        assert_eq!(
            status_of(&run(&c, GET, p, "/", &[])),
            StatusCode::NOT_FOUND,
            "{p}"
        );
    }
}

#[test]
fn conditionals_and_ranges() {
    let t = Tree::new();
    let c = t.config();
    let p = run(
        &c,
        GET,
        "/a.txt",
        "/",
        &[("if-none-match", "\"695735a5-c\"")],
    );
    assert_eq!(status_of(&p), StatusCode::NOT_MODIFIED);
    assert_eq!(header_of(&p, header::ETAG), Some("\"695735a5-c\""));
    assert_eq!(header_of(&p, header::CONTENT_TYPE), None);
    let p = run(
        &c,
        GET,
        "/a.txt",
        "/",
        &[("if-modified-since", "Fri, 02 Jan 2026 03:04:05 GMT")],
    );
    assert_eq!(status_of(&p), StatusCode::NOT_MODIFIED);
    let p = run(&c, GET, "/a.txt", "/", &[("if-match", "\"nope\"")]);
    assert_eq!(status_of(&p), StatusCode::PRECONDITION_FAILED);
    let mut p = run(&c, GET, "/a.txt", "/", &[("range", "bytes=-3")]);
    assert_eq!(status_of(&p), StatusCode::PARTIAL_CONTENT);
    assert_eq!(header_of(&p, header::CONTENT_RANGE), Some("bytes 9-11/12"));
    assert_eq!(header_of(&p, header::CONTENT_LENGTH), Some("3"));
    assert_eq!(header_of(&p, header::ACCEPT_RANGES), None);
    assert_eq!(body_of(&mut p), b"ld\n");
    let p = run(&c, GET, "/a.txt", "/", &[("range", "bytes=20-")]);
    assert_eq!(status_of(&p), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(header_of(&p, header::CONTENT_RANGE), Some("bytes */12"));
    let mut p = run(
        &c,
        GET,
        "/big.bin",
        "/",
        &[("range", "bytes=100000-199999")],
    );
    let body = body_of(&mut p);
    assert_eq!(body.len(), 100_000);
    assert_eq!(body[0], (100_000u32 % 251) as u8);
}

#[test]
fn large_files_stream_from_the_file() {
    let t = Tree::new();
    let mut p = run(&t.config(), GET, "/big.bin", "/", &[]);
    assert!(
        matches!(p, Plan::Serve(_, _, BodyPlan::File(_, 200_000))),
        "{p:?}"
    );
    assert_eq!(
        header_of(&p, header::CONTENT_TYPE),
        Some("application/octet-stream")
    );
    assert_eq!(body_of(&mut p).len(), 200_000);
}

#[test]
fn expires_and_cache_control() {
    let t = Tree::new();
    let mut c = t.config();
    c.expires = Expires::Seconds(3600);
    c.cache_control = Some("public".into());
    let p = run(&c, GET, "/a.txt", "/", &[]);
    assert_eq!(
        header_of(&p, header::CACHE_CONTROL),
        Some("max-age=3600, public")
    );
    assert_eq!(
        header_of(&p, header::EXPIRES),
        Some("Mon, 07 Dec 2026 14:12:42 GMT")
    );
    let p = run(&c, GET, "/a.txt", "/", &[("if-none-match", "*")]);
    assert_eq!(
        header_of(&p, header::CACHE_CONTROL),
        Some("max-age=3600, public")
    );
}

#[test]
fn precompressed_siblings() {
    let t = Tree::new();
    let mut c = t.config();
    c.precompressed = true;
    let mut p = run(&c, GET, "/a.txt", "/", &[("accept-encoding", "gzip, br")]);
    assert_eq!(header_of(&p, header::CONTENT_ENCODING), Some("br"));
    assert_eq!(header_of(&p, header::CONTENT_TYPE), Some("text/plain"));
    assert_eq!(header_of(&p, header::VARY), Some("Accept-Encoding"));
    assert_eq!(header_of(&p, header::ACCEPT_RANGES), None);
    assert_eq!(body_of(&mut p), b"BR-BYTES");
    let mut p = run(
        &c,
        GET,
        "/a.txt",
        "/",
        &[("accept-encoding", "gzip"), ("range", "bytes=0-1")],
    );
    assert_eq!(status_of(&p), StatusCode::OK);
    assert_eq!(header_of(&p, header::CONTENT_ENCODING), Some("gzip"));
    assert_eq!(body_of(&mut p), b"GZ-BYTES");
    // zstd accepted but no .zst: the next one.
    let p = run(
        &c,
        GET,
        "/a.txt",
        "/",
        &[("accept-encoding", "zstd, gzip;q=0.5")],
    );
    assert_eq!(header_of(&p, header::CONTENT_ENCODING), Some("gzip"));
    let mut p = run(&c, GET, "/a.txt", "/", &[("accept-encoding", "identity")]);
    assert_eq!(header_of(&p, header::CONTENT_ENCODING), None);
    assert_eq!(header_of(&p, header::VARY), Some("Accept-Encoding"));
    assert_eq!(body_of(&mut p), b"hello world\n");
    // No sibling: the answer does not depend on Accept-Encoding.
    let p = run(&c, GET, "/index.html", "/", &[("accept-encoding", "gzip")]);
    assert_eq!(header_of(&p, header::VARY), None);
    // Off: the siblings are plain files to whoever asks for them by name.
    let p = run(
        &t.config(),
        GET,
        "/a.txt",
        "/",
        &[("accept-encoding", "br")],
    );
    assert_eq!(header_of(&p, header::CONTENT_ENCODING), None);
}

#[test]
fn mime_types_from_the_table() {
    let t = Tree::new();
    let c = t.config();
    let ty = |name: &str| {
        super::super::respond::content_type(&c, std::path::Path::new(name))
            .to_str()
            .map(str::to_string)
            .unwrap_or_default()
    };
    assert_eq!(ty("a.html"), "text/html");
    assert_eq!(ty("a.css"), "text/css");
    assert_eq!(ty("a.png"), "image/png");
    assert_eq!(ty("a.svg"), "image/svg+xml");
    assert_eq!(ty("a.json"), "application/json");
    assert_eq!(ty("a.wasm"), "application/wasm");
    assert_eq!(ty("a.woff2"), "font/woff2");
    assert_eq!(ty("a.unknownext"), "application/octet-stream");
    let mut other = t.config();
    other.default_type = "text/plain".into();
    assert_eq!(
        super::super::respond::content_type(&other, std::path::Path::new("x")),
        "text/plain"
    );
}

#[tokio::test]
async fn serve_answers_through_the_blocking_pool() {
    use http_body_util::BodyExt;
    let t = Tree::new();
    let c = std::sync::Arc::new(t.config());
    let h = http::HeaderMap::new();
    let req = super::super::FileRequest {
        method: &Method::GET,
        path: "/big.bin",
        query: None,
        prefix: "/",
        headers: &h,
    };
    match super::super::serve(&c, &req).await {
        FilesOutcome::Response(r) => {
            assert_eq!(r.status(), StatusCode::OK);
            let body = r.into_body().collect().await.expect("body").to_bytes();
            assert_eq!(body.len(), 200_000);
        }
        other => panic!("{other:?}"),
    }
    let req = super::super::FileRequest {
        path: "/dir",
        query: Some("a=b"),
        ..req
    };
    match super::super::serve(&c, &req).await {
        FilesOutcome::Status(s, h) => {
            assert_eq!(s, StatusCode::MOVED_PERMANENTLY);
            assert_eq!(
                h.get(header::LOCATION).map(|v| v.as_bytes()),
                Some(&b"/dir/?a=b"[..])
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_root_that_went_away_is_404() {
    let t = Tree::new();
    let c = config_at(&t.root().join("gone"));
    assert_eq!(
        status_of(&run(&c, GET, "/a.txt", "/", &[])),
        StatusCode::NOT_FOUND
    );
}
