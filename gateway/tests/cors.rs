//! CORS over real TCP: preflights answered at the gateway (allowed and
//! refused, never reaching the upstream), headers on responses to allowed
//! origins only, the gateway's own refusals readable by the browser, and
//! a reload.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod policy_support;
mod support;

use policy_support::*;
use support::*;

const SHOP: &str = "https://shop.example";

const CORS: &str = r#"[routes.cors]
allow_origins = ["https://shop.example"]
allow_methods = ["GET", "POST", "PATCH", "DELETE"]
allow_headers = ["Authorization", "Content-Type", "If-Match"]
expose_headers = ["ETag", "X-Request-Id"]
allow_credentials = true
max_age = "1h"
"#;

fn preflight(
    gw: &TestGateway,
    origin: &str,
    method: &str,
    headers: &str,
) -> reqwest::RequestBuilder {
    let mut r = client()
        .request(reqwest::Method::OPTIONS, gw.url("/users/me"))
        .header("origin", origin)
        .header("access-control-request-method", method);
    if !headers.is_empty() {
        r = r.header("access-control-request-headers", headers);
    }
    r
}

fn vary(h: &reqwest::header::HeaderMap) -> String {
    h.get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[tokio::test]
async fn an_allowed_preflight_is_answered_at_the_gateway() {
    let up = Upstream::start("users").await;
    let gw = TestGateway::start(&route_with(&up.url(), CORS)).await;
    let r = preflight(&gw, SHOP, "PATCH", "content-type, authorization, if-match")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let h = r.headers();
    assert_eq!(h["access-control-allow-origin"], SHOP);
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert_eq!(
        h["access-control-allow-methods"],
        "GET, POST, PATCH, DELETE"
    );
    assert_eq!(
        h["access-control-allow-headers"],
        "authorization, content-type, if-match"
    );
    assert_eq!(h["access-control-max-age"], "3600");
    let vary = vary(h);
    assert!(
        vary.contains("Origin") && vary.contains("Access-Control-Request-Method"),
        "{vary}"
    );
    assert_eq!(up.requests(), 0);
    let m = gw.metrics().await;
    let allowed = metric(
        &m,
        "gateway_cors_preflights_total{route=\"/users/\",result=\"allowed\"}",
    );
    assert!(allowed.unwrap() >= 1.0, "{m}");
}

#[tokio::test]
async fn refused_preflights_get_403_naming_the_reason_and_no_cors_headers() {
    let up = Upstream::start("users").await;
    let gw = TestGateway::start(&route_with(&up.url(), CORS)).await;
    for (origin, method, headers, want) in [
        (
            "https://evil.example",
            "GET",
            "",
            "the origin `https://evil.example` is not allowed",
        ),
        (SHOP, "PUT", "", "the method `PUT` is not allowed"),
        (
            SHOP,
            "POST",
            "x-secret",
            "the header `x-secret` is not allowed",
        ),
    ] {
        let r = preflight(&gw, origin, method, headers)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{origin} {method} {headers}");
        if origin != SHOP {
            assert!(r.headers().get("access-control-allow-origin").is_none());
        }
        assert!(r.headers().get("access-control-allow-methods").is_none());
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(body["detail"].as_str().unwrap().contains(want), "{body}");
    }
    assert_eq!(up.requests(), 0);
    let m = gw.metrics().await;
    let refused = metric(
        &m,
        "gateway_cors_preflights_total{route=\"/users/\",result=\"refused\"}",
    );
    assert!(refused.unwrap() >= 3.0, "{m}");
}

#[tokio::test]
async fn responses_carry_the_headers_for_allowed_origins_only() {
    let up = Upstream::start("users").await;
    let gw = TestGateway::start(&route_with(&up.url(), CORS)).await;
    let c = client();
    let r = c
        .get(gw.url("/users/me"))
        .header("origin", SHOP)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], SHOP);
    assert_eq!(
        r.headers()["access-control-expose-headers"],
        "etag, x-request-id"
    );
    assert_eq!(r.headers()["access-control-allow-credentials"], "true");
    assert!(vary(r.headers()).contains("Origin"));

    let r = c
        .get(gw.url("/users/me"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    // Not refused (the browser enforces CORS), but nothing allows it.
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()
            .keys()
            .all(|k| !k.as_str().starts_with("access-control-"))
    );
    assert!(vary(r.headers()).contains("Origin"));

    // A plain OPTIONS (not a preflight) goes to the upstream.
    let r = c
        .request(reqwest::Method::OPTIONS, gw.url("/users/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(up.requests(), 3);
}

#[tokio::test]
async fn the_gateways_own_refusals_are_readable_by_an_allowed_origin() {
    let up = Upstream::start("users").await;
    let tables = format!("{CORS}[routes.rate_limit]\nrate = \"1/m\"\nburst = 1\n");
    let gw = TestGateway::start(&route_with(&up.url(), &tables)).await;
    let c = client();
    let get = || c.get(gw.url("/users/me")).header("origin", SHOP).send();
    assert_eq!(get().await.unwrap().status(), 200);
    let r = get().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["access-control-allow-origin"], SHOP);
    // Preflights come before the rate limit: they never spend a token.
    let r = preflight(&gw, SHOP, "DELETE", "").send().await.unwrap();
    assert_eq!(r.status(), 204);
}

#[tokio::test]
async fn a_reload_switches_cors_on() {
    let up = Upstream::start("users").await;
    let gw = TestGateway::start_with(&route_with(&up.url(), ""), |o| o.watch = true).await;
    let r = preflight(&gw, SHOP, "POST", "").send().await.unwrap();
    assert_eq!(r.status(), 200, "without CORS the upstream answers");
    assert_eq!(up.requests(), 1);
    reload(&gw, &route_with(&up.url(), CORS), |c| {
        !shown(c, "cors").is_null()
    })
    .await;
    let config = gw.config_json().await;
    assert_eq!(shown(&config, "cors")["allow_origins"][0], SHOP);
    assert_eq!(shown(&config, "cors")["max_age_secs"], 3600);
    let r = preflight(&gw, SHOP, "POST", "").send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(up.requests(), 1);
}
