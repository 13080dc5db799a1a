//! One structured access-log line per request, written by the buffered
//! writer to `log.access_file`: within the flush interval, and all of them
//! by the time the gateway has stopped.
//!
//! The writer is per process (the first gateway decides its output), so
//! this file holds one test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use support::*;

/// The keys of a line, in the order tracing's JSON formatter wrote them.
const KEYS: [&str; 15] = [
    "timestamp",
    "level",
    "message",
    "request_id",
    "trace_id",
    "client_ip",
    "method",
    "path",
    "route",
    "upstream",
    "status",
    "bytes",
    "duration_ms",
    "aborted",
    "target",
];

/// The log file's lines, parsed.
fn read_lines(file: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The lines with this request id.
fn with_id<'a>(lines: &'a [serde_json::Value], id: &str) -> Vec<&'a serde_json::Value> {
    lines.iter().filter(|l| l["request_id"] == id).collect()
}

#[tokio::test]
async fn each_request_writes_one_json_line_with_every_field_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("access.log");
    let log = format!(
        "[log]\naccess_file = \"{}\"\naccess_flush = \"2s\"\n",
        file.display()
    );
    let users = Upstream::start("users").await;
    // The test client is a trusted proxy: its trace is kept.
    let mut gw = TestGateway::start(&one_route(
        &users.url(),
        &format!("trusted_proxies = [\"127.0.0.1\"]\n{log}"),
    ))
    .await;
    let resp = client()
        .get(gw.url("/users/big?bytes=1234"))
        .header("x-request-id", "log-me")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.bytes().await.unwrap().len(), 1234);
    let resp = client()
        .get(gw.url("/nowhere"))
        .header("x-request-id", "log-404")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let _ = resp.bytes().await;

    // Written by the flush interval, without a shutdown.
    let lines = poll_until(
        || async { read_lines(&file) },
        |lines| with_id(lines, "log-404").len() == 1,
    )
    .await;
    let text = std::fs::read_to_string(&file).unwrap();
    let ok = with_id(&lines, "log-me");
    assert_eq!(ok.len(), 1, "{text}");
    let line = ok[0];
    let mut keys: Vec<&str> = line
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let mut want = KEYS.to_vec();
    want.sort_unstable();
    assert_eq!(keys, want);
    // And in the same order as before.
    let raw = text.lines().find(|l| l.contains("\"log-me\"")).unwrap();
    let mut at = 0;
    for key in KEYS {
        let found = raw[at..].find(&format!("\"{key}\":")).unwrap();
        at += found;
    }
    let timestamp = line["timestamp"].as_str().unwrap();
    assert_eq!(timestamp.len(), "2026-11-30T22:40:46.123456Z".len());
    assert!(timestamp.ends_with('Z') && timestamp.as_bytes()[10] == b'T');
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["message"], "request");
    assert_eq!(line["target"], "gateway::access");
    assert_eq!(line["client_ip"], "127.0.0.1");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["path"], "/users/big");
    assert_eq!(line["route"], "/users/");
    assert_eq!(line["upstream"], users.addr.to_string());
    assert_eq!(line["status"], 200);
    assert_eq!(line["bytes"], 1234);
    assert_eq!(line["aborted"], false);
    assert!(line["duration_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(line["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    let missing = with_id(&lines, "log-404");
    assert_eq!(missing[0]["status"], 404);
    assert_eq!(missing[0]["route"], "-");
    assert_eq!(missing[0]["upstream"], "-");
    // No traceparent: the gateway started a trace, and logged its id.
    let started = missing[0]["trace_id"].as_str().unwrap();
    assert_eq!(started.len(), 32);
    assert!(started.bytes().all(|b| b.is_ascii_hexdigit()));
    let metrics = gw.metrics().await;
    assert_eq!(
        metric(&metrics, "gateway_access_log_dropped_lines_total"),
        Some(0.0),
        "{metrics}"
    );

    // Behind a trusted proxy the line shows the client it forwarded for.
    let mut behind = TestGateway::start(&one_route(
        &users.url(),
        &format!("trusted_proxies = [\"127.0.0.0/8\"]\n{log}"),
    ))
    .await;
    let resp = client()
        .get(behind.url("/users/me"))
        .header("x-request-id", "log-forwarded")
        .header("x-forwarded-for", "6.6.6.6, 203.0.113.7")
        .send()
        .await
        .unwrap();
    let _ = resp.bytes().await;
    behind.shutdown().await.unwrap();
    let lines = read_lines(&file);
    let forwarded = with_id(&lines, "log-forwarded");
    assert_eq!(forwarded.len(), 1);
    assert_eq!(forwarded[0]["client_ip"], "203.0.113.7");

    // Every line is in the file once the gateway has stopped, before the
    // next flush interval.
    let requests = 50;
    for n in 0..requests {
        let resp = client()
            .get(gw.url("/users/me"))
            .header("x-request-id", format!("last-{n}"))
            .send()
            .await
            .unwrap();
        let _ = resp.bytes().await;
    }
    gw.shutdown().await.unwrap();
    let lines = read_lines(&file);
    for n in 0..requests {
        assert_eq!(with_id(&lines, &format!("last-{n}")).len(), 1, "last-{n}");
    }
}
