//! `[timeouts]`.

use std::time::Duration;

use super::*;

#[test]
fn defaults() {
    let t = accepted(GOOD).timeouts;
    assert_eq!(t.header_read, Duration::from_secs(15));
    assert_eq!(t.connect, Duration::from_secs(2));
    assert_eq!(t.response, Duration::from_secs(30));
    assert_eq!(t.upstream_idle, Duration::from_secs(60));
    assert_eq!(t.shutdown_grace, Duration::from_secs(20));
    assert_eq!(t.client_send, Duration::from_secs(30));
    assert_eq!(t.upgrade_idle, Duration::from_secs(60));
    assert_eq!(t.client_idle, Duration::from_secs(60));
}

#[test]
fn client_and_upgrade_timeouts_are_read() {
    let t = accepted(&format!(
        "[timeouts]\nclient_send = \"500ms\"\nupgrade_idle = \"1h\"\nclient_idle = \"75s\"\n{GOOD}"
    ))
    .timeouts;
    assert_eq!(t.client_idle, Duration::from_secs(75));
    assert_eq!(t.client_send, Duration::from_millis(500));
    assert_eq!(t.upgrade_idle, Duration::from_secs(3600));
}

#[test]
fn durations_are_seconds_or_text_with_a_unit() {
    let t = accepted(&format!(
        "[timeouts]\nconnect = \"500ms\"\nresponse = 5\nshutdown_grace = \"1m\"\n{GOOD}"
    ))
    .timeouts;
    assert_eq!(t.connect, Duration::from_millis(500));
    assert_eq!(t.response, Duration::from_secs(5));
    assert_eq!(t.shutdown_grace, Duration::from_secs(60));
}

#[test]
fn a_duration_that_is_not_one_is_refused() {
    assert_refused(
        &format!("[timeouts]\nconnect = \"soon\"\n{GOOD}"),
        "FILE: timeouts.connect: `soon` is not a duration",
    );
}

#[test]
fn a_duration_of_another_type_is_refused_saying_what_a_duration_is() {
    // Found by `a_valid_table_with_a_value_changed_parses_or_is_refused_precisely`:
    // serde's message was "data did not match any variant of untagged enum".
    assert_refused(
        &format!("[timeouts]\nconnect = -1\n{GOOD}"),
        "FILE: line 2, column 11: invalid value: integer `-1`, expected a duration: whole seconds (30) or text with a unit (\"500ms\", \"30s\", \"5m\", \"1h\") (in [timeouts])",
    );
    assert_refused(
        &format!("[timeouts]\nconnect = []\n{GOOD}"),
        "FILE: line 2, column 11: invalid type: sequence, expected a duration: ",
    );
}

#[test]
fn waits_a_request_depends_on_must_not_be_zero() {
    for key in [
        "header_read",
        "connect",
        "response",
        "client_send",
        "upgrade_idle",
        "client_idle",
    ] {
        assert_refused(
            &format!("[timeouts]\n{key} = 0\n{GOOD}"),
            &format!("FILE: timeouts.{key}: must be greater than zero"),
        );
    }
}

#[test]
fn a_client_idle_that_is_not_a_duration_is_refused() {
    assert_refused(
        &format!("[timeouts]\nclient_idle = \"soon\"\n{GOOD}"),
        "FILE: timeouts.client_idle: `soon` is not a duration",
    );
}

#[test]
fn a_duration_over_a_year_is_refused_for_every_timeout() {
    // These used to pass `gateway check` and overflow `Instant` later.
    for key in [
        "header_read",
        "connect",
        "response",
        "upstream_idle",
        "shutdown_grace",
        "client_send",
        "upgrade_idle",
        "client_idle",
    ] {
        assert_refused(
            &format!("[timeouts]\n{key} = \"999999999999h\"\n{GOOD}"),
            &format!(
                "FILE: timeouts.{key}: `999999999999h` is longer than the longest duration a setting takes (365 days)"
            ),
        );
        assert_refused(
            &format!("[timeouts]\n{key} = 31536001\n{GOOD}"),
            &format!("FILE: timeouts.{key}: 31536001s is longer than"),
        );
    }
    let t = accepted(&format!("[timeouts]\nclient_idle = 31536000\n{GOOD}")).timeouts;
    assert_eq!(t.client_idle, Duration::from_secs(31_536_000));
}
