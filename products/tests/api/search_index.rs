//! The search index each replica keeps in memory: built from the database
//! on start, kept fresh from the change feed, so a write through one
//! replica is in the search of every other one within a second; and the
//! bounds on `q`.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;

/// A second replica on the same database as the first.
async fn replica_of(url: &str) -> TestApp {
    let spare = common::testing::TestDb::sqlite();
    spawn_app_with(spare, &[("DATABASE_URL", url)]).await
}

/// The titles `app` lists for `query`, once they equal `expected`, or
/// what they were after one second.
async fn within_a_second(app: &TestApp, query: &str, expected: &[&str]) -> Vec<String> {
    let started = Instant::now();
    loop {
        let found = titles(app, query).await;
        if found == expected || started.elapsed() > Duration::from_secs(1) {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

common::backend_tests! {
    async fn a_write_on_one_replica_is_searched_on_another_within_a_second(db) {
        let url = db.url.clone();
        let writer = spawn_app(db).await;
        let reader = replica_of(&url).await;
        assert!(titles(&reader, "q=zebra").await.is_empty(), "nothing yet (and now cached)");
        let created = writer
            .create(json!({"title": "Zebra Lamp", "description": "Striped", "price": "30"}))
            .await;
        assert_eq!(within_a_second(&reader, "q=zebra", &["Zebra Lamp"]).await, ["Zebra Lamp"]);
        assert_eq!(titles(&reader, "q=striped+lamp").await, ["Zebra Lamp"]);
        let id = id_of(&created);
        let renamed = writer
            .patch_product(id, Some("staff"), &json!({"title": "Okapi Lamp", "price": "60"}))
            .await;
        assert_eq!(renamed.status(), 200);
        assert!(within_a_second(&reader, "q=zebra", &[]).await.is_empty(), "the old title is gone");
        assert_eq!(titles(&reader, "q=okapi&min_price=50").await, ["Okapi Lamp"], "and the new price is in");
        assert!(titles(&reader, "q=okapi&in_stock=true").await.is_empty());
        assert_eq!(writer.change_stock(id, Some("staff"), 3).await.status(), 200);
        assert_eq!(
            within_a_second(&reader, "q=okapi&in_stock=true", &["Okapi Lamp"]).await,
            ["Okapi Lamp"],
            "a stock change moves it into the in-stock filter"
        );
        let deleted = writer
            .request(reqwest::Method::DELETE, &format!("/{id}"), Some("staff"))
            .send()
            .await
            .expect("request");
        assert_eq!(deleted.status(), 204);
        assert!(within_a_second(&reader, "q=okapi", &[]).await.is_empty(), "a deleted product is gone");
        let page = reader.get_json("/?q=lamp").await;
        assert_eq!((page["total"].as_u64(), &page["total_is_exact"]), (Some(0), &true.into()));
    }

    async fn a_replica_started_later_builds_its_index_from_the_database(db) {
        let url = db.url.clone();
        let writer = spawn_app(db).await;
        for title in ["Granite Kettle", "Granite Mug", "Willow Kettle"] {
            writer.create(json!({"title": title})).await;
        }
        let late = replica_of(&url).await;
        assert_eq!(titles(&late, "q=granite&sort=title").await, ["Granite Kettle", "Granite Mug"]);
        assert_eq!(
            titles(&late, "q=kettle&sort=-title").await,
            titles(&writer, "q=kettle&sort=-title").await,
            "the same answer on both replicas"
        );
    }

    async fn facets_of_a_search_come_from_the_index_and_agree_with_the_page(db) {
        let app = spawn_app(db).await;
        for (title, category, brand, price) in [
            ("Granite Kettle", "Kitchen", "Acme", "15"),
            ("Granite Mug", "Kitchen", "Orbit", "8"),
            ("Granite Tent", "Outdoors", "Acme", "120"),
            ("Willow Kettle", "Kitchen", "Acme", "30"),
        ] {
            app.create(json!({"title": title, "category": category, "brand": brand, "price": price})).await;
        }
        let page = app.get_json("/?q=granite&facets=category,brand,price&per_page=2").await;
        assert_eq!((page["total"].as_u64(), &page["total_is_exact"]), (Some(3), &true.into()));
        assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
        assert_eq!(page["facets"]["category"], json!([{"value": "Kitchen", "count": 2}, {"value": "Outdoors", "count": 1}]));
        assert_eq!(page["facets"]["brand"], json!([{"value": "Acme", "count": 2}, {"value": "Orbit", "count": 1}]));
        assert_eq!(
            page["facets"]["price"],
            json!([{"min": "0.00", "max": "10.00", "count": 1}, {"min": "10.00", "max": "25.00", "count": 1}, {"min": "100.00", "max": "250.00", "count": 1}])
        );
        let filtered = app.get_json("/?category=Kitchen&max_price=20&facets=brand").await;
        assert_eq!(filtered["total"].as_u64(), Some(2));
        assert_eq!(filtered["facets"]["brand"], json!([{"value": "Acme", "count": 1}, {"value": "Orbit", "count": 1}]));
    }

    async fn title_order_follows_creates_and_renames_on_every_replica(db) {
        let url = db.url.clone();
        let writer = spawn_app(db).await;
        for title in ["Mango Mug", "Apple Mug", "kiwi Mug"] {
            writer.create(json!({"title": title, "category": "Fruit"})).await;
        }
        let reader = replica_of(&url).await;
        let fruit = "category=Fruit&sort=title";
        assert_eq!(titles(&reader, fruit).await, ["Apple Mug", "kiwi Mug", "Mango Mug"], "case-blind");
        let banana = writer.create(json!({"title": "Banana Mug", "category": "Fruit"})).await;
        writer.create(json!({"title": "Zucchini Mug", "category": "Fruit"})).await;
        let expected = ["Apple Mug", "Banana Mug", "kiwi Mug", "Mango Mug", "Zucchini Mug"];
        assert_eq!(within_a_second(&reader, fruit, &expected).await, expected, "placed between neighbours");
        let renamed = writer
            .patch_product(id_of(&banana), Some("staff"), &json!({"title": "Lime Mug"}))
            .await;
        assert_eq!(renamed.status(), 200);
        let expected = ["Apple Mug", "kiwi Mug", "Lime Mug", "Mango Mug", "Zucchini Mug"];
        assert_eq!(within_a_second(&reader, fruit, &expected).await, expected, "a rename moves it");
        let reversed: Vec<&str> = expected.iter().rev().copied().collect();
        assert_eq!(titles(&reader, "category=Fruit&sort=-title").await, reversed);
        assert_eq!(titles(&reader, "category=Fruit&sort=title&per_page=2&page=2").await, ["Lime Mug", "Mango Mug"]);
    }

    async fn many_titles_at_the_same_place_keep_their_order(db) {
        // Each title sorts just before the previous one: every insertion
        // halves the same gap of the title order until it is used up and
        // the index is rebuilt with even ranks (index/title_order.rs).
        let url = db.url.clone();
        let writer = spawn_app(db).await;
        let reader = replica_of(&url).await;
        writer.create(json!({"title": "a", "category": "Gap"})).await;
        writer.create(json!({"title": "b", "category": "Gap"})).await;
        let mut expected = vec!["a".to_string(), "b".to_string()];
        let mut title = String::from("az");
        for _ in 0..40 {
            writer.create(json!({"title": title, "category": "Gap"})).await;
            expected.insert(1, title.clone());
            title.insert(1, 'a');
        }
        let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
        let query = "category=Gap&sort=title&per_page=100";
        assert_eq!(within_a_second(&reader, query, &expected).await, expected);
        assert_eq!(titles(&writer, query).await, expected);
    }

    async fn a_substring_no_product_can_contain_is_answered_without_the_database_scan(db) {
        let app = spawn_app(db).await;
        for (title, description) in [
            ("Granite Kettle", "Stovetop, 2 litres"),
            ("Falcon Lamp", "Brass reading lamp"),
            ("Orbit Mug", "Stoneware"),
        ] {
            app.create(json!({"title": title, "description": description})).await;
        }
        // Both words exist, never in one product: nothing, and exactly so.
        let page = app.get_json("/?q=falcon+orbit&facets=category").await;
        assert_eq!((page["total"].as_u64(), &page["total_is_exact"]), (Some(0), &true.into()));
        assert_eq!(page["facets"]["category"], json!([]));
        // Partial words at either end still reach the substring search.
        assert_eq!(titles(&app, "q=nite+kett").await, ["Granite Kettle"]);
        assert_eq!(titles(&app, "q=top,+2+lit").await, ["Granite Kettle"]);
        assert_eq!(titles(&app, "q=ss+reading+la").await, ["Falcon Lamp"]);
        assert!(titles(&app, "q=ss+reading+mug").await.is_empty());
        assert!(titles(&app, "q=nite+kett&category=Other").await.is_empty(), "filters apply");
    }

    async fn whole_catalogue_pages_stay_fresh_while_their_sorted_lists_catch_up(db) {
        // Pages without a filter come from sorted lists rebuilt at most
        // once a second after the index changes (index/sorted.rs); until
        // then the database answers them, so they are never stale.
        let url = db.url.clone();
        let writer = spawn_app(db).await;
        for (title, price) in [("Cedar Box", "20"), ("Birch Box", "10")] {
            writer.create(json!({"title": title, "price": price})).await;
        }
        let reader = replica_of(&url).await;
        assert_eq!(titles(&reader, "sort=price").await, ["Birch Box", "Cedar Box"]);
        let created = writer.create(json!({"title": "Alder Box", "price": "5"})).await;
        let expected = ["Alder Box", "Birch Box", "Cedar Box"];
        assert_eq!(within_a_second(&reader, "sort=price", &expected).await, expected);
        assert_eq!(titles(&reader, "sort=title").await, expected);
        let page = reader.get_json("/?sort=-price&per_page=1&page=2").await;
        assert_eq!((page["total"].as_u64(), &page["total_is_exact"]), (Some(3), &true.into()));
        assert_eq!(page["items"][0]["title"], "Birch Box");
        let repriced = writer
            .patch_product(id_of(&created), Some("staff"), &json!({"price": "50"}))
            .await;
        assert_eq!(repriced.status(), 200);
        let expected = ["Birch Box", "Cedar Box", "Alder Box"];
        assert_eq!(within_a_second(&reader, "sort=price", &expected).await, expected);
        // Later, from the rebuilt lists: the same answer.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(titles(&reader, "sort=price").await, expected);
        assert_eq!(titles(&reader, "sort=-created_at").await, ["Alder Box", "Birch Box", "Cedar Box"]);
    }

    async fn a_q_over_its_bounds_is_refused_naming_q(db) {
        let app = spawn_app(db).await;
        let eleven = (1..=11).map(|n| format!("w{n}")).collect::<Vec<_>>().join("+");
        let body = problem(app.get(&format!("/?q={eleven}")).await, 422).await;
        assert_eq!(invalid_fields(&body), ["q"]);
        assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("10 words")), "{body}");
        let ten = (1..=10).map(|n| format!("w{n}")).collect::<Vec<_>>().join("+");
        assert_eq!(app.get(&format!("/?q={ten}")).await.status(), 200);
        let long = "a".repeat(201);
        let body = problem(app.get(&format!("/?q={long}")).await, 422).await;
        assert_eq!(invalid_fields(&body), ["q"]);
    }
}
