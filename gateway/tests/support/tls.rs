//! HTTPS test helpers: certificates from a test CA (`gateway::local_ca`)
//! written to files, and a real TLS client (tokio-rustls + hyper) that
//! reports what the handshake chose.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use gateway::local_ca::{IssuedPair, LocalCa};
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, HandshakeKind, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// A test CA.
pub fn test_ca() -> LocalCa {
    LocalCa::generate("gateway test CA").unwrap()
}

/// Write `pair` as `<name>.crt` / `<name>.key` in `dir`.
pub fn write_pair(dir: &Path, name: &str, pair: &IssuedPair) -> (PathBuf, PathBuf) {
    let (cert, key) = (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    );
    std::fs::write(&cert, &pair.cert_pem).unwrap();
    std::fs::write(&key, &pair.key_pem).unwrap();
    (cert, key)
}

/// The DER of the first certificate in `pem`.
pub fn leaf_der(pem: &str) -> Vec<u8> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

/// A client trusting only `ca_pem`, offering `alpn` (and sending SNI).
pub fn client_config(ca_pem: &str, alpn: &[&[u8]]) -> Arc<ClientConfig> {
    client_config_versions(ca_pem, alpn, rustls::DEFAULT_VERSIONS)
}

/// [`client_config`] limited to `versions`.
pub fn client_config_versions(
    ca_pem: &str,
    alpn: &[&[u8]],
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    let mut config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

/// What one HTTPS request saw.
#[derive(Debug)]
pub struct Fetched {
    /// Response status.
    pub status: u16,
    /// HTTP version of the response.
    pub version: http::Version,
    /// Response headers.
    pub headers: http::HeaderMap,
    /// Response body.
    pub body: String,
    /// The protocol ALPN chose.
    pub alpn: Option<Vec<u8>>,
    /// Whether the handshake resumed an earlier session.
    pub resumed: bool,
    /// The DER of the certificate the server sent.
    pub leaf: Vec<u8>,
}

/// `GET path` over a new TLS connection to `addr`, verifying the server as
/// `server_name` (also sent as SNI).
pub async fn https_get(
    addr: SocketAddr,
    config: &Arc<ClientConfig>,
    server_name: &str,
    path: &str,
) -> Result<Fetched, String> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let name = ServerName::try_from(server_name.to_string()).map_err(|e| e.to_string())?;
    let tls = TlsConnector::from(Arc::clone(config))
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let (_, conn) = tls.get_ref();
    let alpn = conn.alpn_protocol().map(<[u8]>::to_vec);
    let resumed = conn.handshake_kind() == Some(HandshakeKind::Resumed);
    let leaf = conn.peer_certificates().unwrap()[0].to_vec();
    let io = TokioIo::new(tls);
    let response = if alpn.as_deref() == Some(b"h2") {
        let (mut send, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let req = Request::get(format!("https://{server_name}{path}"))
            .body(Empty::<Bytes>::new())
            .unwrap();
        send.send_request(req).await.map_err(|e| e.to_string())?
    } else {
        let (mut send, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let req = Request::get(path)
            .header("host", server_name)
            .body(Empty::<Bytes>::new())
            .unwrap();
        send.send_request(req).await.map_err(|e| e.to_string())?
    };
    let status = response.status().as_u16();
    let version = response.version();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok(Fetched {
        status,
        version,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
        alpn,
        resumed,
        leaf,
    })
}

/// Send `request` (raw bytes) over a new TLS connection, read until the
/// server closes or `wait` passes.
pub async fn https_raw(
    addr: SocketAddr,
    config: &Arc<ClientConfig>,
    server_name: &str,
    request: &[u8],
    wait: std::time::Duration,
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from(server_name.to_string()).unwrap();
    let mut tls = TlsConnector::from(Arc::clone(config))
        .connect(name, tcp)
        .await
        .unwrap();
    tls.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(wait, tls.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).to_string()
}

/// A `localhost` certificate pair from `ca`, valid 30 days, written in `dir`.
pub fn localhost_pair(ca: &LocalCa, dir: &Path) -> (PathBuf, PathBuf) {
    write_pair(dir, "localhost", &ca.issue(&["localhost"], 30).unwrap())
}

/// A `[tls]` section listening on 127.0.0.1:0 with these pairs, plus `extra` lines.
pub fn tls_section(pairs: &[(PathBuf, PathBuf)], extra: &str) -> String {
    let mut s = format!("[tls]\nlisten = \"127.0.0.1:0\"\n{extra}\n");
    for (cert, key) in pairs {
        s.push_str(&format!(
            "[[tls.certificates]]\ncert = \"{}\"\nkey = \"{}\"\n",
            cert.display(),
            key.display()
        ));
    }
    s
}
