//! The admin listener: health, readiness, metrics, active configuration.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::*;

#[tokio::test]
async fn healthz_and_readyz_answer_200() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    for path in ["/healthz", "/readyz"] {
        let resp = client()
            .get(format!("http://{}{path}", gw.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn admin_endpoints_are_not_on_the_public_listener() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let resp = client().get(gw.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn metrics_name_every_required_series() {
    let users = Upstream::start("users").await;
    let dead = closed_port().await;
    let toml = format!(
        r#"
[upstreams.users]
endpoints = ["{}"]
[upstreams.dead]
endpoints = ["http://{dead}"]
[[routes]]
prefix = "/users/"
upstream = "users"
[[routes]]
prefix = "/dead/"
upstream = "dead"
"#,
        users.url()
    );
    let gw = TestGateway::start(&toml).await;
    assert_eq!(
        client()
            .get(gw.url("/users/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client()
            .get(gw.url("/dead/x"))
            .send()
            .await
            .unwrap()
            .status(),
        502
    );
    let text = gw.metrics().await;
    for needle in [
        "gateway_requests_total{route=\"/users/\",method=\"GET\",status=\"200\"}",
        "gateway_request_duration_seconds_bucket{route=\"/users/\"",
        "gateway_requests_in_flight",
        "gateway_upstream_errors_total{upstream=\"dead\",kind=\"connect\"}",
        "gateway_config_reloads_total{result=\"failure\"}",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
}

/// Every kind of `gateway_upstream_errors_total`.
const UPSTREAM_ERROR_KINDS: [&str; 6] = [
    "connect",
    "connect_timeout",
    "response_timeout",
    "protocol",
    "no_endpoint",
    "no_healthy_endpoint",
];

#[tokio::test]
async fn a_fresh_gateway_exports_every_upstream_error_series_at_zero() {
    // Names of their own: the recorder is shared by the tests of this binary.
    let toml = r#"
[upstreams.fresh-users]
endpoints = ["http://127.0.0.1:9"]
[upstreams.fresh-products]
endpoints = ["http://127.0.0.1:9"]
[[routes]]
prefix = "/users/"
upstream = "fresh-users"
[[routes]]
prefix = "/products/"
upstream = "fresh-products"
"#;
    let gw = TestGateway::start(toml).await;
    let text = gw.metrics().await;
    for upstream in ["fresh-users", "fresh-products"] {
        for kind in UPSTREAM_ERROR_KINDS {
            let series = format!(
                "gateway_upstream_errors_total{{upstream=\"{upstream}\",kind=\"{kind}\"}} 0\n"
            );
            assert!(text.contains(&series), "missing {series} in\n{text}");
        }
    }
}

#[tokio::test]
async fn a_fresh_gateway_exports_both_reload_results_at_zero() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let text = gw.metrics().await;
    // No test of this binary reloads, so both stay at zero.
    for result in ["success", "failure"] {
        let series = format!("gateway_config_reloads_total{{result=\"{result}\"}} 0\n");
        assert!(text.contains(&series), "missing {series} in\n{text}");
    }
}

#[tokio::test]
async fn config_shows_the_active_route_table() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let config: serde_json::Value = gw.config_json().await;
    assert_eq!(config["routes"][0]["prefix"], "/users/");
    assert_eq!(config["routes"][0]["upstream"], "users");
    assert_eq!(
        config["upstreams"]["users"]["endpoints"][0]["port"],
        users.addr.port()
    );
}

#[tokio::test]
async fn unknown_admin_path_is_a_404_problem() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let resp = client()
        .get(format!("http://{}/nope", gw.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
}
