//! `GET /`: filters, sort, search and pagination on a known set.

use serde_json::{Value, json};

use crate::helpers::*;

/// Six products, created in this order.
async fn seeded(db: common::testing::TestDb) -> TestApp {
    let app = spawn_app(db).await;
    for body in [
        json!({"title": "Alpha Phone", "category": "Electronics", "brand": "Acme", "price": "199.99", "stock_qty": 5, "description": "A smart phone"}),
        json!({"title": "Beta Laptop", "category": "Electronics", "brand": "Zen", "price": "999", "stock_qty": 0, "description": "Fast laptop"}),
        json!({"title": "Gamma Novel", "category": "Books", "price": "12.50", "stock_qty": 10, "description": "A gripping PHONE-free story"}),
        json!({"title": "Delta Cookbook", "category": "Books", "brand": "Acme", "price": "25", "stock_qty": 0, "description": "Recipes"}),
        json!({"title": "Epsilon Tent", "category": "Outdoors", "brand": "Zen", "price": "149.99", "stock_qty": 2, "description": "Two-person tent, 100% waterproof"}),
        json!({"title": "Zeta Mug", "category": "Kitchen", "brand": "Acme", "price": "8.99", "stock_qty": 30, "description": "Ceramic mug"}),
    ] {
        app.create(body).await;
    }
    app
}

common::backend_tests! {
    async fn the_default_list_is_newest_first_with_totals(db) {
        let app = seeded(db).await;
        let page = app.get_json("/").await;
        assert_eq!(page["total"], 6);
        assert_eq!(page["page"], 1);
        assert_eq!(page["per_page"], 20);
        assert_eq!(
            titles(&app, "").await,
            ["Zeta Mug", "Epsilon Tent", "Delta Cookbook", "Gamma Novel", "Beta Laptop", "Alpha Phone"]
        );
    }

    async fn category_filters_exactly(db) {
        let app = seeded(db).await;
        assert_eq!(titles(&app, "category=Books").await, ["Delta Cookbook", "Gamma Novel"]);
        assert_eq!(app.get_json("/?category=Books").await["total"], 2);
    }

    async fn brand_filters_exactly(db) {
        let app = seeded(db).await;
        assert_eq!(titles(&app, "brand=Acme").await, ["Zeta Mug", "Delta Cookbook", "Alpha Phone"]);
    }

    async fn price_bounds_are_inclusive(db) {
        let app = seeded(db).await;
        assert_eq!(
            titles(&app, "min_price=12.50&max_price=199.99&sort=price").await,
            ["Gamma Novel", "Delta Cookbook", "Epsilon Tent", "Alpha Phone"]
        );
    }

    async fn in_stock_filters_both_ways(db) {
        let app = seeded(db).await;
        assert_eq!(
            titles(&app, "in_stock=true&sort=title").await,
            ["Alpha Phone", "Epsilon Tent", "Gamma Novel", "Zeta Mug"]
        );
        assert_eq!(titles(&app, "in_stock=false&sort=title").await, ["Beta Laptop", "Delta Cookbook"]);
    }

    async fn q_searches_title_and_description_case_insensitively(db) {
        let app = seeded(db).await;
        assert_eq!(titles(&app, "q=PhOnE&sort=title").await, ["Alpha Phone", "Gamma Novel"]);
    }

    async fn search_follows_changes_and_deletions(db) {
        let app = seeded(db).await;
        let mug = app.get_json("/slug/zeta-mug").await;
        let id = mug["id"].as_i64().expect("id");
        assert_eq!(titles(&app, "q=zeta+mug").await, ["Zeta Mug"]);
        let renamed = app.patch_product(id, Some("staff"), &json!({"title": "Zeta Teacup"})).await;
        assert_eq!(renamed.status(), 200);
        assert!(titles(&app, "q=%22zeta+mug%22").await.is_empty());
        assert_eq!(titles(&app, "q=teacup").await, ["Zeta Teacup"]);
        let deleted = app.request(reqwest::Method::DELETE, &format!("/{id}"), Some("staff")).send().await.expect("request");
        assert_eq!(deleted.status(), 204);
        assert!(titles(&app, "q=teacup").await.is_empty());
    }

    async fn q_treats_wildcards_literally(db) {
        let app = seeded(db).await;
        assert_eq!(titles(&app, "q=100%25").await, ["Epsilon Tent"]);
        assert_eq!(titles(&app, "q=%25").await, ["Epsilon Tent"]);
        assert!(titles(&app, "q=_").await.is_empty());
    }

    async fn q_is_web_search_syntax(db) {
        let app = seeded(db).await;
        assert_eq!(titles(&app, "q=%22smart+phone%22").await, ["Alpha Phone"]);
        assert!(titles(&app, "q=%22phone+smart%22").await.is_empty());
        assert_eq!(titles(&app, "q=phone+OR+mug&sort=title").await, ["Alpha Phone", "Gamma Novel", "Zeta Mug"]);
        assert_eq!(titles(&app, "q=phone+-story").await, ["Alpha Phone"]);
        assert_eq!(titles(&app, "q=smart+phone").await, ["Alpha Phone"]);
    }

    async fn filters_combine(db) {
        let app = seeded(db).await;
        assert_eq!(titles(&app, "category=Electronics&in_stock=true").await, ["Alpha Phone"]);
        assert_eq!(titles(&app, "brand=Zen&max_price=500").await, ["Epsilon Tent"]);
    }

    async fn every_sort_orders_as_named(db) {
        let app = seeded(db).await;
        let by_price = ["Zeta Mug", "Gamma Novel", "Delta Cookbook", "Epsilon Tent", "Alpha Phone", "Beta Laptop"];
        assert_eq!(titles(&app, "sort=price").await, by_price);
        let mut reversed = by_price.to_vec();
        reversed.reverse();
        assert_eq!(titles(&app, "sort=-price").await, reversed);
        assert_eq!(
            titles(&app, "sort=created_at").await,
            ["Alpha Phone", "Beta Laptop", "Gamma Novel", "Delta Cookbook", "Epsilon Tent", "Zeta Mug"]
        );
        assert_eq!(
            titles(&app, "sort=title").await,
            ["Alpha Phone", "Beta Laptop", "Delta Cookbook", "Epsilon Tent", "Gamma Novel", "Zeta Mug"]
        );
    }

    async fn pages_split_the_sorted_list(db) {
        let app = seeded(db).await;
        let page: Value = app.get_json("/?sort=title&per_page=4&page=2").await;
        assert_eq!(page["total"], 6);
        assert_eq!(page["page"], 2);
        assert_eq!(page["per_page"], 4);
        assert_eq!(titles(&app, "sort=title&per_page=4&page=2").await, ["Gamma Novel", "Zeta Mug"]);
        assert!(titles(&app, "sort=title&per_page=4&page=3").await.is_empty());
    }

    async fn per_page_above_100_is_clamped(db) {
        let app = seeded(db).await;
        let page = app.get_json("/?per_page=1000").await;
        assert_eq!(page["per_page"], 100);
        assert_eq!(page["items"].as_array().expect("items").len(), 6);
    }

    async fn invalid_parameters_are_all_listed(db) {
        let app = seeded(db).await;
        let response = app.get("/?page=0&per_page=x&sort=cheapest&in_stock=maybe&min_price=-1").await;
        let body = problem(response, 422).await;
        assert_eq!(invalid_fields(&body), ["in_stock", "min_price", "page", "per_page", "sort"]);
    }

    async fn min_price_above_max_price_is_an_empty_range(db) {
        let app = seeded(db).await;
        let page = app.get_json("/?min_price=10&max_price=5").await;
        assert_eq!(page["total"], 0);
        assert_eq!(page["items"], serde_json::json!([]));
    }

    async fn unknown_parameters_are_refused(db) {
        let app = seeded(db).await;
        let body = problem(app.get("/?colour=red").await, 422).await;
        assert_eq!(invalid_fields(&body), ["colour"]);
    }
}
