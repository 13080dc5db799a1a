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

#[test]
fn the_access_log_goes_to_stdout_with_nginx_buffering_by_default() {
    let config = accepted(GOOD);
    assert_eq!(config.access_output.file, None);
    assert_eq!(config.access_output.buffer, 64 * 1024);
    assert_eq!(
        config.access_output.flush,
        std::time::Duration::from_secs(1)
    );
}

#[test]
fn the_access_log_file_buffer_and_flush_are_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("access.log");
    let config = accepted(&format!(
        "[log]\naccess_file = \"{}\"\naccess_buffer = \"256KiB\"\naccess_flush = \"250ms\"\n{GOOD}",
        file.display()
    ));
    assert_eq!(config.access_output.file.as_deref(), Some(file.as_path()));
    assert_eq!(config.access_output.buffer, 256 * 1024);
    assert_eq!(
        config.access_output.flush,
        std::time::Duration::from_millis(250)
    );
    assert!(
        file.exists(),
        "created at load, so a bad path is refused then"
    );
}

#[test]
fn a_bad_access_log_file_is_refused() {
    assert_refused(
        &format!("[log]\naccess_file = \"logs/access.log\"\n{GOOD}"),
        "FILE: log.access_file: `logs/access.log` is not an absolute path",
    );
    assert_refused(
        &format!("[log]\naccess_file = \"/nonexistent-dir/access.log\"\n{GOOD}"),
        "FILE: log.access_file: cannot open `/nonexistent-dir/access.log` for appending: No such file or directory",
    );
    let dir = tempfile::tempdir().expect("temp dir");
    assert_refused(
        &format!("[log]\naccess_file = \"{}\"\n{GOOD}", dir.path().display()),
        "for appending: Is a directory",
    );
}

#[test]
fn access_log_buffer_and_flush_outside_their_range_are_refused() {
    for (setting, want) in [
        (
            "access_buffer = 0",
            "FILE: log.access_buffer: 0 bytes is outside 4KiB..=16MiB",
        ),
        (
            "access_buffer = \"1GiB\"",
            "FILE: log.access_buffer: 1073741824 bytes is outside 4KiB..=16MiB",
        ),
        (
            "access_buffer = \"lots\"",
            "FILE: log.access_buffer: `lots` is not a size",
        ),
        (
            "access_flush = 0",
            "FILE: log.access_flush: 0ms is outside 10ms..=60s",
        ),
        (
            "access_flush = \"1h\"",
            "FILE: log.access_flush: 3600000ms is outside 10ms..=60s",
        ),
    ] {
        assert_refused(&format!("[log]\n{setting}\n{GOOD}"), want);
    }
}
