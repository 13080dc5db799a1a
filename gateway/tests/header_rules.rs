//! Header rules over real TCP: request headers set, added and removed
//! before the upstream sees them; response headers before the client
//! does; a reload replaces the rules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod policy_support;
mod support;

use policy_support::*;
use support::*;

const RULES: &str = r#"[routes.headers]
request_set = { "X-Env" = "prod", "X-Forwarded-Proto" = "https" }
request_add = { "X-Tag" = "edge" }
request_remove = ["X-Debug"]
response_set = { "X-Frame-Options" = "DENY" }
response_add = { "Via" = "1.1 shop-gateway" }
response_remove = ["X-Upstream"]
"#;

#[tokio::test]
async fn request_and_response_headers_follow_the_rules() {
    let up = Upstream::start("users").await;
    let gw = TestGateway::start(&route_with(&up.url(), RULES)).await;
    let r = client()
        .get(gw.url("/users/me"))
        .header("x-env", "dev")
        .header("x-tag", "client")
        .header("x-debug", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["via"], "1.1 shop-gateway");
    assert!(h.get("x-upstream").is_none());
    let e = echo(&r.text().await.unwrap());
    assert_eq!(echoed(&e, "x-env"), ["prod"]);
    assert_eq!(echoed(&e, "x-tag"), ["client", "edge"]);
    assert!(echoed(&e, "x-debug").is_empty());
    // After the proxy's own forwarding headers: a rule can override them.
    assert_eq!(echoed(&e, "x-forwarded-proto"), ["https"]);
}

#[tokio::test]
async fn a_reload_replaces_the_rules() {
    let up = Upstream::start("users").await;
    let gw = TestGateway::start_with(&route_with(&up.url(), RULES), |o| o.watch = true).await;
    let other = "[routes.headers]\nrequest_set = { \"X-Env\" = \"staging\" }\n";
    reload(&gw, &route_with(&up.url(), other), |c| {
        shown(c, "headers")["request"]["set"]["x-env"] == "staging"
    })
    .await;
    let r = client().get(gw.url("/users/me")).send().await.unwrap();
    assert!(r.headers().get("x-upstream").is_some());
    assert!(r.headers().get("x-frame-options").is_none());
    let e = echo(&r.text().await.unwrap());
    assert_eq!(echoed(&e, "x-env"), ["staging"]);
    assert!(echoed(&e, "x-tag").is_empty());
}
