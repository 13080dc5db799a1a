//! `GET /categories`.

use serde_json::json;

use crate::helpers::*;

common::backend_tests! {
    async fn categories_are_listed_by_name_with_counts(db) {
        let app = spawn_app(db).await;
        for (title, category) in [("A", "Toys"), ("B", "Books"), ("C", "Toys"), ("D", "Garden"), ("E", "Toys")] {
            app.create(json!({"title": title, "category": category})).await;
        }
        assert_eq!(
            app.get_json("/categories").await,
            json!([
                {"name": "Books", "count": 1},
                {"name": "Garden", "count": 1},
                {"name": "Toys", "count": 3},
            ])
        );
    }

    async fn an_empty_catalogue_has_no_categories(db) {
        let app = spawn_app(db).await;
        assert_eq!(app.get_json("/categories").await, json!([]));
    }
}
