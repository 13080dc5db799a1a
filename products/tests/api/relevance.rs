//! Word search at scale: relevance tiers (all words before some, title
//! before description), paging through the tiers, deep pages. (Replicas:
//! `search_index.rs`.)

use serde_json::json;

use crate::helpers::*;

/// Five products for `kettle or lamp`, created oldest first in an order
/// unlike the ranking: only ids would rank them the other way round.
async fn kettles_and_lamps(db: common::testing::TestDb) -> TestApp {
    let app = spawn_app(db).await;
    for (title, description) in [
        ("Kettle Lamp Set", "Two in one"),
        ("Steel Kettle", "Comes with a lamp"),
        ("Desk Lamp", "Bright"),
        ("Red Kettle", "Boils fast"),
        ("Tea Mug", "Kettle shaped"),
    ] {
        app.create(json!({"title": title, "description": description}))
            .await;
    }
    app
}

/// The titles of `q`'s matches read `per_page` at a time to the end.
async fn paged(app: &TestApp, q: &str, per_page: usize) -> Vec<String> {
    let mut all = Vec::new();
    for page in 1.. {
        let found = titles(app, &format!("q={q}&per_page={per_page}&page={page}")).await;
        if found.is_empty() {
            break;
        }
        all.extend(found);
    }
    all
}

common::backend_tests! {
    async fn all_words_rank_above_some_and_the_title_above_the_description(db) {
        let app = kettles_and_lamps(db).await;
        assert_eq!(
            titles(&app, "q=kettle+or+lamp").await,
            ["Kettle Lamp Set", "Steel Kettle", "Red Kettle", "Desk Lamp", "Tea Mug"],
            "both words in the title; both words; one in the title (newest first); description"
        );
        assert_eq!(
            titles(&app, "q=kettle").await,
            ["Red Kettle", "Steel Kettle", "Kettle Lamp Set", "Tea Mug"],
            "a title match (newest first) before a description match"
        );
        let page = app.get_json("/?q=kettle+or+lamp").await;
        assert_eq!((page["total"].as_u64(), &page["total_is_exact"]), (Some(5), &true.into()));
    }

    async fn pages_walk_the_tiers_without_gap_or_overlap(db) {
        let app = kettles_and_lamps(db).await;
        let whole = titles(&app, "q=kettle+or+lamp").await;
        for per_page in [1, 2, 3] {
            assert_eq!(paged(&app, "kettle+or+lamp", per_page).await, whole, "per_page={per_page}");
        }
        let filtered = titles(&app, "q=kettle+or+lamp&per_page=2&page=2").await;
        assert_eq!(filtered, ["Red Kettle", "Desk Lamp"]);
    }

    async fn every_counted_match_is_on_some_page(db) {
        let app = kettles_and_lamps(db).await;
        // A phrase whose words are split between title and description: on
        // PostgreSQL the combined vector matches it, though neither field
        // alone does; the last tier still holds it.
        app.create(json!({"title": "Desk", "description": "Lamp for reading"})).await;
        for q in ["kettle", "kettle+or+lamp", "%22desk+lamp%22", "lamp+-desk", "kettle+or+mug", "kett"] {
            let page = app.get_json(&format!("/?q={q}")).await;
            assert_eq!(page["total_is_exact"], true, "{q}");
            let total = page["total"].as_u64().map(|n| n as usize);
            let mut listed = paged(&app, q, 2).await;
            assert_eq!(Some(listed.len()), total, "{q}: {listed:?}");
            listed.sort();
            listed.dedup();
            assert_eq!(Some(listed.len()), total, "{q}: no product twice");
        }
    }

    async fn deep_pages_are_the_same_rows_as_shallow_ones(db) {
        let url = db.url.clone();
        let app = spawn_app(db).await;
        let conn = sea_orm::Database::connect(url.as_str()).await.expect("connect");
        products::synthetic::insert(&conn, 150, "deep").await.expect("insert");
        for sort in ["price", "-created_at", "title"] {
            let mut shallow: Vec<String> = Vec::new();
            for page in 1..=8 {
                shallow.extend(titles(&app, &format!("sort={sort}&per_page=20&page={page}")).await);
            }
            let deep = titles(&app, &format!("sort={sort}&per_page=50&page=3")).await;
            assert_eq!(deep.len(), 50, "{sort}");
            assert_eq!(deep[..], shallow[100..150], "{sort}: offset 100 read by ids first");
            let category = titles(&app, &format!("category=Category%203&sort={sort}&per_page=5&page=3")).await;
            let whole = titles(&app, &format!("category=Category%203&sort={sort}&per_page=15")).await;
            assert_eq!(category[..], whole[10..15], "{sort}");
        }
    }
}
