//! Retries on another endpoint: after a refused connection (any method,
//! nothing was sent) or a listed status (idempotent requests without a
//! body only), bounded by the route's retry budget.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::scripted::Scripted;
use support::*;

/// Route `/<name>/` to upstream `<name>` (names of their own: metrics are
/// the process's) over `endpoints`, round robin, outlier detection off (so
/// every request meets the failing endpoint in turn), with `retry` keys.
fn table(route: &str, endpoints: &[String], retry: &str) -> String {
    let list: Vec<String> = endpoints.iter().map(|e| format!("\"{e}\"")).collect();
    format!(
        "[upstreams.{route}]\nendpoints = [{}]\nbalance = \"round_robin\"\n[upstreams.{route}.outlier]\nconsecutive_connect_failures = 0\nconsecutive_5xx = 0\n[[routes]]\nprefix = \"/{route}/\"\nupstream = \"{route}\"\n[routes.retry]\n{retry}\n",
        list.join(", ")
    )
}

/// A counter of the process's recorder.
async fn counter(gw: &TestGateway, series: &str) -> f64 {
    metric(&gw.metrics().await, series).unwrap_or(0.0)
}

#[tokio::test]
async fn a_refused_connection_is_retried_on_another_endpoint_whatever_the_method() {
    let live = Upstream::start("live").await;
    let dead = closed_port().await;
    let gw = TestGateway::start(&table(
        "refused",
        &[format!("http://{dead}"), live.url()],
        "budget_percent = 100",
    ))
    .await;
    let c = client();
    for i in 0..10 {
        let resp = if i % 2 == 0 {
            c.get(gw.url("/refused/x")).send().await.unwrap()
        } else {
            c.post(gw.url("/refused/x"))
                .body("{}")
                .send()
                .await
                .unwrap()
        };
        assert_eq!(resp.status(), 200, "request {i}");
    }
    assert_eq!(live.requests(), 10);
    let retried = counter(
        &gw,
        "gateway_retries_total{route=\"/refused/\",reason=\"connect\"}",
    )
    .await;
    assert!(retried >= 5.0, "{retried}");
}

#[tokio::test]
async fn a_listed_status_is_retried_for_idempotent_requests_only() {
    let failing = Scripted::start().await;
    failing.set_status(503);
    let steady = Upstream::start("steady").await;
    let gw = TestGateway::start(&table(
        "listed",
        &[failing.url(), steady.url()],
        "on_status = [503]\nbudget_percent = 100",
    ))
    .await;
    let c = client();
    for _ in 0..10 {
        let resp = c.get(gw.url("/listed/x")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["x-upstream"], "steady");
    }
    let retried = counter(
        &gw,
        "gateway_retries_total{route=\"/listed/\",reason=\"status\"}",
    )
    .await;
    assert!(failing.requests() >= 1);
    assert_eq!(retried, failing.requests() as f64);
    assert_eq!(steady.requests(), 10);
    let failing_before = failing.requests();
    // A POST (its body was sent) gets the upstream's answer as it is.
    let mut unavailable = 0;
    for _ in 0..10 {
        let resp = c.post(gw.url("/listed/x")).body("{}").send().await.unwrap();
        if resp.status() == 503 {
            assert_eq!(resp.headers()["x-upstream"], "scripted");
            unavailable += 1;
        }
    }
    // Round robin: every other POST meets the failing endpoint.
    assert_eq!(unavailable, 5);
    assert_eq!(failing.requests() - failing_before, 5);
    assert_eq!(steady.requests(), 15);
}

#[tokio::test]
async fn retries_stop_at_the_budget() {
    let (a, b) = (Scripted::start().await, Scripted::start().await);
    a.set_status(503);
    b.set_status(503);
    let gw = TestGateway::start(&table(
        "budgeted",
        &[a.url(), b.url()],
        "on_status = [503]\nbudget_percent = 20\nbudget_min_per_second = 0",
    ))
    .await;
    let c = client();
    for _ in 0..50 {
        assert_eq!(
            c.get(gw.url("/budgeted/x")).send().await.unwrap().status(),
            503
        );
    }
    let retries = a.requests() + b.requests() - 50;
    // 20 % of 50 requests: 10 retries at most (fewer if the run outlasted
    // the budget's 10-second window).
    assert!((1..=10).contains(&retries), "{retries} retries");
    let text = gw.metrics().await;
    assert_eq!(
        metric(
            &text,
            "gateway_retries_total{route=\"/budgeted/\",reason=\"status\"}"
        ),
        Some(retries as f64),
        "{text}"
    );
    assert_eq!(
        metric(
            &text,
            "gateway_retry_budget_exhausted_total{route=\"/budgeted/\"}"
        ),
        Some((50 - retries) as f64),
        "{text}"
    );
}

#[tokio::test]
async fn with_retries_off_a_refused_request_fails() {
    let live = Upstream::start("live").await;
    let dead = closed_port().await;
    let gw = TestGateway::start(&table(
        "unretried",
        &[format!("http://{dead}"), live.url()],
        "attempts = 0",
    ))
    .await;
    let c = client();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            c.get(gw.url("/unretried/x"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    // Round robin: every other request meets the dead endpoint.
    assert_eq!(statuses, vec![502, 200, 502, 200]);
}
