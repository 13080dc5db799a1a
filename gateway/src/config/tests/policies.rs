//! `[routes.rate_limit]`, `[routes.cors]`, `[routes.compression]`,
//! `[routes.headers]`, `[routes.auth]`: defaults and every refusal.

use std::time::Duration;

use super::*;
use crate::config::policies::compression::Algorithm;
use crate::config::policies::rate_limit::RateLimitKey;

/// The `/users/` route with `table` (TOML lines after `[[routes]]`).
fn route_with(table: &str) -> String {
    format!("{GOOD}{table}\n")
}

#[test]
fn a_route_without_policy_tables_has_none() {
    let c = accepted(GOOD);
    assert_eq!(c.routes[0].policies, Default::default());
}

#[test]
fn rate_limit_defaults_and_the_edge_example() {
    let c = accepted(&route_with("[routes.rate_limit]\nrate = \"10/s\""));
    let r = c.routes[0].policies.rate_limit.clone().expect("on");
    assert_eq!(
        (r.requests, r.period, r.burst),
        (10, Duration::from_secs(1), 10)
    );
    assert_eq!(r.key, RateLimitKey::ClientIp);
    assert!(r.paths.is_empty());
    assert_eq!(r.max_keys, 100_000);
    let c = accepted(&route_with(
        "[routes.rate_limit]\nrate = \"10r/s\"\nburst = 20\npaths = [\"/users/auth/\"]\nkey = \"header:X-Api-Key\"\nmax_keys = 50",
    ));
    let r = c.routes[0].policies.rate_limit.clone().expect("on");
    assert_eq!(r.burst, 20);
    assert_eq!(r.paths, ["/users/auth/"]);
    assert_eq!(
        r.key,
        RateLimitKey::Header(http::HeaderName::from_static("x-api-key"))
    );
}

#[test]
fn rate_limit_refusals_name_the_key() {
    for (table, want) in [
        (
            "[routes.rate_limit]\nburst = 5",
            "FILE: routes[0].rate_limit.rate: a rate is required",
        ),
        (
            "[routes.rate_limit]\nrate = \"10/fortnight\"",
            "routes[0].rate_limit.rate: `10/fortnight` is not a rate",
        ),
        ("[routes.rate_limit]\nrate = \"0/s\"", "at least 1 request"),
        (
            "[routes.rate_limit]\nrate = \"10/s\"\nburst = 0",
            "routes[0].rate_limit.burst: must be at least 1",
        ),
        (
            "[routes.rate_limit]\nrate = \"10/s\"\nkey = \"cookie\"",
            "routes[0].rate_limit.key: `cookie` is not a key",
        ),
        (
            "[routes.rate_limit]\nrate = \"10/s\"\nkey = \"header:bad name\"",
            "`bad name` is not a valid header name",
        ),
        (
            "[routes.rate_limit]\nrate = \"10/s\"\nmax_keys = 0",
            "routes[0].rate_limit.max_keys: must be at least 1",
        ),
        (
            "[routes.rate_limit]\nrate = \"10/s\"\npaths = [\"/products/\"]",
            "routes[0].rate_limit.paths[0]: `/products/` is not under the route's prefix `/users/`",
        ),
        (
            "[routes.rate_limit]\nrate = \"10/s\"\npaths = [\"/users/../x/\"]",
            "routes[0].rate_limit.paths[0]: `/users/../x/` is not a normalised path",
        ),
        (
            "[routes.rate_limit]\nrate = \"10/s\"\nburstt = 3",
            "unknown field `burstt`",
        ),
    ] {
        assert_refused(&route_with(table), want);
    }
}

#[test]
fn cors_defaults_and_normalised_lists() {
    let c = accepted(&route_with(
        "[routes.cors]\nallow_origins = [\"HTTPS://Shop.Example\"]\nallow_headers = [\"Authorization\", \"Content-Type\"]",
    ));
    let cors = c.routes[0].policies.cors.clone().expect("on");
    assert_eq!(cors.allow_origins, ["https://shop.example"]);
    assert_eq!(cors.allow_methods, ["GET", "HEAD", "POST"]);
    assert_eq!(cors.allow_headers, ["authorization", "content-type"]);
    assert!(!cors.allow_credentials);
    assert_eq!(cors.max_age_secs, 600);
}

#[test]
fn cors_refusals_name_the_key() {
    for (table, want) in [
        (
            "[routes.cors]\nallow_methods = [\"GET\"]",
            "routes[0].cors.allow_origins: at least one origin is required",
        ),
        (
            "[routes.cors]\nallow_origins = [\"*\"]\nallow_credentials = true",
            "routes[0].cors.allow_origins[0]: `*` cannot be used with allow_credentials = true",
        ),
        (
            "[routes.cors]\nallow_origins = [\"*\", \"https://a.example\"]",
            "list nothing else beside it",
        ),
        (
            "[routes.cors]\nallow_origins = [\"https://a.example/\"]",
            "routes[0].cors.allow_origins[0]: `https://a.example/` is not an origin (an origin has no path",
        ),
        (
            "[routes.cors]\nallow_origins = [\"a.example\"]",
            "is not an origin (no scheme",
        ),
        (
            "[routes.cors]\nallow_origins = [\"https://a.example\", \"https://A.example\"]",
            "is listed twice",
        ),
        (
            "[routes.cors]\nallow_origins = [\"https://a.example\"]\nallow_methods = [\"G ET\"]",
            "routes[0].cors.allow_methods[0]: `G ET` is not a method",
        ),
        (
            "[routes.cors]\nallow_origins = [\"https://a.example\"]\nallow_methods = []",
            "at least one method is required",
        ),
        (
            "[routes.cors]\nallow_origins = [\"https://a.example\"]\nallow_headers = [\"x y\"]",
            "routes[0].cors.allow_headers[0]: `x y` is not a valid header name",
        ),
        (
            "[routes.cors]\nallow_origins = [\"https://a.example\"]\nallow_credentials = true\nallow_headers = [\"*\"]",
            "routes[0].cors.allow_headers: `*` means a literal `*` header",
        ),
        (
            "[routes.cors]\nallow_origins = [\"https://a.example\"]\nmax_age = \"forever\"",
            "routes[0].cors.max_age",
        ),
    ] {
        assert_refused(&route_with(table), want);
    }
}

#[test]
fn compression_defaults() {
    let c = accepted(&route_with("[routes.compression]"));
    let z = c.routes[0].policies.compression.clone().expect("on");
    assert_eq!(
        z.algorithms,
        [Algorithm::Zstd, Algorithm::Brotli, Algorithm::Gzip]
    );
    assert_eq!(z.min_size, 1024);
    assert!(z.types.iter().any(|t| t == "application/json"));
    assert_eq!((z.gzip_level, z.brotli_level, z.zstd_level), (6, 4, 3));
}

#[test]
fn compression_refusals_name_the_key() {
    for (table, want) in [
        (
            "[routes.compression]\nalgorithms = []",
            "routes[0].compression.algorithms: at least one of gzip, br, zstd is required",
        ),
        (
            "[routes.compression]\nalgorithms = [\"deflate\"]",
            "routes[0].compression.algorithms[0]: `deflate` is not an encoding",
        ),
        (
            "[routes.compression]\nalgorithms = [\"gzip\", \"gzip\"]",
            "routes[0].compression.algorithms[1]: `gzip` is listed twice",
        ),
        (
            "[routes.compression]\ngzip_level = 10",
            "routes[0].compression.gzip_level: 10 is out of range (1 to 9)",
        ),
        (
            "[routes.compression]\nbrotli_level = 12",
            "routes[0].compression.brotli_level: 12 is out of range (0 to 11)",
        ),
        (
            "[routes.compression]\nzstd_level = 0",
            "routes[0].compression.zstd_level: 0 is out of range (1 to 19)",
        ),
        (
            "[routes.compression]\ntypes = [\"json\"]",
            "routes[0].compression.types[0]: `json` is not a content type pattern",
        ),
        (
            "[routes.compression]\ntypes = [\"*/*\"]",
            "is not a content type pattern",
        ),
        (
            "[routes.compression]\nmin_size = \"1 parsec\"",
            "routes[0].compression.min_size",
        ),
    ] {
        assert_refused(&route_with(table), want);
    }
}

#[test]
fn header_rules_are_validated_and_secrets_redacted_in_config() {
    let c = accepted(&route_with(
        "[routes.headers]\nrequest_set = { \"X-Env\" = \"prod\", \"X-Api-Key\" = \"s3cr3t\" }\nresponse_remove = [\"Server\"]",
    ));
    let shown = serde_json::to_string(&c).expect("json");
    assert!(shown.contains("\"x-env\":\"prod\""), "{shown}");
    assert!(!shown.contains("s3cr3t"), "{shown}");
    assert!(shown.contains("\"x-api-key\":\"[redacted]\""), "{shown}");
    for (table, want) in [
        (
            "[routes.headers]\nrequest_set = { \"Content-Length\" = \"1\" }",
            "routes[0].headers.request_set.Content-Length: `content-length` is managed by the gateway",
        ),
        (
            "[routes.headers]\nrequest_add = { \"Host\" = \"x\" }",
            "`host` is managed by the gateway",
        ),
        (
            "[routes.headers]\nresponse_remove = [\"Transfer-Encoding\"]",
            "routes[0].headers.response_remove[0]: `transfer-encoding` is managed",
        ),
        (
            "[routes.headers]\nresponse_set = { \"Content-Encoding\" = \"gzip\" }",
            "`content-encoding` is managed",
        ),
        (
            "[routes.headers]\nrequest_set = { \"X-A\" = \"line\\nbreak\" }",
            "routes[0].headers.request_set.X-A: the value must be visible ASCII text",
        ),
        (
            "[routes.headers]\nrequest_set = { \"bad name\" = \"x\" }",
            "`bad name` is not a valid header name",
        ),
        (
            "[routes.headers]\nresponse_set = { \"X-A\" = \"1\" }\nresponse_remove = [\"x-a\"]",
            "routes[0].headers.response_remove[0]: `x-a` is both removed and set or added",
        ),
    ] {
        assert_refused(&route_with(table), want);
    }
}

#[test]
fn auth_defaults_and_refusals() {
    let c = accepted(&route_with(
        "[routes.auth]\njwks_url = \"http://users:8000/.well-known/jwks.json\"\npublic_paths = [\"/users/auth/\"]\npublic_methods = [\"options\"]",
    ));
    let a = c.routes[0].policies.auth.clone().expect("on");
    assert_eq!(
        (a.issuer.as_str(), a.audience.as_str()),
        ("shop-users", "shop")
    );
    assert_eq!(a.public_methods, ["OPTIONS"]);
    assert_eq!(a.min_refresh_interval, Duration::from_secs(10));
    for (table, want) in [
        (
            "[routes.auth]\nissuer = \"x\"",
            "routes[0].auth.jwks_url: the users service's key set URL is required",
        ),
        (
            "[routes.auth]\njwks_url = \"ftp://users/jwks\"",
            "routes[0].auth.jwks_url: `ftp://users/jwks` is not an http(s) URL",
        ),
        (
            "[routes.auth]\njwks_url = \"http://u:p@users/jwks\"",
            "credentials in the URL are not allowed",
        ),
        (
            "[routes.auth]\njwks_url = \"http://users/jwks\"\naudience = \" \"",
            "routes[0].auth.audience: must not be empty",
        ),
        (
            "[routes.auth]\njwks_url = \"http://users/jwks\"\npublic_paths = [\"/auth/\"]",
            "routes[0].auth.public_paths[0]: `/auth/` is not under the route's prefix",
        ),
        (
            "[routes.auth]\njwks_url = \"http://users/jwks\"\npublic_methods = [\"\"]",
            "routes[0].auth.public_methods[0]: `` is not a method",
        ),
    ] {
        assert_refused(&route_with(table), want);
    }
}
