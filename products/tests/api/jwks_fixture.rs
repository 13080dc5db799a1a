//! A stand-in for the users service's JWKS endpoint: a real HTTP server
//! whose published keys, `Cache-Control: max-age` and availability a test
//! controls, counting the fetches it answers.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// An Ed25519 signing key with its `kid`, as the users service holds one.
pub struct SigningKey {
    kid: String,
    key: EncodingKey,
    public: Vec<u8>,
}

impl SigningKey {
    pub fn generate(kid: &str) -> Self {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("key");
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("pair");
        Self {
            kid: kid.to_string(),
            key: EncodingKey::from_ed_der(pkcs8.as_ref()),
            public: pair.public_key().as_ref().to_vec(),
        }
    }

    /// The public half as a JWK.
    pub fn jwk(&self) -> Value {
        json!({
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": self.kid,
            "x": URL_SAFE_NO_PAD.encode(&self.public),
        })
    }

    /// Sign `claims` with a `kid` header naming this key.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).expect("sign")
    }
}

#[derive(Default)]
struct Published {
    keys: Vec<Value>,
    max_age: Option<u64>,
    fetches: usize,
}

/// The running JWKS server.
pub struct JwksServer {
    pub url: String,
    published: Arc<Mutex<Published>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl JwksServer {
    /// Serve `keys` with `Cache-Control: max-age=<max_age>` (none when `None`).
    pub async fn start(keys: &[&SigningKey], max_age: Option<u64>) -> Self {
        let published = Arc::new(Mutex::new(Published {
            keys: keys.iter().map(|k| k.jwk()).collect(),
            max_age,
            fetches: 0,
        }));
        let shared = published.clone();
        let router = axum::Router::new().route(
            "/.well-known/jwks.json",
            axum::routing::get(move || {
                let shared = shared.clone();
                async move {
                    let mut published = shared.lock().expect("fixture lock");
                    published.fetches += 1;
                    let mut headers = http::HeaderMap::new();
                    if let Some(age) = published.max_age {
                        let value = format!("public, max-age={age}");
                        headers.insert(http::header::CACHE_CONTROL, value.parse().expect("header"));
                    }
                    (headers, axum::Json(json!({ "keys": published.keys })))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind jwks");
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().expect("addr")
        );
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Self {
            url,
            published,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Publish exactly `keys` from now on.
    pub fn publish(&self, keys: &[&SigningKey]) {
        self.published.lock().expect("fixture lock").keys = keys.iter().map(|k| k.jwk()).collect();
    }

    /// How many times the key set was fetched.
    pub fn fetches(&self) -> usize {
        self.published.lock().expect("fixture lock").fetches
    }

    /// Stop serving: connections are closed and new ones refused, as when
    /// the users service is down.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// A URL where nothing listens (a users service that is down).
pub fn unreachable_jwks_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    format!("http://127.0.0.1:{port}/.well-known/jwks.json")
}
