//! Certificate files replaced under a running gateway: a rename, a
//! Kubernetes Secret's symlink swap, SIGHUP; a broken replacement keeps the
//! old pair; an open connection survives the swap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gateway::local_ca::{IssuedPair, LocalCa};
use gateway::{Gateway, LaunchOptions};
use support::tls::*;
use support::*;

/// A watching gateway's addresses; it stops when this is dropped.
struct Watching {
    https: SocketAddr,
    plain: SocketAddr,
    admin: SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Start a watching gateway on `config` (its file).
async fn start_watching(config: &Path) -> Watching {
    let mut opts = LaunchOptions::new(config);
    opts.listen = Some("127.0.0.1:0".parse().unwrap());
    opts.admin_listen = Some("127.0.0.1:0".parse().unwrap());
    let gw = Gateway::bind(opts).await.unwrap();
    let (https, plain, admin) = (gw.tls_addr().unwrap(), gw.local_addr(), gw.admin_addr());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(gw.run(async move {
        let _ = rx.await;
    }));
    // Let the watcher start.
    tokio::time::sleep(Duration::from_millis(300)).await;
    Watching {
        https,
        plain,
        admin,
        _stop: tx,
    }
}

/// Replace `path`'s contents the way editors and `kubectl cp` do: write
/// beside it, then rename over it.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Wait (at most 5 s) until the listener serves `want`'s certificate.
async fn wait_for(addr: SocketAddr, ca: &LocalCa, want: &IssuedPair) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        // A fresh client each time: a resumed session would report the
        // certificate of the session it resumes.
        let config = client_config(ca.cert_pem(), &[b"http/1.1"]);
        if let Ok(got) = https_get(addr, &config, "localhost", "/users/x").await
            && got.leaf == leaf_der(&want.cert_pem)
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn tls_metric(admin: SocketAddr, series: &str) -> f64 {
    let text = client()
        .get(format!("http://{admin}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    metric(&text, series).unwrap_or(0.0)
}

#[tokio::test]
async fn a_replaced_pair_is_served_and_a_broken_one_keeps_the_old_while_connections_stay_open() {
    let up = Upstream::start("u").await;
    let ca = test_ca();
    let dir = tempfile::tempdir().unwrap();
    let first = ca.issue(&["localhost"], 30).unwrap();
    let pair = write_pair(dir.path(), "site", &first);
    let config = dir.path().join("gateway.toml");
    std::fs::write(
        &config,
        one_route(&up.url(), &tls_section(std::slice::from_ref(&pair), "")),
    )
    .unwrap();
    let gw = start_watching(&config).await;
    let (addr, admin) = (gw.https, gw.admin);
    assert!(wait_for(addr, &ca, &first).await);

    // A connection opened before the swap keeps working after it.
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(client_config(ca.cert_pem(), &[b"http/1.1"]))
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap();
    let (mut send, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);

    let second = ca.issue(&["localhost"], 60).unwrap();
    replace(&pair.0, &second.cert_pem);
    replace(&pair.1, &second.key_pem);
    assert!(wait_for(addr, &ca, &second).await, "new pair not served");
    let before = tls_metric(admin, "gateway_tls_reloads_total{result=\"failure\"}").await;

    // A key that does not match: refused, the second pair keeps serving.
    let foreign = ca.issue(&["localhost"], 60).unwrap();
    replace(&pair.1, &foreign.key_pem);
    let deadline = Instant::now() + Duration::from_secs(5);
    while tls_metric(admin, "gateway_tls_reloads_total{result=\"failure\"}").await <= before {
        assert!(Instant::now() < deadline, "the broken key was not noticed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(wait_for(addr, &ca, &second).await);
    // Garbage in the certificate file: the same.
    replace(&pair.0, "not a certificate");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(wait_for(addr, &ca, &second).await);

    let req = http::Request::get("/users/old")
        .header("host", "localhost")
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .unwrap();
    let response = send.send_request(req).await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_reloaded_table_naming_other_files_serves_them_and_turns_the_redirect_on() {
    let up = Upstream::start("u").await;
    let ca = test_ca();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        ca.issue(&["localhost"], 30).unwrap(),
        ca.issue(&["localhost"], 60).unwrap(),
    );
    let pair_a = write_pair(dir.path(), "a", &a);
    let pair_b = write_pair(dir.path(), "b", &b);
    let config = dir.path().join("gateway.toml");
    std::fs::write(
        &config,
        one_route(&up.url(), &tls_section(std::slice::from_ref(&pair_a), "")),
    )
    .unwrap();
    let gw = start_watching(&config).await;
    let (addr, plain) = (gw.https, gw.plain);
    assert!(wait_for(addr, &ca, &a).await);
    replace(
        &config,
        &one_route(
            &up.url(),
            &tls_section(std::slice::from_ref(&pair_b), "redirect_https = true"),
        ),
    );
    assert!(
        wait_for(addr, &ca, &b).await,
        "the new files are not served"
    );
    let r = client()
        .get(format!("http://{plain}/users/x"))
        .header("host", "localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 308);
}

#[cfg(unix)]
#[tokio::test]
async fn a_kubernetes_secret_symlink_swap_is_picked_up() {
    use std::os::unix::fs::symlink;
    let up = Upstream::start("u").await;
    let ca = test_ca();
    // dir/tls.crt -> ..data/tls.crt, ..data -> ..v1 (how kubelet mounts Secrets).
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    let v1 = secret.join("..v1");
    std::fs::create_dir_all(&v1).unwrap();
    let first = ca.issue(&["localhost"], 30).unwrap();
    std::fs::write(v1.join("tls.crt"), &first.cert_pem).unwrap();
    std::fs::write(v1.join("tls.key"), &first.key_pem).unwrap();
    symlink("..v1", secret.join("..data")).unwrap();
    symlink("..data/tls.crt", secret.join("tls.crt")).unwrap();
    symlink("..data/tls.key", secret.join("tls.key")).unwrap();
    let config = dir.path().join("gateway.toml");
    let pair = (secret.join("tls.crt"), secret.join("tls.key"));
    std::fs::write(&config, one_route(&up.url(), &tls_section(&[pair], ""))).unwrap();
    let gw = start_watching(&config).await;
    let addr = gw.https;
    assert!(wait_for(addr, &ca, &first).await);

    let second = ca.issue(&["localhost"], 60).unwrap();
    let v2 = secret.join("..v2");
    std::fs::create_dir(&v2).unwrap();
    std::fs::write(v2.join("tls.crt"), &second.cert_pem).unwrap();
    std::fs::write(v2.join("tls.key"), &second.key_pem).unwrap();
    symlink("..v2", secret.join("..data_tmp")).unwrap();
    std::fs::rename(secret.join("..data_tmp"), secret.join("..data")).unwrap();
    std::fs::remove_dir_all(&v1).unwrap();
    assert!(
        wait_for(addr, &ca, &second).await,
        "symlink swap not picked up"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn sighup_reloads_the_certificate_files() {
    let up = Upstream::start("u").await;
    let ca = Arc::new(test_ca());
    let dir = tempfile::tempdir().unwrap();
    let first = ca.issue(&["localhost"], 30).unwrap();
    let pair = write_pair(dir.path(), "site", &first);
    // Not watching: only the signal can trigger the reload.
    let gw = TestGateway::start(&one_route(
        &up.url(),
        &tls_section(std::slice::from_ref(&pair), ""),
    ))
    .await;
    let addr = gw.tls.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = ca.issue(&["localhost"], 60).unwrap();
    std::fs::write(&pair.0, &second.cert_pem).unwrap();
    std::fs::write(&pair.1, &second.key_pem).unwrap();
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(wait_for(addr, &ca, &second).await, "SIGHUP did not reload");
}

#[tokio::test]
async fn a_pair_that_does_not_load_stops_the_start_with_its_reason() {
    let up = Upstream::start("u").await;
    let ca = test_ca();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        ca.issue(&["localhost"], 30).unwrap(),
        ca.issue(&["localhost"], 30).unwrap(),
    );
    let (cert, _) = write_pair(dir.path(), "a", &a);
    let (_, key) = write_pair(dir.path(), "b", &b);
    let config = dir.path().join("gateway.toml");
    std::fs::write(
        &config,
        one_route(&up.url(), &tls_section(&[(cert, key)], "")),
    )
    .unwrap();
    let mut opts = LaunchOptions::new(&config);
    opts.listen = Some("127.0.0.1:0".parse().unwrap());
    opts.admin_listen = Some("127.0.0.1:0".parse().unwrap());
    let err = Gateway::bind(opts).await.expect_err("refused").to_string();
    assert!(err.contains("a.crt"), "{err}");
    assert!(err.contains("does not match"), "{err}");
}
