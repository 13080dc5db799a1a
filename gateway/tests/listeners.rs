//! A `listen` per server (NGINX's `listen` in each `server` block): the
//! servers' own plain and TLS listeners, each with its own set of servers
//! and its own default, over real TCP; the HTTPS redirect stays on the
//! public listener.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::SocketAddr;

use support::tls::*;
use support::*;

/// `GET /` on `addr` with `Host: host`: status and body.
async fn get(addr: SocketAddr, host: &str) -> (u16, String) {
    let raw = raw(
        addr,
        format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        std::time::Duration::from_secs(5),
    )
    .await;
    (statuses(&raw)[0], raw_body(&raw).to_string())
}

/// A server answering `body` at `/` (a `return`), with `lines` before its route.
fn server(lines: &str, body: &str) -> String {
    format!(
        "[[servers]]\n{lines}\n[[servers.routes]]\nlocation = \"/\"\nreturn = {{ status = 200, body = \"{body}\" }}\n"
    )
}

#[tokio::test]
async fn each_listener_has_its_own_servers_and_default() {
    let (p1, p2) = (closed_port().await, closed_port().await);
    let toml = format!(
        "[[routes]]\nlocation = \"/\"\nreturn = {{ status = 200, body = \"top-level\" }}\n{}{}{}",
        server("names = [\"shop.test\"]", "shop on public"),
        server(
            &format!("names = [\"shop.test\"]\nlisten = [\"{p1}\"]"),
            "shop on p1"
        ),
        server(
            &format!("names = [\"admin.test\"]\nlisten = [\"{p1}\", \"{p2}\"]"),
            "admin"
        ),
    );
    let gw = TestGateway::start(&toml).await;
    assert_eq!(gw.own, [p1, p2]);
    // The public listener: the servers without `listen`, the top-level
    // routes its default; admin.test is not served here.
    assert_eq!(
        get(gw.addr, "shop.test").await,
        (200, "shop on public".into())
    );
    assert_eq!(get(gw.addr, "admin.test").await, (200, "top-level".into()));
    // p1: the same name is another server; the first server is the default.
    assert_eq!(get(p1, "shop.test").await, (200, "shop on p1".into()));
    assert_eq!(get(p1, "admin.test").await, (200, "admin".into()));
    assert_eq!(get(p1, "other.test").await, (200, "shop on p1".into()));
    // p2: one server answers every host.
    assert_eq!(get(p2, "shop.test").await, (200, "admin".into()));
    // `/config` shows where each server listens.
    let shown = gw.config_json().await;
    assert_eq!(shown["servers"][1]["listen"][0]["addr"], p1.to_string());
    assert_eq!(shown["servers"][1]["listen"][0]["tls"], false);
}

#[tokio::test]
async fn a_default_server_per_listener() {
    let p1 = closed_port().await;
    let toml = format!(
        "{}{}{}",
        server("names = [\"a.test\"]", "a"),
        server("names = [\"b.test\"]\ndefault = true", "b"),
        server(&format!("names = [\"c.test\"]\nlisten = [\"{p1}\"]"), "c")
            + &server(
                &format!("names = [\"d.test\"]\nlisten = [\"{p1}\"]\ndefault = true"),
                "d"
            ),
    );
    let gw = TestGateway::start(&toml).await;
    assert_eq!(get(gw.addr, "x.test").await.1, "b");
    assert_eq!(get(gw.addr, "a.test").await.1, "a");
    assert_eq!(get(p1, "x.test").await.1, "d");
    assert_eq!(get(p1, "c.test").await.1, "c");
}

#[tokio::test]
async fn a_tls_listener_of_its_own_and_the_redirect_only_on_the_public_listener() {
    let ca = test_ca();
    let dir = tempfile::tempdir().unwrap();
    let pair = localhost_pair(&ca, dir.path());
    let (plain, secure) = (closed_port().await, closed_port().await);
    let toml = format!(
        "{}\n[[routes]]\nlocation = \"/\"\nreturn = {{ status = 200, body = \"default\" }}\n{}",
        tls_section(&[pair], "redirect_https = true"),
        server(
            &format!(
                "names = [\"localhost\"]\nlisten = [\"{plain}\"]\nlisten_tls = [\"{secure}\"]"
            ),
            "own"
        ),
    );
    let gw = TestGateway::start(&toml).await;
    assert_eq!(gw.own, [plain, secure]);
    let config = client_config(ca.cert_pem(), &[b"h2", b"http/1.1"]);
    for alpn_addr in [secure] {
        let got = https_get(alpn_addr, &config, "localhost", "/")
            .await
            .unwrap();
        assert_eq!((got.status, got.body.as_str()), (200, "own"));
    }
    // The default HTTPS listener serves the servers without `listen`.
    let got = https_get(gw.tls.unwrap(), &config, "localhost", "/")
        .await
        .unwrap();
    assert_eq!((got.status, got.body.as_str()), (200, "default"));
    // redirect_https: the public listener redirects, the server's own
    // plain listener serves.
    assert_eq!(get(gw.addr, "localhost").await.0, 308);
    assert_eq!(get(plain, "localhost").await, (200, "own".into()));
}

#[tokio::test]
async fn an_address_already_in_use_stops_start_up_naming_the_setting() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.toml");
    std::fs::write(
        &path,
        server(&format!("names = [\"a.test\"]\nlisten = [\"{addr}\"]"), "a"),
    )
    .unwrap();
    let mut opts = gateway::LaunchOptions::new(&path);
    opts.listen = Some("127.0.0.1:0".parse().unwrap());
    opts.admin_listen = Some("127.0.0.1:0".parse().unwrap());
    opts.watch = false;
    let err = gateway::Gateway::bind(opts).await.expect_err("port taken");
    let message = err.to_string();
    assert!(message.contains(&addr.to_string()), "{message}");
    assert!(message.contains("servers[].listen"), "{message}");
}
