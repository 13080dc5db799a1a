//! The metrics listener: every users metric from start, and the sign-in,
//! registration and refresh counters moving with the requests.

use common::testing::metric_value;
use serde_json::json;

use crate::helpers::*;

fn value(text: &str, series: &str) -> f64 {
    metric_value(text, series).unwrap_or_else(|| panic!("{series} in\n{text}"))
}

common::backend_tests! {
    async fn every_users_metric_is_served_from_start(db) {
        let app = spawn_app(&db).await;
        let text = app.metrics().await;
        for series in [
            "users_logins_total{outcome=\"ok\"}",
            "users_logins_total{outcome=\"bad_credentials\"}",
            "users_logins_total{outcome=\"throttled\"}",
            "users_logins_total{outcome=\"deactivated\"}",
            "users_registrations_total{outcome=\"created\"}",
            "users_registrations_total{outcome=\"email_taken\"}",
            "users_registrations_total{outcome=\"throttled\"}",
            "users_refresh_rotations_total",
            "users_refresh_reuse_detections_total",
            "http_requests_in_flight",
            "db_query_duration_seconds_count{operation=\"delete\",outcome=\"error\"}",
        ] {
            assert_eq!(metric_value(&text, series), Some(0.0), "{series} in\n{text}");
        }
        // Start-up hashed the configured admin's password: the histograms exist.
        assert!(metric_value(&text, "users_argon2_queue_wait_seconds_count{operation=\"hash\"}").is_some(), "{text}");
        assert!(metric_value(&text, "users_argon2_duration_seconds_count{operation=\"verify\"}").is_some(), "{text}");
        assert_eq!(value(&text, "db_pool_connections_max"), 5.0);
    }

    async fn sign_ins_are_counted_by_outcome(db) {
        let app = spawn_app_with(&db, &[("LOGIN_MAX_FAILURES_PER_EMAIL", "2")]).await;
        app.register("ada@example.com").await;
        app.register("bob@example.com").await;
        assert_eq!(app.login("ada@example.com", PASSWORD).await.status(), 200);
        assert_eq!(app.login("ada@example.com", "wrong password").await.status(), 401);
        assert_eq!(app.login("nobody@example.com", "wrong password").await.status(), 401);
        assert_eq!(app.login("ada@example.com", "wrong password").await.status(), 401);
        assert_eq!(app.login("ada@example.com", PASSWORD).await.status(), 429);
        let admin = app.admin().await;
        let bob = app.id_of(&admin, "bob@example.com").await;
        assert_eq!(app.deactivate(&bob, &admin).await, 200);
        assert_eq!(app.login("bob@example.com", PASSWORD).await.status(), 403);
        let text = app.metrics().await;
        // ada once, the admin once.
        assert_eq!(value(&text, "users_logins_total{outcome=\"ok\"}"), 2.0);
        assert_eq!(value(&text, "users_logins_total{outcome=\"bad_credentials\"}"), 3.0);
        assert_eq!(value(&text, "users_logins_total{outcome=\"throttled\"}"), 1.0);
        assert_eq!(value(&text, "users_logins_total{outcome=\"deactivated\"}"), 1.0);
        assert!(value(&text, "users_argon2_duration_seconds_count{operation=\"verify\"}") >= 5.0);
        assert_eq!(value(&text, "http_requests_total{route=\"/auth/login\",method=\"POST\",status=\"429\"}"), 1.0);
    }

    async fn registrations_are_counted_by_outcome(db) {
        let app = spawn_app_with(&db, &[("REGISTER_MAX_PER_IP_PER_HOUR", "2")]).await;
        app.register("ada@example.com").await;
        let again = app.post_json("/auth/register", &json!({"email": "ada@example.com", "password": PASSWORD})).await;
        assert_eq!(again.status(), 409);
        let third = app.post_json("/auth/register", &json!({"email": "eve@example.com", "password": PASSWORD})).await;
        assert_eq!(third.status(), 429);
        let text = app.metrics().await;
        assert_eq!(value(&text, "users_registrations_total{outcome=\"created\"}"), 1.0);
        assert_eq!(value(&text, "users_registrations_total{outcome=\"email_taken\"}"), 1.0);
        assert_eq!(value(&text, "users_registrations_total{outcome=\"throttled\"}"), 1.0);
    }

    async fn refresh_rotations_and_reuse_are_counted(db) {
        let app = spawn_app(&db).await;
        let tokens = app.customer("ada@example.com").await;
        app.rotate(&tokens.refresh).await;
        assert_eq!(app.post_refresh("/auth/refresh", &tokens.refresh).await.status(), 401);
        let text = app.metrics().await;
        assert_eq!(value(&text, "users_refresh_rotations_total"), 1.0);
        assert_eq!(value(&text, "users_refresh_reuse_detections_total"), 1.0);
    }
}
