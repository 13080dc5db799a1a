//! Production refuses the `change-me` placeholders of `users/.env.example`,
//! tested by calling the configuration parser.

use common::ConfigError;
use common::config::Sources;
use users::Config;

/// The settings of `users/.env.example`, as an operator who copied it
/// unchanged would start with.
fn example() -> Vec<(String, String)> {
    include_str!("../../.env.example")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn with(changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs = example();
    for (key, value) in changes {
        pairs.retain(|(k, _)| k != key);
        pairs.push((key.to_string(), value.to_string()));
    }
    pairs
}

fn load(pairs: Vec<(String, String)>) -> Result<Config, ConfigError> {
    Config::load(&Sources::only(pairs))
}

const REAL: [(&str, &str); 3] = [
    (
        "DATABASE_URL",
        "postgres://users:Zq8v0PZ1@postgres:5432/users",
    ),
    ("JWT_SIGNING_KEY", "-----BEGIN PRIVATE KEY-----..."),
    ("ADMIN_PASSWORD", "a-real-admin-password"),
];

#[test]
fn the_unchanged_example_file_is_refused_in_one_line_naming_a_variable() {
    let err = load(example()).expect_err("placeholders");
    let message = err.to_string();
    assert!(
        message.starts_with("invalid configuration: DATABASE_URL: "),
        "{message}"
    );
    assert!(message.contains("change-me"), "{message}");
    assert!(!message.contains('\n'), "{message}");
}

#[test]
fn each_placeholder_secret_is_named() {
    for (variable, _) in REAL {
        let others: Vec<(&str, &str)> = REAL
            .iter()
            .copied()
            .filter(|(v, _)| *v != variable)
            .collect();
        let err = load(with(&others)).expect_err(variable);
        assert!(
            err.to_string()
                .starts_with(&format!("invalid configuration: {variable}: ")),
            "{err}"
        );
    }
    let mut published = REAL.to_vec();
    published.push(("JWT_PUBLISHED_KEYS", "change-me"));
    let err = load(with(&published)).expect_err("published keys");
    assert!(err.to_string().contains("JWT_PUBLISHED_KEYS"), "{err}");
}

#[test]
fn production_with_real_secrets_is_accepted() {
    assert!(load(with(&REAL)).is_ok());
}

#[test]
fn development_does_not_check_for_placeholders() {
    let mut dev = REAL.to_vec();
    dev.retain(|(v, _)| *v != "ADMIN_PASSWORD");
    dev.push(("APP_ENV", "development"));
    assert!(load(with(&dev)).is_ok());
}
