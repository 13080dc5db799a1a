//! `spawn_app`: one running service per test, and a client speaking to it.

use std::net::SocketAddr;

use common::config::Sources;
use common::testing::TestDb;
use reqwest::{Client, Response};
use serde_json::{Value, json};
use users::{Application, Config, SigningKey};

/// The admin every test app starts with.
pub const ADMIN_EMAIL: &str = "admin@shop.test";
/// Its password.
pub const ADMIN_PASSWORD: &str = "admin-password-1";
/// A password every test customer can use.
pub const PASSWORD: &str = "correct horse battery";

/// A running service.
pub struct TestApp {
    pub addr: SocketAddr,
    /// The metrics listener.
    pub metrics_addr: SocketAddr,
    pub client: Client,
    /// The key the service signs with (so tests can forge tokens with it).
    pub signing_key: SigningKey,
    _data_dir: tempfile::TempDir,
}

/// Start the service on `db` with cheap Argon2 parameters.
pub async fn spawn_app(db: &TestDb) -> TestApp {
    spawn_app_with(db, &[]).await
}

/// Start the service on `db`, with extra settings on top of the test ones.
pub async fn spawn_app_with(db: &TestDb, extra: &[(&str, &str)]) -> TestApp {
    let data_dir = tempfile::tempdir().expect("data dir");
    let signing_key = SigningKey::generate().expect("key");
    let mut settings: Vec<(String, String)> = vec![
        ("LISTEN_ADDR".into(), "127.0.0.1:0".into()),
        ("METRICS_LISTEN_ADDR".into(), "127.0.0.1:0".into()),
        ("DATABASE_URL".into(), db.url.clone()),
        ("DATABASE_MAX_CONNECTIONS".into(), "5".into()),
        ("DATA_DIR".into(), data_dir.path().display().to_string()),
        ("JWT_SIGNING_KEY".into(), signing_key.to_pem()),
        ("PASSWORD_HASH_MEMORY_KIB".into(), "64".into()),
        ("PASSWORD_HASH_ITERATIONS".into(), "1".into()),
        ("ADMIN_EMAIL".into(), ADMIN_EMAIL.into()),
        ("ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()),
    ];
    for (k, v) in extra {
        settings.retain(|(key, _)| key != k);
        settings.push((k.to_string(), v.to_string()));
    }
    let config = Config::load(&Sources::only(settings)).expect("test configuration");
    let app = Application::build(config).await.expect("app builds");
    let addr = app.local_addr();
    let metrics_addr = app.metrics_addr();
    tokio::spawn(app.run(std::future::pending()));
    TestApp {
        addr,
        metrics_addr,
        client: Client::new(),
        signing_key,
        _data_dir: data_dir,
    }
}

impl TestApp {
    /// The metrics listener's `/metrics` text (must answer 200).
    pub async fn metrics(&self) -> String {
        let r = self
            .client
            .get(format!("http://{}/metrics", self.metrics_addr))
            .send()
            .await
            .expect("GET /metrics");
        assert_eq!(r.status(), 200);
        r.text().await.expect("text")
    }

    /// `http://127.0.0.1:port{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// GET without credentials.
    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// GET with a bearer token.
    pub async fn get_as(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET")
    }

    /// POST a JSON body.
    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    /// Register a customer with `email` and [`PASSWORD`]; returns the user.
    pub async fn register(&self, email: &str) -> Value {
        let r = self
            .post_json(
                "/auth/register",
                &json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(r.status(), 201, "registering {email}");
        r.json().await.expect("user json")
    }

    /// Log in with JSON; returns the response.
    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await
    }

    /// Log in and return the token pair (must succeed).
    pub async fn tokens(&self, email: &str, password: &str) -> Tokens {
        let r = self.login(email, password).await;
        assert_eq!(r.status(), 200, "login of {email}");
        let body: Value = r.json().await.expect("json");
        Tokens {
            access: body["access_token"].as_str().expect("access").to_string(),
            refresh: body["refresh_token"].as_str().expect("refresh").to_string(),
        }
    }

    /// Register a customer and log in.
    pub async fn customer(&self, email: &str) -> Tokens {
        self.register(email).await;
        self.tokens(email, PASSWORD).await
    }

    /// The configured admin's tokens.
    pub async fn admin(&self) -> Tokens {
        self.tokens(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }
}

/// An access and a refresh token.
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

/// Assert `r` is a problem with `status`; return its body.
pub async fn problem(r: Response, status: u16) -> Value {
    assert_eq!(r.status(), status);
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = r.json().await.expect("problem json");
    assert_eq!(body["status"], status);
    assert!(body["request_id"].is_string(), "{body}");
    body
}

/// Fail if `value` contains anything that looks like a password or token hash.
pub fn assert_no_secrets(value: &Value) {
    let text = value.to_string();
    assert!(!text.contains("$argon2"), "hash leaked: {text}");
    assert!(!text.contains("password_hash"), "hash field leaked: {text}");
    assert!(!text.contains("token_hash"), "token hash leaked: {text}");
}

impl TestApp {
    /// DELETE with a bearer token.
    pub async fn delete_as(&self, path: &str, token: &str) -> Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("DELETE")
    }

    /// Deactivate user `id` as `admin` (`PATCH {"is_active": false}`);
    /// the status.
    pub async fn deactivate(&self, id: &str, admin: &Tokens) -> u16 {
        self.patch_as(
            &format!("/{id}"),
            &admin.access,
            &serde_json::json!({"is_active": false}),
        )
        .await
        .status()
        .as_u16()
    }

    /// PATCH a JSON body with a bearer token.
    pub async fn patch_as(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("PATCH")
    }

    /// PUT a JSON body with a bearer token.
    pub async fn put_as(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client
            .put(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("PUT")
    }

    /// Log in as if the gateway had seen the client at `ip`.
    pub async fn login_from(&self, ip: &str, email: &str, password: &str) -> Response {
        self.client
            .post(self.url("/auth/login"))
            .header("x-real-ip", ip)
            .header("x-forwarded-for", ip)
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("POST")
    }

    /// POST `{refresh_token}` to `path`.
    pub async fn post_refresh(&self, path: &str, refresh: &str) -> Response {
        self.post_json(path, &json!({ "refresh_token": refresh }))
            .await
    }

    /// Refresh with `refresh` (must succeed); returns the new refresh token.
    pub async fn rotate(&self, refresh: &str) -> String {
        let r = self.post_refresh("/auth/refresh", refresh).await;
        assert_eq!(r.status(), 200, "refresh");
        let body: Value = r.json().await.expect("json");
        body["refresh_token"].as_str().expect("refresh").to_string()
    }

    /// The id of the user with `email` (via the admin list).
    pub async fn id_of(&self, admin: &Tokens, email: &str) -> String {
        let page: Value = self
            .get_as(&format!("/?q={email}"), &admin.access)
            .await
            .json()
            .await
            .expect("json");
        page["items"][0]["id"].as_str().expect("id").to_string()
    }
}
