use crate::helpers::*;

common::backend_tests! {
    async fn health_answers_ok(db) {
        let app = spawn_app(&db).await;
        let r = app.get("/health").await;
        assert_eq!(r.status(), 200);
    }

    async fn ready_answers_when_the_database_is_reachable(db) {
        let app = spawn_app(&db).await;
        let r = app.get("/ready").await;
        assert_eq!(r.status(), 200);
        let body: serde_json::Value = r.json().await.expect("json");
        assert_eq!(body["status"], "ready");
    }

    async fn unknown_paths_are_404_problems(db) {
        let app = spawn_app(&db).await;
        problem(app.get("/no/such/path").await, 404).await;
    }
}
