//! `[upstreams.<name>]`.

use std::time::Duration;

use super::*;

#[test]
fn defaults_follow_the_timeouts() {
    let config = accepted(&format!(
        "[timeouts]\nconnect = \"3s\"\nupstream_idle = 7\n{GOOD}"
    ));
    let users = &config.upstreams["users"];
    assert_eq!(users.name, "users");
    assert_eq!(users.endpoints[0].host, "users");
    assert_eq!(users.endpoints[0].port, 8000);
    assert_eq!(users.connect_timeout, Duration::from_secs(3));
    assert_eq!(users.idle_timeout, Duration::from_secs(7));
    assert_eq!(users.resolve_interval, Duration::from_secs(5));
    assert_eq!(users.balance, crate::config::Balance::P2c);
    assert_eq!(users.health_check, None);
    assert_eq!(users.outlier.consecutive_connect_failures, 3);
    assert_eq!(users.outlier.consecutive_5xx, 5);
    assert_eq!(users.outlier.base_ejection, Duration::from_secs(5));
    assert_eq!(users.outlier.max_ejection, Duration::from_secs(300));
    assert_eq!(users.outlier.max_ejected_percent, 50);
    assert_eq!(users.max_idle_per_endpoint, 256);
    assert_eq!(users.max_connections_per_endpoint, 128);
    assert_eq!(users.max_connections_per_client, None);
}

#[test]
fn a_per_client_share_is_read_and_bounded_by_the_endpoint_cap() {
    let with = |extra: &str| {
        GOOD.replace(
            "endpoints = [\"http://users:8000\"]",
            &format!(
                "endpoints = [\"http://users:8000\"]\nmax_connections_per_endpoint = 16\n{extra}"
            ),
        )
    };
    let config = accepted(&with("max_connections_per_client = 4"));
    assert_eq!(
        config.upstreams["users"].max_connections_per_client,
        Some(4)
    );
    assert_refused(
        &with("max_connections_per_client = 0"),
        "FILE: upstreams.users.max_connections_per_client: must be at least 1",
    );
    assert_refused(
        &with("max_connections_per_client = 17"),
        "FILE: upstreams.users.max_connections_per_client: 17 is more than max_connections_per_endpoint (16)",
    );
    assert_refused(
        &with("max_connections_per_client = -1"),
        "invalid value: integer `-1`, expected usize (in [upstreams.users])",
    );
}

#[test]
fn endpoint_urls_default_to_port_80_and_keep_ipv6_literals() {
    let config = accepted(&GOOD.replace(
        "[\"http://users:8000\"]",
        "[\"http://users\", \"http://[::1]:8001/\"]",
    ));
    let endpoints = &config.upstreams["users"].endpoints;
    assert_eq!(endpoints[0].authority(), "users:80");
    assert_eq!(endpoints[1].host, "::1");
    assert_eq!(endpoints[1].authority(), "[::1]:8001");
}

#[test]
fn an_unsupported_scheme_is_refused() {
    assert_refused(
        &GOOD.replace("http://users:8000", "ftp://users"),
        "FILE: upstreams.users.endpoints[0]: `ftp://users`: scheme `ftp` is not supported",
    );
}

#[test]
fn an_endpoint_with_a_path_is_refused() {
    assert_refused(
        &GOOD.replace("http://users:8000", "http://users:8000/api"),
        "FILE: upstreams.users.endpoints[0]: `http://users:8000/api`: an upstream URL has no path",
    );
}

#[test]
fn credentials_in_an_endpoint_are_refused() {
    assert_refused(
        &GOOD.replace("http://users:8000", "http://me:secret@users:8000"),
        "FILE: upstreams.users.endpoints[0]: `http://me:secret@users:8000`: credentials in upstream URLs are not supported",
    );
}

#[test]
fn an_upstream_needs_an_endpoint() {
    assert_refused(
        "[upstreams.users]\nendpoints = []\n",
        "FILE: upstreams.users.endpoints: at least one endpoint URL is required (or set USERS_UPSTREAM)",
    );
}

#[test]
fn zero_connections_per_endpoint_are_refused() {
    assert_refused(
        &GOOD.replace(
            "endpoints = [\"http://users:8000\"]",
            "endpoints = [\"http://users:8000\"]\nmax_connections_per_endpoint = 0",
        ),
        "FILE: upstreams.users.max_connections_per_endpoint: must be at least 1",
    );
}

#[test]
fn an_upstream_name_is_letters_digits_dashes_and_underscores() {
    assert_refused(
        "[upstreams.\"web shop\"]\nendpoints = [\"http://a\"]\n",
        "FILE: upstreams.web shop: an upstream name may contain only letters, digits, `-` and `_`",
    );
}

#[test]
fn the_environment_supplies_the_endpoints() {
    let config = parse_with_env(
        "[upstreams.web-shop]\n[[routes]]\nprefix = \"/\"\nupstream = \"web-shop\"\n",
        &[("WEB_SHOP_UPSTREAM", "http://a:1, http://b:2")],
    )
    .expect("valid");
    let endpoints: Vec<String> = config.upstreams["web-shop"]
        .endpoints
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(endpoints, ["http://a:1", "http://b:2"]);
}

#[test]
fn invalid_environment_endpoints_are_refused_naming_the_variable() {
    assert_refused_as(
        parse_with_env(GOOD, &[("USERS_UPSTREAM", "users:8000")]),
        "environment: USERS_UPSTREAM: `users:8000` needs a scheme (http://host:port)",
    );
    assert_refused_as(
        parse_with_env(GOOD, &[("USERS_UPSTREAM", "ftp://users")]),
        "environment: USERS_UPSTREAM: `ftp://users`: scheme `ftp` is not supported (use http://)",
    );
}

#[test]
fn the_launchers_endpoints_win_and_must_name_a_declared_upstream() {
    let overrides = Overrides {
        upstreams: vec![("users".to_string(), "http://127.0.0.1:9".to_string())],
        ..Overrides::default()
    };
    let config = Config::parse_in(
        Path::new("FILE"),
        GOOD,
        &overrides,
        Env::Fixed(&[("USERS_UPSTREAM", "http://env:1")]),
    )
    .expect("valid");
    assert_eq!(
        config.upstreams["users"].endpoints[0].to_string(),
        "http://127.0.0.1:9"
    );
    let unknown = Overrides {
        upstreams: vec![("orders".to_string(), "http://127.0.0.1:9".to_string())],
        ..Overrides::default()
    };
    assert_refused_as(
        Config::parse(Path::new("FILE"), GOOD, &unknown),
        "environment: upstream override `orders`: no such upstream in the route table",
    );
}
