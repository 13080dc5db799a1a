//! `POST /{id}/stock`: atomic stock changes.

use serde_json::json;

use crate::helpers::*;

common::backend_tests! {
    async fn a_delta_is_applied_and_the_product_returned(db) {
        let app = spawn_app(db).await;
        let id = id_of(&app.create(json!({"title": "Bolts", "stock_qty": 3})).await);
        let response = app.change_stock(id, Some("staff"), 4).await;
        assert_eq!(response.status(), 200);
        assert!(response.headers().contains_key("etag"));
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["stock_qty"], 7);
        assert_eq!(body["in_stock"], true);
    }

    async fn selling_the_last_unit_makes_it_out_of_stock(db) {
        let app = spawn_app(db).await;
        let id = id_of(&app.create(json!({"title": "Last One", "stock_qty": 1})).await);
        let body: serde_json::Value = app.change_stock(id, Some("admin"), -1).await.json().await.expect("json");
        assert_eq!(body["stock_qty"], 0);
        assert_eq!(body["in_stock"], false);
    }

    async fn a_change_below_zero_is_409_and_changes_nothing(db) {
        let app = spawn_app(db).await;
        let id = id_of(&app.create(json!({"title": "Scarce", "stock_qty": 2})).await);
        let before = app.get(&format!("/{id}")).await.headers()["etag"].clone();
        let body = problem(app.change_stock(id, Some("staff"), -3).await, 409).await;
        assert!(body["detail"].as_str().expect("detail").contains("2 in stock"));
        let after = app.get(&format!("/{id}")).await;
        assert_eq!(after.headers()["etag"], before);
        let after: serde_json::Value = after.json().await.expect("json");
        assert_eq!(after["stock_qty"], 2);
    }

    async fn a_change_above_the_stock_maximum_is_409_and_changes_nothing(db) {
        let app = spawn_app(db).await;
        let id = id_of(&app.create(json!({"title": "Plenty", "stock_qty": 999_999_999})).await);
        let before = app.get(&format!("/{id}")).await.headers()["etag"].clone();
        let body = problem(app.change_stock(id, Some("staff"), 2).await, 409).await;
        let detail = body["detail"].as_str().expect("detail");
        assert!(detail.contains("999999999 in stock"), "{detail}");
        assert!(detail.contains("1000000000"), "{detail}");
        let after = app.get(&format!("/{id}")).await;
        assert_eq!(after.headers()["etag"], before);
        let after: serde_json::Value = after.json().await.expect("json");
        assert_eq!(after["stock_qty"], 999_999_999);
        assert_eq!(app.change_stock(id, Some("staff"), 1).await.status(), 200);
        assert_eq!(app.get_json(&format!("/{id}")).await["stock_qty"], 1_000_000_000);
    }

    async fn fifty_concurrent_decrements_of_twenty_never_oversell(db) {
        let app = std::sync::Arc::new(spawn_app(db).await);
        let id = id_of(&app.create(json!({"title": "Hot Item", "stock_qty": 20})).await);
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                app.change_stock(id, Some("staff"), -1).await.status().as_u16()
            }));
        }
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.expect("task"));
        }
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 20, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 30, "{statuses:?}");
        let product = app.get_json(&format!("/{id}")).await;
        assert_eq!(product["stock_qty"], 0);
        assert_eq!(product["in_stock"], false);
    }

    async fn anonymous_stock_changes_are_401(db) {
        let app = spawn_app(db).await;
        let id = id_of(&app.create(json!({"title": "Guarded", "stock_qty": 5})).await);
        problem(app.change_stock(id, None, -1).await, 401).await;
        assert_eq!(app.get_json(&format!("/{id}")).await["stock_qty"], 5);
    }

    async fn customers_may_not_change_stock(db) {
        let app = spawn_app(db).await;
        let id = id_of(&app.create(json!({"title": "Guarded", "stock_qty": 5})).await);
        problem(app.change_stock(id, Some("customer"), -1).await, 403).await;
        assert_eq!(app.get_json(&format!("/{id}")).await["stock_qty"], 5);
    }

    async fn stock_of_a_missing_product_is_404(db) {
        let app = spawn_app(db).await;
        problem(app.change_stock(777, Some("staff"), 1).await, 404).await;
    }

    async fn a_zero_or_missing_delta_is_422(db) {
        let app = spawn_app(db).await;
        let id = id_of(&app.create(json!({"title": "Steady", "stock_qty": 5})).await);
        let body = problem(app.change_stock(id, Some("staff"), 0).await, 422).await;
        assert_eq!(invalid_fields(&body), ["delta"]);
        let response = app
            .request(reqwest::Method::POST, &format!("/{id}/stock"), Some("staff"))
            .json(&json!({}))
            .send()
            .await
            .expect("request");
        let body = problem(response, 422).await;
        assert_eq!(invalid_fields(&body), ["delta"]);
    }

    async fn a_fractional_delta_or_unknown_field_is_422(db) {
        let app = spawn_app(db).await;
        let id = id_of(&app.create(json!({"title": "Whole", "stock_qty": 5})).await);
        for (body, field) in [(json!({"delta": 1.5}), "delta"), (json!({"delta": 1, "qty": 2}), "qty")] {
            let response = app
                .request(reqwest::Method::POST, &format!("/{id}/stock"), Some("staff"))
                .json(&body)
                .send()
                .await
                .expect("request");
            let problem = problem(response, 422).await;
            assert_eq!(invalid_fields(&problem), [field]);
        }
        assert_eq!(app.get_json(&format!("/{id}")).await["stock_qty"], 5);
    }
}
