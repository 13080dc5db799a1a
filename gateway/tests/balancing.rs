//! Several endpoints per upstream: spreading, passive health, name resolution.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::*;

#[tokio::test]
async fn requests_are_spread_over_every_endpoint() {
    let one = Upstream::start("one").await;
    let two = Upstream::start("two").await;
    let gw = TestGateway::start_with(&one_route("http://127.0.0.1:1", ""), |o| {
        o.upstreams = vec![("users".to_string(), format!("{}, {}", one.url(), two.url()))];
    })
    .await;
    for _ in 0..20 {
        assert_eq!(
            client()
                .get(gw.url("/users/x"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    assert_eq!(one.requests() + two.requests(), 20);
    assert!(
        one.requests() >= 5 && two.requests() >= 5,
        "{} / {}",
        one.requests(),
        two.requests()
    );
}

#[tokio::test]
async fn a_dead_endpoint_is_skipped_and_requests_still_succeed() {
    let live = Upstream::start("live").await;
    let dead = closed_port().await;
    let toml = format!(
        r#"
[upstreams.users]
endpoints = ["http://{dead}", "{}"]
failure_cooldown = "30s"
[[routes]]
prefix = "/users/"
upstream = "users"
"#,
        live.url()
    );
    let gw = TestGateway::start(&toml).await;
    for _ in 0..10 {
        assert_eq!(
            client()
                .get(gw.url("/users/x"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    assert_eq!(live.requests(), 10);
}

#[tokio::test]
async fn a_post_to_a_dead_endpoint_fails_once_then_the_endpoint_is_skipped() {
    let live = Upstream::start("live").await;
    let dead = closed_port().await;
    let toml = format!(
        r#"
[upstreams.users]
endpoints = ["http://{dead}", "{}"]
failure_cooldown = "30s"
[[routes]]
prefix = "/users/"
upstream = "users"
"#,
        live.url()
    );
    let gw = TestGateway::start(&toml).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let resp = client()
            .post(gw.url("/users/x"))
            .body("{}")
            .send()
            .await
            .unwrap();
        statuses.push(resp.status().as_u16());
    }
    assert!(
        statuses.iter().filter(|s| **s == 502).count() <= 1,
        "{statuses:?}"
    );
    assert!(statuses[2..].iter().all(|s| *s == 200), "{statuses:?}");
}

#[tokio::test]
async fn endpoints_given_by_host_name_are_resolved() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(
        &format!("http://localhost:{}", users.addr.port()),
        "",
    ))
    .await;
    for _ in 0..3 {
        assert_eq!(
            client()
                .get(gw.url("/users/x"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    assert_eq!(users.requests(), 3);
}
