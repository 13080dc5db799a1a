//! Helpers shared by the route-policy tests (rate limits, CORS,
//! compression, header rules, edge authentication): a route table with a
//! policy table, and a reload that waits until `/config` shows it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use crate::support::TestGateway;

/// The `/users/` route to `url`, with `tables` (TOML after `[[routes]]`,
/// e.g. `[routes.cors]` ...).
pub fn route_with(url: &str, tables: &str) -> String {
    format!(
        r#"
[upstreams.users]
endpoints = ["{url}"]
[[routes]]
prefix = "/users/"
upstream = "users"
{tables}
"#
    )
}

/// Replace the route table file (atomically, as editors do) and wait until
/// `/config` satisfies `applied` (at most 10 s). The file is written again
/// every second meanwhile: a gateway just started may not watch it yet.
pub async fn reload(gw: &TestGateway, text: &str, applied: impl Fn(&serde_json::Value) -> bool) {
    let tmp = gw.config_path.with_extension("tmp");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = serde_json::Value::Null;
    let mut written: Option<Instant> = None;
    while Instant::now() < deadline {
        if written.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
            std::fs::write(&tmp, text).unwrap();
            std::fs::rename(&tmp, &gw.config_path).unwrap();
            written = Some(Instant::now());
        }
        last = gw.config_json().await;
        if applied(&last) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the reload was not applied:\n{text}\n/config: {last}");
}

/// The first route's policy table `name` in `/config`.
pub fn shown<'a>(config: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    &config["routes"][0][name]
}
