//! The HTTPS listener over real TCP with certificates from a test CA:
//! ALPN (h2 and http/1.1 through the same proxy path), SNI, forwarding
//! headers, the redirect and its ACME exception, HSTS, resumption, the
//! handshake timeout and cap, `/config` and the metrics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use support::tls::*;
use support::*;

/// A gateway with one route to `upstream` and `[tls]` serving a
/// `localhost` certificate from `ca`, plus `extra` `[tls]` lines.
async fn https_gateway(
    ca: &gateway::local_ca::LocalCa,
    upstream: &Upstream,
    extra: &str,
) -> (TestGateway, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let pair = write_pair(
        dir.path(),
        "localhost",
        &ca.issue(&["localhost"], 30).unwrap(),
    );
    let gw = TestGateway::start(&one_route(&upstream.url(), &tls_section(&[pair], extra))).await;
    (gw, dir)
}

#[tokio::test]
async fn alpn_h2_and_http1_reach_the_upstream_with_x_forwarded_proto_https() {
    let up = Upstream::start("u").await;
    let ca = test_ca();
    let (gw, _dir) = https_gateway(&ca, &up, "").await;
    let addr = gw.tls.expect("https listener");
    for (alpn, version) in [
        (&b"h2"[..], http::Version::HTTP_2),
        (&b"http/1.1"[..], http::Version::HTTP_11),
    ] {
        let config = client_config(ca.cert_pem(), &[alpn]);
        let got = https_get(addr, &config, "localhost", "/users/who?x=1")
            .await
            .unwrap();
        assert_eq!(got.alpn.as_deref(), Some(alpn));
        assert_eq!(got.version, version);
        assert_eq!(got.status, 200, "{}", got.body);
        let echo = echo(&got.body);
        assert_eq!(echo["path"], "/who?x=1");
        assert_eq!(echoed(&echo, "x-forwarded-proto"), ["https"]);
        assert_eq!(echoed(&echo, "host"), ["localhost"]);
        assert!(got.headers.contains_key("x-request-id"));
        // No HSTS unless configured.
        assert!(!got.headers.contains_key("strict-transport-security"));
    }
    // The plain listener still says http.
    let plain = client().get(gw.url("/users/who")).send().await.unwrap();
    let echo = echo(&plain.text().await.unwrap());
    assert_eq!(echoed(&echo, "x-forwarded-proto"), ["http"]);
}

#[tokio::test]
async fn sni_chooses_the_certificate_and_a_client_without_sni_gets_the_first() {
    let up = Upstream::start("u").await;
    let ca = test_ca();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        ca.issue(&["a.test"], 30).unwrap(),
        ca.issue(&["b.test", "*.b.test"], 30).unwrap(),
    );
    let pairs = [
        write_pair(dir.path(), "a", &a),
        write_pair(dir.path(), "b", &b),
    ];
    let gw = TestGateway::start(&one_route(&up.url(), &tls_section(&pairs, ""))).await;
    let addr = gw.tls.unwrap();
    let config = client_config(ca.cert_pem(), &[b"http/1.1"]);
    for (name, want) in [("a.test", &a), ("b.test", &b), ("api.b.test", &b)] {
        let got = https_get(addr, &config, name, "/users/x").await.unwrap();
        assert_eq!(got.leaf, leaf_der(&want.cert_pem), "{name}");
        assert_eq!(got.status, 200);
    }
    let mut no_sni = (*client_config(ca.cert_pem(), &[b"http/1.1"])).clone();
    no_sni.enable_sni = false;
    let got = https_get(addr, &std::sync::Arc::new(no_sni), "a.test", "/users/x")
        .await
        .unwrap();
    assert_eq!(got.leaf, leaf_der(&a.cert_pem));
}

#[tokio::test]
async fn unknown_sni_refuse_fails_handshakes_that_name_no_served_certificate() {
    let up = Upstream::start("u").await;
    let ca = test_ca();
    let (gw, _dir) = https_gateway(&ca, &up, "unknown_sni = \"refuse\"").await;
    let addr = gw.tls.unwrap();
    let config = client_config(ca.cert_pem(), &[b"http/1.1"]);
    let got = https_get(addr, &config, "localhost", "/users/x")
        .await
        .unwrap();
    assert_eq!(got.status, 200);
    // Without SNI, or naming another host: no certificate at all (the
    // default one would have revealed its names), a fatal alert.
    let mut no_sni = (*client_config(ca.cert_pem(), &[b"http/1.1"])).clone();
    no_sni.enable_sni = false;
    let err = https_get(addr, &std::sync::Arc::new(no_sni), "localhost", "/users/x")
        .await
        .expect_err("a client without SNI got a certificate");
    assert!(err.contains("alert"), "{err}");
    let err = https_get(addr, &config, "other.test", "/users/x")
        .await
        .expect_err("an unknown name got a certificate");
    assert!(err.contains("alert"), "{err}");
    let shown = gw.config_json().await;
    assert_eq!(shown["tls"]["unknown_sni"], "refuse");
}

#[tokio::test]
async fn redirect_https_answers_308_except_acme_challenges_and_hsts_is_sent_over_tls_only() {
    let up = Upstream::start("u").await;
    let ca = test_ca();
    let (gw, _dir) =
        https_gateway(&ca, &up, "redirect_https = true\nhsts_max_age = \"8760h\"").await;
    let port = gw.tls.unwrap().port();
    let r = client()
        .get(gw.url("/users/a/b?q=1&r=2"))
        .header("host", "LocalHost:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 308);
    assert_eq!(
        r.headers()["location"],
        format!("https://LocalHost:{port}/users/a/b?q=1&r=2").as_str()
    );
    // A host no certificate names goes to the default certificate's name,
    // never where the client pointed.
    for host in ["evil.test", "evil.test:80", "127.0.0.1:8080", "[::1]"] {
        let r = client()
            .get(gw.url("/users/x?y"))
            .header("host", host)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 308, "{host}");
        assert_eq!(
            r.headers()["location"],
            format!("https://localhost:{port}/users/x?y").as_str(),
            "{host}"
        );
    }
    assert!(!r.headers().contains_key("strict-transport-security"));
    assert_eq!(up.requests(), 0);
    // An ACME challenge path is not redirected (nothing published: routing says 404).
    let r = client()
        .get(gw.url("/.well-known/acme-challenge/abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let config = client_config(ca.cert_pem(), &[b"h2"]);
    let got = https_get(gw.tls.unwrap(), &config, "localhost", "/users/x")
        .await
        .unwrap();
    assert_eq!(got.status, 200);
    assert_eq!(got.headers["strict-transport-security"], "max-age=31536000");
}

#[tokio::test]
async fn a_second_connection_resumes_the_session_with_tls_1_3_and_1_2() {
    let up = Upstream::start("u").await;
    let ca = test_ca();
    let (gw, _dir) = https_gateway(&ca, &up, "").await;
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let config = client_config_versions(ca.cert_pem(), &[b"http/1.1"], &[version]);
        let first = https_get(gw.tls.unwrap(), &config, "localhost", "/users/1")
            .await
            .unwrap();
        assert!(!first.resumed);
        let second = https_get(gw.tls.unwrap(), &config, "localhost", "/users/2")
            .await
            .unwrap();
        assert!(second.resumed, "{version:?} did not resume");
        assert_eq!(second.status, 200);
    }
}

#[tokio::test]
async fn a_silent_client_is_closed_at_the_handshake_timeout_and_over_the_cap_at_once() {
    let up = Upstream::start("u").await;
    let ca = test_ca();
    let (gw, _dir) = https_gateway(
        &ca,
        &up,
        "handshake_timeout = \"300ms\"\nmax_handshakes = 1",
    )
    .await;
    let addr = gw.tls.unwrap();
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The only handshake slot is taken: the next connection is closed at once.
    let mut refused = tokio::net::TcpStream::connect(addr).await.unwrap();
    let started = std::time::Instant::now();
    assert_eq!(read_all(&mut refused, Duration::from_secs(2)).await, "");
    assert!(started.elapsed() < Duration::from_millis(250));
    // The silent one is closed once its time is up.
    let started = std::time::Instant::now();
    assert_eq!(read_all(&mut silent, Duration::from_secs(3)).await, "");
    assert!(started.elapsed() < Duration::from_secs(2));
    // The slot is free again.
    let config = client_config(ca.cert_pem(), &[b"http/1.1"]);
    let got = https_get(addr, &config, "localhost", "/users/x")
        .await
        .unwrap();
    assert_eq!(got.status, 200);
    let metrics = gw.metrics().await;
    for want in [
        "gateway_tls_handshakes_total{result=\"refused\"} 1",
        "gateway_tls_handshakes_total{result=\"timeout\"} 1",
    ] {
        assert!(metrics.contains(want), "{want} in\n{metrics}");
    }
}

#[tokio::test]
async fn config_shows_certificate_names_and_expiry_but_no_key_and_metrics_count_handshakes() {
    let up = Upstream::start("u").await;
    let ca = test_ca();
    let (gw, dir) = https_gateway(&ca, &up, "").await;
    let config = client_config(ca.cert_pem(), &[b"h2"]);
    https_get(gw.tls.unwrap(), &config, "localhost", "/users/x")
        .await
        .unwrap();
    let shown: serde_json::Value = gw.config_json().await;
    let cert = &shown["certificates"][0];
    assert_eq!(cert["names"], serde_json::json!(["localhost"]));
    let days =
        (cert["not_after"].as_i64().unwrap() - cert["not_before"].as_i64().unwrap()) / 86_400;
    assert_eq!(days, 30);
    assert_eq!(
        shown["tls"]["certificates"][0]["key"],
        dir.path().join("localhost.key").display().to_string()
    );
    let text = shown.to_string();
    let key = std::fs::read_to_string(dir.path().join("localhost.key")).unwrap();
    let key_body = key.lines().nth(1).unwrap();
    assert!(!text.contains(key_body), "the key leaked into /config");
    let metrics = gw.metrics().await;
    let handshakes = metric(&metrics, "gateway_tls_handshakes_total{result=\"success\"}");
    assert!(handshakes.unwrap_or(0.0) >= 1.0, "{metrics}");
    assert!(
        metrics.contains("gateway_tls_certificate_expiry_seconds{name=\"localhost\"}"),
        "{metrics}"
    );
    assert!(metric(&metrics, "gateway_tls_reloads_total{result=\"failure\"}").is_some());
}

#[tokio::test]
async fn an_acme_storage_that_cannot_be_created_stops_the_start_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-directory");
    std::fs::write(&file, "").unwrap();
    let storage = file.join("acme");
    let config = dir.path().join("gateway.toml");
    std::fs::write(
        &config,
        one_route(
            "http://127.0.0.1:1",
            &format!(
                "[tls]\nlisten = \"127.0.0.1:0\"\n[acme]\ndomains = [\"shop.test\"]\nstorage = \"{}\"\n",
                storage.display()
            ),
        ),
    )
    .unwrap();
    let mut opts = gateway::LaunchOptions::new(&config);
    opts.listen = Some("127.0.0.1:0".parse().unwrap());
    opts.admin_listen = Some("127.0.0.1:0".parse().unwrap());
    let err = gateway::Gateway::bind(opts)
        .await
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains(&format!("acme.storage {}", storage.display())),
        "{err}"
    );
}

#[tokio::test]
async fn over_tls_a_silent_client_gets_408_and_an_unparseable_head_a_problem_400() {
    let up = Upstream::start("u").await;
    let ca = test_ca();
    let (gw, _dir) = https_gateway(&ca, &up, "[timeouts]\nheader_read = \"300ms\"").await;
    let config = client_config(ca.cert_pem(), &[b"http/1.1"]);
    let addr = gw.tls.unwrap();
    let silent = https_raw(addr, &config, "localhost", b"", Duration::from_secs(3)).await;
    assert!(silent.starts_with("HTTP/1.1 408 "), "{silent}");
    assert!(silent.contains("application/problem+json"), "{silent}");
    let garbage = https_raw(
        addr,
        &config,
        "localhost",
        b"GARBAGE\r\n\r\n",
        Duration::from_secs(3),
    )
    .await;
    assert!(garbage.starts_with("HTTP/1.1 400 "), "{garbage}");
    assert!(garbage.contains("\"request_id\""), "{garbage}");
    assert_eq!(up.requests(), 0);
}
