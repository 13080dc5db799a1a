//! `[log]`: output format (env `LOG_FORMAT`), filter (env `RUST_LOG`) and
//! the access log switch.

use common::config::LogFormat;

use super::error::{Checker, ConfigError};
use super::overlay::Env;
use super::schema::LogSection;

/// The validated `[log]` section.
pub(super) struct Log {
    pub(super) format: LogFormat,
    pub(super) level: String,
    pub(super) access: bool,
}

/// Validate `[log]` with its environment variables.
pub(super) fn validate(section: &LogSection, env: Env<'_>) -> Result<Log, ConfigError> {
    let mut format = section.format.unwrap_or_default();
    if let Some(v) = env.get("LOG_FORMAT") {
        format = match v.trim().to_ascii_lowercase().as_str() {
            "json" => LogFormat::Json,
            "pretty" => LogFormat::Pretty,
            _ => {
                return Err(Checker::env_err(
                    "LOG_FORMAT",
                    format!("`{v}` is not `json` or `pretty`"),
                ));
            }
        };
    }
    let level = env
        .get("RUST_LOG")
        .or_else(|| section.level.clone())
        .unwrap_or_else(|| "info".to_string());
    Ok(Log {
        format,
        level,
        access: section.access.unwrap_or(true),
    })
}
