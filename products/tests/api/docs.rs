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
