//! The demo catalogue.

use crate::helpers::*;

common::backend_tests! {
    async fn seed_demo_catalogue_fills_an_empty_database(db) {
        let app = spawn_app_with(db, &[("SEED_DEMO_CATALOGUE", "true")]).await;
        let page = app.get_json("/").await;
        assert_eq!(page["total"], products::demo::CATALOGUE.len());
        let categories = app.get_json("/categories").await;
        assert_eq!(categories.as_array().expect("categories").len(), 6);
        let headphones = app.get_json("/slug/aurora-wireless-headphones").await;
        assert_eq!(headphones["price"], "149.00");
    }

    async fn seeding_twice_adds_nothing_the_second_time(db) {
        let settings = db.settings();
        let app = spawn_app(db).await;
        let conn = common::db::connect(&settings).await.expect("connect");
        let first = products::demo::seed(&conn).await.expect("seed");
        let second = products::demo::seed(&conn).await.expect("seed again");
        assert_eq!(first, products::demo::CATALOGUE.len() as u64);
        assert_eq!(second, 0);
        assert_eq!(app.get_json("/").await["total"], products::demo::CATALOGUE.len());
    }

    async fn the_demo_catalogue_is_not_loaded_into_a_non_empty_database(db) {
        let settings = db.settings();
        let app = spawn_app(db).await;
        app.create(serde_json::json!({"title": "Mine"})).await;
        let conn = common::db::connect(&settings).await.expect("connect");
        assert_eq!(products::demo::seed_if_empty(&conn).await.expect("seed"), 0);
        assert_eq!(app.get_json("/").await["total"], 1);
    }
}
