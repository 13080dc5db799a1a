//! `[log]`: output format (env `LOG_FORMAT`), filter (env `RUST_LOG`) and
//! the access log: its switch, its file and its buffering.

use std::fs::OpenOptions;
use std::path::PathBuf;
use std::time::Duration;

use common::config::LogFormat;
use serde::Serialize;

use super::error::{Checker, ConfigError};
use super::overlay::Env;
use super::schema::LogSection;
use super::units::serialize_millis;

/// Default `log.access_buffer`: NGINX's `buffer=64k`.
const DEFAULT_BUFFER: u64 = 64 * 1024;
/// Default `log.access_flush`: NGINX's `flush=1s`.
const DEFAULT_FLUSH: Duration = Duration::from_secs(1);
/// Smallest buffer: a line is about 300 bytes.
const MIN_BUFFER: u64 = 4 * 1024;
/// Largest buffer: each thread holds one, the writer's queue 16 more.
const MAX_BUFFER: u64 = 16 * 1024 * 1024;
/// Shortest flush interval: more often would be a write per few lines.
const MIN_FLUSH: Duration = Duration::from_millis(10);
/// Longest flush interval: lines older than this would look lost.
const MAX_FLUSH: Duration = Duration::from_secs(60);

/// The validated `[log]` section.
pub(super) struct Log {
    pub(super) format: LogFormat,
    pub(super) level: String,
    pub(super) access: bool,
    pub(super) access_output: AccessOutput,
}

/// Where and how the access log is written. Read when the gateway starts
/// (a reload changing it takes effect at the next start).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct AccessOutput {
    /// Append the lines to this file; `None`: standard output.
    pub(crate) file: Option<PathBuf>,
    /// A thread's buffer is handed to the writer at this many bytes.
    pub(crate) buffer: u64,
    /// Partial buffers are written this often.
    #[serde(serialize_with = "serialize_millis")]
    pub(crate) flush: Duration,
}

/// Validate `[log]` with its environment variables.
pub(super) fn validate(
    c: &Checker<'_>,
    section: &LogSection,
    env: Env<'_>,
) -> Result<Log, ConfigError> {
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
        access_output: access_output(c, section)?,
    })
}

fn access_output(c: &Checker<'_>, section: &LogSection) -> Result<AccessOutput, ConfigError> {
    let buffer = c.size("log.access_buffer", &section.access_buffer, DEFAULT_BUFFER)?;
    if !(MIN_BUFFER..=MAX_BUFFER).contains(&buffer) {
        return Err(c.err(
            "log.access_buffer",
            format!("{buffer} bytes is outside 4KiB..=16MiB"),
        ));
    }
    let flush = c.duration("log.access_flush", &section.access_flush, DEFAULT_FLUSH)?;
    if !(MIN_FLUSH..=MAX_FLUSH).contains(&flush) {
        return Err(c.err(
            "log.access_flush",
            format!("{}ms is outside 10ms..=60s", flush.as_millis()),
        ));
    }
    let file = match &section.access_file {
        None => None,
        Some(path) => Some(access_file(c, path)?),
    };
    Ok(AccessOutput {
        file,
        buffer,
        flush,
    })
}

/// An absolute path the gateway can append to (created when missing).
fn access_file(c: &Checker<'_>, path: &str) -> Result<PathBuf, ConfigError> {
    let key = "log.access_file";
    let path = PathBuf::from(path);
    if !path.is_absolute() {
        return Err(c.err(key, format!("`{}` is not an absolute path", path.display())));
    }
    // Opened now so that a missing directory or a permission problem is
    // refused here (and by `gateway check`), not found at the first request.
    OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .map_err(|e| {
            c.err(
                key,
                format!("cannot open `{}` for appending: {e}", path.display()),
            )
        })?;
    Ok(path)
}
