//! `[listen]`.

use std::net::SocketAddr;

use super::*;

#[test]
fn defaults_are_port_80_and_9000_and_one_worker_per_core() {
    let config = accepted(GOOD);
    assert_eq!(config.listen, SocketAddr::from(([0, 0, 0, 0], 80)));
    assert_eq!(
        config.admin_listen,
        SocketAddr::from(([127, 0, 0, 1], 9000))
    );
    assert!(config.workers >= 1);
}

#[test]
fn addresses_and_workers_are_read() {
    let config = accepted(&format!(
        "[listen]\npublic = \"127.0.0.1:8080\"\nadmin = \"127.0.0.1:9001\"\nworkers = 3\n{GOOD}"
    ));
    assert_eq!(config.listen, SocketAddr::from(([127, 0, 0, 1], 8080)));
    assert_eq!(
        config.admin_listen,
        SocketAddr::from(([127, 0, 0, 1], 9001))
    );
    assert_eq!(config.workers, 3);
}

#[test]
fn a_public_address_that_is_not_one_is_refused() {
    assert_refused(
        &format!("[listen]\npublic = \"eighty\"\n{GOOD}"),
        "FILE: listen.public: `eighty` is not an address",
    );
}

#[test]
fn too_many_workers_are_refused() {
    assert_refused(
        &format!("[listen]\nworkers = 5000\n{GOOD}"),
        "FILE: listen.workers: must be at most 1024 (0: one per core)",
    );
}

#[test]
fn the_admin_listener_must_differ_from_the_public_one() {
    assert_refused(
        &format!("[listen]\npublic = \"0.0.0.0:80\"\nadmin = \"0.0.0.0:80\"\n{GOOD}"),
        "FILE: listen.admin: the admin listener must differ from the public one (0.0.0.0:80)",
    );
}

#[test]
fn the_environment_overrides_the_file() {
    let config = parse_with_env(
        &format!("[listen]\npublic = \"127.0.0.1:8080\"\n{GOOD}"),
        &[
            ("GATEWAY_LISTEN", "127.0.0.1:81"),
            ("GATEWAY_ADMIN_LISTEN", "127.0.0.1:91"),
            ("GATEWAY_WORKERS", "2"),
        ],
    )
    .expect("valid");
    assert_eq!(config.listen, SocketAddr::from(([127, 0, 0, 1], 81)));
    assert_eq!(config.admin_listen, SocketAddr::from(([127, 0, 0, 1], 91)));
    assert_eq!(config.workers, 2);
}

#[test]
fn invalid_environment_values_are_refused_naming_the_variable() {
    assert_refused_as(
        parse_with_env(GOOD, &[("GATEWAY_LISTEN", "eighty")]),
        "environment: GATEWAY_LISTEN: `eighty` is not an address (expected e.g. 0.0.0.0:80)",
    );
    assert_refused_as(
        parse_with_env(GOOD, &[("GATEWAY_ADMIN_LISTEN", "nine")]),
        "environment: GATEWAY_ADMIN_LISTEN: `nine` is not an address (expected e.g. 127.0.0.1:9000)",
    );
    assert_refused_as(
        parse_with_env(GOOD, &[("GATEWAY_WORKERS", "many")]),
        "environment: GATEWAY_WORKERS: `many` is not a number",
    );
}

#[test]
fn launcher_addresses_win_over_file_and_environment() {
    let overrides = Overrides {
        listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        admin_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        ..Overrides::default()
    };
    let config = Config::parse_in(
        Path::new("FILE"),
        GOOD,
        &overrides,
        Env::Fixed(&[("GATEWAY_LISTEN", "127.0.0.1:81")]),
    )
    .expect("port 0 twice is allowed");
    assert_eq!(config.listen, SocketAddr::from(([127, 0, 0, 1], 0)));
}

#[test]
fn an_empty_variable_counts_as_unset() {
    let config = parse_with_env(GOOD, &[("GATEWAY_LISTEN", "  ")]).expect("valid");
    assert_eq!(config.listen.port(), 80);
}
