//! An upstream's `balance`, endpoint weights, `health_check` and
//! `outlier`; a route's `retry` and `split`.

use std::time::Duration;

use super::*;
use crate::config::Balance;

/// `GOOD` with `extra` keys in `[upstreams.users]`.
fn upstream_with(extra: &str) -> String {
    format!(
        "[upstreams.users]\nendpoints = [\"http://users:8000\"]\n{extra}\n[[routes]]\nprefix = \"/users/\"\nupstream = \"users\"\n"
    )
}

/// Two upstreams and one route with `route` keys (no `upstream` given).
fn route_with(route: &str) -> String {
    format!(
        "[upstreams.users]\nendpoints = [\"http://users:8000\"]\n[upstreams.canary]\nendpoints = [\"http://canary:8000\"]\n[[routes]]\nprefix = \"/users/\"\n{route}\n"
    )
}

#[test]
fn balance_is_p2c_or_round_robin() {
    let config = accepted(&upstream_with("balance = \"round_robin\""));
    assert_eq!(config.upstreams["users"].balance, Balance::RoundRobin);
    let config = accepted(&upstream_with("balance = \"p2c\""));
    assert_eq!(config.upstreams["users"].balance, Balance::P2c);
    assert_refused(
        &upstream_with("balance = \"least_conn\""),
        "unknown variant `least_conn`, expected `p2c` or `round_robin`",
    );
}

#[test]
fn endpoints_may_carry_weights() {
    let config = accepted(
        "[upstreams.users]\nendpoints = [{ url = \"http://a:1\", weight = 3 }, \"http://b:2\", { url = \"http://c:3\" }]\n[[routes]]\nprefix = \"/users/\"\nupstream = \"users\"\n",
    );
    let weights: Vec<u32> = config.upstreams["users"]
        .endpoints
        .iter()
        .map(|e| e.weight)
        .collect();
    assert_eq!(weights, vec![3, 1, 1]);
}

#[test]
fn endpoints_may_be_backups_but_not_all_of_them() {
    let config = accepted(
        "[upstreams.users]\nendpoints = [\"http://a:1\", { url = \"http://b:2\", backup = true }, { url = \"http://c:3\", weight = 2, backup = false }]\n[[routes]]\nprefix = \"/users/\"\nupstream = \"users\"\n",
    );
    let backups: Vec<bool> = config.upstreams["users"]
        .endpoints
        .iter()
        .map(|e| e.backup)
        .collect();
    assert_eq!(backups, vec![false, true, false]);
    assert_refused(
        "[upstreams.users]\nendpoints = [{ url = \"http://b:2\", backup = true }]\n[[routes]]\nprefix = \"/users/\"\nupstream = \"users\"\n",
        "FILE: upstreams.users.endpoints: every endpoint is a backup: at least one must not be",
    );
    assert_refused(
        "[upstreams.users]\nendpoints = [{ url = \"http://b:2\", backup = \"yes\" }]\n",
        "expected an endpoint URL",
    );
}

#[test]
fn a_weight_out_of_range_is_refused() {
    for weight in ["0", "1001"] {
        assert_refused(
            &format!(
                "[upstreams.users]\nendpoints = [{{ url = \"http://a:1\", weight = {weight} }}]\n"
            ),
            &format!(
                "FILE: upstreams.users.endpoints[0]: weight {weight} of `http://a:1` must be between 1 and 1000"
            ),
        );
    }
}

#[test]
fn a_malformed_endpoint_entry_says_what_is_expected() {
    assert_refused(
        "[upstreams.users]\nendpoints = [{ address = \"http://a:1\" }]\n",
        "expected an endpoint URL (\"http://host:port\") or a table { url = \"http://host:port\", weight = 1, backup = false }",
    );
}

#[test]
fn weights_from_the_environment_are_one() {
    let config =
        parse_with_env(GOOD, &[("USERS_UPSTREAM", "http://a:1,http://b:2")]).expect("valid");
    assert!(
        config.upstreams["users"]
            .endpoints
            .iter()
            .all(|e| e.weight == 1)
    );
}

#[test]
fn the_old_failure_cooldown_is_refused_with_its_replacement() {
    assert_refused(
        &upstream_with("failure_cooldown = \"5s\""),
        "FILE: upstreams.users.failure_cooldown: replaced by [upstreams.<name>.outlier]",
    );
}

#[test]
fn health_checks_have_defaults_and_need_a_path() {
    let config = accepted(&upstream_with(
        "[upstreams.users.health_check]\npath = \"/health?full=1\"",
    ));
    let check = config.upstreams["users"].health_check.clone().expect("on");
    assert_eq!(check.path, "/health?full=1");
    assert_eq!(check.interval, Duration::from_secs(5));
    assert_eq!(check.timeout, Duration::from_secs(1));
    assert_eq!(check.healthy_threshold, 2);
    assert_eq!(check.unhealthy_threshold, 3);
    assert_refused(
        &upstream_with("[upstreams.users.health_check]\ninterval = \"1s\""),
        "FILE: upstreams.users.health_check.path: required to check endpoints (e.g. \"/health\")",
    );
    assert_refused(
        &upstream_with("[upstreams.users.health_check]\npath = \"health\""),
        "FILE: upstreams.users.health_check.path: `health` is not a path starting with `/`",
    );
}

#[test]
fn health_check_timings_are_checked() {
    let with = |keys: &str| {
        upstream_with(&format!(
            "[upstreams.users.health_check]\npath = \"/health\"\n{keys}"
        ))
    };
    assert_refused(
        &with("interval = \"50ms\""),
        "FILE: upstreams.users.health_check.interval: must be at least 100ms",
    );
    assert_refused(
        &with("interval = \"1s\"\ntimeout = \"2s\""),
        "FILE: upstreams.users.health_check.timeout: must be above zero and at most the interval (1000 ms)",
    );
    assert_refused(
        &with("timeout = 0"),
        "FILE: upstreams.users.health_check.timeout: must be above zero",
    );
    assert_refused(
        &with("healthy_threshold = 0"),
        "FILE: upstreams.users.health_check.healthy_threshold: 0 must be between 1 and 100",
    );
    assert_refused(
        &with("unhealthy_threshold = 101"),
        "FILE: upstreams.users.health_check.unhealthy_threshold: 101 must be between 1 and 100",
    );
    assert_refused(&with("port = 8080"), "unknown field `port`");
}

#[test]
fn outlier_settings_are_checked() {
    let with = |keys: &str| upstream_with(&format!("[upstreams.users.outlier]\n{keys}"));
    let off = accepted(&with(
        "consecutive_connect_failures = 0\nconsecutive_5xx = 0",
    ));
    assert!(!off.upstreams["users"].outlier.is_on());
    let long = accepted(&with("base_ejection = \"10m\""));
    assert_eq!(
        long.upstreams["users"].outlier.max_ejection,
        Duration::from_secs(600)
    );
    assert_refused(
        &with("base_ejection = \"1ms\""),
        "FILE: upstreams.users.outlier.base_ejection: must be at least 10ms",
    );
    assert_refused(
        &with("base_ejection = \"10s\"\nmax_ejection = \"5s\""),
        "FILE: upstreams.users.outlier.max_ejection: must be at least base_ejection (10000 ms)",
    );
    assert_refused(
        &with("max_ejected_percent = 101"),
        "FILE: upstreams.users.outlier.max_ejected_percent: 101 must be between 0 and 100",
    );
    assert_refused(
        &with("consecutive_5xx = 1001"),
        "FILE: upstreams.users.outlier.consecutive_5xx: 1001 must be between 0 and 1000",
    );
}

#[test]
fn retries_default_to_one_within_a_budget() {
    let config = accepted(GOOD);
    let retry = &config.routes[0].retry;
    assert_eq!(retry.attempts, 1);
    assert!(retry.on_status.is_empty());
    assert_eq!(retry.budget_percent, 20);
    assert_eq!(retry.budget_min_per_second, 3);
    let config = accepted(&format!(
        "{GOOD}[routes.retry]\nattempts = 0\non_status = [503]\n"
    ));
    assert_eq!(config.routes[0].retry.attempts, 0);
    assert_eq!(config.routes[0].retry.on_status, vec![503]);
}

#[test]
fn retry_settings_are_checked() {
    let with = |keys: &str| format!("{GOOD}[routes.retry]\n{keys}\n");
    assert_refused(
        &with("attempts = 6"),
        "FILE: routes[0].retry.attempts: 6 must be between 0 and 5",
    );
    assert_refused(
        &with("on_status = [503, 404]"),
        "FILE: routes[0].retry.on_status[1]: 404 is not a 5xx status",
    );
    assert_refused(
        &with("budget_percent = 150"),
        "FILE: routes[0].retry.budget_percent: 150 must be between 0 and 100",
    );
    assert_refused(
        &with("budget_min_per_second = 5000"),
        "FILE: routes[0].retry.budget_min_per_second: 5000 must be between 0 and 1000",
    );
}

#[test]
fn a_split_route_shares_its_requests_by_weight() {
    let config = accepted(&route_with(
        "split = [{ upstream = \"users\", weight = 95 }, { upstream = \"canary\", weight = 5 }]",
    ));
    let route = &config.routes[0];
    assert_eq!(route.upstream, "users");
    assert_eq!(route.split.len(), 2);
    assert_eq!(route.split[1].upstream, "canary");
    assert_eq!(route.split[1].weight, 5);
    // A canary at 0 takes nothing but stays configured.
    accepted(&route_with(
        "split = [{ upstream = \"users\", weight = 1 }, { upstream = \"canary\", weight = 0 }]",
    ));
}

#[test]
fn a_split_is_refused_when_it_cannot_be_followed() {
    assert_refused(
        &route_with("upstream = \"users\"\nsplit = [{ upstream = \"canary\", weight = 5 }]"),
        "FILE: routes[0].split: give either `upstream` or `split`, not both",
    );
    assert_refused(
        &route_with(""),
        "FILE: routes[0].upstream: required (or `split` over several upstreams)",
    );
    assert_refused(
        &route_with(
            "split = [{ upstream = \"users\", weight = 1 }, { upstream = \"nope\", weight = 1 }]",
        ),
        "FILE: routes[0].split[1].upstream: unknown upstream `nope` (defined: canary, users)",
    );
    assert_refused(
        &route_with(
            "split = [{ upstream = \"users\", weight = 1 }, { upstream = \"users\", weight = 1 }]",
        ),
        "FILE: routes[0].split[1].upstream: `users` is named twice in this split",
    );
    assert_refused(
        &route_with("split = [{ upstream = \"users\", weight = 0 }]"),
        "FILE: routes[0].split: at least one weight must be above 0",
    );
    assert_refused(
        &route_with("split = [{ upstream = \"users\", weight = 1001 }]"),
        "FILE: routes[0].split[0].weight: 1001 must be between 0 and 1000",
    );
    assert_refused(
        &route_with("host = \"upstream\"\nsplit = [{ upstream = \"users\", weight = 1 }]"),
        "FILE: routes[0].host: `upstream` cannot be used with `split`",
    );
}
