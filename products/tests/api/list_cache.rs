//! HTTP caching of list pages: weak `ETag`, `If-None-Match` -> `304`,
//! `Cache-Control` for anonymous reads, fresh after a write.

use serde_json::json;

use crate::helpers::*;

common::backend_tests! {
    async fn a_list_page_is_tagged_and_revalidated_with_304(db) {
        let app = spawn_app(db).await;
        app.create(product("Lamp", "10")).await;
        let first = app.get("/?per_page=5").await;
        assert_eq!(first.status(), 200);
        let tag = first.headers()["etag"].to_str().expect("etag").to_string();
        assert!(tag.starts_with("W/\""), "{tag}");
        assert_eq!(first.headers()["cache-control"], "public, max-age=5");
        assert_eq!(first.headers()["vary"], "Authorization");
        let again = app.client.get(app.url("/?per_page=5")).header("if-none-match", &tag).send().await.expect("request");
        assert_eq!(again.status(), 304);
        assert_eq!(again.headers()["etag"], tag.as_str());
        assert!(again.bytes().await.expect("body").is_empty());
    }

    async fn a_write_makes_the_next_read_fresh(db) {
        let app = spawn_app(db).await;
        let lamp = app.create(product("Lamp", "10")).await;
        let tag = app.get("/").await.headers()["etag"].to_str().expect("etag").to_string();
        assert_eq!(app.change_stock(id_of(&lamp), Some("staff"), 3).await.status(), 200);
        let after = app.client.get(app.url("/")).header("if-none-match", &tag).send().await.expect("request");
        assert_eq!(after.status(), 200);
        assert_ne!(after.headers()["etag"], tag.as_str());
        let page: serde_json::Value = after.json().await.expect("json");
        assert_eq!(page["items"][0]["stock_qty"], 3);
    }

    async fn authenticated_reads_are_always_revalidated(db) {
        let app = spawn_app(db).await;
        let response = app.request(reqwest::Method::GET, "/", Some("staff")).send().await.expect("request");
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "private, no-cache");
    }

    async fn totals_are_exact_and_say_so(db) {
        let app = spawn_app(db).await;
        for (title, price) in [("Lamp", "10"), ("Mug", "5"), ("Tent", "90")] {
            app.create(json!({"title": title, "category": "Home", "price": price})).await;
        }
        for query in ["", "category=Home", "brand=None", "max_price=50", "q=mug", "page=9"] {
            let page = app.get_json(&format!("/?{query}")).await;
            assert_eq!(page["total_is_exact"], true, "{query}");
        }
        assert_eq!(app.get_json("/?max_price=50").await["total"], 2);
        assert_eq!(app.get_json("/?page=9").await["total"], 3);
    }

    async fn a_write_on_another_replica_makes_the_cached_page_fresh(db) {
        let url = db.url.clone();
        let first = spawn_app(db).await;
        let spare = common::testing::TestDb::sqlite();
        let second = spawn_app_with(spare, &[("DATABASE_URL", url.as_str())]).await;
        first.create(product("Lamp", "10")).await;
        assert_eq!(titles(&first, "").await, ["Lamp"], "cached on the first replica");
        let mug = second.create(product("Mug", "5")).await;
        assert_eq!(titles(&first, "").await, ["Mug", "Lamp"]);
        assert_eq!(second.change_stock(id_of(&mug), Some("staff"), 2).await.status(), 200);
        assert_eq!(first.get_json("/").await["items"][0]["stock_qty"], 2);
    }

    async fn without_the_page_cache_lists_are_the_same(db) {
        let app = spawn_app_with(db, &[("LIST_CACHE_ENTRIES", "0")]).await;
        app.create(product("Lamp", "10")).await;
        assert_eq!(titles(&app, "").await, ["Lamp"]);
        app.create(product("Mug", "5")).await;
        assert_eq!(titles(&app, "").await, ["Mug", "Lamp"]);
        assert!(app.get("/").await.headers().contains_key("etag"));
    }
}
