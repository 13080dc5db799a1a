//! One way to start the service for a test: a fresh database, a JWKS
//! fixture standing in for the users service, the real app on port 0.

use std::net::SocketAddr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::config::Sources;
use common::testing::TestDb;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};

pub const ISSUER: &str = "shop-users";
pub const AUDIENCE: &str = "shop";
const KID: &str = "test-key-1";

/// A running products service and a way to call it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    signer: Signer,
    _db: TestDb,
}

/// Signs access tokens like the users service does.
struct Signer {
    key: EncodingKey,
}

pub async fn spawn_app(db: TestDb) -> TestApp {
    spawn_app_with(db, &[]).await
}

pub async fn spawn_app_with(db: TestDb, extra: &[(&str, &str)]) -> TestApp {
    let (signer, jwks_url) = start_jwks_server().await;
    let mut settings: Vec<(String, String)> = vec![
        ("DATABASE_URL".into(), db.url.clone()),
        ("LISTEN_ADDR".into(), "127.0.0.1:0".into()),
        ("JWKS_URL".into(), jwks_url),
        ("RUST_LOG".into(), "warn".into()),
    ];
    settings.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = products::Config::load(&Sources::only(settings)).expect("test configuration");
    let app = products::Application::build(config)
        .await
        .expect("the app builds");
    let address = format!("http://{}", app.local_addr());
    tokio::spawn(app.run(std::future::pending()));
    TestApp {
        address,
        client: reqwest::Client::new(),
        signer,
        _db: db,
    }
}

async fn start_jwks_server() -> (Signer, String) {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("key");
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("pair");
    let jwks = json!({"keys": [{
        "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": KID,
        "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
    }]});
    let router = axum::Router::new().route(
        "/.well-known/jwks.json",
        axum::routing::get(move || {
            let jwks = jwks.clone();
            async move { axum::Json(jwks) }
        }),
    );
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind jwks");
    let url = format!(
        "http://{}/.well-known/jwks.json",
        listener.local_addr().expect("addr")
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    let key = EncodingKey::from_ed_der(pkcs8.as_ref());
    (Signer { key }, url)
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A valid access token for `role` (`admin`, `staff`, `customer`).
    pub fn token(&self, role: &str) -> String {
        self.sign(&self.claims(role))
    }

    /// The claims the users service puts in a fresh token for `role`.
    pub fn claims(&self, role: &str) -> Value {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        json!({
            "sub": uuid::Uuid::new_v4(), "email": format!("{role}@example.com"), "role": role,
            "iat": now, "exp": now + 600, "iss": ISSUER, "aud": AUDIENCE,
            "jti": uuid::Uuid::new_v4().to_string(),
        })
    }

    /// Sign `claims` with the key the JWKS fixture publishes.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(KID.to_string());
        jsonwebtoken::encode(&header, claims, &self.signer.key).expect("sign")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// A request with an optional bearer token for `role`.
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        role: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let builder = self.client.request(method, self.url(path));
        match role {
            Some(role) => builder.bearer_auth(self.token(role)),
            None => builder,
        }
    }

    /// `POST /` as `role` with a JSON body.
    pub async fn post_product(&self, role: Option<&str>, body: &Value) -> reqwest::Response {
        self.request(reqwest::Method::POST, "/", role)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// `PATCH /{id}` as `role` with a JSON body.
    pub async fn patch_product(
        &self,
        id: i64,
        role: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        self.request(reqwest::Method::PATCH, &format!("/{id}"), role)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// `POST /{id}/stock` as `role` with `{"delta": delta}`.
    pub async fn change_stock(&self, id: i64, role: Option<&str>, delta: i64) -> reqwest::Response {
        self.request(reqwest::Method::POST, &format!("/{id}/stock"), role)
            .json(&json!({ "delta": delta }))
            .send()
            .await
            .expect("request")
    }

    /// `GET` a JSON body, asserting 200.
    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("json")
    }

    /// `POST /` as staff: creates a product and returns its body.
    pub async fn create(&self, body: Value) -> Value {
        let body = with_defaults(body);
        let response = self
            .client
            .post(self.url("/"))
            .bearer_auth(self.token("staff"))
            .json(&body)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 201, "create {body}");
        response.json().await.expect("json")
    }
}

/// Fill in the required fields a test does not care about.
fn with_defaults(mut body: Value) -> Value {
    for (key, value) in [("price", json!("1.00")), ("category", json!("Books"))] {
        if body.get(key).is_none() {
            body[key] = value;
        }
    }
    body
}

/// The id of a created product.
pub fn id_of(product: &Value) -> i64 {
    product["id"].as_i64().expect("id")
}

/// A minimal valid creation body.
pub fn product(title: &str, price: &str) -> Value {
    json!({"title": title, "price": price, "category": "Books"})
}

/// The body of a response, asserting it is a problem with `status`.
pub async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let body: Value = response.json().await.expect("problem json");
    assert_eq!(body["status"], status);
    assert!(body["request_id"].is_string(), "{body}");
    body
}

/// The sorted list of invalid fields named in a 422 problem.
pub fn invalid_fields(problem: &Value) -> Vec<String> {
    let mut fields: Vec<String> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field").to_string())
        .collect();
    fields.sort();
    fields
}
