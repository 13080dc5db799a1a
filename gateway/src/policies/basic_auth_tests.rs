//! Basic authentication: challenges, right and wrong credentials, both
//! hash schemes, the cache of verified credentials, many checks at once.

use std::net::{IpAddr, Ipv4Addr};

use http::{HeaderMap, Method};

use super::*;
use crate::policies::htpasswd::tests::{argon2id_of, bcrypt_of};

struct Fixture {
    _dir: tempfile::TempDir,
    auth: BasicAuth,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("htpasswd");
    std::fs::write(
        &file,
        format!(
            "alice:{}\narno:{}\n",
            bcrypt_of("open sesame"),
            argon2id_of("argon pw")
        ),
    )
    .expect("write");
    let config = BasicAuthConfig {
        realm: "Staff only".into(),
        file,
    };
    Fixture {
        auth: BasicAuth::new(&config, "/basic-auth-test/", None),
        _dir: dir,
    }
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

async fn ask(auth: &BasicAuth, authorization: Option<&str>) -> Result<(), Verdict> {
    let mut headers = HeaderMap::new();
    if let Some(a) = authorization {
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(a).expect("value"),
        );
    }
    let head = RequestHead {
        method: &Method::GET,
        headers: &headers,
    };
    let facts = RequestFacts {
        host: None,
        path: "/basic-auth-test/x",
        client_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    auth.on_request(&head, &facts).await
}

fn assert_challenge(v: Result<(), Verdict>) {
    match v {
        Err(Verdict::Refuse(p)) => {
            assert_eq!(p.status_code(), StatusCode::UNAUTHORIZED);
            let h = p
                .headers
                .iter()
                .find(|(n, _)| *n == header::WWW_AUTHENTICATE)
                .map(|(_, v)| v.clone());
            assert_eq!(
                h,
                Some(HeaderValue::from_static("Basic realm=\"Staff only\""))
            );
        }
        other => panic!("expected a 401 challenge, got {other:?}"),
    }
}

#[tokio::test]
async fn challenges_without_valid_credentials() {
    let f = fixture();
    assert_challenge(ask(&f.auth, None).await);
    assert_challenge(ask(&f.auth, Some("Bearer abc")).await);
    assert_challenge(ask(&f.auth, Some("Basic !!!not-base64")).await);
    assert_challenge(
        ask(
            &f.auth,
            Some(&format!("Basic {}", STANDARD.encode("nocolon"))),
        )
        .await,
    );
    assert_challenge(ask(&f.auth, Some(&basic("alice", "wrong"))).await);
    assert_challenge(ask(&f.auth, Some(&basic("alice", ""))).await);
    assert_challenge(ask(&f.auth, Some(&basic("mallory", "open sesame"))).await);
    assert_challenge(ask(&f.auth, Some(&basic("arno", "open sesame"))).await);
}

#[tokio::test]
async fn accepts_bcrypt_and_argon2id_users() {
    let f = fixture();
    assert!(
        ask(&f.auth, Some(&basic("alice", "open sesame")))
            .await
            .is_ok()
    );
    assert!(ask(&f.auth, Some(&basic("arno", "argon pw"))).await.is_ok());
    // The scheme name is case-insensitive.
    let lower = basic("alice", "open sesame").replacen("Basic", "basic", 1);
    assert!(ask(&f.auth, Some(&lower)).await.is_ok());
}

#[tokio::test]
async fn remembers_successes_only() {
    let f = fixture();
    assert_challenge(ask(&f.auth, Some(&basic("alice", "wrong"))).await);
    assert_eq!(f.auth.verified.lock().map(|m| m.len()).unwrap_or(9), 0);
    assert!(
        ask(&f.auth, Some(&basic("alice", "open sesame")))
            .await
            .is_ok()
    );
    assert!(
        ask(&f.auth, Some(&basic("alice", "open sesame")))
            .await
            .is_ok()
    );
    assert_eq!(f.auth.verified.lock().map(|m| m.len()).unwrap_or(9), 1);
    // A kept policy (same settings after a reload) keeps the cache.
    let again = BasicAuth::new(&f.auth.config, "/basic-auth-test/", Some(&f.auth));
    assert_eq!(again.verified.lock().map(|m| m.len()).unwrap_or(9), 1);
}

#[tokio::test]
async fn bounded_cache() {
    let f = fixture();
    for i in 0..CACHE_MAX + 10 {
        f.auth.remember([
            (i % 251) as u8,
            (i / 251) as u8,
            1,
            2,
            3,
            4,
            5,
            6,
            7,
            8,
            9,
            10,
            11,
            12,
            13,
            14,
            15,
            16,
            17,
            18,
            19,
            20,
            21,
            22,
            23,
            24,
            25,
            26,
            27,
            28,
            29,
            30,
        ]);
    }
    let len = f
        .auth
        .verified
        .lock()
        .map(|m| m.len())
        .unwrap_or(usize::MAX);
    assert!(len <= CACHE_MAX, "{len}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_checks_at_once_all_answer() {
    let f = Arc::new(fixture());
    let mut tasks = Vec::new();
    for i in 0..24 {
        let f = Arc::clone(&f);
        tasks.push(tokio::spawn(async move {
            let pw = if i % 2 == 0 { "open sesame" } else { "nope" };
            ask(&f.auth, Some(&basic("alice", pw))).await.is_ok() == (i % 2 == 0)
        }));
    }
    for t in tasks {
        assert!(t.await.expect("task"));
    }
}

#[test]
fn parses_credentials() {
    let v = |s: &str| credentials(&HeaderValue::from_str(s).expect("value"));
    assert_eq!(
        v(&basic("a", "b:c")),
        Some(("a".to_string(), b"b:c".to_vec()))
    );
    assert_eq!(v(&basic("", "x")), Some((String::new(), b"x".to_vec())));
    assert_eq!(v("Basic"), None);
    assert_eq!(v("Digest abc"), None);
    assert_eq!(
        v(&format!("Basic {}", STANDARD.encode([0xff, b':', b'x']))),
        None
    );
}
