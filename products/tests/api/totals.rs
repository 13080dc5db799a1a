//! `total` at scale: exact from the kept count without a filter and from
//! the search index with one, bounded (and flagged) for a substring
//! search, on a catalogue made by `products::synthetic`.

use common::Secret;
use common::db::DbSettings;
use std::time::Duration;

use crate::helpers::*;

/// Products in the synthetic catalogue: just over the exact-count bound.
const SIZE: u64 = products::catalogue::list::counts::EXACT_UP_TO + 2_000;

/// Synthetic products with stock: those whose number is not a multiple of 7.
const IN_STOCK: u64 = SIZE - SIZE.div_ceil(7);

async fn large(db: common::testing::TestDb) -> TestApp {
    let settings = DbSettings {
        url: Secret::new(db.url.clone()),
        max_connections: 1,
        connect_timeout: Duration::from_secs(5),
        startup_timeout: Duration::from_secs(30),
    };
    let conn = common::db::connect_and_migrate::<products::migration::Migrator>(&settings)
        .await
        .expect("database");
    products::synthetic::insert(&conn, SIZE, "t1")
        .await
        .expect("seed");
    drop(conn);
    spawn_app(db).await
}

common::backend_tests! {
    async fn a_large_catalogue_has_exact_totals_where_cheap_and_bounded_ones_elsewhere(db) {
        let app = large(db).await;
        let all = app.get_json("/?per_page=1").await;
        assert_eq!((all["total"].as_u64(), &all["total_is_exact"]), (Some(SIZE), &true.into()));
        let category = app.get_json("/?category=Category%203").await;
        assert_eq!((category["total"].as_u64(), &category["total_is_exact"]), (Some(SIZE / 10), &true.into()));
        let in_stock = app.get_json("/?in_stock=true").await;
        assert_eq!(
            (in_stock["total"].as_u64(), &in_stock["total_is_exact"]),
            (Some(IN_STOCK), &true.into()),
            "a filter's matches are counted exactly by the search index"
        );
        let sturdy = app.get_json("/?q=sturdy&per_page=2").await;
        assert_eq!(
            (sturdy["total"].as_u64(), &sturdy["total_is_exact"]),
            (Some(SIZE), &true.into()),
            "the search index counts every word match exactly"
        );
        let deep = app.get_json("/?q=sturdy&per_page=100&page=30").await;
        assert_eq!(
            (deep["total"].as_u64(), &deep["total_is_exact"]),
            (Some(SIZE), &true.into())
        );
        let partial = app.get_json("/?q=sturd&per_page=2").await;
        let search_bound = products::catalogue::list::counts::SEARCH_EXACT_UP_TO;
        assert_eq!(
            (partial["total"].as_u64(), &partial["total_is_exact"]),
            (Some(search_bound), &false.into()),
            "a substring search counts its matches up to its own bound"
        );
        assert_eq!(deep["items"].as_array().map(Vec::len), Some(100));
        let narrow = app.get_json("/?category=Category%203&max_price=100").await;
        assert_eq!(narrow["total_is_exact"], true);
        let facets = app.get_json("/?facets=category").await;
        let sum: u64 = facets["facets"]["category"].as_array().expect("categories").iter().map(|c| c["count"].as_u64().unwrap_or(0)).sum();
        assert_eq!(sum, SIZE);
    }

    async fn a_deep_page_is_served_and_counted_to_its_end(db) {
        let app = large(db).await;
        let deep = app.get_json("/?in_stock=true&per_page=100&page=101").await;
        assert_eq!(deep["items"].as_array().map(Vec::len), Some(100));
        assert_eq!((deep["total"].as_u64(), &deep["total_is_exact"]), (Some(IN_STOCK), &true.into()));
        let shallow = app.get_json("/?in_stock=true&per_page=50&page=201").await;
        assert_eq!(deep["items"].as_array().expect("items")[..50], shallow["items"].as_array().expect("items")[..], "the same rows, whatever the page size");
        let whole = app.get_json("/?per_page=100&page=101").await;
        assert_eq!(whole["items"].as_array().map(Vec::len), Some(100), "a deep page of the whole catalogue");
        let granite = app.get_json("/?q=granite+kettle&per_page=3").await;
        assert_eq!(granite["items"][0]["title"].as_str().map(|t| t.starts_with("Granite Kettle")), Some(true));
    }
}
