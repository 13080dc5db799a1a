//! `?q=`: stemmed word search ranked by relevance, with the substring
//! fallback for partial words.

use serde_json::json;

use crate::helpers::*;

/// Three products mentioning kettles, created in this order: two in the
/// title, one (the newest but one) only in its description.
async fn kettles(db: common::testing::TestDb) -> TestApp {
    let app = spawn_app(db).await;
    for body in [
        json!({"title": "Kettle Stand", "category": "Kitchen", "price": "15", "description": "Holds one"}),
        json!({"title": "Steel Pot", "category": "Kitchen", "price": "30", "description": "Works as a kettle too"}),
        json!({"title": "Copper Kettles", "category": "Kitchen", "price": "45", "description": "A pair"}),
        json!({"title": "Garden Hose", "category": "Outdoors", "price": "20", "description": "Twenty metres"}),
    ] {
        app.create(body).await;
    }
    app
}

common::backend_tests! {
    async fn a_word_in_the_title_ranks_above_one_in_the_description(db) {
        let app = kettles(db).await;
        let found = titles(&app, "q=kettle").await;
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(found[2], "Steel Pot", "description-only match last: {found:?}");
        let mut first_two = found[..2].to_vec();
        first_two.sort();
        assert_eq!(first_two, ["Copper Kettles", "Kettle Stand"]);
        assert_eq!(app.get_json("/?q=kettle").await["total"], 3);
    }

    async fn word_search_pages_keep_the_total_past_the_last_page(db) {
        let app = kettles(db).await;
        let second = app.get_json("/?q=kettle&per_page=2&page=2").await;
        assert_eq!(second["items"].as_array().map(Vec::len), Some(1));
        assert_eq!((second["total"].as_u64(), &second["total_is_exact"]), (Some(3), &true.into()));
        let beyond = app.get_json("/?q=kettle&per_page=2&page=5").await;
        assert_eq!(beyond["items"].as_array().map(Vec::len), Some(0));
        assert_eq!((beyond["total"].as_u64(), &beyond["total_is_exact"]), (Some(3), &true.into()));
        let nothing = app.get_json("/?q=zebra").await;
        assert_eq!((nothing["total"].as_u64(), nothing["items"].as_array().map(Vec::len)), (Some(0), Some(0)));
    }

    async fn words_are_stemmed(db) {
        let app = kettles(db).await;
        assert_eq!(titles(&app, "q=kettles").await.len(), 3);
        assert_eq!(titles(&app, "q=holding").await, ["Kettle Stand"]);
    }

    async fn relevance_is_the_default_with_q_and_another_sort_still_applies(db) {
        let app = kettles(db).await;
        assert_eq!(titles(&app, "q=kettle&sort=relevance").await, titles(&app, "q=kettle").await);
        assert_eq!(titles(&app, "q=kettle&sort=price").await, ["Kettle Stand", "Steel Pot", "Copper Kettles"]);
        assert_eq!(
            titles(&app, "sort=relevance").await,
            ["Garden Hose", "Copper Kettles", "Steel Pot", "Kettle Stand"],
            "without q, relevance is the default order"
        );
    }

    async fn a_partial_word_falls_back_to_substring_matching_titles_first(db) {
        let app = kettles(db).await;
        assert_eq!(titles(&app, "q=ettl").await, ["Copper Kettles", "Kettle Stand", "Steel Pot"]);
        assert_eq!(titles(&app, "q=ose").await, ["Garden Hose"]);
        assert_eq!(app.get_json("/?q=ettl").await["total_is_exact"], true);
    }

    async fn search_combines_with_filters(db) {
        let app = kettles(db).await;
        assert_eq!(titles(&app, "q=kettle&max_price=40&sort=price").await, ["Kettle Stand", "Steel Pot"]);
        assert!(titles(&app, "q=kettle&category=Outdoors").await.is_empty());
    }
}
