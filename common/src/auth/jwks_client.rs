//! The client a remote verifier fetches the JWKS with: hyper over rustls
//! (ring provider), for `http://` and `https://` URLs alike. `https://`
//! servers must present a certificate chaining to the Mozilla root store
//! compiled in (webpki-roots), so the runtime images need no CA bundle; a
//! private CA is not trusted.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::RootCertStore;

/// Largest JWKS body accepted (a set holds a handful of small keys).
const MAX_BODY: usize = 256 * 1024;

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    /// The URL does not parse, or is neither http nor https.
    #[error("`{0}` is not an http(s) URL")]
    Url(String),
    /// Connecting, TLS or sending failed.
    #[error("request failed: {0}")]
    Request(#[from] hyper_util::client::legacy::Error),
    /// The server answered, but not 200.
    #[error("answered {0}")]
    Status(StatusCode),
    /// The body could not be read, or was too large.
    #[error("reading the body failed: {0}")]
    Body(String),
    /// The body is not a JWK set.
    #[error("not a JWK set: {0}")]
    NotJwks(#[from] serde_json::Error),
    /// The whole exchange took longer than the timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

/// An http/https GET client with a time limit per fetch.
pub(crate) struct JwksClient {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    timeout: Duration,
}

impl JwksClient {
    /// A client trusting the Mozilla roots (webpki-roots).
    pub(crate) fn with_public_roots(timeout: Duration) -> Self {
        let roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        Self::with_roots(roots, timeout)
    }

    /// A client trusting exactly `roots`.
    pub(crate) fn with_roots(roots: RootCertStore, timeout: Duration) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("the ring provider supports the default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            timeout,
        }
    }

    /// `GET url`: the headers and body of a 200 answer.
    pub(crate) async fn get(&self, url: &str) -> Result<(HeaderMap, Bytes), FetchError> {
        let uri: Uri = url.parse().map_err(|_| FetchError::Url(url.to_owned()))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) {
            return Err(FetchError::Url(url.to_owned()));
        }
        let request = Request::get(uri)
            .header(http::header::ACCEPT, "application/json")
            .body(Empty::new())
            .map_err(|_| FetchError::Url(url.to_owned()))?;
        let exchange = async {
            let response = self.client.request(request).await?;
            if response.status() != StatusCode::OK {
                return Err(FetchError::Status(response.status()));
            }
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_BODY)
                .collect()
                .await
                .map_err(|e| FetchError::Body(e.to_string()))?
                .to_bytes();
            Ok((parts.headers, body))
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| FetchError::Timeout(self.timeout))?
    }
}

#[cfg(test)]
#[path = "jwks_client_tests.rs"]
mod tests;
