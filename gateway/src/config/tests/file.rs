//! The file as a whole: reading it and its TOML syntax.

use std::path::Path;

use super::*;

#[test]
fn the_default_route_table_is_valid() {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/gateway.toml"));
    let config = Config::load(path, &Overrides::default()).expect("valid");
    assert_eq!(config.routes.len(), 2);
    assert_eq!(config.upstreams.len(), 2);
}

#[test]
fn a_missing_file_is_refused_naming_it() {
    let err = Config::load(Path::new("/nonexistent/routes.toml"), &Overrides::default())
        .expect_err("missing");
    assert!(matches!(err, ConfigError::Read { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("/nonexistent/routes.toml: cannot read"),
        "{err}"
    );
}

#[test]
fn an_unknown_key_is_refused_with_its_line_and_table() {
    assert_refused(
        &format!("{GOOD}\nunknown_key = 1\n"),
        "FILE: line 8, column 1: unknown field `unknown_key`, expected one of `prefix`, `upstream`, `split`, `retry`, `strip_prefix`, `host`, `body_limit`, `response_timeout`, `upgrades`, `rate_limit`, `cors`, `compression`, `headers`, `auth`, `location`, `upstream_path`, `internal`, `return`, `rewrite`, `proxy_redirect`, `error_pages`, `intercept_errors`, `files`, `basic_auth`, `access` (in [[routes]])",
    );
    assert_refused(
        &format!("[timeouts]\nconect = \"2s\"\n{GOOD}"),
        "FILE: line 2, column 1: unknown field `conect`, expected one of",
    );
}

#[test]
fn invalid_toml_is_refused_with_its_position() {
    assert_refused(
        &GOOD.replace("[[routes]]", "[[routes"),
        "FILE: line 4, column 9: invalid table header; expected",
    );
}
