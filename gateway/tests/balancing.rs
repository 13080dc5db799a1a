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

/// One worker, one upstream capped at `max` connections, `/users/` routed
/// to it with `route_extra` keys.
fn capped_table(url: &str, max: usize, route_extra: &str) -> String {
    format!(
        r#"
[listen]
workers = 1
[upstreams.users]
endpoints = ["{url}"]
max_connections_per_endpoint = {max}
[[routes]]
prefix = "/users/"
upstream = "users"
{route_extra}
"#
    )
}

/// A worker opens at most `max_connections_per_endpoint` connections to an
/// address; the requests beyond wait for one and still succeed.
#[tokio::test]
async fn upstream_connections_are_capped_and_extra_requests_wait_their_turn() {
    let up = Upstream::start("capped").await;
    let gw = TestGateway::start(&capped_table(&up.url(), 2, "")).await;
    let started = std::time::Instant::now();
    let requests = (0..6).map(|_| {
        // One client connection each, so only the gateway's cap limits them.
        let client = client();
        let url = gw.url("/users/sleep?ms=150");
        tokio::spawn(async move { client.get(url).send().await.unwrap().status() })
    });
    for status in futures_util::future::join_all(requests).await {
        assert_eq!(status.unwrap(), 200);
    }
    assert_eq!(up.requests(), 6);
    assert!(
        up.connections() <= 2,
        "{} upstream connections",
        up.connections()
    );
    // Six 150 ms exchanges over two connections take three turns.
    assert!(started.elapsed() >= std::time::Duration::from_millis(440));
}

/// A request waiting for a connection is bounded by the route's response
/// timeout (504), and the line moves on afterwards.
#[tokio::test]
async fn a_request_waiting_for_a_capped_connection_times_out_with_504() {
    let up = Upstream::start("capped").await;
    let toml = capped_table(&up.url(), 1, "response_timeout = \"300ms\"");
    let gw = TestGateway::start(&toml).await;
    let slow = {
        let url = gw.url("/users/sleep?ms=250");
        tokio::spawn(async move { client().get(url).send().await.unwrap().status() })
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    // Waits ~200 ms for the connection, then needs 250 ms more: over 300 ms.
    let waiting = client()
        .get(gw.url("/users/sleep?ms=250"))
        .send()
        .await
        .unwrap();
    assert_eq!(slow.await.unwrap(), 200);
    assert_eq!(waiting.status(), 504);
    // The slow request's connection was handed to the waiting one, which
    // dropped it at its timeout; the cap is free again for the next request.
    let after = client().get(gw.url("/users/x")).send().await.unwrap();
    assert_eq!(after.status(), 200);
    assert_eq!(up.connections(), 2);
}
