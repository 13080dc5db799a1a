//! The ACME client's HTTPS: one short HTTP/1.1 exchange per request over
//! tokio-rustls (ring), trusting the webpki roots plus `acme.ca_file`
//! (Pebble's own root in tests). The gateway's own stack, so no second
//! HTTP or TLS library is pulled in.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, header};
use hyper_util::rt::TokioIo;
use instant_acme::{BodyWrapper, BytesResponse, HttpClient};
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// How long one ACME request may take, connection included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// HTTPS to the ACME server.
pub(super) struct AcmeHttp {
    tls: TlsConnector,
}

impl AcmeHttp {
    /// A client trusting the public roots and, when set, the roots in `ca_file`.
    pub(super) fn new(ca_file: Option<&Path>) -> Result<AcmeHttp, String> {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        if let Some(file) = ca_file {
            let extra = CertificateDer::pem_file_iter(file)
                .and_then(Iterator::collect::<Result<Vec<_>, _>>)
                .map_err(|e| format!("acme.ca_file {}: {e}", file.display()))?;
            if extra.is_empty() {
                return Err(format!("acme.ca_file {}: no certificate", file.display()));
            }
            for cert in extra {
                roots
                    .add(cert)
                    .map_err(|e| format!("acme.ca_file {}: {e}", file.display()))?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(AcmeHttp {
            tls: TlsConnector::from(Arc::new(config)),
        })
    }
}

impl HttpClient for AcmeHttp {
    fn request(
        &self,
        req: Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>> {
        let tls = self.tls.clone();
        Box::pin(async move {
            tokio::time::timeout(REQUEST_TIMEOUT, exchange(tls, req))
                .await
                .map_err(|_| other("the ACME server did not answer in time".to_string()))?
        })
    }
}

async fn exchange(
    tls: TlsConnector,
    req: Request<BodyWrapper<Bytes>>,
) -> Result<BytesResponse, instant_acme::Error> {
    let (mut parts, body) = req.into_parts();
    if parts.uri.scheme_str() != Some("https") {
        return Err(other(format!("{}: not an https:// URL", parts.uri)));
    }
    let host = parts
        .uri
        .host()
        .ok_or_else(|| other(format!("{}: no host", parts.uri)))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = parts.uri.port_u16().unwrap_or(443);
    let authority = parts
        .uri
        .authority()
        .map(|a| a.as_str().to_string())
        .unwrap_or_default();
    let tcp = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| other(format!("cannot connect to {authority}: {e}")))?;
    let name = ServerName::try_from(host).map_err(|e| other(e.to_string()))?;
    let stream = tls
        .connect(name, tcp)
        .await
        .map_err(|e| other(format!("TLS with {authority}: {e}")))?;
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| other(e.to_string()))?;
    tokio::spawn(conn);
    parts.uri = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .parse()
        .map_err(|e: http::uri::InvalidUri| other(e.to_string()))?;
    if let Ok(value) = header::HeaderValue::from_str(&authority) {
        parts.headers.insert(header::HOST, value);
    }
    let response = send
        .send_request(Request::from_parts(parts, body))
        .await
        .map_err(|e| other(e.to_string()))?;
    Ok(BytesResponse::from(response))
}

fn other(message: String) -> instant_acme::Error {
    instant_acme::Error::Other(message.into())
}
