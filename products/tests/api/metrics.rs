//! The metrics listener: every products metric from start, counters that
//! move with the requests that should move them, route templates as labels.

use common::testing::metric_value;
use serde_json::json;

use crate::helpers::*;

common::backend_tests! {
    async fn every_products_metric_is_served_from_start(db) {
        let app = spawn_app(db).await;
        let text = app.metrics().await;
        for series in [
            "products_changes_total{change=\"created\"}",
            "products_changes_total{change=\"updated\"}",
            "products_changes_total{change=\"deleted\"}",
            "products_stock_changes_total{direction=\"added\"}",
            "products_stock_changes_total{direction=\"removed\"}",
            "products_stock_conflicts_total{reason=\"insufficient\"}",
            "products_stock_conflicts_total{reason=\"over_maximum\"}",
            "http_requests_in_flight",
            "db_query_duration_seconds_count{operation=\"select\",outcome=\"ok\"}",
            "db_query_duration_seconds_count{operation=\"other\",outcome=\"error\"}",
        ] {
            assert_eq!(metric_value(&text, series), Some(0.0), "{series} in\n{text}");
        }
        for gauge in [
            "db_pool_connections_open",
            "db_pool_connections_in_use",
            "db_pool_connections_idle",
            "db_pool_connections_max",
        ] {
            assert!(metric_value(&text, gauge).is_some(), "{gauge} in\n{text}");
        }
        assert!(metric_value(&text, "db_pool_connections_max").expect("max") >= 1.0);
        assert!(text.contains("# TYPE db_query_duration_seconds histogram"), "{text}");
    }

    async fn writes_and_stock_conflicts_move_their_counters(db) {
        let app = spawn_app(db).await;
        let id = id_of(&app.create(json!({"title": "Scarce", "stock_qty": 2})).await);
        assert_eq!(app.change_stock(id, Some("staff"), 3).await.status(), 200);
        problem(app.change_stock(id, Some("staff"), -9).await, 409).await;
        let text = app.metrics().await;
        let value = |series: &str| metric_value(&text, series).unwrap_or_else(|| panic!("{series} in\n{text}"));
        assert_eq!(value("products_changes_total{change=\"created\"}"), 1.0);
        assert_eq!(value("products_changes_total{change=\"updated\"}"), 0.0);
        assert_eq!(value("products_stock_changes_total{direction=\"added\"}"), 1.0);
        assert_eq!(value("products_stock_changes_total{direction=\"removed\"}"), 0.0);
        assert_eq!(value("products_stock_conflicts_total{reason=\"insufficient\"}"), 1.0);
        assert_eq!(value("products_stock_conflicts_total{reason=\"over_maximum\"}"), 0.0);
        assert!(value("db_query_duration_seconds_count{operation=\"insert\",outcome=\"ok\"}") >= 1.0);
    }

    async fn requests_are_labelled_by_route_template_never_by_raw_path(db) {
        let app = spawn_app(db).await;
        let id = id_of(&app.create(json!({"title": "Bolts", "stock_qty": 1})).await);
        problem(app.change_stock(id, Some("staff"), -5).await, 409).await;
        assert_eq!(app.get(&format!("/{id}")).await.status(), 200);
        assert_eq!(app.get("/999999").await.status(), 404);
        assert_eq!(app.get("/no/such/route/here").await.status(), 404);
        let text = app.metrics().await;
        let value = |series: &str| metric_value(&text, series).unwrap_or_else(|| panic!("{series} in\n{text}"));
        assert_eq!(value("http_requests_total{route=\"/{id}/stock\",method=\"POST\",status=\"409\"}"), 1.0);
        assert_eq!(value("http_requests_total{route=\"/{id}\",method=\"GET\",status=\"200\"}"), 1.0);
        assert_eq!(value("http_requests_total{route=\"/{id}\",method=\"GET\",status=\"404\"}"), 1.0);
        assert_eq!(value("http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}"), 1.0);
        assert_eq!(value("http_request_duration_seconds_count{route=\"/{id}/stock\",method=\"POST\"}"), 1.0);
        assert!(!text.contains(&format!("route=\"/{id}")), "a raw id became a label:\n{text}");
        assert!(!text.contains("999999"), "{text}");
        assert_eq!(value("http_requests_in_flight"), 0.0);
    }

    async fn the_metrics_listener_serves_only_get_metrics(db) {
        let app = spawn_app(db).await;
        let r = app.client.get(format!("{}/metrics", app.metrics_address)).send().await.expect("GET");
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"].to_str().expect("type").starts_with("text/plain; version=0.0.4"));
        let r = app.client.get(format!("{}/", app.metrics_address)).send().await.expect("GET /");
        assert_eq!(r.status(), 404);
        let r = app.client.post(format!("{}/metrics", app.metrics_address)).send().await.expect("POST");
        assert_eq!(r.status(), 405);
        // The API listener has no /metrics of its own.
        assert_eq!(app.get("/metrics").await.status(), 404);
    }
}

#[tokio::test]
async fn a_taken_metrics_address_stops_start_up_naming_the_variable() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let db = common::testing::TestDb::sqlite();
    let config = products::Config::load(&common::config::Sources::only([
        ("DATABASE_URL".to_string(), db.url.clone()),
        ("LISTEN_ADDR".to_string(), "127.0.0.1:0".to_string()),
        ("METRICS_LISTEN_ADDR".to_string(), addr.clone()),
        (
            "JWKS_URL".to_string(),
            "http://127.0.0.1:9/jwks".to_string(),
        ),
    ]))
    .expect("config");
    let err = products::Application::build(config)
        .await
        .expect_err("address taken");
    let message = format!("{err:#}");
    assert!(
        message.contains("METRICS_LISTEN_ADDR") && message.contains(&addr),
        "{message}"
    );
}
