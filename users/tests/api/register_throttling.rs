//! Registration is limited per client address (`REGISTER_MAX_PER_IP_PER_HOUR`).

use reqwest::Response;
use serde_json::json;

use crate::helpers::*;
use crate::throttling::retry_after_seconds;

/// Register `email` as if the gateway had seen the client at `ip`.
async fn register_from(app: &TestApp, ip: &str, email: &str) -> Response {
    app.client
        .post(app.url("/auth/register"))
        .header("x-real-ip", ip)
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .expect("POST")
}

common::backend_tests! {
    async fn the_eleventh_registration_in_an_hour_from_one_client_is_refused(db) {
        let app = spawn_app(&db).await;
        for i in 0..10 {
            let r = register_from(&app, "203.0.113.7", &format!("u{i}@example.com")).await;
            assert_eq!(r.status(), 201, "registration {i}");
        }
        let r = register_from(&app, "203.0.113.7", "eleventh@example.com").await;
        let retry_after = retry_after_seconds(&r);
        assert!(retry_after > 0 && retry_after <= 3600, "{retry_after}");
        problem(r, 429).await;
        // No account was created.
        assert_eq!(app.login("eleventh@example.com", PASSWORD).await.status(), 401);
        // Another client may still register.
        assert_eq!(register_from(&app, "203.0.113.8", "other@example.com").await.status(), 201);
    }

    async fn a_taken_email_counts_against_the_registration_limit(db) {
        let app = spawn_app_with(&db, &[("REGISTER_MAX_PER_IP_PER_HOUR", "2")]).await;
        assert_eq!(register_from(&app, "203.0.113.7", "ada@example.com").await.status(), 201);
        problem(register_from(&app, "203.0.113.7", "ada@example.com").await, 409).await;
        problem(register_from(&app, "203.0.113.7", "bob@example.com").await, 429).await;
        assert_eq!(app.login("bob@example.com", PASSWORD).await.status(), 401);
    }

    async fn invalid_registrations_do_not_count(db) {
        let app = spawn_app_with(&db, &[("REGISTER_MAX_PER_IP_PER_HOUR", "1")]).await;
        let r = app
            .client
            .post(app.url("/auth/register"))
            .header("x-real-ip", "203.0.113.7")
            .json(&json!({"email": "not an email", "password": PASSWORD}))
            .send()
            .await
            .expect("POST");
        problem(r, 422).await;
        assert_eq!(register_from(&app, "203.0.113.7", "ada@example.com").await.status(), 201);
    }
}
