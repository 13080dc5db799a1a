//! `[log]`.

use common::config::LogFormat;

use super::*;

#[test]
fn defaults_are_pretty_info_and_an_access_log() {
    let config = accepted(GOOD);
    assert_eq!(config.log_format, LogFormat::Pretty);
    assert_eq!(config.log_level, "info");
    assert!(config.access_log);
}

#[test]
fn the_file_sets_format_level_and_access_log() {
    let config = accepted(&format!(
        "[log]\nformat = \"json\"\nlevel = \"debug\"\naccess = false\n{GOOD}"
    ));
    assert_eq!(config.log_format, LogFormat::Json);
    assert_eq!(config.log_level, "debug");
    assert!(!config.access_log);
}

#[test]
fn the_environment_overrides_format_and_level() {
    let config = parse_with_env(
        &format!("[log]\nformat = \"pretty\"\nlevel = \"debug\"\n{GOOD}"),
        &[("LOG_FORMAT", "JSON"), ("RUST_LOG", "warn")],
    )
    .expect("valid");
    assert_eq!(config.log_format, LogFormat::Json);
    assert_eq!(config.log_level, "warn");
}

#[test]
fn an_unknown_log_format_is_refused() {
    assert_refused(
        &format!("[log]\nformat = \"xml\"\n{GOOD}"),
        "FILE: line 2, column 10: unknown variant `xml`",
    );
    assert_refused_as(
        parse_with_env(GOOD, &[("LOG_FORMAT", "xml")]),
        "environment: LOG_FORMAT: `xml` is not `json` or `pretty`",
    );
}
