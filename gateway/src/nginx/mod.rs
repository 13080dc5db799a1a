//! `gateway import-nginx`: an nginx.conf (includes followed) into a route
//! table. It sits beside the configuration, like `gateway check`; the
//! request path never uses it.
//!
//! - [`lexer`]: NGINX's tokenizer, with positions;
//! - [`parse`]: the directive tree, `include` with globs;
//! - `map`: directives into the table, each translated, needing no
//!   translation, or reported as `FILE:LINE: directive: why`;
//! - [`emit`]: the TOML text, with a comment at each place.

pub mod emit;
mod glob;
pub mod lexer;
mod map;
pub mod parse;
mod values;

use std::path::{Path, PathBuf};

pub use map::{Translation, Untranslated};
pub use parse::SyntaxError;

/// Debian's NGINX prefix (`nginx -V`: `--prefix=/usr/share/nginx`), where
/// relative `root` and log paths start when `-p` is not given.
pub const DEFAULT_PREFIX: &str = "/usr/share/nginx";

/// Translate the configuration at `file`; `prefix` is NGINX's `-p`.
/// Relative includes and certificate paths are resolved against the main
/// file's directory (NGINX's configuration prefix).
pub fn import(file: &Path, prefix: Option<&Path>) -> Result<Translation, SyntaxError> {
    let conf_prefix = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let conf_prefix = std::fs::canonicalize(&conf_prefix).unwrap_or(conf_prefix);
    let parsed = parse::parse_file(file, &conf_prefix)?;
    let prefixes = map::Prefixes {
        prefix: prefix.map_or_else(|| PathBuf::from(DEFAULT_PREFIX), Path::to_path_buf),
        conf_prefix,
    };
    Ok(map::translate(&parsed, &prefixes))
}

/// Translate `text` as if it were the file `file` (no file is read unless
/// it includes one).
pub fn import_text(
    file: &Path,
    text: &[u8],
    conf_prefix: &Path,
) -> Result<Translation, SyntaxError> {
    let parsed = parse::parse_bytes(file, text, conf_prefix)?;
    let prefixes = map::Prefixes {
        prefix: PathBuf::from(DEFAULT_PREFIX),
        conf_prefix: conf_prefix.to_path_buf(),
    };
    Ok(map::translate(&parsed, &prefixes))
}
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod prop_tests;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
