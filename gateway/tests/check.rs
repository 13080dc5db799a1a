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

// Each refusal's message is specified by the parser's unit tests
// (`gateway/src/config/tests/`); these run the command line itself.

#[test]
fn check_accepts_a_valid_file_with_exit_0() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/gateway.toml");
    let out = gateway_bin().arg("check").arg(path).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("gateway: configuration OK: {path}")),
        "{stdout}"
    );
}

/// The shipped edge example (every traffic policy on) is valid once its
/// upstreams come from the environment, and only then.
#[test]
fn the_edge_example_passes_check_with_its_upstream_variables() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/edge.toml");
    let out = gateway_bin()
        .arg("check")
        .arg(path)
        .env("USERS_UPSTREAM", "http://users:8000")
        .env("PRODUCTS_UPSTREAM", "http://products:8000")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let without = gateway_bin().arg("check").arg(path).output().unwrap();
    assert_eq!(without.status.code(), Some(1));
    let err = String::from_utf8_lossy(&without.stderr);
    assert!(
        err.contains("upstreams.") && err.contains("endpoints"),
        "{err}"
    );
}

#[test]
fn check_refuses_an_invalid_file_or_environment_with_exit_1_and_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("routes.toml");
    std::fs::write(
        &path,
        format!(
            "{}[[routes]]\nprefix = \"/p/\"\nupstream = \"prodcts\"\n",
            one_route("http://users:8000", "")
        ),
    )
    .unwrap();
    let out = gateway_bin().arg("check").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let want = format!(
        "gateway: configuration invalid: {}: routes[1].upstream: unknown upstream `prodcts` (defined: users)",
        path.display()
    );
    assert!(err.contains(&want), "want `{want}` in `{err}`");

    // `check` validates what `run` would serve: the environment too.
    std::fs::write(&path, one_route("http://users:8000", "")).unwrap();
    let out = gateway_bin()
        .arg("check")
        .arg(&path)
        .env("USERS_UPSTREAM", "users:8000")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("environment: USERS_UPSTREAM: `users:8000` needs a scheme"),
        "{err}"
    );
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
