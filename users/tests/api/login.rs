use serde_json::{Value, json};

use crate::helpers::*;

common::backend_tests! {
    async fn login_returns_a_bearer_token_pair(db) {
        let app = spawn_app(&db).await;
        app.register("ada@example.com").await;
        let r = app.login("ada@example.com", PASSWORD).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["token_type"], "bearer");
        assert_eq!(body["expires_in"], 900);
        assert!(body["access_token"].as_str().expect("access").split('.').count() == 3);
        assert!(body["refresh_token"].as_str().expect("refresh").len() >= 32);
    }

    async fn login_accepts_any_case_of_the_email(db) {
        let app = spawn_app(&db).await;
        app.register("ada@example.com").await;
        assert_eq!(app.login("ADA@Example.com", PASSWORD).await.status(), 200);
    }

    async fn login_accepts_the_oauth2_password_form(db) {
        let app = spawn_app(&db).await;
        app.register("ada@example.com").await;
        let r = app
            .client
            .post(app.url("/auth/login"))
            .form(&[("grant_type", "password"), ("username", "ada@example.com"), ("password", PASSWORD)])
            .send()
            .await
            .expect("POST");
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["token_type"], "bearer");
    }

    async fn login_form_refuses_another_grant_type(db) {
        let app = spawn_app(&db).await;
        let r = app
            .client
            .post(app.url("/auth/login"))
            .form(&[("grant_type", "client_credentials"), ("username", "a@example.com"), ("password", PASSWORD)])
            .send()
            .await
            .expect("POST");
        let body = problem(r, 422).await;
        assert_eq!(body["errors"][0]["field"], "grant_type");
    }

    async fn wrong_password_and_unknown_email_get_the_same_401(db) {
        let app = spawn_app(&db).await;
        app.register("ada@example.com").await;
        let wrong_password = app.login("ada@example.com", "not the password").await;
        assert_eq!(wrong_password.headers()["www-authenticate"], "Bearer");
        let mut a = problem(wrong_password, 401).await;
        let unknown_email = app.login("nobody@example.com", PASSWORD).await;
        assert_eq!(unknown_email.headers()["www-authenticate"], "Bearer");
        let mut b = problem(unknown_email, 401).await;
        for body in [&mut a, &mut b] {
            body.as_object_mut().expect("object").remove("request_id");
        }
        assert_eq!(a, b);
    }

    async fn login_refuses_a_body_in_another_format(db) {
        let app = spawn_app(&db).await;
        let r = app
            .client
            .post(app.url("/auth/login"))
            .header("content-type", "text/plain")
            .body("ada")
            .send()
            .await
            .expect("POST");
        problem(r, 415).await;
    }

    async fn login_refuses_unknown_fields(db) {
        let app = spawn_app(&db).await;
        let r = app
            .post_json("/auth/login", &json!({"email": "a@example.com", "password": PASSWORD, "remember": true}))
            .await;
        let body = problem(r, 422).await;
        assert_eq!(body["errors"][0]["field"], "remember");
    }

    async fn login_refuses_a_malformed_email(db) {
        let app = spawn_app(&db).await;
        let body = problem(app.login("not-an-email", PASSWORD).await, 422).await;
        assert_eq!(body["errors"][0]["field"], "email");
    }

    async fn deactivated_user_cannot_log_in(db) {
        let app = spawn_app(&db).await;
        let user = app.register("ada@example.com").await;
        let admin = app.admin().await;
        assert_eq!(app.deactivate(user["id"].as_str().expect("id"), &admin).await, 200);
        let body = problem(app.login("ada@example.com", PASSWORD).await, 403).await;
        assert!(body["detail"].as_str().expect("detail").contains("deactivated"));
    }

    async fn configured_admin_can_log_in_as_admin(db) {
        let app = spawn_app(&db).await;
        let tokens = app.admin().await;
        let me: Value = app.get_as("/me", &tokens.access).await.json().await.expect("json");
        assert_eq!(me["role"], "admin");
        assert_eq!(me["email"], ADMIN_EMAIL);
    }
}
