//! `/openapi.json` and `/docs`.

use crate::helpers::*;

common::backend_tests! {
    async fn the_openapi_server_url_is_the_forwarded_prefix(db) {
        let app = spawn_app(db).await;
        let response = app
            .client
            .get(app.url("/openapi.json"))
            .header("X-Forwarded-Prefix", "/products")
            .send()
            .await
            .expect("request");
        let doc: serde_json::Value = response.json().await.expect("json");
        assert_eq!(doc["servers"][0]["url"], "/products");
        let direct = app.get_json("/openapi.json").await;
        assert_eq!(direct["servers"][0]["url"], "/");
    }

    async fn the_openapi_document_describes_every_endpoint(db) {
        let app = spawn_app(db).await;
        let doc = app.get_json("/openapi.json").await;
        for (path, methods) in [
            ("/", &["get", "post"][..]),
            ("/{id}", &["get", "patch", "delete"][..]),
            ("/slug/{slug}", &["get"][..]),
            ("/{id}/stock", &["post"][..]),
            ("/categories", &["get"][..]),
            ("/health", &["get"][..]),
            ("/ready", &["get"][..]),
        ] {
            for method in methods {
                assert!(doc["paths"][path][method].is_object(), "{method} {path}");
            }
        }
        for schema in ["Product", "ProductPage", "CreateProduct", "UpdateProduct", "StockChangeRequest", "Category", "Problem"] {
            assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
        }
        assert_eq!(doc["components"]["schemas"]["Product"]["properties"]["price"]["type"], "string");
    }

    async fn the_document_states_the_input_rules(db) {
        // What schemathesis (scripts/api-contract) relies on.
        let app = spawn_app(db).await;
        let doc = app.get_json("/openapi.json").await;
        let schemas = &doc["components"]["schemas"];
        let create = &schemas["CreateProduct"];
        let mut required: Vec<&str> = create["required"].as_array().expect("required").iter().filter_map(|v| v.as_str()).collect();
        required.sort_unstable();
        assert_eq!(required, ["category", "price", "title"]);
        let title = &create["properties"]["title"];
        assert_eq!(title["type"], "string", "required fields are not nullable");
        assert_eq!(title["pattern"], common::input::label_pattern());
        assert_eq!(title["maxLength"], 200);
        assert_eq!(create["properties"]["brand"]["type"], serde_json::json!(["string", "null"]));
        let price = &create["properties"]["price"]["anyOf"];
        assert_eq!(price[0]["pattern"], products::domain::price::TEXT_PATTERN);
        assert_eq!(price[1]["multipleOf"], 0.01);
        assert_eq!(create["properties"]["slug"]["pattern"], products::domain::slug::PATTERN);
        assert!(create["properties"]["currency"]["enum"].as_array().is_some_and(|codes| codes.contains(&"EUR".into())));
        let update = &schemas["UpdateProduct"]["properties"];
        assert_eq!(update["title"]["type"], "string", "a title cannot be cleared");
        assert_eq!(update["image_url"]["type"], serde_json::json!(["string", "null"]));
        let delta = &schemas["StockChangeRequest"]["properties"]["delta"]["oneOf"];
        assert_eq!((delta[0]["maximum"].as_i64(), delta[1]["minimum"].as_i64()), (Some(-1), Some(1)));
        let params = doc["paths"]["/"]["get"]["parameters"].as_array().expect("params");
        let param = |name: &str| {
            params.iter().find(|p| p["name"] == name).map(|p| p["schema"].clone()).expect(name)
        };
        assert!(param("per_page").get("maximum").is_none(), "clamped, not refused");
        assert_eq!(param("sort")["enum"].as_array().map(Vec::len), Some(7));
        assert_eq!(param("facets")["pattern"], "^(category|brand|price)(,(category|brand|price))*$");
        let page = &schemas["ProductPage"];
        assert!(page["required"].as_array().is_some_and(|r| r.contains(&"total_is_exact".into())));
        assert!(page["required"].as_array().is_some_and(|r| !r.contains(&"facets".into())));
        assert_eq!(param("min_price")["pattern"], products::domain::price::TEXT_PATTERN);
    }

    async fn docs_redirects_under_the_forwarded_prefix(db) {
        let app = spawn_app(db).await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let response = client
            .get(app.url("/docs"))
            .header("X-Forwarded-Prefix", "/products")
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 308);
        assert_eq!(response.headers()["location"], "/products/docs/");
    }

    async fn swagger_ui_is_served_and_reads_the_relative_document(db) {
        let app = spawn_app(db).await;
        let page = app.get("/docs/").await;
        assert_eq!(page.status(), 200);
        assert!(page.text().await.expect("html").contains("swagger-ui"));
        let init = app.get("/docs/swagger-initializer.js").await;
        assert_eq!(init.status(), 200);
        assert!(init.text().await.expect("js").contains("../openapi.json"));
    }
}
