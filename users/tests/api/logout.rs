use serde_json::json;

use crate::helpers::*;

common::backend_tests! {
    async fn logout_revokes_the_refresh_token(db) {
        let app = spawn_app(&db).await;
        let tokens = app.customer("ada@example.com").await;
        let r = app.post_refresh("/auth/logout", &tokens.refresh).await;
        assert_eq!(r.status(), 204);
        problem(app.post_refresh("/auth/refresh", &tokens.refresh).await, 401).await;
    }

    async fn logout_leaves_other_sessions_alone(db) {
        let app = spawn_app(&db).await;
        let first = app.customer("ada@example.com").await;
        let second = app.tokens("ada@example.com", PASSWORD).await;
        app.post_refresh("/auth/logout", &first.refresh).await;
        assert_eq!(app.post_refresh("/auth/refresh", &second.refresh).await.status(), 200);
    }

    async fn logout_of_an_unknown_token_answers_204(db) {
        let app = spawn_app(&db).await;
        assert_eq!(app.post_refresh("/auth/logout", "never-issued").await.status(), 204);
    }

    async fn logout_refuses_a_missing_token(db) {
        let app = spawn_app(&db).await;
        let body = problem(app.post_json("/auth/logout", &json!({})).await, 422).await;
        assert_eq!(body["errors"][0]["field"], "refresh_token");
    }

    async fn logout_refuses_a_body_that_is_not_json(db) {
        let app = spawn_app(&db).await;
        let r = app
            .client
            .post(app.url("/auth/logout"))
            .form(&[("refresh_token", "x")])
            .send()
            .await
            .expect("POST");
        problem(r, 415).await;
    }
}
