//! ACME end to end against Pebble, Let's Encrypt's test server (Debian
//! package `pebble`, installed by `.ci/run`): real HTTP-01 validation
//! against the gateway's plain listener (`pebble-challtestsrv` answers DNS
//! with 127.0.0.1), plain HTTP serving and retries while the server is
//! down, reuse of the stored certificate after a restart, and renewal of
//! a short-lived certificate. Compiled as ignored when Pebble was not on
//! the PATH at build time (see `build.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Without Pebble the bodies are compiled out and the tests ignored.
#![cfg_attr(not(pebble_tests), allow(unused_imports, dead_code))]

mod support;

#[cfg(pebble_tests)]
#[path = "acme/pebble.rs"]
mod pebble;

use std::path::Path;
use std::time::{Duration, Instant};

use support::tls::*;
use support::*;

/// The gateway's table: one route, HTTPS on port 0, ACME for `shop.test`
/// from `directory` (whose own certificate is signed by `ca_file`).
fn acme_table(upstream: &str, directory: &str, ca_file: &Path, storage: &Path) -> String {
    acme_table_retrying(upstream, directory, ca_file, storage, "1s")
}

/// [`acme_table`] waiting `retry` after a failed order.
fn acme_table_retrying(
    upstream: &str,
    directory: &str,
    ca_file: &Path,
    storage: &Path,
    retry: &str,
) -> String {
    one_route(
        upstream,
        &format!(
            "[tls]\nlisten = \"127.0.0.1:0\"\nredirect_https = true\n[acme]\ndirectory = \"{directory}\"\ndomains = [\"shop.test\"]\ncontact = [\"ops@shop.test\"]\nstorage = \"{}\"\nca_file = \"{}\"\nretry_initial = \"{retry}\"\n",
            storage.display(),
            ca_file.display()
        ),
    )
}

/// Wait (at most `limit`) until `addr` serves a certificate for
/// `shop.test` that chains to `root_pem`; its DER.
async fn served_leaf(
    addr: std::net::SocketAddr,
    root_pem: &str,
    limit: Duration,
) -> Option<Vec<u8>> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        let config = client_config(root_pem, &[b"h2"]);
        if let Ok(got) = https_get(addr, &config, "shop.test", "/users/x").await {
            assert_eq!(got.status, 200, "{}", got.body);
            return Some(got.leaf);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    None
}

async fn acme_orders(gw: &TestGateway, result: &str) -> f64 {
    let series = format!("gateway_acme_orders_total{{result=\"{result}\"}}");
    metric(&gw.metrics().await, &series).unwrap_or(0.0)
}

#[tokio::test]
#[cfg_attr(not(pebble_tests), ignore = "needs pebble (apt-get install pebble)")]
async fn plain_http_serves_while_acme_fails_then_http01_gets_a_certificate_that_a_restart_reuses() {
    #[cfg(pebble_tests)]
    {
        let (up, storage, ports, trust, _dir) = pebble::scene().await;
        let table = acme_table(&up.url(), &ports.directory(), &trust.ca_file, &storage);
        let mut gw = TestGateway::start(&table).await;
        let https = gw.tls.unwrap();

        // Pebble is not running: plain HTTP serves (no redirect without a
        // certificate) and the order is retried.
        let deadline = Instant::now() + Duration::from_secs(10);
        while acme_orders(&gw, "failure").await < 1.0 {
            assert!(Instant::now() < deadline, "no failed order counted");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let plain = client().get(gw.url("/users/x")).send().await.unwrap();
        assert_eq!(plain.status(), 200);

        let server = pebble::Pebble::start(&ports, &trust, gw.addr.port(), None);
        let root = server.root_pem(&trust).await;
        let leaf = served_leaf(https, &root, Duration::from_secs(60))
            .await
            .expect("a certificate from Pebble");
        assert!(acme_orders(&gw, "success").await >= 1.0);
        // Now that a certificate is served, plain HTTP redirects, except the challenges.
        let r = client()
            .get(gw.url("/users/x"))
            .header("host", "shop.test")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 308);
        assert!(storage.join("accounts").read_dir().unwrap().count() == 1);
        let shown: serde_json::Value = gw.config_json().await;
        assert_eq!(
            shown["certificates"][0]["names"],
            serde_json::json!(["shop.test"])
        );
        assert_eq!(shown["certificates"][0]["source"], "acme");

        // Restart with the ACME server gone: the stored certificate serves at once.
        gw.shutdown().await.unwrap();
        drop(server);
        let gw = TestGateway::start(&table).await;
        let config = client_config(&root, &[b"http/1.1"]);
        let got = https_get(gw.tls.unwrap(), &config, "shop.test", "/users/x")
            .await
            .expect("the stored certificate is served right after the restart");
        assert_eq!(got.leaf, leaf);
    }
}

#[tokio::test]
#[cfg_attr(not(pebble_tests), ignore = "needs pebble (apt-get install pebble)")]
async fn a_short_lived_certificate_is_renewed_at_two_thirds_of_its_lifetime() {
    #[cfg(pebble_tests)]
    {
        let (up, storage, ports, trust, _dir) = pebble::scene().await;
        let table = acme_table(&up.url(), &ports.directory(), &trust.ca_file, &storage);
        let gw = TestGateway::start(&table).await;
        // 15 seconds of validity: due after 10.
        let _server = pebble::Pebble::start(&ports, &trust, gw.addr.port(), Some(15));
        let root = _server.root_pem(&trust).await;
        let first = served_leaf(gw.tls.unwrap(), &root, Duration::from_secs(60))
            .await
            .expect("a first certificate");
        let obtained = Instant::now();
        let deadline = obtained + Duration::from_secs(40);
        loop {
            let leaf = served_leaf(gw.tls.unwrap(), &root, Duration::from_secs(5)).await;
            if leaf.is_some_and(|l| l != first) {
                break;
            }
            assert!(Instant::now() < deadline, "not renewed");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        // Not before two thirds of the lifetime (with a second's rounding).
        assert!(
            obtained.elapsed() >= Duration::from_secs(8),
            "{:?}",
            obtained.elapsed()
        );
        assert!(acme_orders(&gw, "success").await >= 2.0);
    }
}

#[tokio::test]
#[cfg_attr(not(pebble_tests), ignore = "needs pebble (apt-get install pebble)")]
async fn a_replica_sharing_the_storage_answers_the_challenge_of_the_one_ordering() {
    #[cfg(pebble_tests)]
    {
        let (up, storage, ports, trust, _dir) = pebble::scene().await;
        // Replica B's ACME server never answers, so it never orders; it
        // shares the storage, and it is the one Pebble validates against.
        let nowhere = format!("https://{}/dir", closed_port().await);
        let b = TestGateway::start(&acme_table_retrying(
            &up.url(),
            &nowhere,
            &trust.ca_file,
            &storage,
            "1h",
        ))
        .await;
        let server = pebble::Pebble::start(&ports, &trust, b.addr.port(), None);
        let root = server.root_pem(&trust).await;
        // Replica A orders; the HTTP-01 request reaches B, which answers
        // from the shared storage.
        let a = TestGateway::start(&acme_table(
            &up.url(),
            &ports.directory(),
            &trust.ca_file,
            &storage,
        ))
        .await;
        served_leaf(a.tls.unwrap(), &root, Duration::from_secs(60))
            .await
            .expect("replica A got its certificate through replica B");
        assert_eq!(
            storage.join("http-01").read_dir().unwrap().count(),
            0,
            "the published answers are removed after the order"
        );
    }
}
