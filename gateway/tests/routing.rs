//! Route matching, the trailing-slash redirect and path normalisation,
//! through real sockets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use support::*;

async fn gateway() -> (Upstream, Upstream, TestGateway) {
    let users = Upstream::start("users").await;
    let products = Upstream::start("products").await;
    let gw = TestGateway::start(&two_routes(&users.url(), &products.url())).await;
    (users, products, gw)
}

/// Send `GET target` raw (so no client library normalises it first).
async fn get_raw(gw: &TestGateway, target: &str) -> String {
    raw(
        gw.addr,
        format!("GET {target} HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n").as_bytes(),
        Duration::from_secs(5),
    )
    .await
}

#[tokio::test]
async fn prefix_without_slash_redirects_keeping_the_query() {
    let (_u, _p, gw) = gateway().await;
    let resp = client().get(gw.url("/users?page=2")).send().await.unwrap();
    assert_eq!(resp.status(), 301);
    assert_eq!(resp.headers()["location"], "/users/?page=2");
}

#[tokio::test]
async fn longest_prefix_wins() {
    let users = Upstream::start("users").await;
    let admin = Upstream::start("admin").await;
    let toml = format!(
        r#"
[upstreams.users]
endpoints = ["{}"]
[upstreams.admin]
endpoints = ["{}"]
[[routes]]
prefix = "/users/"
upstream = "users"
[[routes]]
prefix = "/users/admin/"
upstream = "admin"
"#,
        users.url(),
        admin.url()
    );
    let gw = TestGateway::start(&toml).await;
    let resp = client().get(gw.url("/users/admin/x")).send().await.unwrap();
    assert_eq!(resp.headers()["x-upstream"], "admin");
    assert_eq!(echo(&resp.text().await.unwrap())["path"], "/x");
    let resp = client()
        .get(gw.url("/users/administrators"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-upstream"], "users");
}

#[tokio::test]
async fn unknown_path_is_a_404_problem_with_the_request_id() {
    let (users, _p, gw) = gateway().await;
    let resp = client()
        .get(gw.url("/usersX/1"))
        .header("x-request-id", "req-404")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    assert_eq!(resp.headers()["x-request-id"], "req-404");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], 404);
    assert_eq!(body["request_id"], "req-404");
    assert_eq!(users.requests(), 0);
}

#[tokio::test]
async fn dot_segments_are_resolved_before_routing() {
    let (users, products, gw) = gateway().await;
    for target in [
        "/users/../products/x",
        "/users/%2e%2e/products/x",
        "/users/%2E%2e/products/./x",
    ] {
        let resp = get_raw(&gw, target).await;
        assert!(resp.starts_with("HTTP/1.1 200"), "{target}: {resp}");
        assert!(resp.contains("x-upstream: products"), "{target}: {resp}");
        assert!(
            raw_body(&resp).contains("\"path\":\"/x\""),
            "{target}: {resp}"
        );
    }
    assert_eq!(users.requests(), 0);
    assert_eq!(products.requests(), 3);
}

#[tokio::test]
async fn double_slashes_are_merged() {
    let (_u, _p, gw) = gateway().await;
    let resp = get_raw(&gw, "//users//auth///login").await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(
        raw_body(&resp).contains("\"path\":\"/auth/login\""),
        "{resp}"
    );
}

#[tokio::test]
async fn encoded_slash_stays_encoded_and_is_not_a_separator() {
    let (_u, _p, gw) = gateway().await;
    let resp = get_raw(&gw, "/users/a%2fb/..%2F..%2Fetc").await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(
        raw_body(&resp).contains("\"path\":\"/a%2Fb/..%2F..%2Fetc\""),
        "{resp}"
    );
    // `/users%2F` is not `/users/`.
    let resp = get_raw(&gw, "/users%2Fme").await;
    assert!(resp.starts_with("HTTP/1.1 404"), "{resp}");
}

#[tokio::test]
async fn encoded_unreserved_characters_are_decoded() {
    let (_u, _p, gw) = gateway().await;
    let resp = get_raw(&gw, "/users/%7Ejohn/%41").await;
    assert!(raw_body(&resp).contains("\"path\":\"/~john/A\""), "{resp}");
}

#[tokio::test]
async fn non_ascii_text_in_a_path_reaches_the_upstream_unchanged() {
    let (_u, _p, gw) = gateway().await;
    let resp = get_raw(&gw, "/users//café/%41").await;
    assert!(raw_body(&resp).contains("\"path\":\"/café/A\""), "{resp}");
}

#[tokio::test]
async fn paths_above_root_nul_or_bad_escapes_are_refused_with_400() {
    let (users, products, gw) = gateway().await;
    for target in [
        "/users/../../etc/passwd",
        "/%2e%2e/users/x",
        "/users/%00",
        "/users/%zz",
        "/users/%4",
    ] {
        let resp = get_raw(&gw, target).await;
        assert!(resp.starts_with("HTTP/1.1 400"), "{target}: {resp}");
        assert!(
            resp.contains("application/problem+json"),
            "{target}: {resp}"
        );
        assert!(
            raw_body(&resp).contains("\"request_id\""),
            "{target}: {resp}"
        );
    }
    assert_eq!(users.requests() + products.requests(), 0);
}

#[tokio::test]
async fn upstream_problem_responses_pass_through_untouched() {
    let (_u, _p, gw) = gateway().await;
    let resp = client()
        .get(gw.url("/users/status/409"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 409);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    assert_eq!(
        resp.text().await.unwrap(),
        "{\"type\":\"about:blank\",\"status\":409,\"detail\":\"from upstream\"}"
    );
}

#[tokio::test]
async fn unstripped_route_forwards_the_full_path() {
    let users = Upstream::start("users").await;
    let toml = format!(
        r#"
[upstreams.users]
endpoints = ["{}"]
[[routes]]
prefix = "/users/"
upstream = "users"
strip_prefix = false
"#,
        users.url()
    );
    let gw = TestGateway::start(&toml).await;
    let resp = client().get(gw.url("/users/me")).send().await.unwrap();
    let e = echo(&resp.text().await.unwrap());
    assert_eq!(e["path"], "/users/me");
    assert!(echoed(&e, "x-forwarded-prefix").is_empty());
}
