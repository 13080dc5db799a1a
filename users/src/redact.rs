//! What a secret field prints as in `Debug` output: request bodies, tokens
//! and hashes reach logs and panic messages through `{:?}`.

use std::fmt;

/// Stands in for a secret field in a manual `Debug` impl.
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
