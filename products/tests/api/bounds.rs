//! Every numeric query parameter and body field has a range; a value
//! outside it, however large, is a `422` naming the field (never a panic or
//! a `500`) and changes nothing.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

/// Far outside every range: the extremes of i64 and u64, past u64, and
/// numbers that do not fit any integer.
const HUGE: &[&str] = &[
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "1e30",
    "1e400",
];

async fn refused_query(app: &TestApp, query: &str, field: &str) {
    let body = problem(app.get(&format!("/?{query}")).await, 422).await;
    assert_eq!(invalid_fields(&body), [field], "{query}");
}

common::backend_tests! {
    async fn page_outside_1_to_u32_max_is_422_naming_page(db) {
        let app = spawn_app(db).await;
        for page in HUGE.iter().chain(&["0", "-1", "4294967296", "1.5"]) {
            refused_query(&app, &format!("page={page}"), "page").await;
        }
        assert_eq!(app.get_json("/?page=4294967295").await["page"], 4_294_967_295_u64);
    }

    async fn per_page_below_1_is_422_and_any_whole_number_above_100_is_clamped(db) {
        let app = spawn_app(db).await;
        for per_page in ["0", "-1", "-9223372036854775809", "1e30", "2.5"] {
            refused_query(&app, &format!("per_page={per_page}"), "per_page").await;
        }
        for per_page in ["101", "9223372036854775808", "18446744073709551616"] {
            assert_eq!(app.get_json(&format!("/?per_page={per_page}")).await["per_page"], 100);
        }
    }

    async fn price_bounds_outside_0_to_the_price_maximum_are_422(db) {
        let app = spawn_app(db).await;
        for field in ["min_price", "max_price"] {
            for value in HUGE.iter().chain(&["100000000", "-0.01"]) {
                refused_query(&app, &format!("{field}={value}"), field).await;
            }
        }
    }

    async fn a_price_outside_0_to_the_price_maximum_is_422(db) {
        let app = spawn_app(db).await;
        for price in HUGE.iter().chain(&["100000000", "-1"]) {
            let body = format!(r#"{{"title": "Huge", "category": "Books", "price": {price}}}"#);
            let response = app.send_raw(Method::POST, "/", Some("staff"), &body).await;
            let problem = problem(response, 422).await;
            assert_eq!(invalid_fields(&problem), ["price"], "{price}");
        }
        assert!(titles(&app, "").await.is_empty());
    }

    async fn a_patched_price_outside_0_to_the_price_maximum_is_422_and_changes_nothing(db) {
        let app = spawn_app(db).await;
        let id = id_of(&app.create(json!({"title": "Kept", "price": "5.00"})).await);
        for price in HUGE.iter().chain(&["100000000", "-1", "19.999999999999999999"]) {
            let body = format!(r#"{{"price": {price}}}"#);
            let response = app.send_raw(Method::PATCH, &format!("/{id}"), Some("staff"), &body).await;
            let problem = problem(response, 422).await;
            assert_eq!(invalid_fields(&problem), ["price"], "{price}");
        }
        assert_eq!(app.get_json(&format!("/{id}")).await["price"], "5.00");
    }

    async fn a_stock_qty_outside_0_to_the_stock_maximum_is_422(db) {
        let app = spawn_app(db).await;
        for qty in HUGE.iter().chain(&["1000000001", "-1", "1.5"]) {
            let body = format!(r#"{{"title": "Pile", "category": "Books", "price": "1", "stock_qty": {qty}}}"#);
            let response = app.send_raw(Method::POST, "/", Some("staff"), &body).await;
            let problem = problem(response, 422).await;
            assert_eq!(invalid_fields(&problem), ["stock_qty"], "{qty}");
        }
        assert!(titles(&app, "").await.is_empty());
    }

    async fn a_delta_outside_the_stock_range_is_422_and_changes_nothing(db) {
        let app = spawn_app(db).await;
        let id = id_of(&app.create(json!({"title": "Steady", "stock_qty": 5})).await);
        for delta in HUGE.iter().chain(&["1000000001", "-1000000001"]) {
            let body = format!(r#"{{"delta": {delta}}}"#);
            let response = app.send_raw(Method::POST, &format!("/{id}/stock"), Some("staff"), &body).await;
            let problem = problem(response, 422).await;
            assert_eq!(invalid_fields(&problem), ["delta"], "{delta}");
        }
        assert_eq!(app.get_json(&format!("/{id}")).await["stock_qty"], 5);
    }
}
