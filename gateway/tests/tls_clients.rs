//! Real TLS clients against the HTTPS listener (curl with `--http2` and
//! `--http1.1`, `openssl s_client`), and `gateway check` on certificate
//! files. curl and openssl are required (installed by `.ci/run`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::tls::*;
use support::*;

/// Run `cmd` off the async runtime.
async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("the program runs (is it installed?)"))
        .await
        .unwrap()
}

async fn gateway_with_localhost(
    dir: &Path,
    upstream: &Upstream,
) -> (TestGateway, gateway::local_ca::LocalCa) {
    let ca = test_ca();
    std::fs::write(dir.join("ca.pem"), ca.cert_pem()).unwrap();
    let pair = write_pair(dir, "localhost", &ca.issue(&["localhost"], 30).unwrap());
    let gw = TestGateway::start(&one_route(&upstream.url(), &tls_section(&[pair], ""))).await;
    (gw, ca)
}

#[tokio::test]
async fn curl_gets_http2_and_http1_over_tls_trusting_the_test_ca() {
    let up = Upstream::start("u").await;
    let dir = tempfile::tempdir().unwrap();
    let (gw, _ca) = gateway_with_localhost(dir.path(), &up).await;
    let port = gw.tls.unwrap().port();
    for (flag, version) in [("--http2", "2"), ("--http1.1", "1.1")] {
        let mut curl = Command::new("curl");
        curl.args(["-sS", flag, "--cacert"])
            .arg(dir.path().join("ca.pem"))
            .args(["--resolve", &format!("localhost:{port}:127.0.0.1")])
            .args(["-w", "\n%{http_version} %{http_code}"])
            .arg(format!("https://localhost:{port}/users/curl"));
        let out = run(curl).await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (body, status) = stdout.rsplit_once('\n').unwrap();
        assert_eq!(status, format!("{version} 200"));
        let echo = echo(body);
        assert_eq!(echoed(&echo, "x-forwarded-proto"), ["https"]);
        assert_eq!(echo["path"], "/curl");
    }
}

#[tokio::test]
async fn openssl_s_client_verifies_the_chain_negotiates_h2_and_tls_1_1_is_refused() {
    let up = Upstream::start("u").await;
    let dir = tempfile::tempdir().unwrap();
    let (gw, _ca) = gateway_with_localhost(dir.path(), &up).await;
    let connect = gw.tls.unwrap().to_string();
    let s_client = |extra: &[&str]| {
        let mut c = Command::new("openssl");
        c.args([
            "s_client",
            "-connect",
            &connect,
            "-servername",
            "localhost",
            "-CAfile",
        ])
        .arg(dir.path().join("ca.pem"))
        .args(extra)
        .stdin(std::process::Stdio::null());
        c
    };
    let out = run(s_client(&["-alpn", "h2,http/1.1"])).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ALPN protocol: h2"), "{text}");
    assert!(text.contains("Verify return code: 0 (ok)"), "{text}");
    assert!(text.contains("TLSv1.3"), "{text}");
    let out = run(s_client(&["-tls1_2", "-alpn", "http/1.1"])).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Protocol  : TLSv1.2"), "{text}");
    assert!(text.contains("ALPN protocol: http/1.1"), "{text}");
    // openssl itself would refuse TLS 1.1 at its default security level.
    let out = run(s_client(&["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"])).await;
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    // rustls answers a TLS 1.1-only hello with a handshake_failure alert.
    assert!(err.contains("alert handshake failure"), "{err}");
    assert!(text.contains("Cipher is (NONE)"), "{text}");
}

fn check(config: &Path) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gateway"));
    for var in [
        "GATEWAY_TLS_LISTEN",
        "GATEWAY_TLS_CERT",
        "GATEWAY_TLS_KEY",
        "GATEWAY_LISTEN",
    ] {
        c.env_remove(var);
    }
    c.arg("check").arg(config).output().unwrap()
}

#[test]
fn check_reports_names_and_days_left_and_refuses_a_foreign_key_or_an_uncovered_name() {
    let dir = tempfile::tempdir().unwrap();
    let ca = test_ca();
    let (a, b) = (
        ca.issue(&["shop.test", "www.shop.test"], 30).unwrap(),
        ca.issue(&["other.test"], 30).unwrap(),
    );
    let (a_cert, a_key) = write_pair(dir.path(), "a", &a);
    let (_, b_key) = write_pair(dir.path(), "b", &b);
    let config = dir.path().join("gateway.toml");
    let write = |cert: &Path, key: &Path, names: &str| {
        let tls = format!(
            "[tls]\nlisten = \"127.0.0.1:8443\"\n[[tls.certificates]]\ncert = \"{}\"\nkey = \"{}\"\nnames = [{names}]\n",
            cert.display(),
            key.display()
        );
        std::fs::write(&config, one_route("http://127.0.0.1:1", &tls)).unwrap();
    };
    write(&a_cert, &a_key, "\"www.shop.test\"");
    let out = check(&config);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 30 days from issuance: 29 or 30 whole days left, by the second it is checked.
    let line = format!(
        "gateway: certificate {}: shop.test, www.shop.test; expires in ",
        a_cert.display()
    );
    assert!(
        stdout.contains(&format!("{line}29 days")) || stdout.contains(&format!("{line}30 days")),
        "{stdout}"
    );
    assert!(stdout.contains("configuration OK"), "{stdout}");

    write(&a_cert, &b_key, "");
    let out = check(&config);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains(&format!(
            "gateway: configuration invalid: {}: tls.certificates[0]: {}: the key does not match the certificate",
            config.display(),
            b_key.display()
        )),
        "{stderr}"
    );

    write(&a_cert, &a_key, "\"api.shop.test\"");
    let out = check(&config);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("does not cover `api.shop.test`"),
        "{stderr}"
    );

    // With ACME on, the check names the domains, the server and the storage.
    let acme = format!(
        "[tls]\nlisten = \"127.0.0.1:8443\"\n[acme]\ndomains = [\"shop.test\"]\nstorage = \"{}\"\n",
        dir.path().join("acme").display()
    );
    std::fs::write(&config, one_route("http://127.0.0.1:1", &acme)).unwrap();
    let out = check(&config);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "gateway: acme: shop.test from https://acme-v02.api.letsencrypt.org/directory (storage {})",
            dir.path().join("acme").display()
        )),
        "{stdout}"
    );

    write(&dir.path().join("missing.crt"), &a_key, "");
    let out = check(&config);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("missing.crt"), "{stderr}");
}
