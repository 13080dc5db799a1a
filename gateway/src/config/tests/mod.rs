//! `Config::parse` by section: what each accepts, its defaults, and each
//! refusal's message (`file: key: problem`).

mod balancing;
mod file;
mod limits;
mod listen;
mod locations;
mod log;
mod policies;
mod properties;
mod routes;
mod timeouts;
mod tls;
mod trusted;
mod upstreams;

use std::path::Path;

use super::overlay::{Env, Overrides};
use super::{Config, ConfigError};

/// The smallest valid file.
const GOOD: &str = r#"
[upstreams.users]
endpoints = ["http://users:8000"]
[[routes]]
prefix = "/users/"
upstream = "users"
"#;

/// `text` as the file `FILE`, without environment.
fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(Path::new("FILE"), text, &Overrides::default())
}

/// `text` as the file `FILE` with these environment variables.
fn parse_with_env(text: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::parse_in(
        Path::new("FILE"),
        text,
        &Overrides::default(),
        Env::Fixed(vars),
    )
}

/// `text` parses.
#[track_caller]
fn accepted(text: &str) -> Config {
    match parse(text) {
        Ok(config) => config,
        Err(e) => panic!("refused: {e}\n{text}"),
    }
}

/// `text` is refused with a message containing `want`.
#[track_caller]
fn assert_refused(text: &str, want: &str) {
    assert_refused_as(parse(text), want);
}

#[track_caller]
fn assert_refused_as(result: Result<Config, ConfigError>, want: &str) {
    match result {
        Ok(_) => panic!("accepted; wanted `{want}`"),
        Err(e) => {
            let message = e.to_string();
            assert!(message.contains(want), "want `{want}` in `{message}`");
        }
    }
}
