//! The JWKS client over https, against a local TLS server whose certificate
//! (`testdata/server.pem`, for `localhost` and `127.0.0.1`, valid until
//! 2126) is issued by a throwaway test CA (`testdata/ca.pem`). The key in
//! `testdata/server.key` protects nothing but these tests.

use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::{FetchError, JwksClient};
use crate::auth::key_set;

const CA: &[u8] = include_bytes!("testdata/ca.pem");
const CERT: &[u8] = include_bytes!("testdata/server.pem");
const KEY: &[u8] = include_bytes!("testdata/server.key");

/// One Ed25519 public key (RFC 8037's example) with a `kid`.
const JWKS: &str = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","use":"sig","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;

const TIMEOUT: Duration = Duration::from_secs(5);

/// A TLS server on loopback answering every request with the JWKS, for at
/// most `connections` connections. Returns its port.
async fn tls_server(connections: usize) -> u16 {
    let cert = CertificateDer::from_pem_slice(CERT).expect("test certificate");
    let key = PrivateKeyDer::from_pem_slice(KEY).expect("test key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        for _ in 0..connections {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A refused handshake (the client distrusting us) ends here.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut request = vec![0u8; 4096];
                let mut read = 0;
                while !request[..read].windows(4).any(|w| w == b"\r\n\r\n") && read < request.len()
                {
                    match tls.read(&mut request[read..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => read += n,
                    }
                }
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncache-control: public, max-age=60\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{JWKS}",
                    JWKS.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}

fn test_ca() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(CA).expect("test CA"))
        .expect("add CA");
    roots
}

#[tokio::test]
async fn fetches_the_key_set_over_https_from_a_trusted_server() {
    let port = tls_server(2).await;
    let client = JwksClient::with_roots(test_ca(), TIMEOUT);
    for host in ["localhost", "127.0.0.1"] {
        let fetched = key_set::fetch(
            &client,
            &format!("https://{host}:{port}/.well-known/jwks.json"),
        )
        .await
        .expect("fetch over https");
        assert_eq!(fetched.max_age, Some(Duration::from_secs(60)));
        assert!(fetched.keys.contains_key("k1"), "key k1 parsed");
    }
}

#[tokio::test]
async fn a_server_outside_the_public_roots_is_refused() {
    let port = tls_server(1).await;
    let client = JwksClient::with_public_roots(TIMEOUT);
    let err = client
        .get(&format!("https://localhost:{port}/.well-known/jwks.json"))
        .await
        .expect_err("the test CA is not a public root");
    assert!(matches!(err, FetchError::Request(_)), "{err}");
}

#[tokio::test]
async fn only_http_and_https_urls_are_fetched() {
    let client = JwksClient::with_public_roots(TIMEOUT);
    for url in ["ftp://users/jwks.json", "not a url"] {
        let err = client.get(url).await.expect_err("refused");
        assert!(matches!(err, FetchError::Url(_)), "{url}: {err}");
    }
}
