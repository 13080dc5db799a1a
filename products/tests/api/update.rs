//! `PATCH /{id}` and `If-Match`.

use serde_json::json;

use crate::helpers::*;

async fn etag_of(app: &TestApp, id: i64) -> String {
    app.get(&format!("/{id}")).await.headers()["etag"]
        .to_str()
        .expect("etag")
        .to_string()
}

common::backend_tests! {
    async fn patch_changes_only_the_given_fields_and_the_etag(db) {
        let app = spawn_app(db).await;
        let created = app
            .create(json!({"title": "Old Title", "price": "5", "brand": "Acme", "stock_qty": 3}))
            .await;
        let id = id_of(&created);
        let before = etag_of(&app, id).await;
        let response = app
            .patch_product(id, Some("staff"), &json!({"price": 7.25, "brand": null}))
            .await;
        assert_eq!(response.status(), 200);
        let after = response.headers()["etag"].to_str().expect("etag").to_string();
        assert_ne!(before, after);
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["price"], "7.25");
        assert_eq!(body["brand"], serde_json::Value::Null);
        assert_eq!(body["title"], "Old Title");
        assert_eq!(body["slug"], "old-title");
        assert_eq!(body["stock_qty"], 3);
        assert_eq!(app.get_json(&format!("/{id}")).await, body);
    }

    async fn patch_with_the_current_if_match_succeeds(db) {
        let app = spawn_app(db).await;
        let id = id_of(&app.create(json!({"title": "Tagged"})).await);
        let etag = etag_of(&app, id).await;
        let response = app
            .request(reqwest::Method::PATCH, &format!("/{id}"), Some("staff"))
            .header("If-Match", etag)
            .json(&json!({"title": "Tagged Again"}))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200);
    }

    async fn patch_with_a_stale_if_match_is_412_and_changes_nothing(db) {
        let app = spawn_app(db).await;
        let id = id_of(&app.create(json!({"title": "Contested", "price": "1"})).await);
        let stale = etag_of(&app, id).await;
        let first = app.patch_product(id, Some("staff"), &json!({"price": "2"})).await;
        assert_eq!(first.status(), 200);
        let response = app
            .request(reqwest::Method::PATCH, &format!("/{id}"), Some("staff"))
            .header("If-Match", stale)
            .json(&json!({"price": "3"}))
            .send()
            .await
            .expect("request");
        problem(response, 412).await;
        assert_eq!(app.get_json(&format!("/{id}")).await["price"], "2.00");
    }

    async fn a_stock_change_makes_an_old_etag_stale(db) {
        let app = spawn_app(db).await;
        let id = id_of(&app.create(json!({"title": "Stocked", "stock_qty": 2})).await);
        let stale = etag_of(&app, id).await;
        assert_eq!(app.change_stock(id, Some("staff"), 1).await.status(), 200);
        let response = app
            .request(reqwest::Method::PATCH, &format!("/{id}"), Some("staff"))
            .header("If-Match", stale)
            .json(&json!({"title": "Renamed"}))
            .send()
            .await
            .expect("request");
        problem(response, 412).await;
    }

    async fn anonymous_patch_is_401(db) {
        let app = spawn_app(db).await;
        let id = id_of(&app.create(json!({"title": "Guarded"})).await);
        problem(app.patch_product(id, None, &json!({"title": "Hacked"})).await, 401).await;
        assert_eq!(app.get_json(&format!("/{id}")).await["title"], "Guarded");
    }

    async fn customers_may_not_patch(db) {
        let app = spawn_app(db).await;
        let id = id_of(&app.create(json!({"title": "Guarded"})).await);
        problem(app.patch_product(id, Some("customer"), &json!({"title": "Hacked"})).await, 403).await;
        assert_eq!(app.get_json(&format!("/{id}")).await["title"], "Guarded");
    }

    async fn patching_a_missing_product_is_404(db) {
        let app = spawn_app(db).await;
        problem(app.patch_product(4242, Some("staff"), &json!({"title": "Ghost"})).await, 404).await;
    }

    async fn invalid_patch_fields_are_all_listed_and_nothing_changes(db) {
        let app = spawn_app(db).await;
        let id = id_of(&app.create(json!({"title": "Valid", "price": "4"})).await);
        let response = app
            .patch_product(id, Some("staff"), &json!({
                "title": null, "price": "4.001", "currency": "EURO", "slug": "Bad Slug"
            }))
            .await;
        let body = problem(response, 422).await;
        assert_eq!(invalid_fields(&body), ["currency", "price", "slug", "title"]);
        let stored = app.get_json(&format!("/{id}")).await;
        assert_eq!(stored["title"], "Valid");
        assert_eq!(stored["price"], "4.00");
    }

    async fn stock_cannot_be_patched(db) {
        let app = spawn_app(db).await;
        let id = id_of(&app.create(json!({"title": "Counted"})).await);
        let body = problem(app.patch_product(id, Some("staff"), &json!({"stock_qty": 99})).await, 422).await;
        assert_eq!(invalid_fields(&body), ["stock_qty"]);
    }

    async fn patching_to_a_taken_slug_is_409(db) {
        let app = spawn_app(db).await;
        app.create(json!({"title": "First"})).await;
        let id = id_of(&app.create(json!({"title": "Second"})).await);
        problem(app.patch_product(id, Some("staff"), &json!({"slug": "first"})).await, 409).await;
        assert_eq!(app.get_json(&format!("/{id}")).await["slug"], "second");
    }
}
