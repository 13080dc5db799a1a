//! `trusted_proxies`.

use super::*;

#[test]
fn nobody_is_trusted_by_default() {
    assert!(accepted(GOOD).trusted_proxies.is_empty());
}

#[test]
fn networks_and_bare_addresses_are_read() {
    let config = accepted(&format!(
        "trusted_proxies = [\"10.0.0.0/8\", \"fd00::/8\", \"192.0.2.10\"]\n{GOOD}"
    ));
    let shown: Vec<String> = config
        .trusted_proxies
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(shown, ["10.0.0.0/8", "fd00::/8", "192.0.2.10/32"]);
}

#[test]
fn a_prefix_length_past_the_address_is_refused() {
    assert_refused(
        &format!("trusted_proxies = [\"10.0.0.0/40\"]\n{GOOD}"),
        "FILE: trusted_proxies[0]: `10.0.0.0/40`: prefix length must be 0 to 32",
    );
}

#[test]
fn something_that_is_no_address_is_refused() {
    assert_refused(
        &format!("trusted_proxies = [\"10.0.0.0/8\", \"gateway\"]\n{GOOD}"),
        "FILE: trusted_proxies[1]: `gateway` is not an IP address or CIDR network",
    );
}

#[test]
fn the_environment_replaces_the_list() {
    let config = parse_with_env(
        &format!("trusted_proxies = [\"10.0.0.0/8\"]\n{GOOD}"),
        &[("GATEWAY_TRUSTED_PROXIES", "127.0.0.0/8, ::1")],
    )
    .expect("valid");
    let shown: Vec<String> = config
        .trusted_proxies
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(shown, ["127.0.0.0/8", "::1/128"]);
    assert_refused_as(
        parse_with_env(GOOD, &[("GATEWAY_TRUSTED_PROXIES", "10.0.0.0/99")]),
        "environment: GATEWAY_TRUSTED_PROXIES: `10.0.0.0/99`: prefix length must be 0 to 32",
    );
}
