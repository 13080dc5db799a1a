//! Rate limits over real TCP: `429` problem+json with `Retry-After` and
//! the `RateLimit-Policy` / `RateLimit` fields, limits scoped to paths and
//! keyed by header, bounded buckets, and reloads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod policy_support;
mod support;

use policy_support::*;
use support::*;

/// A slow rate (a token per minute) so no test depends on timing.
const STRICT: &str = "[routes.rate_limit]\nrate = \"1/m\"\nburst = 3";

#[tokio::test]
async fn a_client_over_its_burst_gets_a_429_problem_and_the_upstream_never_sees_it() {
    let up = Upstream::start("users").await;
    let gw = TestGateway::start(&route_with(&up.url(), STRICT)).await;
    let c = client();
    for _ in 0..3 {
        let r = c.get(gw.url("/users/me")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let r = c.get(gw.url("/users/me")).send().await.unwrap();
    assert_eq!(r.status(), 429);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "application/problem+json");
    let retry: u64 = h["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=61).contains(&retry), "{retry}");
    assert_eq!(h["ratelimit-policy"], "\"users\";q=3;w=180");
    assert_eq!(
        h["ratelimit"].to_str().unwrap(),
        format!("\"users\";r=0;t={retry}")
    );
    assert!(h.contains_key("x-request-id"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], 429);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("too many requests"),
        "{body}"
    );
    assert_eq!(body["instance"], "/users/me");
    assert_eq!(up.requests(), 3);
    let m = gw.metrics().await;
    // Counters are per process, shared with the other tests of this file.
    let limited = metric(&m, "gateway_rate_limited_total{route=\"/users/\"}").unwrap();
    assert!(limited >= 1.0, "{m}");
}

#[tokio::test]
async fn the_limit_applies_only_under_its_paths() {
    let up = Upstream::start("users").await;
    let table = "[routes.rate_limit]\nrate = \"1/m\"\nburst = 1\npaths = [\"/users/auth/\"]";
    let gw = TestGateway::start(&route_with(&up.url(), table)).await;
    let c = client();
    for _ in 0..5 {
        assert_eq!(
            c.get(gw.url("/users/me")).send().await.unwrap().status(),
            200
        );
    }
    let login = gw.url("/users/auth/login");
    assert_eq!(c.post(&login).send().await.unwrap().status(), 200);
    assert_eq!(c.post(&login).send().await.unwrap().status(), 429);
    // Another path under the prefix shares the client's bucket.
    assert_eq!(
        c.post(gw.url("/users/auth/refresh"))
            .send()
            .await
            .unwrap()
            .status(),
        429
    );
    assert_eq!(
        c.get(gw.url("/users/me")).send().await.unwrap().status(),
        200
    );
}

/// The test client is a trusted proxy: `X-Forwarded-For` names the client.
const VIA_PROXY: &str = "trusted_proxies = [\"127.0.0.1\"]\n";

#[tokio::test]
async fn a_header_key_gives_each_value_its_own_bucket_per_client_network() {
    let up = Upstream::start("users").await;
    let table = "[routes.rate_limit]\nrate = \"1/m\"\nburst = 1\nkey = \"header:X-Api-Key\"";
    let gw = TestGateway::start(&format!("{VIA_PROXY}{}", route_with(&up.url(), table))).await;
    let c = client();
    let send = |from: &'static str, key: Option<&'static str>| {
        let mut r = c.get(gw.url("/users/x")).header("x-forwarded-for", from);
        if let Some(key) = key {
            r = r.header("x-api-key", key);
        }
        async move { r.send().await.unwrap().status() }
    };
    assert_eq!(send("192.0.2.1", Some("alpha")).await, 200);
    assert_eq!(send("192.0.2.1", Some("alpha")).await, 429);
    // The same value from another network is another bucket.
    assert_eq!(send("198.51.100.7", Some("alpha")).await, 200);
    assert_eq!(send("198.51.100.7", Some("alpha")).await, 429);
    // Without the header: the network's bucket.
    assert_eq!(send("203.0.113.9", None).await, 200);
    assert_eq!(send("203.0.113.9", None).await, 429);
    // An IPv6 client by its /64.
    assert_eq!(send("2001:db8:1:2::1", None).await, 200);
    assert_eq!(send("2001:db8:1:2::ffff", None).await, 429);
}

#[tokio::test]
async fn a_new_header_value_per_request_does_not_escape_the_limit() {
    let up = Upstream::start("users").await;
    let table = "[routes.rate_limit]\nrate = \"1/m\"\nburst = 1\nkey = \"header:X-Api-Key\"";
    let gw = TestGateway::start(&route_with(&up.url(), table)).await;
    let c = client();
    let mut passed = 0;
    for i in 0..20 {
        let r = c
            .get(gw.url("/users/x"))
            .header("x-api-key", format!("value-{i}"))
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            passed += 1;
        } else {
            assert_eq!(r.status(), 429);
        }
    }
    // The first value takes the network's only token: no other new value
    // gets in until it is back.
    assert_eq!(passed, 1);
    // A value that has its bucket keeps its own rate.
    let r = c
        .get(gw.url("/users/x"))
        .header("x-api-key", "value-0")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(up.requests(), 1);
}

#[tokio::test]
async fn a_limited_client_stays_limited_while_many_other_keys_arrive() {
    let up = Upstream::start("users").await;
    let table = "[routes.rate_limit]\nrate = \"1/m\"\nburst = 1\nmax_keys = 10";
    let gw = TestGateway::start(&format!("{VIA_PROXY}{}", route_with(&up.url(), table))).await;
    let c = client();
    let from = |ip: String| {
        let r = c.get(gw.url("/users/x")).header("x-forwarded-for", ip);
        async move { r.send().await.unwrap().status() }
    };
    assert_eq!(from("192.0.2.1".into()).await, 200);
    assert_eq!(from("192.0.2.1".into()).await, 429);
    for i in 0..1_100u32 {
        let ip = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        assert_eq!(from(ip).await, 200, "client {i}");
        if i % 100 == 99 {
            assert_eq!(from("192.0.2.1".into()).await, 429, "after {i} others");
        }
    }
    assert_eq!(from("192.0.2.1".into()).await, 429);
    let m = gw.metrics().await;
    let evicted = metric(&m, "gateway_rate_limit_evictions_total{route=\"/users/\"}").unwrap();
    assert!(evicted >= 1_000.0, "{m}");
}

#[tokio::test]
async fn a_reload_keeps_unchanged_buckets_and_applies_a_new_limit() {
    let up = Upstream::start("users").await;
    let one = "[routes.rate_limit]\nrate = \"1/m\"\nburst = 1";
    let gw = TestGateway::start_with(&route_with(&up.url(), one), |o| o.watch = true).await;
    let c = client();
    assert_eq!(
        c.get(gw.url("/users/x")).send().await.unwrap().status(),
        200
    );
    assert_eq!(
        c.get(gw.url("/users/x")).send().await.unwrap().status(),
        429
    );

    // Another setting of the route changes; the limit does not: the
    // client's bucket is still empty.
    let same = route_with(&up.url(), &format!("response_timeout = \"7s\"\n{one}"));
    reload(&gw, &same, |c| {
        c["routes"][0]["response_timeout"] == "7000ms"
    })
    .await;
    assert_eq!(
        c.get(gw.url("/users/x")).send().await.unwrap().status(),
        429
    );

    let five = "[routes.rate_limit]\nrate = \"1/m\"\nburst = 5";
    reload(&gw, &route_with(&up.url(), five), |c| {
        shown(c, "rate_limit")["burst"] == 5
    })
    .await;
    let config = gw.config_json().await;
    let shown = shown(&config, "rate_limit");
    assert_eq!(shown["requests"], 1);
    assert_eq!(shown["period"], "60000ms");
    assert_eq!(shown["key"], "client_ip");
    assert_eq!(
        c.get(gw.url("/users/x")).send().await.unwrap().status(),
        200
    );

    reload(&gw, &route_with(&up.url(), ""), shown_absent).await;
    for _ in 0..8 {
        assert_eq!(
            c.get(gw.url("/users/x")).send().await.unwrap().status(),
            200
        );
    }
}

fn shown_absent(config: &serde_json::Value) -> bool {
    shown(config, "rate_limit").is_null()
}

#[tokio::test]
async fn a_limited_path_covers_its_own_segments_not_a_longer_name() {
    let up = Upstream::start("users").await;
    let table = "[routes.rate_limit]\nrate = \"1/m\"\nburst = 1\npaths = [\"/users/auth\"]";
    let gw = TestGateway::start(&route_with(&up.url(), table)).await;
    let c = client();
    let status = |path: &'static str| {
        let c = c.clone();
        let url = gw.url(path);
        async move { c.get(url).send().await.unwrap().status() }
    };
    // `/users/authz/...` is another name, not under `/users/auth`.
    for _ in 0..3 {
        assert_eq!(status("/users/authz/x").await, 200);
    }
    assert_eq!(status("/users/auth").await, 200);
    assert_eq!(status("/users/auth/login").await, 429);
}
