use serde_json::json;

use crate::helpers::*;

const NEW_PASSWORD: &str = "a brand new password";

common::backend_tests! {
    async fn password_change_takes_effect(db) {
        let app = spawn_app(&db).await;
        let tokens = app.customer("ada@example.com").await;
        let r = app
            .put_as("/me/password", &tokens.access, &json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}))
            .await;
        assert_eq!(r.status(), 204);
        assert_eq!(app.login("ada@example.com", NEW_PASSWORD).await.status(), 200);
        assert_eq!(app.login("ada@example.com", PASSWORD).await.status(), 401);
    }

    async fn password_change_revokes_every_refresh_token(db) {
        let app = spawn_app(&db).await;
        let first = app.customer("ada@example.com").await;
        let second = app.tokens("ada@example.com", PASSWORD).await;
        app.put_as("/me/password", &first.access, &json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}))
            .await;
        problem(app.post_refresh("/auth/refresh", &first.refresh).await, 401).await;
        problem(app.post_refresh("/auth/refresh", &second.refresh).await, 401).await;
    }

    async fn password_change_with_a_wrong_current_password_is_403(db) {
        let app = spawn_app(&db).await;
        let tokens = app.customer("ada@example.com").await;
        let r = app
            .put_as("/me/password", &tokens.access, &json!({"current_password": "not it at all", "new_password": NEW_PASSWORD}))
            .await;
        problem(r, 403).await;
        assert_eq!(app.login("ada@example.com", PASSWORD).await.status(), 200);
        assert_eq!(app.post_refresh("/auth/refresh", &tokens.refresh).await.status(), 200);
    }

    async fn password_change_refuses_a_weak_new_password(db) {
        let app = spawn_app(&db).await;
        let tokens = app.customer("ada@example.com").await;
        let r = app
            .put_as("/me/password", &tokens.access, &json!({"current_password": PASSWORD, "new_password": "short"}))
            .await;
        let body = problem(r, 422).await;
        assert_eq!(body["errors"][0]["field"], "new_password");
        assert_eq!(app.login("ada@example.com", PASSWORD).await.status(), 200);
    }

    async fn password_change_refuses_unknown_fields(db) {
        let app = spawn_app(&db).await;
        let tokens = app.customer("ada@example.com").await;
        let r = app
            .put_as("/me/password", &tokens.access, &json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}))
            .await;
        problem(r, 422).await;
    }

    async fn password_change_needs_sign_in(db) {
        let app = spawn_app(&db).await;
        let r = app
            .client
            .put(app.url("/me/password"))
            .json(&json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}))
            .send()
            .await
            .expect("PUT");
        problem(r, 401).await;
    }

    async fn repeated_wrong_current_passwords_are_throttled(db) {
        let app = spawn_app(&db).await;
        let tokens = app.customer("ada@example.com").await;
        let wrong = json!({"current_password": "not it at all", "new_password": NEW_PASSWORD});
        for _ in 0..5 {
            problem(app.put_as("/me/password", &tokens.access, &wrong).await, 403).await;
        }
        let r = app.put_as("/me/password", &tokens.access, &wrong).await;
        assert!(r.headers().contains_key("retry-after"));
        problem(r, 429).await;
    }
}
