//! `?facets=`: counts per category, brand and price band for the current
//! filter, kept exact through writes.

use serde_json::{Value, json};

use crate::helpers::*;

async fn seeded(db: common::testing::TestDb) -> TestApp {
    let app = spawn_app(db).await;
    for body in [
        json!({"title": "Alpha Phone", "category": "Electronics", "brand": "Acme", "price": "199.99", "description": "A smart phone"}),
        json!({"title": "Beta Laptop", "category": "Electronics", "brand": "Zen", "price": "999"}),
        json!({"title": "Gamma Novel", "category": "Books", "price": "12.50", "description": "A phone-free story"}),
        json!({"title": "Delta Cookbook", "category": "Books", "brand": "Acme", "price": "25"}),
        json!({"title": "Epsilon Tent", "category": "Outdoors", "brand": "Zen", "price": "149.99"}),
        json!({"title": "Zeta Mug", "category": "Kitchen", "brand": "Acme", "price": "8.99"}),
    ] {
        app.create(body).await;
    }
    app
}

fn counts(facet: &Value) -> Vec<(String, u64)> {
    facet
        .as_array()
        .expect("facet")
        .iter()
        .map(|v| {
            (
                v["value"].as_str().expect("value").to_string(),
                v["count"].as_u64().expect("count"),
            )
        })
        .collect()
}

fn bands(facet: &Value) -> Vec<(String, Value, u64)> {
    facet
        .as_array()
        .expect("bands")
        .iter()
        .map(|b| {
            (
                b["min"].as_str().expect("min").to_string(),
                b["max"].clone(),
                b["count"].as_u64().expect("count"),
            )
        })
        .collect()
}

fn named(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
    pairs.iter().map(|(n, c)| (n.to_string(), *c)).collect()
}

common::backend_tests! {
    async fn the_whole_catalogue_is_counted_per_category_brand_and_price_band(db) {
        let app = seeded(db).await;
        let page = app.get_json("/?facets=category,brand,price").await;
        let facets = &page["facets"];
        assert_eq!(counts(&facets["category"]), named(&[("Books", 2), ("Electronics", 2), ("Kitchen", 1), ("Outdoors", 1)]));
        assert_eq!(counts(&facets["brand"]), named(&[("Acme", 3), ("Zen", 2)]));
        assert_eq!(
            bands(&facets["price"]),
            [
                ("0.00".to_string(), json!("10.00"), 1),
                ("10.00".to_string(), json!("25.00"), 1),
                ("25.00".to_string(), json!("50.00"), 1),
                ("100.00".to_string(), json!("250.00"), 2),
                ("500.00".to_string(), json!("1000.00"), 1),
            ]
        );
        assert_eq!(page["total"], 6);
    }

    async fn facets_follow_the_filter(db) {
        let app = seeded(db).await;
        let facets = app.get_json("/?category=Books&facets=category,brand,price").await["facets"].clone();
        assert_eq!(counts(&facets["category"]), named(&[("Books", 2)]));
        assert_eq!(counts(&facets["brand"]), named(&[("Acme", 1)]));
        assert_eq!(bands(&facets["price"]).len(), 2);
        let searched = app.get_json("/?q=phone&facets=category,brand").await;
        assert_eq!(searched["total"], 2);
        assert_eq!(counts(&searched["facets"]["category"]), named(&[("Books", 1), ("Electronics", 1)]));
        assert_eq!(counts(&searched["facets"]["brand"]), named(&[("Acme", 1)]));
    }

    async fn only_the_asked_facets_are_present(db) {
        let app = seeded(db).await;
        let page = app.get_json("/?facets=brand").await;
        assert!(page["facets"].get("category").is_none());
        assert!(page["facets"].get("price").is_none());
        assert!(app.get_json("/").await.get("facets").is_none(), "no facets unless asked");
        let body = problem(app.get("/?facets=colour").await, 422).await;
        assert_eq!(invalid_fields(&body), ["facets"]);
    }

    async fn kept_counts_follow_creates_changes_and_deletes(db) {
        let app = seeded(db).await;
        let mug = app.get_json("/slug/zeta-mug").await;
        let id = id_of(&mug);
        let changed = app.patch_product(id, Some("staff"), &json!({"category": "Books", "brand": null, "price": "300"})).await;
        assert_eq!(changed.status(), 200);
        assert_eq!(app.change_stock(id, Some("staff"), 5).await.status(), 200);
        app.create(json!({"title": "Eta Lamp", "category": "Kitchen", "brand": "Zen", "price": "40"})).await;
        let beta = app.get_json("/slug/beta-laptop").await;
        let deleted = app.request(reqwest::Method::DELETE, &format!("/{}", id_of(&beta)), Some("staff")).send().await.expect("request");
        assert_eq!(deleted.status(), 204);
        let page = app.get_json("/?facets=category,brand,price").await;
        assert_eq!(page["total"], 6);
        assert_eq!(counts(&page["facets"]["category"]), named(&[("Books", 3), ("Electronics", 1), ("Kitchen", 1), ("Outdoors", 1)]));
        assert_eq!(counts(&page["facets"]["brand"]), named(&[("Acme", 2), ("Zen", 2)]));
        let price = bands(&page["facets"]["price"]);
        assert_eq!(price.iter().map(|b| b.2).sum::<u64>(), 6);
        assert!(price.contains(&("250.00".to_string(), json!("500.00"), 1)), "{price:?}");
        assert!(!price.iter().any(|b| b.0 == "0.00"), "the mug left the cheapest band");
        // The kept counts agree with counting the filtered rows.
        let filtered = app.get_json("/?min_price=0&facets=category,brand,price").await;
        assert_eq!(filtered["facets"], page["facets"]);
        assert_eq!(app.get_json("/?category=Books").await["total"], 3);
    }
}
