//! `GET /{id}` and `GET /slug/{slug}`.

use serde_json::json;

use crate::helpers::*;

common::backend_tests! {
    async fn a_product_is_read_by_id_with_an_etag(db) {
        let app = spawn_app(db).await;
        let created = app.create(json!({"title": "Lamp", "price": "30.5"})).await;
        let response = app.get(&format!("/{}", id_of(&created))).await;
        assert_eq!(response.status(), 200);
        assert!(response.headers().contains_key("etag"));
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body, created);
        assert_eq!(body["price"], "30.50");
    }

    async fn a_product_is_read_by_slug(db) {
        let app = spawn_app(db).await;
        let created = app.create(json!({"title": "Desk Lamp"})).await;
        let response = app.get("/slug/desk-lamp").await;
        assert_eq!(response.status(), 200);
        assert!(response.headers().contains_key("etag"));
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["id"], created["id"]);
    }

    async fn a_missing_id_is_404(db) {
        let app = spawn_app(db).await;
        let body = problem(app.get("/999").await, 404).await;
        assert_eq!(body["detail"], "no product with id 999");
    }

    async fn a_non_numeric_id_is_404(db) {
        let app = spawn_app(db).await;
        problem(app.get("/abc").await, 404).await;
    }

    async fn a_missing_slug_is_404(db) {
        let app = spawn_app(db).await;
        problem(app.get("/slug/nothing-here").await, 404).await;
    }

    async fn if_none_match_with_the_current_tag_is_304(db) {
        let app = spawn_app(db).await;
        let created = app.create(json!({"title": "Cached"})).await;
        let path = format!("/{}", id_of(&created));
        let etag = app.get(&path).await.headers()["etag"].clone();
        let response = app
            .client
            .get(app.url(&path))
            .header("If-None-Match", etag)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 304);
    }
}
