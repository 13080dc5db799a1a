//! `DELETE /{id}`.

use serde_json::json;

use crate::helpers::*;

async fn delete(app: &TestApp, id: i64, role: Option<&str>) -> reqwest::Response {
    app.request(reqwest::Method::DELETE, &format!("/{id}"), role)
        .send()
        .await
        .expect("request")
}

common::backend_tests! {
    async fn delete_is_204_and_the_product_is_gone(db) {
        let app = spawn_app(db).await;
        let id = id_of(&app.create(json!({"title": "Doomed"})).await);
        let response = delete(&app, id, Some("admin")).await;
        assert_eq!(response.status(), 204);
        problem(app.get(&format!("/{id}")).await, 404).await;
    }

    async fn deleting_a_missing_product_is_404(db) {
        let app = spawn_app(db).await;
        problem(delete(&app, 31337, Some("staff")).await, 404).await;
    }

    async fn anonymous_delete_is_401(db) {
        let app = spawn_app(db).await;
        let id = id_of(&app.create(json!({"title": "Kept"})).await);
        problem(delete(&app, id, None).await, 401).await;
        app.get_json(&format!("/{id}")).await;
    }

    async fn customers_may_not_delete(db) {
        let app = spawn_app(db).await;
        let id = id_of(&app.create(json!({"title": "Kept"})).await);
        problem(delete(&app, id, Some("customer")).await, 403).await;
        app.get_json(&format!("/{id}")).await;
    }

    async fn delete_with_a_stale_if_match_is_412(db) {
        let app = spawn_app(db).await;
        let id = id_of(&app.create(json!({"title": "Kept"})).await);
        let response = app
            .request(reqwest::Method::DELETE, &format!("/{id}"), Some("staff"))
            .header("If-Match", format!("\"{id}-0\""))
            .send()
            .await
            .expect("request");
        problem(response, 412).await;
        app.get_json(&format!("/{id}")).await;
    }
}
