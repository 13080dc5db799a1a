//! `[limits]`.

use super::*;

#[test]
fn defaults_are_1mib_body_and_32kib_head() {
    let config = accepted(GOOD);
    assert_eq!(config.body_limit, 1024 * 1024);
    assert_eq!(config.header_limit, 32 * 1024);
}

#[test]
fn sizes_take_units() {
    let config = accepted(&format!(
        "[limits]\nbody = \"8MiB\"\nheaders = 4096\n{GOOD}"
    ));
    assert_eq!(config.body_limit, 8 * 1024 * 1024);
    assert_eq!(config.header_limit, 4096);
}

#[test]
fn an_unknown_size_unit_is_refused() {
    assert_refused(
        &format!("[limits]\nbody = \"1 parsec\"\n{GOOD}"),
        "FILE: limits.body: unknown size unit",
    );
}

#[test]
fn a_size_of_another_type_is_refused_saying_what_a_size_is() {
    assert_refused(
        &format!("[limits]\nbody = true\n{GOOD}"),
        "FILE: line 2, column 8: invalid type: boolean `true`, expected a size in bytes: a number (1048576) or text with a unit (\"1MiB\", \"32KiB\", \"1MB\") (in [limits])",
    );
}

#[test]
fn a_head_limit_outside_1kib_to_1mib_is_refused() {
    for size in ["512", "\"2MiB\""] {
        assert_refused(
            &format!("[limits]\nheaders = {size}\n{GOOD}"),
            "FILE: limits.headers: must be between 1KiB and 1MiB",
        );
    }
}

#[test]
fn no_per_client_cap_by_default_and_128_http2_streams() {
    let limits = accepted(GOOD).client_limits;
    assert_eq!(limits.connections_per_client, None);
    assert_eq!(limits.http2_max_concurrent_streams, 128);
    assert_eq!(
        limits.connections,
        crate::client_limit::default_connection_cap(crate::client_limit::open_files_limit())
    );
}

#[test]
fn client_caps_are_read() {
    let limits = accepted(&format!(
        "[limits]\nconnections_per_client = 8\nconnections = 5000\nhttp2_max_concurrent_streams = 16\n{GOOD}"
    ))
    .client_limits;
    assert_eq!(limits.connections_per_client, Some(8));
    assert_eq!(limits.connections, 5000);
    assert_eq!(limits.http2_max_concurrent_streams, 16);
}

#[test]
fn client_caps_out_of_range_are_refused() {
    for value in ["0", "1000001"] {
        assert_refused(
            &format!("[limits]\nconnections_per_client = {value}\n{GOOD}"),
            "FILE: limits.connections_per_client: must be between 1 and 1000000 (leave it out for no per-client cap)",
        );
    }
    for value in ["0", "10000001"] {
        assert_refused(
            &format!("[limits]\nconnections = {value}\n{GOOD}"),
            "FILE: limits.connections: must be between 1 and 10000000",
        );
    }
    for value in ["0", "10001"] {
        assert_refused(
            &format!("[limits]\nhttp2_max_concurrent_streams = {value}\n{GOOD}"),
            "FILE: limits.http2_max_concurrent_streams: must be between 1 and 10000",
        );
    }
    assert_refused(
        &format!("[limits]\nconnections_per_client = -1\n{GOOD}"),
        "FILE: line 2, column 26: invalid value: integer `-1`, expected usize (in [limits])",
    );
}
