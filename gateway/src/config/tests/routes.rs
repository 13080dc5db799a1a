//! `[[routes]]`.

use std::time::Duration;

use super::super::HostPolicy;
use super::*;

#[test]
fn defaults_strip_the_prefix_keep_the_clients_host_and_follow_the_limits() {
    let config = accepted(&format!(
        "[limits]\nbody = 100\n[timeouts]\nresponse = 9\n{GOOD}"
    ));
    let route = &config.routes[0];
    assert_eq!(route.prefix, "/users/");
    assert_eq!(route.upstream, "users");
    assert!(route.strip_prefix);
    assert_eq!(route.host, HostPolicy::Client);
    assert_eq!(route.body_limit, 100);
    assert_eq!(route.response_timeout, Duration::from_secs(9));
    assert!(!route.upgrades, "upgrades are off unless a route asks");
}

#[test]
fn upgrades_are_switched_on_per_route_and_must_be_a_boolean() {
    let config = accepted(&format!("{GOOD}upgrades = true\n"));
    assert!(config.routes[0].upgrades);
    assert_refused(
        &format!("{GOOD}upgrades = \"yes\"\n"),
        "FILE: line 7, column 12: invalid type: string \"yes\", expected a boolean (in [[routes]])",
    );
}

#[test]
fn per_route_settings_are_read() {
    let config = accepted(&format!(
        "{GOOD}strip_prefix = false\nhost = \"upstream\"\nbody_limit = \"8MiB\"\nresponse_timeout = \"60s\"\n"
    ));
    let route = &config.routes[0];
    assert!(!route.strip_prefix);
    assert_eq!(route.host, HostPolicy::Upstream);
    assert_eq!(route.body_limit, 8 * 1024 * 1024);
    assert_eq!(route.response_timeout, Duration::from_secs(60));
}

#[test]
fn a_duplicate_prefix_is_refused() {
    assert_refused(
        &format!("{GOOD}[[routes]]\nprefix = \"/users/\"\nupstream = \"users\"\n"),
        "FILE: routes[1].prefix: duplicate prefix `/users/` (also routes[0])",
    );
}

#[test]
fn an_unknown_upstream_is_refused_listing_the_known_ones() {
    assert_refused(
        &format!("{GOOD}[[routes]]\nprefix = \"/p/\"\nupstream = \"prodcts\"\n"),
        "FILE: routes[1].upstream: unknown upstream `prodcts` (defined: users)",
    );
    assert_refused(
        "[[routes]]\nprefix = \"/p/\"\nupstream = \"p\"\n",
        "FILE: routes[0].upstream: unknown upstream `p` (defined: none)",
    );
}

#[test]
fn a_prefix_must_start_and_end_with_a_slash_and_be_normalised() {
    assert_refused(
        &GOOD.replace("/users/\"", "users/\""),
        "FILE: routes[0].prefix: `users/` must start with `/`",
    );
    assert_refused(
        &GOOD.replace("/users/\"", "/users\""),
        "FILE: routes[0].prefix: `/users` must end with `/` (e.g. `/users/`); `/users` itself is redirected to it",
    );
    assert_refused(
        &GOOD.replace("/users/\"", "/a//users/\""),
        "FILE: routes[0].prefix: `/a//users/` is not a normalised path",
    );
}

#[test]
fn at_least_one_route_is_required() {
    assert_refused(
        "[upstreams.users]\nendpoints = [\"http://users:8000\"]\n",
        "FILE: routes: at least one [[routes]] entry is required",
    );
}

#[test]
fn a_route_setting_with_a_bad_value_is_refused_naming_the_route() {
    assert_refused(
        &format!("{GOOD}body_limit = \"lots\"\n"),
        "FILE: routes[0].body_limit: `lots` is not a size",
    );
    assert_refused(
        &format!("{GOOD}host = \"server\"\n"),
        "unknown variant `server`, expected `client` or `upstream`",
    );
}

#[test]
fn a_refused_value_with_a_line_break_is_echoed_on_one_line() {
    // Found by `a_value_with_control_characters_is_refused_on_one_line`:
    // the value was echoed as it was, so the refusal took two log lines.
    assert_refused(
        &GOOD.replace("\"/users/\"", "\"a\\nb\""),
        "FILE: routes[0].prefix: `a\\nb` must start with `/`",
    );
    assert_refused_as(
        parse_with_env(GOOD, &[("USERS_UPSTREAM", "http://a\nb")]),
        "environment: USERS_UPSTREAM: `http://a\\nb` is not a URL",
    );
}
