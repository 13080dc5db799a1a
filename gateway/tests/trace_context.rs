//! W3C Trace Context through the gateway: a valid `traceparent` from a
//! trusted proxy goes upstream, one from any other peer is re-rooted, an
//! invalid or missing one is replaced by a new trace (and a `tracestate`
//! of a refused trace is dropped).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::*;

const CLIENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// The test client's address, as a trusted proxy.
const TRUSTED: &str = "trusted_proxies = [\"127.0.0.1\"]";

/// The `traceparent` and `tracestate` the upstream received for a request
/// with `headers`, sent from a trusted proxy.
async fn upstream_saw(headers: &[(&str, &str)]) -> (Vec<String>, Vec<String>) {
    upstream_saw_with(TRUSTED, headers).await
}

/// The same, with `extra` at the top of the route table.
async fn upstream_saw_with(extra: &str, headers: &[(&str, &str)]) -> (Vec<String>, Vec<String>) {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), extra)).await;
    let mut request = client().get(gw.url("/users/me"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let resp = request.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let e = echo(&resp.text().await.unwrap());
    (echoed(&e, "traceparent"), echoed(&e, "tracestate"))
}

fn is_valid_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    parts.len() == 4
        && parts[0] == "00"
        && parts[1].len() == 32
        && parts[2].len() == 16
        && parts[3].len() == 2
        && value
            .bytes()
            .all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && parts[1] != "0".repeat(32)
        && parts[2] != "0".repeat(16)
}

#[tokio::test]
async fn a_valid_traceparent_and_its_tracestate_go_upstream_unchanged() {
    let (parent, state) = upstream_saw(&[("traceparent", CLIENT), ("tracestate", "shop=1")]).await;
    assert_eq!(parent, [CLIENT]);
    assert_eq!(state, ["shop=1"]);
}

#[tokio::test]
async fn a_client_that_is_not_a_trusted_proxy_gets_a_new_trace_and_keeps_nothing() {
    for extra in ["", "trusted_proxies = [\"10.0.0.0/8\"]"] {
        let (parent, state) =
            upstream_saw_with(extra, &[("traceparent", CLIENT), ("tracestate", "shop=1")]).await;
        assert_eq!(parent.len(), 1, "{extra}");
        assert!(is_valid_traceparent(&parent[0]), "{extra}: {parent:?}");
        assert!(
            !parent[0].contains("4bf92f3577b34da6a3ce929d0e0e4736"),
            "{extra}: {parent:?}"
        );
        assert!(
            !parent[0].contains("00f067aa0ba902b7"),
            "{extra}: {parent:?}"
        );
        assert!(state.is_empty(), "{extra}: {state:?}");
    }
    // An unsampled request cannot be sampled on demand either way: the new
    // trace's flags are the gateway's.
    let unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
    let (parent, _) = upstream_saw_with("", &[("traceparent", unsampled)]).await;
    assert!(!parent[0].contains("4bf92f3577b34da6a3ce929d0e0e4736"));
}

#[tokio::test]
async fn a_missing_traceparent_starts_a_new_sampled_trace() {
    let (parent, _) = upstream_saw(&[]).await;
    assert_eq!(parent.len(), 1);
    assert!(is_valid_traceparent(&parent[0]), "{parent:?}");
    assert!(parent[0].ends_with("-01"));
}

#[tokio::test]
async fn an_invalid_traceparent_is_replaced_and_its_tracestate_dropped() {
    for bad in [
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "garbage",
    ] {
        let (parent, state) = upstream_saw(&[("traceparent", bad), ("tracestate", "shop=1")]).await;
        assert_eq!(parent.len(), 1, "{bad}");
        assert!(is_valid_traceparent(&parent[0]), "{bad}: {parent:?}");
        assert!(
            !parent[0].contains("4bf92f3577b34da6a3ce929d0e0e4736"),
            "{bad}"
        );
        assert!(state.is_empty(), "{bad}: {state:?}");
    }
}

#[tokio::test]
async fn two_traceparent_headers_start_a_new_trace() {
    let (parent, _) = upstream_saw(&[("traceparent", CLIENT), ("traceparent", CLIENT)]).await;
    assert_eq!(parent.len(), 1);
    assert!(is_valid_traceparent(&parent[0]));
    assert_ne!(parent[0], CLIENT);
}

#[tokio::test]
async fn an_unusable_trace_export_endpoint_stops_start_up() {
    let users = Upstream::start("users").await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gateway.toml");
    std::fs::write(&config, one_route(&users.url(), "")).unwrap();
    let mut options = gateway::LaunchOptions::new(&config);
    options.listen = Some("127.0.0.1:0".parse().unwrap());
    options.admin_listen = Some("127.0.0.1:0".parse().unwrap());
    for endpoint in ["not a url", "https://collector:4318/v1/traces", "http://"] {
        let mut options = options.clone();
        options.trace_export = Some(common::telemetry::otlp::Export::to(endpoint, "gateway"));
        let err = gateway::Gateway::bind(options).await.expect_err(endpoint);
        assert!(
            err.to_string().contains("OTEL_EXPORTER_OTLP"),
            "{endpoint}: {err}"
        );
    }
}
