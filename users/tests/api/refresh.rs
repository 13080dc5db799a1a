use serde_json::{Value, json};

use crate::helpers::*;

common::backend_tests! {
    async fn refresh_returns_a_new_working_pair(db) {
        let app = spawn_app(&db).await;
        let tokens = app.customer("ada@example.com").await;
        let r = app.post_refresh("/auth/refresh", &tokens.refresh).await;
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["token_type"], "bearer");
        let new_refresh = body["refresh_token"].as_str().expect("refresh");
        assert_ne!(new_refresh, tokens.refresh);
        let access = body["access_token"].as_str().expect("access");
        assert_eq!(app.get_as("/me", access).await.status(), 200);
        assert_eq!(app.post_refresh("/auth/refresh", new_refresh).await.status(), 200);
    }

    async fn a_rotated_refresh_token_is_refused(db) {
        let app = spawn_app(&db).await;
        let tokens = app.customer("ada@example.com").await;
        assert_eq!(app.post_refresh("/auth/refresh", &tokens.refresh).await.status(), 200);
        let r = app.post_refresh("/auth/refresh", &tokens.refresh).await;
        assert_eq!(r.headers()["www-authenticate"], "Bearer error=\"invalid_token\"");
        problem(r, 401).await;
    }

    async fn reusing_a_rotated_token_revokes_the_whole_family(db) {
        let app = spawn_app(&db).await;
        let tokens = app.customer("ada@example.com").await;
        let newest = app.rotate(&tokens.refresh).await;
        // The stolen old token is replayed...
        problem(app.post_refresh("/auth/refresh", &tokens.refresh).await, 401).await;
        // ...so the legitimate newest token of that family is dead too.
        problem(app.post_refresh("/auth/refresh", &newest).await, 401).await;
    }

    async fn reuse_does_not_touch_other_sessions(db) {
        let app = spawn_app(&db).await;
        let first = app.customer("ada@example.com").await;
        let second = app.tokens("ada@example.com", PASSWORD).await;
        app.post_refresh("/auth/refresh", &first.refresh).await;
        app.post_refresh("/auth/refresh", &first.refresh).await;
        assert_eq!(app.post_refresh("/auth/refresh", &second.refresh).await.status(), 200);
    }

    async fn concurrent_refreshes_of_one_token_let_exactly_one_win(db) {
        let app = spawn_app(&db).await;
        let tokens = app.customer("ada@example.com").await;
        let (a, b) = tokio::join!(
            app.post_refresh("/auth/refresh", &tokens.refresh),
            app.post_refresh("/auth/refresh", &tokens.refresh)
        );
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 401]);
    }

    async fn an_unknown_refresh_token_is_refused(db) {
        let app = spawn_app(&db).await;
        problem(app.post_refresh("/auth/refresh", "not-a-token").await, 401).await;
    }

    async fn an_expired_refresh_token_is_refused(db) {
        let app = spawn_app_with(&db, &[("REFRESH_TOKEN_TTL", "1s")]).await;
        let tokens = app.customer("ada@example.com").await;
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        problem(app.post_refresh("/auth/refresh", &tokens.refresh).await, 401).await;
    }

    async fn refresh_refuses_unknown_fields(db) {
        let app = spawn_app(&db).await;
        let r = app
            .post_json("/auth/refresh", &json!({"refresh_token": "x", "user_id": "y"}))
            .await;
        let body = problem(r, 422).await;
        assert_eq!(body["errors"][0]["field"], "user_id");
    }

    async fn refresh_refuses_a_missing_token(db) {
        let app = spawn_app(&db).await;
        let body = problem(app.post_json("/auth/refresh", &json!({})).await, 422).await;
        assert_eq!(body["errors"][0]["field"], "refresh_token");
    }

    async fn deactivated_user_cannot_refresh(db) {
        let app = spawn_app(&db).await;
        let tokens = app.customer("ada@example.com").await;
        let admin = app.admin().await;
        let id = app.id_of(&admin, "ada@example.com").await;
        assert_eq!(app.deactivate(&id, &admin).await, 200);
        let body = problem(app.post_refresh("/auth/refresh", &tokens.refresh).await, 403).await;
        assert!(body["detail"].as_str().expect("detail").contains("deactivated"));
    }

    async fn reactivation_does_not_revive_revoked_refresh_tokens(db) {
        let app = spawn_app(&db).await;
        let tokens = app.customer("ada@example.com").await;
        let admin = app.admin().await;
        let id = app.id_of(&admin, "ada@example.com").await;
        app.patch_as(&format!("/{id}"), &admin.access, &json!({"is_active": false})).await;
        app.patch_as(&format!("/{id}"), &admin.access, &json!({"is_active": true})).await;
        problem(app.post_refresh("/auth/refresh", &tokens.refresh).await, 401).await;
        assert_eq!(app.login("ada@example.com", PASSWORD).await.status(), 200);
    }

    async fn a_refresh_after_the_family_lifetime_is_refused(db) {
        let app = spawn_app_with(&db, &[("REFRESH_FAMILY_LIFETIME", "2s")]).await;
        let tokens = app.customer("ada@example.com").await;
        let rotated = app.rotate(&tokens.refresh).await;
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        // Rotation renewed the token, not the family: the session is over.
        let r = app.post_refresh("/auth/refresh", &rotated).await;
        let body = problem(r, 401).await;
        assert_eq!(body["detail"], "the refresh token is invalid or has expired");
        // Signing in again starts a new family.
        let fresh = app.tokens("ada@example.com", PASSWORD).await;
        assert_eq!(app.post_refresh("/auth/refresh", &fresh.refresh).await.status(), 200);
    }
}
