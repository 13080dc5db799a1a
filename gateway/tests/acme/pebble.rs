//! Pebble and pebble-challtestsrv as child processes on free loopback
//! ports, killed (by their handles) when dropped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::support::tls::{client_config, https_get, test_ca, write_pair};

/// What every ACME test starts from: an upstream, the storage directory
/// (`acme` in a scratch directory, returned last to be kept alive),
/// Pebble's ports and the trust for its API.
pub async fn scene() -> (
    super::support::Upstream,
    PathBuf,
    Ports,
    ServerTrust,
    tempfile::TempDir,
) {
    let up = super::support::Upstream::start("u").await;
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("acme");
    let ports = Ports::pick().await;
    let trust = ServerTrust::new(dir.path());
    (up, storage, ports, trust, dir)
}

/// The ports Pebble and its DNS server use.
pub struct Ports {
    /// The ACME API (HTTPS).
    pub acme: u16,
    /// Pebble's management API (HTTPS): roots.
    pub management: u16,
    /// challtestsrv's DNS server (UDP and TCP).
    pub dns: u16,
    /// challtestsrv's own management API.
    pub dns_management: u16,
}

async fn free_port() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

impl Ports {
    /// Four free ports.
    pub async fn pick() -> Ports {
        Ports {
            acme: free_port().await,
            management: free_port().await,
            dns: free_port().await,
            dns_management: free_port().await,
        }
    }

    /// The ACME directory URL.
    pub fn directory(&self) -> String {
        format!("https://127.0.0.1:{}/dir", self.acme)
    }
}

/// The certificate Pebble serves its API with, and the CA the gateway trusts for it.
pub struct ServerTrust {
    /// CA (PEM) for `GATEWAY_ACME_CA_FILE`.
    pub ca_file: PathBuf,
    ca_pem: String,
    cert: PathBuf,
    key: PathBuf,
}

impl ServerTrust {
    /// Files in `dir`.
    pub fn new(dir: &Path) -> ServerTrust {
        let ca = test_ca();
        let ca_file = dir.join("pebble-api-ca.pem");
        std::fs::write(&ca_file, ca.cert_pem()).unwrap();
        let (cert, key) = write_pair(
            dir,
            "pebble-api",
            &ca.issue(&["127.0.0.1", "localhost"], 30).unwrap(),
        );
        ServerTrust {
            ca_file,
            ca_pem: ca.cert_pem().to_string(),
            cert,
            key,
        }
    }
}

/// A running Pebble.
pub struct Pebble {
    pebble: Child,
    dns: Child,
    management: SocketAddr,
    _config: tempfile::TempDir,
}

impl Pebble {
    /// Start Pebble validating HTTP-01 on `http_port`, names resolved to
    /// 127.0.0.1; certificates valid `validity` seconds (Pebble's default
    /// otherwise).
    pub fn start(
        ports: &Ports,
        trust: &ServerTrust,
        http_port: u16,
        validity: Option<u64>,
    ) -> Pebble {
        let dir = tempfile::tempdir().unwrap();
        let mut config = serde_json::json!({"pebble": {
            "listenAddress": format!("127.0.0.1:{}", ports.acme),
            "managementListenAddress": format!("127.0.0.1:{}", ports.management),
            "certificate": trust.cert,
            "privateKey": trust.key,
            "httpPort": http_port,
            "tlsPort": 1,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": false,
        }});
        if let Some(seconds) = validity {
            config["pebble"]["certificateValidityPeriod"] = seconds.into();
        }
        let config_file = dir.path().join("pebble.json");
        std::fs::write(&config_file, config.to_string()).unwrap();
        let dns = Command::new(env!("PEBBLE_CHALLTESTSRV_BIN"))
            .args(["-dns01", &format!("127.0.0.1:{}", ports.dns)])
            .args([
                "-management",
                &format!("127.0.0.1:{}", ports.dns_management),
            ])
            .args(["-http01", "", "-https01", "", "-tlsalpn01", ""])
            .args(["-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pebble-challtestsrv starts");
        let pebble = Command::new(env!("PEBBLE_BIN"))
            .arg("-config")
            .arg(&config_file)
            .args(["-dnsserver", &format!("127.0.0.1:{}", ports.dns)])
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pebble starts");
        Pebble {
            pebble,
            dns,
            management: SocketAddr::from(([127, 0, 0, 1], ports.management)),
            _config: dir,
        }
    }

    /// The root Pebble issues under (PEM), once it answers.
    pub async fn root_pem(&self, trust: &ServerTrust) -> String {
        let config = client_config(&trust.ca_pem, &[b"http/1.1"]);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(got) = https_get(self.management, &config, "127.0.0.1", "/roots/0").await
                && got.status == 200
            {
                return got.body;
            }
            assert!(Instant::now() < deadline, "Pebble did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        for child in [&mut self.pebble, &mut self.dns] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
