use crate::helpers::*;

common::backend_tests! {
    async fn health_answers_ok(db) {
        let app = spawn_app(db).await;
        let response = app.get("/health").await;
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["status"], "ok");
    }

    async fn ready_answers_when_the_database_does(db) {
        let app = spawn_app(db).await;
        let response = app.get("/ready").await;
        assert_eq!(response.status(), 200);
    }

    async fn unknown_paths_are_problem_404s(db) {
        let app = spawn_app(db).await;
        problem(app.get("/no/such/thing").await, 404).await;
    }
}
