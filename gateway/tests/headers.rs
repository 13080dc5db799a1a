//! Header rules: hop-by-hop, forwarding headers and trusted proxies, the
//! request id, Host, multi-valued headers, HTTP/2.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use support::*;

#[tokio::test]
async fn hop_by_hop_and_connection_named_headers_are_removed() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let req = "GET /users/x HTTP/1.1\r\nHost: shop.test\r\nConnection: close, X-Private\r\n\
               X-Private: secret\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n\
               Proxy-Connection: keep-alive\r\nX-Kept: yes\r\n\r\n";
    let resp = raw(gw.addr, req.as_bytes(), Duration::from_secs(5)).await;
    let e = echo(raw_body(&resp));
    for gone in [
        "x-private",
        "keep-alive",
        "te",
        "proxy-connection",
        "upgrade",
    ] {
        assert!(
            echoed(&e, gone).is_empty(),
            "{gone} reached the upstream: {e}"
        );
    }
    assert_eq!(echoed(&e, "x-kept"), ["yes"]);
    // hyper re-adds its own keep-alive Connection header only when needed.
    assert!(
        echoed(&e, "connection")
            .iter()
            .all(|v| !v.contains("X-Private"))
    );
}

#[tokio::test]
async fn a_header_named_in_connection_is_removed_even_beside_non_ascii_bytes() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let req = b"GET /users/x HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\nConnection: \xe9t\xe9, X-Private\r\n\
                X-Private: secret\r\nX-Kept: yes\r\n\r\n";
    let resp = raw(gw.addr, req, Duration::from_secs(5)).await;
    let e = echo(raw_body(&resp));
    assert!(
        echoed(&e, "x-private").is_empty(),
        "x-private reached the upstream: {e}"
    );
    assert_eq!(echoed(&e, "x-kept"), ["yes"]);
}

#[tokio::test]
async fn forwarding_headers_are_set_for_a_direct_client() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let resp = client()
        .get(gw.url("/users/me"))
        .header("host", "shop.example")
        .send()
        .await
        .unwrap();
    let e = echo(&resp.text().await.unwrap());
    assert_eq!(echoed(&e, "x-forwarded-for"), ["127.0.0.1"]);
    assert_eq!(echoed(&e, "x-real-ip"), ["127.0.0.1"]);
    assert_eq!(echoed(&e, "x-forwarded-proto"), ["http"]);
    assert_eq!(echoed(&e, "x-forwarded-host"), ["shop.example"]);
    assert_eq!(echoed(&e, "x-forwarded-prefix"), ["/users"]);
}

#[tokio::test]
async fn untrusted_peer_forwarding_headers_are_replaced() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(
        &users.url(),
        "trusted_proxies = [\"10.0.0.0/8\"]",
    ))
    .await;
    let resp = client()
        .get(gw.url("/users/me"))
        .header("x-forwarded-for", "6.6.6.6")
        .header("x-real-ip", "6.6.6.6")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "evil.example")
        .header("x-forwarded-prefix", "/evil")
        .header("forwarded", "for=6.6.6.6")
        .send()
        .await
        .unwrap();
    let e = echo(&resp.text().await.unwrap());
    assert_eq!(echoed(&e, "x-forwarded-for"), ["127.0.0.1"]);
    assert_eq!(echoed(&e, "x-real-ip"), ["127.0.0.1"]);
    assert_eq!(echoed(&e, "x-forwarded-proto"), ["http"]);
    assert_ne!(echoed(&e, "x-forwarded-host"), ["evil.example"]);
    assert_eq!(echoed(&e, "x-forwarded-prefix"), ["/users"]);
    assert!(echoed(&e, "forwarded").is_empty());
}

#[tokio::test]
async fn trusted_proxy_forwarding_headers_are_kept_and_appended_to() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(
        &users.url(),
        "trusted_proxies = [\"127.0.0.0/8\", \"10.0.0.0/8\"]",
    ))
    .await;
    let resp = client()
        .get(gw.url("/users/me"))
        .header("x-forwarded-for", "203.0.113.7, 10.1.1.1")
        .header("x-real-ip", "6.6.6.6")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "shop.example")
        .header("forwarded", "for=203.0.113.7")
        .send()
        .await
        .unwrap();
    let e = echo(&resp.text().await.unwrap());
    assert_eq!(
        echoed(&e, "x-forwarded-for"),
        ["203.0.113.7, 10.1.1.1, 127.0.0.1"]
    );
    assert_eq!(echoed(&e, "x-real-ip"), ["203.0.113.7"]);
    assert_eq!(echoed(&e, "x-forwarded-proto"), ["https"]);
    assert_eq!(echoed(&e, "x-forwarded-host"), ["shop.example"]);
    assert_eq!(echoed(&e, "forwarded"), ["for=203.0.113.7"]);
}

#[tokio::test]
async fn a_valid_request_id_is_kept_and_echoed() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let resp = client()
        .get(gw.url("/users/me"))
        .header("x-request-id", "abc.DEF_123-x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "abc.DEF_123-x");
    let e = echo(&resp.text().await.unwrap());
    assert_eq!(echoed(&e, "x-request-id"), ["abc.DEF_123-x"]);
}

#[tokio::test]
async fn an_invalid_request_id_is_replaced_by_a_generated_one() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let long = "a".repeat(129);
    for bad in ["has space", "semi;colon", long.as_str()] {
        let resp = client()
            .get(gw.url("/users/me"))
            .header("x-request-id", bad)
            .send()
            .await
            .unwrap();
        let echoed_id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
        assert_ne!(echoed_id, bad);
        assert!(!echoed_id.is_empty() && echoed_id.len() <= 128);
        let e = echo(&resp.text().await.unwrap());
        assert_eq!(echoed(&e, "x-request-id"), [echoed_id]);
    }
}

#[tokio::test]
async fn a_missing_request_id_is_generated() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let resp = client().get(gw.url("/users/me")).send().await.unwrap();
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 36);
    let e = echo(&resp.text().await.unwrap());
    assert_eq!(echoed(&e, "x-request-id"), [id]);
}

#[tokio::test]
async fn the_client_host_is_kept_by_default() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let resp = client()
        .get(gw.url("/users/me"))
        .header("host", "shop.example:8080")
        .send()
        .await
        .unwrap();
    let e = echo(&resp.text().await.unwrap());
    assert_eq!(echoed(&e, "host"), ["shop.example:8080"]);
}

#[tokio::test]
async fn a_route_can_send_the_upstream_authority_as_host() {
    let users = Upstream::start("users").await;
    let toml = format!(
        r#"
[upstreams.users]
endpoints = ["http://localhost:{}"]
[[routes]]
prefix = "/users/"
upstream = "users"
host = "upstream"
"#,
        users.addr.port()
    );
    let gw = TestGateway::start(&toml).await;
    let resp = client()
        .get(gw.url("/users/me"))
        .header("host", "shop.example")
        .send()
        .await
        .unwrap();
    let e = echo(&resp.text().await.unwrap());
    assert_eq!(
        echoed(&e, "host"),
        [format!("localhost:{}", users.addr.port())]
    );
}

#[tokio::test]
async fn two_host_headers_are_refused() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let req =
        "GET /users/me HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\nConnection: close\r\n\r\n";
    let resp = raw(gw.addr, req.as_bytes(), Duration::from_secs(5)).await;
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");
    assert_eq!(users.requests(), 0);
}

#[tokio::test]
async fn set_cookie_headers_pass_intact() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let resp = client().get(gw.url("/users/cookies")).send().await.unwrap();
    let cookies: Vec<&str> = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(cookies, ["a=1; Path=/", "b=2; Path=/; HttpOnly"]);
}

#[tokio::test]
async fn h2c_prior_knowledge_is_served_and_authority_becomes_one_host() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .no_proxy()
        .build()
        .unwrap();
    let resp = h2.get(gw.url("/users/me?x=1")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    let e = echo(&resp.text().await.unwrap());
    assert_eq!(e["path"], "/me?x=1");
    assert_eq!(echoed(&e, "host"), [gw.addr.to_string()]);
    assert_eq!(e["version"], "HTTP/1.1");
}
