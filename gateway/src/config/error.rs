//! Why a configuration is refused, and the context that builds those
//! messages: every refusal names the file (or `environment`), the key and
//! the problem.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::units::{DurationText, SizeText};

/// Why a configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{file}: cannot read: {message}")]
    Read {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        message: String,
    },
    /// The file is not valid TOML or does not match the schema.
    #[error("{file}: {message}")]
    Syntax {
        /// The file.
        file: PathBuf,
        /// The parser's message (with line and column).
        message: String,
    },
    /// A setting has an invalid value.
    #[error("{file}: {key}: {problem}")]
    Invalid {
        /// The file (or `environment` for overrides).
        file: PathBuf,
        /// The key, as written in the file (`routes[0].prefix`) or the variable name.
        key: String,
        /// What is wrong.
        problem: String,
    },
}

/// `text` with its control characters escaped (`\n`, `\u{1}`): refusals
/// echo the values they refuse, and must stay one log line.
fn one_line(text: String) -> String {
    if !text.chars().any(char::is_control) {
        return text;
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// What refusals of environment values name in place of the file.
const ENVIRONMENT: &str = "environment";

/// The file being validated: builds refusals that name it, and reads the
/// typed values every section has (durations, sizes, addresses).
pub(super) struct Checker<'a> {
    pub(super) file: &'a Path,
}

impl Checker<'_> {
    /// `file: key: problem`.
    pub(super) fn err(&self, key: impl Into<String>, problem: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            file: self.file.to_path_buf(),
            key: one_line(key.into()),
            problem: one_line(problem.into()),
        }
    }

    /// `environment: VAR: problem`, for a value from the environment or a
    /// launcher override.
    pub(super) fn env_err(var: &str, problem: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            file: PathBuf::from(ENVIRONMENT),
            key: one_line(var.to_string()),
            problem: one_line(problem.into()),
        }
    }

    /// `value` as a duration, `default` when absent.
    pub(super) fn duration(
        &self,
        key: &str,
        value: &Option<DurationText>,
        default: Duration,
    ) -> Result<Duration, ConfigError> {
        match value {
            None => Ok(default),
            Some(v) => v.parse().map_err(|p| self.err(key, p)),
        }
    }

    /// `value` as a size in bytes, `default` when absent.
    pub(super) fn size(
        &self,
        key: &str,
        value: &Option<SizeText>,
        default: u64,
    ) -> Result<u64, ConfigError> {
        match value {
            None => Ok(default),
            Some(v) => v.parse().map_err(|p| self.err(key, p)),
        }
    }

    /// `value` as a socket address, `default` when absent.
    pub(super) fn addr(
        &self,
        key: &str,
        value: &Option<String>,
        default: SocketAddr,
    ) -> Result<SocketAddr, ConfigError> {
        match value {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|_| {
                self.err(
                    key,
                    format!("`{v}` is not an address (expected e.g. 0.0.0.0:80)"),
                )
            }),
        }
    }
}
