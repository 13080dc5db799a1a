//! Endpoint health: active checks take endpoints out and bring them back,
//! passive detection ejects a dead endpoint (never the last one), an
//! upstream without a healthy endpoint answers 503, and a reload keeps
//! the health of the endpoints that stay.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::scripted::{Scripted, healthy_series, readyz, wait_for_metric};
use support::*;

/// `[upstreams.users]` over `endpoints` with `extra` keys after them, and
/// the `/users/` route with `route` keys.
fn table(endpoints: &[String], extra: &str, route: &str) -> String {
    let list: Vec<String> = endpoints.iter().map(|e| format!("\"{e}\"")).collect();
    format!(
        "[upstreams.users]\nendpoints = [{}]\n{extra}\n[[routes]]\nprefix = \"/users/\"\nupstream = \"users\"\n{route}\n",
        list.join(", ")
    )
}

const FAST_CHECKS: &str = "balance = \"round_robin\"\n[upstreams.users.health_check]\npath = \"/health\"\ninterval = \"200ms\"\ntimeout = \"200ms\"\nhealthy_threshold = 2\nunhealthy_threshold = 2\n";

/// `n` GETs of `/users/x`, their statuses.
async fn statuses_of(gw: &TestGateway, n: usize) -> Vec<u16> {
    let c = client();
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(
            c.get(gw.url("/users/x"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    out
}

#[tokio::test]
async fn an_endpoint_failing_its_checks_is_taken_out_and_brought_back() {
    let flaky = Scripted::start().await;
    let steady = Upstream::start("steady").await;
    let gw = TestGateway::start(&table(&[flaky.url(), steady.url()], FAST_CHECKS, "")).await;
    let series = healthy_series("users", flaky.addr);
    wait_for_metric(&gw, &series, 1.0).await;
    let shown = &gw.config_json().await["upstreams"]["users"];
    assert_eq!(shown["balance"], "round_robin");
    assert_eq!(shown["health_check"]["path"], "/health");
    assert_eq!(shown["health_check"]["interval"], "200ms");
    assert_eq!(shown["outlier"]["consecutive_5xx"], 5);

    flaky.set_health(503);
    wait_for_metric(&gw, &series, 0.0).await;
    let (status, body) = readyz(&gw).await;
    assert_eq!(
        status, 200,
        "one upstream down does not make the gateway unready"
    );
    assert!(
        body.contains("upstream users: 1/2 endpoints healthy"),
        "{body}"
    );
    let before = flaky.requests();
    assert!(statuses_of(&gw, 10).await.iter().all(|s| *s == 200));
    assert_eq!(
        flaky.requests(),
        before,
        "an endpoint out of rotation gets no request"
    );

    flaky.set_health(200);
    wait_for_metric(&gw, &series, 1.0).await;
    assert!(statuses_of(&gw, 10).await.iter().all(|s| *s == 200));
    assert_eq!(flaky.requests() - before, 5, "round robin over two again");
    assert!(
        readyz(&gw)
            .await
            .1
            .contains("upstream users: 2/2 endpoints healthy")
    );
    assert!(
        metric(
            &gw.metrics().await,
            "gateway_upstream_health_checks_total{upstream=\"users\",result=\"fail\"}"
        )
        .unwrap()
            >= 2.0
    );
}

#[tokio::test]
async fn with_every_endpoint_failing_its_checks_the_answer_is_503() {
    let (a, b) = (closed_port().await, closed_port().await);
    let gw = TestGateway::start(&table(
        &[format!("http://{a}"), format!("http://{b}")],
        FAST_CHECKS,
        "",
    ))
    .await;
    wait_for_metric(&gw, &healthy_series("users", a), 0.0).await;
    wait_for_metric(&gw, &healthy_series("users", b), 0.0).await;
    let resp = client().get(gw.url("/users/me")).send().await.unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], 503);
    assert_eq!(body["request_id"], id.as_str());
    assert_eq!(body["detail"], "upstream `users` has no healthy endpoint");
    let text = gw.metrics().await;
    assert!(
        metric(
            &text,
            "gateway_upstream_errors_total{upstream=\"users\",kind=\"no_healthy_endpoint\"}"
        )
        .unwrap()
            >= 1.0,
        "{text}"
    );
    let (status, body) = readyz(&gw).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("upstream users: 0/2 endpoints healthy"),
        "{body}"
    );
}

/// Passive detection alone: one connect failure ejects for a minute; no
/// retries, so a request sent to the dead endpoint fails.
const EJECT_AT_ONCE: &str =
    "[upstreams.users.outlier]\nconsecutive_connect_failures = 1\nbase_ejection = \"60s\"\n";
const NO_RETRIES: &str = "[routes.retry]\nattempts = 0\n";

/// Send requests until the dead endpoint at `dead` is ejected (200 at most).
async fn eject(gw: &TestGateway, dead: std::net::SocketAddr) {
    for _ in 0..200 {
        if metric(&gw.metrics().await, &healthy_series("users", dead)) == Some(0.0) {
            return;
        }
        let _ = client().get(gw.url("/users/x")).send().await.unwrap();
    }
    panic!("{dead} was never ejected");
}

#[tokio::test]
async fn a_dead_endpoint_among_live_ones_fails_no_request_once_ejected() {
    let live = Upstream::start("live").await;
    let dead = closed_port().await;
    let gw = TestGateway::start(&table(
        &[format!("http://{dead}"), live.url()],
        EJECT_AT_ONCE,
        NO_RETRIES,
    ))
    .await;
    let statuses = statuses_of(&gw, 30).await;
    let failed: Vec<usize> = (0..statuses.len())
        .filter(|&i| statuses[i] != 200)
        .collect();
    assert!(failed.len() <= 1, "{statuses:?}");
    if let Some(&first) = failed.first() {
        assert_eq!(statuses[first], 502, "{statuses:?}");
    }
    // Make sure it was tried and ejected (P2C could, rarely, never draw it).
    eject(&gw, dead).await;
    assert!(statuses_of(&gw, 20).await.iter().all(|s| *s == 200));
    let text = gw.metrics().await;
    // The recorder is the process's: other tests eject `users` endpoints too.
    assert!(
        metric(
            &text,
            "gateway_upstream_ejections_total{upstream=\"users\"}"
        )
        .unwrap()
            >= 1.0,
        "{text}"
    );
}

#[tokio::test]
async fn passive_detection_never_ejects_the_last_healthy_endpoint() {
    let (a, b) = (closed_port().await, closed_port().await);
    let gw = TestGateway::start(&table(
        &[format!("http://{a}"), format!("http://{b}")],
        EJECT_AT_ONCE,
        NO_RETRIES,
    ))
    .await;
    // Refused connections are 502: never 503, one endpoint always stays in.
    assert!(statuses_of(&gw, 10).await.iter().all(|s| *s == 502));
    let text = gw.metrics().await;
    let healthy = [a, b]
        .iter()
        .filter(|e| metric(&text, &healthy_series("users", **e)) == Some(1.0))
        .count();
    assert_eq!(healthy, 1, "{text}");
    assert!(
        readyz(&gw)
            .await
            .1
            .contains("upstream users: 1/2 endpoints healthy")
    );
}

fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Poll `/config` until `upstreams.users.connect_timeout` is `ms`.
async fn wait_for_connect_timeout(gw: &TestGateway, ms: u64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let want = format!("{ms}ms");
    while gw.config_json().await["upstreams"]["users"]["connect_timeout"] != want.as_str() {
        assert!(Instant::now() < deadline, "the reload was not applied");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_reload_keeps_the_health_of_endpoints_that_stay() {
    let live = Upstream::start("live").await;
    let dead = closed_port().await;
    let endpoints = [format!("http://{dead}"), live.url()];
    let gw = TestGateway::start_with(&table(&endpoints, EJECT_AT_ONCE, NO_RETRIES), |o| {
        o.watch = true;
    })
    .await;
    eject(&gw, dead).await;
    // A changed upstream gets a new pool; the dead address stays ejected.
    replace(
        &gw.config_path,
        &table(
            &endpoints,
            &format!("connect_timeout = \"1500ms\"\n{EJECT_AT_ONCE}"),
            NO_RETRIES,
        ),
    );
    wait_for_connect_timeout(&gw, 1500).await;
    assert_eq!(
        metric(&gw.metrics().await, &healthy_series("users", dead)),
        Some(0.0)
    );
    assert!(statuses_of(&gw, 20).await.iter().all(|s| *s == 200));
}

#[tokio::test]
async fn checks_stop_for_an_upstream_removed_by_a_reload() {
    let users = Upstream::start("users").await;
    let checked = Scripted::start().await;
    let with_checked = format!(
        "{}\n[upstreams.checked]\nendpoints = [\"{}\"]\n[upstreams.checked.health_check]\npath = \"/health\"\ninterval = \"100ms\"\ntimeout = \"100ms\"\n[[routes]]\nprefix = \"/checked/\"\nupstream = \"checked\"\n",
        one_route(&users.url(), ""),
        checked.url()
    );
    let gw = TestGateway::start_with(&with_checked, |o| o.watch = true).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while checked.checks() < 2 {
        assert!(Instant::now() < deadline, "no health checks");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    replace(&gw.config_path, &one_route(&users.url(), ""));
    let deadline = Instant::now() + Duration::from_secs(5);
    while gw.config_json().await["upstreams"].get("checked").is_some() {
        assert!(Instant::now() < deadline, "the reload was not applied");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A round under way may finish; none starts after it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = checked.checks();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(checked.checks(), after);
}

#[tokio::test]
async fn an_endpoint_answering_5xx_in_a_row_is_ejected() {
    let failing = Scripted::start().await;
    failing.set_status(500);
    let steady = Upstream::start("steady").await;
    let gw = TestGateway::start(&table(
        &[failing.url(), steady.url()],
        "balance = \"round_robin\"\n[upstreams.users.outlier]\nconsecutive_5xx = 2\nbase_ejection = \"60s\"\n",
        NO_RETRIES,
    ))
    .await;
    let statuses = statuses_of(&gw, 20).await;
    // Round robin meets it twice (two 500s passed through), then it is out.
    assert_eq!(
        statuses.iter().filter(|s| **s == 500).count(),
        2,
        "{statuses:?}"
    );
    assert!(statuses[4..].iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(failing.requests(), 2);
    wait_for_metric(&gw, &healthy_series("users", failing.addr), 0.0).await;
}

#[tokio::test]
async fn health_checks_added_by_a_reload_start() {
    let checked = Scripted::start().await;
    let gw = TestGateway::start_with(&table(&[checked.url()], "", ""), |o| o.watch = true).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(checked.checks(), 0, "no checks unless configured");
    replace(&gw.config_path, &table(&[checked.url()], FAST_CHECKS, ""));
    let deadline = Instant::now() + Duration::from_secs(5);
    while checked.checks() < 2 {
        assert!(
            Instant::now() < deadline,
            "no health checks after the reload"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_endpoint_removed_by_a_reload_leaves_no_health_series() {
    let live = Upstream::start("live").await;
    let gone = Upstream::start("gone").await;
    let gw = TestGateway::start_with(&table(&[live.url(), gone.url()], "", ""), |o| {
        o.watch = true;
    })
    .await;
    let series = healthy_series("users", gone.addr);
    assert_eq!(metric(&gw.metrics().await, &series), Some(1.0));
    replace(
        &gw.config_path,
        &table(&[live.url()], "connect_timeout = \"1500ms\"", ""),
    );
    wait_for_connect_timeout(&gw, 1500).await;
    let text = gw.metrics().await;
    assert_eq!(metric(&text, &series), None, "{text}");
    assert_eq!(
        metric(&text, &healthy_series("users", live.addr)),
        Some(1.0)
    );
    assert!(text.contains("# TYPE gateway_upstream_endpoint_healthy gauge"));
}
