//! Local HTTPS (`shop --https`): the gateway serves the whole system over
//! TLS with a `localhost` certificate from a local CA in the data
//! directory; curl and a headless Chromium that trust that CA open the
//! users service's Swagger UI through it.

use std::path::Path;
use std::process::{Command, Output};

use launcher::{System, SystemOptions};

/// The system on loopback with HTTPS from the data directory's local CA;
/// returns it with the CA file.
async fn https_system(data: &Path) -> (System, std::path::PathBuf) {
    let (ca, cert, key) =
        gateway::local_ca::localhost_certificate(&data.join("tls")).expect("local CA");
    let mut options = SystemOptions::ephemeral(data);
    options.gateway_tls = Some(gateway::TlsOverride {
        listen: "127.0.0.1:0".parse().expect("addr"),
        cert,
        key,
    });
    let system = System::start(options).await.expect("system starts");
    (system, ca)
}

async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("the program runs"))
        .await
        .expect("joined")
}

#[tokio::test]
async fn curl_trusting_the_local_ca_gets_the_users_docs_over_https_and_h2() {
    let data = tempfile::tempdir().expect("tempdir");
    let (system, ca) = https_system(data.path()).await;
    let port = system.https_addr.expect("https listener").port();
    let mut curl = Command::new("curl");
    curl.args(["-sS", "-L", "--http2", "--cacert"])
        .arg(&ca)
        .args(["-w", "\n%{http_version} %{http_code} %{url_effective}"])
        .arg(format!("https://localhost:{port}/users/docs"));
    let out = run(curl).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (page, last) = stdout.rsplit_once('\n').expect("status line");
    assert_eq!(last, format!("2 200 https://localhost:{port}/users/docs/"));
    assert!(page.contains("swagger-ui"), "{page}");
    // The same CA is reused by the next run (the certificate is re-issued).
    let again = gateway::local_ca::localhost_certificate(&data.path().join("tls")).expect("again");
    assert_eq!(
        std::fs::read_to_string(&again.0).expect("ca"),
        std::fs::read_to_string(&ca).expect("ca")
    );
    system.stop().await.expect("stops");
}

#[tokio::test]
#[cfg_attr(
    not(chromium_tests),
    ignore = "needs chromium and certutil (apt-get install chromium libnss3-tools)"
)]
async fn headless_chromium_trusting_the_local_ca_renders_the_swagger_ui() {
    #[cfg(chromium_tests)]
    {
        let data = tempfile::tempdir().expect("tempdir");
        let (system, ca) = https_system(data.path()).await;
        let port = system.https_addr.expect("https listener").port();
        // A home of its own whose NSS database trusts only the test CA.
        let home = tempfile::tempdir().expect("home");
        let nssdb = format!("sql:{}/.pki/nssdb", home.path().display());
        std::fs::create_dir_all(home.path().join(".pki/nssdb")).expect("nssdb dir");
        let mut init = Command::new(env!("CERTUTIL_BIN"));
        init.args(["-N", "--empty-password", "-d", &nssdb]);
        assert!(run(init).await.status.success());
        let mut trust = Command::new(env!("CERTUTIL_BIN"));
        trust
            .args(["-A", "-t", "C,,", "-n", "shop-test-ca", "-d", &nssdb, "-i"])
            .arg(&ca);
        assert!(run(trust).await.status.success());
        let mut chromium = Command::new(env!("CHROMIUM_BIN"));
        chromium
            .env("HOME", home.path())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--virtual-time-budget=20000",
                "--dump-dom",
            ])
            .arg(format!(
                "--user-data-dir={}",
                home.path().join("profile").display()
            ))
            .arg(format!("https://localhost:{port}/users/docs"));
        let out = run(chromium).await;
        let dom = String::from_utf8_lossy(&out.stdout);
        // Rendered by Swagger UI's JavaScript from the spec fetched over
        // HTTPS: the title block and the operations, not just the HTML shell.
        assert!(dom.contains("class=\"swagger-ui\""), "{dom}");
        assert!(dom.contains("opblock"), "no operations rendered:\n{dom}");
        assert!(dom.contains("/auth/login"), "{dom}");
        system.stop().await.expect("stops");
    }
}
