//! Start-up errors and graceful shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use gateway::{Gateway, GatewayError, LaunchOptions};
use support::*;

#[tokio::test]
async fn a_busy_port_fails_naming_the_setting() {
    let users = Upstream::start("users").await;
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.toml");
    std::fs::write(&path, one_route(&users.url(), "")).unwrap();
    let mut opts = LaunchOptions::new(&path);
    opts.listen = Some(taken.local_addr().unwrap());
    opts.admin_listen = Some("127.0.0.1:0".parse().unwrap());
    let err = Gateway::bind(opts).await.expect_err("port is taken");
    match &err {
        GatewayError::Bind {
            setting, source, ..
        } => {
            assert_eq!(*setting, "listen.public / GATEWAY_LISTEN");
            assert_eq!(source.kind(), std::io::ErrorKind::AddrInUse);
        }
        other => panic!("unexpected {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "cannot listen on {} (listen.public / GATEWAY_LISTEN): ",
            taken.local_addr().unwrap()
        )),
        "{text}"
    );
}

#[tokio::test]
async fn an_invalid_route_table_fails_to_start_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.toml");
    std::fs::write(
        &path,
        "[[routes]]\nprefix = \"users/\"\nupstream = \"users\"\n",
    )
    .unwrap();
    let err = Gateway::bind(LaunchOptions::new(&path))
        .await
        .expect_err("invalid");
    let text = err.to_string();
    assert!(text.contains("routes[0].prefix"), "{text}");
    assert!(text.contains("must start with `/`"), "{text}");
}

#[tokio::test]
async fn upstream_overrides_replace_the_files_endpoints() {
    let users = Upstream::start("users").await;
    let gw = TestGateway::start_with(&one_route("http://127.0.0.1:1", ""), |o| {
        o.upstreams = vec![("users".to_string(), users.url())];
    })
    .await;
    let resp = client().get(gw.url("/users/me")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(users.requests(), 1);
}

#[tokio::test]
async fn in_flight_requests_finish_during_shutdown() {
    let users = Upstream::start("users").await;
    let mut gw = TestGateway::start(&one_route(&users.url(), "")).await;
    let url = gw.url("/users/sleep?ms=700");
    let in_flight = tokio::spawn(async move { client().get(url).send().await.unwrap() });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopped = gw.begin_shutdown();
    // New connections are refused once draining starts.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(tokio::net::TcpStream::connect(gw.addr).await.is_err());
    let resp = in_flight.await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "slept");
    tokio::time::timeout(Duration::from_secs(5), stopped)
        .await
        .expect("run returns after the drain")
        .unwrap()
        .expect("clean exit");
}

#[tokio::test]
async fn shutdown_gives_up_on_requests_after_the_grace_period() {
    let users = Upstream::start("users").await;
    let mut gw = TestGateway::start(&one_route(
        &users.url(),
        "[timeouts]\nshutdown_grace = \"300ms\"",
    ))
    .await;
    let url = gw.url("/users/sleep?ms=10000");
    let _in_flight = tokio::spawn(async move { client().get(url).send().await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopped = gw.begin_shutdown();
    tokio::time::timeout(Duration::from_secs(5), stopped)
        .await
        .expect("run returns once the grace period is over")
        .unwrap()
        .expect("clean exit");
}

#[tokio::test]
async fn readyz_turns_503_while_draining() {
    let users = Upstream::start("users").await;
    let mut gw = TestGateway::start(&one_route(
        &users.url(),
        "[timeouts]\nshutdown_grace = \"2s\"",
    ))
    .await;
    // Keep the drain going with a slow request.
    let url = gw.url("/users/sleep?ms=1500");
    let _in_flight = tokio::spawn(async move { client().get(url).send().await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let admin = gw.admin;
    let _stopped = gw.begin_shutdown();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let status = gateway::cli::get_status(admin, "/readyz").await.unwrap();
    assert_eq!(status, 503);
}

#[tokio::test]
async fn any_number_of_workers_serves_every_request() {
    let users = Upstream::start("users").await;
    for workers in [1, 3] {
        let gw = TestGateway::start(&one_route(
            &users.url(),
            &format!("[listen]\nworkers = {workers}"),
        ))
        .await;
        let c = client();
        for _ in 0..12 {
            assert_eq!(
                c.get(gw.url("/users/x")).send().await.unwrap().status(),
                200
            );
        }
    }
    assert_eq!(users.requests(), 24);
}

/// The drain under load (issue 31): hundreds of client connections, many
/// with a request in flight to a slow upstream, others idle (parked) or
/// between requests, when the stop signal comes. Every request in flight
/// is answered, and `run` returns `Ok` (a worker panic would make it an
/// error: `panics.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_under_load_answers_every_request_in_flight_without_a_panic() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const IN_FLIGHT: usize = 200;
    const IDLE: usize = 100;
    let users = Upstream::start("users").await;
    let mut gw = TestGateway::start(&one_route(
        &users.url(),
        "[listen]\nworkers = 2\n[timeouts]\nshutdown_grace = \"10s\"",
    ))
    .await;
    let addr = gw.addr;
    // Idle connections: one request answered, then nothing (they park).
    let mut idle = Vec::new();
    for _ in 0..IDLE {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /users/x HTTP/1.1\r\nhost: shop\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = s.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        idle.push(s);
    }
    let mut in_flight = Vec::new();
    for i in 0..IN_FLIGHT {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        // Half wait for their whole answer; half get it in chunks, so their
        // connections are woken several times while they finish.
        let request: &[u8] = if i % 2 == 0 {
            b"GET /users/sleep?ms=1500 HTTP/1.1\r\nhost: shop\r\n\r\n"
        } else {
            b"GET /users/slow?chunks=4&ms=300 HTTP/1.1\r\nhost: shop\r\n\r\n"
        };
        s.write_all(request).await.unwrap();
        in_flight.push(tokio::spawn(async move {
            let mut answer = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(8), s.read_to_end(&mut answer)).await;
            String::from_utf8_lossy(&answer).into_owned()
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stopped = gw.begin_shutdown();
    let mut answered = 0;
    for task in in_flight {
        let answer = task.await.unwrap();
        let whole = answer.ends_with("slept")
            || (answer.contains("chunk3;") && answer.ends_with("0\r\n\r\n"));
        if answer.starts_with("HTTP/1.1 200") && whole {
            answered += 1;
        }
    }
    assert_eq!(answered, IN_FLIGHT, "every request in flight is answered");
    let outcome = tokio::time::timeout(Duration::from_secs(10), stopped)
        .await
        .expect("run returns after the drain")
        .unwrap();
    assert!(outcome.is_ok(), "no worker panicked: {outcome:?}");
    drop(idle);
}
