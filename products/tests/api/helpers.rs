//! One way to start the service for a test: a fresh database, a JWKS
//! fixture standing in for the users service, the real app on port 0.

use common::config::Sources;
use common::testing::TestDb;
use serde_json::{Value, json};

use crate::jwks_fixture::{JwksServer, SigningKey};

pub const ISSUER: &str = "shop-users";
pub const AUDIENCE: &str = "shop";

/// A running products service and a way to call it.
pub struct TestApp {
    pub address: String,
    /// The metrics listener's base URL.
    pub metrics_address: String,
    pub client: reqwest::Client,
    /// The key the JWKS fixture publishes and [`TestApp::token`] signs with.
    pub signer: SigningKey,
    /// The stand-in for the users service's JWKS endpoint.
    pub jwks: JwksServer,
    _db: TestDb,
}

pub async fn spawn_app(db: TestDb) -> TestApp {
    spawn_app_with(db, &[]).await
}

pub async fn spawn_app_with(db: TestDb, extra: &[(&str, &str)]) -> TestApp {
    let signer = SigningKey::generate("test-key-1");
    let jwks = JwksServer::start(&[&signer], None).await;
    spawn_app_on(db, signer, jwks, extra).await
}

/// The app verifying tokens against `jwks` (its `JWKS_URL` unless `extra`
/// sets another), with `signer` as the key of [`TestApp::token`].
pub async fn spawn_app_on(
    db: TestDb,
    signer: SigningKey,
    jwks: JwksServer,
    extra: &[(&str, &str)],
) -> TestApp {
    let mut settings: Vec<(String, String)> = vec![
        ("DATABASE_URL".into(), db.url.clone()),
        ("LISTEN_ADDR".into(), "127.0.0.1:0".into()),
        ("METRICS_LISTEN_ADDR".into(), "127.0.0.1:0".into()),
        ("JWKS_URL".into(), jwks.url.clone()),
        ("RUST_LOG".into(), "warn".into()),
    ];
    settings.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = products::Config::load(&Sources::only(settings)).expect("test configuration");
    let app = products::Application::build(config)
        .await
        .expect("the app builds");
    let address = format!("http://{}", app.local_addr());
    let metrics_address = format!("http://{}", app.metrics_addr());
    tokio::spawn(app.run(std::future::pending()));
    TestApp {
        address,
        metrics_address,
        client: reqwest::Client::new(),
        signer,
        jwks,
        _db: db,
    }
}

impl TestApp {
    /// The metrics listener's `/metrics` text (must answer 200).
    pub async fn metrics(&self) -> String {
        let r = self
            .client
            .get(format!("{}/metrics", self.metrics_address))
            .send()
            .await
            .expect("GET /metrics");
        assert_eq!(r.status(), 200);
        r.text().await.expect("text")
    }

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
        self.signer.sign(claims)
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

    /// `method path` as `role` with `body` sent exactly as written (JSON a
    /// `serde_json::Value` cannot hold, such as `19.999999999999999999`).
    pub async fn send_raw(
        &self,
        method: reqwest::Method,
        path: &str,
        role: Option<&str>,
        body: &str,
    ) -> reqwest::Response {
        self.request(method, path, role)
            .header("content-type", "application/json")
            .body(body.to_string())
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

/// The titles of the page `GET /?{query}` lists, in order.
pub async fn titles(app: &TestApp, query: &str) -> Vec<String> {
    let page = app.get_json(&format!("/?{query}")).await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["title"].as_str().expect("title").to_string())
        .collect()
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
