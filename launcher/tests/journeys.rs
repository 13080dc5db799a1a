//! User journeys through the gateway, with real tokens from the users
//! service verified by the products service through the users JWKS.

mod support;

use serde_json::{Value, json};
use support::{ADMIN_EMAIL, ADMIN_PASSWORD, TestSystem, spawn_system};

async fn post_json(
    app: &TestSystem,
    path: &str,
    body: Value,
    token: Option<&str>,
) -> reqwest::Response {
    let mut req = app.client.post(app.url(path)).json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.expect("request")
}

async fn login(app: &TestSystem, email: &str, password: &str) -> String {
    let res = post_json(
        app,
        "/users/auth/login",
        json!({"email": email, "password": password}),
        None,
    )
    .await;
    assert_eq!(res.status(), 200, "login {email}");
    let body: Value = res.json().await.expect("json");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

async fn register(app: &TestSystem, email: &str) -> String {
    let res = post_json(
        app,
        "/users/auth/register",
        json!({"email": email, "password": "correct horse battery"}),
        None,
    )
    .await;
    assert_eq!(res.status(), 201, "register {email}");
    login(app, email, "correct horse battery").await
}

fn kettle() -> Value {
    json!({"title": "Blue Widget X", "price": "19.99", "stock_qty": 3, "category": "widgets"})
}

common::backend_tests! {
    async fn a_customer_registers_logs_in_and_reads_their_profile(db) {
        let app = spawn_system(db).await;
        let token = register(&app, "Ada@Example.com").await;
        let res = app.client.get(app.url("/users/me")).bearer_auth(&token).send().await.expect("me");
        assert_eq!(res.status(), 200);
        let me: Value = res.json().await.expect("json");
        assert_eq!(me["email"], "ada@example.com");
        assert_eq!(me["role"], "customer");
        assert!(me.get("password_hash").is_none());
    }

    async fn registration_refuses_a_role_through_the_gateway(db) {
        let app = spawn_system(db).await;
        let res = post_json(
            &app,
            "/users/auth/register",
            json!({"email": "eve@example.com", "password": "correct horse battery", "role": "admin"}),
            None,
        )
        .await;
        assert_eq!(res.status(), 422);
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["errors"][0]["field"], "role");
        assert!(body["request_id"].is_string());
    }

    async fn swagger_ui_and_openapi_work_under_the_gateway_prefixes(db) {
        let app = spawn_system(db).await;
        for service in ["users", "products"] {
            let res = app.client.get(app.url(&format!("/{service}/docs/"))).send().await.expect("docs");
            assert_eq!(res.status(), 200, "{service} docs");
            let html = res.text().await.expect("html");
            assert!(html.to_lowercase().contains("swagger"), "{service} docs page");
            let res = app.client.get(app.url(&format!("/{service}/openapi.json"))).send().await.expect("spec");
            assert_eq!(res.status(), 200);
            let spec: Value = res.json().await.expect("json");
            assert_eq!(spec["servers"][0]["url"], format!("/{service}"), "{service} server URL");
        }
    }

    async fn the_admin_creates_a_product_with_a_token_from_users(db) {
        let app = spawn_system(db).await;
        let token = login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let res = post_json(&app, "/products/", kettle(), Some(&token)).await;
        assert_eq!(res.status(), 201);
        let location = res.headers()["location"].to_str().expect("ascii").to_string();
        let product: Value = res.json().await.expect("json");
        assert_eq!(location, format!("/products/{}", product["id"]));
        assert_eq!(product["slug"], "blue-widget-x");
        assert_eq!(product["price"], "19.99");
        let res = app.client.get(app.url(&location)).send().await.expect("read back");
        assert_eq!(res.status(), 200);
        assert!(res.headers().contains_key("etag"));
    }

    async fn a_customer_token_cannot_change_the_catalogue(db) {
        let app = spawn_system(db).await;
        let token = register(&app, "shopper@example.com").await;
        let res = post_json(&app, "/products/", kettle(), Some(&token)).await;
        assert_eq!(res.status(), 403);
        let res = app.client.get(app.url("/products/?q=Widget")).send().await.expect("list");
        let list: Value = res.json().await.expect("json");
        assert_eq!(list["total"], 0);
    }

    async fn anonymous_and_forged_tokens_are_refused_by_products(db) {
        let app = spawn_system(db).await;
        let res = post_json(&app, "/products/", kettle(), None).await;
        assert_eq!(res.status(), 401);
        assert!(res.headers()["www-authenticate"].to_str().expect("ascii").starts_with("Bearer"));
        let token = login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let mut forged = token.clone();
        // Flip one character of the signature.
        let last = forged.pop().expect("non-empty");
        forged.push(if last == 'A' { 'B' } else { 'A' });
        let res = post_json(&app, "/products/", kettle(), Some(&forged)).await;
        assert_eq!(res.status(), 401);
    }

    async fn stock_changes_through_the_gateway_never_oversell(db) {
        let app = spawn_system(db).await;
        let token = login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let product: Value = post_json(&app, "/products/", kettle(), Some(&token))
            .await
            .json()
            .await
            .expect("json");
        let path = format!("/products/{}/stock", product["id"]);
        let res = post_json(&app, &path, json!({"delta": -2}), Some(&token)).await;
        assert_eq!(res.status(), 200);
        let after: Value = res.json().await.expect("json");
        assert_eq!(after["stock_qty"], 1);
        let res = post_json(&app, &path, json!({"delta": -2}), Some(&token)).await;
        assert_eq!(res.status(), 409);
        let res = app.client.get(app.url(&format!("/products/{}", product["id"]))).send().await.expect("read");
        let now: Value = res.json().await.expect("json");
        assert_eq!(now["stock_qty"], 1);
    }
}
