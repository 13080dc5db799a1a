//! The shipped route table with the storefront (`gateway/shop.toml`): the
//! same API as `gateway/gateway.toml`, and `storefront/` at `/` as the
//! issue asks (index fallback for client-side routes, a year of cache for
//! the content-named assets, `no-cache` for the page, precompressed
//! siblings, the Content-Security-Policy), over real TCP through the real
//! gateway and services. The browser tests (`tests/storefront/`) use the
//! same table.

mod support;

use launcher::{System, SystemOptions};
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, EXPIRES, IF_NONE_MATCH,
    VARY,
};

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: http:; connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The route table as TOML.
fn table(path: &std::path::Path) -> toml::Table {
    std::fs::read_to_string(path)
        .expect("route table")
        .parse()
        .expect("TOML")
}

#[test]
fn shop_toml_is_gateway_toml_plus_the_two_storefront_routes() {
    let plain = table(&launcher::default_route_table());
    let mut shop = table(&launcher::shop_route_table());
    let routes = shop
        .get_mut("routes")
        .and_then(|r| r.as_array_mut())
        .expect("[[routes]]");
    let before = routes.len();
    routes.retain(|route| route.get("files").is_none());
    assert_eq!(before - routes.len(), 2, "the assets and the page");
    assert_eq!(
        shop, plain,
        "gateway/shop.toml differs from gateway/gateway.toml beyond its storefront routes"
    );
}

/// The content-named asset directory (`v-<hash>`) of `storefront/`.
fn asset_dir() -> String {
    std::fs::read_dir(launcher::storefront_dir())
        .expect("storefront/")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|name| name.starts_with("v-"))
        .expect("storefront/v-<hash>/")
}

struct Served {
    system: System,
    client: reqwest::Client,
    _data: tempfile::TempDir,
}

impl Served {
    async fn start() -> Served {
        let data = tempfile::tempdir().expect("data dir");
        let mut options = SystemOptions::ephemeral(data.path());
        options.gateway_config = support::shop_route_table(data.path());
        options.products_settings = vec![("SEED_DEMO_CATALOGUE".into(), "true".into())];
        let system = System::start(options).await.expect("system starts");
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Served {
            system,
            client,
            _data: data,
        }
    }

    async fn get(&self, path: &str, encoding: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(format!("{}{path}", self.system.base_url()));
        if let Some(encoding) = encoding {
            request = request.header(ACCEPT_ENCODING, encoding);
        }
        request.send().await.expect(path)
    }
}

fn header(res: &reqwest::Response, name: impl reqwest::header::AsHeaderName) -> &str {
    res.headers()
        .get(name)
        .map(|v| v.to_str().expect("ASCII"))
        .unwrap_or("")
}

fn storefront_file(path: &str) -> Vec<u8> {
    std::fs::read(launcher::storefront_dir().join(path)).expect(path)
}

#[tokio::test]
async fn the_page_is_served_at_slash_and_for_every_client_side_route_with_no_cache_and_the_csp() {
    let served = Served::start().await;
    let page = storefront_file("index.html");
    for path in [
        "/",
        "/index.html",
        "/product/nimbus-14-laptop",
        "/admin/users?q=x",
    ] {
        let res = served.get(path, None).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&res, CONTENT_TYPE), "text/html", "{path}");
        assert_eq!(header(&res, CACHE_CONTROL), "no-cache", "{path}");
        assert_eq!(header(&res, "content-security-policy"), CSP, "{path}");
        assert_eq!(header(&res, "x-content-type-options"), "nosniff");
        assert_eq!(header(&res, "x-frame-options"), "DENY");
        assert_eq!(header(&res, "referrer-policy"), "no-referrer");
        assert_eq!(header(&res, CONTENT_ENCODING), "", "{path}: not asked for");
        assert_eq!(res.bytes().await.expect("body").as_ref(), page, "{path}");
    }
    // Revalidation: the page's ETag answers 304.
    let res = served.get("/", None).await;
    let etag = header(&res, ETAG).to_string();
    assert!(!etag.is_empty());
    let res = served
        .client
        .get(format!("{}/", served.system.base_url()))
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .expect("conditional");
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    // Precompressed siblings by Accept-Encoding, brotli preferred.
    let res = served.get("/", Some("gzip, br")).await;
    assert_eq!(header(&res, CONTENT_ENCODING), "br");
    assert_eq!(header(&res, VARY), "Accept-Encoding");
    assert_eq!(
        res.bytes().await.expect("body").as_ref(),
        storefront_file("index.html.br")
    );
    let res = served.get("/product/x", Some("gzip")).await;
    assert_eq!(header(&res, CONTENT_ENCODING), "gzip");
    assert_eq!(
        res.bytes().await.expect("body").as_ref(),
        storefront_file("index.html.gz")
    );
}

#[tokio::test]
async fn assets_are_cached_for_a_year_and_a_missing_asset_is_404_not_the_page() {
    let served = Served::start().await;
    let dir = asset_dir();
    for (file, kind) in [
        ("app.js", "text/javascript"),
        ("views/catalogue.js", "text/javascript"),
        ("style.css", "text/css"),
        ("icon.svg", "image/svg+xml"),
    ] {
        let path = format!("/{dir}/{file}");
        let res = served.get(&path, Some("br")).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&res, CONTENT_TYPE), kind, "{path}");
        assert_eq!(
            header(&res, CACHE_CONTROL),
            "max-age=31536000, public, immutable",
            "{path}"
        );
        assert!(!header(&res, EXPIRES).is_empty(), "{path}");
        assert_eq!(header(&res, CONTENT_ENCODING), "br", "{path}");
        assert_eq!(header(&res, "content-security-policy"), CSP, "{path}");
        assert_eq!(
            res.bytes().await.expect("body").as_ref(),
            storefront_file(&format!("{dir}/{file}.br")),
            "{path}"
        );
    }
    for path in [
        format!("/{dir}/no-such.js"),
        "/v-000000000000/app.js".to_string(),
    ] {
        let res = served.get(&path, None).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(
            !header(&res, CONTENT_TYPE).starts_with("text/html"),
            "{path}: not the page"
        );
    }
}

#[tokio::test]
async fn the_api_routes_are_unchanged_and_the_files_refuse_what_they_should() {
    let served = Served::start().await;
    // The API: the products service's JSON, not the storefront's headers.
    let res = served.get("/products/?per_page=1", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(header(&res, CONTENT_TYPE).starts_with("application/json"));
    assert_eq!(header(&res, "content-security-policy"), "");
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["items"].as_array().expect("items").len(), 1);
    let res = served.get("/users/docs/", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = served.get("/users", None).await;
    assert_eq!(res.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(header(&res, "location"), "/users/");
    let res = served.get("/users/me", None).await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "the users service answers"
    );

    // Files are read, never written: other methods are refused.
    let res = served
        .client
        .post(format!("{}/", served.system.base_url()))
        .body("x")
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&res, "allow"), "GET, HEAD");
    // An encoded separator cannot reach outside the assets.
    let res = served
        .get(&format!("/{}/..%2F..%2FCargo.toml", asset_dir()), None)
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}
