//! One structured access-log line per request.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use support::*;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn each_request_writes_one_json_line_with_every_field() {
    let capture = Capture::default();
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_writer(capture.clone())
        .with_env_filter("gateway::access=info")
        .init();
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
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
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["target"] == "gateway::access")
        .collect();
    let ok: Vec<_> = lines
        .iter()
        .filter(|l| l["request_id"] == "log-me")
        .collect();
    assert_eq!(ok.len(), 1, "{text}");
    let line = ok[0];
    assert_eq!(line["client_ip"], "127.0.0.1");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["path"], "/users/big");
    assert_eq!(line["route"], "/users/");
    assert_eq!(line["upstream"], users.addr.to_string());
    assert_eq!(line["status"], 200);
    assert_eq!(line["bytes"], 1234);
    assert!(line["duration_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(line["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    let missing: Vec<_> = lines
        .iter()
        .filter(|l| l["request_id"] == "log-404")
        .collect();
    assert_eq!(missing.len(), 1, "{text}");
    assert_eq!(missing[0]["status"], 404);
    assert_eq!(missing[0]["route"], "-");
    assert_eq!(missing[0]["upstream"], "-");
    // No traceparent: the gateway started a trace, and logged its id.
    let started = missing[0]["trace_id"].as_str().unwrap();
    assert_eq!(started.len(), 32);
    assert!(started.bytes().all(|b| b.is_ascii_hexdigit()));
}
