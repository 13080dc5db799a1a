//! `POST /`: creating products.

use serde_json::{Value, json};

use crate::helpers::*;

common::backend_tests! {
    async fn create_returns_201_with_location_etag_and_the_product(db) {
        let app = spawn_app(db).await;
        let response = app
            .post_product(Some("staff"), &json!({
                "title": "Blue Widget X", "price": "19.99", "category": "Gadgets",
                "brand": "Acme", "stock_qty": 5, "description": "A widget.",
                "image_url": "https://img.example.com/w.png"
            }))
            .await;
        assert_eq!(response.status(), 201);
        let location = response.headers()["location"].to_str().expect("location").to_string();
        let etag = response.headers()["etag"].to_str().expect("etag").to_string();
        let body: serde_json::Value = response.json().await.expect("json");
        let id = id_of(&body);
        assert_eq!(location, format!("/{id}"));
        assert_eq!(body["title"], "Blue Widget X");
        assert_eq!(body["slug"], "blue-widget-x");
        assert_eq!(body["price"], "19.99");
        assert_eq!(body["currency"], "USD");
        assert_eq!(body["stock_qty"], 5);
        assert_eq!(body["in_stock"], true);
        assert_eq!(body["brand"], "Acme");
        assert_eq!(body["image_url"], "https://img.example.com/w.png");
        assert!(body["created_at"].is_string());
        let stored = app.get(&location).await;
        assert_eq!(stored.headers()["etag"].to_str().expect("etag"), etag);
    }

    async fn admins_may_create_too(db) {
        let app = spawn_app(db).await;
        let response = app.post_product(Some("admin"), &product("Admin Thing", "1")).await;
        assert_eq!(response.status(), 201);
    }

    async fn location_honours_the_forwarded_prefix(db) {
        let app = spawn_app(db).await;
        let response = app
            .request(reqwest::Method::POST, "/", Some("staff"))
            .header("X-Forwarded-Prefix", "/products")
            .json(&product("Prefixed", "2.50"))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 201);
        let location = response.headers()["location"].to_str().expect("location").to_string();
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(location, format!("/products/{}", id_of(&body)));
    }

    async fn price_numbers_are_read_exactly_and_written_as_strings(db) {
        let app = spawn_app(db).await;
        let body = app.create(json!({"title": "Number Price", "price": 0.1})).await;
        assert_eq!(body["price"], "0.10");
        let body = app.create(json!({"title": "Whole Price", "price": 20})).await;
        assert_eq!(body["price"], "20.00");
    }

    async fn defaults_are_usd_no_stock_and_empty_description(db) {
        let app = spawn_app(db).await;
        let body = app.create(json!({"title": "Plain"})).await;
        assert_eq!(body["currency"], "USD");
        assert_eq!(body["stock_qty"], 0);
        assert_eq!(body["in_stock"], false);
        assert_eq!(body["description"], "");
        assert_eq!(body["brand"], serde_json::Value::Null);
    }

    async fn a_given_slug_and_currency_are_kept(db) {
        let app = spawn_app(db).await;
        let body = app
            .create(json!({"title": "Anything", "slug": "my-slug-2", "currency": "EUR"}))
            .await;
        assert_eq!(body["slug"], "my-slug-2");
        assert_eq!(body["currency"], "EUR");
    }

    async fn the_derived_slug_is_ascii_folded(db) {
        let app = spawn_app(db).await;
        let body = app.create(json!({"title": "  Crème Brûlée: Deluxe Set!  "})).await;
        assert_eq!(body["slug"], "creme-brulee-deluxe-set");
        assert_eq!(body["title"], "Crème Brûlée: Deluxe Set!");
    }

    async fn anonymous_create_is_401_with_a_bearer_challenge(db) {
        let app = spawn_app(db).await;
        let response = app.post_product(None, &product("X", "1")).await;
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        problem(response, 401).await;
        assert_eq!(app.get_json("/").await["total"], 0);
    }

    async fn a_forged_token_is_401(db) {
        let app = spawn_app(db).await;
        let response = app
            .client
            .post(app.url("/"))
            .bearer_auth("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
            .json(&product("X", "1"))
            .send()
            .await
            .expect("request");
        problem(response, 401).await;
    }

    async fn customers_may_not_create(db) {
        let app = spawn_app(db).await;
        let response = app.post_product(Some("customer"), &product("X", "1")).await;
        problem(response, 403).await;
        assert_eq!(app.get_json("/").await["total"], 0);
    }

    async fn every_invalid_field_is_listed(db) {
        let app = spawn_app(db).await;
        let response = app
            .post_product(Some("staff"), &json!({
                "title": "Bad", "price": "-1.50", "currency": "usd", "slug": "Not A Slug",
                "stock_qty": -1, "category": "", "image_url": "javascript:alert(1)"
            }))
            .await;
        let body = problem(response, 422).await;
        assert_eq!(
            invalid_fields(&body),
            ["category", "currency", "image_url", "price", "slug", "stock_qty"]
        );
        assert_eq!(app.get_json("/").await["total"], 0);
    }

    async fn missing_required_fields_are_listed(db) {
        let app = spawn_app(db).await;
        let body = problem(app.post_product(Some("staff"), &json!({})).await, 422).await;
        assert_eq!(invalid_fields(&body), ["category", "price", "title"]);
    }

    async fn a_price_with_three_decimals_is_refused(db) {
        let app = spawn_app(db).await;
        let response = app.post_product(Some("staff"), &product("Precise", "1.999")).await;
        let body = problem(response, 422).await;
        assert_eq!(body["errors"][0]["field"], "price");
        assert_eq!(body["errors"][0]["message"], "must have at most 2 decimal places");
    }

    async fn a_price_number_is_read_from_its_own_text_so_extra_decimals_are_refused(db) {
        let app = spawn_app(db).await;
        // As an f64 this is 20.0: the digits must be read as written.
        for price in ["19.999999999999999999", "0.0000000000000000000000000000001", "1.001"] {
            let body = format!(r#"{{"title": "Precise", "category": "Books", "price": {price}}}"#);
            let response = app.send_raw(reqwest::Method::POST, "/", Some("staff"), &body).await;
            let problem = problem(response, 422).await;
            assert_eq!(invalid_fields(&problem), ["price"], "{price}");
            assert_eq!(problem["errors"][0]["message"], "must have at most 2 decimal places");
        }
        assert!(titles(&app, "").await.is_empty());
    }

    async fn a_price_string_beyond_decimal_precision_is_refused_not_rounded(db) {
        let app = spawn_app(db).await;
        let response = app
            .post_product(Some("staff"), &product("Precise", "1.00000000000000000000000000001"))
            .await;
        let body = problem(response, 422).await;
        assert_eq!(invalid_fields(&body), ["price"]);
        assert!(titles(&app, "").await.is_empty());
    }

    async fn a_price_number_with_trailing_zeros_is_exact(db) {
        let app = spawn_app(db).await;
        let body = r#"{"title": "Zeros", "category": "Books", "price": 19.9900000000000000000000}"#;
        let response = app.send_raw(reqwest::Method::POST, "/", Some("staff"), body).await;
        assert_eq!(response.status(), 201);
        let product: serde_json::Value = response.json().await.expect("json");
        assert_eq!(product["price"], "19.99");
    }

    async fn an_unknown_currency_is_refused(db) {
        let app = spawn_app(db).await;
        let mut body = product("Odd Money", "1");
        body["currency"] = json!("XYZ");
        let body = problem(app.post_product(Some("staff"), &body).await, 422).await;
        assert_eq!(invalid_fields(&body), ["currency"]);
    }

    async fn a_title_without_latin_letters_gets_the_fallback_slug_once(db) {
        let app = spawn_app(db).await;
        let response = app.post_product(Some("staff"), &product("!!!", "1")).await;
        assert_eq!(response.status(), 201);
        let created: Value = response.json().await.expect("json");
        assert_eq!(created["slug"], "product");
        // A second one would take the same slug: a conflict, as any taken slug.
        let again = app.post_product(Some("staff"), &product("日本", "1")).await;
        assert_eq!(again.status(), 409);
    }

    async fn unknown_fields_are_refused_by_name(db) {
        let app = spawn_app(db).await;
        let mut body = product("Sneaky", "1");
        body["in_stock"] = json!(true);
        let body = problem(app.post_product(Some("staff"), &body).await, 422).await;
        assert_eq!(invalid_fields(&body), ["in_stock"]);
    }

    async fn a_non_json_body_is_415(db) {
        let app = spawn_app(db).await;
        let response = app
            .request(reqwest::Method::POST, "/", Some("staff"))
            .body("title=x")
            .send()
            .await
            .expect("request");
        problem(response, 415).await;
    }

    async fn a_duplicate_slug_is_409(db) {
        let app = spawn_app(db).await;
        app.create(json!({"title": "Blue Widget"})).await;
        let response = app.post_product(Some("staff"), &product("Blue  Widget!", "3")).await;
        let body = problem(response, 409).await;
        assert!(body["detail"].as_str().expect("detail").contains("blue-widget"));
        assert_eq!(app.get_json("/").await["total"], 1);
    }
}

mod tokens {
    use serde_json::json;

    use crate::helpers::*;

    fn signed_with(app: &TestApp, change: impl FnOnce(&mut serde_json::Value)) -> String {
        let mut claims = app.claims("staff");
        change(&mut claims);
        app.sign(&claims)
    }

    common::backend_tests! {
        async fn an_expired_token_is_401(db) {
            let app = spawn_app(db).await;
            let token = signed_with(&app, |c| {
                c["exp"] = json!(c["iat"].as_i64().unwrap_or(0) - 3600);
            });
            let response = app.client.post(app.url("/")).bearer_auth(token)
                .json(&product("Late", "1")).send().await.expect("request");
            let body = problem(response, 401).await;
            assert_eq!(body["detail"], "the access token has expired");
        }

        async fn a_token_for_another_audience_is_401(db) {
            let app = spawn_app(db).await;
            let token = signed_with(&app, |c| c["aud"] = json!("elsewhere"));
            let response = app.client.post(app.url("/")).bearer_auth(token)
                .json(&product("Elsewhere", "1")).send().await.expect("request");
            problem(response, 401).await;
            assert_eq!(app.get_json("/").await["total"], 0);
        }
    }
}
