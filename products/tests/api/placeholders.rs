//! Production refuses the `change-me` placeholder of
//! `products/.env.example`, tested by calling the configuration parser.

use common::config::Sources;
use products::Config;

/// The settings of `products/.env.example`, as an operator who copied it
/// unchanged would start with, with `changes` applied.
fn example_with(changes: &[(&str, &str)]) -> Sources {
    let mut pairs: Vec<(String, String)> = include_str!("../../.env.example")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for (key, value) in changes {
        pairs.retain(|(k, _)| k != key);
        pairs.push((key.to_string(), value.to_string()));
    }
    Sources::only(pairs)
}

#[test]
fn the_unchanged_example_file_is_refused_in_one_line_naming_database_url() {
    let err = Config::load(&example_with(&[])).expect_err("placeholder");
    let message = err.to_string();
    assert!(
        message.starts_with("invalid configuration: DATABASE_URL: "),
        "{message}"
    );
    assert!(message.contains("change-me"), "{message}");
    assert!(!message.contains('\n'), "{message}");
    assert!(!message.contains("postgres://"), "no URL in {message}");
}

#[test]
fn a_real_database_password_is_accepted_in_production() {
    let config = Config::load(&example_with(&[(
        "DATABASE_URL",
        "postgres://products:Zq8v0PZ1@postgres:5432/products",
    )]))
    .expect("a real secret");
    assert_eq!(config.base.app_env, common::service::AppEnv::Production);
}

#[test]
fn the_placeholder_is_accepted_in_development() {
    Config::load(&example_with(&[("APP_ENV", "development")])).expect("development");
}
