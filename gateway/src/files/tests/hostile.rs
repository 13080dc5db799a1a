//! Hostile paths: a corpus (encoded, double-encoded, overlong UTF-8, mixed
//! separators, NUL, symlink escapes) and a property test over random
//! paths built from the same pieces. Nothing outside the root (`SECRET`)
//! and no hidden file (`.env`, `.git/config`) is ever served.

use http::{Method, StatusCode};
use proptest::prelude::*;

use super::super::Plan;
use super::*;
use crate::config::files::FilesBase;

/// Bodies that must never be served.
const FORBIDDEN: [&[u8]; 3] = [b"SECRET", b"secret\n", b"[core]\n"];

const CORPUS: &[&str] = &[
    "/../outside/secret.txt",
    "/..%2foutside/secret.txt",
    "/..%2Foutside%2Fsecret.txt",
    "/%2e%2e/outside/secret.txt",
    "/%2E%2E/outside/secret.txt",
    "/%2e%2e%2foutside%2fsecret.txt",
    "/%252e%252e/outside/secret.txt",
    "/%252e%252e%252foutside%252fsecret.txt",
    "/%c0%ae%c0%ae/outside/secret.txt",
    "/%c0%ae%c0%ae%c0%afoutside%c0%afsecret.txt",
    "/%e0%80%ae%e0%80%ae/outside/secret.txt",
    "/%c1%9c..%c1%9coutside",
    "/..\\outside\\secret.txt",
    "/..%5coutside%5csecret.txt",
    "/..%5Coutside/secret.txt",
    "/dir/..\\..\\outside/secret.txt",
    "/dir\\..\\..\\outside\\secret.txt",
    "/a.txt%00.html",
    "/a.txt\u{0}.html",
    "/%00/../outside/secret.txt",
    "/escape.txt",
    "/escape/secret.txt",
    "/escape/",
    "/escape",
    "/./escape/./secret.txt",
    "//escape//secret.txt",
    "/inside.txt/../escape.txt",
    "/.env",
    "/%2eenv",
    "/%2Eenv",
    "/%252eenv",
    "/.git/config",
    "/.git%2fconfig",
    "/public/config",
    "/public/",
    "/dir/../.env",
    "/dir/%2e%2e/.env",
    "/.well-known/../.env",
    "/.well-known/%2e%2e/.env",
    "/..",
    "/../",
    "/dir/../../",
    "/%2e%2e",
    "/%2e%2e/",
    "/...",
    "/....//outside/secret.txt",
    "/%u002e%u002e/outside/secret.txt",
    "/a.txt/..%00",
    "/%ff%fe/../escape.txt",
    "/escape.txt%20",
    "/ESCAPE.TXT",
];

/// Every configuration a path may meet: root, alias, try_files fallback.
fn configs(t: &Tree) -> Vec<(crate::config::files::FilesConfig, &'static str)> {
    let mut alias = t.config();
    alias.base = FilesBase::Alias(t.root());
    vec![
        (t.config(), "/"),
        (spa(t.config()), "/"),
        (alias.clone(), "/"),
        (alias, "/static/"),
    ]
}

/// The request `raw` as a client sends it: the gateway normalises first
/// (and may refuse), and the files handler also sees the raw text (as if a
/// router forgot to normalise).
fn check(t: &Tree, raw: &str) -> Vec<Option<StatusCode>> {
    let mut seen = Vec::new();
    let normalised = crate::path::normalize(raw).ok();
    for (config, prefix) in configs(t) {
        for path in [Some(raw.to_string()), normalised.clone()]
            .into_iter()
            .flatten()
        {
            let path = if prefix == "/static/" {
                format!("/static{path}")
            } else {
                path
            };
            let mut p = run(&config, &Method::GET, &path, prefix, &[]);
            match &p {
                Plan::Serve(s, _, _) => {
                    let s = *s;
                    let body = body_of(&mut p);
                    for bad in FORBIDDEN {
                        assert_ne!(
                            body, bad,
                            "{raw} ({path}, {prefix}) served a forbidden file"
                        );
                    }
                    seen.push(Some(s));
                }
                Plan::Status(s, _) => seen.push(Some(*s)),
                Plan::Internal(u) => {
                    assert!(
                        crate::path::normalize(u).is_ok_and(|n| !n.contains("..")),
                        "{raw}: fallback {u}"
                    );
                    seen.push(None);
                }
                Plan::Named(_) => seen.push(None),
            }
        }
    }
    seen
}

#[test]
fn corpus_refused() {
    let t = Tree::new();
    for raw in CORPUS {
        for status in check(&t, raw).into_iter().flatten() {
            // `/inside.txt/../escape.txt` normalises to `/escape.txt`:
            // refused too. Nothing in the corpus is a file to serve.
            assert!(
                status.is_client_error() || status.is_redirection(),
                "{raw}: {status}"
            );
            if status.is_redirection() {
                assert_eq!(status, StatusCode::MOVED_PERMANENTLY, "{raw}");
            }
        }
    }
}

#[test]
fn corpus_redirects_stay_inside() {
    // The one 301 the corpus may earn is a directory inside the root
    // (`/dir/..` style paths normalising to `/`): check its target.
    let t = Tree::new();
    let p = run(&t.config(), &Method::GET, "/dir", "/", &[]);
    match p {
        Plan::Status(s, h) => {
            assert_eq!(s, StatusCode::MOVED_PERMANENTLY);
            assert_eq!(
                h.get(http::header::LOCATION).map(|v| v.as_bytes()),
                Some(&b"/dir/"[..])
            );
        }
        other => panic!("{other:?}"),
    }
}

fn piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "/",
        "//",
        ".",
        "..",
        "%2e",
        "%2E",
        "%2e%2e",
        "%2f",
        "%2F",
        "%5c",
        "\\",
        "%00",
        "%25",
        "%252e",
        "%c0%ae",
        "%c0%af",
        "%e0%80%ae",
        "%ff",
        "escape",
        "escape.txt",
        "outside",
        "secret.txt",
        "a.txt",
        ".env",
        "%2eenv",
        ".git",
        "config",
        "public",
        "dir",
        "noindex",
        ".well-known",
        "inside.txt",
        "index.html",
        "x",
        "%20",
        "caf\u{e9}",
        "\u{0}",
        "~",
        "%",
    ])
}

#[test]
fn random_paths_never_leave_the_root() {
    let t = Tree::new();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 512,
        ..ProptestConfig::default()
    });
    let result = runner.run(&prop::collection::vec(piece(), 1..10), |pieces| {
        let raw = format!("/{}", pieces.concat());
        check(&t, &raw);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
