//! Properties over mutated corpus files and generated configurations: the
//! parser never panics, its positions are inside the file, and whatever
//! the importer prints passes `gateway check`.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use crate::config::{Config, Overrides};

use super::import_text;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/nginx_corpus")
}

fn corpus_files() -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut dirs = vec![corpus_dir()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "conf") {
                let bytes = std::fs::read(&p).unwrap_or_default();
                out.push((p, bytes));
            }
        }
    }
    out.sort();
    out
}

/// Insert, delete or replace bytes; replacements favour NGINX's own
/// special characters.
fn mutate(mut bytes: Vec<u8>, ops: &[(u8, usize, u8)]) -> Vec<u8> {
    const SPECIAL: &[u8] = b"{};#\"'\\$ \n/:~=*^@()";
    for &(op, at, b) in ops {
        let byte = if b % 2 == 0 {
            SPECIAL[usize::from(b / 2) % SPECIAL.len()]
        } else {
            b
        };
        let at = if bytes.is_empty() {
            0
        } else {
            at % bytes.len()
        };
        match op % 3 {
            0 => bytes.insert(at, byte),
            1 if !bytes.is_empty() => {
                bytes.remove(at);
            }
            _ if !bytes.is_empty() => bytes[at] = byte,
            _ => bytes.push(byte),
        }
    }
    bytes
}

fn check_output(name: &Path, text: &[u8]) -> Result<(), TestCaseError> {
    let dir = name.parent().unwrap_or(Path::new("/"));
    match import_text(name, text, dir) {
        Ok(t) => {
            if let Err(e) = Config::parse(Path::new("out.toml"), &t.toml, &Overrides::default()) {
                return Err(TestCaseError::fail(format!(
                    "{e}\n--- input\n{}\n--- output\n{}",
                    String::from_utf8_lossy(text),
                    t.toml
                )));
            }
        }
        Err(e) => {
            if e.file == name {
                let lines = text.iter().filter(|&&b| b == b'\n').count() + 1;
                prop_assert!(e.pos.line as usize <= lines, "{e} beyond {lines} lines");
                prop_assert!(e.pos.line >= 1 && e.pos.col >= 1, "{e}");
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn mutated_corpus_files_never_panic_and_translate_to_valid_tables(
        file in 0usize..64,
        ops in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..8),
    ) {
        let files = corpus_files();
        prop_assume!(!files.is_empty());
        let (name, bytes) = &files[file % files.len()];
        let mutated = mutate(bytes.clone(), &ops);
        check_output(name, &mutated)?;
    }

    #[test]
    fn generated_configurations_translate_to_valid_tables(
        locations in proptest::collection::vec(location(), 0..6),
        server_level in proptest::collection::vec(setting(), 0..5),
        http_level in proptest::collection::vec(setting(), 0..5),
        listen in prop::sample::select(vec!["80", "127.0.0.1:8080", "[::]:81", "443 ssl", "8443 ssl http2", "unix:/x"]),
    ) {
        let text = format!(
            "events {{}}\nhttp {{\nlimit_req_zone $binary_remote_addr zone=z:1m rate=5r/s;\nupstream pool {{ server a:1 weight=2; server b:2 max_fails=3 fail_timeout=7s; }}\n{}\nserver {{\nlisten {listen};\nssl_certificate c.pem; ssl_certificate_key k.pem;\n{}\n{}\n}}\n}}\n",
            http_level.join("\n"),
            server_level.join("\n"),
            locations.join("\n"),
        );
        check_output(Path::new("/etc/nginx/gen.conf"), text.as_bytes())?;
    }
}

fn location() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["", "^~ ", "= ", "~ ", "@"]),
        prop::sample::select(vec!["/", "/a/", "/a/b/", "/c", "/a/", "/%41/", "/x//y/"]),
        prop::sample::select(vec![
            "proxy_pass http://pool;",
            "proxy_pass http://pool/;",
            "proxy_pass http://u:8000/;",
            "proxy_pass http://u:8000;",
            "proxy_pass http://u:8000/v1/;",
            "proxy_pass https://u;",
            "proxy_pass http://$up;",
            "root /srv;",
            "return 204;",
        ]),
        proptest::collection::vec(setting(), 0..4),
    )
        .prop_map(|(m, p, pass, settings)| {
            format!("location {m}{p} {{ {pass} {} }}", settings.join(" "))
        })
}

fn setting() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "proxy_set_header Host $host;",
        "proxy_set_header Host $proxy_host;",
        "proxy_set_header X-Env prod;",
        "proxy_set_header X-Gone \"\";",
        "proxy_set_header X-User $remote_user;",
        "proxy_set_header Connection \"\";",
        "add_header X-Frame-Options DENY always;",
        "add_header X-Frame-Options SAMEORIGIN;",
        "add_header Content-Length 3;",
        "proxy_hide_header X-Powered-By;",
        "gzip on;",
        "gzip off;",
        "gzip_types application/json text/css;",
        "gzip_types *;",
        "gzip_min_length 1k;",
        "gzip_comp_level 9;",
        "client_max_body_size 0;",
        "client_max_body_size 5m;",
        "proxy_read_timeout 1m30s;",
        "proxy_connect_timeout 250ms;",
        "limit_req zone=z burst=5 nodelay;",
        "limit_req zone=z;",
        "limit_req zone=missing nodelay;",
        "keepalive_timeout 0;",
        "keepalive_timeout 75s;",
        "send_timeout 10;",
        "set_real_ip_from 10.0.0.0/8;",
        "set_real_ip_from 192.168.1.1;",
        "access_log off;",
        "limit_conn perip 10;",
        "sub_filter a b;",
        "if ($x) { return 403; }",
        "if ($request_method = OPTIONS) { add_header Access-Control-Allow-Origin *; add_header Access-Control-Allow-Methods \"GET, get, POST\"; return 204; }",
        "if ($request_method = 'OPTIONS') { add_header Access-Control-Allow-Origin https://a.example; add_header Access-Control-Allow-Credentials true; add_header Access-Control-Allow-Headers \"X-A, x-a\"; return 204; }",
        "add_header Access-Control-Allow-Origin https://a.example always;",
        "large_client_header_buffers 4 8k;",
        "http2_max_concurrent_streams 64;",
        "server_name example.test;",
    ])
    .prop_map(str::to_string)
}
