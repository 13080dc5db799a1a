//! Several endpoints per upstream: power of two choices, weighted round
//! robin, split routes, dead endpoints, name resolution, the connection cap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::*;

#[tokio::test]
async fn round_robin_spreads_requests_evenly_over_every_endpoint() {
    let one = Upstream::start("one").await;
    let two = Upstream::start("two").await;
    let toml = "[upstreams.users]\nendpoints = []\nbalance = \"round_robin\"\n[[routes]]\nprefix = \"/users/\"\nupstream = \"users\"\n";
    let gw = TestGateway::start_with(toml, |o| {
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
    assert_eq!((one.requests(), two.requests()), (10, 10));
}

#[tokio::test]
async fn a_dead_endpoint_is_skipped_and_requests_still_succeed() {
    let live = Upstream::start("live").await;
    let dead = closed_port().await;
    let toml = format!(
        r#"
[upstreams.users]
endpoints = ["http://{dead}", "{}"]
[upstreams.users.outlier]
consecutive_connect_failures = 1
base_ejection = "30s"
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

/// NGINX's `backup`: never sent a request while a primary endpoint can
/// take it; every request once the primaries refuse connections (a GET, and
/// a POST once the dead primary is ejected).
#[tokio::test]
async fn a_backup_endpoint_answers_only_when_the_primaries_cannot() {
    let primary = Upstream::start("primary").await;
    let backup = Upstream::start("backup").await;
    let table = |first: String| {
        format!(
            r#"
[upstreams.users]
endpoints = ["{first}", {{ url = "{}", backup = true }}]
[upstreams.users.outlier]
consecutive_connect_failures = 1
base_ejection = "30s"
[[routes]]
prefix = "/users/"
upstream = "users"
"#,
            backup.url()
        )
    };
    let gw = TestGateway::start(&table(primary.url())).await;
    for _ in 0..20 {
        let r = client().get(gw.url("/users/x")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_eq!((primary.requests(), backup.requests()), (20, 0));
    drop(gw);
    let dead = closed_port().await;
    let gw = TestGateway::start(&table(format!("http://{dead}"))).await;
    for _ in 0..10 {
        let r = client().get(gw.url("/users/x")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let r = client()
        .post(gw.url("/users/x"))
        .body("b")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(backup.requests(), 11);
}

#[tokio::test]
async fn a_post_to_a_dead_endpoint_fails_once_then_the_endpoint_is_skipped() {
    let live = Upstream::start("live").await;
    let dead = closed_port().await;
    let toml = format!(
        r#"
[upstreams.users]
endpoints = ["http://{dead}", "{}"]
[upstreams.users.outlier]
consecutive_connect_failures = 1
base_ejection = "30s"
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

/// `/users/` over `endpoints` (TOML values) with `extra` upstream keys.
fn weighted_table(endpoints: &str, extra: &str) -> String {
    format!(
        "[upstreams.users]\nendpoints = [{endpoints}]\n{extra}\n[[routes]]\nprefix = \"/users/\"\nupstream = \"users\"\n"
    )
}

/// Sequential GETs of `/users/x`, each expected to succeed.
async fn send(gw: &TestGateway, n: usize) {
    let c = client();
    for _ in 0..n {
        assert_eq!(
            c.get(gw.url("/users/x")).send().await.unwrap().status(),
            200
        );
    }
}

/// With two endpoints, power of two choices compares both every time: a
/// request in progress on one sends the next ones to the other (round
/// robin would alternate).
#[tokio::test]
async fn p2c_sends_requests_to_the_less_loaded_endpoint() {
    let (a, b) = (Upstream::start("a").await, Upstream::start("b").await);
    let gw = TestGateway::start(&weighted_table(
        &format!("\"{}\", \"{}\"", a.url(), b.url()),
        "",
    ))
    .await;
    let slow = {
        let url = gw.url("/users/sleep?ms=1500");
        tokio::spawn(async move { client().get(url).send().await.unwrap().status() })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while a.requests() + b.requests() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the slow request never arrived"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let (busy, idle) = if a.requests() == 1 {
        (&a, &b)
    } else {
        (&b, &a)
    };
    let outstanding = format!(
        "gateway_upstream_endpoint_outstanding{{upstream=\"users\",endpoint=\"{}\"}}",
        busy.addr
    );
    assert_eq!(metric(&gw.metrics().await, &outstanding), Some(1.0));
    send(&gw, 10).await;
    assert_eq!(
        busy.requests(),
        1,
        "the busy endpoint got only the slow request"
    );
    assert_eq!(idle.requests(), 10);
    assert_eq!(slow.await.unwrap(), 200);
}

/// Weights 3:1 under power of two choices: the heavier endpoint takes
/// about three requests in four (bounds six standard deviations wide).
#[tokio::test]
async fn p2c_follows_endpoint_weights() {
    let (a, b) = (Upstream::start("a").await, Upstream::start("b").await);
    let endpoints = format!("{{ url = \"{}\", weight = 3 }}, \"{}\"", a.url(), b.url());
    let gw = TestGateway::start(&weighted_table(&endpoints, "")).await;
    send(&gw, 200).await;
    assert_eq!(a.requests() + b.requests(), 200);
    assert!(
        (110..=190).contains(&a.requests()),
        "{} / {}",
        a.requests(),
        b.requests()
    );
    let series = format!(
        "gateway_upstream_endpoint_requests_total{{upstream=\"users\",endpoint=\"{}\"}}",
        a.addr
    );
    assert_eq!(
        metric(&gw.metrics().await, &series),
        Some(a.requests() as f64)
    );
}

#[tokio::test]
async fn weighted_round_robin_follows_weights_exactly() {
    let (a, b) = (Upstream::start("a").await, Upstream::start("b").await);
    let endpoints = format!("{{ url = \"{}\", weight = 3 }}, \"{}\"", a.url(), b.url());
    let gw = TestGateway::start(&weighted_table(&endpoints, "balance = \"round_robin\"")).await;
    send(&gw, 40).await;
    assert_eq!((a.requests(), b.requests()), (30, 10));
}

/// A canary at 5 %: exactly 5 of every 100 requests, spread out.
#[tokio::test]
async fn a_split_route_sends_its_canary_share() {
    let (main, canary) = (
        Upstream::start("main").await,
        Upstream::start("canary").await,
    );
    let toml = format!(
        r#"
[upstreams.shop]
endpoints = ["{}"]
[upstreams.shop-canary]
endpoints = ["{}"]
[[routes]]
prefix = "/users/"
split = [{{ upstream = "shop", weight = 95 }}, {{ upstream = "shop-canary", weight = 5 }}]
"#,
        main.url(),
        canary.url()
    );
    let gw = TestGateway::start(&toml).await;
    send(&gw, 100).await;
    assert_eq!((main.requests(), canary.requests()), (95, 5));
    let text = gw.metrics().await;
    assert_eq!(
        metric(
            &text,
            "gateway_split_requests_total{route=\"/users/\",upstream=\"shop-canary\"}"
        ),
        Some(5.0),
        "{text}"
    );
    let shown = gw.config_json().await;
    assert_eq!(shown["routes"][0]["split"][1]["weight"], 5);
}

#[tokio::test]
async fn a_reload_turns_a_route_into_a_split() {
    let (main, canary) = (
        Upstream::start("main").await,
        Upstream::start("canary").await,
    );
    let upstreams = format!(
        "[upstreams.main]\nendpoints = [\"{}\"]\n[upstreams.canary]\nendpoints = [\"{}\"]\n",
        main.url(),
        canary.url()
    );
    let gw = TestGateway::start_with(
        &format!("{upstreams}[[routes]]\nprefix = \"/users/\"\nupstream = \"main\"\n"),
        |o| o.watch = true,
    )
    .await;
    send(&gw, 4).await;
    assert_eq!(canary.requests(), 0);
    let path = gw.config_path.clone();
    let tmp = path.with_extension("tmp");
    std::fs::write(
        &tmp,
        format!("{upstreams}[[routes]]\nprefix = \"/users/\"\nsplit = [{{ upstream = \"main\", weight = 1 }}, {{ upstream = \"canary\", weight = 1 }}]\n"),
    )
    .unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while gw.config_json().await["routes"][0].get("split").is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the reload was not applied"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    send(&gw, 10).await;
    assert_eq!((main.requests(), canary.requests()), (9, 5));
}
