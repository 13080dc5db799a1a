use serde_json::{Value, json};

use crate::helpers::*;

common::backend_tests! {
    async fn register_creates_a_customer(db) {
        let app = spawn_app(&db).await;
        let r = app
            .post_json(
                "/auth/register",
                &json!({"email": "Ada@Example.com", "password": PASSWORD, "first_name": "Ada", "last_name": "Lovelace"}),
            )
            .await;
        assert_eq!(r.status(), 201);
        let location = r.headers()["location"].to_str().expect("location").to_string();
        let user: Value = r.json().await.expect("json");
        assert_eq!(user["email"], "ada@example.com");
        assert_eq!(user["role"], "customer");
        assert_eq!(user["is_active"], true);
        assert_eq!(user["first_name"], "Ada");
        assert_eq!(user["last_name"], "Lovelace");
        assert!(user["avatar_url"].is_null());
        assert!(user["created_at"].is_string() && user["updated_at"].is_string());
        assert_eq!(location, format!("/{}", user["id"].as_str().expect("id")));
        assert_no_secrets(&user);
    }

    async fn register_location_honours_the_forwarded_prefix(db) {
        let app = spawn_app(&db).await;
        let r = app
            .client
            .post(app.url("/auth/register"))
            .header("x-forwarded-prefix", "/users")
            .json(&json!({"email": "p@example.com", "password": PASSWORD}))
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), 201);
        assert!(r.headers()["location"].to_str().expect("location").starts_with("/users/"));
    }

    async fn registered_user_can_log_in(db) {
        let app = spawn_app(&db).await;
        app.register("ada@example.com").await;
        assert_eq!(app.login("ada@example.com", PASSWORD).await.status(), 200);
    }

    async fn register_refuses_an_email_taken_in_another_case(db) {
        let app = spawn_app(&db).await;
        app.register("ada@example.com").await;
        let r = app
            .post_json("/auth/register", &json!({"email": "ADA@example.COM", "password": PASSWORD}))
            .await;
        let body = problem(r, 409).await;
        assert!(body["detail"].as_str().expect("detail").contains("already exists"));
    }

    async fn register_refuses_a_role_field(db) {
        let app = spawn_app(&db).await;
        let r = app
            .post_json(
                "/auth/register",
                &json!({"email": "eve@example.com", "password": PASSWORD, "role": "admin"}),
            )
            .await;
        let body = problem(r, 422).await;
        assert_eq!(body["errors"][0]["field"], "role");
        // Nothing was created.
        assert_eq!(app.login("eve@example.com", PASSWORD).await.status(), 401);
    }

    async fn register_refuses_a_short_password(db) {
        let app = spawn_app(&db).await;
        let r = app
            .post_json("/auth/register", &json!({"email": "a@example.com", "password": "1234567"}))
            .await;
        let body = problem(r, 422).await;
        assert_eq!(body["errors"][0]["field"], "password");
    }

    async fn register_refuses_an_overlong_password(db) {
        let app = spawn_app(&db).await;
        let r = app
            .post_json(
                "/auth/register",
                &json!({"email": "a@example.com", "password": "x".repeat(129)}),
            )
            .await;
        let body = problem(r, 422).await;
        assert_eq!(body["errors"][0]["field"], "password");
    }

    async fn register_accepts_a_128_character_password(db) {
        let app = spawn_app(&db).await;
        let password = "x".repeat(128);
        let r = app
            .post_json("/auth/register", &json!({"email": "a@example.com", "password": password}))
            .await;
        assert_eq!(r.status(), 201);
        assert_eq!(app.login("a@example.com", &password).await.status(), 200);
    }

    async fn register_refuses_a_malformed_email(db) {
        let app = spawn_app(&db).await;
        let r = app
            .post_json("/auth/register", &json!({"email": "not-an-email", "password": PASSWORD}))
            .await;
        let body = problem(r, 422).await;
        assert_eq!(body["errors"][0]["field"], "email");
    }

    async fn register_lists_every_invalid_field(db) {
        let app = spawn_app(&db).await;
        let r = app
            .post_json("/auth/register", &json!({"email": "nope", "password": "short"}))
            .await;
        let body = problem(r, 422).await;
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert_eq!(fields, ["email", "password"]);
    }

    async fn register_refuses_a_missing_password(db) {
        let app = spawn_app(&db).await;
        let r = app.post_json("/auth/register", &json!({"email": "a@example.com"})).await;
        let body = problem(r, 422).await;
        assert_eq!(body["errors"][0]["field"], "password");
    }

    async fn register_refuses_a_body_that_is_not_json(db) {
        let app = spawn_app(&db).await;
        let r = app
            .client
            .post(app.url("/auth/register"))
            .header("content-type", "text/plain")
            .body("email=a@example.com")
            .send()
            .await
            .expect("POST");
        problem(r, 415).await;
    }

    async fn register_refuses_malformed_json(db) {
        let app = spawn_app(&db).await;
        let r = app
            .client
            .post(app.url("/auth/register"))
            .header("content-type", "application/json")
            .body("{\"email\":")
            .send()
            .await
            .expect("POST");
        problem(r, 400).await;
    }
}
