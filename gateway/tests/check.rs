//! The `gateway` binary: `check` like `nginx -t`, and `healthcheck`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;

use support::*;

fn gateway_bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gateway"));
    for var in [
        "GATEWAY_CONFIG",
        "GATEWAY_LISTEN",
        "GATEWAY_ADMIN_LISTEN",
        "USERS_UPSTREAM",
        "PRODUCTS_UPSTREAM",
        "LOG_FORMAT",
    ] {
        c.env_remove(var);
    }
    c
}

fn check(text: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("routes.toml");
    std::fs::write(&path, text).unwrap();
    let out = gateway_bin().arg("check").arg(&path).output().unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.success(),
        all.replace(&path.display().to_string(), "FILE"),
    )
}

const GOOD: &str = r#"
[upstreams.users]
endpoints = ["http://users:8000"]
[[routes]]
prefix = "/users/"
upstream = "users"
"#;

#[test]
fn the_default_route_table_is_valid() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/gateway.toml");
    let out = gateway_bin().arg("check").arg(path).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("configuration OK"));
}

#[test]
fn a_valid_file_passes() {
    let (ok, out) = check(GOOD);
    assert!(ok, "{out}");
    assert!(out.contains("configuration OK: FILE"), "{out}");
}

#[test]
fn each_invalid_file_fails_naming_file_key_and_problem() {
    let cases = [
        (
            format!("{GOOD}[[routes]]\nprefix = \"/users/\"\nupstream = \"users\"\n"),
            "FILE: routes[1].prefix: duplicate prefix `/users/` (also routes[0])",
        ),
        (
            format!("{GOOD}[[routes]]\nprefix = \"/p/\"\nupstream = \"prodcts\"\n"),
            "FILE: routes[1].upstream: unknown upstream `prodcts` (defined: users)",
        ),
        (
            GOOD.replace("/users/\"", "users/\""),
            "FILE: routes[0].prefix: `users/` must start with `/`",
        ),
        (
            GOOD.replace("http://users:8000", "ftp://users"),
            "FILE: upstreams.users.endpoints[0]: `ftp://users`: scheme `ftp` is not supported",
        ),
        (
            GOOD.replace("http://users:8000", "http://users:8000/api"),
            "FILE: upstreams.users.endpoints[0]: `http://users:8000/api`: an upstream URL has no path",
        ),
        (
            GOOD.replace(
                "endpoints = [\"http://users:8000\"]",
                "endpoints = [\"http://users:8000\"]\nmax_connections_per_endpoint = 0",
            ),
            "FILE: upstreams.users.max_connections_per_endpoint: must be at least 1",
        ),
        (
            format!("[timeouts]\nconnect = \"soon\"\n{GOOD}"),
            "FILE: timeouts.connect: `soon` is not a duration",
        ),
        (
            format!("[limits]\nbody = \"1 parsec\"\n{GOOD}"),
            "FILE: limits.body: unknown size unit",
        ),
        (
            format!("trusted_proxies = [\"10.0.0.0/40\"]\n{GOOD}"),
            "FILE: trusted_proxies[0]: `10.0.0.0/40`: prefix length must be 0 to 32",
        ),
        (
            format!("[listen]\nworkers = 5000\n{GOOD}"),
            "FILE: listen.workers: must be at most 1024 (0: one per core)",
        ),
        (
            format!("[listen]\npublic = \"eighty\"\n{GOOD}"),
            "FILE: listen.public: `eighty` is not an address",
        ),
        (
            format!("{GOOD}\nunknown_key = 1\n"),
            "FILE: line 8, column 1: unknown field `unknown_key`, expected one of `prefix`, `upstream`, `strip_prefix`, `host`, `body_limit`, `response_timeout` (in [[routes]])",
        ),
        (
            format!("[timeouts]\nconect = \"2s\"\n{GOOD}"),
            "FILE: line 2, column 1: unknown field `conect`, expected one of",
        ),
        (
            "[upstreams.users]\nendpoints = []\n".to_string(),
            "FILE: upstreams.users.endpoints: at least one endpoint URL is required (or set USERS_UPSTREAM)",
        ),
        (
            GOOD.replace("[[routes]]", "[[routes"),
            "FILE: line 4, column 9: invalid table header; expected",
        ),
    ];
    for (text, want) in cases {
        let (ok, out) = check(&text);
        assert!(!ok, "accepted:\n{text}");
        assert!(out.contains(want), "want `{want}` in `{out}`");
    }
}

#[test]
fn a_missing_file_fails_naming_it() {
    let out = gateway_bin()
        .args(["check", "/nonexistent/routes.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/routes.toml: cannot read"));
}

#[test]
fn environment_overrides_are_validated_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("routes.toml");
    std::fs::write(&path, GOOD).unwrap();
    let out = gateway_bin()
        .arg("check")
        .arg(&path)
        .env("USERS_UPSTREAM", "users:8000")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("USERS_UPSTREAM"), "{err}");
}

#[tokio::test]
async fn healthcheck_succeeds_against_a_running_gateway_and_fails_otherwise() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("routes.toml");
    std::fs::write(
        &path,
        one_route(&users.url(), &format!("[listen]\nadmin = \"{}\"", gw.admin)),
    )
    .unwrap();
    let out = tokio::task::spawn_blocking({
        let path = path.clone();
        move || {
            gateway_bin()
                .arg("healthcheck")
                .arg("--config")
                .arg(&path)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let closed = closed_port().await;
    std::fs::write(
        &path,
        one_route(&users.url(), &format!("[listen]\nadmin = \"{closed}\"")),
    )
    .unwrap();
    let out = tokio::task::spawn_blocking(move || {
        gateway_bin()
            .arg("healthcheck")
            .arg("--config")
            .arg(&path)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[tokio::test]
async fn healthcheck_without_a_readable_file_uses_gateway_admin_listen() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let admin = gw.admin.to_string();
    let out = tokio::task::spawn_blocking(move || {
        gateway_bin()
            .args(["healthcheck", "--config", "/nonexistent/gateway.toml"])
            .env("GATEWAY_ADMIN_LISTEN", admin)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
