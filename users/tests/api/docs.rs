use serde_json::Value;

use crate::helpers::*;

async fn openapi(app: &TestApp, prefix: Option<&str>) -> Value {
    let mut request = app.client.get(app.url("/openapi.json"));
    if let Some(prefix) = prefix {
        request = request.header("x-forwarded-prefix", prefix);
    }
    let r = request.send().await.expect("GET");
    assert_eq!(r.status(), 200);
    r.json().await.expect("json")
}

common::backend_tests! {
    async fn the_document_states_the_input_rules(db) {
        // What schemathesis (scripts/api-contract) relies on; the rules
        // themselves are tested in common::input and the endpoints' tests.
        let app = spawn_app(&db).await;
        let doc = openapi(&app, None).await;
        let schemas = &doc["components"]["schemas"];
        let name = &schemas["ProfileUpdate"]["properties"]["first_name"];
        assert_eq!(name["pattern"], common::input::label_pattern());
        assert_eq!((name["minLength"].as_u64(), name["maxLength"].as_u64()), (Some(1), Some(100)));
        assert_eq!(name["type"], serde_json::json!(["string", "null"]));
        let avatar = &schemas["ProfileUpdate"]["properties"]["avatar_url"];
        assert_eq!(avatar["pattern"], common::input::WEB_URL_PATTERN);
        let register = &schemas["RegisterRequest"]["properties"];
        assert_eq!(register["email"]["format"], "idn-email");
        assert_eq!(register["last_name"]["pattern"], common::input::label_pattern());
        let form = &schemas["LoginForm"]["properties"];
        assert_eq!(form["grant_type"]["enum"], serde_json::json!(["password"]));
        assert_eq!(form["grant_type"]["type"], "string");
        assert_eq!(form["password"]["minLength"], 1);
        let params = doc["paths"]["/"]["get"]["parameters"].as_array().expect("params");
        let param = |name: &str| {
            params.iter().find(|p| p["name"] == name).map(|p| p["schema"].clone()).expect(name)
        };
        // Clamped, so no maximum; any whole number from 1 is accepted.
        assert_eq!(param("per_page")["minimum"], 1);
        assert!(param("per_page").get("maximum").is_none());
        assert_eq!(param("page")["maximum"], u64::from(u32::MAX));
    }

    async fn openapi_documents_every_endpoint(db) {
        let app = spawn_app(&db).await;
        let doc = openapi(&app, None).await;
        assert!(doc["openapi"].as_str().expect("version").starts_with("3."));
        let paths = doc["paths"].as_object().expect("paths");
        for (path, method) in [
            ("/auth/register", "post"),
            ("/auth/login", "post"),
            ("/auth/refresh", "post"),
            ("/auth/logout", "post"),
            ("/me", "get"),
            ("/me", "patch"),
            ("/me/password", "put"),
            ("/", "get"),
            ("/{id}", "get"),
            ("/{id}", "patch"),
            ("/{id}", "delete"),
            ("/.well-known/jwks.json", "get"),
            ("/health", "get"),
            ("/ready", "get"),
        ] {
            assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path}");
        }
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        for name in ["Problem", "FieldError", "UserView", "TokenPair", "RegisterRequest"] {
            assert!(schemas.contains_key(name), "{name}");
        }
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    }

    async fn openapi_server_url_honours_the_forwarded_prefix(db) {
        let app = spawn_app(&db).await;
        assert_eq!(openapi(&app, Some("/users")).await["servers"][0]["url"], "/users");
        assert_eq!(openapi(&app, None).await["servers"][0]["url"], "/");
    }

    async fn swagger_ui_is_served_from_vendored_assets(db) {
        let app = spawn_app(&db).await;
        let r = app.get("/docs/").await;
        assert_eq!(r.status(), 200);
        assert!(r.text().await.expect("html").contains("swagger-ui"));
        let r = app.get("/docs/swagger-ui-bundle.js").await;
        assert_eq!(r.status(), 200);
    }

    async fn swagger_ui_loads_the_document_through_the_prefix(db) {
        let app = spawn_app(&db).await;
        let r = app
            .client
            .get(app.url("/docs/swagger-initializer.js"))
            .header("x-forwarded-prefix", "/users")
            .send()
            .await
            .expect("GET");
        assert!(r.text().await.expect("js").contains("/users/openapi.json"));
    }

    async fn docs_without_a_slash_redirects_within_the_prefix(db) {
        let app = spawn_app(&db).await;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let r = client
            .get(app.url("/docs"))
            .header("x-forwarded-prefix", "/users")
            .send()
            .await
            .expect("GET");
        assert_eq!(r.status(), 308);
        assert_eq!(r.headers()["location"], "/users/docs/");
    }
}
