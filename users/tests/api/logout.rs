use serde_json::json;

use crate::helpers::*;

/// Rows in `refresh_tokens`, read straight from the database.
async fn refresh_token_rows(db: &common::testing::TestDb) -> i64 {
    use sea_orm::ConnectionTrait;
    let conn = common::db::connect(&db.settings()).await.expect("database");
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT COUNT(*) AS n FROM refresh_tokens",
        ))
        .await
        .expect("count")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("n")
}

common::backend_tests! {
    async fn the_rows_of_a_logged_out_session_are_purged_by_the_running_service(db) {
        let app = spawn_app_with(&db, &[("REFRESH_TOKEN_PURGE_INTERVAL", "1s")]).await;
        let ended = app.customer("ada@example.com").await;
        let kept = app.tokens("ada@example.com", PASSWORD).await;
        app.rotate(&ended.refresh).await;
        assert_eq!(refresh_token_rows(&db).await, 3);
        assert_eq!(app.post_refresh("/auth/logout", &ended.refresh).await.status(), 204);
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        // The logged-out family's two rows are gone; the live session's stays.
        assert_eq!(refresh_token_rows(&db).await, 1);
        assert_eq!(app.post_refresh("/auth/refresh", &kept.refresh).await.status(), 200);
    }

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
