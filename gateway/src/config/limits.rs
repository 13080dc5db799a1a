//! `[limits]`: the default request body limit and the request head limit.

use super::error::{Checker, ConfigError};
use super::schema::LimitsSection;

/// The validated `[limits]` section, in bytes.
pub(super) struct Limits {
    pub(super) body: u64,
    pub(super) headers: u64,
}

/// Validate `[limits]`.
pub(super) fn validate(c: &Checker<'_>, section: &LimitsSection) -> Result<Limits, ConfigError> {
    let body = c.size("limits.body", &section.body, 1024 * 1024)?;
    let headers = c.size("limits.headers", &section.headers, 32 * 1024)?;
    if !(1024..=1024 * 1024).contains(&headers) {
        return Err(c.err("limits.headers", "must be between 1KiB and 1MiB"));
    }
    Ok(Limits { body, headers })
}
